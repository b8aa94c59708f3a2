"""Text and binary functions."""

from __future__ import annotations

import base64 as _base64
import binascii
import hashlib
import hmac
import html
import json
import re
import unicodedata
from typing import Any
from urllib.parse import quote, unquote

from engine.mapping import regexes
from engine.mapping.context import EvalContext
from engine.mapping.functions.registry import FunctionError, function
from engine.mapping.values import ValueTooLarge, to_number, to_text

_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"\S+")


def _integer(value: Any, what: str) -> int:
    number = to_number(value)
    if number != number or abs(number) > 2**53:  # NaN or beyond exact integers
        raise FunctionError(f"{what} {number} is not a usable number")
    return int(number)


@function("length", arity=(1, 1))
def length(ctx: EvalContext, value: Any) -> int:
    """Returns the length of text, binary data (bytes) or an array; empty is 0.

    ``length("hello")`` -> ``5``; ``length(1.items)`` -> the number of items.
    """
    if value is None:
        return 0
    if isinstance(value, str | bytes | list | dict):
        return len(value)
    return len(to_text(value))


@function("lower", arity=(1, 1))
def lower(ctx: EvalContext, text: Any) -> str:
    """Converts all characters to lower case. ``lower("Hello")`` -> ``hello``."""
    return to_text(text).lower()


@function("upper", arity=(1, 1))
def upper(ctx: EvalContext, text: Any) -> str:
    """Converts all characters to upper case. ``upper("Hello")`` -> ``HELLO``."""
    return to_text(text).upper()


@function("capitalize", arity=(1, 1))
def capitalize(ctx: EvalContext, text: Any) -> str:
    """Upper-cases the first character. ``capitalize("hello world")`` -> ``Hello world``."""
    value = to_text(text)
    return value[:1].upper() + value[1:]


@function("startcase", arity=(1, 1))
def startcase(ctx: EvalContext, text: Any) -> str:
    """Capitalises every word and lower-cases the rest. ``startcase("hello WORLD")`` ->
    ``Hello World``."""
    return _WORD.sub(
        lambda word: word.group()[:1].upper() + word.group()[1:].lower(), to_text(text)
    )


@function("trim", arity=(1, 1))
def trim(ctx: EvalContext, text: Any) -> str:
    """Removes space characters at the start and end. ``trim("  hi ")`` -> ``hi``."""
    return to_text(text).strip()


@function("replace", arity=(3, 3))
def replace(ctx: EvalContext, text: Any, search: Any, replacement: Any) -> str:
    """Replaces ``search`` with ``replacement``; ``search`` may be a regular expression
    ``/pattern/flags`` (``g`` replaces every match), where ``$&`` and ``$1`` work.

    ``replace("a-b-c"; "-"; "+")`` -> ``a+b+c`` (plain text: every occurrence);
    ``replace("John Smith"; "/(\\w+) (\\w+)/"; "$2, $1")`` -> ``Smith, John``.
    """
    value, needle, new = to_text(text), to_text(search), to_text(replacement)
    literal = regexes.split_literal(needle)
    if literal is not None:
        return regexes.replace(literal[0], literal[1], value, new)
    if not needle:
        return value
    growth = len(new) - len(needle)
    if growth > 0 and len(value) + value.count(needle) * growth > ctx.max_output:
        # Checked before building: replacing text by itself grows quadratically.
        raise ValueTooLarge(
            f"Function 'replace' produced a value larger than the limit of {ctx.max_output:,}"
        )
    return value.replace(needle, new)


@function("substring", arity=(2, 3))
def substring(ctx: EvalContext, text: Any, start: Any, end: Any = None) -> str:
    """Returns the part between ``start`` and ``end`` (0-based, end excluded; as JavaScript's
    ``substring``). ``substring("Hello"; 1; 3)`` -> ``el``."""
    value = to_text(text)
    first = min(max(_integer(start, "start"), 0), len(value))
    last = len(value) if end is None else min(max(_integer(end, "end"), 0), len(value))
    first, last = min(first, last), max(first, last)
    return value[first:last]


