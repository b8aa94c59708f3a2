"""Regular expressions that users write, compiled and run one way for all of them.

Every user pattern goes through here: ``replace``'s ``/pattern/flags`` argument, the
``text:pattern`` filter operators, the Text parser (``regexp:Parser``), the Switch module's
cases (``util:Switcher``) and the patterns ``parseDate`` builds from a date format. Each one is

* **measured before it is compiled.** The ``regex`` package compiles a counted repetition
  ``x{n}`` into ``n`` copies of ``x``: ``a{100000}`` takes about 25 MB, and
  ``(?:(?:a{1000}){1000}){10}`` gigabytes, in a C call no timeout can stop. So the pattern is
  parsed (by ``regex``'s own parser, so the count is of exactly what would be compiled) and its
  compiled size counted: sums over a sequence, products through nested repetitions. Over
  ``MAX_PATTERN_SIZE`` steps (or ``MAX_PATTERN_LENGTH`` characters) it is refused with a
  ``PatternError``, before anything is allocated.
* **cached within a memory budget.** Compiled patterns (and refusals) are kept in one LRU cache
  that weighs each by its size — ``sys.getsizeof`` of a compiled pattern counts its compiled
  program — up to ``CACHE_BYTES`` in all; ``regex``'s own cache is not used.
* **run with a timeout** of ``REGEX_TIMEOUT`` seconds (of CPU), failing with ``TimeoutError``.
  The timeout also bounds the memory a match can take: ``regex`` keeps every capture of a
  repeated group (about 170 bytes per character of text), so what one match can hold is what it
  can allocate in that time — about 250 MB, given back when it fails.
"""

from __future__ import annotations

import contextlib
import importlib
import re as _stdlib_re
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import regex
from cachetools import LRUCache

_regex_core: Any = importlib.import_module("regex._regex_core")
"""``regex``'s private parser (``_parse``), which its type stubs do not describe."""

REGEX_TIMEOUT = 0.25
"""Seconds one match/replace may run before it fails with ``TimeoutError``."""

MAX_PATTERN_LENGTH = 10_000
"""Characters of one pattern."""

MAX_PATTERN_SIZE = 20_000
"""Steps one compiled pattern may have (``pattern_size``). A step takes at most about 180 bytes
(a grapheme, ``\\X``, counts as 6), so a pattern costs at most about 4 MB and 0.1 s to compile;
``\\d{4}-\\d{2}-\\d{2}`` has 14 steps, ``a{20000}`` 20,002."""

CACHE_BYTES = 16 * 1024 * 1024
"""Memory the cache of compiled patterns may hold, by ``sys.getsizeof`` (the process's resident
memory grows by up to about twice that)."""

_STEP_WEIGHTS: dict[type, int] = {_regex_core.Grapheme: 6}
"""Nodes that compile to much more than one step: ``\\X`` takes ~640 bytes, others <= ~180."""

_LITERAL = _stdlib_re.compile(r"/(.*)/([a-z]*)", _stdlib_re.DOTALL)
_FLAGS = {
    "i": regex.IGNORECASE,
    "m": regex.MULTILINE,
    "s": regex.DOTALL,
    "u": 0,
    "y": 0,
    "g": 0,
    "d": 0,
    "v": 0,
}
_REPLACEMENT = _stdlib_re.compile(r"\$(\$|&|`|'|\d{1,2}|<[^>]*>)")
_SHOWN = 60


class PatternError(ValueError):
    """A pattern that is invalid, too long or too big to compile; the message says which."""


def split_literal(text: str) -> tuple[str, str] | None:
    """``("pattern", "flags")`` when ``text`` is a JavaScript regex literal ``/…/flags``."""
    match = _LITERAL.fullmatch(text)
    if not match or not match.group(1):
        return None
    if any(flag not in _FLAGS for flag in match.group(2)):
        return None
    return match.group(1), match.group(2)


