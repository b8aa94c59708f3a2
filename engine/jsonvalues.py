"""JSON in and out: what Switchboard takes from outside, decided once, and text it writes that
always encodes.

``load_json`` reads every JSON document that comes from outside (webhook bodies, API bodies).
It takes any JSON text (RFC 8259) nested at most ``MAX_DEPTH`` levels and refuses, naming the
JSON path of the value at fault (``InvalidJSON``):

* a lone surrogate (``"\\ud800"``): half of a UTF-16 pair, not a character. UTF-8 cannot
  encode it, so no database, file or API downstream could take it;
* ``NaN``, ``Infinity``, ``-Infinity`` and numbers beyond a double's range (``1e999``): not
  JSON. Python reads them, but they leave again as ``null`` or as text no other reader takes.

NUL (``\\u0000``) is a character: JSON data keeps it (JSON text writes it as ``\\u0000``).
Names and keys the store keeps as plain text cannot hold it on PostgreSQL, so the store refuses
it there on every database alike (``plain_text_problem``).

``dumps`` is the other half: JSON text Switchboard writes (stored values, backups, printed
records) always encodes as UTF-8. A lone surrogate that reached a value anyway (a module's
output, an API's answer) is written as its ``\\udXXX`` escape, which reads back as the very
same string: kept, not lost and not a crash.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

import orjson

from engine.errors import InvalidJSON

MAX_DEPTH = 200
"""Deepest JSON accepted from outside. ``json.loads`` reads ~990 levels, but such a value could
not be written into an execution record (``RecursionError`` while encoding) nor answered by the
API (pydantic stops at ~250 levels)."""

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


class _Constant:
    """What ``json.loads`` read for ``NaN``, ``Infinity`` or ``-Infinity`` (refused later, with
    the path, by ``first_problem``)."""

    def __init__(self, name: str) -> None:
        self.name = name


def load_json(data: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """The value of a JSON text from outside (bytes in UTF-8, -16 or -32).

    Raises:
        InvalidJSON: not JSON, nested deeper than ``max_depth``, or holding a value listed in
            the module docstring; ``path`` names the value.
    """
    document = _read_fast(data, max_depth)
    if document is not _CHECK:
        return document
    try:
        document = json.loads(data, parse_constant=_Constant)
    except json.JSONDecodeError as error:
        raise InvalidJSON(f"is not valid JSON: {error}") from None
    except UnicodeDecodeError as error:
        raise InvalidJSON(f"is not valid JSON: byte {error.start} is not UTF-8") from None
    except RecursionError:
        raise InvalidJSON("is not valid JSON: nested too deeply") from None
    except ValueError as error:  # an integer of more than 4,300 digits
        raise InvalidJSON(f"is not valid JSON: {error}") from None
    problem = first_problem(document, max_depth)
    if problem is not None:
        location, reason = problem
        path = json_path([printable(part) for part in location])
        # The path of a value nested too deeply is hundreds of characters: its start will do.
        raise InvalidJSON(reason, path if len(path) <= 100 else path[:99] + "…")
    return document


_CHECK = object()
"""``_read_fast``: this text takes the checked way."""
_LONG_NUMBER_TEXT = re.compile(r"[0-9]{19}")
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_DIGITS_AS_ZERO_TEXT = str.maketrans("123456789", "000000000")
_NINETEEN_ZEROS = "0" * 19
_NINETEEN_ZERO_BYTES = b"0" * 19


def has_long_number(data: str | bytes) -> bool:
    """Whether ``data`` holds 19 ASCII digits in a row (``[0-9]{19}``): an integer orjson may
    read other than the standard library does. Every digit becomes ``0`` (nothing else can
    be one) and the text is searched for 19 zeros: two passes in C, where the regular
    expression tried a match at every digit (a fifth of a webhook run's instructions,
    measured with callgrind). Text with other than ASCII characters keeps the expression
    (``str.translate`` has no fast way for it)."""
    if isinstance(data, bytes):
        return _NINETEEN_ZERO_BYTES in data.translate(_DIGITS_AS_ZERO)
    if data.isascii():
        return _NINETEEN_ZEROS in data.translate(_DIGITS_AS_ZERO_TEXT)
    return _LONG_NUMBER_TEXT.search(data) is not None


def _read_fast(data: str | bytes, max_depth: int) -> Any:
    """orjson's reading of ``data`` (several times faster, and no walk afterwards) when it is
    certainly ``load_json``'s: orjson refuses everything ``first_problem`` refuses (lone
    surrogates, escaped or not, ``NaN``, infinities, numbers beyond a double) and what
    ``json.loads`` reads but it does not (a BOM, UTF-16 and -32); the two things it reads
    otherwise are ruled out — nesting ``max_depth`` deep (fewer brackets in all cannot nest
    that deep; with more, ``nesting`` measures it) and integers of 19 digits or more (orjson
    makes floats of those past 64 bits). ``_CHECK`` for any other text: the checked way then
    reads it, or says why not."""
    if isinstance(data, bytes):
        brackets = data.count(b"[") + data.count(b"{")
    else:
        brackets = data.count("[") + data.count("{")
    if has_long_number(data):
        return _CHECK
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        return _CHECK
    # Fewer brackets in all cannot nest ``max_depth`` deep; a body of many objects (a list of
    # 10,000 lines) has more, and is measured (it is JSON: orjson just read it).
    if brackets >= max_depth and nesting(data, max_depth) >= max_depth:
        return _CHECK
    return document


_OPENING_AS_ONE = bytes.maketrans(b"{}", b"[]")
_ALL_BUT_QUOTES_AND_BRACKETS = bytes(set(range(256)) - set(b'"[]{}'))


def nesting(data: str | bytes, limit: int) -> int:
    """How deep the arrays and objects of the JSON text ``data`` nest (``[[1]]``: 2), counted
    up to ``limit``. Brackets inside strings do not count: escaped backslashes and quotes are
    dropped first (a backslash in JSON text always starts a pair, read left to right), so every
    quote left opens or closes a string and the text between them goes; then each pass takes
    out the innermost pairs (``[]``), one level a pass, all in C (a walk of the read value in
    Python cost a 10,000-line webhook body 19 ms, this 3 ms)."""
    encoded = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    unescaped = encoded.replace(b"\\\\", b"").replace(b'\\"', b"")
    quoted = unescaped.translate(_OPENING_AS_ONE, _ALL_BUT_QUOTES_AND_BRACKETS).split(b'"')
    brackets = b"".join(quoted[::2])
    depth = 0
    while brackets and depth < limit:
        inner = brackets.replace(b"[]", b"")
        if len(inner) == len(brackets):  # unbalanced: not JSON text
            return limit
        brackets = inner
        depth += 1
    return depth


def first_problem(
    value: Any, max_depth: int = MAX_DEPTH, depth: int = 0
) -> tuple[list[str | int], str] | None:
    """The first value (in document order) ``load_json`` refuses: its location (keys and
    indexes from the top) and the reason; ``None`` when there is none."""
    if depth >= max_depth:
        return [], f"is nested more than {max_depth} levels deep"
    if isinstance(value, str):
        reason = _surrogate_problem(value)
        return None if reason is None else ([], reason)
    if isinstance(value, float) and not math.isfinite(value):
        return [], "is a number beyond ±1.8e308 (such as 1e999), which JSON does not have"
    if isinstance(value, _Constant):
        return [], f"is {value.name}, which JSON does not have"
    items: Any = value.items() if isinstance(value, dict) else None
    if items is None and isinstance(value, list):
        items = enumerate(value)
    for key, item in items or ():
        if isinstance(key, str) and (reason := _surrogate_problem(key)) is not None:
            return [key], f"is a key that {reason}"
        found = first_problem(item, max_depth, depth + 1)
        if found is not None:
            found[0].insert(0, key)
            return found
    return None


def json_path(location: tuple[int | str, ...] | list[int | str], prefix: str = "") -> str:
    """Make-style path of a location: ``("flow", 3, "filter", "o")`` → ``flow[3].filter.o``."""
    path = prefix
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def plain_text_problem(text: str) -> str | None:
    """Why ``text`` cannot be a name or key the store keeps as plain text (the NUL character,
    or a lone surrogate), or ``None`` when it can."""
    if "\x00" in text:
        return "holds the NUL character (\\u0000), which names and keys cannot hold"
    return _surrogate_problem(text)


def printable(part: str | int) -> str | int:
    """A key as a path shows it: control characters and lone surrogates as ``\\uXXXX``."""
    if isinstance(part, int) or part.isprintable():
        return part
    return _UNPRINTABLE.sub(_escaped, part)


def dumps(value: Any, **options: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, **options)`` whose text always encodes as UTF-8
    and reads back as ``value`` (lone surrogates written as their escapes)."""
    return escape_surrogates(json.dumps(value, ensure_ascii=False, **options))


