"""Xero's third per-tenant limit: at most 5 calls in progress at once (NOTES §3). A call
beyond it is answered 429 with ``X-Rate-Limit-Problem: concurrent`` and ``Retry-After``.

WSGI middleware around the whole app, so a call counts from arrival to answer (an injected
delay included), which is what Xero counts.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from .resources import API_PREFIX
from .state import XeroSandboxState


class ConcurrencyGate:
    """Admit at most ``config["rate_limit_concurrent"]`` API calls per tenant at a time."""

    def __init__(self, app: Callable[..., Iterable[bytes]], state: XeroSandboxState) -> None:
        self.app = app
        self.state = state
        self.in_flight: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not environ.get("PATH_INFO", "").startswith(API_PREFIX + "/"):
            return self.app(environ, start_response)
        tenant = str(environ.get("HTTP_XERO_TENANT_ID", "")).strip().lower()
        with self.lock:
            if self.in_flight[tenant] >= int(self.state.config["rate_limit_concurrent"]):
                return refuse(start_response)
            self.in_flight[tenant] += 1
        try:
            return list(self.app(environ, start_response))
        finally:
            with self.lock:
                self.in_flight[tenant] -= 1


def refuse(start_response: Callable[..., Any]) -> list[bytes]:
    body: dict[str, Any] = {
        "Type": None,
        "Title": "Too Many Requests",
        "Status": 429,
        "Detail": "Rate limit exceeded (concurrent)",
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }
    start_response(
        "429 Too Many Requests",
        [
            ("Content-Type", "application/json"),
            ("Retry-After", "1"),
            ("X-Rate-Limit-Problem", "concurrent"),
        ],
    )
    return [json.dumps(body).encode()]
