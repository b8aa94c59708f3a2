"""Webhook operations: create, accept (the ingress path), wait for a response, learn the data
structure."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from engine.config import Settings
from engine.errors import DataError
from engine.graph import Plan
from engine.queue import Backplane, WebhookResponse
from engine.ratelimit import RateLimiter
from engine.service.base import log
from engine.service.errors import (
    InvalidPayload,
    PayloadTooLarge,
    RateLimited,
    StoreUnavailable,
    WebhookDisabled,
    WebhookNotFound,
    WebhookQueueFull,
)
from engine.service.options import ServiceOptions
from engine.service.plans import PlanCache, answers_at_its_end, has_responder
from engine.service.running import new_worker_id
from engine.service.structure import infer_structure
from engine.store import (
    Execution,
    NotFound,
    QueueFull,
    QueueItem,
    QueueItemStatus,
    Scenario,
    Store,
    Webhook,
    request_body,
    webhook_request,
)
from engine.store import StoreUnavailable as StoreDown
from engine.webhooks import request_to_bundle

INGRESS_CACHE_SECONDS = 1.0
STORE_RETRY_AFTER_SECONDS = 5.0
"""What a caller refused with ``store_unavailable`` is told to wait before sending again."""
HandOver = Callable[[Webhook, Scenario, QueueItem, Execution, dict[str, Any]], None]
"""Takes an execution made at ingress, with its request's bundle, to a thread to run."""
RunFirst = Callable[
    [Webhook, Scenario, Plan, dict[str, Any], dict[str, Any]],
    tuple[QueueItem, WebhookResponse | None] | None,
]
"""Runs a request in the accepting thread, then stores it with its ended execution in one
commit (``RunOperations.run_first``): the stored request and the scenario's answer, or
``None`` when the route changed (nothing stored)."""
RunHere = Callable[
    [Webhook, Scenario, QueueItem, Execution, dict[str, Any]], WebhookResponse | None
]
"""Runs an execution made at ingress in the calling thread; returns the scenario's answer
(``None`` when the run could not answer)."""


@dataclass(frozen=True)
class AcceptedRequest:
    """A request now durable in the webhook queue.

    Attributes:
        item_id: its queue item (also the key its response is published under).
        webhook_id: the webhook that received it.
        responds: the scenario will answer it (``gateway:WebhookRespond``): wait for it.
    """

    item_id: int
    webhook_id: int
    responds: bool
    execution_id: str | None = None
    """The execution stored with the request, when ingress made it (``runs_at_ingress``);
    otherwise the worker that claims the request makes it."""
    ran_here: bool = False
    """Ingress ran the execution in the accepting thread: ``answer`` is all there is."""
    answer: WebhookResponse | None = None
    """The scenario's answer, when it ran here and answered."""


