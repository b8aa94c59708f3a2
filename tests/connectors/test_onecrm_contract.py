"""The 1CRM connector against 1CRM's documented requests and answers, with ``responses``
standing in for an instance: each test names the line of
``shared/reference/vendor/1crm/NOTES.md`` (or the ``docs-pages/`` file) it checks."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import requests
import responses

from engine.connections import resolved_from_values
from engine.errors import AccountValidationError, DataError
from engine.ratelimit import MemoryRateLimiter
from modules.connections import ApiClient
from modules.onecrm.client import OneCrmClient, from_onecrm, onecrm_settings
from modules.onecrm.connection import ONECRM_CONNECTION, try_connection
from modules.onecrm.modules import attach_webhook

from .conftest import connect_onecrm, outputs

CRM = "https://crm.example.test"
API = f"{CRM}/api.php"
INVOICE = {"id": "inv-1", "name": "March", "amount": "475", "date_modified": "2026-03-01 10:00:00"}


@pytest.fixture
def mocked():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def connection(store):
    return connect_onecrm(store, SimpleNamespace(url=CRM))


def conn(connection, **extra):
    return {"__IMTCONN__": connection.id, **extra}


def sent(call):
    return json.loads(call.request.body)


def meta(mocked, model, fields, filters=("filter_text",)):
    body = {
        "fields": {name: {"name": name, "type": "varchar"} for name in ("id", *fields)},
        "filters": {name: {"name": name} for name in filters},
    }
    mocked.get(f"{API}/meta/fields/{model}", json=body)


# -- updates (NOTES §2) ------------------------------------------------------------------------


def test_an_update_answered_result_true_outputs_the_record_read_back(runner, mocked, connection):
    """NOTES.md:54 and :63-65 — PATCH answers ``{"result": true}`` only; the module reads the
    record back (the Integrated ID write-back of 2.3/3.3, accounts of 2.2/3.2)."""
    mocked.patch(f"{API}/data/Invoice/inv-1", json={"result": True})
    mocked.get(f"{API}/data/Invoice/inv-1", json={"record": {**INVOICE, "integrated_id": "X-9"}})
    record = runner.one(
        "onecrm:UpdateRecord",
        {"model": "Invoice", "id": "inv-1", "integrated_id": "X-9"},
        conn(connection),
    )
    assert record.status == "success", record.error
    (output,) = outputs(record, 1)
    assert (output["integrated_id"], output["amount"]) == ("X-9", 475)
    assert output["date_modified"] == "2026-03-01T10:00:00.000Z"
    assert sent(mocked.calls[0]) == {"data": {"integrated_id": "X-9"}, "create": False}


def test_create_if_missing_is_sent_as_the_body_key_create(runner, mocked, connection):
    """NOTES.md:54 and :63-64 — the flag is the PATCH body key ``create``."""
    mocked.patch(f"{API}/data/Account/a-1", json={"result": True})
    mocked.get(f"{API}/data/Account/a-1", json={"record": {"id": "a-1", "name": "Ghost"}})
    record = runner.one(
        "onecrm:UpdateRecord",
        {"model": "Account", "id": "a-1", "name": "Ghost", "create_if_missing": True},
        conn(connection),
    )
    assert record.status == "success", record.error
    body = sent(mocked.calls[0])
    assert body["create"] is True and "create_if_missing" not in body
    assert "create_if_missing" not in mocked.calls[0].request.url


def test_a_create_reads_the_new_record_and_takes_a_list_of_ids(mocked):
    """NOTES.md:53 and :66 — create answers only ``{"id"}``, a list of one id for link
    records."""
    mocked.post(f"{API}/data/invoices_payments", json={"id": ["link-1"]})
    mocked.post(f"{API}/data/Account", json={"id": "a-1"})
    mocked.get(f"{API}/data/Account/a-1", json={"record": {"id": "a-1", "balance": "3222.22"}})
    client = crm_client()
    assert client.create("invoices_payments", {"payment_id": "p", "invoice_id": "i"}) == "link-1"
    assert client.created("Account", {"name": "N"})["balance"] == 3222.22


def test_values_text_becomes_numbers_and_iso_dates():
    """NOTES.md:71-72 — values come back as text; bundles carry numbers and ISO dates."""
    record = {"deleted": "0", "balance": "3222.22", "date_entered": "2018-02-23 07:28:28"}
    assert from_onecrm(record) == {
        "deleted": "0",
        "balance": 3222.22,
        "date_entered": "2018-02-23T07:28:28.000Z",
    }


# -- errors (NOTES §4) -------------------------------------------------------------------------


def test_error_message_and_hint_become_the_module_error(runner, mocked, connection):
    """NOTES.md:89-91 — ``{"error", "message", "hint"}``, mapped by status."""
    body = {"error": "invalid_data", "message": "Invalid data: name: required", "hint": "fill it"}
    mocked.post(f"{API}/data/Account", status=400, json=body)
    record = runner.one(
        "onecrm:CreateRecord", {"model": "Account", "email1": "x"}, conn(connection)
    )
    assert record.error["type"] == "DataError"
    assert record.error["message"] == "1CRM: Invalid data: name: required (fill it)"


def test_a_non_json_error_is_an_unexpected_reply(mocked):
    """NOTES.md:90-91 — "a non-JSON error body becomes 'Unexpected reply from server'"."""
    mocked.get(f"{API}/data/Account/a", status=404, body="<html>gone</html>")
    with pytest.raises(DataError, match="1CRM: Unexpected reply from server \\(HTTP 404\\)"):
        crm_client().get("Account", "a")


def test_a_404_message_is_kept(mocked):
    """docs-pages/examples/errors.md:23 — "Model Acount not found"."""
    mocked.get(f"{API}/data/Acount/a", status=404, json={"message": "Model Acount not found"})
    with pytest.raises(DataError, match=r"^1CRM: Model Acount not found$"):
        crm_client().get("Acount", "a")


def test_basic_auth_disabled_says_what_to_do(mocked):
    """NOTES.md:27-28 — Basic auth is off until an admin enables it: Test connection says so."""
    mocked.get(f"{API}/version", json={"version": "8.6", "authenticated": False, "products": []})
    mocked.get(f"{API}/me", status=401, json={"error": "unauthorized", "message": "Unauthorized"})
    with requests.Session() as session, pytest.raises(AccountValidationError) as caught:
        try_connection(crm_connection(), session)
    assert "Basic authentication is probably disabled" in str(caught.value)
    assert "administrator must enable it" in str(caught.value)


# -- filters (NOTES §3) ------------------------------------------------------------------------


def test_a_search_sends_only_declared_filters(runner, mocked, connection):
    """NOTES.md:79-81 — ``filters[...]`` takes only the filters the model declares: an
    undeclared one is refused before the list is asked for."""
    meta(mocked, "Invoice", ["name", "integrated_id"])
    record = runner.one(
        "onecrm:SearchRecords",
        {"model": "Invoice", "filters": {"integrated_id": "X-1"}},
        conn(connection),
    )
    assert record.error["type"] == "InvalidConfigurationError"
    assert record.error["message"] == (
        "1CRM's Invoice list has no filter integrated_id; it declares filter_text "
        "(use Filter text, or Match exactly)"
    )
    assert [c.request.url for c in mocked.calls] == [f"{API}/meta/fields/Invoice"]


def test_a_search_asks_for_every_field_and_matches_exactly(runner, mocked, connection):
    """NOTES.md:69-70 — without ``fields`` a list shows a few fields, so the search names
    them all; NOTES.md:67-68 — arrays as ``fields[]=…``."""
    meta(mocked, "Account", ["name", "email1"])
    page = {
        "records": [
            {"id": "a-1", "name": "ACME Holdings", "email1": "h@x"},
            {"id": "a-2", "name": "acme", "email1": "a@x"},
        ],
        "total_results": 2,
    }
    mocked.get(f"{API}/data/Account", json=page)
    record = runner.one(
        "onecrm:SearchRecords",
        {"model": "Account", "filter_text": "ACME", "match": {"name": "ACME"}},
        conn(connection, limit=1),
    )
    assert [r["id"] for r in outputs(record, 1)] == ["a-2"]
    url = mocked.calls[1].request.url
    assert "fields%5B%5D=id&fields%5B%5D=name&fields%5B%5D=email1" in url
    assert "filter_text=ACME" in url


# -- tally objects (NOTES §5) ------------------------------------------------------------------


def test_an_invoice_is_written_call_by_call(runner, mocked, connection):
    """NOTES.md:99-111 (docs-pages/examples/create-invoice.md) — Invoice with its totals,
    InvoiceLineGroup, InvoiceLine, InvoiceAdjustment (StandardTax, TaxRates)."""
    rates = {"records": [{"id": "tr-15", "name": "GST", "rate": "15"}], "total_results": 1}
    mocked.get(f"{API}/data/TaxRate", json=rates)
    for model, new_id in [
        ("Invoice", "inv-1"),
        ("InvoiceLineGroup", "grp-1"),
        ("InvoiceLine", "line-1"),
        ("InvoiceAdjustment", "adj-1"),
    ]:
        mocked.post(f"{API}/data/{model}", json={"id": new_id})
    mocked.get(f"{API}/data/Invoice/inv-1", json={"record": INVOICE})
    record = runner.one(
        "onecrm:CreateRecord",
        {
            "model": "Invoice",
            "name": "March",
            "billing_account_id": "acc-1",
            "line_items": [
                {"name": "Widget", "quantity": 2, "unit_price": 50, "tax_percentage": 15}
            ],
        },
        conn(connection),
    )
    assert record.status == "success", record.error
    posts = [c for c in mocked.calls if c.request.method == "POST"]
    invoice, group, line, tax = (sent(c)["data"] for c in posts)
    assert "line_items" not in invoice
    assert (invoice["amount"], invoice["amount_due"], invoice["subtotal"]) == (115, 115, 100)
    assert group == {
        "parent_id": "inv-1",
        "name": "",
        "position": 1,
        "status": "Draft",
        "group_type": "products",
        "subtotal": 100,
        "total": 115,
    }
    assert (line["invoice_id"], line["line_group_id"], line["quantity"], line["unit_price"]) == (
        "inv-1",
        "grp-1",
        2,
        50,
    )
    assert tax == {
        "invoice_id": "inv-1",
        "line_group_id": "grp-1",
        "line_id": "line-1",
        "name": "GST",
        "position": 1,
        "related_type": "TaxRates",
        "related_id": "tr-15",
        "rate": 15,
        "type": "StandardTax",
        "amount": 15,
    }


def test_lines_are_read_from_the_related_lists(runner, mocked, connection):
    """NOTES.md:115-116 (docs-pages/examples/quote-structure.md) — ``line_groups_link``,
    ``lines_link``, ``adjustments_link``; ordered by group then line position; a group-wide
    tax applies to every line of the group."""
    base = f"{API}/data/Quote/q-1"
    groups = [{"id": "g2", "position": "2"}, {"id": "g1", "position": "1"}]
    lines = [
        {
            "id": "l3",
            "name": "HP LaserJet",
            "position": "9",
            "line_group_id": "g2",
            "quantity": "1",
            "unit_price": "300",
        },
        {
            "id": "l1",
            "name": "MacBook",
            "position": "4",
            "line_group_id": "g1",
            "quantity": "2",
            "unit_price": "1000",
        },
        {
            "id": "l2",
            "name": "iPad",
            "position": "14",
            "line_group_id": "g1",
            "quantity": "1",
            "unit_price": "500",
        },
    ]
    adjustments = [
        {
            "id": "a1",
            "line_group_id": "g1",
            "line_id": None,
            "type": "StandardTax",
            "rate": "13",
            "amount": "325",
        },
        {
            "id": "a2",
            "line_group_id": "g1",
            "line_id": "l1",
            "type": "StdPercentDiscount",
            "rate": "10",
        },
        {
            "id": "a3",
            "line_group_id": "g2",
            "line_id": None,
            "type": "UntaxedShipping",
            "amount": "20",
        },
    ]
    mocked.get(f"{base}/line_groups_link", json={"records": groups, "total_results": 2})
    mocked.get(f"{base}/lines_link", json={"records": lines, "total_results": 3})
    mocked.get(f"{base}/adjustments_link", json={"records": adjustments, "total_results": 3})
    record = runner.one("onecrm:ListLineItems", {"model": "Quote", "id": "q-1"}, conn(connection))
    assert record.status == "success", record.error
    assert [
        (b["name"], b["quantity"], b["unit_price"], b["tax_percentage"], b["tax_amount"])
        for b in outputs(record, 1)
    ] == [("MacBook", 2, 1000, 13, 260), ("iPad", 1, 500, 13, 65), ("HP LaserJet", 1, 300, 0, 0)]


def test_a_payment_links_its_invoices_and_lowers_what_is_due(runner, mocked, connection):
    """NOTES.md:117-123 — Payment (``direction: incoming``, ``total_amount``), an
    ``invoices_payments`` link, then the caller updates the invoice's ``amount_due``."""
    due = {"id": "inv-1", "name": "March", "integrated_id": "X-1", "amount_due": "475"}
    mocked.get(f"{API}/data/Invoice/inv-1", json={"record": due})
    mocked.post(f"{API}/data/Payment", json={"id": "pay-1"})
    mocked.post(f"{API}/data/invoices_payments", json={"id": ["link-1"]})
    mocked.patch(f"{API}/data/Invoice/inv-1", json={"result": True})
    mocked.get(f"{API}/data/Payment/pay-1", json={"record": {"id": "pay-1", "amount": "200"}})
    record = runner.one(
        "onecrm:CreateRecord",
        {
            "model": "Payment",
            "amount": 200,
            "payment_date": "2026-03-10",
            "related_invoices": [{"invoice_id": "inv-1", "amount": 200}],
        },
        conn(connection),
    )
    assert record.status == "success", record.error
    writes = [(c.request.method, sent(c)) for c in mocked.calls if c.request.method != "GET"]
    assert writes == [
        (
            "POST",
            {
                "data": {
                    "direction": "incoming",
                    "amount": 200,
                    "payment_date": "2026-03-10",
                    "assigned_user_id": "1",
                    "total_amount": 200,
                }
            },
        ),
        ("POST", {"data": {"payment_id": "pay-1", "invoice_id": "inv-1", "amount": 200}}),
        ("PATCH", {"data": {"amount_due": 275}, "create": False}),
    ]
    assert outputs(record, 1)[0]["related_invoices"][0]["integrated_id"] == "X-1"


