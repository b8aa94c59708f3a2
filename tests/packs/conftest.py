# ruff: noqa: F811  (the connector tests' fixtures are imported by name and requested by name)
"""Fixtures of the sync packs' tests: the real service on a SQLite store with its web app served
on a loopback port, the Zoho CRM, QuickBooks Online and Xero sandboxes over real HTTP, and
connections to them made the way a user makes them.

The sandboxes count their rate-limit windows on a test's ``SkippingClock``, and the service's
runs and the connectors' own per-connection count wait on it (``tests/clock.py``): the vendors'
limits stay exactly as strict, only nobody sits through a ``Retry-After``."""

from __future__ import annotations

import time
from contextlib import ExitStack
from typing import Any

import pytest

from engine.config import Settings
from engine.connections import StoreConnections
from engine.queue import InlineQueue
from engine.registry import default_registry
from engine.service import Service, ServiceOptions
from engine.store import Execution, ExecutionStatus, open_store, utc_now
from modules.quickbooks import sandbox as qbo_sandbox
from modules.sandboxing import run_sandbox_in_thread
from modules.xero import sandbox as xero_sandbox
from modules.zohocrm import sandbox as zoho_sandbox
from tests.clock import SkippingClock
from tests.connectors.conftest import (  # noqa: F401  (fixtures)
    Sandbox,
    connect_xero,
    fresh_rate_limiter,
    http,
    serve,
)
from tests.connectors.test_quickbooks_support import connect_quickbooks
from tests.connectors.test_zohocrm_support import connect_zohocrm
from webui import create_app

QBO_REALM = qbo_sandbox.DEFAULT_REALM_ID


