"""What the store hands back: frozen dataclasses, one per kind of row.

JSON columns come back as plain ``dict``/``list`` values. Timestamps are timezone-aware UTC
``datetime``s on every backend.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any

from engine.secrets import Secrets
from engine.store.statuses import ExecutionStatus, IncompleteStatus, QueueItemStatus


class TriggerKind(StrEnum):
    """What started an execution."""

    WEBHOOK = "webhook"
    SCHEDULE = "schedule"
    MANUAL = "manual"
    RETRY = "retry"
    SUBSCENARIO = "subscenario"  # called by another scenario (scenario-service:CallSubscenario)


class _Unset(Enum):
    UNSET = "unset"


UNSET = _Unset.UNSET
"""Marks an optional argument the caller did not give (so ``None`` can mean "clear it")."""


@dataclass(frozen=True)
class Scenario:
    id: int
    name: str
    current_version: int
    active: bool
    scheduling: dict[str, Any]
    consecutive_errors: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ScenarioVersionInfo:
    scenario_id: int
    version: int
    size_bytes: int
    created_at: datetime
    saved_by: str | None = None
    """Who saved it (an email), when the caller said; ``None`` when unknown."""


@dataclass(frozen=True)
class ScenarioVersion(ScenarioVersionInfo):
    """One saved version; ``blueprint`` is the exported JSON text exactly as it was saved."""

    blueprint: str = field(repr=False, default="")


@dataclass(frozen=True)
class Connection:
    """An account on an app. ``secrets`` are decrypted but never shown by ``repr``/``str``.

    ``revision`` grows by one on every change; pass it back to ``update_connection_secrets``.
    """

    id: int
    app: str
    kind: str
    name: str
    data: dict[str, Any]
    secrets: Secrets = field(repr=False)
    revision: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Webhook:
    """An incoming-request endpoint; ``token`` is the secret part of its URL (hidden in repr)."""

    id: int
    token: str = field(repr=False)
    name: str
    scenario_id: int | None
    settings: dict[str, Any]
    enabled: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class QueueItem:
    """One received webhook request waiting to be (or being, or having been) processed."""

    id: int
    webhook_id: int
    received_at: datetime
    request: dict[str, Any]
    size_bytes: int
    status: QueueItemStatus
    worker_id: str | None
    claimed_at: datetime | None
    lease_expires_at: datetime | None
    attempts: int
    execution_id: str | None
    finished_at: datetime | None
    error: dict[str, Any] | None


@dataclass(frozen=True)
class Execution:
    """One run of a scenario. ``record`` is loaded only when asked for (it can be large)."""

    id: str
    scenario_id: int
    scenario_version: int
    trigger_kind: TriggerKind
    trigger_ref: str | None
    status: ExecutionStatus
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    operations: int
    data_size: int
    worker_id: str | None
    heartbeat_at: datetime | None
    reaped_count: int
    error: dict[str, Any] | None
    record: dict[str, Any] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class FinishedRun:
    """How a run ended, for storing its execution already finished
    (``enqueue_with_execution(finished=…)``): the request, its execution and this end are
    then one commit."""

    status: ExecutionStatus
    record: Any
    """The record's JSON values, or its compact JSON already encoded as an
    ``orjson.Fragment`` (stored as it is; the execution returned then has no ``record``);
    ``None``: no record."""
    operations: int
    data_size: int
    error: Mapping[str, Any] | None
    finished_at: datetime


@dataclass(frozen=True)
class ExecutionPage:
    """A page of executions, newest first; pass ``next_cursor`` back for the next page
    (``None`` when this is the last one)."""

    items: list[Execution]
    next_cursor: str | None


@dataclass(frozen=True)
class IncompleteExecution:
    """A stored remainder of a failed run. ``state`` is opaque to the store."""

    id: int
    scenario_id: int
    execution_id: str | None
    blueprint_version: int
    failed_module_id: int | None
    state: Any
    error: dict[str, Any]
    attempts: int
    max_attempts: int
    next_retry_at: datetime | None
    status: IncompleteStatus
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class DataStore:
    id: int
    name: str
    structure: dict[str, Any] | None
    max_size_bytes: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class DataRecord:
    store_id: int
    key: str
    data: dict[str, Any]
    size_bytes: int
    created_at: datetime
    updated_at: datetime


FILTER_OPERATORS = frozenset(
    {"eq", "ne", "contains", "not_contains", "gt", "gte", "lt", "lte", "exists", "not_exists"}
)


@dataclass(frozen=True)
class RecordFilter:
    """One condition on a data store record.

    ``field`` is ``"key"`` for the record key, else a field of the data (dots reach into nested
    objects: ``"address.city"``). ``op`` is one of ``FILTER_OPERATORS``; ``contains`` is a
    substring test on text and a membership test on lists; ``gt``/``lt``… compare numbers with
    numbers and text with text (other pairs never match).
    """

    field: str
    op: str
    value: Any = None

    def __post_init__(self) -> None:
        if self.op not in FILTER_OPERATORS:
            raise ValueError(
                f"unknown filter operator {self.op!r}; use one of {sorted(FILTER_OPERATORS)}"
            )


@dataclass(frozen=True)
class RecordSort:
    """Sort records by ``field`` (``"key"`` or a data field); missing values sort last."""

    field: str
    descending: bool = False


def webhook_request(
    method: str,
    headers: Mapping[str, str],
    query: Mapping[str, Any],
    body: bytes,
    content_type: str | None,
) -> dict[str, Any]:
    """The JSON form of an HTTP request the webhook queue stores.

    The body is kept as text when it is valid UTF-8 (``body_text``), else as base64
    (``body_base64``), so any request survives the JSON column unchanged.
    """
    request: dict[str, Any] = {
        "method": method.upper(),
        "headers": dict(headers),
        "query": dict(query),
        "content_type": content_type,
    }
    try:
        request["body_text"] = body.decode("utf-8")
    except UnicodeDecodeError:
        request["body_base64"] = base64.b64encode(body).decode("ascii")
    return request


def request_body(request: Mapping[str, Any]) -> bytes:
    """The raw body of a request built by ``webhook_request``."""
    if "body_base64" in request:
        return base64.b64decode(request["body_base64"])
    return str(request.get("body_text", "")).encode("utf-8")


@dataclass(frozen=True)
class User:
    """A person who signs in. ``role`` is ``owner``, ``editor`` or ``viewer`` (the web layer
    gives it meaning); ``password_hash`` never shows in ``repr``."""

    id: int
    email: str
    name: str
    role: str
    password_hash: str = field(repr=False)
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ApiToken:
    """A personal API token; only the SHA-256 of its text is kept (``token_hash``). It stops
    working at ``expires_at``."""

    id: int
    user_id: int
    name: str
    token_hash: str = field(repr=False)
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime


@dataclass(frozen=True)
class UserSession:
    """A signed-in browser: the SHA-256 of the cookie's session id, its user and CSRF token."""

    id_hash: str = field(repr=False)
    user_id: int
    csrf_token: str = field(repr=False)
    created_at: datetime
    expires_at: datetime
