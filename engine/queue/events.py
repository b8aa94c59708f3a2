"""Run events on the backplane: an in-process fan-out (``EventHub``) with an optional Redis
pub/sub relay between processes, so a run in a Celery worker reaches the web process that streams
it. What the events say is the service's business (``engine.service.events``); the hub only keeps
and carries them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from engine.failures import log_failure

log = logging.getLogger("switchboard.events")

CHANNEL = "switchboard:execution-events"
FINISHED = "finished"
_BATCH = 256  # events published in one pipelined round trip at most
_LISTENERS_CHECK_SECONDS = 1.0
"""How long a relay trusts its last look at whether any process listens (``PUBSUB NUMSUB``)."""


class Subscription:
    """Events of one execution: ``replay`` (what happened before subscribing), then ``next``."""

    def __init__(self, replay: list[dict[str, Any]]) -> None:
        self.replay = replay
        self._queue: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()

    def put(self, event: dict[str, Any]) -> None:
        self._queue.put(event)

    def next(self, timeout: float) -> dict[str, Any] | None:
        """The next event, or ``None`` after ``timeout`` seconds without one."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None


class EventHub:
    """In-process fan-out of run events, with an optional Redis relay between processes.

    Args:
        redis_url: relay through Redis pub/sub when given.
        keep_finished: how many finished runs' events stay for late subscribers.
        keep_running: how many runs in flight keep their events (the oldest go first).
        max_events: events kept per run (later ones are still delivered live).
        finished_budget: events the finished runs keep in all; past it the oldest finished
            runs are forgotten first. Without it 64 runs of 2,000 events each (a run over
            thousands of items) held ~60 MB, and a server's memory grew run after run.
    """

    def __init__(
        self,
        redis_url: str | None = None,
        *,
        keep_finished: int = 64,
        max_events: int = 2000,
        keep_running: int = 1024,
        finished_budget: int = 20_000,
    ) -> None:
        self._guard = threading.Lock()
        self._events: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._subscribers: dict[str, list[Subscription]] = {}
        self._keep_finished = keep_finished
        self._keep_running = keep_running
        self._max_events = max_events
        self._finished_budget = finished_budget
        self._finished_events = 0
        self._relay = _RedisRelay(redis_url, self._deliver) if redis_url else None

    def publish(self, execution_id: str, event: dict[str, Any]) -> None:
        """Deliver ``event`` here and, with Redis, to the other processes."""
        self._deliver(execution_id, event)
        if self._relay is not None:
            self._relay.publish(execution_id, event)

    def unheard(self, execution_id: str) -> bool:
        """Whether a progress event of this run would now reach no one, so its sender may
        leave it out: the run already keeps ``max_events`` (later ones are only delivered
        live), nobody here subscribes to it, and no other process listens (no relay, or the
        relay's last look found no listener). A run over 10,000 items sends two events an
        operation, and building and delivering those nobody reads was ~10 % of its CPU.

        Read without the lock (one dict read each under the GIL): a subscriber arriving
        just after the answer misses this event exactly as it would had the event been
        delivered just before it subscribed — past what the replay keeps."""
        kept = self._events.get(execution_id)
        return (
            kept is not None
            and len(kept) >= self._max_events
            and execution_id not in self._subscribers
            and (self._relay is None or self._relay.unheard())
        )

    @contextlib.contextmanager
    def subscribe(self, execution_id: str) -> Iterator[Subscription]:
        if self._relay is not None:
            self._relay.listen()
        with self._guard:
            subscription = Subscription(list(self._events.get(execution_id, ())))
            self._subscribers.setdefault(execution_id, []).append(subscription)
        try:
            yield subscription
        finally:
            with self._guard:
                listeners = self._subscribers.get(execution_id, [])
                if subscription in listeners:
                    listeners.remove(subscription)
                if not listeners:
                    self._subscribers.pop(execution_id, None)

    def close(self) -> None:
        if self._relay is not None:
            self._relay.close()

    def _deliver(self, execution_id: str, event: dict[str, Any]) -> None:
        with self._guard:
            kept = self._events.get(execution_id)
            if kept is None:
                kept = self._events[execution_id] = []
                # A run that never finishes here (reaped, its worker killed) must not stay.
                while len(self._events) > self._keep_running + self._keep_finished:
                    gone, events = self._events.popitem(last=False)
                    if gone in self._finished:
                        del self._finished[gone]
                        self._finished_events -= len(events)
            if len(kept) < self._max_events or event.get("event") == FINISHED:
                kept.append(event)
            if event.get("event") == FINISHED and execution_id not in self._finished:
                self._finished[execution_id] = None
                self._finished_events += len(kept)
                while len(self._finished) > 1 and (
                    len(self._finished) > self._keep_finished
                    or self._finished_events > self._finished_budget
                ):
                    gone, _ = self._finished.popitem(last=False)
                    self._finished_events -= len(self._events.pop(gone, ()))
            listeners = list(self._subscribers.get(execution_id, ()))
        for subscription in listeners:
            subscription.put(event)


