"""B5 history: 1,000,000 executions, then the newest 50 per page, filtered and deep-paged.

Rows go in through the database driver in batches (COPY on PostgreSQL, executemany on SQLite);
reads go through ``SqlStore.list_executions``, the API the history view uses. The floor is the
same page fetched with bare SQL on the raw driver connection, so ``ratio`` is the store's
overhead on top of the database. PostgreSQL: ``SWITCHBOARD_BENCH_POSTGRES_URL`` (default: the
test server); a private schema is created and dropped.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy

from engine.store import ExecutionStatus, SqlStore, upgrade_database

ROWS = int(os.environ.get("SWITCHBOARD_BENCH_HISTORY_ROWS", "1000000"))
BATCH = 50_000
SCENARIOS = 100
PAGE = 50
POSTGRES_URL = os.environ.get(
    "SWITCHBOARD_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
START = datetime(2026, 1, 1, tzinfo=UTC)
COLUMNS = (
    "id",
    "scenario_id",
    "scenario_version",
    "trigger_kind",
    "status",
    "created_at",
    "started_at",
    "finished_at",
    "started_or_queued_at",
    "duration_ms",
    "operations",
    "data_size",
    "reaped_count",
)
FLOOR_SQL = (
    "SELECT * FROM executions {where} ORDER BY started_or_queued_at DESC, id DESC LIMIT {limit}"
)


def _status(index: int) -> str:
    # Mostly successes, a steady trickle of errors and warnings, a few incomplete.
    if index % 50 == 7:
        return ExecutionStatus.ERROR.value
    if index % 97 == 3:
        return ExecutionStatus.WARNING.value
    if index % 991 == 5:
        return ExecutionStatus.INCOMPLETE.value
    return ExecutionStatus.SUCCESS.value


def generate_rows(count: int) -> Iterator[tuple[Any, ...]]:
    """Execution rows, two per timestamp (equal timestamps are the pagination edge case)."""
    for index in range(count):
        created = START + timedelta(seconds=(index // 2) * 7)
        yield (
            str(uuid.uuid4()),
            1 + index % SCENARIOS,
            1,
            "webhook",
            _status(index),
            created,
            created,
            created + timedelta(milliseconds=850),
            created,  # started_or_queued_at: started at once
            850,
            4,
            2048,
            0,
        )


def _batches(count: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in generate_rows(count):
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _seed_scenarios(store: SqlStore) -> None:
    for number in range(SCENARIOS):
        store.create_scenario(f"Scenario {number}", "{}")


def _sqlite_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def load_sqlite(engine: sqlalchemy.Engine, count: int) -> None:
    placeholders = ", ".join("?" for _ in COLUMNS)
    sql = f"INSERT INTO executions ({', '.join(COLUMNS)}) VALUES ({placeholders})"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN")
        for batch in _batches(count):
            cursor.executemany(
                sql, [(*row[:5], *map(_sqlite_time, row[5:9]), *row[9:]) for row in batch]
            )
        cursor.execute("COMMIT")
        cursor.execute("ANALYZE")
        cursor.close()
    finally:
        raw.close()


def load_postgres(engine: sqlalchemy.Engine, count: int) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY executions ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for batch in _batches(count):
                for row in batch:
                    copy.write_row(row)
        raw.commit()
        cursor.execute("ANALYZE executions")
        raw.commit()
        cursor.close()
    finally:
        raw.close()


def _median_ms(work: Callable[[], Any], repeat: int = 15) -> float:
    work()  # warm the cache: we measure the steady state, not the first disk read
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def _bound_time(backend: str, moment: datetime) -> Any:
    """``moment`` as the raw driver expects it (SQLite: the store's UTC text format)."""
    return _sqlite_time(moment) if backend == "sqlite" else moment


def _floor(
    engine: sqlalchemy.Engine, where: str = "", params: dict[str, Any] | None = None
) -> Callable[[], Any]:
    sql = sqlalchemy.text(FLOOR_SQL.format(where=where, limit=PAGE))

    def run() -> Any:
        with engine.connect() as connection:
            return connection.execute(sql, params or {}).all()

    return run


def _deep_page_cursor(store: SqlStore, pages: int) -> str | None:
    cursor = None
    for _ in range(pages):
        cursor = store.list_executions(limit=PAGE, cursor=cursor).next_cursor
    return cursor


def measure(backend: str, store: SqlStore, insert_seconds: float) -> list[dict[str, Any]]:
    """The insert rate row (``insert_seconds`` 0: unknown) then one row per listing case."""
    engine = store.engine
    since = START + timedelta(seconds=ROWS // 2 * 7 // 2)
    deep = _deep_page_cursor(store, 200)
    cases: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
        ("newest 50", lambda: store.list_executions(limit=PAGE), _floor(engine)),
        (
            "page 201 (keyset cursor)",
            lambda: store.list_executions(limit=PAGE, cursor=deep),
            _floor(engine),
        ),
        (
            "scenario filter",
            lambda: store.list_executions(scenario_id=42, limit=PAGE),
            _floor(engine, "WHERE scenario_id = :s", {"s": 42}),
        ),
        (
            "status=error filter",
            lambda: store.list_executions(status=ExecutionStatus.ERROR, limit=PAGE),
            _floor(engine, "WHERE status = :st", {"st": "error"}),
        ),
        (
            "scenario + status=error",
            lambda: store.list_executions(scenario_id=8, status=ExecutionStatus.ERROR, limit=PAGE),
            _floor(engine, "WHERE scenario_id = :s AND status = :st", {"s": 8, "st": "error"}),
        ),
        (
            "until (mid-history) + status=warning",
            lambda: store.list_executions(status=ExecutionStatus.WARNING, until=since, limit=PAGE),
            _floor(
                engine,
                "WHERE status = :st AND started_or_queued_at < :until",
                {"st": "warning", "until": _bound_time(backend, since)},
            ),
        ),
    ]
    rate = ROWS / insert_seconds if insert_seconds else 0.0
    rows = [_row(backend, f"insert {ROWS:,} executions (batched)", rate, "rows/s", None)]
    for name, work, floor in cases:
        rows.append(_row(backend, f"list: {name}", _median_ms(work), "ms", _median_ms(floor)))
    return rows


def _row(backend: str, metric: str, value: float, unit: str, floor: float | None) -> dict[str, Any]:
    return {
        "benchmark": "B5 history",
        "metric": f"{backend}: {metric}",
        "value": value,
        "unit": unit,
        "floor": floor,
        "ratio": None if floor is None else value / floor,
    }


def run_backend(
    backend: str, url: str, load: Callable[[sqlalchemy.Engine, int], None]
) -> list[dict[str, Any]]:
    upgrade_database(url)
    with SqlStore(url) as store:
        _seed_scenarios(store)
        started = time.perf_counter()
        load(store.engine, ROWS)
        insert_seconds = time.perf_counter() - started
        print(f"# B5 {backend}: {ROWS:,} rows in {insert_seconds:.1f} s", file=sys.stderr)
        return measure(backend, store, insert_seconds)


def run_postgres() -> list[dict[str, Any]]:
    schema = f"sb_bench_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except sqlalchemy.exc.OperationalError as error:
        admin.dispose()
        print(f"# B5 postgresql skipped: {error.orig}", file=sys.stderr)
        return []
    url = sqlalchemy.engine.make_url(POSTGRES_URL).update_query_dict(
        {"options": f"-csearch_path={schema}"}
    )
    try:
        return run_backend("postgresql", url.render_as_string(hide_password=False), load_postgres)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


CACHE_DIR = Path(__file__).resolve().parents[2] / "var" / "bench"


def run_sqlite_cached() -> list[dict[str, Any]]:
    """SQLite on a database file kept under var/bench between runs: building 1,000,000 rows
    takes minutes, so it is rebuilt only when the row count or the schema changes (the key)."""
    schema = Path(__file__).resolve().parents[2] / "engine" / "store" / "sql" / "schema.py"
    key = hashlib.sha1(schema.read_bytes() + str(ROWS).encode()).hexdigest()[:12]
    path = CACHE_DIR / f"history-{ROWS}-{key}.db"
    facts = path.with_suffix(".json")
    url = f"sqlite:///{path}"
    if not (path.exists() and facts.exists()):
        for stale in CACHE_DIR.glob("history-*"):
            stale.unlink()
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        rows = run_backend("sqlite", url, load_sqlite)
        facts.write_text(json.dumps(rows[0]))
        return rows
    print(f"# B5 sqlite: reusing {path.name}", file=sys.stderr)
    upgrade_database(url)
    with SqlStore(url) as store:
        return [json.loads(facts.read_text()), *measure("sqlite", store, 0)[1:]]


def run() -> list[dict[str, Any]]:
    if os.environ.get("SWITCHBOARD_BENCH_HISTORY_FRESH"):
        with tempfile.TemporaryDirectory() as scratch:
            rows = run_backend("sqlite", f"sqlite:///{Path(scratch) / 'history.db'}", load_sqlite)
    else:
        rows = run_sqlite_cached()
    return rows + run_postgres()


if __name__ == "__main__":
    for result in run():
        print(result)
