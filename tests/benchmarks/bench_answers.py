"""B7 slow answers and a lost broker: what callers and queued requests wait for.

*Answers*: ``CALLERS`` callers post for ``SECONDS`` (``SWITCHBOARD_BENCH_ANSWER_SECONDS``,
default 20) to a scenario that pauses 0.5 s and answers with *Webhook response*; ``SLOTS`` runs
go on at once, so the queue makes callers wait several seconds. Counted: answers that were the
scenario's own (201) against all answers (the floor: every one should be), and how long callers
waited. Embedded (``switchboard serve``, inline run threads) and Celery (``switchboard serve``
and a ``celery worker`` with ``SLOTS`` threads on the Redis at ``servers.REDIS_URL``).

*Lost broker*: with the product's default tick (5 s) and grace period (15 s), ``WAITING``
requests wait in Redis while the worker is stopped (SIGSTOP), then Redis's database is flushed
and the worker continued (SIGCONT). Measured: seconds from the flush until each request was
claimed by a worker, worst and median. The floor is the same without the flush (seconds from
SIGCONT until claimed).
"""

from __future__ import annotations

import os
import signal
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from tests.benchmarks.servers import REDIS_URL, flush_redis, row
from tests.service.blueprints import HOOK_TO_VARIABLE, SLOW_RESPONDER
from tests.service.end_to_end import import_active_scenario, open_plain_store
from tests.service.processes import (
    Process,
    base_env,
    celery_worker,
    free_port,
    started_processes,
    switchboard,
    wait_for_http,
    wait_until,
)

BENCHMARK = "B7 slow answers, lost broker"
SECONDS = float(os.environ.get("SWITCHBOARD_BENCH_ANSWER_SECONDS", "20"))
CALLERS = 50
SLOTS = 4
PAUSE_SECONDS = 0.5
WAITING = 40
PRODUCT_DEFAULTS = {"SWITCHBOARD_TICK_SECONDS": "5", "SWITCHBOARD_DISPATCH_GRACE_SECONDS": "15"}


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as temp:
        for deployment in ("embedded", "celery"):
            rows += _answers(Path(temp) / deployment, deployment)
        rows += _lost_broker(Path(temp) / "lost")
    return rows


# -- answers -----------------------------------------------------------------------------------


def _answers(var_dir: Path, deployment: str) -> list[dict[str, Any]]:
    celery = deployment == "celery"
    env = base_env(
        var_dir / "var",
        SWITCHBOARD_INLINE_WORKERS=str(SLOTS),
        SWITCHBOARD_WEBHOOK_RESPONSE_TIMEOUT="60",
        **({"SWITCHBOARD_REDIS_URL": REDIS_URL} if celery else {}),
    )
    _, token = import_active_scenario(env, SLOW_RESPONDER)
    with _redis_flushed(celery), started_processes() as processes:
        port = free_port()
        processes.append(switchboard("serve", ["serve", "--port", str(port)], env, var_dir))
        if celery:
            processes.append(celery_worker(env, var_dir, concurrency=SLOTS))
        wait_for_http(port)
        url = f"http://127.0.0.1:{port}/hooks/{token}"
        _call(url, 0)  # warm up: plan compiled, worker ready
        results = _callers(url)
    own = [seconds for own, seconds in results if own]
    waits = sorted(seconds for _, seconds in results)
    label = f"{deployment}, {CALLERS} callers, runs of {PAUSE_SECONDS:g} s"
    return [
        row(BENCHMARK, f"{label}: the scenario's own answers (floor: all answers)",
            len(own), "answers", floor=len(results)),
        row(BENCHMARK, f"{label}: wait for an answer p50", statistics.median(waits), "s"),
        row(BENCHMARK, f"{label}: wait for an answer max", waits[-1], "s"),
    ]  # fmt: skip


