"""B6 in process: CPU per webhook → run → answer, without gunicorn and the load generator.

The same scenario and invoice as ``bench_roundtrip``, posted one at a time through Flask's
test client to the app ``switchboard serve`` builds (embedded: queue threads started, SQLite),
each answer checked. CPU is ``time.process_time`` of this whole process (the accepting thread
and whatever thread runs the scenario), so it compares A/B on a machine other work loads,
where wall-clock figures do not. The floor is the bare Flask app of the benchmark through the
same test client.

    .venv/bin/python -m tests.benchmarks.profile_roundtrip [requests] [repeats]
    .venv/bin/python -m tests.benchmarks.profile_roundtrip 300 1 --profile   # cProfile
    .venv/bin/python -m tests.benchmarks.profile_roundtrip 200 5 --threads=10   # concurrent

Prints the min and median CPU ms per request of ``repeats`` batches, and the SQL statements
one request makes (BEGIN and COMMIT included). With ``--threads=N`` each batch is posted by N
threads at once (as B6's c = 10), and the statements and commits per request are counted over
a concurrent batch (group commit shares transactions between requests).
"""

from __future__ import annotations

import cProfile
import json
import pstats
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.bench_roundtrip import BLUEPRINT, EXPECTED, INVOICE
from tests.benchmarks.servers import answer_floor_app, bench_env, import_scenario


def _product(var_dir: Path) -> tuple[Any, str, Any]:
    from engine.config import Settings
    from engine.service import build_service
    from webui import create_app

    env = bench_env(var_dir)
    token = import_scenario(env, json.dumps(BLUEPRINT))
    service = build_service(Settings.from_env(env))
    service.queue.start()
    return create_app({"SWITCHBOARD_SERVICE": service}), token, service


def _batch(client: Any, path: str, body: bytes, count: int, check: bool) -> float:
    started = time.process_time()
    for _ in range(count):
        answer = client.post(path, data=body, content_type="application/json")
        if check and (answer.status_code != 200 or json.loads(answer.data) != EXPECTED):
            raise AssertionError(f"wrong answer: {answer.status_code} {answer.data[:200]!r}")
    return (time.process_time() - started) * 1000 / count


def _concurrent(app: Any, path: str, body: bytes, count: int, threads: int) -> float:
    """``_batch`` by ``threads`` threads at once, each with its own client: CPU ms a request."""
    clients = [app.test_client() for _ in range(threads)]
    each = max(1, count // threads)
    started = time.process_time()
    posting = [
        threading.Thread(target=_batch, args=(client, path, body, each, True)) for client in clients
    ]
    for thread in posting:
        thread.start()
    for thread in posting:
        thread.join()
    return (time.process_time() - started) * 1000 / (each * threads)


def _traced(service: Any, post: Any) -> list[str]:
    """What SQLite executed while ``post()`` ran (every connection of the pool)."""
    from sqlalchemy import event

    seen: list[str] = []
    pool = service.store.engine.pool

    def trace(dbapi_connection: Any, *args: Any) -> None:
        dbapi_connection.set_trace_callback(seen.append)

    def untrace(dbapi_connection: Any, *args: Any) -> None:
        dbapi_connection.set_trace_callback(None)

    event.listen(pool, "checkout", trace)
    event.listen(pool, "checkin", untrace)
    post()
    time.sleep(0.3)  # a run thread's finish
    event.remove(pool, "checkout", trace)
    event.remove(pool, "checkin", untrace)
    return seen


def _statements(service: Any, client: Any, path: str, body: bytes) -> list[str]:
    """What SQLite executed for one request (``set_trace_callback``: SQLAlchemy's statements
    and the store's prepared ones alike, BEGIN and COMMIT included)."""
    from sqlalchemy import event

    seen: list[str] = []
    pool = service.store.engine.pool

    def trace(dbapi_connection: Any, *args: Any) -> None:
        dbapi_connection.set_trace_callback(seen.append)

    def untrace(dbapi_connection: Any, *args: Any) -> None:
        dbapi_connection.set_trace_callback(None)

    event.listen(pool, "checkout", trace)
    event.listen(pool, "checkin", untrace)
    client.post(path, data=body, content_type="application/json")
    time.sleep(0.3)  # a run thread's finish
    event.remove(pool, "checkout", trace)
    event.remove(pool, "checkin", untrace)
    return seen


def main(argv: list[str]) -> None:
    flags = [a for a in argv if a.startswith("--")]
    numbers = [int(a) for a in argv if not a.startswith("--")]
    count = numbers[0] if numbers else 200
    threads = next((int(a.split("=")[1]) for a in flags if a.startswith("--threads=")), 0)
    repeats = numbers[1] if len(numbers) > 1 else 5
    body = json.dumps(INVOICE).encode()
    floor = answer_floor_app().test_client()
    with tempfile.TemporaryDirectory() as temp:
        app, token, service = _product(Path(temp) / "var")
        client = app.test_client()
        path = f"/hooks/{token}"
        _batch(client, path, body, 50, True)  # warm: plans, caches, connections
        _batch(floor, "/hooks/x", body, 50, False)
        if "--profile" in flags:
            profiler = cProfile.Profile(time.process_time)  # CPU: not other threads' turns
            profiler.enable()
            _batch(client, path, body, count, True)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
            return
        ours, floors = [], []
        for _ in range(repeats):
            if threads:
                ours.append(_concurrent(app, path, body, count, threads))
            else:
                ours.append(_batch(client, path, body, count, True))
            floors.append(_batch(floor, "/hooks/x", body, count, False))
        if threads:
            seen = _traced(service, lambda: _concurrent(app, path, body, count, threads))
            done = max(1, count // threads) * threads
            commits = sum(1 for statement in seen if statement.strip().upper() == "COMMIT")
            print(
                f"{threads} threads: {len(seen) / done:.2f} statements, "
                f"{commits / done:.2f} commits per request ({done} requests)"
            )
        statements = _statements(service, client, path, body)
    print(f"product: min {min(ours):.3f} ms, median {statistics.median(ours):.3f} ms CPU/request")
    print(f"floor:   min {min(floors):.3f} ms, median {statistics.median(floors):.3f} ms")
    print(f"statements per request: {len(statements)}")
    for statement in statements:
        print("   ", " ".join(statement.split())[:110])


if __name__ == "__main__":
    main(sys.argv[1:])
