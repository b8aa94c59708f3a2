"""B1's and B8's records, for comparing two trees byte for byte.

``python -m tests.benchmarks.records_ab [ROOT]``: runs B1 (2,000 lines) and B8 with the default
limits, ``stored_bundles=3``, ``max_operations=50`` and ``max_bundles=100``, compiled and the
general way, on a fixed clock (every timing 0), and prints one line per run (record size, its
SHA-256, the number of run events) and a SHA-256 of every record, event and webhook answer.
ROOT is another tree whose ``engine`` is measured instead of this one (as ``cpu_ab``); run it
for both trees and ``diff`` the outputs: identical lines mean identical records.
"""

from __future__ import annotations

import hashlib
import sys
from datetime import UTC, datetime
from typing import Any


def main() -> None:
    from engine.blueprint import load_blueprint
    from engine.graph import compile_blueprint
    from engine.jsonvalues import dump_compact
    from engine.registry import default_registry
    from engine.runtime import RunContext, RunLimits, run_scenario
    from tests.benchmarks import bench_engine, bench_items

    moment = datetime(2026, 1, 1, tzinfo=UTC)
    everything = hashlib.sha256()
    cases = [
        ("B1", bench_engine.BLUEPRINT, [{"lines": bench_engine.invoice_lines(2000)}]),
        ("B8", bench_items.BLUEPRINT, [bench_items.payload()]),
    ]
    limit_sets: list[dict[str, Any]] = [
        {},
        {"stored_bundles": 3},
        {"max_operations": 50},
        {"max_bundles": 100},
    ]
    for name, blueprint, trigger in cases:
        plan = compile_blueprint(load_blueprint(blueprint), default_registry())
        for limits in limit_sets:
            for compiled in (True, False):
                events: list[Any] = []
                answers: list[str] = []
                context = RunContext(
                    clock=lambda: moment,
                    monotonic=lambda: 0.0,
                    limits=RunLimits(**limits),
                    compiled=compiled,
                    on_event=events.append,
                )
                context.respond = lambda *answer, into=answers: into.append(repr(answer))
                record = run_scenario(plan, context, trigger_bundles=trigger)
                encoded = dump_compact(record.to_dict())
                data = encoded if isinstance(encoded, bytes) else encoded.encode()
                for part in (data, repr(events).encode(), repr(answers).encode()):
                    everything.update(part)
                digest = hashlib.sha256(data).hexdigest()[:16]
                print(name, limits, "compiled" if compiled else "general", len(data), digest)
    print("all", everything.hexdigest())


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.path.insert(0, sys.argv[1])
    main()
