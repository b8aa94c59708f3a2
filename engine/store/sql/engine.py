"""Creating SQLAlchemy engines that behave well for the store on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, ExceptionContext, make_url
from sqlalchemy.exc import DisconnectionError, StatementError
from sqlalchemy.pool import ConnectionPoolEntry

from engine.store.errors import UnstorableText

WRITE_OPTION = "switchboard_write"
"""Execution option on a connection whose transaction will write (SQLite: ``BEGIN IMMEDIATE``)."""

SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
PING_AFTER_IDLE_SECONDS = 1.0
"""A pooled PostgreSQL connection unused this long is pinged before it is handed out."""
_CHECKED_IN = "switchboard_checked_in"


def normalise_url(url: str | URL) -> URL:
    """``url`` with PostgreSQL pinned to psycopg 3 (``postgres://`` and ``postgresql://`` too).

    Raises:
        ValueError: an in-memory SQLite URL (each connection would see its own empty database)
            or a backend the store does not support.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend in {"postgres", "postgresql"}:
        return parsed.set(drivername="postgresql+psycopg")
    if backend != "sqlite":
        raise ValueError(
            f"unsupported database {backend!r}: use sqlite:/// or postgresql+psycopg://"
        )
    if parsed.database in (None, "", ":memory:"):
        raise ValueError("the store needs a SQLite file (sqlite:///path/to.db), not memory")
    return parsed


def create_store_engine(url: str | URL, **options: Any) -> Engine:
    """An engine for ``url``; SQLite files get their directory, WAL, foreign keys and
    write transactions that take the write lock up front.

    Its errors show neither the statement's parameters (``hide_parameters``): they are the data
    being written (an execution record, a data store record), nor the statement itself
    (``_plain_error``); error messages reach logs and API answers.
    """
    parsed = normalise_url(url)
    options.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "postgresql":
        engine = create_engine(parsed, **options)
        event.listen(engine, "checkin", _note_checkin)
        event.listen(engine, "checkout", _ping_if_idle)
    else:
        Path(parsed.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)
        timeout = {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
        engine = create_engine(parsed, connect_args=timeout, **options)
        event.listen(engine, "connect", _configure_sqlite_connection)
        event.listen(engine, "begin", _begin_sqlite_transaction)
    event.listen(engine, "handle_error", _plain_error)
    return engine


def _plain_error(context: ExceptionContext) -> BaseException | None:
    """Store errors leave without their SQL text and parameter values.

    A driver's message reaches logs and, through a failed module's error, the execution record
    that viewers read; the statement shows the schema and the parameters hold user data and
    secrets (a password hash, a token). The traceback still says where it happened. A value a
    column type refused (``UnstorableText``) is raised as it is, not wrapped.
    """
    if isinstance(context.original_exception, UnstorableText):
        return context.original_exception
    error = context.sqlalchemy_exception
    if isinstance(error, StatementError):
        error.statement = None
        error.params = None
    return None


def _note_checkin(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info[_CHECKED_IN] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
    """``pool_pre_ping``, but only for a connection idle over ``PING_AFTER_IDLE_SECONDS``.

    A pre-ping on every checkout was a round trip on each of the ~9 store calls of a webhook
    run; a connection handed back moments ago is as alive as the ping would show. A dead one
    raises ``DisconnectionError``: the pool discards it and connects afresh, as pre-ping does.
    """
    if time.monotonic() - record.info.get(_CHECKED_IN, 0.0) < PING_AFTER_IDLE_SECONDS:
        return
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        dbapi_connection.rollback()
    except Exception as error:  # any failure means the connection is unusable
        raise DisconnectionError(str(error)) from error


def _configure_sqlite_connection(dbapi_connection: sqlite3.Connection, record: object) -> None:
    # Let SQLAlchemy's "begin" event start transactions instead of pysqlite's implicit
    # BEGIN (which it issues lazily, too late to take the write lock first).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        _use_wal(cursor)
        # NORMAL is durable in WAL mode except for the last transactions on power loss (a
        # process crash loses nothing committed).
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _use_wal(cursor: sqlite3.Cursor) -> None:
    """Switch the file to WAL (readers never block the writer nor it them), once per file.

    Switching needs an exclusive lock and SQLite does not wait for it through the busy
    timeout, so when several processes open a new database at once we retry here.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_SECONDS
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _begin_sqlite_transaction(connection: Connection) -> None:
    # A write transaction takes the single SQLite write lock before reading, so a claim's
    # "select the oldest, then update it" cannot interleave with another writer's and no
    # deferred transaction fails later with SQLITE_BUSY when upgrading its lock.
    immediate = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
