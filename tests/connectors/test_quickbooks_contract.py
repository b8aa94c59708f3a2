"""QuickBooks Online against the vendor pack (``vendor/quickbooks``): the connector and the
sandbox are held to each fact and example of ``NOTES.md``, every test citing the line it checks
(``notes_line`` verifies the citation). Where the pack documents a rule, the sandbox is never
more lenient than Intuit."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from engine.connections import resolved_from_values
from modules.connections import ApiClient
from modules.quickbooks import forms
from modules.quickbooks import sandbox as qbo_sandbox
from modules.quickbooks.client import QuickBooksClient, condition, qbo_settings
from modules.quickbooks.connection import QUICKBOOKS_CONNECTION
from modules.quickbooks.models import ItemFields
from modules.quickbooks.modules import webhook_bundles
from modules.quickbooks.webhooks import (
    change_events,
    intuit_signature,
    intuit_webhook_status,
    route_delivery,
)
from tests.connectors import test_quickbooks_support as support
from tests.connectors.pack_citations import example, example_bytes, notes_line
from tests.connectors.test_quickbooks_support import REALM, qbo_records
from tests.sandboxes.test_quickbooks_oauth import fault, make_client

APP = "quickbooks"
CLOUDEVENTS = "webhook-cloudevents.json"
LEGACY = "webhook-legacy-eventNotifications.json"


def stored(realm, verifier="verifier"):
    """A stored QuickBooks connection as the ingress hands it to ``route_delivery``."""
    return SimpleNamespace(data={"realm_id": realm}, secrets={"verifier_token": verifier})


# -- §8 webhooks --------------------------------------------------------------------------------


def test_the_cloudevents_example_becomes_the_change_it_describes():
    notes_line(APP, 141, "**CloudEvents payload** (array)")
    notes_line(APP, 145, "`intuitentityid` replaces `entities[].id`, `time` replaces `lastUpdated`")
    (bundle,) = change_events(example_bytes(APP, CLOUDEVENTS))
    assert bundle == {
        "realmId": "310687",
        "name": "Account",
        "id": "1234",
        "operation": "Create",
        "lastUpdated": "2025-09-10T21:31:25.179851517Z",
        "type": "qbo.account.created.v1",
        "eventId": "88cd52aa-33b6-4351-9aa4-47572edbd068",
    }


def test_both_example_payloads_describe_the_same_change():
    notes_line(APP, 157, "Support both shapes")
    notes_line(APP, 157, "object with `eventNotifications` ⇒ legacy")
    keys = ("realmId", "name", "id", "operation")
    (new,) = change_events(example(APP, CLOUDEVENTS))
    (old,) = change_events(example(APP, LEGACY))
    assert (
        [new[k] for k in keys] == [old[k] for k in keys] == ["310687", "Account", "1234", "Create"]
    )


def test_the_new_event_trigger_reads_cloudevents_as_the_ingress_hands_them_over():
    """A webhook makes ``{"value": [...]}`` of an array body (``engine.webhooks``); scenario
    3.2 filters on ``{{1.name}}`` and reads ``{{1.id}}``."""
    notes_line(APP, 144, "`type` = `qbo.<entity>.<operation>.v1`")
    events = [
        {**example(APP, CLOUDEVENTS)[0], "type": f"qbo.{kind}.v1", "intuitentityid": entity}
        for kind, entity in (
            ("customer.created", "7"),
            ("invoice.updated", "9"),
            ("customer.deleted", "8"),
        )
    ]
    chosen = webhook_bundles(
        {"value": events}, {"entities": "Customer", "operations": "Create,Update"}
    )
    assert [(b["name"], b["id"], b["operation"]) for b in chosen] == [("Customer", "7", "Create")]
    every = webhook_bundles(events)
    assert [(b["name"], b["operation"]) for b in every] == [
        ("Customer", "Create"),
        ("Invoice", "Update"),
        ("Customer", "Delete"),
    ]


def test_the_signature_check_is_the_same_for_both_payloads():
    notes_line(APP, 159, "**Signature** (unchanged by the migration)")
    notes_line(APP, 160, "base64(HMAC-SHA256(verifier token, raw request body))")
    for name in (CLOUDEVENTS, LEGACY):
        raw = example_bytes(APP, name)
        signature = intuit_signature("verifier", raw)
        assert intuit_webhook_status("verifier", raw, signature) == 200
        assert intuit_webhook_status("verifier", raw.replace(b"1234", b"1235"), signature) == 401


def test_one_cloudevents_delivery_for_several_companies_is_routed_per_event():
    notes_line(APP, 148, "One delivery can carry events for several companies")
    template = example(APP, CLOUDEVENTS)[0]
    events = [
        {**template, "id": f"e{n}", "intuitaccountid": realm, "intuitentityid": str(n)}
        for n, realm in enumerate(("111", "222", "111"), start=1)
    ]
    raw = json.dumps(events).encode()
    headers = {"intuit-signature": intuit_signature("verifier", raw)}
    companies = {"a": stored("111"), "b": stored("222"), "c": stored("333")}
    status, parts = route_delivery(raw, headers, companies)
    assert status == 200 and set(parts) == {"a", "b"}
    assert [e["intuitentityid"] for e in json.loads(parts["a"])] == ["1", "3"]
    assert [e["intuitentityid"] for e in json.loads(parts["b"])] == ["2"]
    assert [b["id"] for b in webhook_bundles(json.loads(parts["a"]))] == ["1", "3"]


def test_the_deployments_verifier_token_checks_connections_without_their_own(monkeypatch):
    """One Intuit app has one verifier token for every company it reaches; an OAuth connection
    carries none of its own (NOTES.md:162)."""
    notes_line(APP, 162, "token is shown on the app's webhooks page and is not the client secret")
    raw = example_bytes(APP, CLOUDEVENTS)
    headers = {"intuit-signature": intuit_signature("app-token", raw)}
    bare = SimpleNamespace(data={"realm_id": "310687"}, secrets={"access_token": "t"})
    assert route_delivery(raw, headers, {"a": bare}) == (401, {})
    monkeypatch.setenv("SWITCHBOARD_QUICKBOOKS_VERIFIER_TOKEN", "app-token")
    status, parts = route_delivery(raw, headers, {"a": bare})
    assert status == 200 and set(parts) == {"a"}


def test_a_forged_cloudevents_delivery_is_refused():
    raw = example_bytes(APP, CLOUDEVENTS)
    headers = {"intuit-signature": intuit_signature("forged", raw)}
    assert route_delivery(raw, headers, {"a": stored("310687")}) == (401, {})


# -- the sandbox and the connector against §1-§7 ------------------------------------------------

start_quickbooks = support.start_quickbooks
quickbooks = support.quickbooks
qbo_connection = support.qbo_connection


@pytest.fixture
def sandbox_client(serve, http):
    """The QuickBooks sandbox as a raw HTTP client sees it (no connector in between)."""
    return make_client(serve, http, {"fixture": "small"})


def connector(qbo_connection, resolver, http, key_for=None):
    """The connector's client for the stored connection (no retries, no sleeping)."""
    settings = qbo_settings(resolver.get(qbo_connection.id), max_retries=0)
    return QuickBooksClient(ApiClient(settings, http, lambda _: None), key_for=key_for)


