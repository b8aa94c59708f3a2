"""Executions (the run history) and incomplete executions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from engine.store.records import (
    UNSET,
    Execution,
    ExecutionPage,
    IncompleteExecution,
    TriggerKind,
    _Unset,
)
from engine.store.statuses import ExecutionStatus, IncompleteStatus


class ExecutionStore(ABC):
    """Executions move queued → running → terminal, and only through these methods."""

    @abstractmethod
    def create_execution(
        self,
        scenario_id: int,
        scenario_version: int,
        trigger_kind: TriggerKind,
        trigger_ref: str | None = None,
        *,
        execution_id: str | None = None,
        created_at: datetime | None = None,
    ) -> Execution:
        """Create a queued execution (id: a new UUID unless given). Raises ``NotFound`` for an
        unknown scenario."""

    @abstractmethod
    def claim_execution(
        self, execution_id: str, worker_id: str, now: datetime | None = None
    ) -> bool:
        """Move a queued execution to running for ``worker_id``, atomically.

        Returns ``False`` (and changes nothing) when the execution is not queued any more: that
        is how a redelivered task learns another worker already has it.

        Raises:
            NotFound: no such execution.
        """

    @abstractmethod
    def heartbeat(self, execution_id: str, worker_id: str, now: datetime | None = None) -> bool:
        """Note that ``worker_id`` is still running the execution.

        Returns ``False`` when the worker no longer owns a running execution (it was reaped and
        maybe claimed by someone else): the worker should stop without finishing it.
        """

    @abstractmethod
    def finish_execution(
        self,
        execution_id: str,
        status: ExecutionStatus,
        record: Mapping[str, Any] | None,
        *,
        operations: int,
        data_size: int,
        error: Mapping[str, Any] | None = None,
        worker_id: str | None = None,
        finished_at: datetime | None = None,
        running: Execution | None = None,
    ) -> Execution:
        """Move a running execution to the terminal ``status`` and store its record.

        ``running``: the execution as ``worker_id`` claimed it (the claimer's own view, with
        its ``started_at``): it is not read again first. The move stays conditional on the
        execution still running under ``worker_id``.

        ``duration_ms`` is ``finished_at - started_at``. ``record`` goes to a separate table so
        listing stays light; ``error`` is a small summary (type, message) kept on the row.

        Raises:
            InvalidTransition: ``status`` is not terminal, the execution is not running, or
                (when ``worker_id`` is given) another worker owns it.
            NotFound: no such execution.
        """

    @abstractmethod
    def cancel_execution(self, execution_id: str) -> Execution:
        """Cancel a queued execution (a running one is cancelled by its worker through
        ``finish_execution``). Raises ``InvalidTransition`` otherwise, ``NotFound``."""

    @abstractmethod
    def reap_stale(self, older_than: datetime) -> list[str]:
        """Requeue running executions whose last heartbeat is before ``older_than`` (their worker
        died). Each reaped execution's ``reaped_count`` grows by one. Returns their ids."""

    @abstractmethod
    def abandon_stale(
        self,
        older_than: datetime,
        *,
        reaped_at_least: int,
        error: Mapping[str, Any],
        now: datetime | None = None,
    ) -> list[str]:
        """End as ``error`` (with ``error``, finished ``now``) the running executions whose last
        heartbeat is before ``older_than`` and that were reaped ``reaped_at_least`` times
        already: their worker keeps dying, so they are not requeued again. Returns their ids,
        sorted. Call it before ``reap_stale``, which requeues the rest."""

    @abstractmethod
    def get_execution(self, execution_id: str, *, with_record: bool = True) -> Execution:
        """The execution, with its record unless ``with_record`` is false. Raises ``NotFound``."""

    @abstractmethod
    def list_executions(
        self,
        *,
        scenario_id: int | None = None,
        status: ExecutionStatus | Sequence[ExecutionStatus] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
        trigger_kind: TriggerKind | Sequence[TriggerKind] | None = None,
        with_records: bool = False,
    ) -> ExecutionPage:
        """A page of executions, newest first, without records unless ``with_records`` (then
        read in the same query: readers of many records, such as the sync log, make one query
        per page, not one per execution).

        Ordered by start, as the history's "Started" column reads: ``(started_at, id)``
        descending, where an execution not started (yet) — queued, or cancelled before a worker
        took it — counts as started when it was queued (``created_at``): a run queued now is at
        the top, and a run cancelled in the queue stays where it was queued. ``cursor`` is the
        opaque ``next_cursor`` of the previous page, so pages never repeat or skip rows, even
        when many executions share a timestamp or new ones arrive meanwhile (a queued run that
        starts while pages are read moves up, past the pages read). ``since`` is inclusive,
        ``until`` exclusive, both on that same start (or queueing) time.

        Raises:
            ValueError: a cursor that was not made by this method.
        """

    @abstractmethod
    def count_executions(
        self, *, scenario_id: int | None = None, status: ExecutionStatus | None = None
    ) -> int:
        """How many executions match."""

    @abstractmethod
    def purge_executions(self, before: datetime, *, limit: int | None = None) -> int:
        """Delete terminal executions created before ``before`` (retention); returns how many.
        With ``limit``, at most that many, oldest first (one batch of a longer cleanup)."""

    @abstractmethod
    def execution_stats(
        self, since: datetime, until: datetime | None = None
    ) -> list[tuple[int, str, int, int, int]]:
        """Per scenario and UTC day (``YYYY-MM-DD``) of ``created_at`` in ``[since, until)``:
        ``(scenario_id, day, runs, operations, errored runs)``, by scenario then day."""

    @abstractmethod
    def running_workers(self, since: datetime) -> list[str]:
        """Distinct workers of running executions that heartbeat at or after ``since``."""


