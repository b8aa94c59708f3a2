"""Make's value model and its coercions, shared by expressions, functions and filters.

Make collections are ``dict``, arrays ``list``, dates aware ``datetime``, binary ``bytes``,
numbers ``int``/``float`` (ints stay ints while they are exact, as JavaScript doubles would be).
``None`` is Make's "empty" (undefined or null).

Coercions follow Make's type-coercion table: a date becomes ISO 8601 text in UTC with
milliseconds (JavaScript's ``toISOString``), booleans become ``true``/``false``, a number used as
a date is milliseconds since the epoch.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.errors import DataError
from engine.mapping.context import DEFAULT_MAX_OUTPUT


class _Directive:
    """A keyword value that tells the mapper what to do with a field, not what to put in it."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name.upper()

    def __bool__(self) -> bool:
        return False


IGNORE = _Directive("ignore")
"""``{{ignore}}``: the field is treated as if it had not been filled (dropped from its mapper)."""

ERASE = _Directive("erase")
"""``{{erase}}``: the field is cleared (becomes ``None``)."""

MAX_SAFE_INTEGER = 2**53
_INT_TEXT = re.compile(r"[+-]?\d+")
_FLOAT_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


class CoercionError(ValueError):
    """A value that cannot be converted to the type an operation needs."""


def is_empty(value: Any) -> bool:
    """Make's "empty": undefined/null, the empty text, or the empty array."""
    return value is None or value == "" or (isinstance(value, list) and not value)


def normalize_number(value: int | float) -> int | float:
    """Keep exact integers as ``int``; large ones become ``float`` as in JavaScript."""
    if type(value) is int and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return value
    if isinstance(value, float):
        if value.is_integer() and abs(value) < MAX_SAFE_INTEGER:
            return int(value)
        return value
    if abs(value) > MAX_SAFE_INTEGER:
        return float(value)
    return value


# -- text ---------------------------------------------------------------------------------------


def number_to_text(value: int | float) -> str:
    """Format a number as JavaScript's ``String(n)`` would (``3.0`` -> ``"3"``)."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value).replace("e-0", "e-").replace("e+0", "e+")
    return str(value)


def date_to_text(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, like JavaScript's ``Date.toISOString``."""
    utc = as_aware(value).astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


MAX_TEXT_DEPTH = 64
"""Deepest array nesting ``to_text`` follows (deeper data is refused, not recursed into)."""


def to_text(value: Any, depth: int = 0) -> str:
    """Convert any value to text with Make's rules (empty -> ``""``).

    Raises:
        CoercionError: arrays nested deeper than ``MAX_TEXT_DEPTH``, or an unserialisable
            collection.
    """
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, _Directive):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number_to_text(value)
    if isinstance(value, datetime):
        return date_to_text(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, list):
        if depth >= MAX_TEXT_DEPTH:
            raise CoercionError("the array is nested too deeply to convert to text")
        parts: list[str] = []
        size = 0
        for item in value:
            parts.append(to_text(item, depth + 1))
            # Summed as we go: an array holding one big value many times is refused before
            # the text of its total size is built.
            size += len(parts[-1]) + 2
            if size > DEFAULT_MAX_OUTPUT + 2:
                raise CoercionError(f"the array's text is longer than {DEFAULT_MAX_OUTPUT:,}")
        return ", ".join(parts)
    if isinstance(value, dict):
        return to_json(value)
    return str(value)


def to_json(value: Any) -> str:
    """Serialise a value as JSON text (dates as ISO text, binary as UTF-8 text)."""
    try:
        return json.dumps(value, ensure_ascii=False, default=_json_default, separators=(",", ":"))
    except (RecursionError, ValueError) as error:
        raise CoercionError(f"value cannot be converted to JSON: {error}") from None


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return date_to_text(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, _Directive):
        return None
    raise ValueError(f"unsupported value {type(value).__name__}")


# -- numbers ------------------------------------------------------------------------------------


def to_number(value: Any) -> int | float:
    """Convert to a number: numbers pass, numeric text parses, a date is epoch milliseconds.

    Raises:
        CoercionError: empty values, booleans, non-numeric text, arrays and collections.
    """
    if type(value) is int:  # the usual operands first, by exact type (``bool`` is not ``int``)
        return value
    if type(value) is float and math.isfinite(value):
        return value
    if isinstance(value, bool):
        raise CoercionError(f"boolean {to_text(value)} is not a number")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise CoercionError(f"{number_to_text(value)} is not a finite number")
        return value
    if isinstance(value, str):
        return parse_number_text(value)
    if isinstance(value, datetime):
        return int(as_aware(value).timestamp() * 1000)
    raise CoercionError(f"{describe(value)} is not a number")


def parse_number_text(text: str) -> int | float:
    """Parse plain numeric text (``" 42 "``, ``"-1.5"``, ``"1e3"``)."""
    stripped = text.strip()
    # Longer integer text is read as a float (it would become one anyway): int() of thousands
    # of digits raises ValueError, and float() of a huge int raises OverflowError.
    # ``isdecimal`` is ``\d+`` (Unicode decimal digits, as the pattern reads them) without
    # the pattern: the commonest numeric text, unsigned digits, is read at once.
    if len(stripped) <= 17 and (stripped.isdecimal() or _INT_TEXT.fullmatch(stripped)):
        return normalize_number(int(stripped))
    if _FLOAT_TEXT.fullmatch(stripped):
        number = float(stripped)
        if not math.isfinite(number):
            raise CoercionError(f"{describe(text)} is not a finite number")
        return normalize_number(number)
    raise CoercionError(f"text {text!r} is not a number")


