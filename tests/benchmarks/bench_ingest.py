"""B3 webhook ingest: POST of a 2 KB JSON invoice to ``/hooks/<token>`` over loopback at
concurrency 1, 10 and 50, against a bare Flask app answering 200 under the same gunicorn
settings (the floor; see ``servers.GUNICORN``).

Two deployments of the product: *embedded* (SQLite store, the runs execute in the same process
while requests arrive) and *redis* (the web process only accepts: durable write to the store,
then the Celery message to Redis; no worker consumes during the measurement). Every 200 is a
request stored durably before the answer; ``lost`` compares the 200s with the stored queue
items afterwards. The issue asks for 20 s per level; ``SWITCHBOARD_BENCH_SECONDS`` (default 8)
keeps ``make bench`` under 10 minutes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from tests.benchmarks.servers import (
    REDIS_URL,
    bench_env,
    flush_redis,
    gunicorn,
    import_scenario,
    invoice_body,
    load,
    post,
    row,
)

LEVELS = (1, 10, 50)
SECONDS_PER_LEVEL = float(os.environ.get("SWITCHBOARD_BENCH_SECONDS", "8"))
BENCHMARK = "B3 webhook ingest"


def run() -> list[dict[str, Any]]:
    body = invoice_body()
    with tempfile.TemporaryDirectory() as temp:
        floors = _floor(Path(temp) / "floor", body)
        rows = []
        for mode in ("embedded", "redis"):
            rows.extend(_product(Path(temp) / mode, mode, body, floors))
    return rows


def _floor(var_dir: Path, body: bytes) -> dict[int, dict[str, float]]:
    with gunicorn("floor_app", bench_env(var_dir)) as port:
        post(port, "/hooks/warm", body)
        return {level: load(port, "/hooks/x", body, level, SECONDS_PER_LEVEL) for level in LEVELS}


def _product(
    var_dir: Path, mode: str, body: bytes, floors: dict[int, dict[str, float]]
) -> list[dict[str, Any]]:
    from tests.benchmarks.bench_e2e import THREE_MODULES

    redis_url = REDIS_URL if mode == "redis" else None
    if redis_url:
        flush_redis(redis_url)
    env = bench_env(var_dir, redis_url)
    token = import_scenario(env, THREE_MODULES)
    rows, answered = [], 0
    with gunicorn("switchboard_app", env) as port:
        answered += post(port, f"/hooks/{token}", body) == 200
        for level in LEVELS:
            hooks, floor = (
                load(port, f"/hooks/{token}", body, level, SECONDS_PER_LEVEL),
                floors[level],
            )
            answered += hooks["ok"]
            rows.append(
                row(BENCHMARK, f"{mode} c={level} throughput", hooks["rps"], "req/s", floor["rps"])
            )
            for quantile in ("p50", "p99"):
                rows.append(
                    row(
                        BENCHMARK,
                        f"{mode} c={level} {quantile}",
                        hooks[quantile],
                        "ms",
                        floor[quantile],
                    )
                )
            rows.append(
                row(
                    BENCHMARK,
                    f"{mode} c={level} errors",
                    hooks["errors"],
                    "requests",
                    floor["errors"],
                )
            )
    rows.append(
        row(BENCHMARK, f"{mode} lost (200 but not stored)", answered - _stored(env), "requests")
    )
    if redis_url:
        flush_redis(redis_url)
    return rows


def _stored(env: dict[str, str]) -> int:
    from engine.config import Settings
    from engine.store import SqlStore

    store = SqlStore(Settings.from_env(env).database_url)
    try:
        return sum(store.count_queue(hook.id, status=None) for hook in store.list_webhooks())
    finally:
        store.close()


if __name__ == "__main__":
    from tests.benchmarks.__main__ import markdown

    print(markdown(run()))