class PackWorld:
    """The service, the sandboxes of a pack's two apps and their connections."""

    def __init__(self, service: Service, sandboxes: dict[str, Sandbox], connections, http):
        self.service = service
        self.sandboxes = sandboxes
        self.connections = connections
        self.http = http

    def install(self, pack: str, settings: dict[str, Any] | None = None) -> dict[str, int]:
        """Install the pack; its scenarios by flow file. (After the second the sandboxes
        loaded their fixtures in: a trigger starting "now" starts after them.)"""
        self.next_second()
        made = self.service.install_pack(pack, self.connections, settings)
        return {s.flow: s.id for s in made}

    def send(self, scenario_id: int, body: dict[str, Any]) -> list[Execution]:
        """The CRM posts a webhook to the scenario's URL (the real ingress); the worker path
        runs what it queued."""
        (webhook,) = self.service.store.list_webhooks(scenario_id=scenario_id)
        answer = self.http.post(self.service.webhook_url(webhook), json=body)
        assert answer.status_code < 300, answer.text
        ids = self.service.process_webhook(webhook.id)
        return [self.service.get_execution(i) for i in ids]

    def run(self, scenario_id: int) -> Execution:
        """One scheduled run of a polling scenario."""
        return self.service.run_once(scenario_id)

    def start_all(self, scenario_id: int) -> None:
        """Make the scenario's trigger read every record (not only changes from now on)."""
        trigger = self.service.current_plan(self.service.get_scenario(scenario_id)).trigger
        self.service.choose_where_to_start(scenario_id, trigger.id, {"type": "all"})

    @staticmethod
    def next_second() -> None:
        """Wait for the next whole second: Zoho and QuickBooks stamp changes to the second, and
        a watch tells two changes of a record apart by their stamps (not a timing assertion)."""
        time.sleep(1.02 - time.time() % 1)

    def connection(self, app: str) -> Any:
        connections = StoreConnections(
            self.service.store, self.service.registry, utc_now, self.http
        )
        return connections.get(self.connections[app])

    # -- Zoho CRM --

    def zoho(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """Call the Zoho sandbox as Zoho's own screens would, with the connection's token."""
        connection = self.connection("zohocrm")
        answer = self.http.request(
            method,
            f"{self.sandboxes['zohocrm'].url}/crm/v8/{path}",
            json=body,
            headers={"Authorization": f"Zoho-oauthtoken {connection['access_token']}"},
        )
        assert answer.status_code < 300, answer.text
        return answer.json() if answer.content else {}

    def zoho_create(self, module: str, record: dict[str, Any]) -> str:
        (result,) = self.zoho("POST", module, {"data": [record]})["data"]
        assert result["status"] == "success", result
        return result["details"]["id"]

    def zoho_update(self, module: str, record_id: str, fields: dict[str, Any]) -> None:
        (result,) = self.zoho("PUT", f"{module}/{record_id}", {"data": [fields]})["data"]
        assert result["status"] == "success", result

    def zoho_records(self, module: str) -> list[dict[str, Any]]:
        return list(self.sandboxes["zohocrm"].state()["records"][module])

    # -- QuickBooks Online --

    def qbo(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        connection = self.connection("quickbooks")
        answer = self.http.request(
            method,
            f"{self.sandboxes['quickbooks'].url}/v3/company/{connection['realm_id']}/{path}",
            json=body,
            params={"minorversion": "75"},
            headers={
                "Authorization": f"Bearer {connection['access_token']}",
                "Accept": "application/json",
            },
        )
        assert answer.status_code < 300, answer.text
        return answer.json()

    def qbo_records(self, entity: str) -> list[dict[str, Any]]:
        return list(self.sandboxes["quickbooks"].state()["records"][QBO_REALM][entity])

    # -- Xero --

    def xero(self, method: str, resource: str, body: Any = None) -> dict[str, Any]:
        connection = self.connection("xero")
        answer = self.http.request(
            method,
            f"{self.sandboxes['xero'].url}/api.xro/2.0/{resource}",
            json=body,
            headers={
                "Authorization": f"Bearer {connection['access_token']}",
                "xero-tenant-id": connection["tenant_id"],
                "Accept": "application/json",
            },
        )
        assert answer.status_code < 300, answer.text
        return answer.json()

    def xero_records(self, resource: str) -> list[dict[str, Any]]:
        (tenant,) = self.sandboxes["xero"].state()["records"].values()
        return list(tenant[resource])


def succeeded(execution: Execution) -> Execution:
    assert execution.status is ExecutionStatus.SUCCESS, (execution.error, execution.record)
    return execution


def module(execution: Execution, module_id: int) -> dict[str, Any] | None:
    for entry in execution.record["modules"]:
        if entry["id"] == module_id:
            return entry
    return None


def ops(execution: Execution, module_id: int) -> int:
    entry = module(execution, module_id)
    return entry["operations"] if entry else 0


def make_service(tmp_path, clock: SkippingClock) -> tuple[Service, Any]:
    """The service, its runs waiting on ``clock``, and the connectors counting their calls on
    it until ``close``."""
    environ = {
        "SWITCHBOARD_VAR_DIR": str(tmp_path / "var"),
        "SWITCHBOARD_HEARTBEAT_SECONDS": "1",
        "SWITCHBOARD_ALLOW_PRIVATE_NETWORK": "1",  # the sandboxes listen on loopback
    }
    settings = Settings.from_env(environ).with_secret_key_file()
    store = open_store(settings.database_url, secret_box=settings.secret_box())
    queue = InlineQueue(workers=1)  # not started: tests drive the worker path themselves
    service = Service(
        store, queue, settings, default_registry(), options=ServiceOptions(), sleep=clock.sleep
    )
    app = create_app({"SWITCHBOARD_SERVICE": service, "TESTING": True})
    base_url, stop = run_sandbox_in_thread(app)
    service.options = ServiceOptions(base_url=base_url)
    counting = ExitStack()
    counting.enter_context(clock.counting_connector_calls())

    def close() -> None:
        counting.close()
        stop()
        queue.close()
        service.close()
        store.close()

    return service, close


@pytest.fixture
def zoho_sandbox_app(serve, http, skipping_clock):
    app = zoho_sandbox.create_app({"fixture": "small"}, monotonic=skipping_clock.monotonic)
    return Sandbox(serve(app), http)


@pytest.fixture
def qbo_sandbox_app(serve, http, skipping_clock):
    app = qbo_sandbox.create_app({"fixture": "small"}, monotonic=skipping_clock.monotonic)
    return Sandbox(serve(app), http)


@pytest.fixture
def xero_sandbox_app(serve, http, skipping_clock):
    app = xero_sandbox.create_app({"fixture": "small"}, monotonic=skipping_clock.monotonic)
    return Sandbox(serve(app), http)


@pytest.fixture
def zoho_quickbooks(tmp_path, zoho_sandbox_app, qbo_sandbox_app, http, skipping_clock):
    service, close = make_service(tmp_path, skipping_clock)
    store, registry = service.store, service.registry
    connections = {
        "zohocrm": connect_zohocrm(store, registry, http, zoho_sandbox_app).id,
        "quickbooks": connect_quickbooks(store, registry, http, qbo_sandbox_app).id,
    }
    sandboxes = {"zohocrm": zoho_sandbox_app, "quickbooks": qbo_sandbox_app}
    yield PackWorld(service, sandboxes, connections, http)
    close()


@pytest.fixture
def zoho_xero(tmp_path, zoho_sandbox_app, xero_sandbox_app, http, skipping_clock):
    service, close = make_service(tmp_path, skipping_clock)
    store, registry = service.store, service.registry
    connections = {
        "zohocrm": connect_zohocrm(store, registry, http, zoho_sandbox_app).id,
        "xero": connect_xero(store, registry, http, xero_sandbox_app).id,
    }
    sandboxes = {"zohocrm": zoho_sandbox_app, "xero": xero_sandbox_app}
    yield PackWorld(service, sandboxes, connections, http)
    close()


class CrmInbox:
    """A generic CRM's side: the endpoints the pack posts to (contacts, the first-paid action),
    recording every request."""

    def __init__(self) -> None:
        import flask

        self.requests: list[dict[str, Any]] = []
        app = flask.Flask("crm")

        @app.post("/<path:path>")
        def receive(path: str):  # type: ignore[no-untyped-def]
            self.requests.append(
                {
                    "path": path,
                    "json": flask.request.get_json(force=True),
                    "key": flask.request.headers.get("Idempotency-Key"),
                }
            )
            return {"ok": True}

        self.app = app

    def to(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]


@pytest.fixture
def crm_quickbooks(tmp_path, qbo_sandbox_app, http, serve, skipping_clock):
    service, close = make_service(tmp_path, skipping_clock)
    connections = {
        "quickbooks": connect_quickbooks(service.store, service.registry, http, qbo_sandbox_app).id
    }
    inbox = CrmInbox()
    world = PackWorld(service, {"quickbooks": qbo_sandbox_app}, connections, http)
    world.crm = inbox  # type: ignore[attr-defined]
    world.crm_url = serve(inbox.app)  # type: ignore[attr-defined]
    yield world
    close()