def is_numeric(value: Any) -> bool:
    """True for numbers (not booleans) and text that parses as a number."""
    try:
        to_number(value)
    except CoercionError:
        return False
    return not isinstance(value, datetime)


# -- booleans -----------------------------------------------------------------------------------


def to_bool(value: Any) -> bool:
    """Make's boolean coercion: any number is true (even 0); text is false only when it is
    ``"false"`` or empty; empty values and ``false`` are false; anything else is true."""
    if value is None or isinstance(value, _Directive):
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value not in ("", "false")
    return True


# -- dates --------------------------------------------------------------------------------------


_MAX_ZONE_NAME = 64
"""Longer than any IANA name or offset; a longer text is no zone (and is not cached)."""


def zone(name: str) -> tzinfo:
    """The time zone called ``name`` (IANA, ``UTC``, or an offset such as ``+02:00``).

    Raises:
        CoercionError: an unknown zone.
    """
    if len(name) > _MAX_ZONE_NAME:
        raise CoercionError(f"unknown time zone {name[:_MAX_ZONE_NAME]!r}…")
    return _zone(name)


@lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo:
    offset = _parse_offset(name)
    if offset is not None:
        return offset
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CoercionError(f"unknown time zone {name!r}") from None


_OFFSET = re.compile(r"([+-])(\d\d):?(\d\d)")


def _parse_offset(text: str) -> tzinfo | None:
    match = _OFFSET.fullmatch(text.strip())
    if not match:
        return UTC if text.strip().upper() in ("Z", "UTC", "GMT") else None
    sign = -1 if match.group(1) == "-" else 1
    return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))


def as_aware(value: datetime, default_zone: str = "UTC") -> datetime:
    """Attach ``default_zone`` to a naive datetime (an aware one is returned unchanged)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=zone(default_zone))
    return value


_ISO_DATE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d\d:?\d\d)?",
    re.IGNORECASE,
)


def to_date(value: Any, default_zone: str = "UTC") -> datetime:
    """Convert to an aware datetime.

    A number is milliseconds since the epoch. Text must contain day, month and year and may
    contain a time and a zone (ISO 8601, or RFC 2822 as in e-mail headers); text without a
    zone is read in ``default_zone``.

    Raises:
        CoercionError: the value is not a date.
    """
    if isinstance(value, datetime):
        return as_aware(value, default_zone)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, ValueError, OSError):
            raise CoercionError(f"number {value} is out of the date range") from None
    if isinstance(value, str):
        return _parse_date_text(value, default_zone)
    raise CoercionError(f"{describe(value)} is not a date")


def _parse_date_text(text: str, default_zone: str) -> datetime:
    match = _ISO_DATE.fullmatch(text.strip())
    if match:
        year, month, day, hour, minute, second, fraction, offset = match.groups()
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        try:
            naive = datetime(
                int(year),
                int(month),
                int(day),
                int(hour or 0),
                int(minute or 0),
                int(second or 0),
                micro,
            )
        except ValueError:
            raise CoercionError(f"text {text!r} is not a valid date") from None
        return naive.replace(tzinfo=zone(offset) if offset else zone(default_zone))
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise CoercionError(f"text {text!r} is not a date") from None
    return as_aware(parsed, default_zone)


# -- misc ---------------------------------------------------------------------------------------


def describe(value: Any) -> str:
    """A short human description of a value for error messages."""
    if value is None:
        return "empty value"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"text {shown!r}"
    kind = {
        bool: "boolean",
        int: "number",
        float: "number",
        list: "array",
        dict: "collection",
        bytes: "binary data",
        datetime: "date",
    }.get(type(value), type(value).__name__)
    if kind in ("boolean", "number"):
        return f"{kind} {to_text(value)}"
    return kind


def loose_equal(left: Any, right: Any) -> bool:
    """Equality as IML's ``=`` and ``switch``/``contains`` see it.

    Empty equals empty (``None`` and ``""``); numbers compare numerically with numeric text;
    dates compare as instants; booleans and text compare as text; containers structurally.
    """
    if left is None or right is None:
        return (left is None or left == "") and (right is None or right == "")
    if isinstance(left, list | dict) or isinstance(right, list | dict):
        return bool(left == right)
    if isinstance(left, datetime) or isinstance(right, datetime):
        try:
            return to_date(left) == to_date(right)
        except CoercionError:
            return False
    numeric_left = isinstance(left, int | float) and not isinstance(left, bool)
    numeric_right = isinstance(right, int | float) and not isinstance(right, bool)
    if (numeric_left or numeric_right) and is_numeric(left) and is_numeric(right):
        return to_number(left) == to_number(right)
    return to_text(left) == to_text(right)


_SIZED = (str, bytes, list, dict)
"""Types whose length counts against ``max_output`` (a tuple: faster to test than a union)."""


class ValueTooLarge(DataError):
    """A value over ``EvalContext.max_output`` (a ``DataError`` like any other in a run; the
    expression preview answers it as its own limit)."""


def check_size(value: Any, limit: int, what: str) -> Any:
    """Return ``value`` unchanged, or raise ``ValueTooLarge`` when it is over ``limit``."""
    if isinstance(value, _SIZED) and len(value) > limit:
        raise ValueTooLarge(f"{what} produced a value larger than the limit of {limit:,}")
    return value
