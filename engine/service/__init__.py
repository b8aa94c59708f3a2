"""The service: the one facade the web UI, the CLI and the Celery tasks call.

No Flask or Celery in here: it is given a ``Store``, a ``Queue``, ``Settings``, a module
registry and a clock, and does everything else through them.

>>> service = build_service(Settings.from_env())                      # doctest: +SKIP
>>> result = service.import_scenario(open("bp.json", "rb").read())    # doctest: +SKIP
>>> service.activate_scenario(result.scenario.id)                      # doctest: +SKIP
>>> service.accept_webhook(token, method="POST", headers=…, query={}, body=b"{}",
...                        content_type="application/json")           # doctest: +SKIP

Parts: ``scenarios`` (import/save/export/activate/schedule), ``ingress`` (webhooks),
``runs`` (execute queued work, run once), ``incomplete`` (retry/resolve), ``maintenance``
(the scheduler's tick), ``synclog`` (per-record sync status of sync scenarios),
``packs`` (install a sync pack's scenarios, their health, historical sync),
``reconcile`` (1CRM's books against an accounting system's, linked to the sync logs), ``events``
(live run progress), ``history`` (filtered history, retention, dashboard), ``queueview``
(webhook queues, incomplete edits and bulk retry), ``moduleruns`` ("run this module only"),
``preview`` (the expression preview, within its limits).
Errors: ``engine.service.errors``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from engine.config import Settings
from engine.queue import Queue, make_queue
from engine.registry import ModuleRegistry, default_registry
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
from engine.service.events import EventHub, EventOperations
from engine.service.history import HistoryOperations
from engine.service.incomplete import IncompleteOperations
from engine.service.ingress import AcceptedRequest, WebhookOperations
from engine.service.maintenance import MaintenanceOperations, TickReport
from engine.service.moduleruns import ModuleRunOperations
from engine.service.options import ServiceOptions
from engine.service.packs import HistoricalSync, PackOperations, PackScenario
from engine.service.preview import Preview, PreviewOperations
from engine.service.queueview import QueueViewOperations
from engine.service.reconcile import ReconcileOperations, Reconciliation
from engine.service.resources import ResourceOperations
from engine.service.runs import RunOperations, execution_id_for_item
from engine.service.scenarios import ImportResult, ScenarioOperations
from engine.service.synclog import SyncEntry, SyncLogOperations
from engine.store import open_store, utc_now


class Service(
    EventOperations,
    HistoryOperations,
    QueueViewOperations,
    ModuleRunOperations,
    ScenarioOperations,
    WebhookOperations,
    RunOperations,
    IncompleteOperations,
    MaintenanceOperations,
    SyncLogOperations,
    ReconcileOperations,
    PackOperations,
    ResourceOperations,
    AppDeliveryOperations,
    PreviewOperations,
):
    """See the module docstring; the constructor is ``ServiceBase``'s. It binds itself as the
    queue's work handler (in-process queues deliver to it)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.events = EventHub(self.settings.redis_url)
        self.queue.bind(self)

    def close(self) -> None:
        """Stop the heartbeat thread. The store and the queue belong to whoever made them."""
        self.heartbeats.stop()
        self.events.close()


def build_service(
    settings: Settings,
    *,
    queue: Queue | None = None,
    registry: ModuleRegistry | None = None,
    options: ServiceOptions | None = None,
    clock: Callable[[], datetime] = utc_now,
    upgrade: bool = False,
) -> Service:
    """A service on the configured store (migrated first when ``upgrade``) and queue
    (``CeleryQueue`` with ``SWITCHBOARD_REDIS_URL``, else ``InlineQueue``). The caller closes
    ``service.store``/``service.queue`` and the service when done (``shutdown_service``)."""
    options = options or ServiceOptions.from_env()
    settings = settings.with_secret_key_file()
    store = open_store(
        settings.database_url, secret_box=settings.secret_box(), clock=clock, upgrade=upgrade
    )
    queue = queue or make_queue(settings.redis_url, inline_workers=options.inline_workers)
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