def test_every_call_the_connector_makes_asks_for_minor_version_75(
    quickbooks, qbo_connection, resolver, http
):
    notes_line(APP, 55, "are ignored and the default is **75**")
    client = connector(qbo_connection, resolver, http)
    earlier = len(quickbooks.state()["requests"])  # the sign-in's
    created = client.create("Customer", {"DisplayName": "Minor Version Ltd"})
    client.update("Customer", {"Id": created["Id"], "Notes": "seen"})
    client.get("Customer", created["Id"])
    client.query("SELECT * FROM Customer MAXRESULTS 1")
    client.changed_since(["Customer"], created["MetaData"]["CreateTime"])
    client.company_info()
    client.preferences()
    calls = quickbooks.state()["requests"][earlier:]
    assert len(calls) == 8 and all(r["path"].startswith("/v3/") for r in calls)
    assert {tuple(r["query"]["minorversion"]) for r in calls} == {("75",)}


@pytest.mark.parametrize(
    "statement, code, line, phrase",
    [
        ("select * from Customer where Active = true or Active = false", "4000", 64, "**no OR**"),
        ("select Id, DisplayName from Customer", "4000", 64, "no projections"),
        ("select * from customer", "4001", 64, "entity name case-sensitive"),
        ("select * from Customer group by DisplayName", "4000", 64, "no GROUP BY"),
    ],
)
def test_the_sandbox_refuses_what_the_query_language_lacks(
    sandbox_client, statement, code, line, phrase
):
    notes_line(APP, line, phrase)
    answer = sandbox_client.query(statement)
    assert answer.status_code == 400
    assert fault(answer)["code"] == code


