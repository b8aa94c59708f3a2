"""Scenario operations: import, save, export, activate, schedule, choose where to start."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.blueprint import read_document
from engine.failures import log_failure
from engine.graph import Plan, compile_blueprint
from engine.queue import Backplane
from engine.registry import ModuleRegistry
from engine.scheduler import ScheduleError, is_timed, validate_scheduling
from engine.service.base import SCHEDULE_BOOKMARK_MODULE, Clock, HttpFactory, log
from engine.service.connections import ConnectionOperations
from engine.service.errors import InvalidRequest
from engine.service.options import ServiceOptions
from engine.service.placeholders import CONNECTIONS, bind_data_stores
from engine.service.plans import PlanCache
from engine.spec import ModuleKind
from engine.store import Scenario, Store, Webhook

START_CHOICES = frozenset({"now", "since", "all", "manual"})


@dataclass(frozen=True)
class ImportResult:
    """A stored scenario version, its webhooks, and the modules this installation lacks
    (they are kept and exported, and fail a run only if a bundle reaches them)."""

    scenario: Scenario
    version: int
    unsupported: dict[str, tuple[int, ...]] = field(default_factory=dict)
    webhooks: list[Webhook] = field(default_factory=list)


class ScenarioOperations:
    """Scenarios: import, save, export, activate, schedule, choose where to start; and the
    webhooks their apps keep for them (``renew_app_webhooks``).

    Args:
        http_factory: the session that attaches and detaches app webhooks.
    """

    def __init__(
        self,
        store: Store,
        queue: Backplane,
        plans: PlanCache,
        registry: ModuleRegistry,
        options: ServiceOptions,
        clock: Clock,
        http_factory: HttpFactory,
        *,
        connections: ConnectionOperations,
    ) -> None:
        self.store = store
        self.queue = queue
        self.plans = plans
        self.registry = registry
        self.options = options
        self.clock = clock
        self.http_factory = http_factory
        self.connections = connections

    def import_scenario(
        self,
        source: str | bytes,
        *,
        name: str | None = None,
        scheduling: Mapping[str, Any] | None = None,
        active: bool = False,
        connections: Mapping[str, int] | None = None,
        saved_by: str | None = None,
    ) -> ImportResult:
        """Validate, compile and store a blueprint as a new scenario (inactive unless asked).

        The text is stored byte-exact (``export_scenario`` gives it back). Webhook triggers get
        a webhook each. Scheduling: the argument, else the template wrapper's, else Make's
        default (immediately for webhooks, every 15 minutes otherwise).

        ``connections`` binds connection placeholders (``"__IMTCONN__": "connection:xero"``,
        as the prebuilt scenarios in ``scenarios/`` carry them) to stored connections:
        ``{"xero": 5, "onecrm": 3}``; see ``bind_connections``. Data store placeholders
        (``"datastore": "datastore:<name>"``) are bound to the data store of that name, made
        when missing (``engine/service/placeholders.py``). ``saved_by`` (who imports it,
        an email) is kept with version 1.

        Raises:
            BlueprintError: the blueprint cannot be read or compiled (every problem listed).
            InvalidRequest: the scheduling cannot be followed, or a placeholder has no binding.
        """
        text = _text(source)
        if connections:
            text = bind_connections(text, connections)
        text = bind_data_stores(text, self.store)
        document = read_document(text)
        plan = compile_blueprint(document.blueprint, self.registry)
        chosen = dict(scheduling or document.scheduling or _default_scheduling(plan))
        _check_scheduling(chosen)
        scenario = self.store.create_scenario(
            name or document.blueprint.name, text, scheduling=chosen, saved_by=saved_by
        )
        self.plans.put(scenario.id, scenario.current_version, plan)
        webhooks = self._attach_webhooks(scenario, plan)
        if active:
            scenario = self.activate_scenario(scenario.id)
        return ImportResult(scenario, scenario.current_version, dict(plan.unsupported), webhooks)

    def save_scenario(
        self, scenario_id: int, source: str | bytes, *, saved_by: str | None = None
    ) -> ImportResult:
        """Store a new version of the blueprint (validated and compiled first), with who saved
        it when known; running and incomplete executions keep their own version.
        Raises ``BlueprintError``, ``NotFound``."""
        text = _text(source)
        plan = compile_blueprint(read_document(text).blueprint, self.registry)
        version = self.store.save_scenario(scenario_id, text, saved_by=saved_by)
        self.plans.put(scenario_id, version, plan)
        scenario = self.store.get_scenario(scenario_id)
        webhooks = self._attach_webhooks(scenario, plan)
        return ImportResult(scenario, version, dict(plan.unsupported), webhooks)

    def restore_version(
        self, scenario_id: int, version: int, *, saved_by: str | None = None
    ) -> ImportResult:
        """Make an earlier version current again: its blueprint is saved as a new version, so
        history is never rewritten (the versions in between stay, and can be restored in
        turn); ``saved_by`` is who restored it. Saving does the rest as ``save_scenario`` does:
        the plan is compiled and cached, and an instant trigger gets its webhook. Restoring the
        current version changes nothing.

        Raises:
            NotFound: no such scenario or version.
            BlueprintError: the old blueprint no longer compiles (e.g. a module's parameters
                changed shape).
        """
        scenario = self.store.get_scenario(scenario_id)
        old = self.store.get_scenario_version(scenario_id, version)
        if version == scenario.current_version:
            unsupported = dict(self.plans.current(scenario).unsupported)
            webhooks = self.store.list_webhooks(scenario_id=scenario_id)
            return ImportResult(scenario, version, unsupported, webhooks)
        return self.save_scenario(scenario_id, old.blueprint, saved_by=saved_by)

    def export_scenario(self, scenario_id: int, version: int | None = None) -> str:
        """The blueprint text exactly as it was imported or saved. Raises ``NotFound``."""
        return self.store.get_scenario_version(scenario_id, version).blueprint

    def get_scenario(self, scenario_id: int) -> Scenario:
        return self.store.get_scenario(scenario_id)

    def list_scenarios(self, *, active: bool | None = None) -> list[Scenario]:
        return self.store.list_scenarios(active=active)

    def activate_scenario(self, scenario_id: int) -> Scenario:
        """Turn scheduling on (resets the error count) and hand requests that waited in its
        webhook queues to workers. Polling triggers without a start choice start "from now"."""
        scenario = self.store.set_scenario_active(scenario_id, True)
        plan = self.plans.current(scenario)
        self._settle_start_choice(scenario, plan)
        self._attach_app_webhooks(scenario, plan)
        if scenario.scheduling.get("type") == "immediately":
            for webhook in self.store.list_webhooks(scenario_id=scenario_id):
                for _ in range(min(self.store.count_queue(webhook.id), 1000)):
                    self.queue.dispatch_webhook(webhook.id)  # the sweep takes the rest
        return self.store.get_scenario(scenario_id)

    def deactivate_scenario(self, scenario_id: int) -> Scenario:
        """Turn scheduling off. Webhook requests keep queueing (up to the queue limit).
        App webhooks subscribed on activation are removed from the app (``detach_webhook``)."""
        scenario = self.store.set_scenario_active(scenario_id, False)
        self._detach_app_webhooks(scenario)
        return scenario

    def set_scheduling(self, scenario_id: int, scheduling: Mapping[str, Any]) -> Scenario:
        """Replace the scheduling (keeps start choices); the next due time is recomputed.
        Raises ``InvalidRequest``, ``NotFound``."""
        scenario = self.store.get_scenario(scenario_id)
        merged = {**dict(scheduling), "start": scenario.scheduling.get("start", {})}
        _check_scheduling(merged)
        updated = self.store.update_scenario(scenario_id, scheduling=merged)
        self.store.clear_cursor(scenario_id, SCHEDULE_BOOKMARK_MODULE)
        return updated

    def choose_where_to_start(
        self, scenario_id: int, module_id: int, choice: Mapping[str, Any]
    ) -> Scenario:
        """Make's "choose where to start" for a polling trigger.

        ``choice`` is ``{"type": "now"}``, ``{"type": "since", "date": ISO}``,
        ``{"type": "all"}`` or ``{"type": "manual", "value": …}``. It is stored in the
        scenario's ``scheduling.start`` ("now" pinned to this moment), the trigger's cursor is
        forgotten, and the next run hands the choice to the trigger as its initial cursor.

        Raises:
            InvalidRequest: an unknown type, or "since" without a date.
        """
        kind = choice.get("type")
        if kind not in START_CHOICES:
            raise InvalidRequest(f"start type must be one of {sorted(START_CHOICES)}")
        if kind == "since" and not choice.get("date"):
            raise InvalidRequest("'since' needs a 'date'")
        pinned = dict(choice)
        if kind == "now":
            pinned["date"] = self.clock().isoformat()
        scenario = self.store.get_scenario(scenario_id)
        scheduling = dict(scenario.scheduling)
        scheduling["start"] = {**scheduling.get("start", {}), str(module_id): pinned}
        updated = self.store.update_scenario(scenario_id, scheduling=scheduling)
        self.store.clear_cursor(scenario_id, module_id)
        return updated

    def delete_scenario(self, scenario_id: int) -> None:
        """Delete it; app webhooks it subscribed are removed from the app first."""
        self._detach_app_webhooks(self.store.get_scenario(scenario_id))
        self.store.delete_scenario(scenario_id)

    def _settle_start_choice(self, scenario: Scenario, plan: Plan) -> None:
        trigger = plan.trigger
        if trigger is None or trigger.kind is not ModuleKind.TRIGGER:
            return
        if str(trigger.id) in scenario.scheduling.get("start", {}):
            return
        if self.store.get_cursor(scenario.id, trigger.id) is None:
            self.choose_where_to_start(scenario.id, trigger.id, {"type": "now"})

    def _attach_webhooks(self, scenario: Scenario, plan: Plan) -> list[Webhook]:
        """One webhook per scenario whose trigger is instant — the custom webhook or an app's
        "new event" trigger fed by that app's webhooks (created on first import)."""
        trigger = plan.trigger
        existing = self.store.list_webhooks(scenario_id=scenario.id)
        if trigger is None or trigger.kind is not ModuleKind.INSTANT_TRIGGER or existing:
            return existing
        if trigger.spec is not None and "scheduling" in trigger.spec.hooks:
            return existing  # started another way (scenario-service:StartSubscenario)
        settings = {"module_id": trigger.id, "make_hook": trigger.parameters.get("hook")}
        webhook = self.store.create_webhook(
            f"{scenario.name} webhook", scenario_id=scenario.id, settings=settings
        )
        return [webhook]

    # -- app webhooks (activation hooks) --

    def webhook_url(self, webhook: Webhook) -> str:
        """The public address of a webhook: ``SWITCHBOARD_HOOKS_URL`` (else
        ``SWITCHBOARD_BASE_URL``) + ``/hooks/<token>``."""
        return f"{self.options.public_hooks_url}/hooks/{webhook.token}"

    def _attach_app_webhooks(self, scenario: Scenario, plan: Plan) -> None:
        """Subscribe the scenario's webhook in the app when its instant trigger declares an
        ``attach_webhook`` hook (``onecrm:NewEvent``); the app's hook id is kept in the
        webhook's settings (``app_hook_id``) so deactivation can remove it.

        Without ``SWITCHBOARD_BASE_URL`` (or ``SWITCHBOARD_HOOKS_URL``) nothing is subscribed
        (a warning is logged): the app cannot be told an address, and the user registers the
        webhook URL by hand.

        Raises:
            InvalidRequest: the trigger has no connection. Errors of the app propagate (the
                scenario stays active; activate again to retry).
        """
        trigger = plan.trigger
        attach = trigger.spec.hooks.get("attach_webhook") if trigger and trigger.spec else None
        if attach is None or trigger is None:
            return
        for webhook in self.store.list_webhooks(scenario_id=scenario.id):
            if webhook.settings.get("app_hook_id"):
                continue
            if not self.options.public_hooks_url:
                log.warning(  # the webhook's id, not its token: the token is its only key
                    "scenario %s: SWITCHBOARD_BASE_URL is not set, so its app was not told "
                    "where to send events; register the URL of webhook %s (Webhooks page) in "
                    "the app by hand",
                    scenario.id,
                    webhook.id,
                )
                return
            with _session(self) as http:
                connection = self._trigger_connection(trigger, http)
                hook_id = attach(
                    connection, http, self.webhook_url(webhook), dict(trigger.parameters)
                )
            settings = {
                **webhook.settings,
                "app_hook_id": hook_id,
                "app_hook_attached_at": self.clock().isoformat(),
            }
            self.store.update_webhook(webhook.id, settings=settings)

    def renew_app_webhooks(self, now: datetime) -> list[int]:
        """Subscribe again the app webhooks whose subscriptions expire (Zoho's channels last a
        day): the trigger's ``renew_webhook_after()`` hook gives the seconds after which a
        subscription is replaced. Returns the webhooks renewed; failures are logged and
        retried on the next call."""
        renewed: list[int] = []
        for scenario in self.store.list_scenarios(active=True):
            try:
                plan = self.plans.current(scenario)
            except Exception:  # an uncompilable version subscribes nothing
                continue
            trigger = plan.trigger
            hooks = trigger.spec.hooks if trigger is not None and trigger.spec else {}
            if "renew_webhook_after" not in hooks:
                continue
            after = timedelta(seconds=float(hooks["renew_webhook_after"]()))
            for webhook in self.store.list_webhooks(scenario_id=scenario.id):
                attached = webhook.settings.get("app_hook_attached_at")
                if attached and datetime.fromisoformat(attached) + after > now:
                    continue
                try:
                    self._replace_app_webhook(scenario, plan, webhook)
                    renewed.append(webhook.id)
                except Exception:
                    log.warning("could not renew the app webhook of scenario %s", scenario.id)
        return renewed

    def _replace_app_webhook(self, scenario: Scenario, plan: Plan, webhook: Webhook) -> None:
        old = webhook.settings.get("app_hook_id")
        trigger = plan.trigger
        assert trigger is not None and trigger.spec is not None
        detach = trigger.spec.hooks.get("detach_webhook")
        if old and detach is not None:
            with contextlib.suppress(Exception), _session(self) as http:
                detach(self._trigger_connection(trigger, http), http, old)
        settings = {k: v for k, v in webhook.settings.items() if k != "app_hook_id"}
        self.store.update_webhook(webhook.id, settings=settings)
        self._attach_app_webhooks(scenario, plan)

    def _detach_app_webhooks(self, scenario: Scenario) -> None:
        """Remove what ``_attach_app_webhooks`` subscribed; failures are logged, not raised
        (the scenario is off either way; the app's subscription may already be gone)."""
        try:
            plan = self.plans.current(scenario)
        except Exception:  # an uncompilable version: nothing to detach with
            return
        trigger = plan.trigger
        detach = trigger.spec.hooks.get("detach_webhook") if trigger and trigger.spec else None
        if detach is None:
            return
        for webhook in self.store.list_webhooks(scenario_id=scenario.id):
            hook_id = webhook.settings.get("app_hook_id")
            if not hook_id:
                continue
            try:
                with _session(self) as http:
                    detach(self._trigger_connection(trigger, http), http, hook_id)
            except Exception as error:
                log_failure(
                    log,
                    "could not remove the app webhook %s of scenario %s",
                    hook_id,
                    scenario.id,
                    error=error,
                    level=logging.WARNING,
                )
            settings = {k: v for k, v in webhook.settings.items() if k != "app_hook_id"}
            self.store.update_webhook(webhook.id, settings=settings)

    def _trigger_connection(self, trigger: Any, http: Any) -> Any:
        connection_id = trigger.parameters.get("__IMTCONN__")
        if not isinstance(connection_id, int) or isinstance(connection_id, bool):
            raise InvalidRequest(
                f"module {trigger.id} has no connection: bind one before activating"
            )
        return self.connections.resolver(http).get(connection_id)


