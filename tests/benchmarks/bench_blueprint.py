"""B0 blueprint import: parse + validate + compile the whole corpus, against bare json.loads."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from engine.blueprint import export_blueprint, load_blueprint
from engine.graph import validate_blueprint
from engine.registry import default_registry
from tests.conftest import corpus_files


def _per_second(work: Callable[[], Any], seconds: float = 2.0) -> float:
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        work()
        count += 1
    return count / elapsed


def run() -> list[dict[str, Any]]:
    texts = [path.read_bytes() for path in corpus_files()]
    registry = default_registry()

    def floor() -> None:
        for text in texts:
            json.loads(text.decode("utf-8-sig"))

    def import_only() -> None:
        for text in texts:
            load_blueprint(text)

    def import_validate_export() -> None:
        for text in texts:
            blueprint = load_blueprint(text)
            validate_blueprint(blueprint, registry)
            export_blueprint(blueprint)

    floor_rate = _per_second(floor) * len(texts)
    rows = []
    for metric, work in (
        ("import", import_only),
        ("import + validate + export", import_validate_export),
    ):
        rate = _per_second(work) * len(texts)
        rows.append(
            {
                "benchmark": "B0 blueprint corpus",
                "metric": f"{metric} (blueprints/s; floor json.loads)",
                "value": rate,
                "unit": "blueprints/s",
                "floor": floor_rate,
                "ratio": floor_rate / rate,
            }
        )
    return rows