def test_an_apostrophe_is_escaped_with_a_backslash_and_found(
    quickbooks, qbo_connection, resolver, http
):
    notes_line(APP, 66, "Escape an apostrophe in a value with a backslash")
    client = connector(qbo_connection, resolver, http)
    client.create("Customer", {"DisplayName": "O'Brien & Sons"})
    where = condition("DisplayName", "equals", "O'Brien & Sons")
    statement = f"SELECT * FROM Customer WHERE {where}"
    assert r"DisplayName = 'O\'Brien & Sons'" in statement
    assert [c["DisplayName"] for c in client.query(statement)] == ["O'Brien & Sons"]


def test_only_properties_with_values_are_returned(sandbox_client):
    notes_line(APP, 65, "only properties with values are returned")
    created = sandbox_client.create("customer", {"DisplayName": "Null Ltd", "Notes": None})
    assert "Notes" not in created
    found = sandbox_client.query("select * from Customer where DisplayName = 'Null Ltd'")
    assert "Notes" not in found.json()["QueryResponse"]["Customer"][0]


def test_paths_are_case_sensitive(sandbox_client):
    notes_line(APP, 38, "URIs are case-sensitive")
    assert sandbox_client.post("customer", {"DisplayName": "Lower Ltd"}).status_code == 200
    wrong = sandbox_client.post("Customer", {"DisplayName": "Upper Ltd"})
    assert wrong.status_code == 400 and fault(wrong)["code"] == "500"


def test_an_update_needs_the_current_sync_token(
    sandbox_client, quickbooks, qbo_connection, resolver, http
):
    notes_line(
        APP,
        75,
        "a stale token fails with **5010 Stale Object",
    )
    created = sandbox_client.create("customer", {"DisplayName": "Stale Ltd"})
    first = sandbox_client.post(
        "customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True, "Notes": "a"}
    )
    assert first.status_code == 200
    stale = sandbox_client.post(
        "customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True, "Notes": "b"}
    )
    assert stale.status_code == 400 and fault(stale)["code"] == "5010"
    missing = sandbox_client.post("customer", {"Id": created["Id"], "sparse": True, "Notes": "c"})
    assert missing.status_code == 400 and fault(missing)["code"] == "2020"


def test_a_full_update_clears_what_it_omits_so_the_connector_sends_sparse(
    sandbox_client, quickbooks, qbo_connection, resolver, http
):
    notes_line(APP, 77, 'Sparse update: put `"sparse": true` in the body')
    notes_line(APP, 78, "is a replace that clears writable fields you omit")
    created = sandbox_client.create("customer", {"DisplayName": "Full Ltd", "Notes": "keep me"})
    full = sandbox_client.post(
        "customer", {"Id": created["Id"], "SyncToken": "0", "DisplayName": "Full Ltd"}
    )
    assert "Notes" not in full.json()["Customer"]
    client = connector(qbo_connection, resolver, http)
    mine = client.create("Customer", {"DisplayName": "Sparse Ltd", "Notes": "keep me"})
    updated = client.update("Customer", {"Id": mine["Id"], "CompanyName": "Sparse"})
    assert updated["Notes"] == "keep me"
    (write,) = [
        r
        for r in quickbooks.requests_to(f"/v3/company/{REALM}/customer", "POST")
        if r["json"].get("Id")
    ]
    assert write["json"]["sparse"] is True