CONNECTION_PLACEHOLDER = CONNECTIONS.prefix
"""Prebuilt blueprints leave connections as ``"__IMTCONN__": "connection:<app>"``."""


def connection_placeholders(value: Any) -> set[str]:
    """The apps named by placeholders anywhere in a blueprint (parsed JSON)."""
    return CONNECTIONS.names(value)


def bind_connections(text: str, connections: Mapping[str, int]) -> str:
    """The blueprint text with every ``"__IMTCONN__": "connection:<app>"`` replaced by
    ``connections[<app>]`` (a stored connection's id). Text without placeholders comes back
    unchanged (byte-exact); otherwise it is re-serialised.

    Raises:
        InvalidRequest: a placeholder names an app ``connections`` does not bind.
    """

    def ids_for(needed: set[str]) -> Mapping[str, int]:
        missing = sorted(needed - set(connections))
        if missing:
            raise InvalidRequest(
                "bind a connection for "
                + ", ".join(missing)
                + " (e.g. --connection "
                + f"{missing[0]}=ID)"
            )
        return connections

    return CONNECTIONS.bind(text, ids_for)


@contextmanager
def _session(service: Any) -> Iterator[Any]:
    http = service.http_factory()
    try:
        yield http
    finally:
        close = getattr(http, "close", None)
        if close is not None:
            close()


def _text(source: str | bytes) -> str:
    if isinstance(source, bytes | bytearray):
        try:
            return bytes(source).decode("utf-8-sig")
        except UnicodeDecodeError:
            read_document(bytes(source))  # raises BlueprintError naming the bad byte
            raise
    return source.removeprefix("\ufeff")


def _default_scheduling(plan: Plan) -> dict[str, Any]:
    trigger = plan.trigger
    own = trigger.spec.hooks.get("scheduling") if trigger and trigger.spec else None
    if own is not None:  # a trigger that says how it is started (on demand)
        return dict(own())
    if trigger is not None and trigger.kind is ModuleKind.INSTANT_TRIGGER:
        return {"type": "immediately"}
    return {"type": "indefinitely", "interval": 900}


def _check_scheduling(scheduling: Mapping[str, Any]) -> None:
    try:
        validate_scheduling(scheduling)
    except ScheduleError as error:
        raise InvalidRequest(f"scheduling: {error}") from None


__all__ = [
    "ImportResult",
    "ScenarioOperations",
    "bind_connections",
    "connection_placeholders",
    "is_timed",
]
