"""Counting what the store runs: SQLite's own trace sees SQLAlchemy's statements and the
store's prepared ones on the driver's cursor alike (SQLAlchemy's events miss the latter)."""

from __future__ import annotations

from sqlalchemy import event


def counted(store) -> list[str]:
    """Every statement SQLite runs from now on (BEGIN and COMMIT included)."""
    statements: list[str] = []

    def trace(dbapi_connection, *args):
        dbapi_connection.set_trace_callback(statements.append)

    def untrace(dbapi_connection, *args):
        dbapi_connection.set_trace_callback(None)

    event.listen(store.engine.pool, "checkout", trace)
    event.listen(store.engine.pool, "checkin", untrace)
    return statements
