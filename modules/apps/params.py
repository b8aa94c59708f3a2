"""Make parameter specs → the pydantic models a ``ModuleSpec`` declares.

A module defined as data lists its static parameters, its mappable parameters (``expect``) and
its output (``interface``) as Make parameter specs::

    {"name": "limit", "type": "uinteger", "label": "Limit", "required": true}

``parameter_model`` turns such a list into a model whose fields carry the specs' names (as
aliases: ``__IMTCONN__``, ``0``, ``fldXyz``), labels and help (the editor's form), with Make's
coercions: numeric text becomes a number for ``number``/``integer``/``uinteger``, ``"true"``
becomes ``True`` for ``boolean``, and a top-level ``required`` parameter must have a value.
Fields of a select's ``nested`` options sit at the top level, as in Make's exports. Keys the
specs do not name are kept (``extra="allow"``): a Make app's fields chosen by an RPC at design
time are named only in the export.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

NUMERIC_TYPES = frozenset({"number", "integer", "uinteger"})
CONNECTION_TYPE = re.compile(r"^account(:.*)?$")
HOOK_TYPE = re.compile(r"^hook(:.*)?$")
RPC_SCHEME = "rpc://"

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter, read from a Make spec (the keys Switchboard uses; the rest is kept)."""

    name: str
    type: str
    label: str
    help: str
    required: bool
    default: Any
    options: tuple[Any, ...]
    nested: bool  # named inside a select's nested options, not at the top of the list
    raw: Mapping[str, Any]


def read_specs(specs: Sequence[Any], where: str) -> list[ParameterSpec]:
    """Every parameter of ``specs`` (nested options' parameters after their select).

    Raises:
        ValueError: a spec that is not an object or has no name (the message says where).
    """
    return list(_walk(specs, where, nested=False))


def _walk(specs: Sequence[Any], where: str, *, nested: bool) -> Iterator[ParameterSpec]:
    if not isinstance(specs, list):
        raise ValueError(f"{where}: parameters are a list of specs")
    for index, spec in enumerate(specs):
        path = f"{where}[{index}]"
        if not isinstance(spec, Mapping):
            raise ValueError(f"{path}: a parameter spec is an object")
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            if spec.get("type") == "hidden":
                continue  # a hidden spacer without a name (Make exports them)
            raise ValueError(f"{path}.name: every parameter needs a name")
        options = _options(spec.get("options"))
        yield ParameterSpec(
            name=name,
            type=str(spec.get("type") or "text"),
            label=str(spec.get("label") or name),
            help=str(spec.get("help") or ""),
            required=bool(spec.get("required")),
            default=spec.get("default"),
            options=tuple(options),
            nested=nested,
            raw=spec,
        )
        yield from _nested(spec, path)


def _options(options: Any) -> list[Any]:
    if isinstance(options, Mapping):
        options = options.get("store")
    return list(options) if isinstance(options, list) else []


def _nested(spec: Mapping[str, Any], path: str) -> Iterator[ParameterSpec]:
    """Parameters a select shows for its options (``nested`` lists; ``rpc://`` ones are
    unknown until the RPC runs)."""
    options = spec.get("options")
    if isinstance(options, Mapping) and isinstance(options.get("nested"), list):
        yield from _walk(options["nested"], f"{path}.options.nested", nested=True)
    for index, option in enumerate(_options(options)):
        if isinstance(option, Mapping) and isinstance(option.get("nested"), list):
            yield from _walk(option["nested"], f"{path}.options[{index}].nested", nested=True)


def rpc_of(spec: ParameterSpec) -> str | None:
    """The RPC that fills a select's choices (Make's ``"options": "rpc://name"``, also as the
    options' ``store``), or ``None``."""
    options = spec.raw.get("options")
    if isinstance(options, Mapping):
        options = options.get("store")
    if isinstance(options, str) and options.startswith(RPC_SCHEME):
        return options.removeprefix(RPC_SCHEME).split("?", 1)[0] or None
    return None


def option_values(spec: ParameterSpec) -> list[Any]:
    """A select's fixed values (none for RPC-filled or free ones)."""
    return [o.get("value") for o in spec.options if isinstance(o, Mapping) and "value" in o]


def option_labels(spec: ParameterSpec) -> list[str]:
    """The labels of a select's fixed values, in ``option_values``' order (the value itself
    when an option has no label)."""
    return [
        str(o.get("label") if o.get("label") not in (None, "") else o.get("value"))
        for o in spec.options
        if isinstance(o, Mapping) and "value" in o
    ]


class _Parameters(BaseModel):
    """Base of generated models: Make's coercions and required checks, unknown keys kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    __parameter_specs__: tuple[ParameterSpec, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _coerce(cls, values: Any) -> Any:
        if not isinstance(values, Mapping):
            return values
        result = dict(values)
        missing = []
        for spec in cls.__parameter_specs__:
            if spec.name in result:
                result[spec.name] = coerce(spec, result[spec.name])
            if spec.required and not spec.nested and result.get(spec.name) in (None, ""):
                missing.append(spec.name)
        if missing:
            names = ", ".join(f"'{name}'" for name in missing)
            raise ValueError(f"missing value of required parameter {names}")
        return result


def coerce(spec: ParameterSpec, value: Any) -> Any:
    """``value`` as Make reads it for ``spec``'s type (text is trimmed only for numbers)."""
    if spec.type in NUMERIC_TYPES and isinstance(value, str):
        text = value.strip()
        if text == "":
            return None
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"'{spec.name}' must be a number, not '{value}'") from None
        return int(number) if number.is_integer() and spec.type != "number" else number
    if spec.type == "boolean" and isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE or text == "":
            return False if text else None
    return value


def parameter_model(name: str, specs: Sequence[ParameterSpec]) -> type[BaseModel]:
    """A pydantic model of ``specs`` (see the module docstring); ``name`` names it."""
    fields: dict[str, Any] = {}
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        if spec.name in seen:
            continue  # a name shown under several options of one select
        seen.add(spec.name)
        fields[f"p{index}"] = (Any, _field(spec))
    model = create_model(name, __base__=_Parameters, **fields)
    model.__parameter_specs__ = tuple(specs)
    return model


def _field(spec: ParameterSpec) -> Any:
    extra: dict[str, Any] = {"x-make-type": spec.type}
    values = option_values(spec)
    if values:  # a select of fixed options: the editor shows their labels (engine.spec.choice)
        extra["enum"] = values
        extra["x-enum-labels"] = option_labels(spec)
    rpc = rpc_of(spec)
    if rpc is not None:  # the editor asks for the choices: POST /api/modules/…/rpcs/<name>
        extra["x-make-rpc"] = rpc
    return Field(
        default=None,
        alias=spec.name,
        title=spec.label,
        description=spec.help or None,
        json_schema_extra=extra,
    )


def dump(model: BaseModel) -> dict[str, Any]:
    """A generated model's values by their Make names, only those the blueprint gave."""
    return model.model_dump(by_alias=True, exclude_unset=True)
