"""B1 engine items: one run over 10,000 invoice lines, next to a plain Python loop.

webhook → Iterator → filter qty > 0 → Set variables (line_total, SKU) → Array aggregator.
The floor does the same work in a plain loop; the ratio is the engine's overhead. A second
figure runs 100,000 lines in a fresh process and reports its peak RSS above idle.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

from engine.blueprint import load_blueprint
from engine.graph import compile_blueprint
from engine.registry import default_registry
from engine.runtime import RunContext, RunLimits, run_scenario

BLUEPRINT = {
    "name": "B1 invoice lines",
    "flow": [
        {"id": 1, "module": "gateway:CustomWebHook", "parameters": {"hook": 1}},
        {"id": 2, "module": "builtin:BasicFeeder", "mapper": {"array": "{{1.lines}}"}},
        {
            "id": 3,
            "module": "util:SetVariables",
            "filter": {
                "name": "qty > 0",
                "conditions": [[{"a": "{{2.qty}}", "o": "number:greater", "b": "0"}]],
            },
            "mapper": {
                "scope": "roundtrip",
                "variables": [
                    {
                        "name": "line_total",
                        "value": "{{round(2.qty * 2.unit_price * (1 + 2.tax_rate); 2)}}",
                    },
                    {"name": "sku", "value": "{{upper(2.sku)}}"},
                ],
            },
        },
        {
            "id": 4,
            "module": "builtin:BasicAggregator",
            "parameters": {"feeder": 2},
            "mapper": {"sku": "{{3.sku}}", "total": "{{3.line_total}}"},
        },
    ],
    "metadata": {"version": 1},
}


def invoice_lines(count: int) -> list[dict[str, Any]]:
    rng = random.Random(42)
    return [
        {
            "sku": f"sku-{i % 500}",
            "qty": rng.randint(0, 9),
            "unit_price": round(rng.uniform(1, 200), 2),
            "tax_rate": rng.choice([0, 0.1, 0.15, 0.2]),
        }
        for i in range(count)
    ]


def plain_loop(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    aggregated = []
    for line in lines:
        if line["qty"] > 0:
            total = round(line["qty"] * line["unit_price"] * (1 + line["tax_rate"]), 2)
            aggregated.append({"sku": line["sku"].upper(), "total": total})
    return aggregated


def run_engine(lines: list[dict[str, Any]]) -> Any:
    plan = compile_blueprint(load_blueprint(BLUEPRINT), default_registry())
    context = RunContext(
        clock=lambda: datetime.now(UTC),
        monotonic=time.perf_counter,
        limits=RunLimits(max_output_bytes=500_000_000),  # the 100,000-line payload is ~9 MB
    )
    return run_scenario(plan, context, trigger_bundles=[{"lines": lines}])


def best_of(repeats: int, work: Any) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


def peak_rss_above_idle(count: int, *, modules_loaded: bool = False) -> float:
    """MB of peak RSS a fresh process adds running ``count`` lines (measured in a subprocess);
    with ``modules_loaded``, the module registry is imported before the idle reading, so the
    figure is the run's own (the registry's imports are ~60 MB of it otherwise).

    Peaks are the process's own high-water mark (``VmHWM``), not ``ru_maxrss``: Linux carries
    the spawning process's peak into a child's ``ru_maxrss`` at ``exec``, so after a large
    parent (``make bench`` running B1's runs first) the idle reading was the parent's size and
    the figure read tens of MB low, depending on what ran before it."""
    code = (
        "import json, sys\n"
        "def hwm():\n"
        "    with open('/proc/self/status') as status:\n"
        "        return next(int(l.split()[1]) for l in status if l.startswith('VmHWM:'))\n"
        "from tests.benchmarks.bench_engine import invoice_lines, run_engine\n"
        "from engine.registry import default_registry\n"
        "lines = invoice_lines(int(sys.argv[1]))\n"
        "if sys.argv[2] == '1':\n"
        "    default_registry()\n"
        "idle = hwm()\n"
        "record = run_engine(lines)\n"
        "peak = hwm()\n"
        "print(json.dumps({'idle_kb': idle, 'peak_kb': peak, 'status': str(record.status)}))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code, str(count), "1" if modules_loaded else "0"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = json.loads(output)
    assert figures["status"] == "success", figures
    return (figures["peak_kb"] - figures["idle_kb"]) / 1024


def run() -> list[dict[str, Any]]:
    lines = invoice_lines(10_000)
    expected = plain_loop(lines)
    record = run_engine(lines)
    aggregated = record.modules[4].calls[0].output[0]["array"]
    # Make rounds halves up; Python's round() rounds the binary float: a cent apart at most.
    assert len(aggregated) == len(expected)
    assert all(
        a["sku"] == b["sku"] and abs(a["total"] - b["total"]) <= 0.0100001
        for a, b in zip(aggregated, expected, strict=True)
    ), "the engine and the floor disagree"
    floor = best_of(5, lambda: plain_loop(lines))
    engine = best_of(3, lambda: run_engine(lines))
    return [
        {
            "benchmark": "B1 engine items",
            "metric": "10,000 lines, one run (s; floor: plain loop)",
            "value": engine,
            "unit": "s",
            "floor": floor,
            "ratio": engine / floor,
        },
        {
            "benchmark": "B1 engine items",
            "metric": "10,000 lines throughput",
            "value": 10_000 / engine,
            "unit": "bundles/s",
            "floor": 10_000 / floor,
            "ratio": None,
        },
        {
            "benchmark": "B1 engine items",
            "metric": "100,000 lines: peak RSS above idle",
            "value": peak_rss_above_idle(100_000),
            "unit": "MB",
            "floor": None,
            "ratio": None,
        },
        {
            "benchmark": "B1 engine items",
            "metric": "100,000 lines: peak RSS above idle, modules imported before",
            "value": peak_rss_above_idle(100_000, modules_loaded=True),
            "unit": "MB",
            "floor": None,
            "ratio": None,
        },
    ]
