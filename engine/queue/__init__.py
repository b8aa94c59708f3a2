"""Queues: how ids of work reach workers. ``InlineQueue`` (threads in this process, the embedded
default) and ``CeleryQueue`` (Celery over Redis); both keep the contract in ``base``.

``CeleryQueue`` is imported lazily so the embedded product never loads Celery or redis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.queue.base import Lock, Queue, WebhookResponse, WorkHandler
from engine.queue.inline import InlineQueue

if TYPE_CHECKING:
    from engine.queue.celery_queue import CeleryQueue


def __getattr__(name: str) -> Any:
    if name == "CeleryQueue":
        from engine.queue.celery_queue import CeleryQueue

        return CeleryQueue
    raise AttributeError(name)


def make_queue(redis_url: str | None, *, inline_workers: int = 4) -> Queue:
    """``CeleryQueue`` when a Redis URL is configured, else ``InlineQueue``."""
    if redis_url:
        from engine.queue.celery_queue import CeleryQueue

        return CeleryQueue(redis_url)
    return InlineQueue(inline_workers)


__all__ = [
    "CeleryQueue",
    "InlineQueue",
    "Lock",
    "Queue",
    "WebhookResponse",
    "WorkHandler",
    "make_queue",
]
