"""Date functions. Calendar arithmetic (days, months, years and the ``set…`` functions) keeps
the wall-clock time in the scenario's time zone, across DST changes; ``addHours``/``addMinutes``
/``addSeconds`` add exact durations. Results are aware datetimes in UTC; an empty date gives an
empty result.
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from engine.mapping.context import EvalContext
from engine.mapping.functions.registry import FunctionError, function
from engine.mapping.moment import MONTHS, WEEKDAYS, moment_formatter, parse_moment, sunday_weekday
from engine.mapping.values import CoercionError, to_date, to_number, to_text, zone

MAX_YEAR_SHIFT = 10_000


def _date(ctx: EvalContext, value: Any) -> datetime:
    if value is None or value == "":
        raise FunctionError("the date is empty")
    return to_date(value, ctx.timezone)


def _zone(ctx: EvalContext, name: Any) -> tzinfo:
    """The zone called ``name``; Make ignores a name it does not recognise and uses the
    organisation's zone instead (we also leave a warning on the context)."""
    if name is None:  # the argument left out, the usual case: the organisation's zone
        return zone(ctx.timezone)
    text = to_text(name).strip()
    if text:
        try:
            return zone(text)
        except CoercionError:
            ctx.warn(f"unknown time zone {text!r}; using {ctx.timezone}")
    return zone(ctx.timezone)


def _amount(value: Any) -> int | float:
    number = to_number(value)
    if abs(number) > MAX_YEAR_SHIFT * 366 * 86_400_000:
        raise FunctionError(f"{number} is too large")
    return number


def _in_wall_clock(
    ctx: EvalContext, value: Any, change: Callable[[datetime], datetime]
) -> datetime:
    """Apply ``change`` to the naive wall-clock time in the scenario zone; return UTC."""
    local_zone = zone(ctx.timezone)
    local = _date(ctx, value).astimezone(local_zone).replace(tzinfo=None)
    try:
        changed = change(local)
    except (OverflowError, ValueError):
        raise FunctionError("the resulting date is out of range") from None
    return changed.replace(tzinfo=local_zone).astimezone(UTC)


def _keeps_empty(impl: Callable[..., datetime]) -> Callable[..., datetime | None]:
    """Calendar functions map an empty date to an empty result, as ``formatDate`` does."""

    @functools.wraps(impl)
    def calendar_function(ctx: EvalContext, date: Any, *args: Any) -> datetime | None:
        if date is None or date == "":
            return None
        return impl(ctx, date, *args)

    return calendar_function


