"""``InlineQueue``: worker threads inside the web process, the embedded default (no Redis).

Ids wait in an in-memory FIFO; losing them with the process loses nothing, because what they
point at is durable in the store and the scheduler's sweep dispatches it again after a restart.
"""

from __future__ import annotations

import logging
import queue as stdlib_queue
import threading
import time
import uuid
from collections.abc import Callable

from engine.failures import log_failure
from engine.queue.base import Backplane, Limits, Lock, WebhookResponse, WorkHandler
from engine.queue.events import EventHub
from engine.ratelimit import MemoryConcurrencyLimiter, MemoryRateLimiter

log = logging.getLogger("switchboard.queue")

_STOP = ("stop", "")
_RESPONSE_KEEP_SECONDS = 60.0
BUSY_BACKLOG = 256
"""Ids waiting for a thread beyond which requests wait in the store's webhook queue instead
(where its limit applies) rather than as executions made for them at ingress."""


class _MemoryLock(Lock):
    def __init__(self, owner: InlineQueue, name: str, token: str, ttl: float) -> None:
        self._owner, self._name, self._token, self._ttl = owner, name, token, ttl

    def refresh(self) -> bool:
        return self._owner._refresh_lock(self._name, self._token, self._ttl)

    def release(self) -> None:
        self._owner._release_lock(self._name, self._token)


class InlineQueue(Backplane):
    """The in-process backplane: runs dispatched work on ``workers`` daemon threads of this
    process; locks, webhook answers, run events and limits live in its memory.

    Args:
        workers: how many runs may go on at once.
        monotonic: the clock for lock leases (tests pass a fake one).
    """

    in_process = True

    def __init__(
        self, workers: int = 4, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._workers = max(1, workers)
        self._monotonic = monotonic
        self._items: stdlib_queue.Queue[tuple[str, str]] = stdlib_queue.Queue()
        self._handler: WorkHandler | None = None
        self._threads: list[threading.Thread] = []
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[str, float]] = {}
        self._responses: dict[str, tuple[WebhookResponse, float]] = {}
        self._answered = threading.Condition(self._guard)
        self.events = EventHub()
        self.limits = self.limits_for(monotonic)

    @staticmethod
    def limits_for(monotonic: Callable[[], float] = time.monotonic) -> Limits:
        """New in-process limits (one process counts alone)."""
        return Limits(MemoryRateLimiter(monotonic), MemoryConcurrencyLimiter(monotonic))

    # -- delivery -------------------------------------------------------------------------------

    def bind(self, handler: WorkHandler) -> None:
        self._handler = handler

    def dispatch_webhook(self, webhook_id: int) -> None:
        self._items.put(("webhook", str(webhook_id)))

    def dispatch_execution(self, execution_id: str) -> None:
        self._items.put(("execution", execution_id))

    def pending(self) -> int:
        """Ids waiting for a thread (for tests and the health page)."""
        return self._items.qsize()

    def works_here(self) -> bool:
        """Its threads are started and fewer than ``BUSY_BACKLOG`` ids wait for them."""
        return bool(self._threads) and self._items.qsize() < BUSY_BACKLOG

    def start(self) -> None:
        with self._guard:
            if self._threads:
                return
            for number in range(self._workers):
                thread = threading.Thread(
                    target=self._work, name=f"switchboard-inline-{number}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def close(self, timeout: float = 5.0) -> None:
        with self._guard:
            threads, self._threads = self._threads, []
        for _ in threads:
            self._items.put(_STOP)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.events.close()

    def _work(self) -> None:
        while True:
            kind, ident = self._items.get()
            if (kind, ident) == _STOP:
                return
            self._deliver(kind, ident)

    def _deliver(self, kind: str, ident: str) -> None:
        handler = self._handler
        if handler is None:
            log.error("inline queue has no handler bound; dropped %s %s", kind, ident)
            return
        try:
            if kind == "webhook":
                handler.process_webhook(int(ident))
            else:
                handler.execute(ident)
        except Exception as error:  # a worker thread must survive any one run's failure
            log_failure(log, "inline worker failed on %s %s", kind, ident, error=error)

    # -- locks ----------------------------------------------------------------------------------

    def try_lock(self, name: str, ttl_seconds: float) -> Lock | None:
        token = uuid.uuid4().hex
        with self._guard:
            held = self._locks.get(name)
            if held is not None and held[1] > self._monotonic():
                return None
            self._locks[name] = (token, self._monotonic() + ttl_seconds)
        return _MemoryLock(self, name, token, ttl_seconds)

    def _refresh_lock(self, name: str, token: str, ttl: float) -> bool:
        with self._guard:
            held = self._locks.get(name)
            if held is None or held[0] != token:
                return False
            self._locks[name] = (token, self._monotonic() + ttl)
            return True

    def _release_lock(self, name: str, token: str) -> None:
        with self._guard:
            held = self._locks.get(name)
            if held is not None and held[0] == token:
                del self._locks[name]

    # -- webhook responses ------------------------------------------------------------------------

    def publish_response(self, key: str, response: WebhookResponse) -> None:
        with self._answered:
            self._forget_old_responses()
            self._responses[key] = (response, self._monotonic() + _RESPONSE_KEEP_SECONDS)
            self._answered.notify_all()

    def wait_response(self, key: str, timeout: float) -> WebhookResponse | None:
        deadline = time.monotonic() + timeout
        with self._answered:
            while key not in self._responses:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._answered.wait(remaining)
            return self._responses.pop(key)[0]

    def _forget_old_responses(self) -> None:
        now = self._monotonic()
        for key in [key for key, (_, until) in self._responses.items() if until < now]:
            del self._responses[key]