def test_a_payments_invoices_are_read_through_its_links(runner, mocked, connection):
    """NOTES.md:120-121 — the link ``invoices_payments`` carries ``payment_id``,
    ``invoice_id``, ``amount``."""
    meta(mocked, "invoices_payments", ["payment_id", "invoice_id", "amount"], ("payment_id",))
    link = {"id": "link-1", "payment_id": "pay-1", "invoice_id": "inv-1", "amount": "200"}
    mocked.get(f"{API}/data/invoices_payments", json={"records": [link], "total_results": 1})
    invoice = {"id": "inv-1", "name": "March", "integrated_id": "X-1", "amount_due": "275"}
    mocked.get(f"{API}/data/Invoice/inv-1", json={"record": invoice})
    record = runner.one("onecrm:ListPaymentInvoices", {"id": "pay-1"}, conn(connection))
    assert record.status == "success", record.error
    (allocation,) = outputs(record, 1)
    assert (allocation["integrated_id"], allocation["amount"]) == ("X-1", 200)
    assert "filters%5Bpayment_id%5D=pay-1" in mocked.calls[1].request.url


# -- webhooks (NOTES §6) -----------------------------------------------------------------------


def test_the_new_event_trigger_subscribes_with_type_and_filter(mocked):
    """NOTES.md:131-138 — ``POST /api.php/webhooks`` ``{type, url, model, filters}``; without
    a valid filter 1CRM never fires (default ``deleted is_false 0``, ``current_value``)."""
    mocked.post(f"{API}/webhooks", json={"id": "hook-1"})
    with requests.Session() as session:
        hook_id = attach_webhook(
            crm_connection(),
            session,
            "https://switchboard.example/hooks/t0k3n",
            {"model": "Accounts", "event": "create_or_update"},
        )
    assert hook_id == "hook-1"
    assert sent(mocked.calls[0]) == {
        "type": "create_update",
        "url": "https://switchboard.example/hooks/t0k3n",
        "model": "Account",
        "filters": {
            "glue": "or",
            "conditions": [
                {"field": "deleted", "filter": "is_false", "value": "0", "when": "current_value"}
            ],
        },
    }


