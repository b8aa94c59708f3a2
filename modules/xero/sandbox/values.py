"""Values: parsing request input, rendering Xero's wire format (``/Date(ms+0000)/``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

from .errors import ValidationFailed, api_exception


def ms_since_epoch(moment: datetime) -> int:
    """Milliseconds since 1970-01-01 UTC."""
    return int(moment.astimezone(UTC).timestamp() * 1000)


def xero_date(value: date | datetime) -> str:
    """Render a record date the way Xero does: ``/Date(1573755038314+0000)/``."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return f"/Date({ms_since_epoch(value)}+0000)/"


def to_wire(value: Any) -> Any:
    """Deep-copy ``value`` into JSON types: dates as ``/Date(ms+0000)/``, Decimals as numbers."""
    if isinstance(value, Mapping):
        return {key: to_wire(item) for key, item in value.items() if not key.startswith("_")}
    if isinstance(value, list | tuple):
        return [to_wire(item) for item in value]
    if isinstance(value, date):
        return xero_date(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def parse_date(value: Any) -> date | None:
    """Accept ``YYYY-MM-DD``, ISO datetimes and ``/Date(ms)/``; None when absent or unreadable."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value:
        return None
    match = _MS_DATE.match(value)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC).date()
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def parse_timestamp(value: Any) -> datetime | None:
    """Like ``parse_date`` but keeps the time (naive input is UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    match = _MS_DATE.match(value)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_if_modified_since(header: str | None) -> datetime | None:
    """Read ``If-Modified-Since`` as an HTTP date or an ISO timestamp (what Xero SDKs send)."""
    if not header:
        return None
    stamp = parse_timestamp(header.strip())
    if stamp is not None:
        return stamp
    try:
        return parsedate_to_datetime(header).astimezone(UTC)
    except (TypeError, ValueError):
        raise api_exception(
            17, "InvalidParameterException", "If-Modified-Since is not a valid date"
        ) from None


def to_decimal(value: Any, default: str = "0") -> Decimal:
    """Decimal from a JSON number or numeric string.

    Raises:
        ValidationFailed: when ``value`` is not numeric.
    """
    if value is None or value == "":
        return Decimal(default)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(f"'{value}' is not a valid number") from None


def money(value: Decimal) -> Decimal:
    """Round to cents, half up (Xero rounds tax per line to 2 decimals)."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
