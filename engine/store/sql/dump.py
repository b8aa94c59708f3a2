"""Table-level reading and writing of the store's rows, for backups (``engine.store.backup``).

Rows travel as JSON-ready lists in the order of their table's columns: datetimes as ISO 8601
text (aware UTC), JSON columns as the JSON value itself, everything else as it is. Reading
walks every table of ``schema.metadata``, so a table added later is backed up without
anyone remembering to; the few rows deliberately left out are declared here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ColumnElement, Engine, Table, delete, func, insert, or_, select, text
from sqlalchemy import inspect as inspect_database
from sqlalchemy.engine import Connection

from engine.store.sql.engine import WRITE_OPTION
from engine.store.sql.schema import (
    executions,
    incomplete_executions,
    metadata,
    webhook_queue,
)
from engine.store.sql.types import UTCDateTime
from engine.store.statuses import TERMINAL_EXECUTION_STATUSES, QueueItemStatus

NEVER_BACKED_UP = frozenset({"user_sessions"})
"""Sign-in sessions are short-lived and tied to one server: after a restore everyone signs in
again (personal API tokens are kept)."""

INSERT_BATCH = 500


def _pending_executions() -> ColumnElement[bool]:
    # Executions still to finish, and those an incomplete execution points at, are work in
    # progress rather than history: a restore without history must still have them.
    return or_(
        executions.c.status.not_in([status.value for status in TERMINAL_EXECUTION_STATUSES]),
        executions.c.id.in_(
            select(incomplete_executions.c.execution_id).where(
                incomplete_executions.c.execution_id.is_not(None)
            )
        ),
    )


WITHOUT_HISTORY: Mapping[str, Callable[[], ColumnElement[bool]]] = {
    "executions": _pending_executions,
    "execution_records": lambda: metadata.tables["execution_records"].c.execution_id.in_(
        select(executions.c.id).where(_pending_executions())
    ),
    # Waiting and claimed requests were accepted and must run; done and failed are history.
    "webhook_queue": lambda: webhook_queue.c.status.in_(
        [QueueItemStatus.QUEUED.value, QueueItemStatus.CLAIMED.value]
    ),
}
"""Per table, which rows a backup without history keeps (tables not named: every row)."""


def backed_up_tables() -> list[Table]:
    """The tables a backup holds, parents before children (the order to insert them in)."""
    return [table for table in metadata.sorted_tables if table.name not in NEVER_BACKED_UP]


def read_tables(engine: Engine, *, with_history: bool) -> dict[str, dict[str, Any]]:
    """Every backed-up table as ``{"columns": [...], "rows": [[...], ...]}``, read in one
    consistent snapshot (PostgreSQL: a repeatable-read transaction; SQLite: one read
    transaction over the WAL) while the service keeps running."""
    tables: dict[str, dict[str, Any]] = {}
    with _snapshot(engine) as connection:
        for table in backed_up_tables():
            query = select(table).order_by(*table.primary_key.columns)
            if not with_history and table.name in WITHOUT_HISTORY:
                query = query.where(WITHOUT_HISTORY[table.name]())
            rows = [_row_out(row) for row in connection.execute(query)]
            tables[table.name] = {
                "columns": [column.name for column in table.columns],
                "rows": rows,
            }
    return tables


def _snapshot(engine: Engine) -> Any:
    if engine.dialect.name == "postgresql":
        return engine.connect().execution_options(isolation_level="REPEATABLE READ")
    return engine.connect()


def _row_out(row: Sequence[Any]) -> list[Any]:
    return [value.isoformat() if isinstance(value, datetime) else value for value in row]


def _value_in(column: Column[Any], value: Any) -> Any:
    if value is not None and isinstance(column.type, UTCDateTime):
        return datetime.fromisoformat(value)
    return value


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in each of the store's tables that exist in the database (tables with none are
    left out), for telling whether it is empty."""
    present = set(inspect_database(engine).get_table_names())
    counts: dict[str, int] = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name in present:
                count = connection.execute(select(func.count()).select_from(table)).scalar_one()
                if count:
                    counts[table.name] = count
    return counts


def delete_everything(connection: Connection) -> None:
    """Delete every row of the store's tables that exist, children first."""
    present = set(inspect_database(connection).get_table_names())
    for table in reversed(metadata.sorted_tables):
        if table.name in present:
            connection.execute(delete(table))


def write_tables(engine: Engine, tables: Mapping[str, Mapping[str, Any]], *, wipe: bool) -> None:
    """Insert ``tables`` (as ``read_tables`` gives them) with their ids, in one transaction;
    with ``wipe``, delete every row first. PostgreSQL's id sequences then continue after the
    highest restored id, so new rows never collide with restored ones."""
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            if wipe:
                delete_everything(connection)
            for table in metadata.sorted_tables:
                if table.name in tables:
                    _insert_rows(connection, table, tables[table.name])
            if connection.dialect.name == "postgresql":
                _continue_sequences(connection, tables)


def _insert_rows(connection: Connection, table: Table, dumped: Mapping[str, Any]) -> None:
    columns = [table.columns[name] for name in dumped["columns"]]
    for batch in _batches(dumped["rows"], INSERT_BATCH):
        values = [
            {
                column.name: _value_in(column, value)
                for column, value in zip(columns, row, strict=True)
            }
            for row in batch
        ]
        connection.execute(insert(table), values)


def _batches(rows: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _continue_sequences(connection: Connection, tables: Mapping[str, Any]) -> None:
    for table in metadata.sorted_tables:
        if table.name not in tables or "id" not in table.c or not _serial(table):
            continue
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f'COALESCE(MAX(id), 0) + 1, false) FROM "{table.name}"'
            )
        )


def _serial(table: Table) -> bool:
    """Whether ``table.id`` takes its values from a sequence (an integer primary key)."""
    column = table.c.id
    return (
        column.primary_key and column.autoincrement is not False and column.type.python_type is int
    )


__all__ = [
    "NEVER_BACKED_UP",
    "WITHOUT_HISTORY",
    "backed_up_tables",
    "delete_everything",
    "read_tables",
    "row_counts",
    "write_tables",
]
