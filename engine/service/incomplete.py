"""Incomplete executions: stored from a run's ``record.incomplete`` with that run's blueprint
version, retried automatically (``retries``) or by hand, resolved or deleted.

A later run of the same scenario that handles the same record without an error (Synced, Not
Synced, Not Valid: the sync log's key of its first-module bundle) supersedes the record's
pending incomplete executions: they are resolved. That run read the record as it is now; a
retry would resume with the older bundles (an edit Xero refused, sent again over a newer one),
and one left pending once its retries were spent would go on saying the record needs
attention after its cause is gone (scenarios/README.md, *Paid invoices changed*).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from engine.graph import Plan
from engine.queue import Backplane
from engine.runtime import ExecutionRecord, IncompleteState
from engine.service.base import Clock
from engine.service.errors import Conflict
from engine.service.retries import policy_for
from engine.service.synclog import handled_keys, incomplete_key
from engine.store import (
    Execution,
    IncompleteExecution,
    IncompleteStatus,
    InvalidTransition,
    NotFound,
    Store,
    TriggerKind,
)

SUPERSEDE_SCAN = 1000
"""Pending incomplete executions of a scenario a finished run compares its records with."""


class IncompleteOperations:
    """Incomplete executions: listed, retried, resolved, deleted; and what a run's end or a
    failed retry leaves of them (``settle_incomplete``, ``settle_broken_retry``)."""

    def __init__(self, store: Store, queue: Backplane, clock: Clock) -> None:
        self.store = store
        self.queue = queue
        self.clock = clock

    def list_incomplete(
        self,
        *,
        scenario_id: int | None = None,
        status: IncompleteStatus | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[IncompleteExecution]:
        return self.store.list_incomplete(
            scenario_id=scenario_id, status=status, limit=limit, offset=offset
        )

    def get_incomplete(self, incomplete_id: int) -> IncompleteExecution:
        return self.store.get_incomplete(incomplete_id)

    def retry_incomplete(self, incomplete_id: int) -> Execution:
        """Queue a run that resumes the stored state with the plan of the version it failed
        in. Raises ``Conflict`` when it is already being retried or resolved, ``NotFound``."""
        execution = self.start_retry(incomplete_id)
        if execution is None:
            raise Conflict(f"incomplete execution {incomplete_id} is being retried or resolved")
        return execution

    def resolve_incomplete(self, incomplete_id: int) -> IncompleteExecution:
        """Dismiss it (the user dealt with it). Raises ``Conflict`` when already resolved."""
        try:
            return self.store.resolve_incomplete(incomplete_id)
        except InvalidTransition as error:
            raise Conflict(str(error)) from None

    def delete_incomplete(self, incomplete_id: int) -> None:
        self.store.delete_incomplete(incomplete_id)

    def start_retry(self, incomplete_id: int) -> Execution | None:
        """Queue a retry run of it; ``None`` when it is being retried or resolved already."""
        incomplete = self.store.get_incomplete(incomplete_id)
        if not self.store.start_retry(incomplete_id):
            return None
        execution = self.store.create_execution(
            incomplete.scenario_id,
            incomplete.blueprint_version,
            TriggerKind.RETRY,
            str(incomplete_id),
        )
        self.queue.dispatch_execution(execution.id)
        return execution

    def settles(self, execution: Execution, record: ExecutionRecord, plan: Plan) -> bool:
        """Whether ``settle_incomplete`` writes anything for this run (a retry run, one that
        left incomplete state, or one whose scenario has pending incomplete executions it may
        supersede): its finish then shares a transaction with that."""
        return (
            execution.trigger_kind is TriggerKind.RETRY
            or bool(record.incomplete)
            or (plan.leaves_incomplete and bool(self._pending(execution.scenario_id, limit=1)))
        )

    def _pending(self, scenario_id: int, limit: int = SUPERSEDE_SCAN) -> list[IncompleteExecution]:
        return self.store.list_incomplete(
            scenario_id=scenario_id, status=IncompleteStatus.PENDING, limit=limit
        )

    def settle_incomplete(self, execution: Execution, record: ExecutionRecord, plan: Plan) -> None:
        """Store new incomplete states; for a retry run, resolve or reschedule the retried one."""
        states = list(record.incomplete)
        if execution.trigger_kind is TriggerKind.RETRY:
            incomplete_id = int(execution.trigger_ref or 0)
            # Resolved or deleted by a person while its retry ran: theirs is the last word.
            with contextlib.suppress(InvalidTransition, NotFound):
                if states:
                    # The retried bundle stopped again, at its module or a later one: it waits
                    # there now, so the next retry does not redo what this one wrote.
                    self._retry_failed(incomplete_id, states.pop(0))
                elif record.stopped_at is not None:
                    # Rolled back after writes that auto-commit made final: it waits where
                    # the rollback stopped it, as after a Break there.
                    self._retry_failed(incomplete_id, record.stopped_at)
                elif record.status.value == "error":
                    self._retry_failed(incomplete_id, record.error or {})
                else:
                    self.store.resolve_incomplete(incomplete_id)
        for state in states:
            self._store_state(execution, state.to_dict(), state.error, state.retry)
        if plan.leaves_incomplete:
            self._supersede(execution, record)

    def _supersede(self, execution: Execution, record: ExecutionRecord) -> None:
        """Resolve the pending incomplete executions of the records this run handled (the
        module docstring); those this run stored, or retried, are its own."""
        pending = [
            i for i in self._pending(execution.scenario_id) if i.execution_id != execution.id
        ]
        if not pending:
            return
        data = record.to_dict()
        handled = handled_keys(data)
        retried = execution.trigger_ref if execution.trigger_kind is TriggerKind.RETRY else None
        for incomplete in pending:
            if (
                handled
                and str(incomplete.id) != retried
                and incomplete_key(incomplete, data) in handled
            ):
                # Resolved or retried by a person meanwhile: theirs is the last word.
                with contextlib.suppress(InvalidTransition, NotFound):
                    self.store.resolve_incomplete(incomplete.id)

    def settle_broken_retry(self, execution: Execution, error: Mapping[str, Any]) -> None:
        """A retry run that could not run at all counts as a failed attempt."""
        if execution.trigger_kind is TriggerKind.RETRY:
            with contextlib.suppress(InvalidTransition, NotFound):
                self._retry_failed(int(execution.trigger_ref or 0), error)

    def _retry_failed(
        self, incomplete_id: int, failure: IncompleteState | Mapping[str, Any]
    ) -> None:
        """Reschedule a failed retry: ``failure`` is the state the run stored where it stopped
        (it replaces the stored one), or only an error (a run that rolled back or could not
        run: the stored state is still what remains). Attempts keep counting; the policy is
        that of the new failure."""
        incomplete = self.store.get_incomplete(incomplete_id)
        moved: dict[str, Any] = {}
        error: Mapping[str, Any]
        retry: Mapping[str, Any]
        if isinstance(failure, IncompleteState):
            error, retry = failure.error, failure.retry
            moved = {"state": failure.to_dict(), "failed_module_id": failure.module_id}
        else:
            stored = incomplete.state if isinstance(incomplete.state, dict) else {}
            error, retry = failure, stored.get("retry") or {}
        policy = policy_for(error, retry)
        next_at = policy.next_retry_at(incomplete.attempts, self.clock())
        self.store.retry_failed(
            incomplete_id, _error(error), next_at, max_attempts=policy.attempts, **moved
        )

    def _store_state(
        self,
        execution: Execution,
        state: dict[str, Any],
        error: Mapping[str, Any],
        retry: Mapping[str, Any],
    ) -> None:
        policy = policy_for(error, retry)
        self.store.create_incomplete(
            execution.scenario_id,
            execution.scenario_version,
            state,
            _error(error),
            execution_id=execution.id,
            failed_module_id=state.get("module_id"),
            max_attempts=policy.attempts,
            next_retry_at=policy.next_retry_at(0, self.clock()),
        )


def _error(error: Mapping[str, Any]) -> dict[str, Any]:
    kind, message = error.get("type", "RuntimeError"), error.get("message", "")
    return {"type": str(kind), "message": str(message)}
