"""How many calls to one API account may be in flight at once, shared by every worker.

Vendors limit concurrency besides the rate: QuickBooks Online 10 requests at once per app and
company, Zoho CRM 5 to 25 per organisation by edition (``vendor/*/NOTES.md``). Above it they
answer 429. ``ApiClient`` holds a slot of its connection's key for the length of each request.

A slot is a lease: it ends when the call returns, or after ``lease`` seconds if the worker
holding it died, so a killed worker never blocks an account for ever.

The limiters live with the backplane (``engine.ratelimit``; Redis or in-process is decided by
``engine.queue``); ``shared_concurrency_limiter()`` is this process's.
"""

from __future__ import annotations

from functools import cache

from engine.queue import process_limits
from engine.ratelimit import (
    ConcurrencyLimiter,
    MemoryConcurrencyLimiter,
    RedisConcurrencyLimiter,
)


@cache
def shared_concurrency_limiter() -> ConcurrencyLimiter:
    """The installation's concurrency limiter: the backplane's (Redis-backed when
    ``SWITCHBOARD_REDIS_URL`` is set, in-process otherwise)."""
    return process_limits().concurrency


__all__ = [
    "ConcurrencyLimiter",
    "MemoryConcurrencyLimiter",
    "RedisConcurrencyLimiter",
    "shared_concurrency_limiter",
]
