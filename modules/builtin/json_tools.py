"""Make's JSON app: parse JSON, create JSON, transform to JSON, aggregate to JSON.

JSON text is written as JavaScript's ``JSON.stringify`` writes it (what Make outputs): no
spaces between items unless ``parameters.space`` asks for indentation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engine.errors import DataError
from engine.runtime.record import to_json_value
from engine.spec import Bundle, Effect, ModuleCall, ModuleKind, ModuleSpec, choice

_LAX = ConfigDict(extra="allow")


class ParseInput(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    text: Any = Field(default=None, alias="json", title="JSON string")


class JsonOutput(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    text: str = Field(alias="json")


def parse_json(call: ModuleCall) -> Iterator[Bundle]:
    """The parsed document's fields; a top-level array gives one bundle per element."""
    text = call.input_as(ParseInput).text
    if text in (None, ""):
        raise DataError("JSON string is empty")
    try:
        document = json.loads(text if isinstance(text, str | bytes) else json.dumps(text))
    except json.JSONDecodeError as error:
        raise DataError(f"Source is not valid JSON: {error}") from None
    elements = document if isinstance(document, list) else [document]
    for position, element in enumerate(elements, start=1):
        bundle = dict(element) if isinstance(element, Mapping) else {"value": element}
        if isinstance(document, list):
            bundle.update(__IMTINDEX__=position, __IMTLENGTH__=len(elements))
        yield bundle


def _indent(parameters: Mapping[str, Any]) -> int | str | None:
    space = parameters.get("space")
    if space in (None, ""):
        return None
    return "\t" if space == "tab" else int(space)


def stringify(value: Any, indent: int | str | None = None) -> str:
    """``JSON.stringify(value, null, indent)``: compact unless indented, Unicode kept."""
    separators = (",", ":") if indent is None else (",", ": ")
    plain = to_json_value(value)
    return json.dumps(plain, indent=indent, separators=separators, ensure_ascii=False)


def _structure(mapped: Any) -> dict[str, Any]:
    fields = mapped.items() if isinstance(mapped, Mapping) else ()
    return {k: v for k, v in fields if v is not None}


def create_json(call: ModuleCall) -> Iterator[Bundle]:
    """The mapped structure serialised (``{{N.json}}``), indented as ``parameters.space`` says."""
    structure = _structure(call.input.model_dump())
    yield {"json": stringify(structure, _indent(call.parameters.model_dump()))}


def aggregate_to_json(items: Sequence[Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """``json``: a JSON array with the mapped structure of every bundle that was collected."""
    return {"json": stringify([_structure(item) for item in items], _indent(parameters))}


class TransformInput(BaseModel):
    model_config = _LAX

    object: Any = Field(default=None, title="Object")


def transform_to_json(call: ModuleCall) -> Iterator[Bundle]:
    value = call.input_as(TransformInput).object
    yield {"json": stringify(value)}


class _Parameters(BaseModel):
    model_config = _LAX


class JsonParameters(_Parameters):
    space: Any = choice(
        None, {"": "Compact", "1": "1 space", "2": "2 spaces", "4": "4 spaces", "tab": "Tab"},
        title="Indentation",
    )  # fmt: skip


class AggregateToJsonParameters(JsonParameters):
    feeder: int


_DATA_STRUCTURE = (
    "the data structure describes the fields for the editor; Switchboard writes the mapped "
    "fields as they are and does not check them against it"
)


JSON_MODULES: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        id="json:ParseJSON",
        kind=ModuleKind.ACTION,
        label="Parse JSON",
        parameters=_Parameters,
        input=ParseInput,
        run=parse_json,
        ignored_keys={"type": _DATA_STRUCTURE},
        effect=Effect.COMPUTE,
    ),
    ModuleSpec(
        id="json:CreateJSON",
        kind=ModuleKind.ACTION,
        label="Create JSON",
        parameters=JsonParameters,
        output=JsonOutput,
        run=create_json,
        free_form=frozenset({"mapper"}),
        ignored_keys={"type": _DATA_STRUCTURE},
        effect=Effect.COMPUTE,
    ),
    ModuleSpec(
        id="json:TransformToJSON",
        kind=ModuleKind.ACTION,
        label="Transform to JSON",
        input=TransformInput,
        output=JsonOutput,
        run=transform_to_json,
        effect=Effect.COMPUTE,
    ),
    ModuleSpec(
        id="json:AggregateToJSON",
        kind=ModuleKind.AGGREGATOR,
        label="Aggregate to JSON",
        parameters=AggregateToJsonParameters,
        output=JsonOutput,
        aggregate=aggregate_to_json,
        free_form=frozenset({"mapper"}),
        ignored_keys={"type": _DATA_STRUCTURE},
    ),
)
