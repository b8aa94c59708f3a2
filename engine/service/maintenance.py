"""The periodic tick: recover abandoned work, dispatch what was never handed over, start due
scheduled runs and automatic retries. Run by the scheduler (a thread in embedded mode, Celery
beat's ``switchboard.tick`` in production); safe to run anywhere and often (one at a time, by
lock; everything it dispatches is idempotent)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine.config import Settings
from engine.queue import Backplane
from engine.scheduler import ScheduleError, is_timed, next_run_after
from engine.service.base import SCHEDULE_BOOKMARK_MODULE, Clock, log
from engine.service.history import HistoryOperations
from engine.service.incomplete import IncompleteOperations
from engine.service.options import ServiceOptions
from engine.service.plans import PlanCache, is_instant
from engine.service.runs import RunOperations
from engine.service.scenarios import ScenarioOperations
from engine.store import ExecutionStatus, NotFound, Scenario, Store, TriggerKind

_SWEEP_LIMIT = 500
_FAR_FUTURE = timedelta(days=3650)


@dataclass
class TickReport:
    """What one tick did (ids), for logs and tests."""

    skipped: bool = False
    messages_lost: bool = False
    requeued_items: list[int] = field(default_factory=list)
    reaped: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)
    dispatched_items: int = 0
    dispatched_executions: int = 0
    scheduled: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    purged: int = 0


class MaintenanceOperations:
    """The tick and the recovery after a restart, over the other parts: ``runs`` starts
    scheduled runs, ``incomplete`` retries, ``history`` purges, ``scenarios`` renews app
    webhooks."""

    def __init__(
        self,
        store: Store,
        queue: Backplane,
        plans: PlanCache,
        settings: Settings,
        options: ServiceOptions,
        clock: Clock,
        *,
        runs: RunOperations,
        incomplete: IncompleteOperations,
        history: HistoryOperations,
        scenarios: ScenarioOperations,
    ) -> None:
        self.store = store
        self.queue = queue
        self.plans = plans
        self.settings = settings
        self.options = options
        self.clock = clock
        self.runs = runs
        self.incomplete = incomplete
        self.history = history
        self.scenarios = scenarios

    def tick(self, now: datetime | None = None) -> TickReport:
        """One round of upkeep; skipped when another process is ticking."""
        now = now or self.clock()
        ttl = max(30.0, self.options.tick_seconds * 6)
        with self.queue.locked("tick", ttl) as lock:
            if lock is None:
                return TickReport(skipped=True)
            report = TickReport()
            self._recover(report, now, now - timedelta(seconds=self.settings.stale_after_seconds))
            self._sweep(report, self._sweep_before(report, now))
            self._start_due_schedules(report, now)
            self._start_due_retries(report, now)
            report.purged = self.history.purge_expired_executions(now)
            self.scenarios.renew_app_webhooks(now)
            return report

    def recover_abandoned_work(self) -> TickReport:
        """After a restart of the only process using the store (embedded mode): every claimed
        request and running execution belonged to the dead process; put them back now rather
        than after their lease or heartbeat runs out. Never call this with other workers."""
        report = TickReport()
        future = self.clock() + _FAR_FUTURE
        self._recover(report, future, future)
        self._sweep(report, None)
        return report

    def _sweep_before(self, report: TickReport, now: datetime) -> datetime | None:
        """Queued work received before this moment is dispatched again: after the grace period,
        or all of it (``None``) when the queue's transport lost the messages it held (a flushed
        or emptied Redis): those would otherwise wait out the grace period first."""
        if self.queue.messages_lost():
            log.warning(
                "the queue's transport may have lost messages (its data was emptied, or this is "
                "its first use): dispatching everything waiting now"
            )
            report.messages_lost = True
            return None
        return now - timedelta(seconds=self.options.dispatch_grace_seconds)

    def _recover(self, report: TickReport, lease_now: datetime, stale_before: datetime) -> None:
        report.requeued_items = self.store.requeue_expired(lease_now)
        for item_id in report.requeued_items:
            try:
                self.queue.dispatch_webhook(self.store.get_queue_item(item_id).webhook_id)
            except NotFound:
                continue
        self._abandon_poison_runs(report, stale_before)
        report.reaped = self.store.reap_stale(stale_before)
        for execution_id in report.reaped:
            self.queue.dispatch_execution(execution_id)

    def _abandon_poison_runs(self, report: TickReport, stale_before: datetime) -> None:
        """End as errors the silent runs already requeued ``max_reaps`` times: whatever kills
        their worker (a crash, the memory limit, an end that cannot be stored) would kill it
        again, and each re-run repeats the run's writes."""
        limit = self.settings.max_reaps
        error = {
            "type": "ReapLimitReached",
            "message": (
                f"the run was started {limit + 1} times and its worker stopped each time before "
                "the run ended (killed, out of memory, or its end could not be stored); it is "
                f"not run again on its own (SWITCHBOARD_MAX_REAPS={limit})"
            ),
        }
        report.abandoned = self.store.abandon_stale(
            stale_before, reaped_at_least=limit, error=error, now=self.clock()
        )
        for execution_id in report.abandoned:
            log.error("execution %s: %s", execution_id, error["message"])
            try:
                execution = self.store.get_execution(execution_id, with_record=False)
            except NotFound:
                continue
            self.incomplete.settle_broken_retry(execution, error)

    def _sweep(self, report: TickReport, older_than: datetime | None) -> None:
        """Dispatch queued requests and executions received before ``older_than`` (all of
        them when ``None``): their message was lost (Redis down or emptied, a worker killed
        with it prefetched, a restart)."""
        for scenario in self.store.list_scenarios(active=True):
            if scenario.scheduling.get("type") != "immediately":
                continue
            for webhook in self.store.list_webhooks(scenario_id=scenario.id):
                overdue = self._overdue_requests(webhook.id, older_than)
                for _ in range(overdue):
                    self.queue.dispatch_webhook(webhook.id)
                report.dispatched_items += overdue
        page = self.store.list_executions(
            status=ExecutionStatus.QUEUED, until=older_than, limit=_SWEEP_LIMIT
        )
        for execution in page.items:
            self.queue.dispatch_execution(execution.id)
            report.dispatched_executions += 1

    def _overdue_requests(self, webhook_id: int, older_than: datetime | None) -> int:
        """How many of the webhook's queued requests need a message again: every one when
        ``None`` (however many wait: each message runs the oldest), else those of the oldest
        ``_SWEEP_LIMIT`` received before ``older_than`` (later ticks see the rest)."""
        if older_than is None:
            return self.store.count_queue(webhook_id)
        waiting = self.store.list_queue(webhook_id, limit=_SWEEP_LIMIT)
        return sum(item.received_at <= older_than for item in waiting)

    def _start_due_schedules(self, report: TickReport, now: datetime) -> None:
        for scenario in self.store.list_scenarios(active=True):
            if not is_timed(scenario.scheduling):
                continue
            try:
                if self._due(scenario, now):
                    self._start_scheduled_run(scenario)
                    report.scheduled.append(scenario.id)
            except ScheduleError as error:
                log.warning("scenario %s: %s", scenario.id, error)

    def _due(self, scenario: Scenario, now: datetime) -> bool:
        """Whether the scenario's next due time has come; moves the bookmark past ``now``."""
        bookmark = self.store.get_cursor(scenario.id, SCHEDULE_BOOKMARK_MODULE)
        if bookmark is None:
            first = (
                now
                if scenario.scheduling.get("type") in {"indefinitely", "interval"}
                else (next_run_after(scenario.scheduling, now))
            )
            bookmark = {"next": first.isoformat() if first else None}
        next_text = bookmark.get("next")
        due = next_text is not None and datetime.fromisoformat(next_text) <= now
        if due or not self.store.get_cursor(scenario.id, SCHEDULE_BOOKMARK_MODULE):
            following = next_run_after(scenario.scheduling, now) if due else None
            if due:
                bookmark = {"next": following.isoformat() if following else None}
            self.store.set_cursor(scenario.id, SCHEDULE_BOOKMARK_MODULE, bookmark)
        return due

    def _start_scheduled_run(self, scenario: Scenario) -> None:
        plan = self.plans.current(scenario)
        if plan.settings.sequential and self.store.count_unresolved(scenario.id):
            return  # Make pauses sequential scenarios until incomplete ones are resolved
        if is_instant(plan):
            for webhook in self.store.list_webhooks(scenario_id=scenario.id):
                for _ in range(min(self.store.count_queue(webhook.id), _SWEEP_LIMIT)):
                    self.queue.dispatch_webhook(webhook.id)
            return
        self.runs.enqueue_run(scenario.id, TriggerKind.SCHEDULE)

    def _start_due_retries(self, report: TickReport, now: datetime) -> None:
        for incomplete in self.store.due_for_retry(now):
            if self.incomplete.start_retry(incomplete.id) is not None:
                report.retried.append(incomplete.id)
