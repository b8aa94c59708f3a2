"""What every part of the service shares: its collaborators and a few lookups."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from engine.config import Settings
from engine.graph import Plan
from engine.httpguard import guarded_session
from engine.queue import Queue
from engine.ratelimit import RateLimiter
from engine.registry import ModuleRegistry
from engine.service.options import ServiceOptions
from engine.service.plans import PlanCache
from engine.service.running import HeartbeatMonitor
from engine.spec import ModuleKind
from engine.store import Scenario, Store, utc_now

log = logging.getLogger("switchboard.service")

SCHEDULE_BOOKMARK_MODULE = 0
"""The scheduler keeps each scenario's next due time as the cursor of module 0 (Make's module
ids start at 1), so it needs no table of its own and goes away with the scenario."""


class ServiceBase:
    """Holds the collaborators. ``Service`` (in ``engine.service``) adds the operations.

    Args:
        store: where everything durable lives.
        queue: hands ids to workers; the service binds itself as the queue's handler.
        settings: limits and timings (``engine.config.Settings``).
        registry: the installed modules blueprints are compiled against.
        clock: aware-UTC now; tests pass a fake.
        options: service timings not in ``Settings``.
        http_factory: makes the HTTP session of one run (closed after it); by default a
            session behind the SSRF guard unless ``settings.allow_private_network``.
    """

    def __init__(
        self,
        store: Store,
        queue: Queue,
        settings: Settings,
        registry: ModuleRegistry,
        clock: Callable[[], datetime] = utc_now,
        *,
        options: ServiceOptions | None = None,
        http_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.store = store
        self.queue = queue
        self.settings = settings
        self.registry = registry
        self.clock = clock
        self.options = options or ServiceOptions()
        self.plans = PlanCache(store, registry)
        # Per webhook: the backplane's, so shared by every process when it spans them.
        self.limiter: RateLimiter = queue.limits.rate
        self.heartbeats = HeartbeatMonitor(store, settings.heartbeat_seconds)
        self.http_factory = http_factory or functools.partial(
            _guarded_session, settings.allow_private_network
        )
        self._ingress_cache: dict[str, Any] = {}  # token → (expires, webhook, route)

    def current_plan(self, scenario: Scenario) -> Plan:
        return self.plans.get(scenario.id, scenario.current_version)

    @staticmethod
    def is_instant(plan: Plan) -> bool:
        trigger = plan.trigger
        return trigger is not None and trigger.kind is ModuleKind.INSTANT_TRIGGER


def _guarded_session(allow_private_network: bool) -> Any:
    """Connectors call URLs from their connections, which editors type: behind the SSRF
    guard like the HTTP module's, every redirect hop included."""
    return guarded_session(allow_private_network)