def compile_pattern(pattern: str, flags: str = "") -> regex.Pattern[str]:
    """Compile a JavaScript-flavoured pattern (``flags``: ``i``, ``m``, ``s``; ``g u y d v``
    are accepted and ignored), checked first and cached within ``CACHE_BYTES``.

    Raises:
        PatternError: an invalid pattern, or one over ``MAX_PATTERN_LENGTH`` characters or
            ``MAX_PATTERN_SIZE`` steps.
    """
    if len(pattern) > MAX_PATTERN_LENGTH:  # checked first: not worth a place in the cache
        raise PatternError(
            f"the regular expression is longer than {MAX_PATTERN_LENGTH:,} characters"
        )
    key = (pattern, flags)
    with _CACHE_LOCK:
        found = _CACHE.get(key)
    if found is None:
        found = _compiled_or_refused(pattern, flags)
        # A pattern larger than the whole budget (ValueError) is used once and never kept.
        with _CACHE_LOCK, contextlib.suppress(ValueError):
            _CACHE[key] = found
    if isinstance(found, _Refusal):
        raise PatternError(found.message)
    return found


def search(pattern: str, text: str, flags: str = "", *, timeout: float = REGEX_TIMEOUT) -> bool:
    """Whether ``pattern`` matches anywhere in ``text``.

    Raises:
        PatternError: see ``compile_pattern``. TimeoutError: past ``timeout`` seconds.
    """
    compiled = compile_pattern(pattern, flags)
    try:
        return compiled.search(text, timeout=timeout) is not None
    except TimeoutError:
        raise _timed_out(pattern, timeout) from None


def match(pattern: str, text: str, flags: str = "", *, timeout: float = REGEX_TIMEOUT) -> Any:
    """The match of ``pattern`` at the start of ``text``, or ``None`` (errors as ``search``)."""
    compiled = compile_pattern(pattern, flags)
    try:
        return compiled.match(text, timeout=timeout)
    except TimeoutError:
        raise _timed_out(pattern, timeout) from None


def finditer(
    pattern: str, text: str, flags: str = "", *, timeout: float = REGEX_TIMEOUT
) -> Iterator[Any]:
    """Every match of ``pattern`` in ``text``, in order; ``timeout`` bounds the whole iteration
    (errors as ``search``)."""
    compiled = compile_pattern(pattern, flags)
    try:
        yield from compiled.finditer(text, timeout=timeout)
    except TimeoutError:
        raise _timed_out(pattern, timeout) from None


def replace(pattern: str, flags: str, text: str, replacement: str) -> str:
    """JavaScript's ``text.replace(/pattern/flags, replacement)``: all matches with ``g``, else
    the first; ``$&``, ``$1``…, ``$<name>``, ``$$``, ``$` `` and ``$'`` work in ``replacement``.

    Raises:
        PatternError: see ``compile_pattern``. TimeoutError: past ``REGEX_TIMEOUT``.
    """
    compiled = compile_pattern(pattern, flags)
    count = 0 if "g" in flags else 1
    try:
        replaced = compiled.sub(
            _expander(replacement, text), text, count=count, timeout=REGEX_TIMEOUT
        )
    except TimeoutError:
        raise _timed_out(pattern, REGEX_TIMEOUT) from None
    return str(replaced)


def pattern_size(pattern: str, flags: str = "") -> int:
    """The number of steps ``pattern`` compiles to: every node of the parsed pattern counts one
    (plus its contents), and a repetition ``x{n,m}`` counts ``x`` ``max(n, 1)`` times, since
    ``regex`` compiles the ``n`` required copies one after another.

    Raises:
        PatternError: the pattern does not parse.
    """
    try:
        return _size(_parse(pattern, _mode(flags)))
    except (regex.error, OverflowError, RecursionError) as error:
        raise PatternError(f"invalid regular expression {_shown(pattern)}: {error}") from None


# -- compiling ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Refusal:
    """A cached refusal: the same bad pattern in every bundle is measured once."""

    pattern: str
    message: str


def _weight(value: Any) -> int:
    return sys.getsizeof(value) + sys.getsizeof(value.pattern)


_CACHE: LRUCache[tuple[str, str], regex.Pattern[str] | _Refusal] = LRUCache(
    maxsize=CACHE_BYTES, getsizeof=_weight
)
_CACHE_LOCK = threading.Lock()


