"""Field values as 1CRM stores and answers them: text.

1CRM answers every value as a string or null — ``"deleted": "0"``, ``"balance": "3222.22"``,
``"2018-02-23 07:28:28"`` (NOTES §2; docs data/record.md, data/related.md) — so the sandbox
keeps them that way: a client that needs a number must convert it, as it must against 1CRM.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from modules.onecrm.sandbox.schema import Field

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
TRUE_TEXT = frozenset({"1", "true", "yes", "on"})
FALSE_TEXT = frozenset({"0", "false", "no", "off"})


class InvalidValue(ValueError):
    """A value the field's type does not take; the message says what it takes."""


def stored(spec: Field, value: Any) -> str | None:
    """``value`` as 1CRM keeps it for a field of ``spec``'s type (None for empty).

    Raises:
        InvalidValue: not a value of that type (a list for a text, "abc" for a number …).
    """
    if value is None or value == "":
        return None
    if isinstance(value, dict | list):
        raise InvalidValue("must be a single value, not a list or an object")
    converter = CONVERTERS.get(spec.type, _text)
    return converter(spec, value)


def decimal_text(value: Decimal) -> str:
    """Plain decimal text without trailing zeros: 475.00 → "475", 0.50 → "0.5"."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _decimal(spec: Field, value: Any) -> str:
    if isinstance(value, bool):
        raise InvalidValue("must be a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidValue(f"'{value}' is not a number") from None
    if not number.is_finite():
        raise InvalidValue(f"'{value}' is not a number")
    return decimal_text(number)


def _integer(spec: Field, value: Any) -> str:
    text = _decimal(spec, value)
    if "." in text:
        raise InvalidValue(f"'{value}' is not a whole number")
    return text


def _boolean(spec: Field, value: Any) -> str:
    text = str(value).strip().lower()
    if value is True or text in TRUE_TEXT:
        return "1"
    if value is False or text in FALSE_TEXT:
        return "0"
    raise InvalidValue(f"'{value}' is not a yes/no value")


def _date(spec: Field, value: Any) -> str:
    text = str(value).strip()
    if not DATE.match(text):
        raise InvalidValue(f"'{value}' is not a date (YYYY-MM-DD)")
    try:
        datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise InvalidValue(f"'{value}' is not a date (YYYY-MM-DD)") from None
    return text


def _datetime(spec: Field, value: Any) -> str:
    text = str(value).strip()
    try:
        datetime.strptime(text, DATETIME_FORMAT)
    except ValueError:
        raise InvalidValue(f"'{value}' is not a date and time (YYYY-MM-DD HH:MM:SS)") from None
    return text


def _enum(spec: Field, value: Any) -> str:
    text = str(value)
    if spec.options and text not in spec.options:
        raise InvalidValue(f"'{value}' is not one of {', '.join(spec.options)}")
    return text


def _text(spec: Field, value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


CONVERTERS = {
    "decimal": _decimal,
    "int": _integer,
    "bool": _boolean,
    "date": _date,
    "datetime": _datetime,
    "enum": _enum,
}


def as_decimal(value: Any) -> Decimal:
    """A stored number (or None) as a Decimal (0 when empty)."""
    return Decimal(str(value)) if value not in (None, "") else Decimal("0")
