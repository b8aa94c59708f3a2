"""IML's infix operators, as a table from symbol to a small function.

Precedence (tightest first): ``* / %``, ``+ -``, ``< > <= >=``, ``= !=``, ``&``, ``|``.
``+`` joins text when either side is text (JavaScript's rule); the other arithmetic operators
read numeric text as numbers; an empty operand counts as 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from engine.mapping.values import (
    CoercionError,
    is_numeric,
    loose_equal,
    normalize_number,
    to_date,
    to_number,
    to_text,
)

Number = int | float


def _operand(value: Any) -> Number:
    return 0 if value is None or value == "" else to_number(value)


def add(left: Any, right: Any) -> Any:
    """``+``: numbers add; text (or anything not a number) concatenates; arrays concatenate."""
    if isinstance(left, list) and isinstance(right, list):
        return left + right
    if _is_number(left) and _is_number(right):
        return normalize_number(left + right)
    if isinstance(left, datetime) and _is_number(right):
        return normalize_number(to_number(left) + right)
    if left is None and _is_number(right):
        return right
    if right is None and _is_number(left):
        return left
    return to_text(left) + to_text(right)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def subtract(left: Any, right: Any) -> Number:
    return normalize_number(_operand(left) - _operand(right))


def multiply(left: Any, right: Any) -> Number:
    return normalize_number(_operand(left) * _operand(right))


def divide(left: Any, right: Any) -> Number:
    divisor = _operand(right)
    if divisor == 0:
        raise CoercionError("division by zero")
    dividend = _operand(left)
    if isinstance(dividend, int) and isinstance(divisor, int) and dividend % divisor == 0:
        return normalize_number(dividend // divisor)
    return normalize_number(dividend / divisor)


def modulo(left: Any, right: Any) -> Number:
    """JavaScript's ``%``: the result takes the sign of the dividend."""
    divisor = _operand(right)
    if divisor == 0:
        raise CoercionError("modulo by zero")
    dividend = _operand(left)
    if isinstance(dividend, int) and isinstance(divisor, int):
        remainder = abs(dividend) % abs(divisor)
        return -remainder if dividend < 0 else remainder
    return normalize_number(math.fmod(dividend, divisor))


def order_key(left: Any, right: Any) -> tuple[Any, Any]:
    """Two comparable keys: numbers if both are numeric, instants if either is a date, else text."""
    if is_numeric(left) and is_numeric(right):
        return to_number(left), to_number(right)
    if isinstance(left, datetime) or isinstance(right, datetime):
        try:
            return to_date(left), to_date(right)
        except CoercionError:
            pass
    return to_text(left), to_text(right)


def less(left: Any, right: Any) -> bool:
    a, b = order_key(left, right)
    return bool(a < b)


def greater(left: Any, right: Any) -> bool:
    a, b = order_key(left, right)
    return bool(a > b)


def less_or_equal(left: Any, right: Any) -> bool:
    a, b = order_key(left, right)
    return bool(a <= b)


def greater_or_equal(left: Any, right: Any) -> bool:
    a, b = order_key(left, right)
    return bool(a >= b)


def not_equal(left: Any, right: Any) -> bool:
    return not loose_equal(left, right)


BINARY_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+": add,
    "-": subtract,
    "*": multiply,
    "/": divide,
    "%": modulo,
    "=": loose_equal,
    "==": loose_equal,
    "!=": not_equal,
    "<": less,
    ">": greater,
    "<=": less_or_equal,
    ">=": greater_or_equal,
}
"""Every non-logical binary operator (``&``/``|`` short-circuit, so the nodes handle them)."""

PRECEDENCE: dict[str, int] = {
    "|": 1,
    "||": 1,
    "&": 2,
    "&&": 2,
    "=": 3,
    "==": 3,
    "!=": 3,
    "<": 4,
    ">": 4,
    "<=": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
}
"""Binding strength of each binary operator; all are left-associative."""
