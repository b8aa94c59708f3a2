"""B8 in process: one 10,000-item webhook run through the product's WSGI app, without gunicorn.

The scenario and body of ``bench_items`` posted straight into the app ``switchboard serve``
builds (embedded: SQLite, queue threads started) through a hand-made WSGI environ, each answer
checked (9,013 items). The run itself goes to a queue thread (an Iterator and an aggregator:
not a run the accepting thread takes), so every figure counts both threads:

    .venv/bin/python -m tests.benchmarks.profile_items [runs]            # CPU a run
    .venv/bin/python -m tests.benchmarks.profile_items 5 --profile       # cProfile, each thread
    .venv/bin/python -m tests.benchmarks.profile_items --instructions    # callgrind, a run

CPU is ``time.process_time`` (every thread of the process), best and median of ``runs``.
``--instructions`` runs 2 posts under ``valgrind --tool=callgrind`` in a child process,
counting only inside the request's handling (the accepting thread's post and the queue
thread's ``RunOperations._execute``, each called through ``itertools.starmap`` so collection
toggles on ``starmap_next``: imports, warm-up and idle threads are left out), and prints the
instructions a run: a figure the machine's load does not move.
"""

from __future__ import annotations

import collections
import cProfile
import itertools
import json
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.benchmarks import bench_items
from tests.benchmarks.callgrind_roundtrip import environ
from tests.benchmarks.route_instructions import counted_in_starmap
from tests.benchmarks.servers import bench_env, import_scenario

MEASURED = 2
"""Posts counted by ``--instructions`` (after two unmeasured ones)."""


def product(var_dir: Path) -> tuple[Any, str]:
    """The app ``switchboard serve`` builds over a fresh store holding B8's scenario, and the
    scenario's webhook token."""
    from engine.config import Settings
    from engine.service import build_service
    from webui import create_app

    env = bench_env(var_dir)
    token = import_scenario(env, json.dumps(bench_items.BLUEPRINT))
    service = build_service(Settings.from_env(env))
    service.queue.start()
    return create_app({"SWITCHBOARD_SERVICE": service}), token


def post(app: Any, path: str, body: bytes, expected: int) -> None:
    """One B8 request, its answer checked."""
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses.append(status)

    answer = b"".join(app(environ(path, body), start_response))
    if not statuses[0].startswith("200") or len(json.loads(answer)["items"]) != expected:
        raise AssertionError(f"wrong answer: {statuses} {answer[:200]!r}")


def _wrap_runs(wrapper: Any) -> None:
    """Each run of the queue thread (``RunOperations._execute``) called through ``wrapper``."""
    from engine.service.runs import RunOperations

    original = RunOperations._execute

    def execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        return wrapper(lambda: original(self, *args, **kwargs))

    RunOperations._execute = execute  # type: ignore[method-assign]


def _in_starmap(call: Any) -> Any:
    """``call()`` inside ``starmap_next`` (callgrind's toggle)."""
    return next(itertools.starmap(call, [()]))


def main(argv: list[str]) -> None:
    flags = [a for a in argv if a.startswith("--")]
    numbers = [int(a) for a in argv if not a.startswith("--")]
    if "--instructions" in flags:
        print(f"{instructions() / MEASURED:,.0f} instructions a run")
        return
    runs = numbers[0] if numbers else 7
    profiler = cProfile.Profile(time.process_time) if "--profile" in flags else None
    runs_profiler = cProfile.Profile(time.process_time)  # the queue thread's, apart
    if profiler is not None:
        _wrap_runs(lambda call: runs_profiler.runcall(call))
    if "--child" in flags:
        _wrap_runs(_in_starmap)
    items = bench_items.payload()
    body = json.dumps(items).encode()
    expected = sum(1 for item in items["items"] if item["qty"] > 0)
    with tempfile.TemporaryDirectory() as temp:
        app, token = product(Path(temp) / "var")
        path = f"/hooks/{token}"
        for _ in range(2):  # warm: plans, caches, connections
            post(app, path, body, expected)
        if "--child" in flags:
            collections.deque(itertools.starmap(post, [(app, path, body, expected)] * MEASURED), 0)
            return
        if profiler is not None:
            for _ in range(runs):
                profiler.runcall(post, app, path, body, expected)
            for name, each in (("the accepting thread", profiler), ("the runs", runs_profiler)):
                print(f"=== {name}")
                stats = pstats.Stats(each)
                stats.sort_stats("cumulative").print_stats(50)
                stats.sort_stats("tottime").print_stats(30)
            return
        cpu = []
        for _ in range(runs):
            started = time.process_time()
            post(app, path, body, expected)
            cpu.append(time.process_time() - started)
    best, median = min(cpu) * 1000, statistics.median(cpu) * 1000
    print(f"CPU a run: best {best:.1f} ms, median {median:.1f} ms")


def instructions() -> int:
    """Instructions callgrind counted in ``MEASURED`` posts (``--child``)."""
    # 50 times slower under valgrind: the caller waits for the answer whatever it takes.
    return counted_in_starmap(
        ["-m", "tests.benchmarks.profile_items", "--child"],
        {"SWITCHBOARD_WEBHOOK_RESPONSE_TIMEOUT": "36000"},
    )


if __name__ == "__main__":
    main(sys.argv[1:])
