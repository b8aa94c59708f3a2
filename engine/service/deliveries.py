"""App deliveries: webhooks an app posts to one address for all of its accounts.

Some apps (QuickBooks Online) send every company's changes to the single URL registered for
the app. ``POST /hooks/apps/<app>`` takes such a delivery; the app's instant trigger declares a
``route_delivery(raw_body, headers, connections)`` hook that checks the signature with each
candidate scenario's connection and returns the part of the delivery meant for each. Each part
is queued on that scenario's webhook, exactly as a request to its own URL would be. A verified
body accepted before (``engine.service.replay``) is acknowledged and queued nothing. The parts
and the delivery's sighting are stored in one transaction: all of them or none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.config import Settings
from engine.service.base import log
from engine.service.errors import InvalidPayload, PayloadTooLarge, WebhookNotFound
from engine.service.ingress import WebhookOperations, store_reachable
from engine.service.plans import PlanCache
from engine.service.replay import WINDOW_SECONDS, delivery_digest
from engine.spec import ModuleKind
from engine.store import Connection, NotFound, Store, Webhook, webhook_request


class AppDeliveryOperations:
    """Deliveries an app posts for all of its accounts, queued on each scenario's webhook
    through ``webhooks``."""

    def __init__(
        self, store: Store, settings: Settings, plans: PlanCache, webhooks: WebhookOperations
    ) -> None:
        self.store = store
        self.settings = settings
        self.plans = plans
        self.webhooks = webhooks

    def accept_app_delivery(
        self,
        app_id: str,
        *,
        method: str,
        headers: Mapping[str, str],
        query: Mapping[str, Any],
        body: bytes,
        content_type: str | None,
    ) -> int:
        """Route one app delivery to the active scenarios it concerns; the status to answer
        (200, or the app's refusal such as 401 for a bad signature — nothing is queued then).

        Raises:
            WebhookNotFound: no active scenario is triggered by this app's deliveries.
            PayloadTooLarge, InvalidPayload: the body is refused before any routing.
            WebhookQueueFull: a scenario's queue is full; no part of the delivery is queued.
            StoreUnavailable: the database is down or locked; no part is queued, the app
                must send it again.
        """
        if len(body) > self.settings.webhook_max_payload_bytes:
            raise PayloadTooLarge(
                f"the request body is over {self.settings.webhook_max_payload_bytes} bytes"
            )
        with store_reachable():
            candidates = self._delivery_candidates(app_id)
        if not candidates:
            raise WebhookNotFound(f"no active scenario receives {app_id} deliveries")
        route = next(iter(candidates.values()))[0]
        connections = {key: connection for key, (_, connection, _) in candidates.items()}
        status, parts = route(body, headers, connections)
        if status >= 400:
            if status == 400:
                raise InvalidPayload(f"the {app_id} delivery is not readable")
            return status
        # Only a verified body is remembered: an unsigned one must not pre-empt the real one.
        digest = delivery_digest(app_id, body)
        with store_reachable(), self.store.transaction():
            if not self.store.remember_delivery(digest, WINDOW_SECONDS):
                log.info("%s delivery already accepted (a replay or a re-send)", app_id)
                return status
            webhooks = self._queue_parts(parts, candidates, method, headers, query, content_type)
        for webhook in webhooks:
            self.webhooks.dispatch_stored(webhook.id)
        return status

    def _queue_parts(
        self,
        parts: Mapping[int, bytes],
        candidates: Mapping[int, tuple[Any, Connection, Webhook]],
        method: str,
        headers: Mapping[str, str],
        query: Mapping[str, Any],
        content_type: str | None,
    ) -> list[Webhook]:
        """Queue each part on its scenario's webhook (inside the caller's transaction: an app
        re-sends a refused delivery whole, so a partly stored one would run parts twice)."""
        webhooks = [candidates[key][2] for key in parts]
        for webhook, part in zip(webhooks, parts.values(), strict=True):
            self.webhooks.enqueue(
                webhook, webhook_request(method, headers, query, part, content_type)
            )
        return webhooks

    def _delivery_candidates(self, app_id: str) -> dict[int, tuple[Any, Connection, Webhook]]:
        """Active scenarios whose instant trigger takes ``app_id`` deliveries: scenario id →
        (the trigger's ``route_delivery`` hook, its connection, the scenario's webhook)."""
        found: dict[int, tuple[Any, Connection, Webhook]] = {}
        for scenario in self.store.list_scenarios(active=True):
            trigger = self.plans.current(scenario).trigger
            spec = trigger.spec if trigger is not None else None
            if trigger is None or spec is None or spec.app != app_id:
                continue
            if spec.kind is not ModuleKind.INSTANT_TRIGGER:
                continue
            route = spec.hooks.get("route_delivery")
            connection = self._connection_of(trigger.parameters.get("__IMTCONN__"))
            webhooks = self.store.list_webhooks(scenario_id=scenario.id)
            if route is not None and connection is not None and webhooks:
                found[scenario.id] = (route, connection, webhooks[0])
        return found

    def _connection_of(self, connection_id: Any) -> Connection | None:
        try:
            return self.store.get_connection(int(connection_id))
        except (TypeError, ValueError, NotFound):
            return None
