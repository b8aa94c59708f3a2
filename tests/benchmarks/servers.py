"""What the ingest (B3) and end-to-end (B4) benchmarks share: gunicorn servers, Celery workers,
a threaded HTTP load generator and the invoice they post.

Both the product and its floor (a bare Flask app answering 200) are served by **gunicorn**
subprocesses with identical settings (``GUNICORN``), so the ratio is the product's own cost per
request. Factories: ``tests.benchmarks.servers:switchboard_app()`` (built as ``switchboard
serve`` builds it: embedded queue threads and scheduler without Redis, ingress only with it)
and ``tests.benchmarks.servers:floor_app()``.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GUNICORN = [
    "--worker-class",
    "gthread",
    "--workers",
    "1",
    "--threads",
    "16",
    "--backlog",
    "2048",
    "--log-level",
    "warning",
]
"""Same for product and floor. One worker process: embedded, the queue threads live in it."""
REDIS_URL = os.environ.get("SWITCHBOARD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
"""A dedicated Redis database number, flushed before each Celery benchmark."""
POSTGRES_URL = os.environ.get(
    "SWITCHBOARD_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
"""The store of the Celery deployments (a private schema), as production pairs them."""


def invoice_body() -> bytes:
    """A ~2 KB JSON invoice (header and 16 lines)."""
    rng = random.Random(7)
    lines = [
        {
            "sku": f"SKU-{i:04d}",
            "description": f"Widget model {i} in blue",
            "qty": rng.randint(1, 9),
            "unit_price": round(rng.uniform(1, 200), 2),
            "tax_rate": 0.2,
        }
        for i in range(16)
    ]
    invoice = {
        "n": 1,
        "invoice": "INV-2026-00042",
        "customer": {"id": 1042, "name": "Ada Lovelace", "email": "ada@example.test"},
        "currency": "EUR",
        "issued": "2026-11-23",
        "lines": lines,
    }
    body = json.dumps(invoice).encode()
    assert 1500 < len(body) < 2600, len(body)
    return body


def bench_env(var_dir: Path, redis_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.update(
        {
            "SWITCHBOARD_VAR_DIR": str(var_dir),
            "SWITCHBOARD_WEBHOOK_RATE_LIMIT": "100000000",
            "SWITCHBOARD_WEBHOOK_QUEUE_LIMIT": "100000000",
            "PYTHONPATH": str(REPO),
        }
    )
    if redis_url:
        env["SWITCHBOARD_REDIS_URL"] = redis_url
    return env


@contextmanager
def postgres_schema(env: dict[str, str]) -> Iterator[bool]:
    """Point ``env`` at a private schema on the PostgreSQL of ``POSTGRES_URL`` (dropped after);
    yields False (``env`` untouched: SQLite) when that server is not reachable."""
    import uuid

    import sqlalchemy

    schema = f"sb_bench_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except sqlalchemy.exc.OperationalError:
        admin.dispose()
        yield False
        return
    url = sqlalchemy.engine.make_url(POSTGRES_URL).update_query_dict(
        {"options": f"-csearch_path={schema}"}
    )
    env["SWITCHBOARD_DATABASE_URL"] = url.render_as_string(hide_password=False)
    try:
        yield True
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def import_scenario(env: dict[str, str], blueprint: str) -> str:
    """Import ``blueprint`` active into the store of ``env``; return its webhook token."""
    from engine.config import Settings
    from engine.queue import InlineQueue
    from engine.service import build_service, shutdown_service

    service = build_service(Settings.from_env(env), queue=InlineQueue(), upgrade=True)
    try:
        return service.import_scenario(blueprint, active=True).webhooks[0].token
    finally:
        shutdown_service(service)


def switchboard_app() -> Any:
    """gunicorn factory: the product's WSGI app, its service started like ``switchboard serve``."""
    from engine.config import Settings
    from engine.scheduler import SchedulerThread
    from engine.service import build_service
    from webui import create_app

    settings = Settings.from_env()
    service = build_service(settings)
    service.queue.start()
    if settings.redis_url is None:
        SchedulerThread(service.tick, service.options.tick_seconds).start()
    return create_app({"SWITCHBOARD_SERVICE": service})


