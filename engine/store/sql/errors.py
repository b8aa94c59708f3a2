"""Driver errors become the store's own, in one place (like httpx's ``map_exceptions``).

Every store call runs inside ``SqlBase._read``/``_write``, which wrap their block in
``map_driver_errors()``; nothing above the store catches (or imports) SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Dialect, exc

from engine.store.errors import (
    DatabaseError,
    IntegrityViolation,
    InvalidValue,
    StoreError,
    StoreUnavailable,
)

DRIVER_ERRORS: tuple[tuple[type[Exception], type[DatabaseError]], ...] = (
    # First match wins: the specific DBAPI errors, then what is left of each family.
    (exc.IntegrityError, IntegrityViolation),
    (exc.DataError, InvalidValue),
    (exc.OperationalError, StoreUnavailable),
    (exc.InterfaceError, StoreUnavailable),
    (exc.DisconnectionError, StoreUnavailable),
    (exc.TimeoutError, StoreUnavailable),  # the pool had no connection to give in time
    (exc.DBAPIError, DatabaseError),
    (exc.StatementError, InvalidValue),  # a value refused while binding it, before the driver
    (exc.SQLAlchemyError, DatabaseError),
)


@contextmanager
def map_driver_errors() -> Iterator[None]:
    """Raise the store's ``DatabaseError`` kind for a SQLAlchemy error; the driver's error stays
    as ``__cause__`` for the traceback. The store's own errors pass unchanged."""
    try:
        yield
    except StoreError:
        raise
    except exc.SQLAlchemyError as error:
        raise translated(error) from error


def translated_driver_error(error: Exception, dialect: Dialect) -> DatabaseError:
    """The store's error for a DB-API ``error`` raised where SQLAlchemy did not run the
    statement (``SqlBase._raw_write``): wrapped as SQLAlchemy would have wrapped it, then
    ``translated``."""
    wrapped = exc.DBAPIError.instance(
        None,
        None,
        error,
        dialect.loaded_dbapi.Error,
        hide_parameters=True,
        dialect=dialect,
    )
    return translated(wrapped)


def translated(error: exc.SQLAlchemyError) -> DatabaseError:
    """The store's error for ``error``: its kind from ``DRIVER_ERRORS``, its message the first
    line of the driver's own (the statement and parameters are never part of it)."""
    kind = next(mapped for driver, mapped in DRIVER_ERRORS if isinstance(error, driver))
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    message = lines[0] if lines else type(cause).__name__
    return kind(message, f"{type(error).__module__}.{type(error).__qualname__}")
