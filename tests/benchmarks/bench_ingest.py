"""B-ingest: webhook ingest on loopback against a bare Flask endpoint on the same server, and
webhook-to-finished latency, embedded (SQLite + InlineQueue).

The server runs in a child process (``python -m tests.benchmarks.bench_ingest SERVE …``) built
exactly as ``switchboard serve`` builds it, plus ``/bench/floor`` that only answers 200.
"""

from __future__ import annotations

import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

LEVELS = (1, 10, 50)
SECONDS_PER_LEVEL = 5.0
LATENCY_SAMPLES = 50
REPO = Path(__file__).resolve().parents[2]


def run() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as temp:
        env = _env(Path(temp) / "var")
        token = _import_scenario(env)
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.benchmarks.bench_ingest", "SERVE", str(port)],
            env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(port)
            rows = _ingest_rows(port, token)
            rows.append(_latency_row(port, token, Path(temp) / "var"))
        finally:
            server.terminate()
            server.wait(30)
    return rows


def _ingest_rows(port: int, token: str) -> list[dict[str, Any]]:
    rows = []
    for level in LEVELS:
        floor = _load(port, "/bench/floor", level)
        hooks = _load(port, f"/hooks/{token}", level)
        rows.append(_row(f"webhook ingest c={level}", hooks["rps"], "req/s", floor["rps"]))
        for quantile in ("p50", "p99"):
            rows.append(_row(f"webhook ingest {quantile} c={level}", hooks[quantile], "ms",
                             floor[quantile]))
    return rows


def _row(metric: str, value: float, unit: str, floor: float | None) -> dict[str, Any]:
    ratio = None if not floor else value / floor
    return {"benchmark": "ingest", "metric": metric, "value": value, "unit": unit,
            "floor": floor, "ratio": ratio}


def _load(port: int, path: str, concurrency: int) -> dict[str, float]:
    """POST to ``path`` from ``concurrency`` threads for ``SECONDS_PER_LEVEL``."""
    latencies: list[float] = []
    guard = threading.Lock()
    stop_at = time.perf_counter() + SECONDS_PER_LEVEL

    def client() -> None:
        mine = []
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            _post(port, path, b'{"n": 1}')
            mine.append((time.perf_counter() - started) * 1000)
        with guard:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return {"rps": len(latencies) / elapsed, "p50": cuts[49], "p99": cuts[98]}


def _post(port: int, path: str, body: bytes) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", path, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}")
        return response.status
    finally:
        connection.close()


def _latency_row(port: int, token: str, var_dir: Path) -> dict[str, Any]:
    """One webhook at a time, from POST to its execution stored as finished."""
    from engine.store import ExecutionStatus, SqlStore

    store = SqlStore(f"sqlite:///{var_dir / 'switchboard.db'}")
    try:
        _wait_idle(store)
        samples = []
        for _ in range(LATENCY_SAMPLES):
            before = store.count_executions(status=ExecutionStatus.SUCCESS)
            started = time.perf_counter()
            _post(port, f"/hooks/{token}", b'{"n": 2}')
            while store.count_executions(status=ExecutionStatus.SUCCESS) == before:
                time.sleep(0.0005)
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        store.close()
    return _row("webhook to finished p50 (embedded)", statistics.median(samples), "ms", None)


def _wait_idle(store: Any, timeout: float = 300) -> None:
    """Let the ingest levels' backlog drain before measuring one webhook at a time."""
    from engine.store import ExecutionStatus

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = store.count_executions(status=ExecutionStatus.QUEUED) + store.count_executions(
            status=ExecutionStatus.RUNNING)
        if not busy and _queued_requests(store) == 0:
            return
        time.sleep(0.5)


def _queued_requests(store: Any) -> int:
    return sum(store.count_queue(hook.id) for hook in store.list_webhooks())


def _env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.update({"SWITCHBOARD_VAR_DIR": str(var_dir),
                "SWITCHBOARD_WEBHOOK_RATE_LIMIT": "100000000",
                "SWITCHBOARD_WEBHOOK_QUEUE_LIMIT": "100000000"})
    return env


def _import_scenario(env: dict[str, str]) -> str:
    from engine.config import Settings
    from engine.queue import InlineQueue
    from engine.service import build_service, shutdown_service
    from tests.service.blueprints import HOOK_TO_VARIABLE

    service = build_service(Settings.from_env(env), queue=InlineQueue(), upgrade=True)
    try:
        return service.import_scenario(HOOK_TO_VARIABLE, active=True).webhooks[0].token
    finally:
        shutdown_service(service)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, timeout: float = 30) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the bench server did not start on port {port}")


def _serve(port: int) -> None:
    """The child: ``switchboard serve``'s app plus the floor endpoint, same threaded server."""
    import logging

    from werkzeug.serving import make_server

    from engine.config import Settings
    from engine.scheduler import SchedulerThread
    from engine.service import build_service
    from webui import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    service = build_service(Settings.from_env())
    service.queue.start()
    SchedulerThread(service.tick, service.options.tick_seconds).start()
    app = create_app({"SWITCHBOARD_SERVICE": service})
    app.add_url_rule("/bench/floor", "floor", lambda: ("", 200), methods=["POST"])
    make_server("127.0.0.1", port, app, threaded=True).serve_forever()


if __name__ == "__main__":
    if sys.argv[1:2] == ["SERVE"]:
        _serve(int(sys.argv[2]))
    else:
        from tests.benchmarks.__main__ import markdown

        print(markdown(run()))
