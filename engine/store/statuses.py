"""Statuses as ``str`` enums, each with the table of moves it allows.

The store changes a status only through these tables (and conditional updates in SQL, so two
workers cannot both make the same move); anything else raises ``InvalidTransition``.
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Any

from engine.store.errors import InvalidTransition


class ExecutionStatus(StrEnum):
    """Where an execution is in its life: queued → running → one terminal status."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"
    INCOMPLETE = "incomplete"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_EXECUTION_STATUSES


TERMINAL_EXECUTION_STATUSES = frozenset(
    {
        ExecutionStatus.SUCCESS,
        ExecutionStatus.WARNING,
        ExecutionStatus.ERROR,
        ExecutionStatus.INCOMPLETE,
        ExecutionStatus.CANCELLED,
    }
)

EXECUTION_TRANSITIONS: dict[ExecutionStatus, frozenset[ExecutionStatus]] = {
    # queued → running only through claim_execution; a queued run may be cancelled.
    ExecutionStatus.QUEUED: frozenset({ExecutionStatus.RUNNING, ExecutionStatus.CANCELLED}),
    # running → queued only through the reaper (the worker died).
    ExecutionStatus.RUNNING: TERMINAL_EXECUTION_STATUSES | {ExecutionStatus.QUEUED},
    **{status: frozenset() for status in TERMINAL_EXECUTION_STATUSES},
}


class QueueItemStatus(StrEnum):
    """A webhook queue item: queued → claimed → done (or failed); a claim can be released."""

    QUEUED = "queued"
    CLAIMED = "claimed"
    DONE = "done"
    FAILED = "failed"


QUEUE_TRANSITIONS: dict[QueueItemStatus, frozenset[QueueItemStatus]] = {
    QueueItemStatus.QUEUED: frozenset({QueueItemStatus.CLAIMED}),
    QueueItemStatus.CLAIMED: frozenset(
        {QueueItemStatus.DONE, QueueItemStatus.FAILED, QueueItemStatus.QUEUED}
    ),
    QueueItemStatus.DONE: frozenset(),
    QueueItemStatus.FAILED: frozenset(),
}


class IncompleteStatus(StrEnum):
    """An incomplete execution: pending ⇄ retrying, then resolved for good."""

    PENDING = "pending"
    RETRYING = "retrying"
    RESOLVED = "resolved"


INCOMPLETE_TRANSITIONS: dict[IncompleteStatus, frozenset[IncompleteStatus]] = {
    IncompleteStatus.PENDING: frozenset({IncompleteStatus.RETRYING, IncompleteStatus.RESOLVED}),
    IncompleteStatus.RETRYING: frozenset({IncompleteStatus.PENDING, IncompleteStatus.RESOLVED}),
    IncompleteStatus.RESOLVED: frozenset(),
}


def sources(table: dict[Any, frozenset[Any]], wanted: Enum) -> tuple[str, ...]:
    """The statuses (values) ``table`` allows to move to ``wanted``: the ``WHERE status IN …``
    of the conditional update that makes the move atomic."""
    return tuple(sorted(status.value for status, targets in table.items() if wanted in targets))


def check_transition(
    table: dict[Any, frozenset[Any]], kind: str, ident: Any, current: Enum, wanted: Enum
) -> None:
    """Raise ``InvalidTransition`` unless ``table`` lets ``current`` move to ``wanted``."""
    if wanted not in table[current]:
        raise InvalidTransition(kind, ident, current.value, wanted.value)