# -- helpers -----------------------------------------------------------------------------------


def crm_connection():
    return resolved_from_values(
        ONECRM_CONNECTION, {"url": CRM, "username": "admin"}, {"password": "pw"}
    )


def crm_client():
    api = ApiClient(
        onecrm_settings(crm_connection()), requests.Session(), lambda s: None, MemoryRateLimiter()
    )
    return OneCrmClient(api, default_assigned_user="7")


# -- what the library needs to keep the books (issue #20) --------------------------------------


def test_a_search_told_to_fail_when_nothing_is_found_names_what_it_looked_for(
    runner, mocked, connection
):
    """``errorWhenNoRes``: a record whose prerequisite is not in 1CRM yet goes to the error
    route (where Break retries it), instead of ending quietly."""
    meta(mocked, "Account", ["name"])
    mocked.get(f"{API}/data/Account", json={"records": [], "total_results": 0})
    record = runner.one(
        "onecrm:SearchRecords",
        {"model": "Account", "filter_text": "Kōwhai", "match": {"name": "Kōwhai Ltd"}},
        conn(connection, limit=1, errorWhenNoRes=True),
    )
    assert record.error["type"] == "DataError"
    assert record.error["message"] == (
        "1CRM has no Account matching 'Kōwhai', name = 'Kōwhai Ltd' (yet)"
    )


