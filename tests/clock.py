"""A clock the sandboxes and the connectors share in a test, on which a wait costs no wall time.

A vendor's rate limit is a count over a window of seconds (Xero 60 calls a minute per tenant,
1CRM 120): the sandbox refuses the call over it with 429 and ``Retry-After``, and the connector
waits that long before sending it again. Spent for real, those waits were most of the
scenario tests' wall time. ``SkippingClock`` is real monotonic time plus every wait it was
asked to sleep: ``sleep(s)`` returns at once and moves the clock ``s`` seconds on, for the
sandboxes' windows (``create_app(monotonic=clock.monotonic)``) and the connector's own count
(``counting_connector_calls``) alike. So the limit stays exactly the vendor's — the same calls
are refused, the same 429s answered and waited out — only nobody sits through the wait.

What is not a wait stays real: a sandbox's wall clock (record dates, token expiry), a fault's
``delay_seconds`` (a hang a client times out on), webhook deliveries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import modules.connections
from engine.queue import InlineQueue


class SkippingClock:
    """Real monotonic seconds plus the seconds of every wait skipped so far."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._skipped = 0.0
        self.waits: list[float] = []
        """Every wait asked for, in order (what the test would have sat through)."""

    def monotonic(self) -> float:
        return time.monotonic() + self._skipped

    def sleep(self, seconds: float) -> None:
        """Move the clock ``seconds`` on instead of waiting them out."""
        with self._lock:
            self._skipped += max(0.0, seconds)
            self.waits.append(seconds)

    @property
    def skipped(self) -> float:
        """Seconds of waiting skipped so far."""
        return self._skipped

    @contextmanager
    def counting_connector_calls(self) -> Iterator[None]:
        """While open, the connectors' own per-connection rate limit and concurrency slots
        (``modules.connections``: the process's limits by default) count on this clock, so a
        call held back for ``Retry-After`` seconds finds its slot free once the run's
        ``sleep`` has moved the clock on."""
        limits = InlineQueue.limits_for(self.monotonic)
        saved = (
            modules.connections.shared_rate_limiter,
            modules.connections.shared_concurrency_limiter,
        )
        modules.connections.shared_rate_limiter = lambda: limits.rate  # type: ignore[assignment]  # the process's limiter, on this clock while the test runs
        modules.connections.shared_concurrency_limiter = lambda: limits.concurrency  # type: ignore[assignment]  # likewise
        try:
            yield
        finally:
            (
                modules.connections.shared_rate_limiter,
                modules.connections.shared_concurrency_limiter,
            ) = saved