def _shift_months(local: datetime, months: int) -> datetime:
    index = local.year * 12 + local.month - 1 + months
    year, month = divmod(index, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


@function("formatDate", arity=(2, 3))
def format_date(ctx: EvalContext, value: Any, pattern: Any, timezone: Any = None) -> str | None:
    """Formats a date with moment.js tokens in the given zone (default: the scenario's).

    ``formatDate(1.created; "DD.MM.YYYY HH:mm")`` -> ``15.01.2024 10:30``;
    ``formatDate(now; X)`` -> Unix seconds. An empty date gives an empty result.
    """
    if value is None or value == "":
        return None
    text = pattern if type(pattern) is str else to_text(pattern)
    if not text:
        raise FunctionError("the format is empty")
    return moment_formatter(text)(_date(ctx, value).astimezone(_zone(ctx, timezone)))


@function("parseDate", arity=(1, 3))
def parse_date(ctx: EvalContext, text: Any, pattern: Any = None, timezone: Any = None) -> Any:
    """Parses text into a date with moment.js tokens (incl. ``X`` Unix seconds and ``x``
    milliseconds); text without an offset is read in the zone (default: the scenario's).

    ``parseDate("15.01.2024"; "DD.MM.YYYY")`` -> 2024-01-15T00:00 in the scenario zone.
    """
    if text is None or text == "":
        return None
    if isinstance(text, datetime):
        return text
    target = _zone(ctx, timezone)
    if pattern is None or to_text(pattern) == "":
        return _read_default(to_date(text, "UTC"), text, target)
    parsed = parse_moment(to_text(text).strip(), to_text(pattern), target, ctx.now())
    return parsed.astimezone(UTC)


def _read_default(parsed: datetime, text: Any, target: tzinfo) -> datetime:
    """Re-read a zone-less ISO text in ``target`` (``to_date`` read it in UTC)."""
    if isinstance(text, str) and not _HAS_ZONE.search(text.strip()):
        parsed = parsed.replace(tzinfo=None).replace(tzinfo=target)
    return parsed.astimezone(UTC)


_HAS_ZONE = re.compile(r"(Z|[+-]\d\d:?\d\d|GMT|UTC)$", re.IGNORECASE)


def _adder(unit: str) -> Callable[[EvalContext, Any, Any], datetime]:
    def add(ctx: EvalContext, date: Any, number: Any) -> datetime:
        amount = _amount(number)
        if unit in ("seconds", "minutes", "hours"):
            return _date(ctx, date).astimezone(UTC) + timedelta(**{unit: amount})
        if unit == "days":
            return _in_wall_clock(ctx, date, lambda local: local + timedelta(days=int(amount)))
        months = int(amount) * (12 if unit == "years" else 1)
        return _in_wall_clock(ctx, date, lambda local: _shift_months(local, months))

    add.__doc__ = (
        f"Adds {unit} to a date (a negative number subtracts). "
        f"``add{unit.capitalize()}(1.date; -2)``."
    )
    add.__module__ = __name__
    return add


for _unit in ("seconds", "minutes", "hours", "days", "months", "years"):
    function(f"add{_unit.capitalize()}", arity=(2, 2))(_keeps_empty(_adder(_unit)))


_ZEROED: dict[str, Callable[[datetime], datetime]] = {
    "second": lambda moment: moment.replace(second=0),
    "minute": lambda moment: moment.replace(minute=0),
    "hour": lambda moment: moment.replace(hour=0),
}


def _setter(field: str) -> Callable[[EvalContext, Any, Any], datetime]:
    unit = {"second": "seconds", "minute": "minutes", "hour": "hours"}[field]
    zeroed = _ZEROED[field]

    def set_(ctx: EvalContext, date: Any, number: Any) -> datetime:
        amount = int(_amount(number))
        return _in_wall_clock(
            ctx,
            date,
            lambda local: zeroed(local) + timedelta(**{unit: amount}),
        )

    set_.__doc__ = (
        f"Sets the {field} of a date; values out of range roll over into the next unit. "
        f"``set{field.capitalize()}(1.date; 5)``."
    )
    set_.__module__ = __name__
    return set_


for _field in ("second", "minute", "hour"):
    function(f"set{_field.capitalize()}", arity=(2, 2))(_keeps_empty(_setter(_field)))


def _named(value: Any, names: tuple[str, ...], what: str) -> int:
    """A 1-based number, from a number or an English name (full or three letters)."""
    if isinstance(value, str) and value.strip() and not value.strip().lstrip("-").isdigit():
        prefix = value.strip()[:3].lower()
        for index, name in enumerate(names, 1):
            if name[:3].lower() == prefix:
                return index
        raise FunctionError(f"{value!r} is not a {what}")
    return int(_amount(value))


@function("setDay", arity=(2, 2))
@_keeps_empty
def set_day(ctx: EvalContext, value: Any, day: Any) -> datetime:
    """Sets the day of the week within the same Sunday-to-Saturday week (Sunday = 1, or an
    English name); numbers outside 1-7 move to other weeks. ``setDay(1.date; "Monday")``."""
    number = _named(day, WEEKDAYS, "day of the week")
    return _in_wall_clock(
        ctx,
        value,
        lambda local: local + timedelta(days=number - 1 - sunday_weekday(local)),
    )


@function("setDate", arity=(2, 2))
@_keeps_empty
def set_date(ctx: EvalContext, value: Any, day: Any) -> datetime:
    """Sets the day of the month; out-of-range days roll over. ``setDate(1.date; 1)`` -> the
    first of its month."""
    number = int(_amount(day))
    return _in_wall_clock(
        ctx, value, lambda local: local.replace(day=1) + timedelta(days=number - 1)
    )


@function("setMonth", arity=(2, 2))
@_keeps_empty
def set_month(ctx: EvalContext, value: Any, month: Any) -> datetime:
    """Sets the month (January = 1, or an English name); out-of-range values roll over into
    other years. ``setMonth(1.date; "March")``."""
    number = _named(month, MONTHS, "month")
    return _in_wall_clock(ctx, value, lambda local: _shift_months(local, number - local.month))


@function("setYear", arity=(2, 2))
@_keeps_empty
def set_year(ctx: EvalContext, value: Any, year: Any) -> datetime:
    """Sets the year (29 February becomes 28 February in a common year).
    ``setYear(1.date; 2030)``."""
    number = int(_amount(year))
    return _in_wall_clock(
        ctx, value, lambda local: _shift_months(local, (number - local.year) * 12)
    )
