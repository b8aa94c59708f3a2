"""Limits shared by every process of an installation, part of the backplane
(``engine.queue``): rates (connector calls per connection, webhook requests per webhook, failed
sign-ins per email) and concurrency (calls in flight per API account).

Each kind has an in-process twin (``MemoryRateLimiter``, ``MemoryConcurrencyLimiter``) and a
Redis one (``RedisRateLimiter``: a fixed-window counter; ``RedisConcurrencyLimiter``: a sorted
set of leases), which the backplane factory picks from the settings. Redis being down never
stops the caller: the Redis limiters count in this process until Redis answers again
(``RedisFallback``), since ingress must keep accepting webhooks without Redis.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
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


class RedisFallback:
    """Runs a Redis call, or its local twin while Redis does not answer: after a failure, for
    ``REDIS_RETRY_SECONDS``, before trying Redis again. Shared by the Redis limiters."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._down_until = 0.0

    def __call__(self, remote: Callable[[], Any], local: Callable[[], Any]) -> Any:
        import redis

        if time.monotonic() < self._down_until:
            return local()
        try:
            return remote()
        except redis.RedisError as error:
            self._down_until = time.monotonic() + REDIS_RETRY_SECONDS
            log.warning("Redis is unavailable for %s (%s): counting locally", self._what, error)
            return local()


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
        self._or_fallback = RedisFallback("rate limits")

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


class ConcurrencyLimiter(Protocol):
    def enter(self, key: str, limit: int, lease: float) -> str | None:
        """Take one of ``limit`` slots of ``key`` for at most ``lease`` seconds: its token, or
        None when every slot is taken."""
        ...

    def leave(self, key: str, token: str) -> None:
        """Give back the slot ``token`` holds (nothing when it already expired)."""
        ...


class MemoryConcurrencyLimiter:
    """Leases per key in this process."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._leases: dict[str, dict[str, float]] = {}

    def enter(self, key: str, limit: int, lease: float) -> str | None:
        now = self._monotonic()
        with self._lock:
            leases = {t: end for t, end in self._leases.get(key, {}).items() if end > now}
            if len(leases) >= limit:
                self._leases[key] = leases
                return None
            token = uuid.uuid4().hex
            leases[token] = now + lease
            self._leases[key] = leases
            return token

    def leave(self, key: str, token: str) -> None:
        with self._lock:
            leases = self._leases.get(key)
            if leases is not None:
                leases.pop(token, None)
                if not leases:
                    del self._leases[key]


_ENTER = """
local now = redis.call('TIME')
local moment = tonumber(now[1]) + tonumber(now[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', moment)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], moment + tonumber(ARGV[2]), ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
return 1
"""


class RedisConcurrencyLimiter:
    """Leases per key in a Redis sorted set (score: when the lease ends), shared by every
    process; leases in ``fallback`` while Redis does not answer."""

    def __init__(self, client: Any, fallback: MemoryConcurrencyLimiter | None = None) -> None:
        self._client = client
        self._enter = client.register_script(_ENTER)
        self._fallback = fallback or MemoryConcurrencyLimiter()
        self._or_fallback = RedisFallback("concurrency limits")
        self._local: set[str] = set()  # tokens the fallback handed out

    def enter(self, key: str, limit: int, lease: float) -> str | None:
        token = uuid.uuid4().hex

        def remote() -> str | None:
            taken = self._enter(keys=[self._name(key)], args=[limit, lease, token])
            return token if int(taken) else None

        def local() -> str | None:
            found = self._fallback.enter(key, limit, lease)
            if found is not None:
                self._local.add(found)
            return found

        return self._or_fallback(remote, local)

    def leave(self, key: str, token: str) -> None:
        if token in self._local:
            self._local.discard(token)
            self._fallback.leave(key, token)
            return
        self._or_fallback(lambda: self._client.zrem(self._name(key), token), lambda: None)

    @staticmethod
    def _name(key: str) -> str:
        return f"switchboard:concurrency:{key}"


def rate_limiter_for(redis_url: str | None) -> RateLimiter:
    """A limiter for one owner: the Redis one shared by everyone when given a Redis URL, else a
    new in-process one of its own. The backplane (``engine.queue.make_backplane``) decides
    which; this is for tests and tools that pick one themselves."""
    return redis_rate_limiter(redis_url) if redis_url else MemoryRateLimiter()


def redis_client(redis_url: str) -> Any:
    """A client whose commands give up quickly: limits count locally rather than wait."""
    import redis

    return redis.Redis.from_url(
        redis_url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )


@cache
def redis_rate_limiter(redis_url: str) -> RedisRateLimiter:
    """The Redis rate limiter of ``redis_url``: one client per process."""
    return RedisRateLimiter(redis_client(redis_url))


@cache
def redis_concurrency_limiter(redis_url: str) -> RedisConcurrencyLimiter:
    """The Redis concurrency limiter of ``redis_url``: one client per process."""
    return RedisConcurrencyLimiter(redis_client(redis_url))
