"""The store speaks its own errors: a driver's exception never leaves it (issue #18.3)."""

from __future__ import annotations

import pytest
import sqlalchemy

from engine.store import (
    DatabaseError,
    IntegrityViolation,
    SqlStore,
    StoreError,
    StoreUnavailable,
    TriggerKind,
    upgrade_database,
)
from engine.store.sql.errors import translated


def test_a_database_nobody_answers_on_is_store_unavailable():
    # Port 1 on the loopback: connection refused at once, a real driver error.
    store = SqlStore("postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2")
    try:
        with pytest.raises(StoreUnavailable) as refused:
            store.list_scenarios()
    finally:
        store.close()
    assert isinstance(refused.value.__cause__, sqlalchemy.exc.OperationalError)
    assert refused.value.driver_error == "sqlalchemy.exc.OperationalError"


def test_the_hot_paths_on_the_drivers_cursor_are_store_unavailable_too():
    """Prepared statements take a pooled DB-API connection (``raw_connection``), which
    SQLAlchemy does not wrap: a refused connection was psycopg's own error (a 500 at ingress
    while PostgreSQL was away)."""
    store = SqlStore("postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2")
    request = {"method": "POST", "headers": {}, "query": {}, "body": {}}
    try:
        with pytest.raises(StoreUnavailable):
            store.enqueue(1, request, max_queued=10)
        with pytest.raises(StoreUnavailable):
            store.get_webhook_route(1)
        with pytest.raises(StoreUnavailable):  # embedded ingress on PostgreSQL, before too
            store.enqueue_with_execution(
                1, request, scenario_id=1, scenario_version=1, execution_id="e-1"
            )
    finally:
        store.close()


def test_a_duplicate_id_is_an_integrity_violation_inside_a_transaction_too(store, scenario):
    execution = store.create_execution(scenario.id, 1, TriggerKind.MANUAL)
    with pytest.raises(IntegrityViolation), store.transaction():
        store.create_execution(scenario.id, 1, TriggerKind.MANUAL, execution_id=execution.id)
    # The failed block rolled back and the store still works.
    assert store.get_execution(execution.id).id == execution.id


def test_every_sqlalchemy_error_has_a_store_error():
    for kind in (
        sqlalchemy.exc.IntegrityError("x", {}, Exception("duplicate")),
        sqlalchemy.exc.DataError("x", {}, Exception("bad text")),
        sqlalchemy.exc.OperationalError("x", {}, Exception("locked")),
        sqlalchemy.exc.InterfaceError("x", {}, Exception("closed")),
        sqlalchemy.exc.TimeoutError("pool exhausted"),
        sqlalchemy.exc.ProgrammingError("x", {}, Exception("no such table")),
        sqlalchemy.exc.StatementError("cannot bind", "x", {}, TypeError("bind")),
        sqlalchemy.exc.ArgumentError("odd"),
    ):
        error = translated(kind)
        assert isinstance(error, DatabaseError | StoreError), kind
        assert "[SQL" not in str(error)


def test_migrating_a_database_nobody_answers_on_is_store_unavailable():
    with pytest.raises(StoreUnavailable):
        upgrade_database("postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2")
