"""Run every benchmark module, print a markdown table, write JSON to var/bench/results.json."""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from tests.benchmarks import targets

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent.parent / "var" / "bench" / "results.json"


def machine_facts() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def run_all(selected: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted(HERE.glob("bench_*.py")):
        if selected and not any(name in path.stem for name in selected):
            continue
        module = importlib.import_module(f"tests.benchmarks.{path.stem}")
        started = time.perf_counter()
        rows.extend(module.run())
        print(f"# {path.stem}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| benchmark | metric | value | unit | floor | ratio |",
        "|---|---|---:|---|---:|---:|",
    ]
    for row in rows:
        floor, ratio = row.get("floor"), row.get("ratio")
        lines.append(
            f"| {row['benchmark']} | {row['metric']} | {row['value']:,.4g} | {row['unit']} | "
            f"{'' if floor is None else f'{floor:,.4g}'} | "
            f"{'' if ratio is None else f'{ratio:.2f}'} |"
        )
    return "\n".join(lines)


def main() -> None:
    rows = run_all(sys.argv[1:])
    facts = machine_facts()
    print(markdown(rows))
    print(f"\nmachine: {facts}")
    print("\nAgainst the targets (docs/performance.md keeps why those not met are not):\n")
    print(targets.markdown(rows))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": facts, "results": rows}, indent=2))
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
