"""B6 webhook → run → answer, end to end: what a caller of a scenario that answers feels.

The scenario maps 5 fields of a ~2 KB invoice into JSON (``json:CreateJSON``) and answers it
(``gateway:WebhookRespond``); every request is stored durably before it runs and its execution
is recorded. Load: closed loop on loopback at c = 10 for ``SWITCHBOARD_BENCH_SECONDS``, one
connection per request, each answer checked (the 5 mapped fields) before it counts.

Floor: a bare Flask app that reads the body and answers a fixed JSON, under the same gunicorn
settings (``servers.GUNICORN``). CPU per request is the CPU time of the server's whole process
tree (and the Celery worker's, in that deployment) over the measurement, divided by the
answered requests. ``lost``: answered requests without a finished execution in the store.
Deployments: embedded (SQLite, the run in the web process) and Celery (one worker process on
Redis, started by ``switchboard worker`` itself with its defaults: threads, twice the CPUs in
run slots, WARNING logging, no worker events; the store on PostgreSQL), whose CPU per
request is also given for the web and the worker process apart.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.benchmarks.servers import (
    REDIS_URL,
    bench_env,
    flush_redis,
    gunicorn_process,
    import_scenario,
    post_for_answer,
    postgres_schema,
    row,
    stored_value,
    switchboard_worker,
    tree_cpu_seconds,
)

BENCHMARK = "B6 webhook → run → answer"
CONCURRENCY = 10
SECONDS = float(os.environ.get("SWITCHBOARD_BENCH_SECONDS", "8"))

INVOICE: dict[str, Any] = {
    "invoice_id": "INV-2026-000123",
    "type": "ACCREC",
    "status": "AUTHORISED",
    "date": "2026-11-22",
    "due_date": "2026-12-22",
    "currency": "NZD",
    "reference": "PO-77881",
    "contact": {
        "id": "c-1f2e3d",
        "name": "Acme Widgets Ltd",
        "email": "accounts@acme.example",
        "phone": "+64 9 555 0101",
        "address": {"line1": "12 Queen St", "city": "Auckland", "postcode": "1010"},
    },
    "line_items": [
        {
            "line_no": n,
            "sku": f"sku-{10000 + 7 * n}",
            "description": f"Widget model {100 + n} blue, boxed",
            "qty": n + 1,
            "unit_price": 12.5 * n,
            "tax_rate": 0.15,
            "account_code": "200",
        }
        for n in range(10)
    ],
    "subtotal": 4125.0,
    "notes": "Thank you for your business. Payment by bank transfer.",
}
EXPECTED = {
    "id": "INV-2026-000123",
    "customer": "Acme Widgets Ltd",
    "email": "accounts@acme.example",
    "total": 4125,
    "currency": "NZD",
}

BLUEPRINT = {
    "name": "B6 map 5 fields and answer",
    "flow": [
        {"id": 1, "module": "gateway:CustomWebHook", "version": 1, "parameters": {"hook": 1}},
        {
            "id": 2,
            "module": "json:CreateJSON",
            "version": 1,
            "parameters": {"space": ""},
            "mapper": {
                "id": "{{1.invoice_id}}",
                "customer": "{{1.contact.name}}",
                "email": "{{1.contact.email}}",
                "total": "{{1.subtotal}}",
                "currency": "{{1.currency}}",
            },
        },
        {
            "id": 3,
            "module": "gateway:WebhookRespond",
            "version": 1,
            "mapper": {
                "status": "200",
                "body": "{{2.json}}",
                "headers": [{"key": "content-type", "value": "application/json"}],
            },
        },
    ],
    "metadata": {"version": 1, "instant": True, "scenario": {"roundtrips": 1}},
}


def run() -> list[dict[str, Any]]:
    body = json.dumps(INVOICE).encode()
    with tempfile.TemporaryDirectory() as temp:
        floor = _floor(Path(temp) / "floor", body)
        rows = _rows("floor (bare Flask, fixed answer)", floor, None)
        rows += _rows("embedded", _embedded(Path(temp) / "embedded", body), floor)
        rows += _rows("celery 1 worker", _celery(Path(temp) / "celery", body), floor)
    return rows


def _rows(
    deployment: str, measured: dict[str, Any], floor: dict[str, Any] | None
) -> list[dict[str, Any]]:
    rps_floor = floor["rps"] if floor else None
    cpu_floor = floor["cpu_ms"] if floor else None
    rows = [
        row(BENCHMARK, f"{deployment} c={CONCURRENCY} throughput", measured["rps"], "req/s"),
        row(BENCHMARK, f"{deployment} CPU per request", measured["cpu_ms"], "ms"),
        row(BENCHMARK, f"{deployment} p50", measured["p50"], "ms"),
        row(BENCHMARK, f"{deployment} errors or wrong answers", measured["errors"], "requests"),
    ]
    for part, cpu_ms in measured.get("cpu_parts", {}).items():
        rows.append(row(BENCHMARK, f"{deployment} CPU per request: {part}", cpu_ms, "ms"))
    if floor is not None:
        rows[0].update(floor=rps_floor, ratio=measured["rps"] / rps_floor)
        rows[1].update(floor=cpu_floor, ratio=measured["cpu_ms"] / cpu_floor)
        rows.append(row(BENCHMARK, f"{deployment} lost", measured["lost"], "requests"))
    return rows


def _floor(var_dir: Path, body: bytes) -> dict[str, float]:
    with gunicorn_process("answer_floor_app", bench_env(var_dir)) as (port, pid):
        post_for_answer(port, "/hooks/warm", body)
        return _measure(port, "/hooks/x", body, [pid], check=False)


def _embedded(var_dir: Path, body: bytes) -> dict[str, float]:
    env = bench_env(var_dir)
    token = import_scenario(env, json.dumps(BLUEPRINT))
    with gunicorn_process("switchboard_app", env) as (port, pid):
        post_for_answer(port, f"/hooks/{token}", body)
        measured = _measure(port, f"/hooks/{token}", body, [pid])
    measured["lost"] = measured["answered"] + 1 - _finished_executions(env)
    return measured


def _celery(var_dir: Path, body: bytes) -> dict[str, Any]:
    flush_redis(REDIS_URL)
    env = bench_env(var_dir, REDIS_URL)
    with postgres_schema(env) as on_postgres:
        if not on_postgres:
            raise RuntimeError("B6's Celery deployment needs PostgreSQL on 127.0.0.1:5432")
        token = import_scenario(env, json.dumps(BLUEPRINT))
        with (
            gunicorn_process("switchboard_app", env) as (port, pid),
            _worker_pid(env) as worker,
        ):
            post_for_answer(port, f"/hooks/{token}", body)
            measured = _measure(port, f"/hooks/{token}", body, [pid, worker])
            web, worker_cpu = measured.pop("cpu_ms_0"), measured.pop("cpu_ms_1")
            measured["cpu_parts"] = {"web": web, "worker": worker_cpu}
        measured["lost"] = measured["answered"] + 1 - _finished_executions(env)
    flush_redis(REDIS_URL)
    return measured


@contextmanager
def _worker_pid(env: dict[str, str]) -> Iterator[int]:
    """One worker process, started by ``switchboard worker`` with its defaults: what
    production runs is what B6 measures."""
    with switchboard_worker(env) as pid:
        yield pid


def _measure(
    port: int, path: str, body: bytes, pids: list[int], *, check: bool = True
) -> dict[str, Any]:
    """c = ``CONCURRENCY`` closed-loop clients for ``SECONDS``; each answer checked."""
    latencies: list[float] = []
    errors = [0]
    guard = threading.Lock()
    stop_at = time.perf_counter() + SECONDS

    def client() -> None:
        mine, failed = [], 0
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            status, answer = post_for_answer(port, path, body)
            if status == 200 and (not check or _right(answer)):
                mine.append((time.perf_counter() - started) * 1000)
            else:
                failed += 1
        with guard:
            latencies.extend(mine)
            errors[0] += failed

    cpu_before = [tree_cpu_seconds(pid) for pid in pids]
    threads = [threading.Thread(target=client) for _ in range(CONCURRENCY)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu = [tree_cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True)]
    latencies.sort()
    answered = len(latencies)
    parts = {f"cpu_ms_{n}": each * 1000 / max(answered, 1) for n, each in enumerate(cpu)}
    return {
        **parts,
        "rps": answered / elapsed,
        "cpu_ms": sum(cpu) * 1000 / max(answered, 1),
        "p50": latencies[answered // 2] if answered else 0.0,
        "errors": errors[0],
        "answered": answered,
    }


def _right(answer: bytes) -> bool:
    try:
        return json.loads(answer) == EXPECTED
    except ValueError:
        return False


def _finished_executions(env: dict[str, str]) -> int:
    return stored_value(env, "SELECT count(*) FROM executions WHERE status = 'success'")


if __name__ == "__main__":
    from tests.benchmarks.__main__ import markdown

    print(markdown(run()))
