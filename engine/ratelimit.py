"""Rate limits shared by every process of an installation: connector calls per connection,
webhook requests per webhook, failed sign-ins per email.

``rate_limiter_for(redis_url)`` is a Redis fixed-window counter when Redis is configured (every
web process and worker counts together), else a sliding window in this process (the embedded
default: one process). Redis being down never stops the caller: the limiter counts in this
process until Redis answers again, since ingress must keep accepting webhooks without Redis.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from functools import cache
from typing import Any, Protocol

log = logging.getLogger("switchboard.ratelimit")

REDIS_TIMEOUT_SECONDS = 0.5
"""How long a limiter waits for Redis before counting in this process instead."""

REDIS_RETRY_SECONDS = 5.0
"""After Redis failed, how long the limiter counts in this process before trying it again."""


class RateLimiter(Protocol):
    def acquire(self, key: str, limit: int, window: float) -> float:
        """Count one event for ``key`` and return 0, or return the seconds to wait (the event
        is then not counted)."""
        ...

    def wait(self, key: str, limit: int, window: float) -> float:
        """The seconds until one more event for ``key`` would be allowed (0: now); counts
        nothing."""
        ...

    def reset(self, key: str) -> None:
        """Forget ``key``'s events."""
        ...


class MemoryRateLimiter:
    """A sliding window per key, for this process."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._events: dict[str, deque[float]] = {}

    def acquire(self, key: str, limit: int, window: float) -> float:
        now = self._monotonic()
        with self._lock:
            events = self._recent(key, window, now)
            if len(events) >= limit:
                return window - (now - events[0])
            events.append(now)
            self._events[key] = events
            return 0.0

    def wait(self, key: str, limit: int, window: float) -> float:
        now = self._monotonic()
        with self._lock:
            events = self._recent(key, window, now)
            return window - (now - events[0]) if len(events) >= limit else 0.0

    def reset(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)

    def _recent(self, key: str, window: float, now: float) -> deque[float]:
        """``key``'s events within the window; a key whose events all expired is forgotten
        (keys come and go: webhooks, emails)."""
        events = self._events.get(key)
        if events is None:
            return deque()
        while events and now - events[0] >= window:
            events.popleft()
        if not events:
            del self._events[key]
        return events


class RedisRateLimiter:
    """A fixed window per key in Redis (``INCR`` + ``EXPIRE``), shared by every process;
    counts in ``fallback`` while Redis does not answer."""

    def __init__(
        self,
        client: Any,
        clock: Callable[[], float] = time.time,
        fallback: MemoryRateLimiter | None = None,
    ) -> None:
        self._client = client
        self._clock = clock
        self._fallback = fallback or MemoryRateLimiter()
        self._down_until = 0.0

    def acquire(self, key: str, limit: int, window: float) -> float:
        now = self._clock()
        slot = int(now // window)

        def count() -> float:
            pipeline = self._client.pipeline()
            pipeline.incr(self._name(key, slot))
            pipeline.expire(self._name(key, slot), int(window) + 1)
            counted, _ = pipeline.execute()
            return 0.0 if int(counted) <= limit else (slot + 1) * window - now

        return self._or_fallback(count, lambda: self._fallback.acquire(key, limit, window))

    def wait(self, key: str, limit: int, window: float) -> float:
        now = self._clock()
        slot = int(now // window)

        def peek() -> float:
            counted = self._client.get(self._name(key, slot))
            return (slot + 1) * window - now if int(counted or 0) >= limit else 0.0

        return self._or_fallback(peek, lambda: self._fallback.wait(key, limit, window))

    def reset(self, key: str) -> None:
        def forget() -> None:
            names = list(self._client.scan_iter(match=f"switchboard:rate:{key}:*", count=100))
            if names:
                self._client.delete(*names)

        self._fallback.reset(key)
        self._or_fallback(forget, lambda: None)

    @staticmethod
    def _name(key: str, slot: int) -> str:
        return f"switchboard:rate:{key}:{slot}"

    def _or_fallback(self, remote: Callable[[], Any], local: Callable[[], Any]) -> Any:
        import redis

        if time.monotonic() < self._down_until:
            return local()
        try:
            return remote()
        except redis.RedisError as error:
            self._down_until = time.monotonic() + REDIS_RETRY_SECONDS
            log.warning("Redis is unavailable for rate limits (%s): counting locally", error)
            return local()


def rate_limiter_for(redis_url: str | None) -> RateLimiter:
    """A limiter for one owner (a service, a web app, the connectors of a process): the Redis
    one shared by everyone when Redis is configured, else a new in-process one of its own."""
    return redis_rate_limiter(redis_url) if redis_url else MemoryRateLimiter()


@cache
def redis_rate_limiter(redis_url: str) -> RedisRateLimiter:
    """The Redis limiter of ``redis_url``: one client per process."""
    import redis

    client = redis.Redis.from_url(
        redis_url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )
    return RedisRateLimiter(client)
