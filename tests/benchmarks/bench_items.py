"""B8 a 10,000-item webhook run, 50 times: its time end to end, its stored record, and whether
the server's memory levels off.

The scenario (embedded, SQLite, under ``servers.GUNICORN``): webhook → Iterator over 10,000
lines → filter ``qty > 0`` → Set variables (line total, SKU) → Array aggregator → Create JSON →
Webhook response. Each answer is checked (9,013 items). Figures: the median wall time of a run
(POST to the last byte of the answer, the record stored), the stored record's bytes, and
whether the server's memory levels off (issue 24's target 4: no growth over 50 runs).

Memory is judged from what the server's worker *keeps*, read after every run through the
bench-only probe (``servers.heap_figures``, after ``gc.collect()``): the objects the cyclic
collector tracks, Python's allocated blocks and malloc's bytes in use. Each is fitted by least
squares over runs 10-50 (the run events kept for late followers fill their budget in the
first runs) and printed as growth per run with its standard error; the target is met when no
slope stands more than 3 standard errors above zero, or its fitted growth over the 40 runs is
below ``NEGLIGIBLE``. The resident memory after runs 5, 25 and 50 is printed beside it: it
moves by ±10 MB from run to run (glibc keeps and returns freed arenas as it pleases), so it
cannot tell growth from noise (docs/performance.md, "B8's memory").
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.servers import (
    bench_env,
    gunicorn_process,
    heap_probe,
    import_scenario,
    post_for_answer,
    row,
    stored_value,
    tree_rss_mb,
    trend,
)

BENCHMARK = "B8 10,000-item run"
RUNS = 50
ITEMS = 10_000
FITTED_FROM = 10
"""The first run of the memory fit: the run-event budget and the caches fill before it."""
NEGLIGIBLE = {"tracked_objects": 200, "python_blocks": 2_000, "malloc_mb": 1.0}
"""Fitted growth over runs 10-50 that counts as none even when it is steady (5 objects a run):
a bounded structure settling. A leak of 21 objects a run (a list of 10 dicts kept per
request, injected) measured 25.8 ± 4.0 objects a run here: 1,030 over the fit, growth."""
HEAP_NAMES = {
    "tracked_objects": ("objects tracked by the collector", "objects"),
    "python_blocks": ("Python memory blocks", "blocks"),
    "malloc_mb": ("malloc bytes in use", "MB"),
}

BLUEPRINT = {
    "name": "B8 10,000 items",
    "flow": [
        {"id": 1, "module": "gateway:CustomWebHook", "version": 1, "parameters": {"hook": 2}},
        {
            "id": 2,
            "module": "builtin:BasicFeeder",
            "version": 1,
            "mapper": {"array": "{{1.items}}"},
        },
        {
            "id": 3,
            "module": "util:SetVariables",
            "version": 1,
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
            "version": 1,
            "parameters": {"feeder": 2},
            "mapper": {"sku": "{{3.sku}}", "line_total": "{{3.line_total}}"},
        },
        {
            "id": 5,
            "module": "json:CreateJSON",
            "version": 1,
            "parameters": {"space": ""},
            "mapper": {"items": "{{4.array}}"},
        },
        {
            "id": 6,
            "module": "gateway:WebhookRespond",
            "version": 1,
            "mapper": {
                "status": "200",
                "body": "{{5.json}}",
                "headers": [{"key": "content-type", "value": "application/json"}],
            },
        },
    ],
    "metadata": {"version": 1, "instant": True, "scenario": {"roundtrips": 1}},
}


def payload() -> dict[str, Any]:
    rng = random.Random(5)
    return {
        "items": [
            {
                "sku": f"ab-{i:05d}",
                "qty": 0 if i % 10 == 3 else rng.randint(1, 9),
                "unit_price": round(rng.uniform(1, 200), 2),
                "tax_rate": rng.choice([0, 0.1, 0.15, 0.2]),
            }
            for i in range(ITEMS)
        ]
    }


def run() -> list[dict[str, Any]]:
    items = payload()
    body = json.dumps(items).encode()
    expected = sum(1 for item in items["items"] if item["qty"] > 0)
    with tempfile.TemporaryDirectory() as temp:
        env = bench_env(Path(temp) / "items")
        token = import_scenario(env, json.dumps(BLUEPRINT))
        timings, rss, heap = [], {}, []
        with gunicorn_process("switchboard_app_with_heap_probe", env) as (port, pid):
            for number in range(1, RUNS + 1):
                started = time.perf_counter()
                status, answer = post_for_answer(port, f"/hooks/{token}", body, timeout=120)
                if status != 200:
                    raise AssertionError(f"run {number}: answered {status}: {answer[:200]!r}")
                timings.append(time.perf_counter() - started)
                if len(json.loads(answer)["items"]) != expected:
                    raise AssertionError(f"run {number}: a wrong answer")
                heap.append(heap_probe(port))
                if number in (5, 25, RUNS):
                    rss[number] = tree_rss_mb(pid)
        record_bytes = stored_value(env, "SELECT max(length(record)) FROM execution_records")
    return [
        row(
            BENCHMARK,
            "one run, webhook to answer with its record (median)",
            statistics.median(timings),
            "s",
        ),
        row(BENCHMARK, "stored record", record_bytes / 1000, "KB"),
        *memory_rows(heap),
        row(BENCHMARK, "server RSS after run 5 (allocator noise ±10 MB)", rss[5], "MB"),
        row(BENCHMARK, "server RSS after run 25", rss[25], "MB"),
        row(BENCHMARK, f"server RSS after run {RUNS}", rss[RUNS], "MB"),
    ]


def memory_rows(heap: list[dict[str, float]]) -> list[dict[str, Any]]:
    """Each kept-memory figure after the last run, its growth per run over runs 10-50 with
    its standard error, and the target's verdict (1: levelled off, 0: grows)."""
    runs = list(range(FITTED_FROM, len(heap) + 1))
    rows, grows = [], False
    for key, (name, unit) in HEAP_NAMES.items():
        slope, error = trend(runs, [heap[run - 1][key] for run in runs])
        fitted = slope * (runs[-1] - runs[0])
        grows |= slope > 3 * error and fitted > NEGLIGIBLE[key]
        rows += [
            row(BENCHMARK, f"kept after run {len(heap)}: {name}", heap[-1][key], unit),
            row(
                BENCHMARK,
                f"{name}: growth a run, runs {FITTED_FROM}-{len(heap)} (target ~0)",
                slope,
                f"{unit}/run",
            ),
            row(BENCHMARK, f"{name}: its standard error", error, f"{unit}/run"),
        ]
    rows.append(
        row(
            BENCHMARK,
            f"memory levels off over {len(heap)} runs (target 4: 1 = met)",
            int(not grows),
            "",
        )
    )
    return rows


if __name__ == "__main__":
    from tests.benchmarks.__main__ import markdown

    print(markdown(run()))
