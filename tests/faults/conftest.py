"""Fault tests: real processes on loopback, a fault injected mid-burst, the counts reported.

Each test records a ``FaultCounts`` row with ``record_counts``; the rows go to a JSON report
(``SWITCHBOARD_FAULT_REPORT``; default ``var/fault-report.json``, in a soak
``var/soak-report.json``) and a table at the end of the session. ``SWITCHBOARD_SOAK=1`` (``make
soak``) multiplies burst sizes by ``SOAK_SCALE`` and runs each fault ``SWITCHBOARD_SOAK_ROUNDS``
times (3). A missing Redis, PostgreSQL or redis-server fails the tests; nothing skips.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.faults.harness import postgres_admin
from tests.faults.outcome import FaultCounts
from tests.service.processes import (
    REPO,
    Process,
    empty_redis_database,
    started_processes,
)

SOAK = os.environ.get("SWITCHBOARD_SOAK", "").strip().lower() in {"1", "true", "yes"}
SOAK_SCALE = 20
SOAK_ROUNDS = int(os.environ.get("SWITCHBOARD_SOAK_ROUNDS") or 3)
_DEFAULT_REPORT = REPO / "var" / ("soak-report.json" if SOAK else "fault-report.json")
REPORT_PATH = Path(os.environ.get("SWITCHBOARD_FAULT_REPORT") or _DEFAULT_REPORT).resolve()
REDIS_DB = 11
POSTGRES_ADMIN_URL = os.environ.get(
    "SWITCHBOARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_ROWS = pytest.StashKey[list[FaultCounts]]()


def burst(size: int) -> int:
    """A burst size: as given by default, ``SOAK_SCALE`` times larger in a soak."""
    return size * SOAK_SCALE if SOAK else size


def patience(seconds: float) -> float:
    """A wait's upper bound, stretched as the bursts are in a soak."""
    return seconds * SOAK_SCALE if SOAK else seconds


def rounds() -> list[int]:
    """Round numbers to parametrize a fault test with (one round unless soaking)."""
    return list(range(1, SOAK_ROUNDS + 1)) if SOAK else [1]


# -- the report --------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_ROWS] = []


@pytest.fixture
def record_counts(request):
    """Add one fault's counts to the session report (and rewrite the JSON file)."""
    rows = request.config.stash[_ROWS]

    def record(counts: FaultCounts) -> FaultCounts:
        rows.append(counts)
        write_report(rows)
        return counts

    return record


def write_report(rows: list[FaultCounts]) -> None:
    REPORT_PATH.parent.mkdir(parents=True, exist_ok=True)
    report = {"soak": SOAK, "faults": [row.as_dict() for row in rows]}
    REPORT_PATH.write_text(json.dumps(report, indent=2) + "\n")


COLUMNS = ("sent", "accepted", "refused", "executed", "incomplete", "duplicated", "lost", "running")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    rows = config.stash.get(_ROWS, [])
    if not rows:
        return
    write = terminalreporter.write_line
    terminalreporter.section("fault counts" + (" (soak)" if SOAK else ""))
    width = max(len(row.fault) for row in rows)
    write(f"{'fault':<{width}} " + " ".join(f"{name:>10}" for name in COLUMNS))
    for row in rows:
        figures = " ".join(f"{getattr(row, name):>10}" for name in COLUMNS)
        write(f"{row.fault:<{width}} {figures}")
        notes = ", ".join(f"{key}={value}" for key, value in row.notes.items() if value)
        if notes:
            write(f"{'':<{width}}   {notes}")
    write(f"report: {REPORT_PATH}")


# -- processes and services --------------------------------------------------------------------


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Processes a test starts; stopped (then killed) in reverse order afterwards."""
    with started_processes() as started:
        yield started


@pytest.fixture
def redis_db() -> Iterator[str]:
    """The shared Redis's database ``REDIS_DB``, emptied before and after."""
    with empty_redis_database(REDIS_DB) as url:
        yield url


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A database of its own for one test (faults on it touch nobody else); dropped after."""
    name = f"switchboard_fault_{uuid.uuid4().hex[:12]}"
    try:
        admin = postgres_admin(POSTGRES_ADMIN_URL)
    except psycopg.OperationalError as error:
        pytest.fail(f"these tests need PostgreSQL at {POSTGRES_ADMIN_URL} ({error})")
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with postgres_admin(POSTGRES_ADMIN_URL) as admin:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        admin.execute(drop.format(sql.Identifier(name)))
