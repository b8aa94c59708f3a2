"""The store's exceptions.

::

    SwitchboardError
    └── StoreError                    something the store refuses or cannot do
        ├── NotFound                  no row with that id (also a ``KeyError``)
        ├── InvalidTransition         a status change the state machine does not allow
        ├── StaleRevision             optimistic concurrency: someone else updated first
        ├── DuplicateKey              a data store key exists and ``overwrite`` was not given
        ├── DataStoreFull             a write would exceed a data store's ``max_size_bytes``
        ├── QueueFull                 a webhook queue holds its limit of waiting items
        ├── SchemaOutOfDate           the database needs ``switchboard db upgrade``
        ├── DuplicateEmail            another user already has that email
        ├── LastOwner                 the change would leave no owner
        ├── UnstorableText            a name, email or record key holding NUL or a lone surrogate
        ├── DatabaseError             the database failed a statement (the driver's error, mapped)
        │   ├── StoreUnavailable      unreachable, connection dropped, locked past the busy timeout
        │   ├── IntegrityViolation    a unique, foreign-key or not-null constraint refused a row
        │   └── InvalidValue          a value the database or its column type refuses (ValueError)
        └── BackupError               a backup cannot be read or restored (engine.store.backup)
            ├── InvalidBackup         the file is not a usable backup; says what is wrong
            ├── BackupKeyMismatch     its connection secrets do not decrypt with this key
            └── DatabaseNotEmpty      restore refuses a database that holds data (``force``)

Nothing above the store sees a driver's exception: ``engine.store.sql.errors.map_driver_errors``
turns SQLAlchemy's into the ``DatabaseError`` family (the way httpx's ``map_exceptions`` turns
httpcore's into its own), keeping the driver's error as ``__cause__``.

Secret-key problems are ``engine.secrets.SecretKeyError``/``SecretDecryptionError``.
"""

from __future__ import annotations

from typing import Any

from engine.errors import SwitchboardError


class StoreError(SwitchboardError):
    """Root of the store's own errors."""


class NotFound(StoreError, KeyError):
    """No ``kind`` with that ``ident`` exists."""

    def __init__(self, kind: str, ident: Any) -> None:
        self.kind = kind
        self.ident = ident
        super().__init__(f"{kind} {ident!r} does not exist")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class InvalidTransition(StoreError):
    """``kind`` ``ident`` cannot move from ``current`` to ``wanted``."""

    def __init__(self, kind: str, ident: Any, current: str, wanted: str) -> None:
        self.kind = kind
        self.ident = ident
        self.current = current
        self.wanted = wanted
        super().__init__(f"{kind} {ident!r} cannot move from {current!r} to {wanted!r}")


class StaleRevision(StoreError):
    """The caller's ``expected`` revision is not the stored ``actual`` one: re-read and retry."""

    def __init__(self, kind: str, ident: Any, expected: int, actual: int) -> None:
        self.kind = kind
        self.ident = ident
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"{kind} {ident!r} is at revision {actual}, not {expected}: "
            "another worker updated it first; re-read it and retry"
        )


class DuplicateKey(StoreError):
    """The data store already holds ``key``; pass ``overwrite=True`` to replace it."""

    def __init__(self, store_id: int, key: str) -> None:
        self.store_id = store_id
        self.key = key
        super().__init__(f"data store {store_id} already has a record with key {key!r}")


class DataStoreFull(StoreError):
    """The write would take the data store past its ``max_size_bytes``."""

    def __init__(self, store_id: int, needed: int, limit: int) -> None:
        self.store_id = store_id
        self.needed = needed
        self.limit = limit
        super().__init__(
            f"data store {store_id} would hold {needed} bytes, over its limit of {limit}"
        )


class QueueFull(StoreError):
    """The webhook's queue already holds ``limit`` waiting items."""

    def __init__(self, webhook_id: int, limit: int) -> None:
        self.webhook_id = webhook_id
        self.limit = limit
        super().__init__(f"webhook {webhook_id} queue is full ({limit} items waiting)")


class SchemaOutOfDate(StoreError):
    """The database schema is not at the code's migration head."""


class DuplicateEmail(StoreError):
    """Another user already has ``email`` (compared case-insensitively)."""

    def __init__(self, email: str) -> None:
        self.email = email
        super().__init__(f"a user with email {email!r} already exists")


class LastOwner(StoreError):
    """Demoting or deleting ``user_id`` would leave the installation without an owner."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        super().__init__("the last owner must stay an owner")


class UnstorableText(StoreError, ValueError):
    """Text a name, an email or a record key cannot hold: the NUL character (PostgreSQL text
    refuses it; refused on SQLite too, so both databases behave alike) or a lone surrogate (no
    database can encode it). ``path`` names the field. JSON data has no such limit."""

    def __init__(self, field: str, problem: str) -> None:
        self.path = field
        self.problem = problem
        super().__init__(f"{field} {problem}")


class DatabaseError(StoreError):
    """The database failed a statement; the message is the first line of the driver's (never the
    statement nor its parameters), ``driver_error`` the driver error's type name."""

    def __init__(self, message: str, driver_error: str = "") -> None:
        super().__init__(message)
        self.driver_error = driver_error


class StoreUnavailable(DatabaseError):
    """The database cannot be reached, dropped the connection, or stayed locked past the busy
    timeout: nothing was stored, and the same call may work in a moment."""


class IntegrityViolation(DatabaseError):
    """A constraint refused the row: a duplicate id or key, a missing parent, a missing value."""


class InvalidValue(DatabaseError, ValueError):
    """The database (or a column type while binding) refused a value: it would be refused again
    on every retry, unlike ``StoreUnavailable``."""


class BackupError(StoreError):
    """A backup cannot be written, read or restored (``engine.store.backup``)."""


class InvalidBackup(BackupError):
    """The file is not a usable Switchboard backup: not JSON, another format, a version this
    installation does not read, or contents that do not match their checksum. The message
    names what is wrong (and which table, when one is)."""


class BackupKeyMismatch(BackupError):
    """The backup's connection secrets cannot be decrypted with the configured secret key:
    restoring needs the ``SWITCHBOARD_SECRET_KEY`` of the installation that made it."""


class DatabaseNotEmpty(BackupError):
    """Restore was asked to write into a database that already holds data."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        held = ", ".join(f"{count} {table}" for table, count in counts.items())
        super().__init__(
            f"the database is not empty (it holds {held}): restore into an empty database, "
            "or pass --force to delete everything in it first"
        )
