"""The store: everything Switchboard keeps, behind the documented ``Store`` interface.

An adapter, not part of the pure core: it imports SQLAlchemy, never Flask, Celery or redis.

>>> from engine.store import SqlStore, upgrade_database          # doctest: +SKIP
>>> upgrade_database("sqlite:///var/switchboard.db")              # doctest: +SKIP
>>> with SqlStore("sqlite:///var/switchboard.db") as store: ...   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from engine.secrets import SecretBox
from engine.store.errors import (
    DatabaseError,
    DataStoreFull,
    DuplicateEmail,
    DuplicateKey,
    IntegrityViolation,
    InvalidTransition,
    InvalidValue,
    LastOwner,
    NotFound,
    QueueFull,
    SchemaOutOfDate,
    StaleRevision,
    StoreError,
    StoreUnavailable,
    UnstorableText,
)
from engine.store.interface import Store
from engine.store.migrate import check_schema, current_revision, head_revision, upgrade_database
from engine.store.records import (
    UNSET,
    ApiToken,
    Connection,
    DataRecord,
    DataStore,
    Execution,
    ExecutionPage,
    FinishedRun,
    IncompleteExecution,
    QueueItem,
    RecordFilter,
    RecordSort,
    Scenario,
    ScenarioVersion,
    ScenarioVersionInfo,
    TriggerKind,
    User,
    UserSession,
    Webhook,
    request_body,
    webhook_request,
)
from engine.store.sql import SqlStore, utc_now
from engine.store.statuses import ExecutionStatus, IncompleteStatus, QueueItemStatus


def open_store(
    url: str,
    *,
    secret_box: SecretBox | None = None,
    clock: Callable[[], datetime] = utc_now,
    upgrade: bool = True,
) -> SqlStore:
    """A ready store for ``url``: migrated to the newest schema first (``upgrade=True``), or
    checked to be there (``upgrade=False`` raises ``SchemaOutOfDate`` otherwise)."""
    if upgrade:
        upgrade_database(url)
    store = SqlStore(url, secret_box=secret_box, clock=clock)
    if not upgrade:
        try:
            check_schema(store.engine)
        except SchemaOutOfDate:
            store.close()
            raise
    return store


__all__ = [
    "UNSET",
    "ApiToken",
    "Connection",
    "DataRecord",
    "DataStore",
    "DataStoreFull",
    "DatabaseError",
    "DuplicateEmail",
    "DuplicateKey",
    "Execution",
    "ExecutionPage",
    "ExecutionStatus",
    "FinishedRun",
    "IncompleteExecution",
    "IncompleteStatus",
    "IntegrityViolation",
    "InvalidTransition",
    "InvalidValue",
    "LastOwner",
    "NotFound",
    "QueueFull",
    "QueueItem",
    "QueueItemStatus",
    "RecordFilter",
    "RecordSort",
    "Scenario",
    "ScenarioVersion",
    "ScenarioVersionInfo",
    "SchemaOutOfDate",
    "SqlStore",
    "StaleRevision",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "TriggerKind",
    "UnstorableText",
    "User",
    "UserSession",
    "Webhook",
    "check_schema",
    "current_revision",
    "head_revision",
    "open_store",
    "request_body",
    "upgrade_database",
    "webhook_request",
]
