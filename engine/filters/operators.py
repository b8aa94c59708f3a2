"""The filter operator table, keyed by Make's operator codes (``engine.filters.codes``).

Every operator is ``operator(a, b, ctx) -> bool`` over already-evaluated operands. It coerces
its operands for its family (§2.4 of the semantics notes) and raises ``CoercionError`` when it
cannot; the filter then counts the condition as false and records a warning.

Families: ``text`` (both sides as text; ``:ci`` compares case-folded), ``number``, ``date``
(text parses as ISO 8601 in the scenario zone, numbers are epoch milliseconds), ``time``
(time of day in the scenario zone), ``semver``, ``array`` (membership, or the array's length
against ``b``), ``boolean`` (Make's boolean coercion), and the unary ``exist``/``notexist``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from engine.filters.codes import OPERATOR_CODES
from engine.mapping import regexes
from engine.mapping.context import EvalContext
from engine.mapping.values import (
    CoercionError,
    loose_equal,
    to_bool,
    to_date,
    to_number,
    to_text,
    zone,
)

Operator = Callable[[Any, Any, EvalContext], bool]
Compare = Callable[[Any, Any], bool]

COMPARISONS: dict[str, Compare] = {
    "equal": lambda a, b: a == b,
    "notequal": lambda a, b: a != b,
    "greater": lambda a, b: a > b,
    "less": lambda a, b: a < b,
    "greaterorequal": lambda a, b: a >= b,
    "lessorequal": lambda a, b: a <= b,
}
"""The six comparisons shared by the number, date, time, semver and array-length families."""


# -- text ---------------------------------------------------------------------------------------


def _pattern(text: str, pattern: str, case_insensitive: bool) -> bool:
    literal = regexes.split_literal(pattern)
    source, flags = literal if literal else (pattern, "")
    if case_insensitive and "i" not in flags:
        flags += "i"
    try:
        return regexes.search(source, text, flags)
    except (ValueError, TimeoutError) as error:
        raise CoercionError(str(error)) from None


TEXT_TESTS: dict[str, Callable[[str, str, bool], bool]] = {
    "equal": lambda a, b, ci: a == b,
    "contain": lambda a, b, ci: b in a,
    "startwith": lambda a, b, ci: a.startswith(b),
    "endwith": lambda a, b, ci: a.endswith(b),
    "pattern": _pattern,
}
"""Positive text tests; ``text:not…`` negates each one."""


def _text_operator(test: Callable[[str, str, bool], bool], negate: bool, ci: bool) -> Operator:
    def operator(a: Any, b: Any, ctx: EvalContext) -> bool:
        left, right = to_text(a), to_text(b)
        if ci:
            left, right = left.casefold(), right.casefold()
        return test(left, right, ci) != negate

    return operator


# -- number, date, time, semver -----------------------------------------------------------------


def _present(value: Any, family: str) -> Any:
    if value is None or value == "":
        raise CoercionError(f"an empty value cannot be compared as a {family}")
    return value


def _as_number(value: Any, ctx: EvalContext) -> int | float:
    return to_number(_present(value, "number"))


def _as_date(value: Any, ctx: EvalContext) -> datetime:
    return to_date(_present(value, "date"), ctx.timezone)


_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\s*([ap]\.?m\.?)?", re.I)


def _as_time(value: Any, ctx: EvalContext) -> float:
    """Seconds since midnight in the scenario zone (text ``HH:mm[:ss]`` or any date)."""
    _present(value, "time")
    if isinstance(value, str):
        match = _TIME.fullmatch(value.strip())
        if match:
            hour, minute, second, fraction, meridiem = match.groups()
            hours = (
                int(hour) % 12 + (12 if meridiem and meridiem[0] in "pP" else 0)
                if meridiem
                else int(hour)
            )
            micro = int((fraction or "0").ljust(6, "0"))
            return hours * 3600 + int(minute) * 60 + int(second or 0) + micro / 1e6
    local = to_date(value, ctx.timezone).astimezone(zone(ctx.timezone))
    return local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6


_SEMVER = re.compile(
    r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?", re.I
)


def _as_semver(value: Any, ctx: EvalContext) -> tuple[Any, ...]:
    """A sort key: a version without pre-release sorts after its pre-releases; numeric
    pre-release identifiers sort before alphanumeric ones (semver.org §11)."""
    text = to_text(_present(value, "version")).strip()
    match = _SEMVER.fullmatch(text)
    if not match:
        raise CoercionError(f"text {text!r} is not a semantic version")
    major, minor, patch, pre = match.groups()
    core = (int(major), int(minor or 0), int(patch or 0))
    if pre is None:
        return (*core, 1, ())
    identifiers = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in pre.split(".")
    )
    return (*core, 0, identifiers)


def _as_length(value: Any, ctx: EvalContext) -> int:
    return len(_as_array(value))


def _compare_operator(
    left_key: Callable[[Any, EvalContext], Any],
    right_key: Callable[[Any, EvalContext], Any],
    compare: Compare,
) -> Operator:
    def operator(a: Any, b: Any, ctx: EvalContext) -> bool:
        return bool(compare(left_key(a, ctx), right_key(b, ctx)))

    return operator


FAMILIES: dict[str, tuple[Callable[[Any, EvalContext], Any], Callable[[Any, EvalContext], Any]]] = {
    "number": (_as_number, _as_number),
    "date": (_as_date, _as_date),
    "time": (_as_time, _as_time),
    "semver": (_as_semver, _as_semver),
    "array": (_as_length, _as_number),
}
"""How each comparison family coerces ``a`` and ``b``."""


# -- array, boolean, exist ------------------------------------------------------------------------


def _as_array(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _array_contains(ci: bool, negate: bool) -> Operator:
    def operator(a: Any, b: Any, ctx: EvalContext) -> bool:
        items = _as_array(a)
        if ci:
            wanted = to_text(b).casefold()
            found = any(to_text(item).casefold() == wanted for item in items)
        else:
            found = any(loose_equal(item, b) for item in items)
        return found != negate

    return operator


def _boolean(negate: bool) -> Operator:
    def operator(a: Any, b: Any, ctx: EvalContext) -> bool:
        return (to_bool(a) == to_bool(b)) != negate

    return operator


def _exist(negate: bool) -> Operator:
    def operator(a: Any, b: Any, ctx: EvalContext) -> bool:
        return (a is not None) != negate

    return operator


def _build() -> dict[str, Operator]:
    table: dict[str, Operator] = {"exist": _exist(False), "notexist": _exist(True)}
    for name, test in TEXT_TESTS.items():
        for negate, code in ((False, name), (True, f"not{name}")):
            table[f"text:{code}"] = _text_operator(test, negate, ci=False)
            table[f"text:{code}:ci"] = _text_operator(test, negate, ci=True)
    for family, (left, right) in FAMILIES.items():
        for name, compare in COMPARISONS.items():
            table[f"{family}:{name}"] = _compare_operator(left, right, compare)
    for ci in (False, True):
        suffix = ":ci" if ci else ""
        table[f"array:contain{suffix}"] = _array_contains(ci, negate=False)
        table[f"array:notcontain{suffix}"] = _array_contains(ci, negate=True)
    table["boolean:equal"] = _boolean(negate=False)
    table["boolean:notequal"] = _boolean(negate=True)
    return table


OPERATORS: Mapping[str, Operator] = MappingProxyType(_build())
"""Every filter operator, keyed by its Make code; the keys are exactly ``OPERATOR_CODES``."""

assert set(OPERATORS) == OPERATOR_CODES, set(OPERATORS) ^ OPERATOR_CODES
