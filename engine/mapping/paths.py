"""Walking a path (``a.b[2].c``, ``items[].name``) through Make data.

Indexes are 1-based. Missing keys, indexes out of range and steps into non-containers all
yield ``None`` (Make's "empty"), never an exception.

``[]`` reads the whole array where an array is wanted (a function argument) and the first
element where a single value is wanted; a key step on an array behaves as if ``[]`` preceded it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MAX_SPREAD_DEPTH = 32


class Key:
    """A ``.name`` step (also a backtick name)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f".{self.name}"


class Index:
    """A ``[n]`` step; ``n`` is the already-evaluated index (1-based number, or a key)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class Spread:
    """A ``[]`` step."""

    __slots__ = ()


SPREAD = Spread()


def step_index(value: Any, index: Any) -> Any:
    """``value[index]`` with 1-based numeric indexes; a text index reads a collection key."""
    if isinstance(value, list) and isinstance(index, int | float) and not isinstance(index, bool):
        if not 1 <= index < len(value) + 1:  # also NaN and infinities, which int() refuses
            return None
        return value[int(index) - 1]
    # isdecimal, not isdigit: int() refuses "²"; and thousands of digits are out of range anyway.
    if isinstance(value, list) and isinstance(index, str) and index.strip().isdecimal():
        digits = index.strip()
        return step_index(value, int(digits)) if len(digits) <= 18 else None
    if isinstance(value, dict) and isinstance(index, str | int):
        return value.get(str(index))
    return None


class _Spread(list[Any]):
    """The result of a ``[]`` step: nested spreads flatten into it."""


def walk(value: Any, steps: Sequence[Any], *, spread: bool) -> Any:
    """Follow ``steps`` from ``value``.

    Args:
        value: where to start.
        steps: ``Key``/``Index``/``SPREAD`` steps.
        spread: True where an array is wanted: ``[]`` maps the rest of the path over the array
            (flattening nested ``[]`` and dropping empty results); False reads the first element.
    """
    found = _walk(value, steps, spread, 0)
    return list(found) if isinstance(found, _Spread) else found


def _walk(value: Any, steps: Sequence[Any], spread: bool, depth: int) -> Any:
    for position, step in enumerate(steps):
        if value is None:
            return None
        if isinstance(step, Key):
            if isinstance(value, list):
                return _spread(value, steps[position:], spread, depth)
            value = value.get(step.name) if isinstance(value, dict) else None
        elif isinstance(step, Index):
            value = step_index(value, step.value)
        elif isinstance(value, list):
            return _spread(value, steps[position + 1 :], spread, depth)
    return value


def _spread(items: list[Any], rest: Sequence[Any], spread: bool, depth: int) -> Any:
    if not spread:
        return _walk(items[0], rest, False, depth) if items else None
    results = _Spread()
    if depth >= MAX_SPREAD_DEPTH:
        return results
    for item in items:
        found = _walk(item, rest, True, depth + 1)
        if isinstance(found, _Spread):
            results.extend(found)
        elif found is not None:
            results.append(found)
    return results


def parse_path(text: str) -> list[Any]:
    """Steps of a textual path as ``get()`` and ``map()`` take it: ``a.b[2].c``, ``a.1``.

    A purely numeric segment indexes an array (1-based) or reads a collection key.
    """
    steps: list[Any] = []
    for segment in text.split("."):
        name, _, rest = segment.partition("[")
        if name:
            steps.append(Index(name) if name.isdigit() else Key(name.strip("`")))
        while rest:
            inside, _, rest = rest.partition("]")
            steps.append(SPREAD if inside == "" else Index(_index_literal(inside)))
            rest = rest.removeprefix("[")
    return steps


def _index_literal(text: str) -> Any:
    stripped = text.strip().strip("\"'")
    return int(stripped) if stripped.isdigit() else stripped
