"""End to end: a worker SIGKILLed after its create reached the accounting API creates no
duplicate when the run is reaped and run again.

Real parts: the service (``switchboard serve``), the scheduler that reaps, Celery workers on a
real Redis (DB 10), and the Xero / QuickBooks sandbox served over real HTTP from this process.
The scenario is webhook → create an invoice → a pause on some requests, so a kill lands after
the invoice is stored and before the run is finished; the run goes again under the same
execution id and sends the same create with the same idempotency key, which the sandbox
answers with its first answer. Each accepted webhook must end as exactly one invoice.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from engine.config import Settings
from engine.queue import InlineQueue
from engine.service import build_service, shutdown_service
from modules.quickbooks import sandbox as qbo_sandbox
from modules.sandboxing import run_sandbox_in_thread
from modules.xero import sandbox as xero_sandbox
from tests.connectors.conftest import Sandbox, connect_xero
from tests.connectors.test_quickbooks_support import connect_quickbooks
from tests.service.blueprints import blueprint, module, webhook_trigger
from tests.service.end_to_end import (
    assert_exactly_one_execution_each,
    open_plain_store,
    reaped_runs,
    successes,
)
from tests.service.processes import (
    Process,
    base_env,
    celery_worker,
    empty_redis_database,
    free_port,
    post_webhooks,
    started_processes,
    switchboard,
    wait_for_http,
    wait_until,
)

pytestmark = pytest.mark.slow

REDIS_DB = 10
TOTAL = 40  # under Xero's 60 calls a minute per organisation, with room for the re-runs
PAUSED = frozenset({5, 15, 25})
PAUSE_SECONDS = 4


@dataclass(frozen=True)
class App:
    """How one accounting app takes part: its sandbox, connection, create module, records."""

    name: str
    create_app: Callable[[], Any]
    connect: Callable[[Any, Any, requests.Session, Sandbox, Any], int]
    create_module: str
    mapper: Callable[[Any], dict[str, Any]]
    references: Callable[[Any], list[str]]
    write_keys: Callable[[Any], list[str | None]]


# -- Xero -------------------------------------------------------------------------------------


def _connect_xero(store: Any, registry: Any, http: Any, sandbox: Sandbox, state: Any) -> int:
    del state
    return connect_xero(store, registry, http, sandbox).id


def _xero_invoice(_: Any) -> dict[str, Any]:
    return {
        "Type": "ACCREC",
        "Status": "DRAFT",
        "Contact": {"Name": "Webhook Customer"},
        "Reference": "hook {{1.n}}",
        "LineItems": [
            {"Description": "Order {{1.n}}", "Quantity": 1, "UnitAmount": 10, "AccountCode": "200"}
        ],
    }


def _xero_references(state: Any) -> list[str]:
    with state.lock:
        tenant = state.tenants[xero_sandbox.DEFAULT_TENANT_ID]
        return [str(invoice.get("Reference")) for invoice in tenant.invoices.values()]


def _xero_write_keys(state: Any) -> list[str | None]:
    with state.lock:
        return [
            entry["headers"].get("Idempotency-Key")
            for entry in state.requests_log
            if entry["method"] == "PUT" and entry["path"].endswith("/Invoices")
        ]


XERO = App(
    name="xero",
    create_app=lambda: xero_sandbox.create_app({"rate_limit_per_minute": 100_000}),
    connect=_connect_xero,
    create_module="xero:CreateInvoice",
    mapper=_xero_invoice,
    references=_xero_references,
    write_keys=_xero_write_keys,
)


# -- QuickBooks Online ------------------------------------------------------------------------


def _connect_quickbooks(store: Any, registry: Any, http: Any, sandbox: Sandbox, state: Any) -> int:
    with state.lock:
        state.seed(
            {
                "realms": [
                    {
                        "realmId": qbo_sandbox.DEFAULT_REALM_ID,
                        "Customer": [{"DisplayName": "Webhook Customer"}],
                    }
                ]
            }
        )
    return connect_quickbooks(store, registry, http, sandbox).id


def _qbo_invoice(state: Any) -> dict[str, Any]:
    with state.lock:
        customers = state.realms[qbo_sandbox.DEFAULT_REALM_ID].records["Customer"]
        customer_id = next(iter(customers))
    line = {"ItemRef": {"value": "1"}, "Qty": 1, "UnitPrice": 10, "TaxCodeRef": {"value": "4"}}
    return {
        "CustomerRef": {"value": customer_id},
        "PrivateNote": "hook {{1.n}}",
        "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 10, **line}],
    }


def _qbo_references(state: Any) -> list[str]:
    with state.lock:
        invoices = state.realms[qbo_sandbox.DEFAULT_REALM_ID].records["Invoice"]
        return [str(invoice.get("PrivateNote")) for invoice in invoices.values()]


def _qbo_write_keys(state: Any) -> list[str | None]:
    with state.lock:
        return [
            (entry["query"].get("requestid") or [None])[0]
            for entry in state.requests_log
            if entry["method"] == "POST" and entry["path"].endswith("/invoice")
        ]


QUICKBOOKS = App(
    name="quickbooks",
    create_app=lambda: qbo_sandbox.create_app({"rate_limit_per_minute": 100_000}),
    connect=_connect_quickbooks,
    create_module="quickbooks:CreateInvoice",
    mapper=_qbo_invoice,
    references=_qbo_references,
    write_keys=_qbo_write_keys,
)


# -- fixtures and steps -----------------------------------------------------------------------


@pytest.fixture
def redis_db():
    with empty_redis_database(REDIS_DB) as url:
        yield url


@pytest.fixture
def processes():
    with started_processes() as started:
        yield started


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def serve_sandbox(app: App, http: requests.Session):
    """The app's sandbox on a free port: (its Flask app's state, a Sandbox handle, stop)."""
    flask_app = app.create_app()
    url, stop = run_sandbox_in_thread(flask_app)
    return flask_app.extensions["sandbox_state"], Sandbox(url, http), stop


def create_then_pause(app: App, connection_id: int, state: Any) -> str:
    """Webhook → create an invoice → pause ``{{1.pause}}`` s when the request asks for it."""
    create = {
        **module(2, app.create_module, **app.mapper(state)),
        "parameters": {"__IMTCONN__": connection_id},
    }
    pause = {
        **module(3, "util:FunctionSleep", duration="{{1.pause}}"),
        "filter": {"name": "only when asked", "conditions": [[{"a": "{{1.pause}}", "o": "exist"}]]},
    }
    return blueprint(webhook_trigger(), create, pause, name=f"{app.name}: create, then pause")


def set_up(app: App, env: dict[str, str], sandbox: Sandbox, state: Any, http) -> tuple[int, str]:
    """Migrate the store, connect the app as a user would, import the active scenario."""
    service = build_service(Settings.from_env(env), queue=InlineQueue(), upgrade=True)
    try:
        connection_id = app.connect(service.store, service.registry, http, sandbox, state)
        text = create_then_pause(app, connection_id, state)
        webhook = service.import_scenario(text, active=True).webhooks[0]
    finally:
        shutdown_service(service)
    return webhook.id, webhook.token


def paused_write_stored(app: App, state: Any) -> bool:
    """A run that pauses after its create has stored its invoice: it is sleeping now."""
    return any(f"hook {n}" in app.references(state) for n in PAUSED)


def payload(n: int) -> dict[str, int]:
    return {"n": n, "pause": PAUSE_SECONDS} if n in PAUSED else {"n": n}


def counts(app: App, state: Any, statuses: list[int], store: Any) -> dict[str, int]:
    references = Counter(app.references(state))
    keys = Counter(key for key in app.write_keys(state))
    return {
        "sent": len(statuses),
        "accepted": statuses.count(200),
        "executed": successes(store),
        "reaped": reaped_runs(store),
        "writes_sent": sum(keys.values()),
        "writes_replayed": sum(k - 1 for key, k in keys.items() if key is not None),
        "records": sum(references.values()),
        "duplicates": sum(k - 1 for k in references.values()),
    }


def check_outcome(app: App, state: Any, statuses: list[int], store: Any, webhook_id: int) -> None:
    """Every webhook accepted and run once, the killed run re-run, one invoice per webhook."""
    measured = counts(app, state, statuses, store)
    print(f"\n{app.name}: {json.dumps(measured)}")
    assert set(statuses) == {200}
    assert_exactly_one_execution_each(store, webhook_id, set(range(TOTAL)))
    assert measured["reaped"] >= 1, "the killed run was given back and run again"
    assert measured["writes_replayed"] >= 1, "the killed run's create was sent again"
    assert Counter(app.references(state)) == Counter(f"hook {n}" for n in range(TOTAL))
    assert None not in app.write_keys(state), "every create carried its key"


def explain(error: AssertionError, processes: list[Process]) -> AssertionError:
    logs = "\n".join(process.tail() for process in processes)
    return AssertionError(f"{error}\n{logs}")


@pytest.mark.parametrize("app", [XERO, QUICKBOOKS], ids=lambda app: app.name)
def test_a_worker_killed_after_its_create_leaves_exactly_one_record_per_webhook(
    app, tmp_path, redis_db, processes, http
):
    state, sandbox, stop_sandbox = serve_sandbox(app, http)
    env = base_env(tmp_path / "var", SWITCHBOARD_REDIS_URL=redis_db)
    webhook_id, token = set_up(app, env, sandbox, state, http)
    port = free_port()
    processes.append(switchboard("serve", ["serve", "--port", str(port)], env, tmp_path))
    processes.append(switchboard("scheduler", ["scheduler"], env, tmp_path))
    first_worker = celery_worker(env, tmp_path)
    processes.append(first_worker)
    wait_for_http(port)
    store = open_plain_store(tmp_path / "var")
    try:
        url = f"http://127.0.0.1:{port}/hooks/{token}"
        statuses = post_webhooks(url, range(TOTAL), payload=payload)
        wait_until(lambda: paused_write_stored(app, state), 60, "a paused run's write", every=0.02)
        first_worker.kill()  # SIGKILL while that run sleeps after its create
        assert successes(store) < TOTAL, "the kill should land mid-run"
        processes.append(celery_worker(env, tmp_path))
        wait_until(lambda: successes(store) >= TOTAL, 120, "every webhook's execution")
        check_outcome(app, state, statuses, store, webhook_id)
    except AssertionError as error:
        raise explain(error, processes) from None
    finally:
        store.close()
        stop_sandbox()


def test_the_embedded_server_killed_after_a_create_leaves_one_invoice_per_webhook(
    tmp_path, processes, http
):
    """The same with ingress and workers in one process (no Redis): kill it, start it again."""
    app = XERO
    state, sandbox, stop_sandbox = serve_sandbox(app, http)
    env = base_env(tmp_path / "var", SWITCHBOARD_INLINE_WORKERS="2")
    webhook_id, token = set_up(app, env, sandbox, state, http)
    port = free_port()
    server = switchboard("serve", ["serve", "--port", str(port)], env, tmp_path)
    processes.append(server)
    wait_for_http(port)
    store = open_plain_store(tmp_path / "var")
    try:
        url = f"http://127.0.0.1:{port}/hooks/{token}"
        statuses = post_webhooks(url, range(TOTAL), payload=payload)
        wait_until(lambda: paused_write_stored(app, state), 60, "a paused run's write", every=0.02)
        server.kill()
        assert successes(store) < TOTAL, "the kill should land mid-run"
        processes.append(switchboard("serve", ["serve", "--port", str(port)], env, tmp_path))
        wait_until(lambda: successes(store) >= TOTAL, 120, "every webhook's execution")
        check_outcome(app, state, statuses, store, webhook_id)
    except AssertionError as error:
        raise explain(error, processes) from None
    finally:
        store.close()
        stop_sandbox()