class IncompleteExecutionStore(ABC):
    """Incomplete executions: the stored remainder of failed runs, retried or resolved."""

    @abstractmethod
    def create_incomplete(
        self,
        scenario_id: int,
        blueprint_version: int,
        state: Any,
        error: Mapping[str, Any],
        *,
        execution_id: str | None = None,
        failed_module_id: int | None = None,
        max_attempts: int = 0,
        next_retry_at: datetime | None = None,
    ) -> IncompleteExecution:
        """Store a pending incomplete execution with ``attempts == 0``.

        ``state`` (bundles, what remains to run) is opaque JSON; ``error`` has ``type`` and
        ``message``. ``max_attempts == 0`` with no ``next_retry_at`` means manual resolution.
        """

    @abstractmethod
    def get_incomplete(self, incomplete_id: int) -> IncompleteExecution:
        """The incomplete execution. Raises ``NotFound``."""

    @abstractmethod
    def list_incomplete(
        self,
        *,
        scenario_id: int | None = None,
        status: IncompleteStatus | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[IncompleteExecution]:
        """Incomplete executions, oldest first (the order sequential processing resolves)."""

    @abstractmethod
    def count_unresolved(self, scenario_id: int) -> int:
        """Pending or retrying ones of a scenario (sequential processing waits while > 0)."""

    @abstractmethod
    def update_incomplete(
        self,
        incomplete_id: int,
        *,
        state: Any | _Unset = UNSET,
        blueprint_version: int | _Unset = UNSET,
        next_retry_at: datetime | _Unset | None = UNSET,
        max_attempts: int | _Unset = UNSET,
        failed_module_id: int | _Unset | None = UNSET,
    ) -> IncompleteExecution:
        """Edit an unresolved one (the user fixes the stored data or picks another version).

        Raises:
            InvalidTransition: it is resolved. NotFound.
        """

    @abstractmethod
    def start_retry(self, incomplete_id: int, now: datetime | None = None) -> bool:
        """Move pending → retrying and count an attempt, atomically; ``False`` when it is not
        pending (another worker is retrying it, or it was resolved). Raises ``NotFound``."""

    @abstractmethod
    def retry_failed(
        self,
        incomplete_id: int,
        error: Mapping[str, Any],
        next_retry_at: datetime | None,
        *,
        state: Any | _Unset = UNSET,
        failed_module_id: int | _Unset | None = UNSET,
        max_attempts: int | _Unset = UNSET,
    ) -> IncompleteExecution:
        """Move retrying → pending with the new error and next retry time (``None``: no more
        automatic retries), in the same statement: where the retry failed (``state``,
        ``failed_module_id``) when it got past the stored module, and that failure's
        ``max_attempts``; ``attempts`` keeps counting. Raises ``InvalidTransition`` unless
        retrying, ``NotFound``."""

    @abstractmethod
    def resolve_incomplete(self, incomplete_id: int) -> IncompleteExecution:
        """Mark it resolved (retried successfully, or dismissed by the user); final.
        Raises ``InvalidTransition`` when already resolved, ``NotFound``."""

    @abstractmethod
    def delete_incomplete(self, incomplete_id: int) -> None:
        """Delete it. Raises ``NotFound``."""

    @abstractmethod
    def due_for_retry(
        self, now: datetime | None = None, limit: int = 100
    ) -> list[IncompleteExecution]:
        """Pending ones whose ``next_retry_at`` has come and whose attempts are below
        ``max_attempts``, soonest first."""
