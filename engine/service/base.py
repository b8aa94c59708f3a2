"""What the parts of the service share: names for their collaborators, the service's logger
and the scheduler's bookmark. No part inherits from another: each names what it uses in its
constructor and ``build_service`` (``engine.service``) wires them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from engine.httpguard import guarded_session

log = logging.getLogger("switchboard.service")

Clock = Callable[[], datetime]
"""Aware-UTC now; tests pass a fake."""

Sleep = Callable[[float], None]
"""How a run waits (a retry's backoff, a rate limit's ``Retry-After``, ``util:FunctionSleep``):
``time.sleep``; a test passes its clock's, which skips the wait instead of spending it."""

HttpFactory = Callable[[], Any]
"""Makes the HTTP session of one run or check (closed after it)."""

SCHEDULE_BOOKMARK_MODULE = 0
"""The scheduler keeps each scenario's next due time as the cursor of module 0 (Make's module
ids start at 1), so it needs no table of its own and goes away with the scenario."""


def guarded_http_factory(allow_private_network: bool) -> HttpFactory:
    """Connectors call URLs from their connections, which editors type: behind the SSRF
    guard like the HTTP module's, every redirect hop included. The session is made when first
    used (``LazySession``)."""

    def make() -> Any:
        return LazySession(lambda: guarded_session(allow_private_network))

    return make


class LazySession:
    """A ``requests`` session made on first use, then standing in for it. Most runs send no
    request (a webhook mapped and answered), and making a session (its adapters, retries and
    the SSRF guard) cost a third of such a run's engine time."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._session: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._session is None:
            self._session = self._make()
        return getattr(self._session, name)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
