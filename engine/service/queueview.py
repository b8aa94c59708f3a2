"""Looking into and acting on what waits: a webhook's queue of received requests, and
incomplete executions (edit the stored state or version, retry many at once)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.queue import Backplane
from engine.runtime import IncompleteState
from engine.service.errors import Conflict, InvalidField
from engine.service.incomplete import IncompleteOperations
from engine.service.plans import PlanCache
from engine.store import (
    UNSET,
    Execution,
    IncompleteExecution,
    IncompleteStatus,
    InvalidTransition,
    NotFound,
    QueueItem,
    QueueItemStatus,
    Store,
)

PROCESS_LIMIT = 500


@dataclass
class BulkRetry:
    queued: list[Execution] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


class QueueViewOperations:
    """Webhook queues and incomplete executions, looked into and acted on in bulk."""

    def __init__(
        self,
        store: Store,
        queue: Backplane,
        plans: PlanCache,
        incomplete: IncompleteOperations,
    ) -> None:
        self.store = store
        self.queue = queue
        self.plans = plans
        self.incomplete = incomplete

    # -- webhook queues --

    def webhook_queue(
        self,
        webhook_id: int,
        *,
        status: QueueItemStatus | None = QueueItemStatus.QUEUED,
        limit: int = 100,
        offset: int = 0,
    ) -> list[QueueItem]:
        """Items of a webhook in arrival order. Raises ``NotFound`` for an unknown webhook."""
        self.store.get_webhook(webhook_id)
        return self.store.list_queue(webhook_id, status=status, limit=limit, offset=offset)

    def webhook_queue_item(self, webhook_id: int, item_id: int) -> QueueItem:
        """One item with its stored request; ``NotFound`` unless it belongs to the webhook."""
        item = self.store.get_queue_item(item_id)
        if item.webhook_id != webhook_id:
            raise NotFound("queue item", item_id)
        return item

    def delete_webhook_queue_item(self, webhook_id: int, item_id: int) -> None:
        """Drop a request before it runs; ``Conflict`` while a worker has it claimed."""
        item = self.webhook_queue_item(webhook_id, item_id)
        if item.status is QueueItemStatus.CLAIMED:
            raise Conflict(f"queue item {item_id} is being processed")
        self.store.delete_queue_item(item_id)

    def process_webhook_queue(self, webhook_id: int) -> int:
        """Hand the webhook's queued requests to workers now; how many were dispatched.
        ``Conflict`` when it has no scenario or its scenario is inactive."""
        webhook = self.store.get_webhook(webhook_id)
        if webhook.scenario_id is None:
            raise Conflict(f"webhook {webhook_id} is not attached to a scenario")
        if not self.store.get_scenario(webhook.scenario_id).active:
            raise Conflict("activate the scenario to process its queue")
        count = min(self.store.count_queue(webhook_id), PROCESS_LIMIT)
        for _ in range(count):
            self.queue.dispatch_webhook(webhook_id)
        return count

    # -- incomplete executions --

    def edit_incomplete(
        self,
        incomplete_id: int,
        *,
        state: Any = UNSET,
        blueprint_version: Any = UNSET,
    ) -> IncompleteExecution:
        """Change the stored state (bundles by module id, the module to run again) or the
        blueprint version a retry uses. ``InvalidField`` for a state a retry cannot read or an
        unknown version; ``Conflict`` once resolved; ``NotFound``."""
        incomplete = self.store.get_incomplete(incomplete_id)
        failed_module_id: Any = UNSET
        if state is not UNSET:
            try:
                failed_module_id = IncompleteState.from_dict(state).module_id
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                raise InvalidField(
                    f"a state needs module_id, bundles and error: {error}", path="state"
                ) from None
        if blueprint_version is not UNSET:
            try:
                self.store.get_scenario_version(incomplete.scenario_id, blueprint_version)
            except NotFound:
                raise InvalidField(
                    f"scenario {incomplete.scenario_id} has no version {blueprint_version}",
                    path="blueprint_version",
                ) from None
        if failed_module_id is not UNSET:
            version = incomplete.blueprint_version
            if blueprint_version is not UNSET:
                version = blueprint_version
            if failed_module_id not in self.plans.get(incomplete.scenario_id, version).nodes:
                raise InvalidField(
                    f"version {version} has no module {failed_module_id}", path="state.module_id"
                )
        state = _unpin_edited_call(incomplete, state, blueprint_version)
        try:
            return self.store.update_incomplete(
                incomplete_id,
                state=state,
                blueprint_version=blueprint_version,
                failed_module_id=failed_module_id,
            )
        except InvalidTransition as error:
            raise Conflict(str(error)) from None

    def retry_incomplete_many(
        self, ids: Sequence[int] = (), *, scenario_id: int | None = None
    ) -> BulkRetry:
        """Queue a retry of each (or of every pending one of ``scenario_id``); the ones being
        retried, resolved or unknown are skipped."""
        wanted = list(ids)
        if scenario_id is not None:
            self.store.get_scenario(scenario_id)
            pending = self.store.list_incomplete(
                scenario_id=scenario_id, status=IncompleteStatus.PENDING, limit=10_000
            )
            wanted += [incomplete.id for incomplete in pending if incomplete.id not in wanted]
        result = BulkRetry()
        for incomplete_id in wanted:
            try:
                execution = self.incomplete.start_retry(incomplete_id)
            except NotFound:
                execution = None
            if execution is None:
                result.skipped.append(incomplete_id)
            else:
                result.queued.append(execution)
        return result


def _unpin_edited_call(incomplete: IncompleteExecution, state: Any, version: Any) -> Any:
    """The state to store after a person's edit. A retry repeats the failed call's idempotency
    key only while it would send what that call sent: new bundles or another blueprint version
    make a new request, which the API must not answer with the old one."""
    stored = incomplete.state if isinstance(incomplete.state, dict) else {}
    edited = dict(state) if isinstance(state, dict) else dict(stored)
    bundles_changed = state is not UNSET and edited.get("bundles") != stored.get("bundles")
    version_changed = version is not UNSET and version != incomplete.blueprint_version
    if "call" in edited and (bundles_changed or version_changed):
        edited.pop("call")
        return edited
    return state
