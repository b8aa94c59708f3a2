"""Webhooks and their durable queue of received requests."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from engine.store.records import (
    UNSET,
    Execution,
    FinishedRun,
    QueueItem,
    Scenario,
    Webhook,
    _Unset,
)
from engine.store.statuses import QueueItemStatus


class WebhookStore(ABC):
    """Webhooks: an unguessable token identifies each one."""

    @property
    def route_version(self) -> int:
        """A number that moves on whenever this store object has written a scenario or a
        webhook (what routes a received request to a run): a route read at an earlier
        number may be stale. Writes by other processes do not move it."""
        return 0

    @abstractmethod
    def create_webhook(
        self,
        name: str,
        *,
        scenario_id: int | None = None,
        settings: Mapping[str, Any] | None = None,
        enabled: bool = True,
    ) -> Webhook:
        """Create a webhook with a fresh token from ``secrets.token_urlsafe(32)``."""

    @abstractmethod
    def get_webhook(self, webhook_id: int) -> Webhook:
        """The webhook. Raises ``NotFound``."""

    @abstractmethod
    def find_webhook_by_token(self, token: str) -> Webhook | None:
        """The webhook whose token is ``token``, or ``None`` (ingress answers 404)."""

    @abstractmethod
    def list_webhooks(self, *, scenario_id: int | None = None) -> list[Webhook]:
        """All webhooks (of one scenario when given), by id."""

    @abstractmethod
    def update_webhook(
        self,
        webhook_id: int,
        *,
        name: str | _Unset = UNSET,
        scenario_id: int | _Unset | None = UNSET,
        settings: Mapping[str, Any] | _Unset = UNSET,
        enabled: bool | _Unset = UNSET,
    ) -> Webhook:
        """Change what is given (``scenario_id=None`` detaches it). Raises ``NotFound``."""

    @abstractmethod
    def delete_webhook(self, webhook_id: int) -> None:
        """Delete the webhook and its queue. Raises ``NotFound``."""


class WebhookQueue(ABC):
    """The webhook queue: requests are durable once accepted, processed in arrival order, and
    claimed with a lease so a crashed worker's items come back."""

    @abstractmethod
    def enqueue(
        self,
        webhook_id: int,
        request: Mapping[str, Any],
        *,
        received_at: datetime | None = None,
        max_queued: int | None = None,
    ) -> QueueItem:
        """Store a received request; it is committed (durable) when this returns.

        Args:
            webhook_id: the webhook that received it.
            request: JSON from ``records.webhook_request`` (method, headers, query, body,
                content type).
            received_at: arrival time (now by default); the queue is ordered by it, then id.
            max_queued: refuse with ``QueueFull`` when this many items already wait.

        Raises:
            NotFound: no such webhook. QueueFull: see ``max_queued``.
        """

    @abstractmethod
    def enqueue_with_execution(
        self,
        webhook_id: int,
        request: Mapping[str, Any],
        *,
        scenario_id: int,
        scenario_version: int,
        execution_id: str,
        worker_id: str | None = None,
        received_at: datetime | None = None,
        finished: FinishedRun | None = None,
    ) -> tuple[QueueItem, Execution] | None:
        """Store a received request together with the execution that runs it, in one
        transaction (committed, durable, when this returns): the request is stored already
        ``done`` with ``execution_id``, and the execution (``webhook`` trigger, its
        ``trigger_ref`` the item's id) ``queued`` for a worker to claim.

        Only while the webhook still belongs to ``scenario_id`` and that scenario is active at
        ``scenario_version``, checked inside the transaction; otherwise nothing is stored and
        ``None`` comes back (the caller stores the request with ``enqueue``). No queue limit
        applies: the request never waits in the queue. With ``worker_id`` the execution is
        stored already claimed by it (``running``, started and beating at ``received_at``):
        that worker keeps its heartbeat from then on.

        With ``finished`` (and ``worker_id``) the execution is stored as that worker ended
        it — status, counts, error, ``finished_at`` — with its record, in the same commit:
        for a run made before anything was stored, whose caller is answered only once this
        returns. Raises ``ValueError`` for a ``finished`` status that does not end a run.
        """

    @abstractmethod
    def get_webhook_route(self, webhook_id: int) -> tuple[Webhook, Scenario | None]:
        """The webhook and the scenario it belongs to (``None`` when it belongs to none), read
        together in one statement. Raises ``NotFound`` (no such webhook)."""

    @abstractmethod
    def take_next_with_execution(
        self,
        webhook_id: int,
        *,
        scenario_id: int,
        scenario_version: int,
        execution_id: Callable[[int], str],
        worker_id: str,
        now: datetime | None = None,
    ) -> tuple[QueueItem, Execution | None] | None:
        """Take the oldest queued request of ``webhook_id`` and make the execution that runs
        it, in one transaction (the caller's ``transaction()`` when one is open): the request
        becomes ``done`` with ``execution_id(item.id)`` (``attempts`` counted, ``worker_id``
        noted) and the execution (``webhook`` trigger, created at the request's arrival) is
        stored ``running``, claimed by ``worker_id`` at ``now``, which beats for it from then
        on. Two workers never take the same request.

        Returns:
            ``None`` when nothing is queued; the item and ``None`` when an execution with that
            id exists already (made by an earlier taker: the caller claims that one, if still
            queued); else the item and the execution as stored (not read back).
        """

    @abstractmethod
    def claim_next(
        self,
        *,
        worker_id: str,
        lease_seconds: float,
        webhook_id: int | None = None,
        scenario_id: int | None = None,
        now: datetime | None = None,
    ) -> QueueItem | None:
        """Atomically claim the oldest queued item of a webhook, or of any webhook of a scenario
        (give exactly one of ``webhook_id``/``scenario_id``).

        Two workers never get the same item. The claim lasts until ``now + lease_seconds``;
        after that ``requeue_expired`` may hand it to someone else.

        Returns:
            The claimed item (status ``claimed``, ``attempts`` counted), or ``None`` when
            nothing is queued.
        """

    @abstractmethod
    def complete(
        self, item_id: int, execution_id: str | None, *, worker_id: str | None = None
    ) -> QueueItem:
        """Mark a claimed item done, noting the execution that processed it.

        Raises:
            InvalidTransition: the item is not claimed, or (when ``worker_id`` is given) it is
                claimed by another worker because this one's lease expired.
            NotFound: no such item.
        """

    @abstractmethod
    def fail(
        self, item_id: int, error: Mapping[str, Any], *, worker_id: str | None = None
    ) -> QueueItem:
        """Mark a claimed item failed with ``error`` JSON; same rules as ``complete``."""

    @abstractmethod
    def release(self, item_id: int, *, worker_id: str | None = None) -> QueueItem:
        """Give a claimed item back to the queue unprocessed (keeps its place: arrival order).
        Same rules as ``complete``."""

    @abstractmethod
    def requeue_expired(self, now: datetime | None = None) -> list[int]:
        """Put back every claimed item whose lease ended before ``now``; returns their ids."""

    @abstractmethod
    def get_queue_item(self, item_id: int) -> QueueItem:
        """The item. Raises ``NotFound``."""

    @abstractmethod
    def list_queue(
        self,
        webhook_id: int,
        *,
        status: QueueItemStatus | None = QueueItemStatus.QUEUED,
        limit: int = 100,
        offset: int = 0,
    ) -> list[QueueItem]:
        """Items of a webhook in arrival order; ``status=None`` lists every status."""

    @abstractmethod
    def count_queue(
        self, webhook_id: int, *, status: QueueItemStatus | None = QueueItemStatus.QUEUED
    ) -> int:
        """How many items of the webhook have ``status`` (all items when ``None``)."""

    @abstractmethod
    def delete_queue_item(self, item_id: int) -> None:
        """Delete one item. Raises ``NotFound``."""

    @abstractmethod
    def clear_queue(
        self, webhook_id: int, *, status: QueueItemStatus | None = QueueItemStatus.QUEUED
    ) -> int:
        """Delete the webhook's items with ``status`` (all when ``None``); returns how many."""