def test_a_deleted_payment_takes_its_allocations_and_gives_back_what_is_due(
    runner, mocked, connection
):
    """1CRM keeps ``amount_due`` by hand (NOTES.md:117-123): deleting a payment raises each
    invoice's amount due by what the payment paid, and removes its links."""
    meta(mocked, "invoices_payments", ["payment_id", "invoice_id", "amount"], ("payment_id",))
    mocked.get(f"{API}/data/Payment/pay-1", json={"record": {"id": "pay-1", "amount": "100"}})
    link = {"id": "link-1", "payment_id": "pay-1", "invoice_id": "inv-1", "amount": "100"}
    mocked.get(f"{API}/data/invoices_payments", json={"records": [link], "total_results": 1})
    invoice = {"id": "inv-1", "name": "March", "integrated_id": "X-1", "amount_due": "375"}
    mocked.get(f"{API}/data/Invoice/inv-1", json={"record": invoice})
    mocked.patch(f"{API}/data/Invoice/inv-1", json={"result": True})
    mocked.delete(f"{API}/data/invoices_payments/link-1", json={"result": True})
    mocked.delete(f"{API}/data/Payment/pay-1", json={"result": True})
    record = runner.one(
        "onecrm:DeleteRecord", {"model": "Payment", "id": "pay-1"}, conn(connection)
    )
    assert record.status == "success", record.error
    writes = [(c.request.method, c.request.url) for c in mocked.calls if c.request.method != "GET"]
    assert writes == [
        ("PATCH", f"{API}/data/Invoice/inv-1"),
        ("DELETE", f"{API}/data/invoices_payments/link-1"),
        ("DELETE", f"{API}/data/Payment/pay-1"),
    ]
    assert sent(next(c for c in mocked.calls if c.request.method == "PATCH")) == {
        "data": {"amount_due": 475},
        "create": False,
    }
    (output,) = outputs(record, 1)
    assert output["related_invoices"][0]["amount"] == 100