@function("split", arity=(2, 2))
def split(ctx: EvalContext, text: Any, separator: Any) -> list[str]:
    """Splits text into an array at each separator. ``split("a,b,c"; ",")`` -> ``[a, b, c]``."""
    value, sep = to_text(text), to_text(separator)
    if sep == "":
        return list(value)
    return value.split(sep)


@function("indexOf", arity=(2, 3))
def index_of(ctx: EvalContext, text: Any, value: Any, start: Any = None) -> int:
    """Returns the 0-based position of ``value`` in text (from ``start``), or -1.

    ``indexOf("Hello"; "l")`` -> ``2``.
    """
    offset = 0 if start is None else max(_integer(start, "start"), 0)
    return to_text(text).find(to_text(value), offset)


@function("toString", arity=(1, 1))
def to_string(ctx: EvalContext, value: Any) -> str:
    """Converts any value to text (dates as ISO 8601). ``toString(42)`` -> ``"42"``."""
    return to_text(value)


@function("toBinary", arity=(1, 2))
def to_binary(ctx: EvalContext, value: Any, encoding: Any = None) -> bytes:
    """Converts a value to binary data; ``encoding`` ``base64`` or ``hex`` decodes text first.

    ``toBinary("aGk="; base64)`` -> the bytes ``hi``; ``toBinary("hi")`` -> UTF-8 bytes.
    """
    if isinstance(value, bytes):
        return value
    text = to_text(value)
    kind = to_text(encoding).lower() or "utf8"
    try:
        if kind == "base64":
            return _base64.b64decode(text + "=" * (-len(text) % 4), validate=False)
        if kind == "hex":
            return bytes.fromhex(text)
    except (binascii.Error, ValueError) as error:
        raise FunctionError(f"text is not valid {kind}: {error}") from None
    if kind in ("utf8", "utf-8", "binary", "text"):
        return text.encode("utf-8")
    if kind in ("latin1", "ascii"):
        return text.encode("latin-1", errors="replace")
    raise FunctionError(f"unknown encoding {kind!r} (use base64, hex or utf8)")


@function("base64", arity=(1, 1))
def base64(ctx: EvalContext, value: Any) -> str:
    """Encodes text (as UTF-8) or binary data to Base64. ``base64("hi")`` -> ``aGk=``."""
    raw = value if isinstance(value, bytes) else to_text(value).encode("utf-8")
    return _base64.b64encode(raw).decode("ascii")


@function("ascii", arity=(1, 2))
def ascii_(ctx: EvalContext, text: Any, remove_diacritics: Any = None) -> str:
    """Removes non-ASCII characters; with ``true`` letters lose their diacritics first.

    ``ascii("Žluťoučký kůň"; true)`` -> ``Zlutoucky kun``; ``ascii("ěa")`` -> ``a``.
    """
    value = to_text(text)
    if remove_diacritics is True or to_text(remove_diacritics) == "true":
        value = unicodedata.normalize("NFKD", value)
    return value.encode("ascii", errors="ignore").decode("ascii")


@function("stripHTML", arity=(1, 1))
def strip_html(ctx: EvalContext, text: Any) -> str:
    """Removes HTML tags. ``stripHTML("<b>Hi</b>")`` -> ``Hi``."""
    return _TAG.sub("", to_text(text))


@function("escapeHTML", arity=(1, 1))
def escape_html(ctx: EvalContext, text: Any) -> str:
    """Escapes ``& < > " '`` for HTML. ``escapeHTML("<b>")`` -> ``&lt;b&gt;``."""
    return html.escape(to_text(text), quote=True)


@function("escapeJSON", arity=(1, 1))
def escape_json(ctx: EvalContext, text: Any) -> str:
    """Escapes text for use inside a JSON string. ``escapeJSON("say \\"hi\\"")`` ->
    ``say \\"hi\\"``."""
    return json.dumps(to_text(text), ensure_ascii=False)[1:-1]


