"""B1, B2 and B8's engine part in CPU time, for A/B comparisons on a loaded machine.

``python -m tests.benchmarks.cpu_ab [ROOT] [REPEATS]``: ROOT is a checkout of another tree
(``git archive <commit> engine modules tests/benchmarks tests/__init__.py | tar -x -C ROOT``)
whose code is measured instead of this one; run it for both trees back to back and compare
the pairs. Figures are ``time.process_time``, best of REPEATS (default 7): B1 one 10,000-line
run with its floor, B2 evaluations/s with its floor, B8's scenario run in process with
``record.to_dict()`` and its encoding.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any


def cpu(work: Callable[[], Any], repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        gc.collect()
        started = time.process_time()
        work()
        timings.append(time.process_time() - started)
    return min(timings)


def main(repeats: int) -> dict[str, Any]:
    from engine.blueprint import load_blueprint
    from engine.graph import compile_blueprint
    from engine.jsonvalues import dump_compact
    from engine.mapping import EvalContext, compile_mapper
    from engine.registry import default_registry
    from engine.runtime import RunContext, run_scenario
    from tests.benchmarks import bench_engine, bench_expressions, bench_items

    lines = bench_engine.invoice_lines(10_000)
    floor = cpu(lambda: bench_engine.plain_loop(lines), repeats)
    b1 = cpu(lambda: bench_engine.run_engine(lines), repeats)
    context = EvalContext(bundles=bench_expressions.BUNDLES)
    mapper = compile_mapper(bench_expressions.MAPPER, where="bench")
    count = 20_000
    b2 = count / cpu(lambda: [mapper.evaluate(context) for _ in range(count)], repeats)
    b2_floor = count / cpu(
        lambda: [bench_expressions._hand_written(bench_expressions.BUNDLES) for _ in range(count)],
        repeats,
    )
    items = bench_items.payload()
    plan = compile_blueprint(load_blueprint(bench_items.BLUEPRINT), default_registry())

    def b8() -> None:
        run = RunContext(clock=lambda: datetime.now(UTC), monotonic=time.perf_counter)
        run.respond = lambda *answer: None
        dump_compact(run_scenario(plan, run, trigger_bundles=[items]).to_dict())

    return {
        "B1_s": round(b1, 4),
        "B1_floor_s": round(floor, 5),
        "B1_ratio": round(b1 / floor, 1),
        "B2_per_s": round(b2),
        "B2_floor_per_s": round(b2_floor),
        "B2_ratio": round(b2_floor / b2, 2),
        "B8_in_process_s": round(cpu(b8, repeats), 4),
    }


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.path.insert(0, sys.argv[1])
    print(json.dumps(main(int(sys.argv[2]) if len(sys.argv) > 2 else 7)))
