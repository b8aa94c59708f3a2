"""Writes carry the module call's idempotency key — Xero's ``Idempotency-Key`` header,
QuickBooks' ``requestid`` — the same when an execution runs again; reads carry none."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from engine.blueprint import load_blueprint
from engine.connections import resolved_from_values
from engine.graph import compile_blueprint
from engine.registry import default_registry
from engine.runtime import RunContext, run_scenario
from modules.quickbooks.connection import QUICKBOOKS_CONNECTION
from modules.xero.connection import XERO_CONNECTION

XERO = "https://api.xero.com/api.xro/2.0"
TENANT = "8b5f9a2e-3c1d-4e7f-9a6b-2d4c8e1f0a35"
QBO = "https://quickbooks.api.intuit.com/v3/company/9341453050000001"
CONNECTIONS = {
    1: resolved_from_values(XERO_CONNECTION, {"tenant_id": TENANT}, {"access_token": "tok"}),
    2: resolved_from_values(
        QUICKBOOKS_CONNECTION, {"realm_id": "9341453050000001"}, {"access_token": "tok"}
    ),
}


class Connections:
    def get(self, connection_id):
        return CONNECTIONS[connection_id]


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def node(module_id, module, connection, **mapper):
    parameters = {"__IMTCONN__": connection}
    return {
        "id": module_id,
        "module": module,
        "version": 1,
        "parameters": parameters,
        "mapper": mapper,
    }


HOOK = {"id": 9, "module": "gateway:CustomWebHook", "version": 1, "parameters": {"hook": 1}}


def run(flow, execution_id, bundles=({},)):
    """Run ``flow`` behind a webhook trigger that received ``bundles``."""
    scenario = {"name": "keys", "flow": [HOOK, *flow], "metadata": {"version": 1}}
    blueprint = load_blueprint(scenario)
    plan = compile_blueprint(blueprint, default_registry())
    with requests.Session() as http:
        context = RunContext(
            clock=lambda: datetime.now(UTC),
            http=http,
            connections=Connections(),
            scenario_id=3,
            execution_id=execution_id,
        )
        record = run_scenario(plan, context, trigger_bundles=[dict(b) for b in bundles])
    assert record.status == "success", record.error
    return record


def xero_keys(mocked):
    return [
        (call.request.method, call.request.headers.get("Idempotency-Key")) for call in mocked.calls
    ]


def xero_answers(mocked):
    contact = {"Contacts": [{"ContactID": "c1", "Name": "N"}]}
    mocked.put(f"{XERO}/Contacts", json=contact)
    mocked.post(f"{XERO}/Contacts/c1", json=contact)
    mocked.get(f"{XERO}/Contacts/c1", json=contact)


XERO_FLOW = [
    node(1, "xero:CreateContact", 1, Name="N"),
    node(2, "xero:GetContact", 1, ContactID="c1"),
    node(3, "xero:UpdateContact", 1, ContactID="c1", Name="M"),
    node(4, "xero:CreateContact", 1, Name="O"),
]


def test_xero_writes_carry_a_key_that_is_the_same_when_the_execution_runs_again(mocked):
    xero_answers(mocked)
    run(XERO_FLOW, "exec-1")
    first = xero_keys(mocked)
    mocked.calls.reset()
    run(XERO_FLOW, "exec-1")
    assert xero_keys(mocked) == first
    methods = [method for method, _ in first]
    assert methods == ["PUT", "GET", "POST", "PUT"]
    keys = [key for method, key in first if method != "GET"]
    assert all(key and key.startswith("sb-") for key in keys)
    assert len(set(keys)) == 3, "each write its own key"
    assert dict(first)["GET"] is None, "reads carry no key"


def test_xero_keys_differ_between_executions_and_are_absent_without_one(mocked):
    xero_answers(mocked)
    run(XERO_FLOW[:1], "exec-1")
    run(XERO_FLOW[:1], "exec-2")
    run(XERO_FLOW[:1], None)
    first, second, none = (key for _, key in xero_keys(mocked))
    assert first != second and none is None


def test_xero_calls_of_one_module_over_several_bundles_get_their_own_keys(mocked):
    xero_answers(mocked)
    flow = [
        {
            "id": 1,
            "module": "builtin:BasicFeeder",
            "version": 1,
            "mapper": {"array": "{{9.items}}"},
        },
        node(2, "xero:CreateContact", 1, Name="N{{1.value}}"),
    ]
    run(flow, "exec-1", bundles=[{"items": [1, 2]}])
    keys = [key for _, key in xero_keys(mocked)]
    assert len(keys) == 2 and len(set(keys)) == 2
    body = json.loads(mocked.calls[0].request.body)
    assert body == {"Contacts": [{"Name": "N1"}]}


def qbo_request_ids(mocked):
    return [
        (call.request.method, parse_qs(urlsplit(call.request.url).query).get("requestid"))
        for call in mocked.calls
    ]


def test_quickbooks_writes_carry_a_requestid_that_is_the_same_when_run_again(mocked):
    customer = {"Customer": {"Id": "1", "SyncToken": "0", "DisplayName": "Ada"}}
    mocked.post(f"{QBO}/customer", json=customer)
    mocked.get(f"{QBO}/customer/1", json=customer)
    flow = [
        node(1, "quickbooks:CreateCustomer", 2, DisplayName="Ada"),
        node(2, "quickbooks:UpdateCustomer", 2, Id="1", Notes="hi"),
    ]
    run(flow, "exec-1")
    first = qbo_request_ids(mocked)
    mocked.calls.reset()
    run(flow, "exec-1")
    assert qbo_request_ids(mocked) == first
    assert [method for method, _ in first] == ["POST", "GET", "POST"]
    create, read, update = (ids for _, ids in first)
    assert read is None, "reads carry no requestid"
    assert create != update and len(create[0]) <= 50


def test_quickbooks_retry_after_a_stale_sync_token_gets_a_new_requestid(mocked):
    stale = {"Fault": {"Error": [{"Message": "Stale Object Error", "code": "5010"}]}}
    customer = {"Customer": {"Id": "1", "SyncToken": "1", "DisplayName": "Ada"}}
    mocked.post(f"{QBO}/customer", status=400, json=stale)
    mocked.post(f"{QBO}/customer", json=customer)
    mocked.get(f"{QBO}/customer/1", json=customer)
    run([node(1, "quickbooks:UpdateCustomer", 2, Id="1", SyncToken="0", Notes="hi")], "exec-1")
    writes = [ids[0] for method, ids in qbo_request_ids(mocked) if method == "POST"]
    assert len(writes) == 2 and writes[1] == writes[0] + "-2"


def test_a_write_is_not_sent_twice_after_a_5xx(mocked):
    """Writes are not retried inside the call, keyed or not (the re-run is what repeats them)."""
    mocked.put(f"{XERO}/Contacts", status=503, json={"Title": "Service Unavailable"})
    blueprint = load_blueprint(
        {"name": "keys", "flow": [HOOK, *XERO_FLOW[:1]], "metadata": {"version": 1}}
    )
    plan = compile_blueprint(blueprint, default_registry())
    with requests.Session() as http:
        context = RunContext(
            clock=lambda: datetime.now(UTC),
            http=http,
            connections=Connections(),
            execution_id="exec-1",
        )
        record = run_scenario(plan, context, trigger_bundles=[{}])
    assert record.status == "error" and len(mocked.calls) == 1
    assert mocked.calls[0].request.headers["Idempotency-Key"].startswith("sb-")
