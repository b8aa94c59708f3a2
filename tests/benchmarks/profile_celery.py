"""B6's Celery deployment with the worker under cProfile: where a request's worker CPU goes.

Runs what ``bench_roundtrip`` runs for "celery 1 worker" (gunicorn + ``switchboard worker``,
PostgreSQL, Redis ``SWITCHBOARD_BENCH_REDIS_URL``), but starts the worker through this module,
which gives every thread of the worker its own ``cProfile.Profile`` (Celery's consumer loop
runs in the main thread, tasks in the pool's threads) and writes them merged at exit.
cProfile slows small calls down, so read shares, not times; the figures that count come from
``bench_roundtrip``.

    .venv/bin/python -m tests.benchmarks.profile_celery [seconds] [stats file]
"""

from __future__ import annotations

import atexit
import cProfile
import faulthandler
import json
import os
import pstats
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.benchmarks import bench_roundtrip
from tests.benchmarks.servers import (
    BIN,
    REDIS_URL,
    bench_env,
    flush_redis,
    gunicorn_process,
    import_scenario,
    post_for_answer,
    postgres_schema,
)

_STATS_ENV = "SWITCHBOARD_PROFILE_WORKER_STATS"


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 8.0
    stats = Path(sys.argv[2] if len(sys.argv) > 2 else "var/profile-celery-worker.prof").resolve()
    bench_roundtrip.SECONDS = seconds
    body = json.dumps(bench_roundtrip.INVOICE).encode()
    with tempfile.TemporaryDirectory() as temp:
        measured = _run(Path(temp) / "celery", body, stats)
    print({key: round(value, 2) for key, value in measured.items() if isinstance(value, float)})
    pstats.Stats(str(stats)).sort_stats("tottime").print_stats(40)
    pstats.Stats(str(stats)).sort_stats("cumulative").print_stats(60)


def _run(var_dir: Path, body: bytes, stats: Path) -> dict[str, Any]:
    flush_redis(REDIS_URL)
    env = bench_env(var_dir, REDIS_URL)
    with postgres_schema(env) as on_postgres:
        if not on_postgres:
            raise RuntimeError("needs PostgreSQL on 127.0.0.1:5432")
        token = import_scenario(env, json.dumps(bench_roundtrip.BLUEPRINT))
        with gunicorn_process("switchboard_app", env) as (port, pid), _worker(env, stats) as w:
            _warm_up(port, f"/hooks/{token}", body)
            return bench_roundtrip._measure(port, f"/hooks/{token}", body, [pid, w])


def _warm_up(port: int, path: str, body: bytes, seconds: float = 180) -> None:
    """Post until the scenario's own answer comes back: a profiled worker on a loaded machine
    takes far longer to start than the benchmark's pause."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if bench_roundtrip._right(post_for_answer(port, path, body)[1]):
            return
    raise RuntimeError(f"no right answer within {seconds} s")


@contextmanager
def _worker(env: dict[str, str], stats: Path) -> Iterator[int]:
    import subprocess

    process = subprocess.Popen(
        [str(BIN / "python"), "-m", "tests.benchmarks.profile_celery", "--worker"],
        env={**env, _STATS_ENV: str(stats)},
        stderr=open(stats.with_suffix(".log"), "wb"),  # noqa: SIM115
    )
    try:
        time.sleep(4.0)
        yield process.pid
    finally:
        process.terminate()
        process.wait(60)


def _profiled_worker() -> None:
    """``switchboard worker`` with a profiler in every thread, dumped merged at exit."""
    profiles: list[cProfile.Profile] = []
    thread_run = threading.Thread.run

    def run(self: threading.Thread) -> None:
        profile = cProfile.Profile(time.thread_time)  # CPU, not waits
        profiles.append(profile)
        profile.enable()
        try:
            thread_run(self)
        finally:
            profile.disable()

    threading.Thread.run = run  # type: ignore[method-assign]
    main_profile = cProfile.Profile(time.thread_time)  # CPU, not waits
    profiles.append(main_profile)

    def dump() -> None:
        main_profile.disable()
        merged = pstats.Stats(profiles[0])
        for profile in profiles[1:]:
            merged.add(profile)
        merged.dump_stats(os.environ[_STATS_ENV])

    atexit.register(dump)
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # stacks into the .log
    from switchboard.cli import main as switchboard

    sys.argv = ["switchboard", "worker"]
    main_profile.enable()
    switchboard()


if __name__ == "__main__":
    if "--worker" in sys.argv:
        _profiled_worker()
    else:
        main()