def test_a_repeated_requestid_gets_the_first_answer_and_writes_once(
    sandbox_client, quickbooks, qbo_connection, resolver, http
):
    notes_line(APP, 80, "**`requestid` query parameter** = idempotency")
    notes_line(APP, 81, "Unique per company, ≤ 50 characters")
    keys = iter(["sb-" + "a" * 32, "sb-" + "a" * 32])
    client = connector(qbo_connection, resolver, http, key_for=lambda _suffix: next(keys))
    first = client.create("Customer", {"DisplayName": "Once Ltd"})
    again = client.create("Customer", {"DisplayName": "Once Ltd"})  # a retry after a timeout
    assert again == first
    assert [c["DisplayName"] for c in qbo_records(quickbooks, "Customer")].count("Once Ltd") == 1
    (sent, _) = quickbooks.requests_to(f"/v3/company/{REALM}/customer", "POST")[-2:]
    assert len(sent["query"]["requestid"][0]) <= 50
    too_long = sandbox_client.post("customer", {"DisplayName": "Long Ltd"}, requestid="x" * 51)
    assert too_long.status_code == 400


def test_display_names_are_unique(sandbox_client):
    notes_line(APP, 86, "**Customer**: `DisplayName` must be unique — code 6240")
    sandbox_client.create("customer", {"DisplayName": "Twice Ltd"})
    again = sandbox_client.post("customer", {"DisplayName": "Twice Ltd"})
    assert again.status_code == 400 and fault(again)["code"] == "6240"


def invoice_line(**detail):
    return {"DetailType": "SalesItemLineDetail", "Amount": 100, "SalesItemLineDetail": detail}


def test_a_line_without_a_tax_code_is_refused_not_given_a_default(sandbox_client):
    """The sandbox used to tax such a line at its item's code (4: GST 15 %), hiding a mapping
    that sends no code for a rate it does not know. QuickBooks refuses it."""
    notes_line(APP, 103, "**Tax, non-US**: set `SalesItemLineDetail.TaxCodeRef` per line")
    item = sandbox_client.read("item", "1")
    assert item["SalesTaxCodeRef"]["value"] == "4"  # the item does have a default code
    customer = sandbox_client.create("customer", {"DisplayName": "No Code Ltd"})
    body = {
        "CustomerRef": {"value": customer["Id"]},
        "Line": [invoice_line(ItemRef={"value": "1"})],
    }
    refused = sandbox_client.post("invoice", body)
    assert refused.status_code == 400
    assert fault(refused)["code"] == "6000"
    assert "GST rate" in fault(refused)["Detail"]
    body["Line"] = [invoice_line(ItemRef={"value": "1"}, TaxCodeRef={"value": "5"})]  # zero-rated
    accepted = sandbox_client.post("invoice", body)
    assert accepted.status_code == 200
    assert accepted.json()["Invoice"]["TxnTaxDetail"]["TotalTax"] == 0


def test_errors_come_in_the_fault_envelope_of_the_example(sandbox_client):
    notes_line(
        APP, 120, 'Envelope: `{"Fault": {"Error": [{"Message", "Detail", "code", "element"}]'
    )
    notes_line(APP, 126, "Validation faults come back as **HTTP 400**, not 422")
    template = example(APP, "error-fault-envelope.json")
    answer = sandbox_client.post("customer", {"DisplayName": ""})
    assert answer.status_code == 400
    body = answer.json()
    assert set(body) == set(template)
    assert set(body["Fault"]) == set(template["Fault"])
    assert set(body["Fault"]["Error"][0]) == set(template["Fault"]["Error"][0])
    assert body["Fault"]["type"] == template["Fault"]["type"]


def test_the_sandbox_refuses_an_eleventh_call_in_flight(serve, http):
    notes_line(APP, 131, "**10 concurrent requests per app+realm**")
    app = qbo_sandbox.create_app({"fixture": "small"})
    client = make_client(lambda _app: serve(app), http)
    in_flight = app.extensions["sandbox_state"].in_flight
    held = [in_flight.enter(client.realm_id, 10, 60.0) for _ in range(10)]  # ten calls running
    busy = client.query("select * from Item")
    assert busy.status_code == 429 and fault(busy)["code"] == "3001"
    in_flight.leave(client.realm_id, held[0])
    assert client.query("select * from Item").status_code == 200