class WebhookOperations:
    """Webhook ingress: accept (store, then dispatch), answer, learn the data structure.

    Args:
        limiter: the per-webhook rate limit's counter (the backplane's).
    """

    def __init__(
        self,
        store: Store,
        queue: Backplane,
        plans: PlanCache,
        settings: Settings,
        options: ServiceOptions,
        limiter: RateLimiter,
    ) -> None:
        self.store = store
        self.queue = queue
        self.plans = plans
        self.settings = settings
        self.options = options
        self.limiter = limiter
        # token → (expires, the store's route version read at, webhook, route)
        self._ingress_cache: dict[str, Any] = {}
        self.hand_over: HandOver | None = None
        """Where an execution made at ingress goes (``RunOperations.hand_over``)."""
        self.run_here: RunHere | None = None
        """Runs an execution made at ingress in the accepting thread
        (``RunOperations.run_here``), for a scenario whose answer is its last step."""
        self.run_first: RunFirst | None = None
        """``run_here`` with the request stored after the run, with its end, in one commit
        (``RunOperations.run_first``; ``ServiceOptions.commit_with_the_run``)."""

    _ingress_cache: dict[str, tuple[float, int, Webhook, tuple[Scenario, Plan] | None]]

    def create_webhook(
        self,
        name: str,
        *,
        scenario_id: int | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> Webhook:
        """A webhook with a fresh unguessable token (its URL is ``/hooks/<token>``)."""
        return self.store.create_webhook(name, scenario_id=scenario_id, settings=settings)

    def accept_webhook(
        self,
        token: str,
        *,
        method: str,
        headers: Mapping[str, str],
        query: Mapping[str, Any],
        body: bytes,
        content_type: str | None,
    ) -> AcceptedRequest:
        """Check a received request, store it durably, and dispatch it when its scenario runs
        immediately. Inactive scenarios' requests wait in the queue (Make's behaviour).

        Raises:
            WebhookNotFound, WebhookDisabled, PayloadTooLarge, InvalidPayload, RateLimited,
            WebhookQueueFull, StoreUnavailable: see ``engine.service.errors``; nothing was
                stored.
        """
        with store_reachable():
            webhook, route = self._ingress_route(token)
        if len(body) > self.settings.webhook_max_payload_bytes:
            raise PayloadTooLarge(
                f"the request body is over {self.settings.webhook_max_payload_bytes} bytes"
            )
        bundle = self._bundle(webhook, method, headers, query, body)
        wait = self.limiter.acquire(
            f"webhook:{webhook.id}",
            self.settings.webhook_rate_limit,
            self.settings.webhook_rate_window_seconds,
        )
        if wait:
            raise RateLimited(
                f"more than {self.settings.webhook_rate_limit} requests in "
                f"{self.settings.webhook_rate_window_seconds:g} s to this webhook",
                wait,
            )
        with store_reachable():
            request = webhook_request(method, headers, query, body, content_type)
            if webhook.settings.get("learning"):
                webhook = self.store.get_webhook(webhook.id)  # the cached one may be stale
            if (
                route is not None
                and self.run_first is not None
                and self._runs_first(webhook, route)
            ):
                ran = self.run_first(webhook, route[0], route[1], request, bundle)
                if ran is not None:
                    item, answer = ran
                    return AcceptedRequest(
                        item.id,
                        webhook.id,
                        True,
                        item.execution_id,
                        ran_here=True,
                        answer=answer,
                    )
                started = None  # changed since it was read: nothing stored, the queue takes it
            else:
                started = self._store_with_execution(webhook, route, request)
            if started is None and self._runs_at_ingress(webhook, route):
                # The route changed since it was read (another process, a new version):
                # this request takes the webhook queue, the next reads the route afresh.
                self._ingress_cache.pop(token, None)
            item = started[0] if started is not None else self.enqueue(webhook, request)
        if started is not None and route is not None:
            execution = started[1]
            if self.run_here is not None and answers_at_its_end(route[1]):
                # The caller waits for the whole run anyway: no thread to hand it to.
                answer = self.run_here(webhook, route[0], item, execution, bundle)
                return AcceptedRequest(
                    item.id, webhook.id, True, execution.id, ran_here=True, answer=answer
                )
            if self.hand_over is not None:
                self.hand_over(webhook, route[0], item, execution, bundle)
                return AcceptedRequest(item.id, webhook.id, has_responder(route[1]), execution.id)
        if webhook.settings.get("learning"):
            return self._sample_taken(webhook, bundle, item)
        self._after_storing(webhook, bundle, route is not None)
        return AcceptedRequest(item.id, webhook.id, route is not None and has_responder(route[1]))

    def _store_with_execution(
        self,
        webhook: Webhook,
        route: tuple[Scenario, Plan] | None,
        request: dict[str, Any],
    ) -> tuple[QueueItem, Execution] | None:
        """Store the request with its execution in one commit when a thread of this process
        runs it next (``ServiceOptions.runs_at_ingress``): a parallel scenario, still active
        at the plan's version when the commit checks it. ``None``: nothing stored, the
        request goes to the webhook queue."""
        if route is None or not self._runs_at_ingress(webhook, route):
            return None
        scenario = route[0]
        return self.store.enqueue_with_execution(
            webhook.id,
            request,
            scenario_id=scenario.id,
            scenario_version=scenario.current_version,
            execution_id=str(uuid.uuid4()),
            worker_id=new_worker_id(),  # claimed now: ``hand_over`` beats for it from here
        )

    def _runs_first(self, webhook: Webhook, route: tuple[Scenario, Plan]) -> bool:
        """Whether a request for ``route`` runs in the accepting thread before it is stored,
        with its end (``run_first``): a scenario that computes and answers as its last step,
        with ``commit_with_the_run`` on."""
        return (
            self.options.commit_with_the_run
            and self._runs_at_ingress(webhook, route)
            and answers_at_its_end(route[1])
        )

    def _runs_at_ingress(self, webhook: Webhook, route: tuple[Scenario, Plan] | None) -> bool:
        """Whether a request for ``route`` is stored with its execution, which this process
        runs next (``_store_with_execution``)."""
        return (
            route is not None
            and (self.hand_over is not None or self.run_here is not None)
            and self.options.runs_at_ingress
            and not webhook.settings.get("learning")
            and not route[1].settings.sequential
            and self.queue.works_here()
        )

    def _sample_taken(
        self, webhook: Webhook, bundle: dict[str, Any], item: QueueItem
    ) -> AcceptedRequest:
        """The request "Determine data structure" waited for: it teaches the structure and is
        not run (Make's behaviour), so it leaves the queue at once."""
        self._ingress_cache.pop(webhook.token, None)
        try:
            self._learn_structure(webhook, bundle)
        except Exception:  # stored: it stays queued, and the next request teaches the structure
            log.exception("webhook %s: its data structure could not be learned", webhook.id)
            return AcceptedRequest(item.id, webhook.id, False)
        self.store.delete_queue_item(item.id)
        return AcceptedRequest(item.id, webhook.id, False)

    def probe_webhook(self, token: str) -> Webhook:
        """The webhook at ``token``, for a ``HEAD`` request: nothing is stored, nothing runs.

        Raises:
            WebhookNotFound, WebhookDisabled, StoreUnavailable: as ``accept_webhook``.
        """
        with store_reachable():
            webhook, _ = self._ingress_route(token)
        return webhook

    def wait_for_response(
        self, accepted: AcceptedRequest, timeout: float | None = None
    ) -> WebhookResponse | None:
        """The scenario's answer to the request, or ``None`` after ``timeout`` seconds
        (default ``webhook_response_timeout``): the caller then gets ``Accepted``."""
        if accepted.ran_here:
            return accepted.answer
        if not accepted.responds:
            return None
        limit = self.options.webhook_response_timeout if timeout is None else timeout
        return self.queue.wait_response(str(accepted.item_id), limit)

    def determine_data_structure(
        self, webhook_id: int, request: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Describe the bundle of ``request`` (by default the webhook's newest received one)
        and store it in the webhook's ``settings.structure``.

        Raises:
            NotFound: no such webhook. InvalidPayload: nothing was received yet, or the sample
                is not readable.
        """
        webhook = self.store.get_webhook(webhook_id)
        sample = dict(request) if request is not None else self._newest_request(webhook_id)
        bundle = self._bundle(
            webhook,
            sample.get("method", "POST"),
            sample.get("headers", {}),
            sample.get("query", {}),
            request_body(sample),
        )
        return self._learn_structure(webhook, bundle)

    def bundle_of(self, webhook: Webhook, item: QueueItem) -> dict[str, Any]:
        """The trigger bundle of a queued request. Raises ``InvalidPayload``."""
        request = item.request
        return self._bundle(
            webhook,
            request.get("method", "POST"),
            request.get("headers", {}),
            request.get("query", {}),
            request_body(request),
        )

    def _ingress_route(self, token: str) -> tuple[Webhook, tuple[Scenario, Plan] | None]:
        """The webhook and its immediate route (its scenario and compiled plan), read once
        and remembered until this process writes a scenario or webhook (the store's
        ``route_version``), and for at most ``INGRESS_CACHE_SECONDS`` (what other processes
        change).

        Serving a stale answer is safe: a request is always stored; a stale "runs
        immediately" either fails the check its storing makes against the store (the scenario
        and version it runs, still active) or only dispatches an id the worker re-checks, and
        a stale "does not" leaves the request to the sweep.
        """
        now = time.monotonic()
        version = self.store.route_version
        cached = self._ingress_cache.get(token)
        if cached is not None and cached[0] > now and cached[1] == version:
            return cached[2], cached[3]
        webhook = self.store.find_webhook_by_token(token)
        if webhook is None:
            raise WebhookNotFound("no webhook has this address")
        if not webhook.enabled:
            raise WebhookDisabled("this webhook is switched off")
        route = self._immediate_route(webhook)
        if len(self._ingress_cache) > 10_000:
            self._ingress_cache.clear()
        self._ingress_cache[token] = (now + INGRESS_CACHE_SECONDS, version, webhook, route)
        return webhook, route

    @staticmethod
    def _bundle(
        webhook: Webhook,
        method: str,
        headers: Mapping[str, str],
        query: Mapping[str, Any],
        body: bytes,
    ) -> dict[str, Any]:
        try:
            return request_to_bundle(
                method=method,
                headers=headers,
                query=query,
                body=body,
                include_headers=bool(webhook.settings.get("include_headers")),
                include_method=bool(webhook.settings.get("include_method")),
            )
        except DataError as error:
            raise InvalidPayload(error.message, getattr(error, "path", None) or None) from None

    def _after_storing(self, webhook: Webhook, bundle: dict[str, Any], dispatch: bool) -> None:
        """Learn the structure and hand the request to a worker, never failing the answer: the
        request is stored, and a caller told otherwise would send it again (it would run
        twice). Learning is best effort (the next request teaches it); a dispatch that does
        not happen is made by the sweep."""
        if webhook.settings.get("learning"):
            try:
                self._learn_structure(webhook, bundle)
            except Exception:  # the request is stored: log it, answer as accepted
                log.exception("webhook %s: its data structure could not be learned", webhook.id)
        if dispatch:
            self.dispatch_stored(webhook.id)

    def dispatch_stored(self, webhook_id: int) -> None:
        """Hand a stored request's webhook to a worker; a failure is logged, not raised (the
        request is stored: the sweep dispatches what waits past the grace period)."""
        try:
            self.queue.dispatch_webhook(webhook_id)
        except Exception:
            log.exception("webhook %s: dispatch failed; the sweep will retry", webhook_id)

    def enqueue(self, webhook: Webhook, request: dict[str, Any]) -> QueueItem:
        try:
            return self.store.enqueue(
                webhook.id, request, max_queued=self.settings.webhook_queue_limit
            )
        except NotFound:
            raise WebhookNotFound("no webhook has this address") from None
        except QueueFull:
            raise WebhookQueueFull(
                f"{self.settings.webhook_queue_limit} requests already wait for this webhook; "
                "activate its scenario or clear the queue"
            ) from None

    def _immediate_route(self, webhook: Webhook) -> tuple[Scenario, Plan] | None:
        """The scenario and plan that run this webhook's requests as they arrive, if any."""
        if webhook.scenario_id is None:
            return None
        try:
            scenario = self.store.get_scenario(webhook.scenario_id)
        except NotFound:
            return None
        if not scenario.active or scenario.scheduling.get("type") != "immediately":
            return None
        return scenario, self.plans.current(scenario)

    def _newest_request(self, webhook_id: int) -> dict[str, Any]:
        count = self.store.count_queue(webhook_id, status=None)
        if not count:
            raise InvalidPayload("this webhook has not received a request yet")
        items = self.store.list_queue(webhook_id, status=None, limit=1, offset=count - 1)
        return items[0].request

    def _learn_structure(self, webhook: Webhook, bundle: dict[str, Any]) -> list[dict[str, Any]]:
        structure = infer_structure(bundle)
        settings = {**webhook.settings, "structure": structure, "learning": False}
        self.store.update_webhook(webhook.id, settings=settings)
        return structure


@contextmanager
def store_reachable() -> Iterator[None]:
    """Turn the database being down, dropping the connection or staying locked past the busy
    timeout into ``StoreUnavailable`` (503 with ``Retry-After``) instead of a bare 500.

    Only around the reads and the one write that come before the answer: the request was not
    stored (or, if the connection dropped during the commit, the caller was not told it was),
    so asking the caller to send again never loses an accepted request.
    """
    try:
        yield
    except StoreDown as error:
        raise StoreUnavailable(
            f"the database is unavailable, nothing was stored: {error}",
            STORE_RETRY_AFTER_SECONDS,
        ) from None


__all__ = ["AcceptedRequest", "QueueItemStatus", "WebhookOperations"]
