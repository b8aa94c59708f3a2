"""When incomplete executions are retried automatically.

Make retries errors of the kinds in ``AUTO_RETRY_TYPES`` on a fixed backoff (1 min, then +10,
+10, +30, +30, +30 min, then every 3 h), and a Break handler with ``retry`` on its own
``count``/``interval`` (minutes); anything else waits for the user.

A Break with ``retry`` whose ``interval`` is left empty backs off on that same schedule, for its
``count`` attempts (Make's editor always fills the interval, 15 by default; an empty one is
Switchboard's way to say "back off": a record waiting for another to be synced first is retried
soon, then less and less often). When the attempts are used up the incomplete execution stays
pending without a next retry: it needs attention.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

AUTO_RETRY_TYPES = frozenset({"ConnectionError", "RateLimitError", "ModuleTimeoutError"})
BACKOFF_MINUTES = (1, 10, 10, 30, 30, 30, 180, 180)
"""Delay before automatic attempt 1, 2, 3 …; its length is the number of attempts."""

_BREAK_INTERVAL_RANGE = (1, 44_640)


@dataclass(frozen=True)
class RetryPolicy:
    """How an incomplete execution is retried: ``attempts`` (0: only by hand) and the delay in
    minutes before attempt ``n`` (1-based)."""

    attempts: int
    interval_minutes: int | None = None

    def delay_before(self, attempt: int) -> timedelta | None:
        """The wait before attempt ``attempt``, or ``None`` when there is none left."""
        if attempt > self.attempts:
            return None
        if self.interval_minutes is not None:
            return timedelta(minutes=self.interval_minutes)
        return timedelta(minutes=BACKOFF_MINUTES[min(attempt, len(BACKOFF_MINUTES)) - 1])

    def next_retry_at(self, attempts_made: int, now: datetime) -> datetime | None:
        delay = self.delay_before(attempts_made + 1)
        return None if delay is None else now + delay


def policy_for(error: Mapping[str, Any], retry: Mapping[str, Any]) -> RetryPolicy:
    """The policy for an incomplete execution stored with ``error`` (``{{N.error}}``) and the
    Break directive's mapped ``retry`` settings."""
    if _truthy(retry.get("retry")):
        count = _int(retry.get("count"), 3)
        if retry.get("interval") in (None, ""):
            return RetryPolicy(max(count, 0))
        interval = _int(retry.get("interval"), 15)
        low, high = _BREAK_INTERVAL_RANGE
        return RetryPolicy(max(count, 0), min(max(interval, low), high))
    if str(error.get("type")) in AUTO_RETRY_TYPES:
        return RetryPolicy(len(BACKOFF_MINUTES))
    return RetryPolicy(0)


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in {"true", "1", "yes"}


def _int(value: Any, default: int) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        return default
