"""B2 expression evaluation: a typical mapping (5 references, 3 functions), parsed once and
evaluated many times, against parsing it again for every evaluation and against hand-written
Python doing the same work (the floor)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from engine.mapping import EvalContext, compile_mapper

MAPPER: dict[str, Any] = {
    "url": "https://api.example.test/contacts/{{1.id}}",
    "name": "{{upper(1.first)}} {{1.last}}",
    "email": "{{lower(2.email)}}",
    "created": '{{formatDate(3.created; "YYYY-MM-DD")}}',
}
"""References 1.id, 1.first, 1.last, 2.email, 3.created; functions upper, lower, formatDate."""

BUNDLES: dict[int, Any] = {
    1: {"id": 1042, "first": "Ada", "last": "Lovelace"},
    2: {"email": "Ada@Example.COM"},
    3: {"created": datetime(2024, 3, 10, 12, 30, tzinfo=UTC)},
}


def _per_second(work: Callable[[], Any], seconds: float = 1.5) -> float:
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for _ in range(50):
            work()
        count += 50
    return count / elapsed


def _hand_written(bundles: dict[int, Any]) -> dict[str, Any]:
    return {
        "url": f"https://api.example.test/contacts/{bundles[1]['id']}",
        "name": f"{bundles[1]['first'].upper()} {bundles[1]['last']}",
        "email": bundles[2]["email"].lower(),
        "created": bundles[3]["created"].strftime("%Y-%m-%d"),
    }


def run() -> list[dict[str, Any]]:
    context = EvalContext(bundles=BUNDLES)
    compiled = compile_mapper(MAPPER, where="bench, mapper")
    expected = _hand_written(BUNDLES)
    assert compiled.evaluate(context) == expected, compiled.evaluate(context)

    floor = _per_second(lambda: _hand_written(BUNDLES))
    parse_once = _per_second(lambda: compiled.evaluate(context))
    parse_each = _per_second(lambda: compile_mapper(MAPPER, where="bench").evaluate(context))
    row = {"benchmark": "B2 expression evaluation", "unit": "evaluations/s"}
    return [
        {
            **row,
            "metric": "parse once, evaluate (evaluations/s; floor hand-written Python)",
            "value": parse_once,
            "floor": floor,
            "ratio": floor / parse_once,
        },
        {
            **row,
            "metric": "parse + evaluate every time (evaluations/s; floor parse once)",
            "value": parse_each,
            "floor": parse_once,
            "ratio": parse_once / parse_each,
        },
    ]


if __name__ == "__main__":
    for result in run():
        print(result)
