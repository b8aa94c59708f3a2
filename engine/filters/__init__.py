"""Make-compatible link filters: OR-groups of AND-conditions over mapped values.

::

    f = compile_filter({"name": "Paid only", "conditions": [[
            {"a": "{{1.status}}", "o": "text:equal:ci", "b": "paid"}]]},
        where="module 5, filter")
    f.passes(EvalContext(bundles={1: {"status": "PAID"}}))    # -> True

A missing filter, a name-only filter and ``conditions: []`` always pass. A condition whose
operands cannot be coerced for its operator is false, with a warning on the context.
"""

from __future__ import annotations

from typing import Any

from engine.errors import ExpressionError
from engine.filters.codes import OPERATOR_CODES, UNARY_OPERATORS
from engine.filters.operators import OPERATORS, Operator
from engine.mapping import EvalContext, Template, compile_template
from engine.mapping.values import ERASE, IGNORE, CoercionError

__all__ = [
    "OPERATORS",
    "OPERATOR_CODES",
    "Condition",
    "Filter",
    "compile_conditions",
    "compile_filter",
]


class Condition:
    """One ``{a, o, b}`` triple, compiled.

    Attributes:
        where: the condition's place (``module 5, filter.conditions[0][1]``).
        code: the operator code.
    """

    __slots__ = ("a", "b", "code", "operator", "where")

    def __init__(self, a: Template, code: str, b: Template | None, where: str) -> None:
        self.a = a
        self.code = code
        self.operator: Operator = OPERATORS[code]
        self.b = b
        self.where = where

    @property
    def references(self) -> frozenset[int]:
        return self.a.references | (self.b.references if self.b else frozenset())

    def holds(self, ctx: EvalContext) -> bool:
        """Whether the condition is true; a coercion failure is false plus a warning."""
        a = _plain(self.a.evaluate(ctx))
        b = _plain(self.b.evaluate(ctx)) if self.b is not None else None
        try:
            return self.operator(a, b, ctx)
        except (CoercionError, RecursionError) as error:
            # RecursionError: absurdly nested data compared structurally; false, not a crash.
            ctx.warn(f"{self.where}: operator '{self.code}' is false because {error}")
            return False


def _plain(value: Any) -> Any:
    return None if value is IGNORE or value is ERASE else value


class Filter:
    """A compiled filter: passes when any group has all its conditions true.

    Attributes:
        name: the filter's label, if any.
        groups: the OR-ed groups of AND-ed conditions (empty: always passes).
        references: module ids any condition reads.
    """

    __slots__ = ("groups", "name", "references")

    def __init__(self, name: str | None, groups: list[list[Condition]]) -> None:
        self.name = name
        self.groups = groups
        found: set[int] = set()
        for group in groups:
            for condition in group:
                found |= condition.references
        self.references = frozenset(found)

    def __repr__(self) -> str:
        return f"Filter(name={self.name!r}, groups={len(self.groups)})"

    def passes(self, ctx: EvalContext) -> bool:
        """Whether a bundle may go through (conditions are evaluated lazily, left to right).

        Raises:
            DataError: a function inside a condition failed.
        """
        if not self.groups:
            return True
        return any(all(condition.holds(ctx) for condition in group) for group in self.groups)


def compile_filter(filter_json: Any, where: str = "") -> Filter:
    """Compile a filter object ``{"name", "conditions": [[{a, o, b}, …], …]}`` (or ``None``).

    Raises:
        ExpressionError: a malformed filter, an unknown operator or a bad template, naming its
            path (``module 5, filter.conditions[0][1].o: unknown operator 'text:equl'``).
    """
    if filter_json is None:
        return Filter(None, [])
    if not isinstance(filter_json, dict):
        raise ExpressionError("a filter must be an object", where=where)
    name = filter_json.get("name")
    groups = _groups(filter_json.get("conditions"), f"{where}.conditions")
    return Filter(None if name is None else str(name), groups)


def compile_conditions(conditions: Any, where: str = "") -> Filter:
    """Compile an OR-of-AND condition list, such as an If-else branch's ``conditions``.

    ``where`` names the owner of the list, as for ``compile_filter``: conditions are reported
    as ``{where}.conditions[g][c]`` (``module 3, branches[0].conditions[0][1].o``).

    Raises:
        ExpressionError: as ``compile_filter``.
    """
    return Filter(None, _groups(conditions, f"{where}.conditions" if where else "conditions"))


def _groups(conditions: Any, where: str) -> list[list[Condition]]:
    if conditions is None:
        return []
    if not isinstance(conditions, list):
        raise ExpressionError("conditions must be a list of condition groups", where=where)
    groups: list[list[Condition]] = []
    for g, group in enumerate(conditions):
        if not isinstance(group, list):
            raise ExpressionError("a condition group must be a list", where=f"{where}[{g}]")
        groups.append([_condition(item, f"{where}[{g}][{c}]") for c, item in enumerate(group)])
    return groups


def _condition(item: Any, where: str) -> Condition:
    if not isinstance(item, dict):
        raise ExpressionError("a condition must be an object with a, o and b", where=where)
    code = item.get("o")
    if not isinstance(code, str) or not code:
        raise ExpressionError("the condition has no operator", where=f"{where}.o")
    if code not in OPERATORS:
        raise ExpressionError(f"unknown operator '{code}'", where=f"{where}.o")
    a = compile_template(item.get("a"), where=f"{where}.a")
    b = None if code in UNARY_OPERATORS else compile_template(item.get("b"), where=f"{where}.b")
    return Condition(a, code, b, where)
