"""B4 end to end: webhook → 3-module scenario → execution stored as finished.

Latency: one 2 KB invoice at a time, from the POST until the store counts one more successful
execution (p50/p99). Sustained: ``BURST`` invoices posted from 10 threads, executions/s until
the last is finished. Deployments: embedded (gunicorn, SQLite, in-process queue threads) and
Celery + Redis with one and two worker processes (a real ``celery worker`` on the Redis at
``servers.REDIS_URL``, a dedicated database number) and the store on PostgreSQL (a private
schema; SQLite when the server is unreachable), as a scaled deployment pairs them.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from tests.benchmarks.servers import (
    REDIS_URL,
    bench_env,
    celery_workers,
    flush_redis,
    gunicorn,
    import_scenario,
    invoice_body,
    post,
    postgres_schema,
    row,
)
from tests.service.blueprints import blueprint, module, set_variable, webhook_trigger

THREE_MODULES = blueprint(
    webhook_trigger(),
    set_variable(2, "{{1.n}}"),
    {
        **module(3, "util:SetVariable2"),
        "mapper": {
            "name": "invoice",
            "scope": "roundtrip",
            "value": "{{upper(1.invoice)}} {{1.customer.name}} {{length(1.lines)}}",
        },
    },
    name="B4 webhook to 3 modules",
)
LATENCY_SAMPLES = int(os.environ.get("SWITCHBOARD_BENCH_SAMPLES", "40"))
BURST = int(os.environ.get("SWITCHBOARD_BENCH_BURST", "200"))
BENCHMARK = "B4 end to end"


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    sustained: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as temp:
        for label, workers in (("embedded", 0), ("celery 1 worker", 1), ("celery 2 workers", 2)):
            figures = _deployment(Path(temp) / f"w{workers}", workers)
            sustained[label] = figures["rate"]
            label = f"{label}, {'PostgreSQL' if figures.get('postgres') else 'SQLite'}"
            rows += [
                row(BENCHMARK, f"{label} webhook to finished p50", figures["p50"], "ms"),
                row(BENCHMARK, f"{label} webhook to finished p99", figures["p99"], "ms"),
                row(BENCHMARK, f"{label} sustained", figures["rate"], "executions/s"),
            ]
    one, two = sustained["celery 1 worker"], sustained["celery 2 workers"]
    rows.append(
        row(
            BENCHMARK,
            "celery 2 workers vs 1 (sustained; floor: 1 worker)",
            two / one,
            "x",
            floor=1.0,
            ratio=two / one,
        )
    )
    return rows


def _deployment(var_dir: Path, workers: int) -> dict[str, float]:
    redis_url = REDIS_URL if workers else None
    if redis_url:
        flush_redis(redis_url)
    env = bench_env(var_dir, redis_url)
    with postgres_schema(env) if workers else nullcontext(False) as on_postgres:
        token = import_scenario(env, THREE_MODULES)
        store = _store(env)
        try:
            with gunicorn("switchboard_app", env) as port:
                if workers:
                    with celery_workers(env, workers):
                        return {**_measure(port, token, store), "postgres": on_postgres}
                return _measure(port, token, store)
        finally:
            store.close()
            if redis_url:
                flush_redis(redis_url)


def _measure(port: int, token: str, store: Any) -> dict[str, float]:
    body, path = invoice_body(), f"/hooks/{token}"
    for _ in range(3):  # warm up: plans compiled, connections opened, workers forked
        _one(port, path, body, store)
    samples = sorted(_one(port, path, body, store) for _ in range(LATENCY_SAMPLES))
    cuts = statistics.quantiles(samples, n=100)
    return {
        "p50": statistics.median(samples),
        "p99": cuts[98],
        "rate": _sustained(port, path, body, store),
    }


def _one(port: int, path: str, body: bytes, store: Any) -> float:
    before = _finished(store)
    started = time.perf_counter()
    assert post(port, path, body) == 200
    while _finished(store) == before:
        time.sleep(0.001)
    return (time.perf_counter() - started) * 1000


def _sustained(port: int, path: str, body: bytes, store: Any) -> float:
    before = _finished(store)
    started = time.perf_counter()
    shares = [BURST // 10 + (1 if i < BURST % 10 else 0) for i in range(10)]

    def client(count: int) -> None:
        for _ in range(count):
            assert post(port, path, body) == 200

    threads = [threading.Thread(target=client, args=(n,)) for n in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deadline = time.monotonic() + 300
    while _finished(store) < before + BURST:
        if time.monotonic() > deadline:
            raise RuntimeError("the burst did not finish within 300 s")
        time.sleep(0.01)
    return BURST / (time.perf_counter() - started)


def _finished(store: Any) -> int:
    from engine.store import ExecutionStatus

    return store.count_executions(status=ExecutionStatus.SUCCESS)


def _store(env: dict[str, str]) -> Any:
    from engine.config import Settings
    from engine.store import SqlStore

    return SqlStore(Settings.from_env(env).database_url)


if __name__ == "__main__":
    from tests.benchmarks.__main__ import markdown

    print(markdown(run()))
