"""Make-compatible link filters: OR-groups of AND-conditions over mapped values.

::

    f = compile_filter({"name": "Paid only", "conditions": [[
            {"a": "{{1.status}}", "o": "text:equal:ci", "b": "paid"}]]},
        where="module 5, filter")
    f.passes(EvalContext(bundles={1: {"status": "PAID"}}))    # -> True

A missing filter, a name-only filter and ``conditions: []`` always pass. A condition whose
operands cannot be coerced for its operator is false, with a warning on the context.

``f.failures(ctx)`` evaluates the same way and, when the filter stops the bundle, says which
condition failed in each group (the first false one: conditions are evaluated lazily, as Make
does) with the values its operands had — what the sync log shows instead of the filter's label.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from math import isfinite
from typing import Any

from engine.errors import ExpressionError
from engine.filters.codes import (
    OPERATOR_CODES,
    OPERATOR_GROUPS,
    OPERATOR_LABELS,
    UNARY_OPERATORS,
)
from engine.filters.operators import COMPARISONS, OPERATORS, Compare, Operator
from engine.filters.operators import FAMILIES as OPERAND_COERCIONS
from engine.mapping import EvalContext, Template, compile_template
from engine.mapping.values import ERASE, IGNORE, CoercionError

__all__ = [
    "OPERATORS",
    "OPERATOR_CODES",
    "OPERATOR_GROUPS",
    "OPERATOR_LABELS",
    "SHOWN_CHARACTERS",
    "UNARY_OPERATORS",
    "Condition",
    "FailedCondition",
    "Filter",
    "compile_conditions",
    "compile_filter",
    "describe_failed_condition",
]

SHOWN_CHARACTERS = 200
"""An operand's value is kept in a ``FailedCondition`` up to this many characters."""


@dataclass(frozen=True)
class FailedCondition:
    """The condition that stopped a bundle in one group of a filter, and what it compared.

    Attributes:
        where: the condition's place in its filter (``conditions[0][1]``: group 0, condition 1).
        a: the left operand as written (``{{2.ContactID}}``).
        operator: the operator code (``exist``).
        b: the right operand as written; ``None`` for unary operators.
        a_value: what ``a`` evaluated to (text cut to ``SHOWN_CHARACTERS``).
        b_value: what ``b`` evaluated to.
    """

    where: str
    a: Any
    operator: str
    b: Any
    a_value: Any
    b_value: Any

    def to_dict(self, *, with_values: bool = True) -> dict[str, Any]:
        """JSON values for an execution record; ``with_values=False`` leaves the operands'
        values out (a confidential scenario keeps no data)."""
        data = {"where": self.where, "a": self.a, "o": self.operator, "b": self.b}
        if with_values:
            data |= {"a_value": _shown(self.a_value), "b_value": _shown(self.b_value)}
        return data


def describe_failed_condition(condition: Any) -> str:
    """One sentence for a stored ``FailedCondition.to_dict()``:
    ``{{1.Type}} equal to ACCREC (it was "ACCPAY")``."""
    if not isinstance(condition, dict):
        return "a condition"
    code = str(condition.get("o") or "")
    text = f"{_operand(condition.get('a'))} {OPERATOR_LABELS.get(code, code)}"
    if code not in UNARY_OPERATORS:
        text += f" {_operand(condition.get('b'))}"
    if "a_value" not in condition:
        return text
    values = [f"it was {_value_text(condition.get('a_value'))}"]
    b = condition.get("b")
    if code not in UNARY_OPERATORS and isinstance(b, str) and "{{" in b:
        values.append(f"{_operand(b)} was {_value_text(condition.get('b_value'))}")
    return f"{text} ({'; '.join(values)})"


def _operand(source: Any) -> str:
    if source is None or source == "":
        return "(empty)"
    return source if isinstance(source, str) else json.dumps(source, ensure_ascii=False)


def _value_text(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "empty"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, default=str)


def _shown(value: Any) -> Any:
    """A value small enough to keep: long text and large structures cut to a readable size."""
    value = _plain(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if not isinstance(value, str):
        try:
            value = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError, RecursionError):
            value = str(value)
    return value if len(value) <= SHOWN_CHARACTERS else value[:SHOWN_CHARACTERS] + "…"


