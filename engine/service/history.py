"""Execution history: filtered keyset pages, the retention cleanup and the dashboard."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.config import Settings
from engine.service.base import Clock, log
from engine.service.options import ServiceOptions
from engine.store import ExecutionPage, ExecutionStatus, Store, TriggerKind

PAST_DAYS_TTL = 300.0
"""The dashboard recounts days before today at most this often (seconds)."""
PURGE_BATCH = 1000
PURGE_BATCHES_PER_TICK = 50
"""A tick deletes at most ``PURGE_BATCH * PURGE_BATCHES_PER_TICK`` executions; the next tick
goes on. Each batch is its own short write."""


@dataclass
class ScenarioDay:
    day: str
    runs: int = 0
    operations: int = 0
    errors: int = 0


@dataclass
class Dashboard:
    """What ``GET /api/dashboard`` shows."""

    since: datetime
    until: datetime
    days: list[str]
    scenarios: dict[int, list[ScenarioDay]]
    totals: list[ScenarioDay]
    active_scenarios: int
    queue_depth: int
    workers_online: list[str] = field(default_factory=list)


class HistoryOperations:
    """Filtered history, retention and the dashboard."""

    def __init__(
        self, store: Store, settings: Settings, options: ServiceOptions, clock: Clock
    ) -> None:
        self.store = store
        self.settings = settings
        self.options = options
        self.clock = clock
        self._past_stats: dict[Any, tuple[float, list[Any]]] = {}

    def list_history(
        self,
        *,
        scenario_id: int | None = None,
        statuses: Sequence[ExecutionStatus] = (),
        trigger_kinds: Sequence[TriggerKind] = (),
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> ExecutionPage:
        """Executions newest first by start (one not started yet by when it was queued);
        every filter rides an index of ``(…, started_or_queued_at, id)``. Raises
        ``ValueError`` for a foreign cursor."""
        filters: dict[str, Any] = {}
        if statuses:
            filters["status"] = list(statuses)
        if trigger_kinds:
            filters["trigger_kind"] = list(trigger_kinds)
        return self.store.list_executions(
            scenario_id=scenario_id,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            **filters,
        )

    def purge_expired_executions(self, now: datetime | None = None) -> int:
        """Delete finished executions older than the retention (in batches); how many went."""
        days = self.options.execution_retention_days
        if days <= 0:
            return 0
        before = (now or self.clock()) - timedelta(days=days)
        purged = 0
        for _ in range(PURGE_BATCHES_PER_TICK):
            count = self.store.purge_executions(before, limit=PURGE_BATCH)
            purged += count
            if count < PURGE_BATCH:
                break
        if purged:
            log.info("retention: deleted %d executions created before %s", purged, before)
        return purged

    def dashboard(self, days: int = 14, now: datetime | None = None) -> Dashboard:
        """Per scenario and UTC day over the last ``days`` days (today included): runs,
        operations, errored runs; active scenarios; queued webhook requests; workers whose
        running executions heartbeat recently."""
        now = now or self.clock()
        first = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
        labels = [(first + timedelta(days=n)).date().isoformat() for n in range(days)]
        per: dict[int, dict[str, ScenarioDay]] = {}
        totals = {label: ScenarioDay(label) for label in labels}
        for scenario_id, day, runs, operations, errors in self._stats(first, now):
            if day not in totals:
                continue
            per.setdefault(scenario_id, {})[day] = ScenarioDay(day, runs, operations, errors)
            total = totals[day]
            total.runs += runs
            total.operations += operations
            total.errors += errors
        scenarios = {
            scenario_id: [found.get(label) or ScenarioDay(label) for label in labels]
            for scenario_id, found in per.items()
        }
        depth = sum(self.store.count_queue(hook.id) for hook in self.store.list_webhooks())
        recent = now - timedelta(seconds=self.settings.stale_after_seconds)
        return Dashboard(
            since=first,
            until=now,
            days=labels,
            scenarios=scenarios,
            totals=list(totals.values()),
            active_scenarios=len(self.store.list_scenarios(active=True)),
            queue_depth=depth,
            workers_online=self.store.running_workers(recent),
        )

    def _stats(self, first: datetime, now: datetime) -> list[tuple[int, str, int, int, int]]:
        """``execution_stats`` from ``first`` on: the days before today come from a cache
        (``PAST_DAYS_TTL`` seconds; a big history takes seconds to add up), today is read."""
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        key = (first, today)
        cache = self._past_stats
        cached = cache.get(key)
        if cached is None or time.monotonic() - cached[0] > PAST_DAYS_TTL:
            past = self.store.execution_stats(first, today) if first < today else []
            cached = (time.monotonic(), past)
            cache.clear()  # one range is enough: the dashboard asks for the same days
            cache[key] = cached
        return cached[1] + self.store.execution_stats(today)
