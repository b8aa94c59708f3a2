"""What a run needs from the real world: store-backed connections, data stores and cursors, and
a heartbeat that tells the reaper this worker is alive."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

from engine.failures import log_failure
from engine.jsonvalues import dumps, encodable
from engine.queue import WebhookResponse
from engine.store import Store

log = logging.getLogger("switchboard.service")

_HOST = socket.gethostname()


def new_worker_id() -> str:
    """Unique per run attempt, so a reaped-then-reclaimed execution never mixes owners."""
    return f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class ModuleState(MutableMapping[int, Any]):
    """``RunContext.module_state``: what modules keep from run to run (by module id), stored
    beside the scenario's trigger cursors so it lives and dies with the scenario."""

    def __init__(self, store: Store, scenario_id: int) -> None:
        self._store = store
        self._scenario_id = scenario_id

    def __getitem__(self, module_id: int) -> Any:
        value = self._store.get_cursor(self._scenario_id, int(module_id))
        if value is None:
            raise KeyError(module_id)
        return value

    def __setitem__(self, module_id: int, value: Any) -> None:
        self._store.set_cursor(self._scenario_id, int(module_id), value)

    def __delitem__(self, module_id: int) -> None:
        if not self._store.clear_cursor(self._scenario_id, int(module_id)):
            raise KeyError(module_id)

    def __iter__(self) -> Iterator[int]:
        raise TypeError("module state is read by module id, not listed")

    def __len__(self) -> int:
        raise TypeError("module state is read by module id, not counted")


class Responder:
    """``RunContext.respond`` for a webhook run: the first answer goes to the waiting caller."""

    def __init__(self, publish: Callable[[WebhookResponse], None]) -> None:
        self._publish = publish
        self.answered = False

    def __call__(self, status: int, body: Any, headers: Mapping[str, str]) -> None:
        if self.answered:
            return  # Make answers once; later responders cannot change what was sent
        self.answered = True
        # A lone surrogate a run made (it parsed JSON holding one) cannot leave as UTF-8: the
        # answer would fail after the request was stored. JSON keeps it escaped; text gets �.
        text = encodable(body) if isinstance(body, str) else dumps(body)
        self._publish(WebhookResponse(int(status), text, dict(headers)))


class HeartbeatMonitor:
    """One thread per process beats for every execution this process is running.

    ``beating`` registers an execution for the duration of a ``with`` block; every
    ``interval`` seconds the thread calls ``store.heartbeat`` (and the optional ``also``, used
    to keep a sequential scenario's lock).
    """

    def __init__(self, store: Store, interval: float) -> None:
        self._store = store
        self._interval = interval
        self._running: dict[str, tuple[str, Callable[[], Any] | None]] = {}
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @contextmanager
    def beating(
        self, execution_id: str, worker_id: str, also: Callable[[], Any] | None = None
    ) -> Iterator[None]:
        self._ensure_thread()
        with self._guard:
            self._running[execution_id] = (worker_id, also)
        try:
            yield
        finally:
            with self._guard:
                self._running.pop(execution_id, None)

    def hold(self, execution_id: str, worker_id: str) -> None:
        """Beat for an execution claimed before its run starts (made at ingress, waiting for a
        thread) until ``beating`` for it ends or ``let_go``."""
        self._ensure_thread()
        with self._guard:
            self._running.setdefault(execution_id, (worker_id, None))

    def let_go(self, execution_id: str) -> None:
        """Stop beating for a held execution (the reaper may take it back)."""
        with self._guard:
            self._running.pop(execution_id, None)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(self._interval + 5)

    def _ensure_thread(self) -> None:
        with self._guard:
            alive = self._thread is not None and self._thread.is_alive()
            if alive or self._stop.is_set():
                return
            self._thread = threading.Thread(
                target=self._loop, name="switchboard-heartbeat", daemon=True
            )
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            with self._guard:
                running = list(self._running.items())
            for execution_id, (worker_id, also) in running:
                self._beat(execution_id, worker_id, also)

    def _still_running(self, execution_id: str) -> bool:
        with self._guard:
            return execution_id in self._running

    def _beat(self, execution_id: str, worker_id: str, also: Callable[[], Any] | None) -> None:
        try:
            if not self._store.heartbeat(execution_id, worker_id) and self._still_running(
                execution_id
            ):  # a run that ended since the loop looked has finished, not been reaped
                log.warning("execution %s was taken from this worker (reaped)", execution_id)
            if also is not None:
                also()
        except Exception as error:  # a missed beat is survivable; the next one may get through
            log_failure(log, "heartbeat for %s failed", execution_id, error=error)
