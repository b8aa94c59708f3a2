"""Replay protection for app deliveries (``/hooks/apps/<app>``).

Xero's and Intuit's signatures cover the raw body only — no timestamp, no nonce — so a
captured delivery stays validly signed for ever. What a replay can be refused by is its
content: a verified body already accepted within the window is acknowledged (200, so an app
that re-sends after a lost answer stops retrying) and queued nothing. The same memory makes a
genuine re-delivery harmless, which is also what the apps ask of receivers.

The memory is per process and bounded (like the login throttle and the webhook rate limit):
with several web processes, or after a restart, a replay of an old body can be queued once
more; its events carry ids only, and the scenario reads the current record.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

DEFAULT_WINDOW_SECONDS = 24 * 3600.0
DEFAULT_CAPACITY = 50_000


class ReplayGuard:
    """Remembers digests of accepted deliveries for ``window`` seconds, at most ``capacity``
    of them (the oldest are forgotten first)."""

    def __init__(
        self,
        window: float = DEFAULT_WINDOW_SECONDS,
        capacity: int = DEFAULT_CAPACITY,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.capacity = capacity
        self._monotonic = monotonic
        self._seen: OrderedDict[str, float] = OrderedDict()  # digest → when it was accepted
        self._guard = threading.Lock()

    @staticmethod
    def digest(app_id: str, body: bytes) -> str:
        return hashlib.sha256(app_id.encode() + b"\0" + body).hexdigest()

    def claim(self, digest: str) -> bool:
        """``True`` the first time ``digest`` is seen within the window (it is then
        remembered), ``False`` for a replay. Check and record are one step, so two copies
        arriving together are not both accepted."""
        now = self._monotonic()
        with self._guard:
            self._expire(now)
            if digest in self._seen:
                return False
            self._seen[digest] = now
            while len(self._seen) > self.capacity:
                self._seen.popitem(last=False)
            return True

    def release(self, digest: str) -> None:
        """Forget ``digest``: its delivery was not queued after all, so a retry must pass."""
        with self._guard:
            self._seen.pop(digest, None)

    def _expire(self, now: float) -> None:
        while self._seen:
            oldest, when = next(iter(self._seen.items()))
            if when > now - self.window:
                return
            del self._seen[oldest]