def switchboard_app_with_heap_probe() -> Any:
    """gunicorn factory: ``switchboard_app()`` with ``GET /_bench/heap`` (B8): what the worker
    keeps after a full collection, as JSON (``heap_figures``). Only the benchmark serves it."""
    app = switchboard_app()

    def probed(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") != "/_bench/heap":
            return app(environ, start_response)
        body = json.dumps(heap_figures()).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    return probed


def heap_figures() -> dict[str, float]:
    """What this process keeps, after ``gc.collect()``: the objects the cyclic collector
    tracks (frozen ones included), the memory blocks Python's allocator has handed out (any
    size), and the bytes malloc has handed out and not had back (``mallinfo2``: glibc; -1
    elsewhere). Unlike RSS, none of them counts memory the allocator keeps free, so they move
    only with what is held."""
    import gc

    gc.collect()
    return {
        "tracked_objects": len(gc.get_objects()) + gc.get_freeze_count(),
        "python_blocks": sys.getallocatedblocks(),
        "malloc_mb": malloc_in_use() / 1e6,
    }


def malloc_in_use() -> int:
    """glibc's bytes allocated and not freed (``uordblks + hblkhd`` of ``mallinfo2``, every
    arena); -1 where there is no ``mallinfo2``."""
    import ctypes

    class Mallinfo2(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_size_t)
            for name in (
                "arena",
                "ordblks",
                "smblks",
                "hblks",
                "hblkhd",
                "usmblks",
                "fsmblks",
                "uordblks",
                "fordblks",
                "keepcost",
            )
        ]

    try:
        mallinfo2 = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return -1
    mallinfo2.restype = Mallinfo2
    info = mallinfo2()
    return int(info.uordblks + info.hblkhd)


