"""A webhook sender that keeps posting while a fault is injected, and remembers every answer."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

NO_ANSWER = 0
"""The status recorded when the connection was refused, dropped or timed out."""


class Burst:
    """POST ``payload(n)`` for each ``n`` in ``range(first, first + total)`` from ``threads``
    threads in the background, each thread pausing ``pause`` seconds between its posts (so the
    burst lasts long enough for a fault to land in it). Every request is sent once: no retries,
    so each answer is the fate of exactly one request."""

    def __init__(
        self,
        url: str,
        total: int,
        *,
        first: int = 0,
        threads: int = 4,
        pause: float = 0.0,
        timeout: float = 30,
        payload: Callable[[int], dict[str, Any]] = lambda n: {"n": n},
    ) -> None:
        self.url, self.numbers, self.threads = url, range(first, first + total), threads
        self.pause, self.timeout, self.payload = pause, timeout, payload
        self.statuses: dict[int, int] = {}
        self.no_answer: dict[int, str] = {}
        """Why a request got no answer (n → the client's error and when), for the report."""
        self._guard = threading.Lock()
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._thread = threading.Thread(target=self._run, name="burst", daemon=True)

    def start(self) -> Burst:
        self._thread.start()
        return self

    def answered(self) -> int:
        """How many requests have their answer so far."""
        with self._guard:
            return len(self.statuses)

    def accepted(self) -> int:
        with self._guard:
            return sum(200 <= status < 300 for status in self.statuses.values())

    def wait(self, timeout: float) -> dict[int, int]:
        """Every request's status once all were sent (n → status, 0 for no answer)."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"the burst did not finish in {timeout:g} s"
        with self._guard:
            return dict(self.statuses)

    def _run(self) -> None:
        try:
            with ThreadPoolExecutor(self.threads) as pool:
                list(pool.map(self._post, self.numbers))
        finally:
            for session in self._sessions:
                session.close()

    def _post(self, n: int) -> None:
        try:
            response = self._session().post(
                self.url,
                data=json.dumps(self.payload(n)),
                timeout=self.timeout,
                headers={"Content-Type": "application/json"},
            )
            response.close()
            status = response.status_code
        except requests.RequestException as error:
            status = NO_ANSWER
            with self._guard:
                self.no_answer[n] = f"{type(error).__name__} at {time.strftime('%H:%M:%S')}"
        with self._guard:
            self.statuses[n] = status
        if self.pause:
            time.sleep(self.pause)

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            with self._guard:
                self._sessions.append(session)
        return session
