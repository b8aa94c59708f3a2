"""The backplane interface (``Backplane``, also known by its older name ``Queue``): what the
processes of one installation share besides the store. Work dispatch, locks, webhook answers, run
events and limits (rates, calls in flight). Two implementations, picked by one factory
(``engine.queue.make_backplane``) from the settings: ``InlineQueue`` (in this process, the
embedded default) and ``CeleryQueue`` (Celery and Redis), so a service is never half on Redis.

A queue moves *ids*, never payloads: everything a worker needs is durable in the store before
the id is dispatched, so a lost message loses nothing (the periodic sweep dispatches again) and a
duplicate message does nothing (the store's atomic claims let only one worker run a thing).

Contract every implementation keeps (``tests/service/test_queue_contract.py`` checks both):

* ``dispatch_webhook``/``dispatch_execution`` never block on the network and never raise
  because the transport is down; they return once the id is handed over (or dropped, to be
  recovered by the sweep).
* A dispatched id reaches ``WorkHandler.process_webhook``/``execute`` at least once while the
  transport works.
* ``lock(name, ttl)`` is a mutual-exclusion lease across every process sharing the queue;
  ``publish_response``/``wait_response`` carry one webhook response from the worker that ran
  the scenario to the web process that holds the caller's connection; the wait lasts as long
  as its caller asks, however long that is.
* ``messages_lost`` tells the tick, once, that the transport lost ids it had been handed (its
  data was flushed or it restarted empty), so the sweep dispatches everything waiting at once
  instead of after the grace period.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.queue.events import EventHub
from engine.ratelimit import ConcurrencyLimiter, RateLimiter


class WorkHandler(Protocol):
    """What a queue delivers work to: the service (``engine.service.Service``)."""

    def process_webhook(self, webhook_id: int) -> list[str]: ...

    def execute(self, execution_id: str) -> Any: ...

    def tick(self) -> Any: ...


@dataclass(frozen=True)
class WebhookResponse:
    """The answer a ``gateway:WebhookRespond`` module gave, ready for the HTTP layer."""

    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "body": self.body, "headers": dict(self.headers)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WebhookResponse:
        return cls(int(data["status"]), str(data["body"]), dict(data.get("headers") or {}))


class Lock(ABC):
    """A held lease on a name; ``refresh`` extends it, ``release`` gives it up (idempotent)."""

    @abstractmethod
    def refresh(self) -> bool:
        """Extend the lease by its ttl; ``False`` when it was lost (expired and taken)."""

    @abstractmethod
    def release(self) -> None:
        """Give the lease up if still held."""


@dataclass(frozen=True)
class Limits:
    """The limits a backplane shares between processes: rates and calls in flight."""

    rate: RateLimiter
    concurrency: ConcurrencyLimiter


class Backplane(ABC):
    """Hands ids to workers and carries what processes share. See the module docstring for the
    contract.

    Attributes:
        events: the run-event hub (relayed between processes when the backplane spans them).
        limits: rate and concurrency limiters counted wherever the backplane counts.
        in_process: whether this process is the whole installation (its threads do the work
            and its scheduler ticks), or workers elsewhere share the backplane.
    """

    events: EventHub
    limits: Limits
    in_process: bool = False

    def bind(self, handler: WorkHandler) -> None:  # noqa: B027 - optional hook, not abstract
        """Tell an in-process queue whom to deliver to; remote queues ignore it (their
        worker processes build their own service)."""

    @abstractmethod
    def dispatch_webhook(self, webhook_id: int) -> None:
        """Ask a worker to process the oldest queued request of the webhook."""

    @abstractmethod
    def dispatch_execution(self, execution_id: str) -> None:
        """Ask a worker to run the queued execution."""

    @abstractmethod
    def try_lock(self, name: str, ttl_seconds: float) -> Lock | None:
        """The lease on ``name``, or ``None`` when someone else holds it (or the lock service
        is unreachable: callers then skip the guarded work and let the sweep retry)."""

    @contextmanager
    def locked(self, name: str, ttl_seconds: float) -> Iterator[Lock | None]:
        """``try_lock`` as a context manager that releases on exit."""
        lock = self.try_lock(name, ttl_seconds)
        try:
            yield lock
        finally:
            if lock is not None:
                lock.release()

    @abstractmethod
    def publish_response(self, key: str, response: WebhookResponse) -> None:
        """Deliver a webhook response to whoever waits on ``key`` (kept briefly if nobody
        waits yet). Never raises because the transport is down."""

    @abstractmethod
    def wait_response(self, key: str, timeout: float) -> WebhookResponse | None:
        """The response published under ``key``, waiting up to ``timeout`` seconds;
        ``None`` on timeout or when the transport is down."""

    def messages_lost(self) -> bool:
        """Whether ids handed over before now may have been lost since the last call, other
        than with this process (a restart's recovery covers those): ``True`` once per loss.
        Queues that keep ids only in this process never lose them otherwise."""
        return False

    def works_here(self) -> bool:
        """Whether threads of this process run what it dispatches, and have little waiting:
        then the service makes a webhook request's execution when it stores the request."""
        return False

    def start(self) -> None:  # noqa: B027 - optional hook
        """Start background threads (idempotent)."""

    def close(self, timeout: float = 5.0) -> None:  # noqa: B027 - optional hook
        """Stop background threads, waiting up to ``timeout`` for work in hand."""


Queue = Backplane
"""The backplane's older name, still used where only its queue side matters."""
