"""Reading blueprints from what users hand us, and writing them back.

Accepted: a bare blueprint, the API wrapper ``{"code": "OK", "response": {"blueprint": …}}``, the
template wrapper ``{"blueprint": …, "scheduling": …}``, as text, bytes (UTF-8, with or without a
byte-order mark) or already-parsed JSON. Whatever the wrapper, ``BlueprintDocument.export()`` gives
back the same JSON value that was read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from engine.blueprint.models import Blueprint
from engine.errors import BlueprintError, Problem
from engine.jsonvalues import first_problem, json_path, printable

Source = str | bytes | bytearray | Mapping[str, Any]


@dataclass(frozen=True)
class Envelope:
    """Where the blueprint sat in what was imported: ``path`` of keys, and the outer objects.

    ``outer`` holds the wrapper objects from the outside in, each with the key that leads
    inward still in place (its value is replaced on export).
    """

    path: tuple[str, ...] = ()
    outer: tuple[Mapping[str, Any], ...] = ()

    def wrap(self, blueprint: dict[str, Any]) -> dict[str, Any]:
        inner: dict[str, Any] = blueprint
        for key, obj in zip(reversed(self.path), reversed(self.outer), strict=True):
            inner = {k: (inner if k == key else v) for k, v in obj.items()}
        return inner


@dataclass(frozen=True)
class BlueprintDocument:
    """An imported blueprint together with the wrapper it came in (if any)."""

    blueprint: Blueprint
    envelope: Envelope = field(default_factory=Envelope)

    @property
    def scheduling(self) -> Mapping[str, Any] | None:
        """The ``scheduling`` object a wrapper carried next to the blueprint, if any."""
        for obj in self.envelope.outer:
            scheduling = obj.get("scheduling")
            if isinstance(scheduling, Mapping):
                return scheduling
        return None

    def export(self) -> dict[str, Any]:
        return self.envelope.wrap(export_blueprint(self.blueprint))


def read_document(source: Source) -> BlueprintDocument:
    """Parse ``source`` into a blueprint and the wrapper around it.

    Raises:
        BlueprintError: listing every problem found, each with its JSON path.
    """
    data = _parse_json(source)
    _check_depth(data)
    _check_values(data)
    envelope, bare = _unwrap(data)
    try:
        blueprint = Blueprint.model_validate(bare)
    except ValidationError as error:
        prefix = ".".join(envelope.path)
        raise BlueprintError(problems_from_validation(error, prefix)) from None
    return BlueprintDocument(blueprint, envelope)


def load_blueprint(source: Source) -> Blueprint:
    """Parse ``source`` (any accepted wrapper) into a ``Blueprint``; see ``read_document``."""
    return read_document(source).blueprint


def export_blueprint(blueprint: Blueprint) -> dict[str, Any]:
    """The blueprint as a JSON value: what was imported, plus whatever was changed since."""
    return blueprint.model_dump(mode="json", by_alias=True)


def dump_blueprint(blueprint: Blueprint, *, indent: int | None = 4) -> str:
    return json.dumps(export_blueprint(blueprint), indent=indent, ensure_ascii=False)


def problems_from_validation(error: ValidationError, prefix: str = "") -> list[Problem]:
    """One ``Problem`` per pydantic error, located by a Make-style JSON path."""
    problems = []
    for item in error.errors(include_url=False):
        path = json_path(item["loc"], prefix)
        message = str(item["msg"]).removeprefix("Value error, ")
        problems.append(Problem(path, _lower_first(message)))
    return problems


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _parse_json(source: Source) -> Any:
    if not isinstance(source, str | bytes | bytearray):
        # Already parsed (the API's ``{"blueprint": …}`` may hold any JSON value): _unwrap
        # refuses what is not an object, with its path.
        return source
    text = _decode(source) if isinstance(source, bytes | bytearray) else source
    text = text.removeprefix("\ufeff")
    try:
        return json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise BlueprintError([Problem("", f"{where}: {error.msg}")], "not valid JSON") from None
    except RecursionError:
        raise BlueprintError(
            [Problem("", "the JSON is nested too deeply")], "not valid JSON"
        ) from None
    except ValueError as error:  # e.g. an integer of more than 4,300 digits
        raise BlueprintError([Problem("", str(error))], "not valid JSON") from None


def _not_json(name: str) -> Any:
    # Python's json reads NaN and Infinity, which are not JSON and export as null: not lossless.
    raise ValueError(f"{name} is not a JSON value")


MAX_DEPTH = 200
"""Deepest JSON nesting accepted: deeper values could be read but not exported again (pydantic
stops serialising at about 250 levels), and no real blueprint comes close."""


def _check_depth(data: Any) -> None:
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            problem = Problem(path, f"nested more than {MAX_DEPTH} levels deep")
            raise BlueprintError([problem], "the blueprint is nested too deeply")
        if isinstance(value, Mapping):
            stack.extend(
                (v, f"{path}.{k}" if path else str(k), depth + 1) for k, v in value.items()
            )
        elif isinstance(value, list):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value))


def _check_values(data: Any) -> None:
    """Refuse a lone surrogate or a number beyond a double's range (``1e999``): a blueprint
    holding one could be neither stored nor exported as it was read."""
    found = first_problem(data, MAX_DEPTH + 1)  # the depth was checked already
    if found is not None:
        location, reason = found
        path = json_path([printable(part) for part in location])
        summary = "the blueprint holds a value that cannot be stored"
        raise BlueprintError([Problem(path, reason)], summary)


def _decode(raw: bytes | bytearray) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        reason = f"byte {error.start}: not UTF-8 ({error.reason})"
        raise BlueprintError([Problem("", reason)], "not a UTF-8 text file") from None


def _unwrap(data: Any) -> tuple[Envelope, Any]:
    if not isinstance(data, Mapping):
        kind = type(data).__name__
        raise BlueprintError([Problem("", f"expected a JSON object, got {kind}")])
    if "flow" in data:
        return Envelope(), data
    if isinstance(data.get("response"), Mapping) and "blueprint" in data["response"]:
        return Envelope(("response", "blueprint"), (data, data["response"])), data["response"][
            "blueprint"
        ]
    if isinstance(data.get("blueprint"), Mapping):
        return Envelope(("blueprint",), (data,)), data["blueprint"]
    return Envelope(), data
