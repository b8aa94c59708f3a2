"""moment.js date tokens (English locale), for ``formatDate`` and ``parseDate``.

Formatting supports ``YYYY YY Y Q Qo M Mo MM MMM MMMM D Do DD DDD DDDo DDDD d do dd ddd dddd
E e w wo ww W Wo WW gg gggg GG GGGG H HH h hh k kk A a m mm s ss S… Z ZZ z zz X x`` and
``[literal text]``. Parsing accepts the same tokens, moment's "forgiving" way: separators match
loosely, units left out default as moment does (leading date units from today, the rest to
their minimum).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from engine.mapping import regexes

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")

_TOKEN = re.compile(
    r"\[[^\]]*\]|YYYYYY|YYYY|YY|Y|Qo|Q|MMMM|MMM|Mo|MM|M|DDDo|DDDD|DDD|Do|DD|D|dddd|ddd|dd|do|d"
    r"|E|e|wo|ww|w|Wo|WW|W|gggg|gg|GGGG|GG|HH|H|hh|h|kk|k|A|a|mm|m|ss|s|S{1,9}|ZZ|Z|zz|z|X|x"
)


def ordinal(number: int) -> str:
    """English ordinal: 1st, 2nd, 3rd, 4th, 11th, 22nd."""
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


def sunday_weekday(moment: date) -> int:
    """Day of the week with Sunday = 0 (moment's ``d``)."""
    return moment.isoweekday() % 7


def locale_week(moment: date) -> tuple[int, int]:
    """(week-year, week) in the English locale: weeks start on Sunday, week 1 holds Jan 1."""
    saturday = moment + timedelta(days=6 - sunday_weekday(moment))
    return saturday.year, (saturday.timetuple().tm_yday - 1) // 7 + 1


def _offset(moment: datetime, separator: str) -> str:
    delta = moment.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{separator}{rest:02d}"


def _twelve(hour: int) -> int:
    return hour % 12 or 12


_FORMATTERS: dict[str, Callable[[datetime], str]] = {
    # The tokens that are one attribute of the datetime are ``_FIELDS`` (no call each).
    "YYYYYY": lambda m: f"{'-' if m.year < 0 else '+'}{abs(m.year):06d}",
    "YY": lambda m: f"{m.year % 100:02d}",
    "Q": lambda m: str((m.month - 1) // 3 + 1),
    "Qo": lambda m: ordinal((m.month - 1) // 3 + 1),
    "Mo": lambda m: ordinal(m.month),
    "MMM": lambda m: MONTHS[m.month - 1][:3],
    "MMMM": lambda m: MONTHS[m.month - 1],
    "Do": lambda m: ordinal(m.day),
    "DDD": lambda m: str(m.timetuple().tm_yday),
    "DDDo": lambda m: ordinal(m.timetuple().tm_yday),
    "DDDD": lambda m: f"{m.timetuple().tm_yday:03d}",
    "d": lambda m: str(sunday_weekday(m)),
    "do": lambda m: ordinal(sunday_weekday(m)),
    "dd": lambda m: WEEKDAYS[sunday_weekday(m)][:2],
    "ddd": lambda m: WEEKDAYS[sunday_weekday(m)][:3],
    "dddd": lambda m: WEEKDAYS[sunday_weekday(m)],
    "E": lambda m: str(m.isoweekday()),
    "e": lambda m: str(sunday_weekday(m)),
    "w": lambda m: str(locale_week(m)[1]),
    "wo": lambda m: ordinal(locale_week(m)[1]),
    "ww": lambda m: f"{locale_week(m)[1]:02d}",
    "W": lambda m: str(m.isocalendar()[1]),
    "Wo": lambda m: ordinal(m.isocalendar()[1]),
    "WW": lambda m: f"{m.isocalendar()[1]:02d}",
    "gg": lambda m: f"{locale_week(m)[0] % 100:02d}",
    "gggg": lambda m: f"{locale_week(m)[0]:04d}",
    "GG": lambda m: f"{m.isocalendar()[0] % 100:02d}",
    "GGGG": lambda m: f"{m.isocalendar()[0]:04d}",
    "h": lambda m: str(_twelve(m.hour)),
    "hh": lambda m: f"{_twelve(m.hour):02d}",
    "k": lambda m: str(m.hour or 24),
    "kk": lambda m: f"{m.hour or 24:02d}",
    "A": lambda m: "AM" if m.hour < 12 else "PM",
    "a": lambda m: "am" if m.hour < 12 else "pm",
    "Z": lambda m: _offset(m, ":"),
    "ZZ": lambda m: _offset(m, ""),
    "z": lambda m: m.tzname() or "",
    "zz": lambda m: m.tzname() or "",
    "X": lambda m: str((m - EPOCH) // timedelta(seconds=1)),
    "x": lambda m: str((m - EPOCH) // timedelta(milliseconds=1)),
}


_CACHED_FORMAT_LENGTH = 200
"""Formats up to this long are tokenised once and cached; longer ones (a mapping can build a
format from data) are tokenised on each call, so the caches stay small whatever runs."""


_FIELDS: dict[str, str] = {
    "YYYY": "{0.year:04d}",
    "Y": "{0.year}",
    "M": "{0.month}",
    "MM": "{0.month:02d}",
    "D": "{0.day}",
    "DD": "{0.day:02d}",
    "H": "{0.hour}",
    "HH": "{0.hour:02d}",
    "m": "{0.minute}",
    "mm": "{0.minute:02d}",
    "s": "{0.second}",
    "ss": "{0.second:02d}",
}
"""Tokens that are one attribute of the datetime, written as ``str.format`` fields: each is
filled without a Python call (the other tokens are ``_FORMATTERS``)."""


def moment_formatter(pattern: str) -> Callable[[datetime], str]:
    """The function that formats an aware datetime (already in the wanted zone) with
    ``pattern``'s moment.js tokens; ``pattern`` is tokenised once (cached unless long), so for
    a format known in advance (a literal in an expression) each call only formats."""
    plan = _cached_format_plan if len(pattern) <= _CACHED_FORMAT_LENGTH else _format_plan
    return plan(pattern)


def _format_plan(pattern: str) -> Callable[[datetime], str]:
    """``pattern`` as one function of the datetime: a ``str.format`` template holding the
    literal text and the single-attribute tokens (``{0.year:04d}``), with a numbered field
    for each other token, filled by that token's formatter."""
    template: list[str] = []
    computed: list[Callable[[datetime], str]] = []
    position = 0
    for token in _TOKEN.finditer(pattern):
        template.append(_escaped_braces(pattern[position : token.start()]))
        text = token.group()
        if text.startswith("["):
            template.append(_escaped_braces(text[1:-1]))
        elif text in _FIELDS:
            template.append(_FIELDS[text])
        else:
            computed.append(_formatter(text))
            template.append(f"{{{len(computed)}}}")
        position = token.end()
    template.append(_escaped_braces(pattern[position:]))
    fill = "".join(template).format
    if not computed:
        return fill
    formatters = tuple(computed)

    def format_with(moment: datetime) -> str:
        return fill(moment, *[formatter(moment) for formatter in formatters])

    return format_with


def _escaped_braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


_cached_format_plan = lru_cache(maxsize=512)(_format_plan)


def _formatter(text: str) -> Callable[[datetime], str]:
    if text.startswith("S"):
        width = len(text)
        return lambda m: f"{m.microsecond:06d}000"[:width]
    return _FORMATTERS[text]


# -- parsing ------------------------------------------------------------------------------------

_MONTH_NAMES = "|".join([*MONTHS, *(name[:3] for name in MONTHS)])
_DAY_NAMES = "|".join(
    [*WEEKDAYS, *(name[:3] for name in WEEKDAYS), *(name[:2] for name in WEEKDAYS)]
)
_PARSERS: dict[str, str] = {
    "YYYYYY": r"[+-]?\d{4,6}",
    "YYYY": r"[+-]?\d{4}",
    "YY": r"\d{2}",
    "Y": r"[+-]?\d{1,6}",
    "Q": r"[1-4]",
    "Qo": r"[1-4](?:st|nd|rd|th)",
    "M": r"\d{1,2}",
    "MM": r"\d{1,2}",
    "Mo": r"\d{1,2}(?:st|nd|rd|th)",
    "MMM": _MONTH_NAMES,
    "MMMM": _MONTH_NAMES,
    "D": r"\d{1,2}",
    "DD": r"\d{1,2}",
    "Do": r"\d{1,2}(?:st|nd|rd|th)",
    "DDD": r"\d{1,3}",
    "DDDD": r"\d{1,3}",
    "DDDo": r"\d{1,3}(?:st|nd|rd|th)",
    "d": r"\d",
    "e": r"\d",
    "E": r"\d",
    "do": r"\d(?:st|nd|rd|th)",
    "dd": _DAY_NAMES,
    "ddd": _DAY_NAMES,
    "dddd": _DAY_NAMES,
    "w": r"\d{1,2}",
    "ww": r"\d{1,2}",
    "wo": r"\d{1,2}(?:st|nd|rd|th)",
    "W": r"\d{1,2}",
    "WW": r"\d{1,2}",
    "Wo": r"\d{1,2}(?:st|nd|rd|th)",
    "gg": r"\d{2}",
    "gggg": r"\d{4}",
    "GG": r"\d{2}",
    "GGGG": r"\d{4}",
    "H": r"\d{1,2}",
    "HH": r"\d{1,2}",
    "h": r"\d{1,2}",
    "hh": r"\d{1,2}",
    "k": r"\d{1,2}",
    "kk": r"\d{1,2}",
    "A": r"[AaPp]\.?[Mm]\.?",
    "a": r"[AaPp]\.?[Mm]\.?",
    "m": r"\d{1,2}",
    "mm": r"\d{1,2}",
    "s": r"\d{1,2}",
    "ss": r"\d{1,2}",
    "Z": r"Z|[+-]\d\d(?::?\d\d)?",
    "ZZ": r"Z|[+-]\d\d(?::?\d\d)?",
    "z": r"[A-Za-z]{1,5}",
    "zz": r"[A-Za-z]{1,5}",
    "X": r"-?\d+(?:\.\d+)?",
    "x": r"-?\d+",
}


@dataclass(frozen=True)
class _Parser:
    """A format as a regular expression (compiled and cached by ``engine.mapping.regexes``)
    with one group per token, and the tokens in order."""

    source: str
    tokens: tuple[str, ...]


def _parser(pattern: str) -> _Parser:
    return (_cached_parser if len(pattern) <= _CACHED_FORMAT_LENGTH else _build_parser)(pattern)


def _build_parser(pattern: str) -> _Parser:
    pieces: list[str] = []
    tokens: list[str] = []
    position = 0
    for token in _TOKEN.finditer(pattern):
        pieces.append(_literal(pattern[position : token.start()]))
        text = token.group()
        if text.startswith("["):
            pieces.append(re.escape(text[1:-1]))
        else:
            source = r"\d+" if text.startswith("S") else _PARSERS[text]
            pieces.append(f"({source})")
            tokens.append("S" if text.startswith("S") else text)
        position = token.end()
    pieces.append(_literal(pattern[position:]))
    return _Parser(r"\s*" + "".join(pieces), tuple(tokens))


_cached_parser = lru_cache(maxsize=256)(_build_parser)


def _literal(text: str) -> str:
    """Separators match loosely (any run of non-alphanumerics, or none); letters exactly.

    A run of separators becomes one ``[\\W_]*``: consecutive ones would match the same text in
    exponentially many ways before a mismatch is reported.
    """
    out: list[str] = []
    for char in text:
        if char.isalnum():
            out.append(re.escape(char))
        elif not out or out[-1] != _SEPARATORS:
            out.append(_SEPARATORS)
    return "".join(out)


_SEPARATORS = r"[\W_]*"


class MomentParseError(ValueError):
    """Text that does not match the format, or names an impossible date."""


def _shown(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:60] + "…")


def parse_moment(text: str, pattern: str, zone: tzinfo, now: datetime) -> datetime:
    """Parse ``text`` with moment.js tokens; times without an offset are read in ``zone``.

    Raises:
        MomentParseError: the text does not fit the format or is not a valid date.
    """
    parser = _parser(pattern)
    try:
        match = regexes.match(parser.source, text, "i")
    except regexes.PatternError:
        raise MomentParseError(f"the date format {_shown(pattern)} is too long to parse") from None
    except TimeoutError:
        raise MomentParseError(
            f"text {_shown(text)} took too long to match the date format {_shown(pattern)}"
        ) from None
    if not match:
        raise MomentParseError(f"text {text!r} does not match the date format {pattern!r}")
    fields: dict[str, Any] = {}
    for token, value in zip(parser.tokens, match.groups(), strict=True):
        _read(fields, token, value)
    if "epoch" in fields:
        epoch: datetime = fields["epoch"]
        return epoch
    return _assemble(fields, zone, now.astimezone(zone), text)


_DIGITS = re.compile(r"[+-]?\d+")


def _read(fields: dict[str, Any], token: str, value: str) -> None:
    digits = _DIGITS.match(value)
    number = int(digits.group()) if digits else 0
    if token in ("YYYYYY", "YYYY", "Y", "gggg", "GGGG") and token[0] == "Y":
        fields["year"] = number
    elif token == "YY":
        fields["year"] = number + (2000 if number <= 68 else 1900)
    elif token in ("M", "MM", "Mo"):
        fields["month"] = number
    elif token in ("MMM", "MMMM"):
        fields["month"] = _month_number(value)
    elif token in ("D", "DD", "Do"):
        fields["day"] = number
    elif token in ("DDD", "DDDD", "DDDo"):
        fields["day_of_year"] = number
    elif token in ("H", "HH", "h", "hh", "k", "kk"):
        fields["hour"] = 0 if token.startswith("k") and number == 24 else number
    elif token in ("A", "a"):
        fields["pm"] = value.lower().startswith("p")
    elif token in ("m", "mm"):
        fields["minute"] = number
    elif token in ("s", "ss"):
        fields["second"] = number
    elif token == "S":
        fields["microsecond"] = int(value[:6].ljust(6, "0"))
    elif token in ("Z", "ZZ"):
        fields["offset"] = value
    elif token in ("X", "x"):
        seconds = float(value) if token == "X" else int(value) / 1000
        try:
            fields["epoch"] = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, ValueError, OSError):  # OSError: beyond the platform's time_t
            raise MomentParseError(f"timestamp {value} is out of the date range") from None


def _month_number(name: str) -> int:
    prefix = name[:3].lower()
    return next(index for index, month in enumerate(MONTHS, 1) if month[:3].lower() == prefix)


def _assemble(fields: dict[str, Any], zone: tzinfo, today: datetime, text: str) -> datetime:
    from engine.mapping.values import zone as zone_named

    units = [fields.get("year"), fields.get("month"), fields.get("day")]
    current = [today.year, today.month, today.day]
    for index in range(3):  # moment: leading units missing come from today, the rest default
        if units[index] is not None or "day_of_year" in fields:
            break
        units[index] = current[index]
    # A day of the year alone stops the loop at once: its year is this year too.
    year: int = units[0] if units[0] is not None else today.year
    month: int = units[1] or 1
    day: int = units[2] or 1
    hour = fields.get("hour", 0)
    if "pm" in fields:
        hour = hour % 12 + (12 if fields["pm"] else 0)
    target = zone_named(fields["offset"]) if "offset" in fields else zone
    try:
        if "day_of_year" in fields:
            base = datetime(year, 1, 1) + timedelta(days=fields["day_of_year"] - 1)
            year, month, day = base.year, base.month, base.day
        naive = datetime(
            year,
            month,
            day,
            hour,
            fields.get("minute", 0),
            fields.get("second", 0),
            fields.get("microsecond", 0),
        )
    except (ValueError, OverflowError):
        raise MomentParseError(f"text {text!r} is not a valid date") from None
    return naive.replace(tzinfo=target)
