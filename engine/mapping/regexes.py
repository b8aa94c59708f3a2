"""Regular expressions from blueprints, compiled with the ``regex`` package and always run with
a timeout, so a catastrophic pattern costs a bounded amount of time and then fails cleanly.
"""

from __future__ import annotations

import re as _stdlib_re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import regex

REGEX_TIMEOUT = 0.25
"""Seconds one match/replace may run before it fails with ``TimeoutError``."""

MAX_PATTERN_LENGTH = 10_000

MAX_REPETITION = 100_000
"""Largest product of nested counted repetitions (``(?:a{1000}){1000}``): compiling such a
pattern is itself slow, and compilation cannot be given a timeout."""

_COUNTED = _stdlib_re.compile(r"\{(\d+)(?:,(\d*))?\}")

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


def split_literal(text: str) -> tuple[str, str] | None:
    """``("pattern", "flags")`` when ``text`` is a JavaScript regex literal ``/…/flags``."""
    match = _LITERAL.fullmatch(text)
    if not match or not match.group(1):
        return None
    if any(flag not in _FLAGS for flag in match.group(2)):
        return None
    return match.group(1), match.group(2)


@lru_cache(maxsize=512)
def compile_pattern(pattern: str, flags: str = "") -> Any:
    """Compile a JavaScript-flavoured pattern (cached).

    Raises:
        ValueError: an invalid or over-long pattern.
    """
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(f"the regular expression is longer than {MAX_PATTERN_LENGTH} characters")
    if repetition_cost(pattern) > MAX_REPETITION:
        raise ValueError("the regular expression repeats too much (nested counted repetition)")
    mode = regex.VERSION0
    for flag in flags:
        mode |= _FLAGS[flag]
    try:
        return regex.compile(pattern, mode)
    except (regex.error, OverflowError, RecursionError) as error:
        raise ValueError(f"invalid regular expression {pattern!r}: {error}") from None


def search(pattern: str, text: str, flags: str = "") -> bool:
    """Whether ``pattern`` matches anywhere in ``text`` (``TimeoutError`` past the limit)."""
    return compile_pattern(pattern, flags).search(text, timeout=REGEX_TIMEOUT) is not None


def replace(pattern: str, flags: str, text: str, replacement: str) -> str:
    """JavaScript's ``text.replace(/pattern/flags, replacement)``: all matches with ``g``, else
    the first; ``$&``, ``$1``…, ``$<name>``, ``$$``, ``$` `` and ``$'`` work in ``replacement``."""
    compiled = compile_pattern(pattern, flags)
    count = 0 if "g" in flags else 1
    return str(compiled.sub(_expander(replacement, text), text, count=count, timeout=REGEX_TIMEOUT))


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


def repetition_cost(pattern: str) -> int:
    """The largest product of counted repetitions (``{n}``, ``{n,m}``) along one nesting path."""
    stack = [1]
    worst = 1
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            position += 2
            inner = 1
        elif char == "[":
            position = _class_end(pattern, position)
            inner = 1
        elif char == "(":
            stack.append(1)
            position += 1
            continue
        elif char == ")":
            inner = stack.pop() if len(stack) > 1 else 1
            position += 1
        else:
            position += 1
            inner = 1
        count, position = _quantifier(pattern, position)
        stack[-1] = max(stack[-1], inner * count)
        worst = max(worst, stack[-1])
    return worst


def _class_end(pattern: str, start: int) -> int:
    position = start + 1
    if position < len(pattern) and pattern[position] == "^":
        position += 1
    if position < len(pattern) and pattern[position] == "]":
        position += 1
    while position < len(pattern) and pattern[position] != "]":
        position += 2 if pattern[position] == "\\" else 1
    return position + 1


def _quantifier(pattern: str, position: int) -> tuple[int, int]:
    match = _COUNTED.match(pattern, position)
    if not match:
        return 1, position
    low, high = match.group(1), match.group(2)
    bound = int(high) if high else int(low)
    return max(bound, 1), match.end()
