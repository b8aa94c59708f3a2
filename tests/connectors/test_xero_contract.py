"""Contract: every endpoint the Xero modules and connection use, driven once through the
connector against the sandbox, and each request and answer validated against Xero's own
OpenAPI file (``tests/contracts/xero_openapi.py``); the sandbox's webhook bodies against
``xero-webhooks.yaml``."""

from __future__ import annotations

import re

import pytest
from werkzeug.wrappers import Request, Response

from modules.xero import XERO_MODULES
from modules.xero import sandbox as xero_sandbox
from modules.xero.connection import check_connection
from tests.contracts import xero_openapi
from tests.contracts.xero_openapi import ExchangeTap, exchange_problems, webhook_problems

from .conftest import Sandbox, connect_xero, node, outputs

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

ENDPOINTS = {
    "GET /Contacts",
    "GET /Contacts/{id}",
    "PUT /Contacts",
    "POST /Contacts/{id}",
    "GET /Invoices",
    "PUT /Invoices",
    "POST /Invoices/{id}",
    "PUT /Quotes",
    "GET /Quotes",
    "GET /Quotes/{id}",
    "POST /Quotes/{id}",
    "GET /Payments",
    "PUT /Payments",
    "GET /Payments/{id}",
    "POST /Payments/{id}",
    "GET /CreditNotes",
    "GET /CreditNotes/{id}",
    "PUT /CreditNotes",
    "PUT /CreditNotes/{id}/Allocations",
    "DELETE /CreditNotes/{id}/Allocations/{id}",
    "POST /CreditNotes/{id}",
    "GET /Items",
    "GET /Items/{id}",
    "PUT /Items",
    "POST /Items/{id}",
    "GET /Overpayments",
    "GET /Overpayments/{id}",
    "PUT /Overpayments/{id}/Allocations",
    "GET /Organisation",
    "GET /TaxRates",
}
"""Every accounting endpoint a Xero module or the connection's test calls."""


def endpoint(exchange):
    return f"{exchange.method} {GUID.sub('{id}', exchange.path.removeprefix('/api.xro/2.0'))}"


@pytest.fixture
def tapped(serve, http, store, registry):
    """A sandbox with a tap of its own, and a connection to it."""
    tap = ExchangeTap(xero_sandbox.create_app())
    sandbox = Sandbox(serve(tap), http)
    return tap, sandbox, connect_xero(store, registry, http, sandbox)


def run(runner, connection, module, mapper=None, **parameters):
    record = runner.one(module, mapper, {"__IMTCONN__": connection.id, **parameters})
    assert record.status == "success", (module, record.error)
    return outputs(record, 1)


def drive_every_module(runner, sandbox, connection, resolver):
    """Each module once (every watch from the start), in an order that gives each its input."""
    used = set()

    def call(module, mapper=None, **parameters):
        used.add(module)
        return run(runner, connection, module, mapper, **parameters)

    (contact,) = call("xero:CreateContact", {"Name": "Contract Ltd", "ContactNumber": "1CRM-1"})
    cid = contact["ContactID"]
    call("xero:UpdateContact", {"ContactID": cid, "EmailAddress": "c@contract.example"})
    call("xero:GetContact", {"ContactID": cid})
    call("xero:SearchContacts", {"filter": [{"field": "ContactNumber", "value": "1CRM-1"}]})
    lines = [{"Description": "Work", "Quantity": 2, "UnitAmount": 50, "TaxType": "OUTPUT2"}]
    invoice_fields = {"ContactID": cid, "Status": "AUTHORISED", "LineItems": lines}
    (invoice,) = call("xero:CreateInvoice", {**invoice_fields, "DueDate": "2026-05-31"})
    call("xero:UpdateInvoice", {"InvoiceID": invoice["InvoiceID"], "Reference": "PO-1"})
    call("xero:SearchInvoice", {"Statuses": ["AUTHORISED"], "ContactIDs": [cid]})
    (quote,) = call(
        "xero:CreateQuote", {"ContactID": cid, "LineAmountTypes": "Exclusive", "LineItems": lines}
    )
    call("xero:GetQuote", {"QuoteID": quote["QuoteID"]})
    call("xero:UpdateQuote", {"QuoteID": quote["QuoteID"], "Status": "SENT"})
    call("xero:SearchQuotes", {"ContactID": cid, "Status": "SENT", "DateFrom": "2020-01-01"})
    call("xero:SearchTaxRates", {"TaxType": "OUTPUT2"})
    (payment,) = call(
        "xero:CreatePayment", {"InvoiceID": invoice["InvoiceID"], "AccountCode": "090", "Amount": 5}
    )
    call("xero:GetPayment", {"PaymentID": payment["PaymentID"]})
    call("xero:DeletePayment", {"PaymentID": payment["PaymentID"]})
    call(
        "xero:CreatePayment", {"InvoiceID": invoice["InvoiceID"], "AccountCode": "090", "Amount": 5}
    )
    (note,) = call(
        "xero:CreateCreditNote",
        {"ContactID": cid, "Status": "AUTHORISED", "LineItems": lines[:1]},
    )
    call("xero:GetCreditNote", {"CreditNoteID": note["CreditNoteID"]})
    call("xero:SearchCreditNotes", {"where": 'Status=="AUTHORISED"'})
    (allocation,) = call(
        "xero:AllocateCreditNote",
        {"CreditNoteID": note["CreditNoteID"], "InvoiceID": invoice["InvoiceID"], "Amount": 10},
    )
    call(
        "xero:DeleteCreditNoteAllocation",
        {"CreditNoteID": note["CreditNoteID"], "AllocationID": allocation["AllocationID"]},
    )
    call("xero:UpdateCreditNote", {"CreditNoteID": note["CreditNoteID"], "Status": "VOIDED"})
    item_details = {"UnitPrice": 9.5, "AccountCode": "200", "TaxType": "OUTPUT2"}
    (item,) = call(
        "xero:CreateItem", {"Code": "C-1", "Name": "Thing", "SalesDetails": item_details}
    )
    call("xero:UpdateItem", {"ItemID": item["ItemID"], "Code": "C-1", "Name": "Thing 2"})
    call("xero:GetItem", {"ItemID": item["ItemID"]})
    call("xero:SearchItems", {"Code": "C-1", "filter": [{"field": "Name", "value": "Thing 2"}]})
    sandbox.control(
        "seed",
        {
            "tenants": [
                {
                    "tenantId": connection.data["tenant_id"],
                    "Overpayments": [
                        {
                            "Type": "RECEIVE-OVERPAYMENT",
                            "Contact": {"ContactID": cid},
                            "LineAmountTypes": "NoTax",
                            "LineItems": [{"Description": "Twice", "LineAmount": 20}],
                        }
                    ],
                }
            ]
        },
    )
    (over,) = call("xero:SearchOverpayments", {"where": 'Status=="AUTHORISED"'})
    call("xero:GetOverpayment", {"OverpaymentID": over["OverpaymentID"]})
    call(
        "xero:AllocateOverpayment",
        {"OverpaymentID": over["OverpaymentID"], "InvoiceID": invoice["InvoiceID"], "Amount": 5},
    )
    for resource in (
        "Contacts",
        "Invoices",
        "Quotes",
        "Payments",
        "CreditNotes",
        "Items",
        "Overpayments",
    ):
        module = f"xero:Watch{resource}"
        used.add(module)
        record = runner.run(
            [node(1, module, parameters={"__IMTCONN__": connection.id, "start": "all"})]
        )
        assert record.status == "success", (module, record.error)
    check_connection(resolver.get(connection.id), runner.http)
    return used


