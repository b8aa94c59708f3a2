"""Running scenarios: webhook items become executions, executions are claimed, run, finished.

Exactly-once bookkeeping rests on two atomic claims in the store:

1. A queued webhook request is claimed (with a lease), turned into an execution whose id is
   derived from the request's id (so a re-claimed request finds the same execution), and
   marked done. A worker dying in between only lets the lease expire; the retry reuses the id.
2. A queued execution is claimed queued → running by one worker, which heartbeats while it
   runs. A worker dying mid-run leaves a stale heartbeat; the reaper puts it back to queued and
   the sweep dispatches it again. Redelivered messages find nothing to claim and do nothing.
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson

from engine.config import Settings
from engine.failures import log_failure
from engine.graph import Plan
from engine.jsonvalues import COMPACT_OPTIONS
from engine.queue import Backplane, Lock, WebhookResponse
from engine.runtime import ExecutionRecord, IncompleteState, RunContext, RunLimits, run_scenario
from engine.service.base import Clock, HttpFactory, Sleep, log
from engine.service.connections import ConnectionOperations
from engine.service.events import EventOperations
from engine.service.incomplete import IncompleteOperations
from engine.service.ingress import WebhookOperations
from engine.service.options import ServiceOptions
from engine.service.plans import PlanCache, has_responder, is_instant
from engine.service.running import HeartbeatMonitor, ModuleState, Responder, new_worker_id
from engine.service.subscenarios import ServiceSubscenarios, keep_outputs, scenario_inputs
from engine.spec import ModuleKind
from engine.store import (
    DatabaseError,
    Execution,
    ExecutionPage,
    ExecutionStatus,
    FinishedRun,
    InvalidTransition,
    InvalidValue,
    NotFound,
    QueueItem,
    Scenario,
    Store,
    StoreUnavailable,
    TriggerKind,
    Webhook,
)

_ITEM_NAMESPACE = uuid.UUID("5b1d0c3e-8f57-4c2a-9a43-0b8f4d7d2e11")


@dataclass(frozen=True)
class _Known:
    """What materializing a webhook request already read, so running it need not read again."""

    execution_id: str
    scenario: Scenario
    webhook: Webhook
    item: QueueItem | None
    """The stored request (``None``: run before it was stored, ``run_first``)."""
    worker: str | None = None
    """The worker that claimed the execution when it was made (``None``: still to claim)."""
    execution: Execution | None = None
    """The execution as this call made it: claimed by ``worker`` when that is given, else
    still queued (``None``: read it from the store)."""
    bundle: dict[str, Any] | None = None
    """The request's trigger bundle, when ingress made it already."""
    answer: Callable[[WebhookResponse], None] | None = None
    """Where the scenario's answer goes when the caller waits in this thread (``run_here``);
    ``None``: published on the backplane."""


def _claimed(execution: Execution, worker: str, now: datetime) -> Execution:
    """``execution`` as ``claim_execution`` just left it (not read back)."""
    return replace(
        execution,
        status=ExecutionStatus.RUNNING,
        worker_id=worker,
        started_at=now,
        heartbeat_at=now,
    )


# Any ``var`` other than the scenario's, the execution's and the inputs (which a run makes
# itself) may read the organization's variables: ``var.organization.x``, ``var`` whole.
_OTHER_VARIABLES = re.compile(r"\bvar\b(?!\.(?:scenario|execution|input)\b)")
_KEPT_ANSWERS = 1024


def may_refer_to_organization(plan: Plan) -> bool:
    """Whether a run of ``plan`` may read ``var.organization`` (conservative: any mention of
    ``var`` but the run's own namespaces counts)."""
    return _OTHER_VARIABLES.search(plan.blueprint.model_dump_json()) is not None


def execution_id_for_item(item_id: int) -> str:
    """The execution a webhook queue item becomes: the same id every time it is claimed."""
    return str(uuid.uuid5(_ITEM_NAMESPACE, f"webhook-queue-item:{item_id}"))


