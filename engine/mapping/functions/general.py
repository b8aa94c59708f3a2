"""General functions: conditions, lookups and collection shaping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.mapping.context import EvalContext
from engine.mapping.functions.registry import FunctionError, function
from engine.mapping.paths import Index, parse_path, walk
from engine.mapping.values import describe, is_empty, loose_equal, to_bool, to_text

Lazy = Callable[[], Any]


@function("if", arity=(3, 3), lazy=True)
def if_(ctx: EvalContext, condition: Lazy, value1: Lazy, value2: Lazy) -> Any:
    """Returns ``value1`` when the condition is true, otherwise ``value2``.

    ``if(1.total > 100; "big"; "small")`` -> ``big`` when total is 120. Only the chosen branch
    is evaluated; the condition uses Make's boolean coercion.
    """
    return value1() if to_bool(condition()) else value2()


@function("ifempty", arity=(2, 2), lazy=True)
def ifempty(ctx: EvalContext, value1: Lazy, value2: Lazy) -> Any:
    """Returns ``value1`` unless it is empty (missing, null, ``""`` or ``[]``), else ``value2``.

    ``ifempty(1.nickname; 1.name)`` -> the name when there is no nickname.
    """
    first = value1()
    return value2() if is_empty(first) else first


@function("switch", arity=(3, None), lazy=True)
def switch(ctx: EvalContext, expression: Lazy, *cases: Lazy) -> Any:
    """Returns the result paired with the first value equal to the expression, else the
    trailing default (or empty).

    ``switch(1.code; "A"; "Alpha"; "B"; "Beta"; "Other")`` -> ``Beta`` when code is ``B``.
    """
    value = expression()
    pairs, default = cases[: len(cases) // 2 * 2], cases[len(cases) // 2 * 2 :]
    for index in range(0, len(pairs), 2):
        if loose_equal(value, pairs[index]()):
            return pairs[index + 1]()
    return default[0]() if default else None


@function("get", arity=(2, 2))
def get(ctx: EvalContext, container: Any, path: Any) -> Any:
    """Returns the value at a path of a collection or array; array indexes are 1-based.

    ``get(1.items; 2)`` -> the second item; ``get(1.data; "user.address.city")`` -> the city.
    """
    if path is None:
        return None
    if isinstance(path, int | float) and not isinstance(path, bool):
        return walk(container, [Index(path)], spread=False)
    return walk(container, parse_path(to_text(path)), spread=True)


def _key_names(keys: tuple[Any, ...]) -> list[str]:
    names: list[str] = []
    for key in keys:
        names.extend(to_text(item) for item in (key if isinstance(key, list) else [key]))
    return names


def _collection(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FunctionError(f"{describe(value)} is not a collection")
    return value


@function("pick", arity=(1, None))
def pick(ctx: EvalContext, collection: Any, *keys: Any) -> dict[str, Any]:
    """Returns a collection with only the given keys (keys may also come as an array).

    ``pick(1.user; "id"; "email")`` -> ``{"id": …, "email": …}``.
    """
    source = _collection(collection, "pick")
    return {key: source[key] for key in _key_names(keys) if key in source}


@function("omit", arity=(1, None))
def omit(ctx: EvalContext, collection: Any, *keys: Any) -> dict[str, Any]:
    """Returns a collection without the given keys.

    ``omit(1.user; "password")`` -> the user without its password.
    """
    dropped = set(_key_names(keys))
    return {
        key: value for key, value in _collection(collection, "omit").items() if key not in dropped
    }


@function("mergeCollections", arity=(1, None))
def merge_collections(ctx: EvalContext, *collections: Any) -> dict[str, Any]:
    """Merges collections; a later collection's keys overwrite an earlier one's.

    ``mergeCollections(1.defaults; 2.overrides)``.
    """
    merged: dict[str, Any] = {}
    for collection in collections:
        merged.update(_collection(collection, "mergeCollections"))
    return merged


@function("equal", arity=(2, 2))
def equal(ctx: EvalContext, left: Any, right: Any) -> bool:
    """Whether two values are equal (as the ``=`` operator compares them).

    ``equal(1.status; "paid")`` -> ``true`` when status is ``paid``.
    """
    return loose_equal(left, right)
