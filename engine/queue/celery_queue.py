"""``CeleryQueue``: the Redis backplane. Ids go to Celery workers through Redis; locks, webhook
responses, run events (pub/sub) and limits use the same Redis.

The worker side (the tasks over the service) is ``engine.celery_app``, which imports this module
and never the other way round.

Publishing happens on a background thread so that a slow or absent Redis never holds up webhook
ingress: the store already holds the request, and the scheduler's sweep dispatches whatever was
never handed to a worker once Redis is back. The same thread notices Redis losing its data
(``BROKER_MARK`` gone) and asks for a tick at once, whose sweep then dispatches everything
waiting without waiting out the grace period.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections import deque
from typing import Any
from urllib.parse import urlsplit

import redis

from engine.queue.base import Backplane, Limits, Lock, WebhookResponse
from engine.queue.events import EventHub
from engine.queue.redis_transport import TRANSPORT as REDIS_TRANSPORT
from engine.ratelimit import redis_concurrency_limiter, redis_rate_limiter

log = logging.getLogger("switchboard.queue")

WEBHOOK_TASK = "switchboard.webhook"
EXECUTION_TASK = "switchboard.execute"
TICK_TASK = "switchboard.tick"

_BATCH = 256  # ids handed to Redis in one round trip at most
_REQUESTS_PER_MESSAGE = 4
"""At most this many of one webhook's requests go in one message (``coalesced``): more saves
little per request, and fewer keeps a backlog spread over a worker's run slots."""
_OUTBOX_LIMIT = 100_000  # beyond this the oldest ids are dropped; the sweep finds them again
_RESPONSE_TTL_SECONDS = 120
_SOCKET_TIMEOUT_SECONDS = 5.0  # a Redis that does not answer a command within this is "down"
_WAIT_SLICE_SECONDS = 2.0
"""A wait for a webhook response blocks Redis (BLPOP) at most this long per command, so that
each command ends well within the socket's read timeout (which still notices a silent Redis);
the wait as a whole lasts as long as its caller asked (``SWITCHBOARD_WEBHOOK_RESPONSE_TIMEOUT``)."""
BROKER_MARK = "switchboard:broker-mark"
"""A key without expiry: when it is gone, so is everything else Redis held (a ``FLUSHDB``, a
restart without persistence), including Celery's messages that no worker had taken yet."""
_MARK_WATCH_SECONDS = 1.0  # how often a running publisher looks for the mark
_REFRESH = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"  # noqa: E501
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"  # noqa: E501


class _RedisLock(Lock):
    def __init__(self, client: redis.Redis, key: str, token: str, ttl_ms: int) -> None:
        self._client, self._key, self._token, self._ttl_ms = client, key, token, ttl_ms

    def refresh(self) -> bool:
        try:
            return bool(self._client.eval(_REFRESH, 1, self._key, self._token, self._ttl_ms))
        except redis.RedisError:
            return False

    def release(self) -> None:
        try:
            self._client.eval(_RELEASE, 1, self._key, self._token)
        except redis.RedisError:
            log.warning("could not release lock %s; it expires by itself", self._key)


def create_celery_app(redis_url: str | None, *, tick_seconds: float | None = None) -> Any:
    """A Celery app on Redis (the broker; no result backend) with Switchboard's settings; the
    worker entry (``engine.celery_app``) registers the tasks on it, publishers need none.

    Results live in the store and nobody reads Celery's: with a result backend each published
    task also subscribed to its result channel and unsubscribed again (two Redis round trips
    per webhook in the web process), whatever ``task_ignore_result`` said."""
    from celery import Celery

    app = Celery("switchboard", broker=redis_url, set_as_current=False)
    tick = tick_seconds or float(os.environ.get("SWITCHBOARD_TICK_SECONDS", "5"))
    if urlsplit(redis_url or "").scheme in ("redis", "rediss"):
        # Kombu's Redis transport, but a worker that loses Redis mid-task keeps running.
        app.conf.broker_transport = REDIS_TRANSPORT
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
    return app


