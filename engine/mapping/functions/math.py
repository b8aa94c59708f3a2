"""Math functions. Aggregates take one array or several values (arrays are flattened one level;
empty values are skipped)."""

from __future__ import annotations

import math as _math
import statistics
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from engine.mapping.context import EvalContext
from engine.mapping.functions.registry import FunctionError, function
from engine.mapping.values import CoercionError, normalize_number, to_number, to_text

Number = int | float
MAX_DECIMALS = 100


def _number(value: Any) -> Number:
    if value is None or value == "":
        raise FunctionError("the value is empty, a number is required")
    return to_number(value)


def _numbers(values: tuple[Any, ...]) -> list[Number]:
    flat: list[Any] = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return [to_number(value) for value in flat if value is not None and value != ""]


def _decimals(value: Any) -> int:
    if value is None or value == "":
        return 0
    places = int(to_number(value))
    if not -MAX_DECIMALS <= places <= MAX_DECIMALS:
        raise FunctionError(f"decimals must be between -{MAX_DECIMALS} and {MAX_DECIMALS}")
    return places


_EXPONENTS = {places: Decimal(1).scaleb(-places) for places in range(-6, 11)}
"""The quantum of each common number of decimal places, made once."""


def _quantize(number: Number, places: int, rounding: str) -> Number:
    try:
        exponent = _EXPONENTS.get(places) or Decimal(1).scaleb(-places)
        rounded = Decimal(repr(number)).quantize(exponent, rounding=rounding)
    except InvalidOperation:
        raise FunctionError(f"cannot round {number}") from None
    return normalize_number(float(rounded)) if places > 0 else normalize_number(int(rounded))


@function("abs", arity=(1, 1))
def abs_(ctx: EvalContext, number: Any) -> Number:
    """Absolute value. ``abs(-5)`` -> ``5``."""
    return abs(_number(number))


@function("ceil", arity=(1, 1))
def ceil(ctx: EvalContext, number: Any) -> Number:
    """Smallest integer not less than the number. ``ceil(1.2)`` -> ``2``."""
    return normalize_number(_math.ceil(_number(number)))


@function("floor", arity=(1, 1))
def floor(ctx: EvalContext, number: Any) -> Number:
    """Largest integer not greater than the number. ``floor(1.8)`` -> ``1``."""
    return normalize_number(_math.floor(_number(number)))


@function("round", arity=(1, 2))
def round_(ctx: EvalContext, number: Any, decimals: Any = None) -> Number:
    """Rounds half up to an integer (or to ``decimals`` places). ``round(2.5)`` -> ``3``;
    ``round(3.14159; 2)`` -> ``3.14``."""
    if type(number) is float and type(decimals) is int and 0 < decimals <= 10:
        rounded = _half_up(number, decimals)  # None for infinities and NaN: refused below
        if rounded is not None:
            return rounded
    value, places = _number(number), _decimals(decimals)
    if places == 0:
        return normalize_number(_math.floor(value + 0.5))
    if type(value) is float and 0 < places <= 10:  # negative places: tens, hundreds…
        rounded = _half_up(value, places)
        if rounded is not None:
            return rounded
    return _quantize(value, places, ROUND_HALF_UP)


_SCALES = (1.0, 10.0, 100.0, 1000.0, 10000.0)
_NEAR_HALF = 1e-4
"""How far from a half the scaled fraction must be for ``round``: the scaling's own error is
below 2·10^-6 there (scaled values under 10^10), a float's spacing below 2·10^-10."""


def _half_up(number: float, places: int) -> Number | None:
    """``_quantize(number, places, ROUND_HALF_UP)`` on the digits of ``repr(number)`` without
    ``Decimal``, for a float written without an exponent (``None`` otherwise: the ``Decimal``
    way). Both read the same decimal text back with a correctly rounded conversion.

    First, for a number well away from a tie (its scaled fraction more than 10^-4 from one
    half: ``_near_half``), Python's ``round``: it rounds the float's exact value, and so do
    the digits of its ``repr``, which lie within half an ulp of it — far less than that
    distance for numbers under 10^6 and up to 4 places — so both land on the same decimal,
    read back the same way. Only near a tie do the digits decide (``2.675`` → ``2.68``)."""
    if places <= 4 and -1e6 < number < 1e6:  # false for infinities and NaN
        scaled = number * _SCALES[places]
        if abs(scaled % 1.0 - 0.5) > _NEAR_HALF:
            rounded = round(number, places)
            return int(rounded) if rounded.is_integer() else rounded  # ``normalize_number``
    text = repr(number)
    point = text.find(".")
    if point < 0 or "e" in text:
        return None
    cut = point + 1 + places
    if len(text) <= cut:  # no more digits than the places: the number as it is
        return normalize_number(number)
    if text[cut] < "5":
        return normalize_number(float(text[:cut]))
    negative = text[0] == "-"
    whole = text[1:point] if negative else text[:point]
    away = int(whole + text[point + 1 : cut]) + 1
    return normalize_number(float(f"{'-' if negative else ''}{away}e-{places}"))