class Condition:
    """One ``{a, o, b}`` triple, compiled.

    Attributes:
        where: the condition's place (``module 5, filter.conditions[0][1]``).
        code: the operator code.
    """

    __slots__ = ("_number", "a", "b", "code", "operator", "where")

    def __init__(self, a: Template, code: str, b: Template | None, where: str) -> None:
        self.a = a
        self.code = code
        self.operator: Operator = OPERATORS[code]
        self.b = b
        self.where = where
        self._number = _constant_number_comparison(code, b)

    @property
    def references(self) -> frozenset[int]:
        return self.a.references | (self.b.references if self.b else frozenset())

    def holds(self, ctx: EvalContext) -> bool:
        """Whether the condition is true; a coercion failure is false plus a warning."""
        return self.evaluate(ctx)[0]

    def evaluate(self, ctx: EvalContext) -> tuple[bool, Any, Any]:
        """``(holds, a, b)``: the outcome and the operands' values it was decided on."""
        a = self.a.evaluate(ctx)
        if a is IGNORE or a is ERASE:
            a = None
        number = self._number
        if number is not None and (type(a) is int or (type(a) is float and isfinite(a))):
            # A number compared with a constant number: nothing to coerce on either side.
            compare, b_number, b_value = number
            return bool(compare(a, b_number)), a, b_value
        b = self.b.evaluate(ctx) if self.b is not None else None
        if b is IGNORE or b is ERASE:
            b = None
        try:
            return self.operator(a, b, ctx), a, b
        except (CoercionError, RecursionError) as error:
            # RecursionError: absurdly nested data compared structurally; false, not a crash.
            ctx.warn(f"{self.where}: operator '{self.code}' is false because {error}")
            return False, a, b

    def failed(self, a: Any, b: Any) -> FailedCondition:
        """This condition, failed with operand values ``a`` and ``b``."""
        start = self.where.rfind("conditions[")  # the module and its path are known
        where = self.where[start:] if start >= 0 else self.where
        source_b = self.b.source if self.b is not None else None
        return FailedCondition(where, self.a.source, self.code, source_b, a, b)


def _constant_number_comparison(
    code: str, b: Template | None
) -> tuple[Compare, int | float, Any] | None:
    """For ``number:…`` against a constant ``b`` that reads as a number: the comparison, ``b``
    as a number and ``b`` as evaluated (what a failed condition shows); ``None`` otherwise."""
    family, _, name = code.partition(":")
    if family != "number" or b is None or not b.is_constant or name not in COMPARISONS:
        return None
    value = b.source
    if type(value) not in (str, int, float):
        return None
    try:
        number = OPERAND_COERCIONS["number"][1](value, EvalContext(bundles={}))
    except CoercionError:
        return None
    return COMPARISONS[name], number, value


def _plain(value: Any) -> Any:
    return None if value is IGNORE or value is ERASE else value


class Filter:
    """A compiled filter: passes when any group has all its conditions true.

    Attributes:
        name: the filter's label, if any.
        groups: the OR-ed groups of AND-ed conditions (empty: always passes).
        references: module ids any condition reads.
    """

    __slots__ = ("_only", "groups", "name", "quick_pass", "references")

    def __init__(self, name: str | None, groups: list[list[Condition]]) -> None:
        self.name = name
        self.groups = groups
        # The commonest filter: one condition (``failures`` without its loops).
        self._only = groups[0][0] if len(groups) == 1 and len(groups[0]) == 1 else None
        self.quick_pass = _quick_pass(self._only)
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

    def failures(self, ctx: EvalContext) -> list[FailedCondition]:
        """Why a bundle may not go through: the first false condition of each group, with its
        operands' values. Empty when the filter passes. Evaluates exactly as ``passes`` does
        (same laziness, same warnings), so calling it instead costs nothing more.

        Raises:
            DataError: a function inside a condition failed.
        """
        only = self._only
        if only is not None:
            holds, a, b = only.evaluate(ctx)
            return [] if holds else [only.failed(a, b)]
        failed: list[FailedCondition] = []
        for group in self.groups:
            for condition in group:
                holds, a, b = condition.evaluate(ctx)
                if not holds:
                    failed.append(condition.failed(a, b))
                    break
            else:
                return []
        return failed


def _quick_pass(only: Condition | None) -> Callable[[Mapping[int, Any]], bool] | None:
    """For one ``number:…`` condition of a key into a module's bundle against a constant
    number (``{{2.qty}}`` greater than ``0``): a test of the path's bundles, true only when
    that value is a plain finite number for which the condition holds, read and compared in
    one frame, no coercion. False says nothing: the caller asks ``failures`` (reading a bundle
    changes nothing, so the condition read twice gives what it gives once). ``None`` for any
    other filter."""
    if only is None or only._number is None:
        return None
    key = only.a.single_key()
    if key is None:
        return None
    module_id, name = key
    compare, number, _ = only._number

    def passes(bundles: Mapping[int, Any]) -> bool:
        bundle = bundles.get(module_id)
        if type(bundle) is dict:
            a = bundle.get(name)
            if type(a) is int or (type(a) is float and isfinite(a)):
                return bool(compare(a, number))
        return False

    return passes


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
