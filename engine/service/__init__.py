"""The service: the one facade the web UI, the CLI and the Celery tasks call.

No Flask or Celery in here: it is given a ``Store``, a ``Queue``, ``Settings``, a module
registry and a clock, and does everything else through them.

>>> service = build_service(Settings.from_env())                      # doctest: +SKIP
>>> result = service.import_scenario(open("bp.json", "rb").read())    # doctest: +SKIP
>>> service.activate_scenario(result.scenario.id)                      # doctest: +SKIP
>>> service.accept_webhook(token, method="POST", headers=…, query={}, body=b"{}",
...                        content_type="application/json")           # doctest: +SKIP

``Service`` is a small facade over parts, plain classes whose constructors name what they use:
``scenarios`` (import/save/export/activate/schedule), ``webhooks`` (ingress), ``deliveries``
(an app's deliveries for all its accounts), ``runs`` (execute queued work, run once),
``incomplete`` (retry/resolve), ``maintenance`` (the scheduler's tick), ``history`` (filtered
history, retention, dashboard), ``queues`` (webhook queues, incomplete edits and bulk retry),
``module_runs`` ("run this module only"), ``previews`` (the expression preview, within its
limits), ``connections`` (create, test, check, OAuth grants), ``accounts`` (users, passwords,
sessions, API tokens), ``resources`` (data stores, webhooks,
versions), ``sync_logs`` (per-record
sync status of sync scenarios), ``reconciliation`` (1CRM's books against an accounting
system's, linked to the sync logs), ``rpcs`` (a select's choices an app loads), ``packs``
(install a sync pack's scenarios, their health, historical sync) and
``run_events`` (live run progress, the runs' event sink). Subscenarios (one scenario calling
another) are the runs' (``engine.service.subscenarios``).
``docs/architecture.md`` draws who uses whom.
Errors: ``engine.service.errors``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from engine.config import Settings
from engine.queue import Backplane, EventHub, Queue, make_backplane
from engine.registry import ModuleRegistry, default_registry
from engine.service.accounts import AccountOperations
from engine.service.base import Clock, HttpFactory, Sleep, guarded_http_factory
from engine.service.connections import ConnectionOperations
from engine.service.deliveries import AppDeliveryOperations
from engine.service.errors import (
    Busy,
    Conflict,
    InvalidField,
    InvalidPayload,
    InvalidRequest,
    LimitExceeded,
    PayloadTooLarge,
    RateLimited,
    ServiceError,
    StoreUnavailable,
    WebhookDisabled,
    WebhookNotFound,
    WebhookQueueFull,
)
from engine.service.events import EventOperations
from engine.service.history import HistoryOperations
from engine.service.incomplete import IncompleteOperations
from engine.service.ingress import AcceptedRequest, WebhookOperations
from engine.service.maintenance import MaintenanceOperations, TickReport
from engine.service.moduleruns import ModuleRunOperations
from engine.service.options import ServiceOptions
from engine.service.packs import HistoricalSync, PackOperations, PackScenario
from engine.service.plans import PlanCache
from engine.service.preview import Preview, PreviewOperations
from engine.service.queueview import QueueViewOperations
from engine.service.reconcile import ReconcileOperations, Reconciliation
from engine.service.resources import ResourceOperations
from engine.service.rpcs import RpcOperations
from engine.service.running import HeartbeatMonitor
from engine.service.runs import RunOperations, execution_id_for_item
from engine.service.scenarios import ImportResult, ScenarioOperations
from engine.service.synclog import SyncEntry, SyncLogOperations
from engine.store import Store, open_store, utc_now

SHARED = ("settings", "options", "http_factory", "events")
"""What a part may be given that the running service can replace (a test's settings, the
CLI's base URL, another process's event hub): assigning it on the service reaches every part
that holds it (``Service.__setattr__``)."""


class Service:
    """The facade: holds the parts and offers their public methods under one name.

    The parts are plain classes, each constructor naming what it uses; ``__init__`` wires
    them (store, backplane, plans, registry, clock, event sink, other parts), and nothing else
    happens here. Callers may reach a part directly (``service.runs``) or through the facade
    (``service.run_once``).

    Args:
        store: where everything durable lives.
        queue: the backplane (``engine.queue.make_backplane``); the service binds itself as its
            work handler, and takes its rate limits and event hub from it.
        settings: limits and timings (``engine.config.Settings``).
        registry: the installed modules blueprints are compiled against.
        clock: aware-UTC now; tests pass a fake.
        options: service timings not in ``Settings``.
        http_factory: makes the HTTP session of one run (closed after it); by default a
            session behind the SSRF guard unless ``settings.allow_private_network``.
        sleep: how runs wait (retries, rate limits): ``time.sleep``; a test passes its clock's
            (``engine.service.base.Sleep``).
    """

    def __init__(
        self,
        store: Store,
        queue: Backplane,
        settings: Settings,
        registry: ModuleRegistry,
        clock: Clock = utc_now,
        *,
        options: ServiceOptions | None = None,
        http_factory: HttpFactory | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        options = options or ServiceOptions()
        http_factory = http_factory or guarded_http_factory(settings.allow_private_network)
        self.store = store
        self.queue = queue
        self.registry = registry
        self.clock = clock
        self.plans = PlanCache(store, registry)
        self.limiter = queue.limits.rate  # per webhook: shared wherever the backplane counts
        self.heartbeats = HeartbeatMonitor(store, settings.heartbeat_seconds)
        self._parts: list[Any] = []
        self.settings, self.options, self.http_factory = settings, options, http_factory
        self.events: EventHub = queue.events

        self.run_events = EventOperations(store, queue.events)
        self.connections = ConnectionOperations(store, registry, clock, http_factory)
        self.history = HistoryOperations(store, settings, options, clock)
        self.incomplete = IncompleteOperations(store, queue, clock)
        self.webhooks = WebhookOperations(store, queue, self.plans, settings, options, self.limiter)
        self.deliveries = AppDeliveryOperations(store, settings, self.plans, self.webhooks)
        self.runs = RunOperations(
            store,
            queue,
            self.plans,
            settings,
            options,
            clock,
            http_factory,
            heartbeats=self.heartbeats,
            incomplete=self.incomplete,
            webhooks=self.webhooks,
            events=self.run_events,
            connections=self.connections,
            sleep=sleep,
        )
        self.webhooks.hand_over = self.runs.hand_over
        self.webhooks.run_here = self.runs.run_here
        self.webhooks.run_first = self.runs.run_first
        self.scenarios = ScenarioOperations(
            store,
            queue,
            self.plans,
            registry,
            options,
            clock,
            http_factory,
            connections=self.connections,
        )
        self.maintenance = MaintenanceOperations(
            store,
            queue,
            self.plans,
            settings,
            options,
            clock,
            runs=self.runs,
            incomplete=self.incomplete,
            history=self.history,
            scenarios=self.scenarios,
        )
        self.queues = QueueViewOperations(store, queue, self.plans, self.incomplete)
        self.module_runs = ModuleRunOperations(store, self.plans, http_factory, self.runs)
        self.previews = PreviewOperations(clock)
        self.resources = ResourceOperations(store)
        self.accounts = AccountOperations(store, clock)
        self.sync_logs = SyncLogOperations(store, registry)
        self.reconciliation = ReconcileOperations(
            store,
            self.plans,
            registry,
            clock,
            http_factory,
            self.sync_logs,
            connections=self.connections,
        )
        self.rpcs = RpcOperations(registry, http_factory, connections=self.connections)
        self.packs = PackOperations(
            store,
            registry,
            self.plans,
            http_factory,
            connections=self.connections,
            scenarios=self.scenarios,
            runs=self.runs,
            sync_logs=self.sync_logs,
        )
        self._parts = [
            self.run_events,
            self.history,
            self.incomplete,
            self.webhooks,
            self.deliveries,
            self.runs,
            self.scenarios,
            self.maintenance,
            self.queues,
            self.module_runs,
            self.previews,
            self.resources,
            self.connections,
            self.accounts,
            self.sync_logs,
            self.reconciliation,
            self.rpcs,
            self.packs,
        ]

        self.current_plan = self.plans.current
        # scenarios
        self.activate_scenario = self.scenarios.activate_scenario
        self.choose_where_to_start = self.scenarios.choose_where_to_start
        self.deactivate_scenario = self.scenarios.deactivate_scenario
        self.delete_scenario = self.scenarios.delete_scenario
        self.export_scenario = self.scenarios.export_scenario
        self.get_scenario = self.scenarios.get_scenario
        self.import_scenario = self.scenarios.import_scenario
        self.list_scenarios = self.scenarios.list_scenarios
        self.renew_app_webhooks = self.scenarios.renew_app_webhooks
        self.restore_version = self.scenarios.restore_version
        self.save_scenario = self.scenarios.save_scenario
        self.set_scheduling = self.scenarios.set_scheduling
        self.webhook_url = self.scenarios.webhook_url
        # webhooks
        self.accept_webhook = self.webhooks.accept_webhook
        self.bundle_of = self.webhooks.bundle_of
        self.create_webhook = self.webhooks.create_webhook
        self.determine_data_structure = self.webhooks.determine_data_structure
        self.probe_webhook = self.webhooks.probe_webhook
        self.wait_for_response = self.webhooks.wait_for_response
        # deliveries
        self.accept_app_delivery = self.deliveries.accept_app_delivery
        # runs
        self.enqueue_run = self.runs.enqueue_run
        self.execute = self.runs.execute
        self.get_execution = self.runs.get_execution
        self.list_executions = self.runs.list_executions
        self.process_webhook = self.runs.process_webhook
        self.run_once = self.runs.run_once
        # incomplete
        self.delete_incomplete = self.incomplete.delete_incomplete
        self.get_incomplete = self.incomplete.get_incomplete
        self.list_incomplete = self.incomplete.list_incomplete
        self.resolve_incomplete = self.incomplete.resolve_incomplete
        self.retry_incomplete = self.incomplete.retry_incomplete
        # maintenance
        self.recover_abandoned_work = self.maintenance.recover_abandoned_work
        self.tick = self.maintenance.tick
        # history
        self.dashboard = self.history.dashboard
        self.list_history = self.history.list_history
        self.purge_expired_executions = self.history.purge_expired_executions
        # queues
        self.delete_webhook_queue_item = self.queues.delete_webhook_queue_item
        self.edit_incomplete = self.queues.edit_incomplete
        self.process_webhook_queue = self.queues.process_webhook_queue
        self.retry_incomplete_many = self.queues.retry_incomplete_many
        self.webhook_queue = self.queues.webhook_queue
        self.webhook_queue_item = self.queues.webhook_queue_item
        # module_runs
        self.run_module_only = self.module_runs.run_module_only
        # previews
        self.preview_expression = self.previews.preview_expression
        # connections
        self.check_connection = self.connections.check_connection
        self.connection_kinds = self.connections.connection_kinds
        self.create_connection = self.connections.create_connection
        self.delete_connection = self.connections.delete_connection
        self.list_connections = self.connections.list_connections
        self.test_connection = self.connections.test_connection
        # resources
        self.count_records = self.resources.count_records
        self.create_data_store = self.resources.create_data_store
        self.data_store_size = self.resources.data_store_size
        self.delete_all_records = self.resources.delete_all_records
        self.delete_data_store = self.resources.delete_data_store
        self.delete_record = self.resources.delete_record
        self.delete_webhook = self.resources.delete_webhook
        self.get_data_store = self.resources.get_data_store
        self.get_record = self.resources.get_record
        self.get_webhook = self.resources.get_webhook
        self.learn_next_request = self.resources.learn_next_request
        self.list_data_stores = self.resources.list_data_stores
        self.list_versions = self.resources.list_versions
        self.list_webhooks = self.resources.list_webhooks
        self.put_record = self.resources.put_record
        self.queued_requests = self.resources.queued_requests
        self.records_page = self.resources.records_page
        self.rename_scenario = self.resources.rename_scenario
        self.update_data_store = self.resources.update_data_store
        # sync_logs
        self.sync_log = self.sync_logs.sync_log
        # reconciliation
        self.reconcile = self.reconciliation.reconcile
        # rpcs
        self.module_options = self.rpcs.module_options
        # packs
        self.historical_syncs = self.packs.historical_syncs
        self.install_pack = self.packs.install_pack
        self.list_packs = self.packs.list_packs
        self.pack = self.packs.pack
        self.pack_health = self.packs.pack_health
        self.pack_settings = self.packs.pack_settings
        self.pack_taxes = self.packs.pack_taxes
        self.start_historical_sync = self.packs.start_historical_sync
        self.sync_historical = self.packs.sync_historical
        # run_events
        self.follow_execution = self.run_events.follow_execution

        queue.bind(self)

    def __setattr__(self, name: str, value: Any) -> None:
        """A shared collaborator replaced on the service is replaced in every part holding it."""
        super().__setattr__(name, value)
        if name in SHARED:
            for part in self.__dict__.get("_parts", ()):
                if name in vars(part):
                    setattr(part, name, value)

    def close(self) -> None:
        """Stop the heartbeat thread. The store and the backplane (with its event hub) belong
        to whoever made them."""
        self.heartbeats.stop()


def build_service(
    settings: Settings,
    *,
    queue: Queue | None = None,
    registry: ModuleRegistry | None = None,
    options: ServiceOptions | None = None,
    clock: Callable[[], datetime] = utc_now,
    upgrade: bool = False,
) -> Service:
    """A service on the configured store (migrated first when ``upgrade``) and backplane
    (``make_backplane``: Celery and Redis with ``SWITCHBOARD_REDIS_URL``, else in-process;
    ``queue`` overrides it). The caller closes
    ``service.store``/``service.queue`` and the service when done (``shutdown_service``)."""
    options = options or ServiceOptions.from_env()
    settings = settings.with_secret_key_file()
    store = open_store(
        settings.database_url, secret_box=settings.secret_box(), clock=clock, upgrade=upgrade
    )
    queue = queue or make_backplane(settings, inline_workers=options.inline_workers)
    return Service(store, queue, settings, registry or default_registry(), clock, options=options)


def shutdown_service(service: Service, timeout: float = 5.0) -> None:
    """Stop the queue's threads, the heartbeats, and close the store, in that order."""
    service.queue.close(timeout)
    service.close()
    service.store.close()


__all__ = [
    "AcceptedRequest",
    "Busy",
    "Conflict",
    "HistoricalSync",
    "ImportResult",
    "InvalidField",
    "InvalidPayload",
    "InvalidRequest",
    "LimitExceeded",
    "PackScenario",
    "PayloadTooLarge",
    "Preview",
    "RateLimited",
    "Reconciliation",
    "Service",
    "ServiceError",
    "ServiceOptions",
    "StoreUnavailable",
    "SyncEntry",
    "TickReport",
    "WebhookDisabled",
    "WebhookNotFound",
    "WebhookQueueFull",
    "build_service",
    "execution_id_for_item",
    "shutdown_service",
]