_FAST_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
COMPACT_OPTIONS = _FAST_OPTIONS
"""orjson's options behind ``dump_compact`` (for a caller that tries orjson first itself)."""


def dump_compact(value: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """Compact JSON of ``value`` as UTF-8 bytes: ``dumps(value, separators=(",", ":"))``
    encoded, written by orjson (several times faster: records and bundles are encoded on every
    run). What orjson refuses — a lone surrogate, an integer beyond 64 bits, nesting past 254
    levels — goes the standard library's way, so every value encodes. Both read back as the same
    value; numbers may be spelled differently (``1e16`` for ``1e+16``) and a non-finite float
    is written as ``null`` by orjson (it is not JSON)."""
    try:
        return orjson.dumps(value, default=default, option=_FAST_OPTIONS)
    except (orjson.JSONEncodeError, TypeError):
        return dumps(value, separators=(",", ":"), default=default).encode("utf-8")


def load_trusted(data: str | bytes) -> Any:
    """The value of JSON text Switchboard wrote itself (a stored record, a queued bundle): read
    fast, without ``load_json``'s checks. Text orjson refuses (``NaN`` written by older
    versions) is read by the standard library, and so is text with a number of 19 digits or
    more: orjson reads an integer beyond 64 bits as a float (``2**70 + 1`` came back as
    ``1.1805916207174113e+21``)."""
    if has_long_number(data):
        return json.loads(data)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def escape_surrogates(text: str) -> str:
    """JSON text with each lone surrogate (only ever inside a string) as its ``\\udXXX``
    escape: the same JSON value, now encodable as UTF-8."""
    if text.isascii():
        return text
    return _LONE_SURROGATE.sub(_escaped, text)


def encodable(text: str) -> str:
    """Text that is not JSON but must leave as UTF-8 (an HTTP answer): each lone surrogate
    replaced by U+FFFD, the replacement character (it has no escape outside JSON)."""
    if text.isascii():
        return text
    return _LONE_SURROGATE.sub("\ufffd", text)


def _surrogate_problem(text: str) -> str | None:
    if text.isascii():
        return None
    found = _LONE_SURROGATE.search(text)
    if found is None:
        return None
    return f"holds a lone surrogate ({_escaped(found)}), which is not a character"


def _escaped(found: re.Match[str]) -> str:
    return f"\\u{ord(found.group()):04x}"
