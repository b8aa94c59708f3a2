"""Make's JSON app: parse JSON, create JSON, transform to JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engine.errors import DataError
from engine.runtime.record import to_json_value
from engine.spec import Bundle, Effect, ModuleCall, ModuleKind, ModuleSpec

_LAX = ConfigDict(extra="allow")


class ParseInput(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    text: Any = Field(default=None, alias="json")


class JsonOutput(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    text: str = Field(alias="json")


def parse_json(call: ModuleCall) -> Iterator[Bundle]:
    """The parsed document's fields; a top-level array gives one bundle per element."""
    text = call.input.text  # type: ignore[attr-defined]
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


def create_json(call: ModuleCall) -> Iterator[Bundle]:
    """The mapped structure serialised (``{{N.json}}``), indented as ``parameters.space`` says."""
    structure = {k: v for k, v in call.input.model_dump().items() if v is not None}
    indent = _indent(call.parameters.model_dump())
    yield {"json": json.dumps(to_json_value(structure), indent=indent, ensure_ascii=False)}


class TransformInput(BaseModel):
    model_config = _LAX

    object: Any = None


def transform_to_json(call: ModuleCall) -> Iterator[Bundle]:
    value = call.input.object  # type: ignore[attr-defined]
    yield {"json": json.dumps(to_json_value(value), ensure_ascii=False)}


class _Parameters(BaseModel):
    model_config = _LAX


JSON_MODULES: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        id="json:ParseJSON",
        kind=ModuleKind.ACTION,
        label="Parse JSON",
        parameters=_Parameters,
        input=ParseInput,
        run=parse_json,
        effect=Effect.COMPUTE,
    ),
    ModuleSpec(
        id="json:CreateJSON",
        kind=ModuleKind.ACTION,
        label="Create JSON",
        parameters=_Parameters,
        output=JsonOutput,
        run=create_json,
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
)