def test_every_request_and_answer_of_every_module_conforms_to_xeros_spec(tapped, runner, resolver):
    tap, sandbox, connection = tapped
    used = drive_every_module(runner, sandbox, connection, resolver)
    instant = {spec.id for spec in XERO_MODULES if spec.kind.value == "instant_trigger"}
    assert used == {spec.id for spec in XERO_MODULES} - instant
    assert {endpoint(e) for e in tap.exchanges} == ENDPOINTS
    assert exchange_problems(tap.exchanges) == []


def test_the_contract_check_catches_a_request_xero_would_refuse(tapped, http):
    """The validator is live: a request body and an answer outside the spec are reported."""
    tap, sandbox, connection = tapped
    headers = {
        "Authorization": f"Bearer {connection.secrets['access_token']}",
        "xero-tenant-id": connection.data["tenant_id"],
    }
    http.put(
        f"{sandbox.url}/api.xro/2.0/Invoices",
        json={"Invoices": [{"Type": "INVOICE", "LineItems": "none"}]},
        headers=headers,
    )
    (problem,) = exchange_problems(tap.exchanges)
    assert problem.startswith("request PUT /api.xro/2.0/Invoices") and "INVOICE" in problem


def test_webhook_bodies_the_sandbox_sends_conform_to_the_webhooks_spec(tapped, runner, serve, http):
    _, sandbox, connection = tapped
    received = []

    def receiver(environ, start_response):
        received.append(Request(environ).get_json())
        return Response(b"")(environ, start_response)

    sandbox.control("config", {"webhook_url": serve(receiver) + "/x", "webhook_key": "k"})
    (contact,) = run(runner, connection, "xero:CreateContact", {"Name": "Hook Ltd"})
    lines = [{"Description": "Work", "Quantity": 1, "UnitAmount": 10}]
    run(
        runner,
        connection,
        "xero:CreateInvoice",
        {"ContactID": contact["ContactID"], "LineItems": lines},
    )
    run(
        runner,
        connection,
        "xero:CreateCreditNote",
        {"ContactID": contact["ContactID"], "LineItems": lines},
    )
    sandbox.flush_webhooks()
    categories = [event["eventCategory"] for body in received for event in body["events"]]
    assert categories == ["CONTACT", "INVOICE", "CREDITNOTE"]
    assert {
        repr(body["events"][0]["eventCategory"]): webhook_problems(body) for body in received
    } == {
        "'CONTACT'": [],
        "'INVOICE'": [],
        "'CREDITNOTE'": [],
    }
    wrong = {**received[-1], "events": [{**received[-1]["events"][0], "data": {"Type": "X"}}]}
    assert webhook_problems(wrong)


def test_the_contract_fails_loudly_without_the_vendor_pack(monkeypatch, tmp_path):
    monkeypatch.setattr(xero_openapi, "WEBHOOKS", tmp_path / "missing.yaml")
    xero_openapi._webhook_validators.cache_clear()
    try:
        with pytest.raises(xero_openapi.VendorSpecMissing, match="vendor pack"):
            webhook_problems({"events": []})
    finally:
        xero_openapi._webhook_validators.cache_clear()