class TaskMessages:
    """Celery task messages as ``send_task`` puts them in Redis (protocol 2, JSON body, kombu's
    Redis envelope), built directly: a worker cannot tell them apart.

    ``send_task`` spent ~1.3 ms of the web process's CPU per message (routing, its signals,
    the producer pool, kombu's message preparation, a queue declaration check) and a round
    trip each; the publisher now pushes every waiting message in one LPUSH. What a task
    message holds is Celery's (``tests/service/test_queue_contract.py`` compares the two).
    It goes to the default queue with priority 0 under no key prefix, as ``create_celery_app``
    configures Celery: task routes, priorities or a ``global_keyprefix`` transport option
    would need ``send_task`` again."""

    def __init__(self, app: Any) -> None:
        conf = app.conf
        self.queue: str = conf.task_default_queue or "celery"
        self._origin = f"gen{os.getpid()}@{socket.gethostname()}"  # Celery's ``anon_nodename``
        self._reply_to = str(uuid.uuid4())  # Celery's ``thread_oid``: unused, no results

    def message(self, task: str, ident: str | int, requests: int = 1) -> bytes:
        """One task message; ``requests`` > 1 (webhook tasks only) asks the worker to run up
        to that many of the webhook's queued requests (``coalesced``)."""
        args: list[str | int] = [] if task == TICK_TASK else [ident]
        if requests > 1:
            args.append(requests)
        task_id = str(uuid.uuid4())
        body = json.dumps(
            [args, {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}]
        )
        envelope = {
            "body": base64.b64encode(body.encode()).decode(),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": {
                "lang": "py",
                "task": task,
                "id": task_id,
                "shadow": None,
                "eta": None,
                "expires": None,
                "group": None,
                "group_index": None,
                "retries": 0,
                "timelimit": [None, None],
                "root_id": task_id,
                "parent_id": None,
                "argsrepr": repr(args) if args else "()",  # Celery: ``args or ()``
                "kwargsrepr": "{}",
                "origin": self._origin,
                "ignore_result": True,
                "replaced_task_nesting": 0,
                "stamped_headers": None,
                "stamps": {},
            },
            "properties": {
                "correlation_id": task_id,
                "reply_to": self._reply_to,
                "delivery_mode": 2,
                "delivery_info": {"exchange": "", "routing_key": self.queue},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
            },
        }
        return json.dumps(envelope).encode()


def coalesced(batch: list[tuple[str, str | int]]) -> list[tuple[str, str | int, int]]:
    """``batch`` as messages: a webhook's dispatches become one message per
    ``_REQUESTS_PER_MESSAGE`` (placed where its first dispatch was) carrying how many requests it
    stands for; every other task stays one message each, in order.

    Each webhook message asks for "the oldest queued request", so one message for several
    runs the same requests; a worker then pays its per-message costs (the broker read, the
    ack emulation's two transactions, Celery's dispatch and trace) once for them all. Nothing
    durable depends on the messages: a request waits in the store until a worker's take
    commits, and the sweep dispatches again whatever waits past the grace period."""
    messages: list[tuple[str, str | int, int]] = []
    open_message: dict[str | int, int] = {}  # webhook id → index of its message still open
    for task, ident in batch:
        if task != WEBHOOK_TASK:
            messages.append((task, ident, 1))
            continue
        index = open_message.setdefault(ident, len(messages))
        if index == len(messages):
            messages.append((task, ident, 0))
        requests = messages[index][2] + 1
        messages[index] = (task, ident, requests)
        if requests == _REQUESTS_PER_MESSAGE:
            del open_message[ident]  # full: the webhook's next dispatch opens another
    return messages