@function("encodeURL", arity=(1, 1))
def encode_url(ctx: EvalContext, text: Any) -> str:
    """Percent-encodes text for a URL component (JavaScript's ``encodeURIComponent``).

    ``encodeURL("a b&c")`` -> ``a%20b%26c``.
    """
    return quote(to_text(text), safe="-_.!~*'()")


@function("decodeURL", arity=(1, 1))
def decode_url(ctx: EvalContext, text: Any) -> str:
    """Decodes percent-encoded text. ``decodeURL("a%20b")`` -> ``a b``."""
    return unquote(to_text(text), errors="strict")


def _digest(name: str, value: Any, encoding: Any, key: Any, key_encoding: Any) -> str:
    data = value if isinstance(value, bytes) else to_text(value).encode("utf-8")
    if key is None or key == "":
        digest = hashlib.new(name, data).digest()
    else:
        secret = key if isinstance(key, bytes) else _decode_key(to_text(key), key_encoding)
        digest = hmac.new(secret, data, name).digest()
    kind = to_text(encoding).lower() or "hex"
    if kind == "hex":
        return digest.hex()
    if kind == "base64":
        return _base64.b64encode(digest).decode("ascii")
    if kind in ("latin1", "binary"):
        return digest.decode("latin-1")
    raise FunctionError(f"unknown digest encoding {kind!r} (use hex, base64 or latin1)")


def _decode_key(key: str, encoding: Any) -> bytes:
    kind = to_text(encoding).lower() or "text"
    if kind == "hex":
        return bytes.fromhex(key)
    if kind == "base64":
        return _base64.b64decode(key)
    return key.encode("utf-8")


@function("md5", arity=(1, 4))
def md5(
    ctx: EvalContext, value: Any, encoding: Any = None, key: Any = None, key_encoding: Any = None
) -> str:
    """MD5 digest (hex by default; ``base64``); HMAC-MD5 with a key.

    ``md5("hello")`` -> ``5d41402abc4b2a76b9719d911017c592``.
    """
    return _digest("md5", value, encoding, key, key_encoding)


@function("sha1", arity=(1, 4))
def sha1(
    ctx: EvalContext, value: Any, encoding: Any = None, key: Any = None, key_encoding: Any = None
) -> str:
    """SHA-1 digest (``hex``/``base64``); HMAC-SHA1 with a key.

    ``sha1("hello")`` -> ``aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d``.
    """
    return _digest("sha1", value, encoding, key, key_encoding)


@function("sha256", arity=(1, 4))
def sha256(
    ctx: EvalContext, value: Any, encoding: Any = None, key: Any = None, key_encoding: Any = None
) -> str:
    """SHA-256 digest (``hex``/``base64``); HMAC-SHA256 with a key.

    ``sha256("hello"; hex; "secret")`` -> the hex HMAC of ``hello`` keyed with ``secret``.
    """
    return _digest("sha256", value, encoding, key, key_encoding)


@function("sha512", arity=(1, 4))
def sha512(
    ctx: EvalContext, value: Any, encoding: Any = None, key: Any = None, key_encoding: Any = None
) -> str:
    """SHA-512 digest (``hex``/``base64``); HMAC-SHA512 with a key.

    ``sha512("hello"; base64)`` -> the Base64 digest.
    """
    return _digest("sha512", value, encoding, key, key_encoding)


@function("replaceEmojiCharacters", arity=(2, 2))
def replace_emoji_characters(ctx: EvalContext, text: Any, replacement: Any) -> str:
    """Replaces emoji with the given text. ``replaceEmojiCharacters("hi 👋"; "")`` -> ``hi ``."""
    return regexes.replace(
        r"\p{Extended_Pictographic}\uFE0F?",
        "g",
        to_text(text),
        to_text(replacement).replace("$", "$$"),
    )
