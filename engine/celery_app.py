"""The Celery worker entry: tasks are one-liners over the service and carry ids only.

Only the worker and beat processes import this module (nothing in ``engine`` does): the Redis
backplane (``engine.queue.celery_queue``) publishes by task name with an app of its own, so
there is no import loop through here.

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
from engine.queue.celery_queue import create_celery_app as create_publisher_app

log = logging.getLogger("switchboard.worker")

_service: tuple[int, Any] | None = None  # (pid, service): rebuilt in a forked child
_service_guard = threading.Lock()


def create_celery_app(redis_url: str | None, *, tick_seconds: float | None = None) -> Celery:
    """A Celery app on Redis with Switchboard's settings and its tasks registered."""
    app: Celery = create_publisher_app(redis_url, tick_seconds=tick_seconds)
    _register_tasks(app)
    return app


def _register_tasks(app: Celery) -> None:
    @app.task(name=WEBHOOK_TASK, acks_late=True)
    def process_webhook(webhook_id: int, requests: int = 1) -> None:
        with _reported("webhook", webhook_id):
            run_queued_requests(worker_service(), int(webhook_id), int(requests))

    @app.task(name=EXECUTION_TASK, acks_late=True)
    def execute(execution_id: str) -> None:
        with _reported("execution", execution_id):
            worker_service().execute(str(execution_id))

    @app.task(name=TICK_TASK, acks_late=True)
    def tick() -> None:
        with _reported("tick", ""):
            worker_service().tick()


def run_queued_requests(service: Any, webhook_id: int, requests: int) -> None:
    """Run up to ``requests`` of the webhook's queued requests, oldest first, one call (and
    transaction) each as one message each would: the publisher puts several dispatches of a
    webhook in one message (``coalesced``). Stops once a call runs nothing (the queue is empty,
    taken by other workers, or its scenario inactive). A request that fails does not keep the
    later ones from running; the first failure is raised after them."""
    failure: Exception | None = None
    for _ in range(max(requests, 1)):
        try:
            if not service.process_webhook(webhook_id):
                break
        except Exception as error:
            if failure is not None:  # the first is raised below, and logged where it is caught
                log_failure(log, "webhook %s failed", webhook_id, error=error)
            failure = failure or error
    if failure is not None:
        raise failure


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
            from engine.queue import make_backplane
            from engine.service import build_service

            settings = Settings.from_env()
            backplane = make_backplane(settings, app=app)
            _service = (os.getpid(), build_service(settings, queue=backplane))
        return _service[1]


app = create_celery_app(os.environ.get("SWITCHBOARD_REDIS_URL") or None)
