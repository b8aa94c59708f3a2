"""A fixed evaluation world for the expression tables: bundles, clock, randomness."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from engine.mapping import EvalContext, compile_template

NOW = datetime(2024, 3, 10, 12, 0, 0, tzinfo=UTC)

BUNDLES: dict[int, Any] = {
    1: {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "age": 36,
        "price": "12.50",
        "active": True,
        "tags": ["vip", "beta"],
        "items": [
            {"sku": "A1", "qty": 2, "price": 10},
            {"sku": "B2", "qty": 1, "price": 5.5},
            {"sku": "C3", "qty": 3, "price": 1},
        ],
        "Contact ID": 42,
        "0": "zero",
        "nested": {"a": {"b": {"c": "deep"}}},
        "empty": "",
        "none": None,
        "created": "2024-01-15T10:30:00Z",
        "html": "<p>Hi <b>there</b></p>",
        "numbers": [3, 1, 2],
        "__IMTINDEX__": 2,
    },
    2: {
        "text": "Hello World",
        "count": "7",
        "matrix": [[1, 2], [3, [4]]],
        "people": [
            {"name": "bob", "age": 30},
            {"name": "Al", "age": 25},
            {"name": "cy", "age": 35},
        ],
        "headers": {"a": 1, "b": 2},
        "groups": [{"members": [{"id": 1}, {"id": 2}]}, {"members": [{"id": 3}]}],
    },
    3: {"date": datetime(2024, 3, 31, 1, 30, tzinfo=UTC), "blob": b"hi"},
}

VARIABLES: dict[str, Any] = {
    "scenario": {"id": 77, "name": "Sync", "url": "https://example.test/77"},
    "execution": {"id": "exec-1"},
    "organization": {"user": "ops@example.com"},
    "input": {"limit": 5},
}


def make_context(**overrides: Any) -> EvalContext:
    values: dict[str, Any] = {
        "bundles": BUNDLES,
        "variables": VARIABLES,
        "now": lambda: NOW,
        "rng": random.Random(7),
    }
    values.update(overrides)
    return EvalContext(**values)


def evaluate(source: Any, **overrides: Any) -> Any:
    return compile_template(source, where="test").evaluate(make_context(**overrides))