def _callers(url: str) -> list[tuple[bool, float]]:
    """Every caller posts, waits for its answer, posts again, until ``SECONDS`` are over."""
    results: list[tuple[bool, float]] = []
    guard = threading.Lock()
    stop_at = time.monotonic() + SECONDS

    def caller(number: int) -> None:
        n = number
        while time.monotonic() < stop_at:
            answer = _call(url, n)
            with guard:
                results.append(answer)
            n += CALLERS

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _call(url: str, n: int) -> tuple[bool, float]:
    """(whether the answer was the scenario's own, seconds waited)."""
    started = time.monotonic()
    payload = {"n": n, "pause": PAUSE_SECONDS}
    with requests.post(url, json=payload, timeout=120) as response:
        own = (response.status_code, response.text) == (201, f"got {n}")
    return own, time.monotonic() - started


# -- a lost broker -----------------------------------------------------------------------------


def _lost_broker(var_dir: Path) -> list[dict[str, Any]]:
    env = base_env(var_dir / "var", SWITCHBOARD_REDIS_URL=REDIS_URL, **PRODUCT_DEFAULTS)
    webhook_id, token = import_active_scenario(env, HOOK_TO_VARIABLE)
    store = open_plain_store(var_dir / "var")
    with _redis_flushed(True), started_processes() as processes:
        port = free_port()
        processes.append(switchboard("serve", ["serve", "--port", str(port)], env, var_dir))
        processes.append(switchboard("scheduler", ["scheduler"], env, var_dir))
        worker = celery_worker(env, var_dir)
        processes.append(worker)
        wait_for_http(port)
        url = f"http://127.0.0.1:{port}/hooks/{token}"
        floor = _pickup_after(store, webhook_id, url, worker, flush=False)
        lost = _pickup_after(store, webhook_id, url, worker, flush=True)
    store.close()
    label = f"{WAITING} requests waiting in Redis, tick 5 s, grace 15 s"
    return [
        row(BENCHMARK, f"{label}: flushed, picked up after the flush, worst (floor: not flushed)",
            max(lost), "s", floor=max(floor)),
        row(BENCHMARK, f"{label}: flushed, picked up after the flush, median",
            statistics.median(lost), "s", floor=statistics.median(floor)),
    ]  # fmt: skip


def _pickup_after(
    store: Any, webhook_id: int, url: str, worker: Process, *, flush: bool
) -> list[float]:
    """Seconds from the moment the worker could take them again (after the flush, if any)
    until each of ``WAITING`` requests, posted while the worker was stopped, was claimed."""
    _call_plain(url, range(5))  # warm up: the worker takes requests, a tick has marked Redis
    wait_until(lambda: not _waiting(store, webhook_id), 60, "the warm-up requests")
    wait_until(lambda: _marked(), 60, "a tick to have marked Redis")
    newest = max(item.id for item in _items(store, webhook_id))
    with _stopped(worker):
        _call_plain(url, range(WAITING))
        time.sleep(0.5)
        if flush:
            flush_redis(REDIS_URL)
        resumed = datetime.now(UTC)
    wait_until(lambda: not _waiting(store, webhook_id), 120, "every request to be claimed")
    claimed = [item.claimed_at for item in _items(store, webhook_id) if item.id > newest]
    return [(_aware(moment) - resumed).total_seconds() for moment in claimed]


@contextmanager
def _stopped(worker: Process) -> Iterator[None]:
    os.killpg(worker.popen.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(worker.popen.pid, signal.SIGCONT)


def _call_plain(url: str, numbers: range) -> None:
    with requests.Session() as session:
        for n in numbers:
            with session.post(url, json={"n": n}, timeout=30) as response:
                assert response.status_code == 200, response.status_code


def _items(store: Any, webhook_id: int) -> list[Any]:
    return store.list_queue(webhook_id, status=None, limit=100_000)


def _waiting(store: Any, webhook_id: int) -> int:
    from engine.store import QueueItemStatus

    return store.count_queue(webhook_id, status=QueueItemStatus.QUEUED)


def _marked() -> bool:
    import redis

    from engine.queue.celery_queue import BROKER_MARK

    with redis.Redis.from_url(REDIS_URL) as client:
        return bool(client.exists(BROKER_MARK))


def _aware(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@contextmanager
def _redis_flushed(used: bool) -> Iterator[None]:
    if used:
        flush_redis(REDIS_URL)
    try:
        yield
    finally:
        if used:
            flush_redis(REDIS_URL)


if __name__ == "__main__":
    from tests.benchmarks.__main__ import markdown

    print(markdown(run()))