class CeleryQueue(Backplane):
    """The scaled-out backplane.

    Args:
        redis_url: ``SWITCHBOARD_REDIS_URL``: broker, result backend, locks, responses, run
            events and limits.
        app: the Celery app to publish with (``create_celery_app``); made from ``redis_url``
            when not given.
    """

    def __init__(self, redis_url: str, app: Any = None) -> None:
        self.app = app if app is not None else create_celery_app(redis_url)
        self.events = EventHub(redis_url)
        self.limits = self.limits_for(redis_url)
        self._redis = redis.Redis.from_url(
            redis_url, socket_timeout=_SOCKET_TIMEOUT_SECONDS, socket_connect_timeout=2
        )
        # Blocking waits need a read timeout longer than one slice of the wait (redis-py's own
        # default, 5 s, cut every longer wait short: the caller got "Accepted").
        self._waiting = redis.Redis.from_url(
            redis_url,
            socket_timeout=_WAIT_SLICE_SECONDS + _SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=2,
        )
        self._messages = TaskMessages(self.app)
        self._outbox: deque[tuple[str, str | int]] = deque(maxlen=_OUTBOX_LIMIT)
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._publisher: threading.Thread | None = None
        self._guard = threading.Lock()
        self._saw_mark = False
        self._next_watch = 0.0

    @staticmethod
    def limits_for(redis_url: str) -> Limits:
        """The limits every process on ``redis_url`` counts together (one client per process)."""
        return Limits(redis_rate_limiter(redis_url), redis_concurrency_limiter(redis_url))

    # -- delivery -------------------------------------------------------------------------------

    def dispatch_webhook(self, webhook_id: int) -> None:
        self._post(WEBHOOK_TASK, webhook_id)

    def dispatch_execution(self, execution_id: str) -> None:
        self._post(EXECUTION_TASK, execution_id)

    def _post(self, task: str, ident: str | int) -> None:
        self.start()
        self._outbox.append((task, ident))
        self._wakeup.set()

    def start(self) -> None:
        with self._guard:
            if self._publisher is not None and self._publisher.is_alive():
                return
            self._stopping.clear()
            self._publisher = threading.Thread(
                target=self._publish_forever, name="switchboard-celery-publisher", daemon=True
            )
            self._publisher.start()

    def close(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self._outbox and time.monotonic() < deadline:
            time.sleep(0.01)  # let the publisher hand over what it holds
        self._stopping.set()
        self._wakeup.set()
        if self._publisher is not None:
            self._publisher.join(max(0.0, deadline - time.monotonic()))
        self._redis.close()
        self._waiting.close()
        self.events.close()
        self.app.close()

    def _publish_forever(self) -> None:
        while not self._stopping.is_set():
            self._wakeup.wait(_MARK_WATCH_SECONDS)
            self._wakeup.clear()
            self._watch_for_lost_messages()
            while self._outbox and not self._stopping.is_set():
                batch = [self._outbox[index] for index in range(min(len(self._outbox), _BATCH))]
                if not self._publish(batch):
                    self._stopping.wait(1.0)  # Redis is down: back off, keep the rest
                    break
                for _ in batch:
                    self._outbox.popleft()

    def _publish(self, batch: list[tuple[str, str | int]]) -> bool:
        """Hand ``batch`` to Redis in one round trip (one LPUSH, in order); ``False`` when
        Redis refused it (nothing of it was handed over: the command is atomic)."""
        try:
            messages = [
                self._messages.message(task, ident, requests)
                for task, ident, requests in coalesced(batch)
            ]
            self._redis.lpush(self._messages.queue, *messages)
        except Exception as error:  # the broker is away (or a message could not be built)
            log.warning(
                "could not publish %d task(s) (%s(%s) first): %s; the sweep will dispatch them",
                len(batch),
                *batch[0],
                error,
            )
            return False
        return True

    def _watch_for_lost_messages(self) -> None:
        """Ask a worker for a tick at once when the mark disappears: that tick dispatches
        everything waiting (``messages_lost``) within a second or so of the loss, instead of
        the next scheduled tick up to ``SWITCHBOARD_TICK_SECONDS`` later. Only a mark seen
        before counts: a fresh Redis is marked by the scheduled ticks."""
        now = time.monotonic()
        if now < self._next_watch:
            return
        self._next_watch = now + _MARK_WATCH_SECONDS
        try:
            marked = bool(self._redis.exists(BROKER_MARK))
        except redis.RedisError:
            return  # Redis is away: look again once it is back
        if not marked and self._saw_mark:
            log.warning("Redis lost its data (flushed or restarted empty); asking for a tick")
            self._outbox.appendleft((TICK_TASK, ""))
        self._saw_mark = marked

    def pending(self) -> int:
        """Ids not yet handed to Redis."""
        return len(self._outbox)

    def messages_lost(self) -> bool:
        """True once after Redis lost its data (flushed, or restarted without persistence),
        detected by a mark key that only such a loss removes; also on the very first call
        against a fresh Redis. ``False`` while Redis is unreachable: nothing to tell yet."""
        try:
            return bool(self._redis.set(BROKER_MARK, "1", nx=True))
        except redis.RedisError as error:
            log.warning("cannot tell whether Redis lost its messages: %s", error)
            return False

    # -- locks ----------------------------------------------------------------------------------

    def try_lock(self, name: str, ttl_seconds: float) -> Lock | None:
        key, token, ttl_ms = f"switchboard:lock:{name}", uuid.uuid4().hex, int(ttl_seconds * 1000)
        try:
            if not self._redis.set(key, token, nx=True, px=ttl_ms):
                return None
        except redis.RedisError as error:
            log.warning("lock %s unavailable: %s", name, error)
            return None
        return _RedisLock(self._redis, key, token, ttl_ms)

    # -- webhook responses ------------------------------------------------------------------------

    def publish_response(self, key: str, response: WebhookResponse) -> None:
        name = f"switchboard:response:{key}"
        try:
            with self._redis.pipeline() as pipe:
                pipe.rpush(name, json.dumps(response.to_dict()))
                pipe.expire(name, _RESPONSE_TTL_SECONDS)
                pipe.execute()
        except redis.RedisError as error:
            log.warning("could not publish webhook response %s: %s", key, error)

    def wait_response(self, key: str, timeout: float) -> WebhookResponse | None:
        name = f"switchboard:response:{key}"
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            # Never 0: BLPOP's 0 means "block forever".
            block = min(max(remaining, 0.01), _WAIT_SLICE_SECONDS)
            try:
                found = self._waiting.blpop([name], timeout=block)
            except redis.RedisError as error:
                log.warning("cannot wait for webhook response %s: %s", key, error)
                return None
            if found is not None:
                return WebhookResponse.from_dict(json.loads(found[1]))
            if remaining <= block:
                return None