class _RedisRelay:
    """Publishes from a background thread (a run never waits for Redis) and listens on one
    channel; each hub ignores its own messages."""

    def __init__(self, url: str, deliver: Callable[[str, dict[str, Any]], None]) -> None:
        self._url = url
        self._deliver = deliver
        self._origin = uuid.uuid4().hex
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._guard = threading.Lock()
        self._publisher: threading.Thread | None = None
        self._listener: threading.Thread | None = None
        self._stopping = threading.Event()
        self._listeners = False
        # Written by the publisher thread only; ``publish`` reads them (a stale read costs one
        # event encoded and dropped, or one left out within the check's second).
        self._listeners_checked_until = 0.0  # monotonic

    def unheard(self) -> bool:
        """Whether nobody listened at the last look, and that look is still trusted."""
        return not self._listeners and time.monotonic() < self._listeners_checked_until

    def publish(self, execution_id: str, event: dict[str, Any]) -> None:
        if self.unheard():
            return  # nobody listened a moment ago: not even encoded, nor the thread woken
        message = {"origin": self._origin, "execution_id": execution_id, "event": event}
        self._outbox.put(json.dumps(message, default=str).encode())
        with self._guard:
            if self._publisher is None:
                self._publisher = threading.Thread(
                    target=self._publish_forever, name="switchboard-events-out", daemon=True
                )
                self._publisher.start()

    def listen(self) -> None:
        with self._guard:
            if self._listener is None:
                self._listener = threading.Thread(
                    target=self._listen_forever, name="switchboard-events-in", daemon=True
                )
                self._listener.start()

    def close(self) -> None:
        self._stopping.set()
        self._outbox.put(None)

    def _client(self) -> Any:
        import redis

        return redis.Redis.from_url(self._url, socket_connect_timeout=2)

    def _publish_forever(self) -> None:
        """Publish what the outbox holds, everything waiting in one pipelined round trip (a
        run's events arrive a few at a time: one round trip each cost a worker ~7 a run)."""
        client = self._client()
        while (message := self._outbox.get()) is not None:
            batch = [message]
            while len(batch) < _BATCH:
                try:
                    more = self._outbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._outbox.put(None)  # stop after this batch
                    break
                batch.append(more)
            try:
                if not self._anyone_listens(client):
                    continue
                with client.pipeline(transaction=False) as pipe:
                    for each in batch:
                        pipe.publish(CHANNEL, each)
                    pipe.execute()
            except Exception as error:  # progress events are best effort; the store has it all
                log_failure(
                    log,
                    "could not publish a run event to Redis",
                    error=error,
                    level=logging.WARNING,
                )

    def _anyone_listens(self, client: Any) -> bool:
        """Whether some process subscribes to the channel, looked up at most once a
        ``_LISTENERS_CHECK_SECONDS``: a Celery worker's runs are mostly followed by nobody,
        and publishing each run's events cost it a round trip (~9 % of its CPU under B6).
        A follower that starts listening may miss up to that long of progress events; it
        learns the end from the store (``EventOperations._follow`` polls it)."""
        now = time.monotonic()
        if now >= self._listeners_checked_until:
            found = client.pubsub_numsub(CHANNEL)
            self._listeners = bool(found and found[0][1])
            self._listeners_checked_until = now + _LISTENERS_CHECK_SECONDS
        return self._listeners

    def _listen_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                pubsub = self._client().pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                while not self._stopping.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None:
                        self._received(message.get("data"))
            except Exception as error:
                log_failure(
                    log,
                    "run events from Redis interrupted; reconnecting",
                    error=error,
                    level=logging.WARNING,
                )
                self._stopping.wait(2.0)

    def _received(self, data: Any) -> None:
        try:
            message = json.loads(data)
        except (TypeError, ValueError):
            return
        if not isinstance(message, dict) or message.get("origin") == self._origin:
            return
        self._deliver(str(message.get("execution_id")), dict(message.get("event") or {}))
