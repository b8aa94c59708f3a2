"""Built-in modules the runner runs inline: the same result as the module's own ``run``, without
validating the input into its pydantic model or building a ``ModuleCall`` for each bundle.

A module is run inline only when its spec is the one installed with Switchboard (its ``run``
and ``input`` are the functions and models named here) and only for the input shapes whose
validation cannot fail or change a value; any other input (a name that is not text, an unknown
lifetime, a list that is not a list …) returns ``None`` and the runner goes the general way,
validation and its error included. ``tests/runtime/test_compiled.py`` runs scenarios both ways
and compares their records.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, cast

from engine.mapping import CompiledValue, EvalContext, Template
from engine.mapping.generated import generated_values
from engine.mapping.values import ERASE, IGNORE
from engine.runtime.context import RunVariables
from engine.spec import ModuleSpec

Inline = Callable[[Any, RunVariables], Iterable[dict[str, Any]] | None]
"""The mapped input and the run's variables → the module's output bundles, or ``None``: not
a shape run inline (the runner validates and calls the module)."""

_SCOPES = frozenset({"roundtrip", "execution"})


def set_variables(mapped: Any, variables: RunVariables) -> list[dict[str, Any]] | None:
    """``util:SetVariables``: each ``{name, value}`` set for the cycle or the execution."""
    if mapped is None:  # no mapper: the model's defaults, no variables
        mapped = {}
    if type(mapped) is not dict:
        return None
    scope = mapped.get("scope", "roundtrip")
    items = mapped.get("variables", [])
    if type(items) is not list or type(scope) is not str or scope not in _SCOPES:
        return None
    for item in items:
        if type(item) is not dict or type(item.get("name")) is not str:
            return None
    output: dict[str, Any] = {}
    target = variables.scope(scope)  # ``variables.set`` for each, in one call
    for item in items:
        name, value = item["name"], item.get("value")
        target[name] = value
        output[name] = value
    return [output]


def set_variable(mapped: Any, variables: RunVariables) -> list[dict[str, Any]] | None:
    """``util:SetVariable2`` (and version 1): one ``name`` set to ``value``."""
    if type(mapped) is not dict:
        return None
    scope, name = mapped.get("scope", "roundtrip"), mapped.get("name")
    if type(name) is not str or type(scope) is not str or scope not in _SCOPES:
        return None
    value = mapped.get("value")
    variables.set(name, value, scope)
    return [{name: value}]


def iterate(mapped: Any, variables: RunVariables) -> Iterator[dict[str, Any]] | None:
    """``builtin:BasicFeeder``: one bundle per element of ``array``, made as it is reached
    (as the module's generator does), each collection's fields copied once."""
    if mapped is None:
        mapped = {}
    if type(mapped) is not dict:
        return None
    return _elements(mapped.get("array"))


def _elements(array: Any) -> Iterator[dict[str, Any]]:
    elements = array if isinstance(array, list) else [] if array in (None, "") else [array]
    length = len(elements)
    for position, element in enumerate(elements, start=1):
        if type(element) is dict:
            yield {**element, "__IMTINDEX__": position, "__IMTLENGTH__": length}
        else:
            fields = dict(element) if isinstance(element, Mapping) else {"value": element}
            yield {**fields, "__IMTINDEX__": position, "__IMTLENGTH__": length}


_INLINE: dict[tuple[str, str], Inline] = {
    ("modules.builtin.iterate.iterate", "IteratorInput"): iterate,
    ("modules.builtin.variables.set_variables", "SetVariablesInput"): set_variables,
    ("modules.builtin.variables.set_variable", "SetVariableInput"): set_variable,
}
"""By the spec's ``run`` (module and name) and input model: the built-in modules whose effect
is only on the run's variables and whose output is their input."""


def inline_of(spec: ModuleSpec | None) -> Inline | None:
    """How to run ``spec`` inline, or ``None`` (every other module, or one replaced by a pack)."""
    if spec is None or spec.run is None:
        return None
    run = spec.run
    name = f"{getattr(run, '__module__', '')}.{getattr(run, '__qualname__', '')}"
    return _INLINE.get((name, getattr(spec.input, "__qualname__", "")))


class PreparedSetVariables:
    """``util:SetVariables`` for the shape Make exports (a literal ``scope`` of a known
    lifetime and a literal array of ``{name, value}`` with literal text names, nothing else):
    ``values`` evaluates the value templates in order, ``apply`` sets the variables and gives
    the output, and the mapped input (a collection, an array and a dict a variable) is built
    only when the record keeps it. The same values, output and input as ``mapper.evaluate``
    then ``set_variables``."""

    __slots__ = ("_names", "_scope", "_shape", "apply", "values")

    def __init__(
        self,
        shape: dict[str, Any],
        scope: str,
        names: list[str],
        templates: list[Template],
        evaluators: list[Any],
    ) -> None:
        self._shape, self._scope, self._names = shape, scope, names
        # The variables' values, evaluated in the mapper's order (``IGNORE``/``ERASE`` kept):
        # written into one function with type guards when every template's shape allows
        # (``engine/mapping/generated.py``), the templates' closures otherwise.
        general = _values_of(tuple(evaluators))
        self.values: Callable[[EvalContext], list[Any]] = (
            generated_values(templates, general) or general
        )

        # ``apply`` unrolled for this mapper's names (one frame, no loop).
        self.apply: Callable[[list[Any], RunVariables], list[dict[str, Any]]] = _generated_apply(
            scope, names
        )

    def apply_general(self, values: list[Any], variables: RunVariables) -> list[dict[str, Any]]:
        """Set the variables to ``values`` (``IGNORE`` and ``ERASE`` as ``None``): the output.
        What the generated ``apply`` does, written as a loop."""
        output: dict[str, Any] = {}
        target = variables.scope(self._scope)
        for name, value in zip(self._names, values, strict=True):
            if value is IGNORE or value is ERASE:
                value = None
            target[name] = value
            output[name] = value
        return [output]

    def mapped_input(self, values: list[Any]) -> dict[str, Any]:
        """What ``mapper.evaluate`` gives for these values: keys in the mapper's order,
        ``IGNORE`` leaving ``value`` out and ``ERASE`` as ``None``."""
        items = []
        templates = self._shape["variables"]
        for template, name, value in zip(templates, self._names, values, strict=True):
            item: dict[str, Any] = {}
            for key in template:
                if key == "name":
                    item["name"] = name
                elif value is not IGNORE:
                    item["value"] = None if value is ERASE else value
            items.append(item)
        return {key: self._scope if key == "scope" else items for key in self._shape}


def _generated_apply(
    scope: str, names: list[str]
) -> Callable[[list[Any], RunVariables], list[dict[str, Any]]]:
    """``PreparedSetVariables.apply_general`` for these names as one generated function: each
    value read, ``IGNORE``/``ERASE`` made ``None``, set, and the output built as a dict display
    (a repeated name keeps its first place and its last value, as the loop's assignments)."""
    lines = ["def apply(values, variables):", "    target = variables.scope(scope)"]
    namespace: dict[str, Any] = {"scope": scope, "IGNORE": IGNORE, "ERASE": ERASE}
    for index, name in enumerate(names):
        namespace[f"n{index}"] = name
        lines += [
            f"    v{index} = values[{index}]",
            f"    if v{index} is IGNORE or v{index} is ERASE:",
            f"        v{index} = None",
            f"    target[n{index}] = v{index}",
        ]
    output = ", ".join(f"n{index}: v{index}" for index in range(len(names)))
    lines.append(f"    return [{{{output}}}]")
    module = compile("\n".join(lines), "<apply>", "exec")
    code = next(c for c in module.co_consts if isinstance(c, types.CodeType))
    return cast(
        Callable[[list[Any], RunVariables], list[dict[str, Any]]],
        types.FunctionType(code, namespace, "apply"),
    )


def _values_of(evaluators: tuple[Any, ...]) -> Callable[[EvalContext], list[Any]]:
    """One function evaluating ``evaluators`` in order: unrolled for up to three (a list
    comprehension is a frame of its own in Python 3.11)."""
    if len(evaluators) == 1:
        (first,) = evaluators
        return lambda ctx: [first(ctx)]
    if len(evaluators) == 2:
        first, second = evaluators
        return lambda ctx: [first(ctx), second(ctx)]
    if len(evaluators) == 3:
        first, second, third = evaluators
        return lambda ctx: [first(ctx), second(ctx), third(ctx)]
    return lambda ctx: [evaluate(ctx) for evaluate in evaluators]


def prepared_set_variables(mapper: CompiledValue | None) -> PreparedSetVariables | None:
    """``PreparedSetVariables`` for ``mapper``, or ``None`` for any other shape (the runner
    then evaluates the mapper and calls ``set_variables``)."""
    shape = mapper.structure() if mapper is not None else None
    if type(shape) is not dict or not set(shape) <= {"scope", "variables"}:
        return None
    scope = _literal(shape["scope"]) if "scope" in shape else "roundtrip"
    items = shape.get("variables")
    if type(scope) is not str or scope not in _SCOPES or type(items) is not list:
        return None
    names: list[str] = []
    evaluators: list[Any] = []
    templates: list[Template] = []
    for item in items:
        if type(item) is not dict or set(item) != {"name", "value"}:
            return None
        name = _literal(item["name"])
        if type(name) is not str:
            return None
        names.append(name)
        templates.append(item["value"])
        evaluators.append(item["value"].compiled())
    return PreparedSetVariables(shape, scope, names, templates, evaluators)


def _literal(template: Any) -> Any:
    """A constant template's scalar; ``None`` for anything else."""
    if type(template) is Template and template.is_constant:
        source = template.source
        if type(source) in (str, int, float, bool):
            return source
    return None
