"""Steps the fault tests share: start the product, inject a fault for a while, wait for the
store to settle. Process and store helpers come from ``tests.service``."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from engine.store import ExecutionStatus, SqlStore, StoreUnavailable, request_body
from tests.faults.outcome import settled
from tests.faults.sender import Burst
from tests.service.processes import Process, switchboard, wait_for_http, wait_until


def serve(env: dict[str, str], logs: Path, port: int, workers: int | None = None) -> Process:
    """``switchboard serve`` on ``port``, answering (embedded: it is also the worker);
    ``workers``: gunicorn's processes (``--workers``), else serve's default."""
    extra = [] if workers is None else ["--workers", str(workers)]
    server = switchboard("serve", ["serve", "--port", str(port), *extra], env, logs)
    wait_for_http(port)
    return server


def when_answered(burst: Burst, count: int, timeout: float = 60) -> None:
    """Wait until ``count`` requests of the burst have their answer: the fault lands mid-burst."""
    wait_until(lambda: burst.answered() >= count, timeout, f"{count} answers", every=0.02)


def slow_run_in_flight(store: SqlStore) -> bool:
    """A run that pauses (``pause_every``) is running now: a fault now lands mid-run."""
    for execution in store.list_executions(status=ExecutionStatus.RUNNING, limit=50).items:
        if execution.trigger_ref is None:
            continue
        request = store.get_queue_item(int(execution.trigger_ref)).request
        if "pause" in json.loads(request_body(request)):
            return True
    return False


def wait_settled(store: SqlStore, webhook_id: int, timeout: float) -> None:
    """Wait until every stored request has its execution and nothing runs; a store that is
    still unreachable counts as "not yet"."""

    def check() -> bool:
        try:
            return settled(store, webhook_id)
        except StoreUnavailable:
            return False

    wait_until(check, timeout, "every stored request's execution to finish", every=0.5)


@contextmanager
def sqlite_write_lock(database: Path) -> Iterator[None]:
    """Hold SQLite's write lock from another connection (another process would do the same):
    writers wait on their busy timeout meanwhile; WAL readers go on."""
    connection = sqlite3.connect(database, timeout=30, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def in_background(action: Callable[[], Any]) -> threading.Thread:
    """Run a fault's script beside the burst; the test joins it."""
    thread = threading.Thread(target=action, name="fault", daemon=True)
    thread.start()
    return thread


def elapsed(since: float) -> float:
    return round(time.monotonic() - since, 2)


def postgres_admin(url: str) -> psycopg.Connection:
    """An autocommit connection to the server of ``url`` (a SQLAlchemy URL), as its user."""
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(dsn, autocommit=True, connect_timeout=3)


def postgres_outage(url: str, seconds: float) -> None:
    """Make the database of ``url`` unavailable for ``seconds``: refuse new connections and
    terminate every open one (as a failover or a restart would), then let them in again."""
    name = url.rsplit("/", 1)[1]
    database = sql.Identifier(name)
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with postgres_admin(admin_url) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(database))
        try:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [name],
            )
            time.sleep(seconds)
        finally:
            admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(database))
