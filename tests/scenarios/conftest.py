# ruff: noqa: F811  (the connector tests' fixtures are imported by name and requested by name)
"""Fixtures of the prebuilt scenarios' golden tests: the 1CRM and Xero sandboxes over real HTTP
(the connector tests' fixtures), the real service on a SQLite store, its web app served on a
loopback port (the webhook ingress the 1CRM sandbox posts to), and the library's blueprints
imported with connections made the way a user makes them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.config import Settings
from engine.connections import StoreConnections
from engine.queue import InlineQueue
from engine.registry import default_registry
from engine.service import Service, ServiceOptions
from engine.store import Execution, ExecutionStatus, TriggerKind, open_store, utc_now
from modules.onecrm import sandbox as onecrm_sandbox
from modules.quickbooks import sandbox as qbo_sandbox
from modules.reconcile import Books, Difference, compare, fetch
from modules.sandboxing import run_sandbox_in_thread
from modules.xero import sandbox as xero_sandbox
from tests.clock import SkippingClock
from tests.connectors.conftest import (  # noqa: F401  (fixtures)
    Sandbox,
    connect_onecrm,
    connect_xero,
    fresh_rate_limiter,
    http,
    serve,
)
from tests.connectors.test_quickbooks_support import VERIFIER, connect_quickbooks
from tests.contracts.xero_openapi import ExchangeTap, assert_exchanges_conform
from webui import create_app

QBO_REALM = qbo_sandbox.DEFAULT_REALM_ID

LIBRARY = Path(__file__).resolve().parents[2] / "scenarios"
CRM_AUTH = ("admin", "sandbox-password")
RATE_LIMIT_RESENDS = 10  # a person waits out 1CRM's rate window this many times at most


class Library:
    """The service with both sandboxes and their connections; imports and drives scenarios.
    ``clock`` is the one the sandboxes count rate-limit windows on and every wait skips."""

    def __init__(
        self,
        service: Service,
        onecrm: Sandbox,
        xero: Sandbox,
        connections,
        http,
        clock: SkippingClock,
    ):
        self.service = service
        self.onecrm = onecrm
        self.xero = xero
        self.connections = connections
        self.http = http
        self.clock = clock

    # -- scenarios --

    def load(self, name: str, *, active: bool = True, app: str = "xero") -> int:
        """Import ``scenarios/<app>/<name>-*.json`` bound to the sandboxes' connections."""
        (path,) = sorted((LIBRARY / app).glob(f"{name}-*.json"))
        result = self.service.import_scenario(path.read_bytes(), connections=self.connections)
        if active:
            self.service.activate_scenario(result.scenario.id)
        return result.scenario.id

    def hook(self, scenario_id: int):
        (webhook,) = self.service.store.list_webhooks(scenario_id=scenario_id)
        return webhook

    def deliver(self, scenario_id: int) -> list[Execution]:
        """Wait for the 1CRM sandbox's webhooks to reach the ingress, then let the worker path
        run what the scenario's webhook queued."""
        self.onecrm.flush_webhooks()
        return self._drain(scenario_id)

    def _drain(self, scenario_id: int) -> list[Execution]:
        """What the workers do for a webhook's queued requests: a sequential scenario drains
        its queue in one call, a parallel one runs one request per call (one call per
        request a worker was handed)."""
        ran: list[str] = []
        while batch := self.service.process_webhook(self.hook(scenario_id).id):
            ran += batch
        return [self.service.get_execution(i) for i in ran]

    def poll(self, scenario_id: int) -> Execution:
        """One run of a polling scenario (what the scheduler starts when it is due)."""
        return self.service.run_once(scenario_id)

    # -- 1CRM API (as a user of 1CRM would change records) --

    def crm(self, method: str, path: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """A call of 1CRM's API as a person's script makes it: one refused by 1CRM's rate limit
        (429: 1CRM did nothing) is sent again after ``Retry-After``, so a person's change of
        several calls is never left half done by the sync's own traffic."""
        body = None if data is None else {"data": data}
        url = f"{self.onecrm.url}/api.php/data/{path}"
        answer = self.http.request(method, url, json=body, auth=CRM_AUTH)
        for _ in range(RATE_LIMIT_RESENDS):
            if answer.status_code != 429:
                break
            self.clock.sleep(float(answer.headers.get("Retry-After", "1")))
            answer = self.http.request(method, url, json=body, auth=CRM_AUTH)
        assert answer.status_code < 300, answer.text
        return answer.json()

    def crm_person(self, model: str, data: dict[str, Any]) -> dict[str, Any]:
        """A save in 1CRM's own screens: an invoice or quote with ``line_items``, a payment
        with ``related_invoices`` — stored as 1CRM keeps them, one webhook for the save."""
        answer = self.http.post(f"{self.onecrm.url}/_sandbox/ui/{model}", json=data)
        assert answer.status_code < 300, answer.text
        return answer.json()

    def crm_edit(self, model: str, document_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """An invoice or quote edited in 1CRM's screens (``line_items`` replace its lines)."""
        url = f"{self.onecrm.url}/_sandbox/ui/{model}/{document_id}"
        answer = self.http.patch(url, json=data)
        assert answer.status_code < 300, answer.text
        return answer.json()

    def crm_lines(self, model: str, document_id: str) -> list[tuple[str, float, float, float]]:
        """``(name, quantity, unit price, tax %)`` of a 1CRM document's lines, read from the
        sandbox's line and adjustment records."""
        records = self.onecrm.state()["records"]
        key = f"{model.lower()}_id"
        taxes = [a for a in records[f"{model}Adjustment"] if a[key] == document_id]
        lines = sorted(
            (line for line in records[f"{model}Line"] if line[key] == document_id),
            key=lambda line: int(line["position"]),
        )
        return [
            (
                line["name"],
                float(line["quantity"]),
                float(line["unit_price"]),
                sum(float(t["rate"]) for t in taxes if t["line_id"] == line["id"]),
            )
            for line in lines
        ]

    def crm_allocations(self, payment_id: str) -> list[tuple[str, float]]:
        """``(invoice id, amount)`` of a 1CRM payment's ``invoices_payments`` links."""
        links = self.onecrm.state()["records"]["invoices_payments"]
        return [
            (link["invoice_id"], float(link["amount"]))
            for link in links
            if link["payment_id"] == payment_id
        ]

    def connection(self, app: str) -> Any:
        """A stored connection's data (tokens refreshed), as modules receive it."""
        connections = StoreConnections(
            self.service.store, self.service.registry, utc_now, self.http
        )
        return connections.get(self.connections[app])

    def books(self, app: str) -> Books:
        """One side's books, read through its connector (``modules/reconcile``)."""
        return fetch(app, self.connection(app), self.http, self.clock.sleep)

    def differences(self, library: str = "xero") -> list[Difference]:
        """Every difference between 1CRM's books and the accounting system's."""
        return compare(library, self.books("onecrm"), self.books(library))

    def xero_api(
        self, method: str, resource: str, body: Any = None, **params: Any
    ) -> dict[str, Any]:
        """Call the Xero sandbox as its own UI would, with the connection's token; a call
        refused by Xero's rate limit (429: Xero did nothing) is sent again after
        ``Retry-After``, as ``crm`` does — the sync's own calls count against the same
        60 a minute."""
        connection = self.connection("xero")
        headers = {
            "Authorization": f"Bearer {connection['access_token']}",
            "xero-tenant-id": connection["tenant_id"],
            "Accept": "application/json",
        }
        url = f"{self.xero.url}/api.xro/2.0/{resource}"
        answer = self.http.request(method, url, json=body, params=params, headers=headers)
        for _ in range(RATE_LIMIT_RESENDS):
            if answer.status_code != 429:
                break
            self.clock.sleep(float(answer.headers.get("Retry-After", "1")))
            answer = self.http.request(method, url, json=body, params=params, headers=headers)
        assert answer.status_code < 300, answer.text
        return answer.json()

    def qbo_api(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """Call the QuickBooks sandbox as its own UI would, with the connection's token."""
        connection = self.connection("quickbooks")
        answer = self.http.request(
            method,
            f"{self.quickbooks.url}/v3/company/{connection['realm_id']}/{path}",
            json=body,
            params={"minorversion": "75"},
            headers={
                "Authorization": f"Bearer {connection['access_token']}",
                "Accept": "application/json",
            },
        )
        assert answer.status_code < 300, answer.text
        return answer.json()

    def qbo_void_in_screens(self, entity: str, record_id: str) -> dict[str, Any]:
        """A person voids a record in QuickBooks' screens (a credit memo: the API has no void
        for it), announced as QuickBooks announces it."""
        realm = self.connection("quickbooks")["realm_id"]
        url = f"{self.quickbooks.url}/_sandbox/ui/{realm}/{entity}/{record_id}/void"
        answer = self.http.post(url)
        assert answer.status_code < 300, answer.text
        return answer.json()

    def qbo_records(self, entity: str) -> list[dict[str, Any]]:
        return list(self.quickbooks.state()["records"][QBO_REALM][entity])

    def deliver_qbo(self, scenario_id: int) -> list[Execution]:
        """Intuit's signed deliveries reach the ingress; the worker path runs them."""
        self.quickbooks.flush_webhooks()
        return self._drain(scenario_id)

    def point_quickbooks_at(self, scenario_id: int) -> None:
        """Intuit sends every event of an app to one URL (set in the developer portal)."""
        url = self.service.webhook_url(self.hook(scenario_id))
        self.quickbooks.control("config", {"webhook_url": url, "webhook_key": VERIFIER})

    def crm_records(self, model: str) -> list[dict[str, Any]]:
        return self.onecrm.state()["records"][model]

    def xero_records(self, resource: str) -> list[dict[str, Any]]:
        (tenant,) = self.xero.state()["records"].values()
        return tenant[resource]

    def xero_writes(self) -> int:
        return sum(
            r["method"] in ("PUT", "POST")
            for r in self.xero.state()["requests"]
            if r["path"].startswith("/api.xro/")
        )

    def crm_writes(self) -> int:
        return sum(
            r["method"] in ("POST", "PATCH")
            for r in self.onecrm.state()["requests"]
            if r["path"].startswith("/api.php/data/")
        )


def module(execution: Execution, module_id: int) -> dict[str, Any] | None:
    """A module's entry of a stored execution record (``None`` when no bundle reached it)."""
    for entry in execution.record["modules"]:
        if entry["id"] == module_id:
            return entry
    return None


def ops(execution: Execution, module_id: int) -> int:
    entry = module(execution, module_id)
    return entry["operations"] if entry else 0


def filtered(execution: Execution, module_id: int) -> int:
    entry = module(execution, module_id)
    return entry["filtered"] if entry else 0


def output(execution: Execution, module_id: int) -> list[dict[str, Any]]:
    entry = module(execution, module_id) or {"calls": []}
    return [bundle for call in entry["calls"] for bundle in call["output"] or []]


def succeeded(execution: Execution) -> Execution:
    assert execution.status is ExecutionStatus.SUCCESS, (execution.error, execution.record)
    return execution


def retried_once(library: Any, scenario: int, waiting: Any) -> Execution:
    """The scheduler's next tick retries the incomplete execution ``waiting`` of ``scenario``
    (its backoff of a minute passed), and that retry succeeds."""
    report = library.service.tick(now=utc_now() + timedelta(minutes=2))
    assert report.retried == [waiting.id]
    (retry,) = [
        e
        for e in library.service.list_executions(scenario_id=scenario).items
        if e.trigger_kind is TriggerKind.RETRY
    ]
    return succeeded(library.service.execute(retry.id))


ONECRM_CURRENCIES = {"default_currency": "NZD", "currencies": ["USD", "AUD", "EUR", "GBP"]}
"""A 1CRM whose base currency is the accounting organisation's (NZD), as the library needs."""


@pytest.fixture
def onecrm(serve, http, skipping_clock):
    app = onecrm_sandbox.create_app(ONECRM_CURRENCIES, monotonic=skipping_clock.monotonic)
    return Sandbox(serve(app), http)


@pytest.fixture
def xero(serve, http, skipping_clock):
    """The Xero sandbox; when the test ends, every request the scenarios sent and every answer
    must conform to Xero's OpenAPI spec (``tests/contracts/xero_openapi.py``)."""
    tap = ExchangeTap(xero_sandbox.create_app(monotonic=skipping_clock.monotonic))
    yield Sandbox(serve(tap), http)
    assert_exchanges_conform(tap)


@pytest.fixture
def quickbooks(serve, http, skipping_clock):
    app = qbo_sandbox.create_app({"fixture": "small"}, monotonic=skipping_clock.monotonic)
    return Sandbox(serve(app), http)


@pytest.fixture
def qbo_library(library, quickbooks, http):
    """The library with a QuickBooks sandbox and connection as well."""
    store, registry = library.service.store, library.service.registry
    library.quickbooks = quickbooks
    library.connections["quickbooks"] = connect_quickbooks(store, registry, http, quickbooks).id
    return library


@pytest.fixture
def library(tmp_path, onecrm, xero, http, skipping_clock):
    with open_library(tmp_path / "var", onecrm, xero, http, skipping_clock) as opened:
        yield opened


@contextmanager
def open_library(
    var_dir: Path, onecrm: Sandbox, xero: Sandbox, http, clock: SkippingClock
) -> Iterator[Library]:
    """The real service on a fresh SQLite store in ``var_dir``, its web app served on loopback,
    connected to the sandboxes (also what a test that starts its own sandboxes uses). The
    sandboxes count their rate-limit windows on ``clock``, and so do the connectors while the
    library is open; the runs wait on it (``tests/clock.py``)."""
    environ = {
        "SWITCHBOARD_VAR_DIR": str(var_dir),
        "SWITCHBOARD_HEARTBEAT_SECONDS": "1",
        "SWITCHBOARD_ALLOW_PRIVATE_NETWORK": "1",  # the sandboxes listen on loopback
    }
    settings = Settings.from_env(environ).with_secret_key_file()
    store = open_store(settings.database_url, secret_box=settings.secret_box())
    queue = InlineQueue(workers=1)  # not started: tests drive the worker path themselves
    registry = default_registry()
    service = Service(store, queue, settings, registry, options=ServiceOptions(), sleep=clock.sleep)
    app = create_app({"SWITCHBOARD_SERVICE": service, "TESTING": True})
    base_url, stop = run_sandbox_in_thread(app)
    service.options = ServiceOptions(base_url=base_url)
    connections = {
        "onecrm": connect_onecrm(store, onecrm).id,
        "xero": connect_xero(store, registry, http, xero).id,
    }
    try:
        with clock.counting_connector_calls():
            yield Library(service, onecrm, xero, connections, http, clock)
    finally:
        stop()
        queue.close()
        service.close()
        store.close()


def blueprint_of(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())
