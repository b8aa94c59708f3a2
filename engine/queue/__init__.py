"""The backplane: what the processes of one installation share besides the store (work dispatch,
locks, webhook answers, run events, rate and concurrency limits).

``make_backplane(settings)`` is the one place that decides "Redis or in-process":
``CeleryQueue`` (Celery and Redis) when ``SWITCHBOARD_REDIS_URL`` is set, else ``InlineQueue``
(threads and memory of this process, the embedded default). Both keep the contract in ``base``
(``tests/service/test_queue_contract.py`` runs it on both).

``CeleryQueue`` is imported lazily so the embedded product never loads Celery or redis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.config import Settings
from engine.queue.base import Backplane, Limits, Lock, Queue, WebhookResponse, WorkHandler
from engine.queue.events import EventHub, Subscription
from engine.queue.inline import InlineQueue

if TYPE_CHECKING:
    from engine.queue.celery_queue import CeleryQueue


def __getattr__(name: str) -> Any:
    if name == "CeleryQueue":
        from engine.queue.celery_queue import CeleryQueue

        return CeleryQueue
    raise AttributeError(name)


def runs_in_process(settings: Settings) -> bool:
    """Whether the installation is embedded (no Redis: runs on this process's queue threads),
    for what must know before a backplane is made (``switchboard serve``'s process layout)."""
    return not settings.redis_url


def make_backplane(settings: Settings, *, inline_workers: int = 4, app: Any = None) -> Backplane:
    """The installation's backplane: ``CeleryQueue`` on ``settings.redis_url`` (publishing with
    ``app`` when given: a worker's own), else an ``InlineQueue`` of ``inline_workers`` threads."""
    if settings.redis_url:
        from engine.queue.celery_queue import CeleryQueue

        return CeleryQueue(settings.redis_url, app=app)
    return InlineQueue(inline_workers)


def process_limits(settings: Settings | None = None) -> Limits:
    """The limits this process's backplane counts with, for code that runs without the service
    at hand (connectors' ``ApiClient``): the Redis ones every process shares when the settings
    (by default ``Settings.from_env()``) name Redis, else new in-process ones. Same choice as
    ``make_backplane``, without starting a backplane."""
    settings = settings or Settings.from_env()
    if settings.redis_url:
        from engine.queue.celery_queue import CeleryQueue

        return CeleryQueue.limits_for(settings.redis_url)
    return InlineQueue.limits_for()


__all__ = [
    "Backplane",
    "CeleryQueue",
    "EventHub",
    "InlineQueue",
    "Limits",
    "Lock",
    "Queue",
    "Subscription",
    "WebhookResponse",
    "WorkHandler",
    "make_backplane",
    "process_limits",
    "runs_in_process",
]