def test_the_connector_keeps_to_ten_calls_in_flight_per_company():
    notes_line(APP, 131, "**500 requests per minute per realm** (batch included)")
    settings = qbo_settings(
        resolved_from_values(QUICKBOOKS_CONNECTION, {"realm_id": "42"}, {"access_token": "t"})
    )
    assert (settings.rate_limit, settings.rate_window) == (500, 60.0)
    assert (settings.concurrency_key, settings.max_concurrent) == ("quickbooks:42", 10)


# -- §5 the entities the sync packs write --------------------------------------------------------


def test_every_item_field_of_the_notes_is_mapped_and_an_inventory_item_needs_its_accounts(
    sandbox_client,
):
    notes_line(APP, 116, "**Item**: Name, Type, UnitPrice, Taxable, SalesTaxIncluded")
    notes_line(APP, 117, "AssetAccountRef, TrackQtyOnHand, QtyOnHand, InvStartDate, Sku")
    item = {
        "Name": "Contract widget",
        "Type": "Inventory",
        "UnitPrice": 3,
        "Taxable": True,
        "SalesTaxIncluded": False,
        "IncomeAccountRef": {"value": "1"},
        "ExpenseAccountRef": {"value": "80"},
        "AssetAccountRef": {"value": "81"},
        "TrackQtyOnHand": True,
        "QtyOnHand": 5,
        "InvStartDate": "2026-01-01",
        "Sku": "CW-1",
        "SalesTaxCodeRef": {"value": "4"},
    }
    assert set(item) <= set(ItemFields.model_fields)  # every field of the notes is mappable
    assert sandbox_client.create("item", item)["Sku"] == "CW-1"
    for reference in ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"):
        lacking = {k: v for k, v in item.items() if k != reference} | {"Name": reference}
        assert fault(sandbox_client.post("item", lacking))["element"] == reference


def test_sales_receipts_credit_memos_and_estimates_take_the_fields_of_the_notes(sandbox_client):
    notes_line(
        APP, 113, "**CreditMemo**: CustomerRef, Line, TxnTaxDetail, RemainingCredit, Balance"
    )
    notes_line(APP, 114, "**Estimate**: CustomerRef, Line, ExpirationDate, TxnStatus")
    notes_line(APP, 115, "**SalesReceipt** (paid-at-sale): DepositToAccountRef, PaymentMethodRef")
    notes_line(APP, 102, "CreditMemo, Estimate, SalesReceipt to `TaxExcluded`")
    assert {"DepositToAccountRef", "PaymentMethodRef", "PaymentRefNum", "Line"} <= set(
        forms.CreateSalesReceiptInput.model_fields
    )
    assert {"ExpirationDate", "TxnStatus"} <= set(forms.CreateEstimateInput.model_fields)
    assert {"RemainingCredit", "Balance"} <= set(forms.CreditMemoOutput.model_fields)
    customer = {"value": "1"}
    line = invoice_line(ItemRef={"value": "1"}, TaxCodeRef={"value": "4"})
    receipt = sandbox_client.create(
        "salesreceipt",
        {"Line": [line], "PaymentMethodRef": {"value": "1"}, "PaymentRefNum": "R-1"},
    )
    memo = sandbox_client.create("creditmemo", {"CustomerRef": customer, "Line": [line]})
    estimate = sandbox_client.create(
        "estimate", {"CustomerRef": customer, "Line": [line], "ExpirationDate": "2026-12-31"}
    )
    for form in (receipt, memo, estimate):
        assert form["GlobalTaxCalculation"] == "TaxExcluded"
        assert form["TxnTaxDetail"]["TotalTax"] > 0
    assert memo["RemainingCredit"] == memo["Balance"] == memo["TotalAmt"]
    assert estimate["ExpirationDate"] == "2026-12-31"
