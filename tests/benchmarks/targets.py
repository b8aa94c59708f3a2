"""The targets the benchmarks answer to (issues 13, 17 and 24), checked against a run's rows.

``make bench`` prints this table under the figures, so a run says by itself which targets it
met; docs/performance.md keeps the history and the reasons for those it did not.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]


@dataclass(frozen=True)
class Target:
    text: str
    benchmark: str
    metric: str
    """A row's metric, or its start when ``prefix`` (every such row must meet it)."""
    field: str
    """``value`` or ``ratio`` (against the floor measured in the same run)."""
    compare: Callable[[float, float], bool]
    bound: float
    prefix: bool = False


AT_MOST, AT_LEAST = operator.le, operator.ge
B1, B2, B3, B4 = "B1 engine items", "B2 expression evaluation", "B3 webhook ingest", "B4 end to end"
B5, B6, B8 = "B5 history", "B6 webhook → run → answer", "B8 10,000-item run"

TARGETS: tuple[Target, ...] = (
    Target(
        "B6 embedded ≥ 40 % of the bare-Flask floor's req/s, c = 10",
        B6,
        "embedded c=10 throughput",
        "ratio",
        AT_LEAST,
        0.40,
    ),
    Target(
        "B6 embedded ≤ 1.5 ms CPU a request", B6, "embedded CPU per request", "value", AT_MOST, 1.5
    ),
    Target(
        "B6 Celery, 1 worker, ≥ 25 % of the floor's req/s",
        B6,
        "celery 1 worker c=10 throughput",
        "ratio",
        AT_LEAST,
        0.25,
    ),
    Target("B6 zero errors or wrong answers", B6, "", "value", AT_MOST, 0, prefix=True),
    Target(
        "B1 ≤ 10 x the plain loop",
        B1,
        "10,000 lines, one run (s; floor: plain loop)",
        "ratio",
        AT_MOST,
        10,
    ),
    Target(
        "B1 100,000 lines: peak RSS ≤ 150 MB above idle",
        B1,
        "100,000 lines: peak RSS above idle",
        "value",
        AT_MOST,
        150,
        prefix=True,
    ),
    Target(
        "B8 one 10,000-item run answered with its record ≤ 0.4 s",
        B8,
        "one run, webhook to answer with its record (median)",
        "value",
        AT_MOST,
        0.4,
    ),
    Target("B8 stored record ≤ 500 KB", B8, "stored record", "value", AT_MOST, 500),
    Target(
        "B8 memory levels off over 50 runs",
        B8,
        "memory levels off over 50 runs",
        "value",
        AT_LEAST,
        1,
        prefix=True,
    ),
    Target(
        "B2 ≥ 200,000 evaluations/s",
        B2,
        "parse once, evaluate",
        "value",
        AT_LEAST,
        200_000,
        prefix=True,
    ),
    Target(
        "B3 ≥ 60 % of the floor's req/s at c = 50, embedded",
        B3,
        "embedded c=50 throughput",
        "ratio",
        AT_LEAST,
        0.60,
    ),
    Target(
        "B3 ≥ 60 % of the floor's req/s at c = 50, Redis",
        B3,
        "redis c=50 throughput",
        "ratio",
        AT_LEAST,
        0.60,
    ),
    Target("B3 p99 ≤ 50 ms at c = 10, embedded", B3, "embedded c=10 p99", "value", AT_MOST, 50),
    Target("B3 p99 ≤ 50 ms at c = 10, Redis", B3, "redis c=10 p99", "value", AT_MOST, 50),
    Target("B3 zero errors, zero lost", B3, "", "value", AT_MOST, 0, prefix=True),
    Target(
        "B4 p50 ≤ 50 ms embedded",
        B4,
        "embedded, SQLite webhook to finished p50",
        "value",
        AT_MOST,
        50,
    ),
    Target(
        "B4 p50 ≤ 100 ms Celery + Redis",
        B4,
        "celery 1 worker, PostgreSQL webhook to finished p50",
        "value",
        AT_MOST,
        100,
    ),
    Target(
        "B4 two workers ≥ 1.6 x one",
        B4,
        "celery 2 workers vs 1",
        "value",
        AT_LEAST,
        1.6,
        prefix=True,
    ),
    Target("B5 ≤ 100 ms a page, SQLite and PostgreSQL", B5, "", "value", AT_MOST, 100, prefix=True),
)


def _rows_of(target: Target, rows: list[Row]) -> list[Row]:
    matching = [row for row in rows if row["benchmark"] == target.benchmark]
    if not target.prefix:
        return [row for row in matching if row["metric"] == target.metric]
    if target.text.startswith(("B6 zero", "B3 zero")):
        return [row for row in matching if "errors" in row["metric"] or "lost" in row["metric"]]
    if target.benchmark == B5:
        return [row for row in matching if row["unit"] == "ms"]
    return [row for row in matching if row["metric"].startswith(target.metric)]


def judge(target: Target, rows: list[Row]) -> tuple[str, str]:
    """What the run measured for ``target`` and whether it is met (``not measured`` when
    the run did not include its benchmark)."""
    found = [row for row in _rows_of(target, rows) if row.get(target.field) is not None]
    if not found:
        return "", "not measured"
    figures = [float(row[target.field]) for row in found]
    met = all(target.compare(figure, target.bound) for figure in figures)
    worst = max(figures) if target.compare is AT_MOST else min(figures)
    shown = f"{worst:.2f} x" if target.field == "ratio" else f"{worst:,.4g} {found[0]['unit']}"
    if len(found) > 1:
        shown = f"worst of {len(found)}: {shown}"
    return shown, "yes" if met else "no"


def markdown(rows: list[Row]) -> str:
    lines = ["| target | measured | met |", "|---|---:|---|"]
    for target in TARGETS:
        shown, met = judge(target, rows)
        lines.append(f"| {target.text} | {shown} | {met} |")
    return "\n".join(lines)