class RunOperations:
    """Runs: execute queued work (webhook requests, queued executions) and "Run once".

    Args:
        heartbeats: keeps each running execution's heartbeat fresh.
        incomplete: settles what a run leaves incomplete, and failed retries.
        webhooks: makes a webhook request's bundle (``bundle_of``).
        events: the event sink each run reports its progress and end to.
        sleep: how a run waits (``engine.service.base.Sleep``).
    """

    def __init__(
        self,
        store: Store,
        queue: Backplane,
        plans: PlanCache,
        settings: Settings,
        options: ServiceOptions,
        clock: Clock,
        http_factory: HttpFactory,
        *,
        heartbeats: HeartbeatMonitor,
        incomplete: IncompleteOperations,
        webhooks: WebhookOperations,
        events: EventOperations,
        connections: ConnectionOperations,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.store = store
        self.queue = queue
        self.plans = plans
        self.sleep = sleep
        self.settings = settings
        self.options = options
        self.clock = clock
        self.http_factory = http_factory
        self.heartbeats = heartbeats
        self.incomplete = incomplete
        self.webhooks = webhooks
        self.run_events = events
        self.connections = connections
        self._refers_to_organization: dict[int, tuple[Plan, bool]] = {}
        self._held: dict[str, _Known] = {}  # execution id → what ingress made for it

    # -- entry points for workers --

    def process_webhook(self, webhook_id: int) -> list[str]:
        """Run the oldest queued request(s) of a webhook whose scenario is active.

        Parallel scenarios take one request per call. Sequential ones take the scenario's lock
        and drain the queue in arrival order (a call that finds the lock held returns: the
        holder drains); they pause while the scenario has unresolved incomplete executions.

        Returns:
            The ids of the executions this call ran.
        """
        known = None
        # One transaction from the route's reads to the request's claim (on PostgreSQL each
        # read on its own cost a BEGIN and a ROLLBACK round trip besides its SELECT).
        with self.store.transaction():
            route = self._active_route(webhook_id)
            if route is not None and not route[2].settings.sequential:
                known = self._materialize_next(route[0], route[1])
        if route is None:
            return []
        webhook, scenario, plan = route
        if plan.settings.sequential:
            return self._drain_sequentially(webhook, scenario)
        if known is None:
            return []
        self._execute(known.execution_id, known=known)
        return [known.execution_id]

    def execute(self, execution_id: str) -> Execution | None:
        """Claim and run a queued execution; ``None`` when there is nothing to claim (already
        running or finished elsewhere: a redelivered task) or its scenario is busy: a
        sequential one, or a poll of any (two polls would read the same cursor and sync the
        same records twice; Make never runs a scheduled scenario alongside itself)."""
        known = self._held.pop(execution_id, None)
        if known is not None:  # made by ingress in this process a moment ago: not read again
            return self._execute(execution_id, known=known)
        try:
            execution = self.store.get_execution(execution_id, with_record=False)
            scenario = self.store.get_scenario(execution.scenario_id)
        except NotFound:
            return None
        if execution.status is not ExecutionStatus.QUEUED:
            return None
        plan = self.plans.get(scenario.id, execution.scenario_version)
        if not plan.settings.sequential and not _polls(plan, execution):
            return self._execute(execution_id)
        with self._scenario_lock(scenario.id) as lock:
            if lock is None:
                return None  # the holder (or the sweep, later) runs it in turn
            return self._execute(execution_id, lock)

    # -- entry points for people --

    def run_once(
        self, scenario_id: int, bundles: Sequence[Mapping[str, Any]] | None = None
    ) -> Execution:
        """Run the current version now, in the calling thread (Make's "Run once"), with
        ``bundles`` as the trigger's output, or asking a polling trigger when ``None``."""
        scenario = self.store.get_scenario(scenario_id)
        execution = self.store.create_execution(
            scenario_id, scenario.current_version, TriggerKind.MANUAL
        )
        result = self._execute(execution.id, given=[dict(b) for b in bundles or []] or None)
        return result or self.store.get_execution(execution.id)

    def enqueue_run(self, scenario_id: int, kind: TriggerKind = TriggerKind.MANUAL) -> Execution:
        """Queue a run of the current version for a worker."""
        scenario = self.store.get_scenario(scenario_id)
        execution = self.store.create_execution(scenario_id, scenario.current_version, kind)
        self.queue.dispatch_execution(execution.id)
        return execution

    def get_execution(self, execution_id: str, *, with_record: bool = True) -> Execution:
        return self.store.get_execution(execution_id, with_record=with_record)

    def list_executions(self, **filters: Any) -> ExecutionPage:
        """``Store.list_executions`` (newest first, cursor paging)."""
        return self.store.list_executions(**filters)

    def hand_over(
        self,
        webhook: Webhook,
        scenario: Scenario,
        item: QueueItem,
        execution: Execution,
        bundle: dict[str, Any],
    ) -> None:
        """Dispatch the execution ingress stored with its request
        (``Store.enqueue_with_execution``), remembering what ingress knows of it so the thread
        that runs it reads none of it again.

        An execution stored claimed (``worker_id``) beats from now on, so waiting for a thread
        never gets it reaped; it is remembered until a thread runs it (the backplane's
        backlog bounds how many wait). A dispatch that fails is logged and the execution let
        go: it is durable, and the reaper (claimed) or the sweep (queued) runs it again."""
        worker = execution.worker_id
        self._held[execution.id] = _Known(
            execution.id, scenario, webhook, item, worker, execution, bundle
        )
        if worker is not None:
            self.heartbeats.hold(execution.id, worker)
        try:
            self.queue.dispatch_execution(execution.id)
        except Exception:
            self._held.pop(execution.id, None)
            self.heartbeats.let_go(execution.id)
            log.exception("execution %s: dispatch failed; it is run again later", execution.id)

    def run_here(
        self,
        webhook: Webhook,
        scenario: Scenario,
        item: QueueItem,
        execution: Execution,
        bundle: dict[str, Any],
    ) -> WebhookResponse | None:
        """Run the execution ingress stored, claimed, with its request
        (``Store.enqueue_with_execution``) in the calling thread, the one that accepted the
        request, and return the scenario's answer (``None`` when it gave none).

        Raises nothing: the request and its execution are stored, and a caller told of a
        failure would send the request again. A run this process does not finish (the
        database went away, the process died) stays running under a heartbeat that stops,
        and the reaper runs it again, as any interrupted run."""
        answers: list[WebhookResponse] = []
        known = _Known(
            execution.id,
            scenario,
            webhook,
            item,
            execution.worker_id,
            execution,
            bundle,
            answers.append,
        )
        try:
            self._execute(execution.id, known=known)
        except Exception as error:
            log_failure(log, "execution %s could not finish here", execution.id, error=error)
        return answers[0] if answers else None

    def run_first(
        self,
        webhook: Webhook,
        scenario: Scenario,
        plan: Plan,
        request: dict[str, Any],
        bundle: dict[str, Any],
    ) -> tuple[QueueItem, WebhookResponse | None] | None:
        """Run a request in the calling thread before anything is stored, then store the
        request, its execution as the run ended and its record in one commit
        (``Store.enqueue_with_execution(finished=…)``), and return the stored request with
        the scenario's answer; the caller answers only after that commit.

        Only for a plan ``answers_at_its_end`` (modules that compute on their input alone:
        running it again changes nothing outside), so a process that dies mid-run has
        stored nothing and answered nothing, and its caller sends again, as for a request
        refused with 503. ``None``: the route changed since it was read (checked in the
        commit); nothing is stored and this run's result is dropped, and the caller stores
        the request in the webhook queue.

        Raises:
            StoreUnavailable (the store's): the commit failed; nothing was stored.
        """
        received = self.clock()
        worker = new_worker_id()
        execution = Execution(
            id=str(uuid.uuid4()),
            scenario_id=scenario.id,
            scenario_version=scenario.current_version,
            trigger_kind=TriggerKind.WEBHOOK,
            trigger_ref=None,  # the request's id, once stored
            status=ExecutionStatus.RUNNING,
            created_at=received,
            started_at=received,
            finished_at=None,
            duration_ms=None,
            operations=0,
            data_size=0,
            worker_id=worker,
            heartbeat_at=received,
            reaped_count=0,
            error=None,
        )
        answers: list[WebhookResponse] = []
        known = _Known(execution.id, scenario, webhook, None, worker, execution, bundle)
        known = replace(known, answer=answers.append)
        try:
            record = self._run(scenario, plan, execution, None, known)
        except Exception:  # stored first, it runs again and ends as this failure (``run_here``)
            return self._store_then_finish(webhook, scenario, request, received, known)
        try:
            stored = self._store_run(webhook, execution, record, plan, request, received)
        except _StoreApart:
            return self._store_then_finish(webhook, scenario, request, received, known)
        if stored is None:
            return None
        item, finished = stored
        self.run_events.finished(execution.id, finished)
        self._count_outcome(scenario, plan, finished.status)
        return item, answers[0] if answers else None

    def _store_run(
        self,
        webhook: Webhook,
        execution: Execution,
        record: ExecutionRecord,
        plan: Plan,
        request: dict[str, Any],
        received: datetime,
    ) -> tuple[QueueItem, Execution] | None:
        """``run_first``'s one commit; ``_StoreApart`` for what the finish must handle."""
        if self.incomplete.settles(execution, record, plan):
            raise _StoreApart  # incomplete state: the finish's own transaction stores it
        status = ExecutionStatus(str(record.status))
        finished = FinishedRun(
            status=status,
            record=_encoded_record(record, self._keeps_bundles(plan, status)),
            operations=record.operations,
            data_size=record.data_size,
            error=_summary(record.error),
            finished_at=self.clock(),
        )
        try:
            return self.store.enqueue_with_execution(
                webhook.id,
                request,
                scenario_id=execution.scenario_id,
                scenario_version=execution.scenario_version,
                execution_id=execution.id,
                worker_id=execution.worker_id,
                received_at=received,
                finished=finished,
            )
        except StoreUnavailable:
            raise  # nothing stored: the caller is told so (503) and sends again
        except Exception as error:
            if _about_the_content(error):
                raise _StoreApart from error  # the finish ends it as unstorable, once
            raise

    def _store_then_finish(
        self,
        webhook: Webhook,
        scenario: Scenario,
        request: dict[str, Any],
        received: datetime,
        known: _Known,
    ) -> tuple[QueueItem, WebhookResponse | None] | None:
        """``run_first`` the way ``run_here`` goes, for a run whose end does not go into the
        request's commit (incomplete state to store, a record the store refuses, a failure
        of the run itself): the request with its execution claimed, then the run again and
        its finish, each committed apart (``run_here``)."""
        started = self.store.enqueue_with_execution(
            webhook.id,
            request,
            scenario_id=scenario.id,
            scenario_version=scenario.current_version,
            execution_id=str(uuid.uuid4()),
            worker_id=new_worker_id(),
            received_at=received,
        )
        if started is None:
            return None
        item, claimed = started
        return item, self.run_here(webhook, scenario, item, claimed, dict(known.bundle or {}))

    # -- webhook items --

    def _active_route(self, webhook_id: int) -> tuple[Webhook, Scenario, Plan] | None:
        try:
            webhook, scenario = self.store.get_webhook_route(webhook_id)
        except NotFound:
            return None
        if scenario is None or not scenario.active:
            return None
        return webhook, scenario, self.plans.current(scenario)

    def _materialize_next(self, webhook: Webhook, scenario: Scenario) -> _Known | None:
        """Take the oldest queued request and make its execution, claimed by this call and
        the request marked done, in one transaction (``Store.take_next_with_execution``: a
        SELECT, an UPDATE and an INSERT where claiming, making, claiming again and completing
        took eight statements). An execution made by an earlier taker is claimed as it is."""
        worker = new_worker_id()
        taken = self.store.take_next_with_execution(
            webhook.id,
            scenario_id=scenario.id,
            scenario_version=scenario.current_version,
            execution_id=execution_id_for_item,
            worker_id=worker,
            now=self.clock(),
        )
        if taken is None:
            return None
        item, execution = taken
        execution_id = execution_id_for_item(item.id)
        worker_now = worker if execution is not None else None
        return _Known(execution_id, scenario, webhook, item, worker_now, execution)

    def _drain_sequentially(self, webhook: Webhook, scenario: Scenario) -> list[str]:
        ran: list[str] = []
        with self._scenario_lock(scenario.id) as lock:
            if lock is None:
                return ran
            while not self.store.count_unresolved(scenario.id):
                known = self._materialize_next(webhook, scenario)
                if known is None:
                    break
                self._execute(known.execution_id, lock, known=known)
                ran.append(known.execution_id)
                lock.refresh()
        if self.store.count_queue(webhook.id) and not self.store.count_unresolved(scenario.id):
            self.queue.dispatch_webhook(webhook.id)  # arrived while we were letting go
        return ran

    @contextmanager
    def _scenario_lock(self, scenario_id: int) -> Iterator[Lock | None]:
        ttl = self.settings.stale_after_seconds
        with self.queue.locked(f"scenario:{scenario_id}", ttl) as lock:
            yield lock

    # -- one execution --

    def _execute(
        self,
        execution_id: str,
        lock: Lock | None = None,
        given: list[dict[str, Any]] | None = None,
        known: _Known | None = None,
    ) -> Execution | None:
        """Claim and run one execution, then tell the event sink how it ended."""
        finished = self._claim_and_run(execution_id, lock, given, known)
        self.run_events.finished(execution_id, finished)
        return finished

    def _claim_and_run(
        self,
        execution_id: str,
        lock: Lock | None,
        given: list[dict[str, Any]] | None,
        known: _Known | None,
    ) -> Execution | None:
        worker = known.worker if known is not None else None
        execution = known.execution if known is not None else None
        if worker is None:
            worker = new_worker_id()
            now = self.clock()
            try:
                if not self.store.claim_execution(execution_id, worker, now):
                    return None
            except NotFound:
                return None
            if execution is not None:  # known queued: claimed now as the claim wrote it
                execution = _claimed(execution, worker, now)
        if execution is None:
            execution = self.store.get_execution(execution_id, with_record=False)
        also = lock.refresh if lock is not None else None
        with self.heartbeats.beating(execution_id, worker, also):
            try:
                scenario = self._scenario_of(execution, known)
                plan = self.plans.get(scenario.id, execution.scenario_version)
                record = self._run(scenario, plan, execution, given, known)
            except Exception as error:  # any failure must end the execution, never hang it
                log_failure(
                    log,
                    "execution %s of scenario %s could not run",
                    execution_id,
                    execution.scenario_id,
                    error=error,
                )
                return self._finish_broken(execution, worker, error)
        return self._finish(execution, scenario, plan, record, worker)

    def _scenario_of(self, execution: Execution, known: _Known | None) -> Scenario:
        if known is not None and known.scenario.id == execution.scenario_id:
            return known.scenario  # read a moment ago by the same call
        return self.store.get_scenario(execution.scenario_id)

    def _run(
        self,
        scenario: Scenario,
        plan: Plan,
        execution: Execution,
        given: list[dict[str, Any]] | None,
        known: _Known | None = None,
    ) -> ExecutionRecord:
        responder = self._responder(execution, plan, known)
        bundles, resume = given, None
        if execution.trigger_kind is TriggerKind.WEBHOOK:
            bundles = _trigger_bundles(plan, self._webhook_bundle(execution, known))
        elif execution.trigger_kind is TriggerKind.RETRY:
            state = self.store.get_incomplete(int(execution.trigger_ref or 0)).state
            resume = IncompleteState.from_dict(state)
        elif execution.trigger_kind is TriggerKind.SUBSCENARIO:
            bundles = [scenario_inputs(execution) or {}]
        # A run before its execution is stored (``run_first``) has no follower: following
        # needs the stored execution, which is finished when it appears. Only its end is
        # announced (``finished``), as for a run whose events the hub no longer keeps.
        followed = known is None or known.item is not None
        with contextlib.closing(self.http_factory()) as http:
            context = self.run_context(scenario, plan, execution, http, responder, followed)
            record = run_scenario(plan, context, trigger_bundles=bundles, resume=resume)
        keep_outputs(execution, record)
        if responder is not None and not responder.answered:
            responder(200, "Accepted", {})  # the caller stops waiting at once
        return record

    def _webhook_bundle(self, execution: Execution, known: _Known | None) -> dict[str, Any]:
        """The bundle Make's custom webhook makes of the queued request."""
        if known is not None and known.item is None and known.bundle is not None:
            return known.bundle  # run before its request was stored (``run_first``)
        if (
            known is not None
            and known.item is not None
            and str(known.item.id) == execution.trigger_ref
        ):
            if known.bundle is not None:
                return known.bundle
            return self.webhooks.bundle_of(known.webhook, known.item)
        item = self.store.get_queue_item(int(execution.trigger_ref or 0))
        webhook = self.store.get_webhook(item.webhook_id)
        return self.webhooks.bundle_of(webhook, item)

    def _responder(
        self, execution: Execution, plan: Plan, known: _Known | None = None
    ) -> Responder | None:
        if execution.trigger_kind is not TriggerKind.WEBHOOK or not has_responder(plan):
            return None
        if known is not None and known.answer is not None:
            return Responder(known.answer)  # the caller waits in this thread
        key = str(execution.trigger_ref)

        def publish(response: WebhookResponse) -> None:
            self.queue.publish_response(key, response)

        return Responder(publish)

    def run_context(
        self,
        scenario: Scenario,
        plan: Plan,
        execution: Execution,
        http: Any,
        responder: Responder | None,
        followed: bool = True,
    ) -> RunContext:
        """The context one run of ``plan`` gets: connections, data stores, cursors, limits,
        and its progress reported to the event sink (unless not ``followed``)."""
        settings = self.settings
        progress = unheard = None
        if execution.id is not None and followed:
            progress = self.run_events.progress(str(execution.id))
            unheard = self.run_events.unheard(str(execution.id))

        def commit_cursor(module_id: int, cursor: Any) -> None:
            self.store.set_cursor(scenario.id, module_id, cursor)

        return RunContext(
            clock=self.clock,
            monotonic=time.perf_counter,
            http=http,
            connections=self.connections.resolver(http),
            data_stores=self.store,
            module_state=ModuleState(self.store, scenario.id),
            cursors=self._cursors(scenario, plan),
            starts=self._starts(scenario, plan),
            commit_cursor=commit_cursor,
            respond=responder,
            subscenarios=ServiceSubscenarios(self, execution),
            sleep=self.sleep,
            variables={
                "organization": self._organization_variables(plan),
                "input": scenario_inputs(execution) or {},
            },
            timezone=plan.settings.timezone or "UTC",
            allow_private_network=settings.allow_private_network,
            scenario_id=scenario.id,
            execution_id=execution.id,
            on_event=progress,
            events_unheard=unheard,
            blueprint_version=execution.scenario_version,
            limits=RunLimits(
                max_seconds=settings.max_run_seconds,
                max_operations=settings.max_bundles_per_run,
                stored_bundles=settings.max_stored_bundles_per_module,
            ),
        )

    def _organization_variables(self, plan: Plan) -> dict[str, Any]:
        """``var.organization``, read only for a plan that may refer to it (a read per run
        saved for the rest; plans do not change, so the answer is kept per plan)."""
        kept = self._refers_to_organization.get(id(plan))
        if kept is None or kept[0] is not plan:  # the id of a plan since collected
            if len(self._refers_to_organization) > _KEPT_ANSWERS:
                self._refers_to_organization.clear()
            kept = (plan, may_refer_to_organization(plan))
            self._refers_to_organization[id(plan)] = kept
        return self.store.list_variables() if kept[1] else {}

    def _cursors(self, scenario: Scenario, plan: Plan) -> dict[int, Any]:
        """The polling trigger's cursor, as its last committed run left it."""
        trigger = plan.trigger
        if trigger is None or trigger.kind is not ModuleKind.TRIGGER:
            return {}
        cursor = self.store.get_cursor(scenario.id, trigger.id)
        return {} if cursor is None else {trigger.id: cursor}

    def _starts(self, scenario: Scenario, plan: Plan) -> dict[int, Any]:
        """The polling trigger's "choose where to start" (``{"type": "now" | "since" | "all" |
        "manual", …}``, see ``choose_where_to_start``); it counts only while no cursor exists."""
        trigger = plan.trigger
        if trigger is None or trigger.kind is not ModuleKind.TRIGGER:
            return {}
        choice = scenario.scheduling.get("start", {}).get(str(trigger.id))
        return {} if choice is None else {trigger.id: choice}

    # -- finishing --

    def _keeps_bundles(self, plan: Plan, status: ExecutionStatus) -> bool:
        """Whether a run's record keeps its bundles: always unless it succeeded, then as the
        scenario's setting says, else the installation's."""
        keep = plan.settings.keep_successful_bundles
        if keep is None:
            keep = self.settings.keep_successful_bundles
        return keep or status is not ExecutionStatus.SUCCESS

    def _finish(
        self,
        execution: Execution,
        scenario: Scenario,
        plan: Plan,
        record: ExecutionRecord,
        worker: str,
    ) -> Execution | None:
        status = ExecutionStatus(str(record.status))
        stored = record.to_dict(bundles=self._keeps_bundles(plan, status))
        try:
            # One transaction: an execution never ends "incomplete" without the state its
            # retry needs, nor a retry run finished with its incomplete execution unsettled.
            # (A run with nothing to settle finishes in the finish's own transaction.)
            settles = self.incomplete.settles(execution, record, plan)
            with self.store.transaction() if settles else contextlib.nullcontext():
                finished = self.store.finish_execution(
                    execution.id,
                    status,
                    stored,
                    operations=record.operations,
                    data_size=record.data_size,
                    error=_summary(record.error),
                    worker_id=worker,
                    running=execution,
                )
                self.incomplete.settle_incomplete(execution, record, plan)
        except InvalidTransition:
            log.warning(
                "execution %s was reaped while running; its result is dropped", execution.id
            )
            return None
        except Exception as error:
            if not _about_the_content(error):
                raise  # the database: the run stays running and the reaper runs it again
            # Storing it again would fail again, on every re-run: end it here, once.
            log.exception("execution %s: its record could not be stored", execution.id)
            return self._finish_broken(execution, worker, UnstorableRecord(status, error))
        self._count_outcome(scenario, plan, status)
        return finished

    def _finish_broken(
        self, execution: Execution, worker: str, error: Exception
    ) -> Execution | None:
        summary = {"type": type(error).__name__, "message": str(error)}
        try:
            with self.store.transaction():
                finished = self.store.finish_execution(
                    execution.id,
                    ExecutionStatus.ERROR,
                    None,
                    operations=0,
                    data_size=0,
                    error=summary,
                    worker_id=worker,
                    running=execution,
                )
                self.incomplete.settle_broken_retry(execution, summary)
        except (InvalidTransition, NotFound):
            return None
        return finished

    def _count_outcome(self, scenario: Scenario, plan: Plan, status: ExecutionStatus) -> None:
        """Consecutive errors: Make disables scheduling after ``maxErrors`` errored runs in a
        row; instant-trigger scenarios stop at the first one (configurable)."""
        errored = status is ExecutionStatus.ERROR
        if not errored and not scenario.consecutive_errors:
            return  # nothing to reset: saves a write per successful run
        count = self.store.record_scenario_outcome(scenario.id, errored=errored)
        limit = plan.settings.max_errors
        if is_instant(plan) and self.options.instant_stop_on_first_error:
            limit = 1
        if errored and 0 < limit <= count:
            log.warning("scenario %s deactivated after %d consecutive errors", scenario.id, count)
            self.store.set_scenario_active(scenario.id, False)


def _polls(plan: Plan, execution: Execution) -> bool:
    """Whether the run asks a polling trigger for records (not a retry, which resumes one)."""
    trigger = plan.trigger
    return (
        trigger is not None
        and trigger.kind is ModuleKind.TRIGGER
        and execution.trigger_kind is not TriggerKind.RETRY
    )


def _encoded_record(record: ExecutionRecord, bundles: bool) -> Any:
    """The record to store, encoded once: its JSON as an ``orjson.Fragment`` (the store's
    encoding takes it as it is) with the runner's bundle encodings spliced in, not decoded
    to be encoded again; as JSON values when orjson refuses it (a lone surrogate, an integer
    past 64 bits), which the store's encoding then writes the standard library's way."""
    try:
        return orjson.Fragment(
            orjson.dumps(record.to_dict(bundles=bundles, encoded=True), option=COMPACT_OPTIONS)
        )
    except (orjson.JSONEncodeError, TypeError):
        return record.to_dict(bundles=bundles)


class _StoreApart(Exception):
    """``run_first``'s run cannot end in its request's commit: store and run it apart."""


class UnstorableRecord(Exception):
    """A run that ended but whose end the store refused because of what its record holds."""

    def __init__(self, status: ExecutionStatus, cause: BaseException) -> None:
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
        super().__init__(
            f"the run ended ({status.value}) but its record could not be stored "
            f"({type(cause).__name__}: {reason}); it is not run again"
        )


def _about_the_content(error: BaseException) -> bool:
    """Whether storing a run's end failed because of what the record holds (it would fail
    again on every re-run), not because of the database (it may work next time)."""
    if isinstance(error, DatabaseError):
        return isinstance(error, InvalidValue)  # e.g. text PostgreSQL refuses
    return isinstance(error, ValueError | TypeError | RecursionError)


def _summary(error: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not error:
        return None
    return {"type": error.get("type", "RuntimeError"), "message": error.get("message", "")}


def _trigger_bundles(plan: Plan, request_bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The trigger's output for one webhook request: an app's instant trigger (``onecrm:NewEvent``
    …) declares a ``webhook_bundles(request_bundle, parameters)`` hook to unwrap its app's
    envelope (and filter by the trigger's settings); the custom webhook passes the request's
    bundle on as it is."""
    trigger = plan.trigger
    unwrap = trigger.spec.hooks.get("webhook_bundles") if trigger and trigger.spec else None
    if unwrap is None or trigger is None:
        return [request_bundle]
    return list(unwrap(request_bundle, dict(trigger.parameters)))