def _compiled_or_refused(pattern: str, flags: str) -> regex.Pattern[str] | _Refusal:
    try:
        size = pattern_size(pattern, flags)
    except PatternError as error:
        return _Refusal(pattern, str(error))
    if size > MAX_PATTERN_SIZE:
        return _Refusal(
            pattern,
            f"the regular expression {_shown(pattern)} repeats too much: it would compile to "
            f"{size:,} steps, over the limit of {MAX_PATTERN_SIZE:,}",
        )
    try:
        compiled = regex.compile(pattern, _mode(flags), cache_pattern=False)
    except (regex.error, OverflowError, RecursionError) as error:
        return _Refusal(pattern, f"invalid regular expression {_shown(pattern)}: {error}")
    # Even uncached, ``regex`` remembers every pattern string it compiles (whether it is
    # locale-sensitive) until its cache is purged: without this that map only grows.
    regex.purge()
    return compiled


def _mode(flags: str) -> int:
    mode = regex.VERSION0
    for flag in flags:
        mode |= _FLAGS[flag]
    return mode


def _parse(pattern: str, mode: int) -> Any:
    """``pattern`` parsed as ``regex.compile`` parses it, without compiling it.

    ``regex`` has no public parser; this repeats the first steps of its ``_compile`` (a scoped
    retry when the pattern sets global flags inline). A ``regex`` release that changes them
    fails ``tests/security/test_regex_limits.py``.
    """
    global_flags = mode
    while True:
        source = _regex_core.Source(pattern)
        info = _regex_core.Info(global_flags, source.char_type, {})
        info.guess_encoding = _regex_core.UNICODE
        source.ignore_space = bool(info.flags & regex.VERBOSE)
        source.use_unicode_space(bool(info.flags & regex.VERSION1))
        try:
            parsed = _regex_core._parse_pattern(source, info)
        except _regex_core._UnscopedFlagSet:
            global_flags = info.global_flags
            continue
        if not source.at_end():
            raise regex.error("unbalanced parenthesis", pattern, source.pos)
        return parsed


def _size(node: Any) -> int:
    inner = sum(_size(child) for child in _children(node))
    if isinstance(node, _regex_core.GreedyRepeat):  # lazy and possessive repeats too
        inner *= max(node.min_count, 1)
    return _STEP_WEIGHTS.get(type(node), 1) + inner


def _children(node: Any) -> Iterator[Any]:
    """The sub-patterns of a parsed node, whatever attribute holds them (``subpattern``,
    ``items``, ``branches``, ``yes_item`` …)."""
    for value in vars(node).values():
        if isinstance(value, _regex_core.RegexBase):
            yield value
        elif isinstance(value, list | tuple):
            yield from (item for item in value if isinstance(item, _regex_core.RegexBase))


def _timed_out(pattern: str, timeout: float) -> TimeoutError:
    """``regex``'s bare ``TimeoutError``, with the pattern and the limit."""
    return TimeoutError(
        f"the regular expression {_shown(pattern)} took longer than {timeout:g} s to match"
    )


def _shown(pattern: str) -> str:
    return repr(pattern if len(pattern) <= _SHOWN else pattern[:_SHOWN] + "…")


# -- replacing ------------------------------------------------------------------------------------


def _expander(replacement: str, text: str) -> Callable[[Any], str]:
    def expand(match: Any) -> str:
        def one(token: _stdlib_re.Match[str]) -> str:
            code = token.group(1)
            if code == "$":
                return "$"
            if code == "&":
                return str(match.group(0))
            if code == "`":
                return text[: match.start()]
            if code == "'":
                return text[match.end() :]
            if code.startswith("<"):
                try:
                    return str(match.group(code[1:-1]) or "")
                except IndexError:
                    return token.group(0)
            group = int(code)
            if 0 < group <= len(match.groups()):
                return str(match.group(group) or "")
            return token.group(0)

        return _REPLACEMENT.sub(one, replacement)

    return expand
