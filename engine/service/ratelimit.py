"""Per-webhook rate limiting: at most N accepted requests in any sliding window of W seconds."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """Counts per key in this process (each web process limits on its own: with P processes
    a webhook may take up to P * N; Make's limit is a protection, not a contract).

    ``allow`` returns 0.0 when the request may go on, else the seconds until it would.
    """

    def __init__(
        self, limit: int, window: float, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._window = window
        self._monotonic = monotonic
        self._hits: dict[int, deque[float]] = {}
        self._guard = threading.Lock()

    def allow(self, key: int) -> float:
        now = self._monotonic()
        with self._guard:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self._window:
                hits.popleft()
            if len(hits) >= self._limit:
                return hits[0] + self._window - now
            hits.append(now)
            return 0.0
