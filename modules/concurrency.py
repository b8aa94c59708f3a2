"""How many calls to one API account may be in flight at once, shared by every worker.

Vendors limit concurrency besides the rate: QuickBooks Online 10 requests at once per app and
company, Zoho CRM 5 to 25 per organisation by edition (``vendor/*/NOTES.md``). Above it they
answer 429. ``ApiClient`` holds a slot of its connection's key for the length of each request.

A slot is a lease: it ends when the call returns, or after ``lease`` seconds if the worker
holding it died, so a killed worker never blocks an account for ever.

``shared_concurrency_limiter()`` counts in Redis when ``SWITCHBOARD_REDIS_URL`` is set (one
sorted set of leases per key, checked and taken by one Lua script), else in this process. Like
the rate limiter, it counts locally while Redis does not answer rather than stopping calls.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any, Protocol

log = logging.getLogger("switchboard.concurrency")

REDIS_TIMEOUT_SECONDS = 0.5
REDIS_RETRY_SECONDS = 5.0


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
        self._down_until = 0.0
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

    def _or_fallback(self, remote: Callable[[], Any], local: Callable[[], Any]) -> Any:
        import redis

        if time.monotonic() < self._down_until:
            return local()
        try:
            return remote()
        except redis.RedisError as error:
            self._down_until = time.monotonic() + REDIS_RETRY_SECONDS
            log.warning("Redis is unavailable for concurrency limits (%s): counting locally", error)
            return local()


@cache
def shared_concurrency_limiter() -> ConcurrencyLimiter:
    """The installation's concurrency limiter: Redis-backed when ``SWITCHBOARD_REDIS_URL`` is
    set, in-process otherwise."""
    redis_url = os.environ.get("SWITCHBOARD_REDIS_URL")
    if not redis_url:
        return MemoryConcurrencyLimiter()
    import redis

    client = redis.Redis.from_url(
        redis_url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )
    return RedisConcurrencyLimiter(client)
