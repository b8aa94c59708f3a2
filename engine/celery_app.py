"""The Celery app: tasks are one-liners over the service and carry ids only.

``celery -A engine.celery_app worker`` (what ``switchboard worker`` runs) and
``celery -A engine.celery_app beat`` (``switchboard scheduler``). Every task is ``acks_late``:
a worker that dies mid-task leaves its message to be redelivered, which is harmless because the
service's store claims let only one worker run a thing; the scheduler's sweep covers messages
lost outright.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import Celery

from engine.failures import TaskFailed, error_type, log_failure
from engine.queue.celery_queue import EXECUTION_TASK, TICK_TASK, WEBHOOK_TASK

log = logging.getLogger("switchboard.worker")

_service: tuple[int, Any] | None = None  # (pid, service): rebuilt in a forked child
_service_guard = threading.Lock()


def create_celery_app(redis_url: str | None, *, tick_seconds: float | None = None) -> Celery:
    """A Celery app on Redis (broker and result backend) with Switchboard's settings."""
    app = Celery("switchboard", broker=redis_url, backend=redis_url, set_as_current=False)
    tick = tick_seconds or float(os.environ.get("SWITCHBOARD_TICK_SECONDS", "5"))
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,  # results live in the store; Redis only carries ids
        worker_prefetch_multiplier=1,
        task_publish_retry=False,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=2,
        worker_hijack_root_logger=False,
        beat_schedule={"switchboard-tick": {"task": TICK_TASK, "schedule": tick}},
    )
    _register_tasks(app)
    return app


def _register_tasks(app: Celery) -> None:
    @app.task(name=WEBHOOK_TASK, acks_late=True)
    def process_webhook(webhook_id: int) -> None:
        with _reported("webhook", webhook_id):
            worker_service().process_webhook(int(webhook_id))

    @app.task(name=EXECUTION_TASK, acks_late=True)
    def execute(execution_id: str) -> None:
        with _reported("execution", execution_id):
            worker_service().execute(str(execution_id))

    @app.task(name=TICK_TASK, acks_late=True)
    def tick() -> None:
        with _reported("tick", ""):
            worker_service().tick()


@contextmanager
def _reported(what: str, ident: object) -> Iterator[None]:
    """Log a task's failure by its ids (``log_failure``: no message, which may quote payload
    data) and give Celery a ``TaskFailed`` that says no more, since Celery's own line for a
    failed task prints the exception's message."""
    try:
        yield
    except Exception as error:
        log_failure(log, "%s %s failed", what, ident, error=error)
        raise TaskFailed(f"{what} {ident} failed: {error_type(error)}") from None


def worker_service() -> Any:
    """This worker process's service (built on first use, after any fork)."""
    global _service
    with _service_guard:
        if _service is None or _service[0] != os.getpid():
            from engine.config import Settings
            from engine.queue.celery_queue import CeleryQueue
            from engine.service import build_service

            settings = Settings.from_env()
            queue = CeleryQueue(settings.redis_url or "", app=app)
            _service = (os.getpid(), build_service(settings, queue=queue))
        return _service[1]


app = create_celery_app(os.environ.get("SWITCHBOARD_REDIS_URL") or None)
