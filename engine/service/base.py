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

HttpFactory = Callable[[], Any]
"""Makes the HTTP session of one run or check (closed after it)."""

SCHEDULE_BOOKMARK_MODULE = 0
"""The scheduler keeps each scenario's next due time as the cursor of module 0 (Make's module
ids start at 1), so it needs no table of its own and goes away with the scenario."""


def guarded_http_factory(allow_private_network: bool) -> HttpFactory:
    """Connectors call URLs from their connections, which editors type: behind the SSRF
    guard like the HTTP module's, every redirect hop included."""

    def make() -> Any:
        return guarded_session(allow_private_network)

    return make