def heap_probe(port: int) -> dict[str, float]:
    """``heap_figures()`` of the server on ``port`` (``switchboard_app_with_heap_probe``)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", "/_bench/heap")
        response = connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"the heap probe answered {response.status}")
        figures: dict[str, float] = json.loads(response.read())
        return figures
    finally:
        connection.close()


def trend(runs: list[int], values: list[float]) -> tuple[float, float]:
    """The least-squares slope of ``values`` over ``runs`` (per run) and its standard error:
    growth is a slope several standard errors above zero; noise, one within ~2 of it."""
    slope, intercept = statistics.linear_regression(runs, values)
    residuals = [value - (intercept + slope * run) for run, value in zip(runs, values, strict=True)]
    mean = statistics.fmean(runs)
    spread = sum((run - mean) ** 2 for run in runs)
    variance = sum(residual**2 for residual in residuals) / (len(runs) - 2)
    return slope, (variance / spread) ** 0.5


def answer_floor_app() -> Any:
    """gunicorn factory: a bare Flask app that reads the body and answers a fixed JSON (B6)."""
    from flask import Flask, Response, request

    app = Flask("answer_floor")
    fixed = json.dumps({"ok": True, "id": "INV-2026-000123"})

    @app.post("/hooks/<token>")
    def answer(token: str) -> Response:
        request.get_data()
        return Response(fixed, status=200, mimetype="application/json")

    return app


def floor_app() -> Any:
    """gunicorn factory: a bare Flask app that reads the body and answers 200."""
    from flask import Flask, request

    app = Flask("floor")

    @app.post("/hooks/<token>")
    def accept(token: str) -> tuple[str, int]:
        request.get_data()
        return "Accepted", 200

    return app


@contextmanager
def gunicorn(factory: str, env: dict[str, str]) -> Iterator[int]:
    """Serve ``tests.benchmarks.servers:<factory>()`` on a free loopback port; yield the port."""
    with gunicorn_process(factory, env) as (port, _pid):
        yield port


@contextmanager
def gunicorn_process(factory: str, env: dict[str, str]) -> Iterator[tuple[int, int]]:
    """``gunicorn`` yielding the port and the arbiter's pid (its workers are its children)."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            *GUNICORN,
            "--bind",
            f"127.0.0.1:{port}",
            f"tests.benchmarks.servers:{factory}()",
        ],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=open(Path(env["SWITCHBOARD_VAR_DIR"]).parent / f"{factory}.log", "ab"),  # noqa: SIM115
    )
    try:
        wait_for(port, process)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(30)


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and every live descendant (from ``/proc``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    return sum((int(stat[11]) + int(stat[12])) / ticks for stat in _tree_stats(pid))


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and every live descendant, in MiB (from ``/proc``)."""
    page = os.sysconf("SC_PAGE_SIZE")
    return sum(int(stat[21]) for stat in _tree_stats(pid)) * page / 2**20


def _tree_stats(pid: int) -> list[list[str]]:
    """The ``/proc/<pid>/stat`` fields after the command name (``state`` first) of ``pid``
    and its live descendants."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # the process ended meanwhile
        child = int(entry.name)
        children.setdefault(int(fields[1]), []).append(child)
        stats[child] = fields
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        if current in stats:
            found.append(stats[current])
        pending.extend(children.get(current, ()))
    return found


def stored_value(env: dict[str, str], sql: str) -> Any:
    """The one value ``sql`` selects from the store of ``env`` (a benchmark's own check)."""
    import sqlalchemy

    from engine.config import Settings

    engine = sqlalchemy.create_engine(Settings.from_env(env).database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sqlalchemy.text(sql)).scalar_one()
    finally:
        engine.dispose()


@contextmanager
def celery_workers(env: dict[str, str], processes: int, pool: str = "prefork") -> Iterator[int]:
    """One ``celery worker`` with ``processes`` prefork children (or, with ``pool="threads"``,
    that many threads) on the benchmark's Redis; yields its pid."""
    process = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "engine.celery_app",
            "worker",
            f"--pool={pool}",
            f"--concurrency={processes}",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(3.0)  # the prefork children import the product
        yield process.pid
    finally:
        process.terminate()
        process.wait(60)


@contextmanager
def switchboard_worker(env: dict[str, str]) -> Iterator[int]:
    """``switchboard worker`` with its defaults, the production command itself (threads,
    its run slots for this machine, its log level and events); yields its pid."""
    process = subprocess.Popen(
        [str(BIN / "switchboard"), "worker"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(3.0)  # it imports the product
        yield process.pid
    finally:
        process.terminate()
        process.wait(60)


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def load(port: int, path: str, body: bytes, concurrency: int, seconds: float) -> dict[str, float]:
    """POST ``body`` to ``path`` from ``concurrency`` threads for ``seconds``, one connection
    per request. Returns rps (answered 200), p50/p99 ms, errors, ok."""
    latencies: list[float] = []
    errors = [0]
    guard = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client() -> None:
        mine, failed = [], 0
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            if post(port, path, body) == 200:
                mine.append((time.perf_counter() - started) * 1000)
            else:
                failed += 1
        with guard:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "rps": len(latencies) / elapsed,
        "p50": cuts[49],
        "p99": cuts[98],
        "errors": errors[0],
        "ok": len(latencies),
    }


def post(port: int, path: str, body: bytes) -> int:
    """The status of one POST, or 0 when the connection failed."""
    return post_for_answer(port, path, body)[0]


def post_for_answer(port: int, path: str, body: bytes, timeout: float = 30) -> tuple[int, bytes]:
    """The status and body of one POST of JSON; ``(0, b"")`` when the connection failed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", path, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    except OSError:
        return 0, b""
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Until the server on ``port`` answers an HTTP request (any status under 500: a floor
    app answers 404 to ``GET /``), as the peers harness's ``wait_ready`` does. An open port
    is not enough: gunicorn's arbiter listens before its worker has built the app, and under
    load B4's first POST timed out while the worker was still importing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the bench server exited with {process.returncode}")
        if 0 < answer_status(port, min(10.0, max(0.1, deadline - time.monotonic()))) < 500:
            return
        time.sleep(0.2)
    raise RuntimeError(f"the bench server on port {port} did not answer within {timeout:g} s")


def answer_status(port: int, timeout: float) -> int:
    """The status of ``GET /`` on ``port``; 0 when nothing answered within ``timeout``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        connection.close()


def row(
    benchmark: str,
    metric: str,
    value: float,
    unit: str,
    floor: float | None = None,
    ratio: float | None = None,
) -> dict[str, Any]:
    if ratio is None and floor:
        ratio = value / floor
    return {
        "benchmark": benchmark,
        "metric": metric,
        "value": value,
        "unit": unit,
        "floor": floor,
        "ratio": ratio,
    }
