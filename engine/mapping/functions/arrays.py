"""Array functions (and ``contains``, which also searches text)."""

from __future__ import annotations

from typing import Any

from engine.mapping.context import EvalContext
from engine.mapping.functions.registry import FunctionError, function
from engine.mapping.paths import parse_path, walk
from engine.mapping.values import (
    CoercionError,
    ValueTooLarge,
    describe,
    is_numeric,
    loose_equal,
    to_json,
    to_number,
    to_text,
)

MAX_FLATTEN_DEPTH = 64


def _array(value: Any) -> list[Any]:
    """Make's array coercion: empty -> ``[]``, an array as is, anything else wrapped."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def _at(item: Any, path: str) -> Any:
    return walk(item, parse_path(path), spread=False) if path else item


@function("first", arity=(1, 1))
def first(ctx: EvalContext, array: Any) -> Any:
    """The first item (empty for an empty array). ``first(1.items)``."""
    items = _array(array)
    return items[0] if items else None


@function("last", arity=(1, 1))
def last(ctx: EvalContext, array: Any) -> Any:
    """The last item. ``last(split("a,b"; ","))`` -> ``b``."""
    items = _array(array)
    return items[-1] if items else None


@function("map", arity=(2, 4))
def map_(
    ctx: EvalContext, array: Any, key: Any, filter_key: Any = None, filter_values: Any = None
) -> list[Any]:
    """The value at ``key`` of every collection of an array, optionally only those whose
    ``filter key`` is one of ``filter values`` (comma-separated text or an array).

    ``map(1.emails; "address")`` -> ``[a@x.cz, b@y.cz]``;
    ``map(1.emails; address; type; work,home)`` -> only work and home addresses.
    """
    path = to_text(key)
    items = _array(array)
    if filter_key not in (None, ""):
        allowed = (
            filter_values
            if isinstance(filter_values, list)
            else (to_text(filter_values).split(","))
        )
        wanted = {to_text(value).strip() for value in allowed}
        items = [item for item in items if to_text(_at(item, to_text(filter_key))) in wanted]
    values = (_at(item, path) for item in items)
    return [value for value in values if value is not None]


@function("join", arity=(1, 2))
def join(ctx: EvalContext, array: Any, separator: Any = None) -> str:
    """Joins the items into text with a separator (default ``,``). ``join(1.tags; ", ")``."""
    sep = "," if separator is None else to_text(separator)
    texts = [to_text(item) for item in _array(array)]
    if texts and sum(map(len, texts)) + len(sep) * (len(texts) - 1) > ctx.max_output:
        # Checked before building: a long separator between many items grows quadratically.
        raise ValueTooLarge(
            f"Function 'join' produced a value larger than the limit of {ctx.max_output:,}"
        )
    return sep.join(texts)


@function("add", arity=(1, None))
def add(ctx: EvalContext, array: Any, *values: Any) -> list[Any]:
    """The array with the values appended. ``add(1.tags; "new")``."""
    return [*_array(array), *values]


@function("remove", arity=(1, None))
def remove(ctx: EvalContext, array: Any, *values: Any) -> list[Any]:
    """The array without items equal to any of the values (primitive arrays).

    ``remove(split("a,b,c"; ","); "b")`` -> ``[a, c]``.
    """
    return [item for item in _array(array) if not any(loose_equal(item, value) for value in values)]


@function("merge", arity=(1, None))
def merge(ctx: EvalContext, *arrays: Any) -> list[Any]:
    """One array made of all the given arrays in order. ``merge(1.a; 2.b)``."""
    merged: list[Any] = []
    for array in arrays:
        merged.extend(_array(array))
    return merged


@function("slice", arity=(2, 3))
def slice_(ctx: EvalContext, array: Any, start: Any, end: Any = None) -> list[Any]:
    """Items from ``start`` up to ``end`` (0-based, end excluded, negatives count from the end).

    ``slice(split("a,b,c,d"; ","); 1; 3)`` -> ``[b, c]``.
    """
    items = _array(array)
    first_index = int(to_number(start))
    last_index = None if end is None or end == "" else int(to_number(end))
    return items[first_index:last_index]


def _sort_key(value: Any, fold: bool) -> tuple[int, Any]:
    if value is None:
        return (3, "")
    if is_numeric(value) and not isinstance(value, str):
        return (0, to_number(value))
    if isinstance(value, str):
        return (1, value.casefold() if fold else value)
    return (2, to_text(value))


@function("sort", arity=(1, 3))
def sort(ctx: EvalContext, array: Any, order: Any = None, key: Any = None) -> list[Any]:
    """Sorts an array: ``asc`` (default), ``desc``, ``asc ci``, ``desc ci``; ``key`` sorts
    collections by that path. ``sort(1.people; desc; age)``."""
    mode = to_text(order).strip().lower() or "asc"
    if mode not in ("asc", "desc", "asc ci", "desc ci"):
        raise FunctionError(f"unknown sort order {mode!r} (use asc, desc, asc ci or desc ci)")
    path = to_text(key)
    fold = mode.endswith(" ci")
    return sorted(
        _array(array),
        key=lambda item: _sort_key(_at(item, path), fold),
        reverse=mode.startswith("desc"),
    )


@function("reverse", arity=(1, 1))
def reverse(ctx: EvalContext, array: Any) -> list[Any]:
    """The array in reverse order. ``reverse(1.items)``."""
    return _array(array)[::-1]


@function("shuffle", arity=(1, 1))
def shuffle(ctx: EvalContext, array: Any) -> list[Any]:
    """The array in random order (the context's seedable randomness). ``shuffle(1.items)``."""
    items = list(_array(array))
    ctx.rng.shuffle(items)
    return items


@function("flatten", arity=(1, 2))
def flatten(ctx: EvalContext, array: Any, depth: Any = None) -> list[Any]:
    """Flattens nested arrays ``depth`` levels deep (default 1).

    ``flatten(1.matrix)`` turns ``[[1, 2], [3]]`` into ``[1, 2, 3]``.
    """
    levels = 1 if depth is None or depth == "" else int(to_number(depth))
    return _flatten(_array(array), min(max(levels, 0), MAX_FLATTEN_DEPTH))


def _flatten(items: list[Any], levels: int) -> list[Any]:
    if levels <= 0:
        return list(items)
    flat: list[Any] = []
    for item in items:
        flat.extend(_flatten(item, levels - 1) if isinstance(item, list) else [item])
    return flat


def _identity(value: Any) -> str:
    try:
        return to_json(value) if isinstance(value, list | dict) else f"{type(value)}:{value!r}"
    except CoercionError:
        return repr(value)


@function("distinct", arity=(1, 2))
def distinct(ctx: EvalContext, array: Any, key: Any = None) -> list[Any]:
    """Removes duplicates (keeps the first); with ``key``, collections are compared by that
    path. ``distinct(1.contacts; email)``."""
    path = to_text(key)
    seen: set[str] = set()
    result: list[Any] = []
    for item in _array(array):
        identity = _identity(_at(item, path))
        if identity not in seen:
            seen.add(identity)
            result.append(item)
    return result


@function("deduplicate", arity=(1, 1))
def deduplicate(ctx: EvalContext, array: Any) -> list[Any]:
    """Removes duplicate items, keeping the first. ``deduplicate(split("a,b,a"; ","))`` ->
    ``[a, b]``."""
    return distinct(ctx, array)


@function("keys", arity=(1, 1))
def keys(ctx: EvalContext, collection: Any) -> list[str]:
    """The keys of a collection. ``keys(1.headers)``."""
    if collection is None:
        return []
    if not isinstance(collection, dict):
        raise FunctionError(f"{describe(collection)} is not a collection")
    return list(collection)


@function("toArray", arity=(1, 1))
def to_array(ctx: EvalContext, collection: Any) -> list[Any]:
    """A collection as an array of ``{key, value}`` pairs (an array stays as it is).

    ``toArray(1.headers)`` -> ``[{key: "a", value: 1}, …]``.
    """
    if isinstance(collection, dict):
        return [{"key": key, "value": value} for key, value in collection.items()]
    return _array(collection)


@function("toCollection", arity=(3, 3))
def to_collection(ctx: EvalContext, array: Any, key_field: Any, value_field: Any) -> dict[str, Any]:
    """A collection built from an array of collections, using one field as the keys and
    another as the values. ``toCollection(1.pairs; "key"; "value")``."""
    key_path, value_path = to_text(key_field), to_text(value_field)
    result: dict[str, Any] = {}
    for item in _array(array):
        name = _at(item, key_path)
        if name is not None:
            result[to_text(name)] = _at(item, value_path)
    return result


@function("contains", arity=(2, 2))
def contains(ctx: EvalContext, haystack: Any, needle: Any) -> bool:
    """Whether an array contains a value, or text contains a piece of text (case-sensitive).

    ``contains(1.tags; "vip")``; ``contains("Hello"; "ell")`` -> ``true``.
    """
    if isinstance(haystack, list):
        return any(loose_equal(item, needle) for item in haystack)
    if haystack is None or needle is None:
        return False
    return to_text(needle) in to_text(haystack)
