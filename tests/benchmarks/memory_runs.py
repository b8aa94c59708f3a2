"""Whether B8's repeated runs keep anything: the Python heap run by run, in one process.

``python -m tests.benchmarks.memory_runs [RUNS]``: B8's 10,000-item scenario posted RUNS times
(default 30) through the product's WSGI app (``servers.switchboard_app``, embedded, SQLite, the
Flask test client in place of gunicorn), with ``tracemalloc`` started after run 3. After runs
5, 12, 20, 30 … it prints the Python heap tracemalloc sees, the number of objects the cyclic
collector tracks and the process's RSS; at the end, what grew between run 12 and the last by
allocating line. A growing structure (a cache without bound, records kept) shows as a heap that
keeps rising and as the lines that allocate it; RSS alone moves by ±10 MB from run to run
(the allocator keeps and returns arenas as it pleases), so it cannot tell.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import tempfile
import tracemalloc
from pathlib import Path

from tests.benchmarks import bench_items
from tests.benchmarks.servers import bench_env, import_scenario, switchboard_app

CHECKPOINTS = (5, 12, 20, 30, 40, 50)


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def main(runs: int) -> None:
    temp = tempfile.mkdtemp()
    env = bench_env(Path(temp) / "items")
    token = import_scenario(env, json.dumps(bench_items.BLUEPRINT))
    for name in [name for name in os.environ if name.startswith("SWITCHBOARD_")]:
        del os.environ[name]
    os.environ.update(env)
    client = switchboard_app().test_client()
    body = json.dumps(bench_items.payload()).encode()
    first: tracemalloc.Snapshot | None = None
    for number in range(1, runs + 1):
        answer = client.post(f"/hooks/{token}", data=body, content_type="application/json")
        if answer.status_code != 200:
            raise AssertionError(f"run {number}: answered {answer.status_code}")
        gc.collect()
        if number == 3:
            tracemalloc.start()
        if number in CHECKPOINTS or number == runs:
            heap = tracemalloc.get_traced_memory()[0] / 1e6
            print(
                f"run {number}: Python heap {heap:.2f} MB, {len(gc.get_objects())} tracked "
                f"objects, RSS {rss_mb():.1f} MB",
                flush=True,
            )
            if number == 12:
                first = tracemalloc.take_snapshot()
    if first is not None:
        for stat in tracemalloc.take_snapshot().compare_to(first, "lineno")[:8]:
            print(stat)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