round_.float_places = _half_up  # type: ignore[attr-defined]  # the compiler's shortcut rides on the function
"""``round(x; n)`` with a literal ``n`` of 1 to 10 and a float ``x``: the compiled call takes
this (``engine/mapping/nodes.py``, ``_call_float_places``), as ``round_`` itself does first."""


@function("trunc", arity=(1, 2))
def trunc(ctx: EvalContext, number: Any, decimals: Any = None) -> Number:
    """Drops the decimal part (or keeps ``decimals`` places). ``trunc(3.789; 1)`` -> ``3.7``."""
    value, places = _number(number), _decimals(decimals)
    if places == 0:
        return normalize_number(_math.trunc(value))
    return _quantize(value, places, ROUND_DOWN)


@function("min", arity=(1, None))
def min_(ctx: EvalContext, *values: Any) -> Number | None:
    """Smallest number of an array or of the arguments. ``min(3; 1; 2)`` -> ``1``."""
    numbers = _numbers(values)
    return min(numbers) if numbers else None


@function("max", arity=(1, None))
def max_(ctx: EvalContext, *values: Any) -> Number | None:
    """Largest number of an array or of the arguments. ``max(1.prices)`` -> the highest."""
    numbers = _numbers(values)
    return max(numbers) if numbers else None


@function("sum", arity=(1, None))
def sum_(ctx: EvalContext, *values: Any) -> Number:
    """Sum of an array or of the arguments. ``sum(1; 2; 3)`` -> ``6``."""
    return normalize_number(_math.fsum(_numbers(values))) if values else 0


@function("average", arity=(1, None))
def average(ctx: EvalContext, *values: Any) -> Number | None:
    """Arithmetic mean. ``average(1; 2; 3; 4)`` -> ``2.5``."""
    numbers = _numbers(values)
    return normalize_number(_math.fsum(numbers) / len(numbers)) if numbers else None


@function("median", arity=(1, None))
def median(ctx: EvalContext, *values: Any) -> Number | None:
    """Median (the mean of the middle two for an even count). ``median(1; 3; 2)`` -> ``2``."""
    numbers = _numbers(values)
    return normalize_number(statistics.median(numbers)) if numbers else None


@function("stdevS", arity=(1, None))
def stdev_s(ctx: EvalContext, *values: Any) -> Number | None:
    """Sample standard deviation. ``stdevS(2; 4; 4; 4; 5; 5; 7; 9)`` -> ``2.138…``."""
    numbers = _numbers(values)
    return normalize_number(statistics.stdev(numbers)) if len(numbers) > 1 else None


@function("stdevP", arity=(1, None))
def stdev_p(ctx: EvalContext, *values: Any) -> Number | None:
    """Population standard deviation. ``stdevP(2; 4; 4; 4; 5; 5; 7; 9)`` -> ``2``."""
    numbers = _numbers(values)
    return normalize_number(statistics.pstdev(numbers)) if numbers else None


@function("parseNumber", arity=(1, 2))
def parse_number(ctx: EvalContext, text: Any, decimal_separator: Any = None) -> Number | None:
    """Parses text with thousands separators; ``decimal separator`` defaults to ``.``.

    ``parseNumber("1 756,456"; ",")`` -> ``1756.456``; ``parseNumber("1,234.5")`` -> ``1234.5``.
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        return text
    value = to_text(text).strip()
    if value == "":
        return None
    separator = to_text(decimal_separator) or "."
    whole, _, fraction = value.rpartition(separator) if separator in value else (value, "", "")
    digits = "".join(ch for ch in whole if ch.isdigit() or ch in "+-")
    normalized = f"{digits}.{fraction}" if fraction else digits
    try:
        return to_number(normalized)
    except CoercionError:
        raise FunctionError(f"text {value!r} is not a number") from None


@function("formatNumber", arity=(2, 4))
def format_number(
    ctx: EvalContext,
    number: Any,
    decimals: Any,
    decimal_separator: Any = None,
    thousands_separator: Any = None,
) -> str:
    """Formats a number with fixed decimals; separators default to ``,`` (decimal) and ``.``
    (thousands). ``formatNumber(1234567.891; 2)`` -> ``1.234.567,89``;
    ``formatNumber(1234.5; 2; "."; ",")`` -> ``1,234.50``."""
    value, places = _number(number), max(_decimals(decimals), 0)
    decimal_mark = "," if decimal_separator is None else to_text(decimal_separator)
    group_mark = "." if thousands_separator is None else to_text(thousands_separator)
    rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    whole, _, fraction = f"{abs(rounded):f}".partition(".")
    groups = [whole[max(0, end - 3) : end] for end in range(len(whole), 0, -3)][::-1]
    text = group_mark.join(groups)
    return f"{sign}{text}{decimal_mark}{fraction}" if places else f"{sign}{text}"
