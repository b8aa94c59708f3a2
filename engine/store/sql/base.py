"""What every part of ``SqlStore`` shares: the engine, transactions, the clock, the secret box."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine, Row, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import Executable

from engine.secrets import SecretBox, SecretKeyError
from engine.store.errors import NotFound
from engine.store.records import UNSET
from engine.store.sql.engine import WRITE_OPTION, create_store_engine
from engine.store.sql.errors import map_driver_errors, translated_driver_error
from engine.store.sql.group import GroupCommit, Job
from engine.store.sql.prepared import PreparedSet

P = ParamSpec("P")
R = TypeVar("R")


def utc_now() -> datetime:
    """The real clock, aware UTC."""
    return datetime.now(UTC)


class SqlBase:
    """Holds the engine and hands out one transaction per store call.

    Args:
        url: a SQLAlchemy URL (``sqlite:///…`` or ``postgresql+psycopg://…``).
        secret_box: encrypts connection secrets; without it secrets cannot be read or written.
        clock: the store's notion of now (tests pass a fake one).
        engine: an existing engine to use instead of making one from ``url`` (not disposed by
            ``close``).
    """

    def __init__(
        self,
        url: str | URL | None = None,
        *,
        secret_box: SecretBox | None = None,
        clock: Callable[[], datetime] = utc_now,
        engine: Engine | None = None,
    ) -> None:
        if engine is None and url is None:
            raise ValueError("give a database url or an engine")
        self._owns_engine = engine is None
        self._engine = engine if engine is not None else create_store_engine(url or "")
        self._secret_box = secret_box
        self._clock = clock
        # SQLite has one write lock per file and a writer that finds it taken sleeps in the
        # busy handler (1, 2, 5 … 100 ms naps), so threads of one process queue here instead
        # and each starts the moment the previous commits. Other processes still meet the busy
        # timeout. Re-entrant, so a nested write behaves as it did without the lock.
        self._write_turn: AbstractContextManager[Any] = (
            threading.RLock() if self._engine.dialect.name == "sqlite" else nullcontext()
        )
        # The connection of this thread's open ``transaction()`` block, which writes join.
        self._thread = threading.local()
        # The webhook hot path's statements, compiled on first use (the dialect knows its
        # server by then).
        self._prepared = PreparedSet(self._engine.dialect)
        self._route_version = 0
        # SQLite: the hot path's writes of concurrent threads share transactions (``group``);
        # PostgreSQL commits concurrent transactions in parallel (and groups their WAL
        # flushes itself), so each write keeps its own there.
        self._group: GroupCommit | None = (
            GroupCommit(self._raw_write) if self._engine.dialect.name == "sqlite" else None
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._engine.url.render_as_string(hide_password=True)!r})"

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    def close(self) -> None:
        if self._owns_engine:
            self._engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A connection in a write transaction, committed when the block ends without error;
        inside ``transaction()`` the block's own connection, committed when that block ends.
        Driver errors leave as the store's (``map_driver_errors``)."""
        joined: Connection | None = getattr(self._thread, "connection", None)
        if joined is not None:
            with map_driver_errors():
                yield joined
            return
        with map_driver_errors(), self._write_turn, self._engine.connect() as connection:
            connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():
                yield connection

    @contextmanager
    def _raw_write(self) -> Iterator[Any]:
        """``_write`` for ``Prepared`` statements: a DB-API cursor in a write transaction
        (SQLite: ``BEGIN IMMEDIATE``, in the write turn), committed when the block ends
        without error; inside ``transaction()`` a cursor of the block's own connection,
        committed when that block ends. Driver errors leave as the store's, and a connection
        the error shows dead leaves the pool."""
        joined: Connection | None = getattr(self._thread, "connection", None)
        if joined is not None:
            with self._write() as connection:
                cursor = connection.connection.cursor()
                try:
                    yield cursor
                except self._engine.dialect.loaded_dbapi.Error as error:
                    raise translated_driver_error(error, self._engine.dialect) from error
                finally:
                    cursor.close()
            return
        with map_driver_errors(), self._write_turn:
            raw = self._raw_connection()
            try:
                cursor = raw.cursor()
                if self._engine.dialect.name == "sqlite":
                    cursor.execute("BEGIN IMMEDIATE")
                yield cursor
                raw.commit()
            except self._engine.dialect.loaded_dbapi.Error as error:
                self._let_go(raw, error)
                raise translated_driver_error(error, self._engine.dialect) from error
            except BaseException:
                self._let_go(raw, None)
                raise
            finally:
                raw.close()

    @contextmanager
    def _raw_read(self) -> Iterator[Any]:
        """``_read`` for ``Prepared`` statements: a DB-API cursor, its transaction rolled back
        at the end; inside ``transaction()`` a cursor of the block's own connection."""
        joined: Connection | None = getattr(self._thread, "connection", None)
        if joined is not None:
            with self._raw_write() as cursor:  # joins the block: no write of its own
                yield cursor
            return
        with map_driver_errors():
            raw = self._raw_connection()
            try:
                cursor = raw.cursor()
                yield cursor
                raw.rollback()
            except self._engine.dialect.loaded_dbapi.Error as error:
                self._let_go(raw, error)
                raise translated_driver_error(error, self._engine.dialect) from error
            except BaseException:
                self._let_go(raw, None)
                raise
            finally:
                raw.close()

    def _raw_connection(self) -> PoolProxiedConnection:
        """A pooled DB-API connection; a refused connection is the store's error (the pool
        raises the driver's own here: SQLAlchemy wraps it only in ``connect()``)."""
        try:
            return self._engine.raw_connection()
        except self._engine.dialect.loaded_dbapi.Error as error:
            raise translated_driver_error(error, self._engine.dialect) from error

    def _grouped_write(self, job: Job[R]) -> R:
        """Run ``job`` on a cursor in a write transaction, on SQLite shared with the writes of
        other threads waiting at the same moment (``GroupCommit``); return its result once
        that transaction has committed. Inside ``transaction()`` it joins that block."""
        if self._group is None or getattr(self._thread, "connection", None) is not None:
            with self._raw_write() as cursor:
                return job(cursor)
        return self._group.run(job)

    def _let_go(self, connection: PoolProxiedConnection, error: Any) -> None:
        """Roll back a raw connection's failed transaction; invalidate it (the pool then
        connects afresh) when ``error`` shows it dead or the rollback fails."""
        dialect = self._engine.dialect
        if error is not None and dialect.is_disconnect(error, connection.dbapi_connection, None):
            connection.invalidate(error)
            return
        try:
            connection.rollback()
        except Exception as failed:
            connection.invalidate(failed)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if getattr(self._thread, "connection", None) is not None:
            yield  # nested: the outermost block commits
            return
        self._thread.routes_changed = False
        try:
            with self._write() as connection:
                self._thread.connection = connection
                try:
                    yield
                finally:
                    self._thread.connection = None
        finally:
            if self._thread.routes_changed:  # committed (or not) only now
                self._routes_changed()

    @property
    def route_version(self) -> int:
        return self._route_version

    def _routes_changed(self) -> None:
        """A scenario or webhook was written: ``route_version`` moves on (once more when the
        enclosing ``transaction()`` ends, as its commit is what others see)."""
        self._route_version += 1
        if getattr(self._thread, "connection", None) is not None:
            self._thread.routes_changed = True

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A connection for reading; its transaction is rolled back at the end. Inside
        ``transaction()`` the block's own connection (no transaction of its own: on PostgreSQL
        that saved a BEGIN and a ROLLBACK round trip per read, and the read sees the block's
        writes)."""
        joined: Connection | None = getattr(self._thread, "connection", None)
        if joined is not None:
            with map_driver_errors():
                yield joined
            return
        with map_driver_errors(), self._engine.connect() as connection:
            yield connection

    def _now(self, now: datetime | None = None) -> datetime:
        return self._clock() if now is None else now

    def _box(self) -> SecretBox:
        if self._secret_box is None:
            raise SecretKeyError(
                "this store has no secret box: pass SqlStore(url, secret_box=SecretBox(key)) "
                "(SWITCHBOARD_SECRET_KEY) to read or write connection secrets"
            )
        return self._secret_box

    def _upsert(self, table: Table) -> Any:
        """``INSERT … ON CONFLICT`` for the current dialect (both spell it the same way)."""
        module = postgresql if self.dialect == "postgresql" else sqlite
        return module.insert(table)


def changes_routes(method: Callable[P, R]) -> Callable[P, R]:
    """Mark a store method that writes scenarios or webhooks: ``route_version`` moves on once
    it returns or raises (after its commit)."""

    @functools.wraps(method)
    def changing(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        finally:
            store = args[0]
            assert isinstance(store, SqlBase)
            store._routes_changed()

    return changing


def fetch_one(connection: Connection, statement: Executable, kind: str, ident: Any) -> Row[Any]:
    """The single row ``statement`` selects, or ``NotFound(kind, ident)``."""
    row = connection.execute(statement).first()
    if row is None:
        raise NotFound(kind, ident)
    return row


def given(**values: Any) -> dict[str, Any]:
    """The keyword arguments the caller actually gave (drops ``UNSET``)."""
    return {name: value for name, value in values.items() if value is not UNSET}