def test_a_deleted_payment_of_a_cancelled_invoice_leaves_it_owing_nothing(
    runner, mocked, connection
):
    """A cancelled invoice owes nothing: a payment deleted after it was cancelled (a paid Xero
    invoice voided once its payments were deleted, 2.4 cancelling it before 2.7 deletes them)
    takes its links, and the invoice keeps owing nothing (it owed the payments again)."""
    meta(mocked, "invoices_payments", ["payment_id", "invoice_id", "amount"], ("payment_id",))
    mocked.get(f"{API}/data/Payment/pay-1", json={"record": {"id": "pay-1", "amount": "100"}})
    link = {"id": "link-1", "payment_id": "pay-1", "invoice_id": "inv-1", "amount": "100"}
    mocked.get(f"{API}/data/invoices_payments", json={"records": [link], "total_results": 1})
    invoice = {"id": "inv-1", "name": "March", "amount_due": "0", "cancelled": "1"}
    mocked.get(f"{API}/data/Invoice/inv-1", json={"record": invoice})
    mocked.delete(f"{API}/data/invoices_payments/link-1", json={"result": True})
    mocked.delete(f"{API}/data/Payment/pay-1", json={"result": True})
    record = runner.one(
        "onecrm:DeleteRecord", {"model": "Payment", "id": "pay-1"}, conn(connection)
    )
    assert record.status == "success", record.error
    writes = [(c.request.method, c.request.url) for c in mocked.calls if c.request.method != "GET"]
    assert writes == [
        ("DELETE", f"{API}/data/invoices_payments/link-1"),
        ("DELETE", f"{API}/data/Payment/pay-1"),
    ]


def test_a_line_s_net_amount_from_another_system_is_kept():
    """``ext_price`` as Xero rounded it: 3 times 3.35 less 10 % is 9.045, Xero says 9.05; 1CRM's
    own rounding of the discount (1.01) would give 9.04."""
    from modules.onecrm.documents import priced_line

    own = priced_line(
        {"name": "W", "quantity": 3, "unit_price": 3.35, "discount_percentage": 10}, "l[1]"
    )
    kept = priced_line(
        {
            "name": "W",
            "quantity": 3,
            "unit_price": 3.35,
            "discount_percentage": 10,
            "ext_price": 9.05,
        },
        "l[1]",
    )
    assert (str(own.ext), str(own.discount)) == ("9.04", "1.01")
    assert (str(kept.ext), str(kept.discount), kept.discount_rate) == ("9.05", "1.00", None)
