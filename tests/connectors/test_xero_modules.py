"""Xero modules against the running Xero sandbox, over real HTTP, through ``run_scenario``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from .conftest import node, outputs

SMALL = "small"


def conn(connection):
    return {"__IMTCONN__": connection.id}


def test_create_get_update_and_search_contacts(runner, xero, xero_connection):
    created = runner.one(
        "xero:CreateContact",
        {
            "Name": "Kiwi Widgets Ltd",
            "EmailAddress": "hi@kiwi.example",
            "FirstName": "",
            "Addresses": [{"AddressType": "POBOX", "City": "Wellington"}],
        },
        conn(xero_connection),
    )
    assert created.status == "success", created.error
    contact = outputs(created, 1)[0]
    assert contact["Name"] == "Kiwi Widgets Ltd"
    assert contact["UpdatedDateUTC"].endswith("Z")  # /Date(…)/ became ISO
    assert (
        "FirstName"
        not in json.loads(xero.requests_to("/api.xro/2.0/Contacts", "PUT")[0]["body"])["Contacts"][
            0
        ]
    )

    updated = runner.one(
        "xero:UpdateContact",
        {"ContactID": contact["ContactID"], "EmailAddress": "new@kiwi.example"},
        conn(xero_connection),
    )
    assert outputs(updated, 1)[0]["EmailAddress"] == "new@kiwi.example"
    assert outputs(updated, 1)[0]["Name"] == "Kiwi Widgets Ltd"

    got = runner.one("xero:GetContact", {"ContactID": contact["ContactID"]}, conn(xero_connection))
    assert outputs(got, 1)[0]["EmailAddress"] == "new@kiwi.example"

    by_field = runner.one(
        "xero:SearchContacts",
        {
            "searchBy": "field",
            "filter": [[{"field": "Name", "operator": "equals", "value": "Kiwi Widgets Ltd"}]],
        },
        {**conn(xero_connection), "limit": 1},
    )
    found = outputs(by_field, 1)
    assert [c["ContactID"] for c in found] == [contact["ContactID"]]
    assert found[0]["__IMTLENGTH__"] == 1
    where = xero.requests_to("/api.xro/2.0/Contacts", "GET")[-1]["query"]["where"][0]
    assert where == 'Name=="Kiwi Widgets Ltd"'

    by_term = runner.one(
        "xero:SearchContacts", {"searchBy": "term", "term": "kiwi"}, conn(xero_connection)
    )
    assert len(outputs(by_term, 1)) == 1


def test_quotes_in_names_are_escaped_in_where(runner, xero, xero_connection):
    runner.one("xero:CreateContact", {"Name": 'The "Best" Co'}, conn(xero_connection))
    found = runner.one(
        "xero:SearchContacts",
        {"filter": [{"field": "Name", "operator": "equals", "value": 'The "Best" Co'}]},
        conn(xero_connection),
    )
    assert [c["Name"] for c in outputs(found, 1)] == ['The "Best" Co']


def test_where_strings_are_written_as_xero_reads_them(runner, xero, xero_connection):
    """A quote doubled, a backslash and a macron sent as they are: ``json.dumps`` sent
    ``\\"`` (which ends Xero's string) and ``\\u014c`` (six characters to Xero, so a name
    with a macron was never found)."""
    name = 'Tui "Kea" \\ Ōtautahi'
    runner.one("xero:CreateContact", {"Name": name}, conn(xero_connection))
    found = runner.one(
        "xero:SearchContacts",
        {"filter": [{"field": "Name", "operator": "equals", "value": name}]},
        conn(xero_connection),
    )
    assert [c["Name"] for c in outputs(found, 1)] == [name]
    where = xero.requests_to("/api.xro/2.0/Contacts", "GET")[-1]["query"]["where"][0]
    assert where == 'Name=="Tui ""Kea"" \\ Ōtautahi"'


def test_search_without_results_continues_only_when_asked(runner, xero_connection):
    flow = [
        node(
            1,
            "xero:SearchContacts",
            {"filter": [{"field": "Name", "operator": "equals", "value": "Nobody"}]},
            {**conn(xero_connection), "continueWhenNoRes": True},
        ),
        node(2, "util:SetVariable2", {"name": "seen", "value": '{{ifempty(1.ContactID; "none")}}'}),
    ]
    record = runner.run(flow)
    assert record.status == "success", record.error
    assert record.modules[2].operations == 1


def test_create_invoice_with_line_items_then_update_and_search(runner, xero, xero_connection):
    contact = outputs(
        runner.one("xero:CreateContact", {"Name": "Tui Traders"}, conn(xero_connection)), 1
    )[0]
    created = runner.one(
        "xero:CreateInvoice",
        {
            "Type": "ACCREC",
            "ContactID": contact["ContactID"],
            "Date": "2026-03-01",
            "DueDate": "2026-03-31",
            "Status": "AUTHORISED",
            "Reference": "1CRM-42",
            "LineItems": [
                {
                    "Description": "Widget",
                    "Quantity": 2,
                    "UnitAmount": 50,
                    "AccountCode": "200",
                    "TaxType": "OUTPUT2",
                },
                {"Description": "Service", "Quantity": 1, "UnitAmount": 100, "AccountCode": "200"},
            ],
        },
        conn(xero_connection),
    )
    assert created.status == "success", created.error
    invoice = outputs(created, 1)[0]
    assert invoice["Total"] == 230.0
    assert invoice["Contact"]["ContactID"] == contact["ContactID"]
    assert invoice["Date"].startswith("2026-03-01T")

    updated = runner.one(
        "xero:UpdateInvoice",
        {"InvoiceID": invoice["InvoiceID"], "Reference": "1CRM-43"},
        conn(xero_connection),
    )
    assert outputs(updated, 1)[0]["Reference"] == "1CRM-43"

    searched = runner.one(
        "xero:SearchInvoice",
        {"Statuses": ["AUTHORISED"], "ContactIDs": [contact["ContactID"]]},
        conn(xero_connection),
    )
    found = outputs(searched, 1)
    assert [i["InvoiceID"] for i in found] == [invoice["InvoiceID"]]
    assert len(found[0]["LineItems"]) == 2  # paged lists carry line items

    paid = runner.one(
        "xero:CreatePayment",
        {
            "InvoiceID": invoice["InvoiceID"],
            "AccountCode": "090",
            "Amount": 30,
            "Date": "2026-03-05",
            "Reference": "pay-1",
        },
        conn(xero_connection),
    )
    assert paid.status == "success", paid.error
    payment = outputs(paid, 1)[0]
    assert payment["Amount"] == 30.0 and payment["Invoice"]["InvoiceID"] == invoice["InvoiceID"]


def test_create_quote(runner, xero_connection):
    contact = outputs(
        runner.one("xero:CreateContact", {"Name": "Kea Kitchens"}, conn(xero_connection)), 1
    )[0]
    record = runner.one(
        "xero:CreateQuote",
        {
            "ContactID": contact["ContactID"],
            "Date": datetime(2026, 3, 1, tzinfo=UTC).isoformat(),
            "ExpiryDate": "2026-04-01",
            "Title": "Kitchen",
            "LineItems": [
                {"Description": "Bench", "Quantity": 1, "UnitAmount": 900, "AccountCode": "200"}
            ],
        },
        conn(xero_connection),
    )
    assert record.status == "success", record.error
    quote = outputs(record, 1)[0]
    assert quote["QuoteNumber"].startswith("QU-") and quote["SubTotal"] == 900.0


def test_validation_error_is_shown_verbatim_in_the_run_error(runner, xero_connection):
    runner.one("xero:CreateContact", {"Name": "Dupe Ltd"}, conn(xero_connection))
    record = runner.one("xero:CreateContact", {"Name": "Dupe Ltd"}, conn(xero_connection))
    assert record.status == "error"
    assert record.error["type"] == "DataError"
    assert record.error["message"].endswith(
        "The contact name Dupe Ltd is already assigned to another contact. The contact name "
        "must be unique across all active contacts."
    )


def test_watch_contacts_from_now_on_then_only_changes(runner, xero, xero_connection):
    runner.one("xero:CreateContact", {"Name": "Before Watching"}, conn(xero_connection))
    watch = [node(1, "xero:WatchContacts", parameters={**conn(xero_connection), "start": "now"})]
    first = runner.run(watch)
    assert first.status == "success" and outputs(first, 1) == []
    assert 1 in runner.cursors

    runner.one("xero:CreateContact", {"Name": "After Watching"}, conn(xero_connection))
    second = runner.run(watch)
    assert [c["Name"] for c in outputs(second, 1)] == ["After Watching"]
    sent = xero.requests_to("/api.xro/2.0/Contacts", "GET")[-1]
    assert sent["headers"]["If-Modified-Since"]
    assert runner.run(watch).modules[1].bundles_out == 0  # the cursor moved past it


def test_watch_all_and_since_a_date_with_limit(runner, xero, xero_connection):
    for name in ("A Ltd", "B Ltd", "C Ltd"):
        runner.one("xero:CreateContact", {"Name": name}, conn(xero_connection))
    every = runner.run(
        [
            node(
                1,
                "xero:WatchContacts",
                parameters={**conn(xero_connection), "start": "all", "limit": 2},
            )
        ]
    )
    assert [c["Name"] for c in outputs(every, 1)] == ["A Ltd", "B Ltd"]
    rest = runner.run(
        [
            node(
                1,
                "xero:WatchContacts",
                parameters={**conn(xero_connection), "start": "all", "limit": 2},
            )
        ]
    )
    assert [c["Name"] for c in outputs(rest, 1)] == ["C Ltd"]

    runner.cursors.clear()
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    since = runner.run(
        [
            node(
                1,
                "xero:WatchContacts",
                parameters={**conn(xero_connection), "start": "date", "startDate": future},
            )
        ]
    )
    assert outputs(since, 1) == []


def test_watch_invoices_and_payments(runner, xero_connection):
    contact = outputs(
        runner.one("xero:CreateContact", {"Name": "Moa Motors"}, conn(xero_connection)), 1
    )[0]
    invoice = outputs(
        runner.one(
            "xero:CreateInvoice",
            {
                "ContactID": contact["ContactID"],
                "Status": "AUTHORISED",
                "DueDate": "2026-04-30",
                "LineItems": [
                    {"Description": "Tyres", "Quantity": 4, "UnitAmount": 100, "AccountCode": "200"}
                ],
            },
            conn(xero_connection),
        ),
        1,
    )[0]
    runner.one(
        "xero:CreatePayment",
        {"InvoiceID": invoice["InvoiceID"], "AccountCode": "090", "Amount": 100},
        conn(xero_connection),
    )
    invoices = runner.run(
        [node(1, "xero:WatchInvoices", parameters={**conn(xero_connection), "start": "all"})]
    )
    assert [i["InvoiceID"] for i in outputs(invoices, 1)] == [invoice["InvoiceID"]]
    assert outputs(invoices, 1)[0]["LineItems"][0]["Description"] == "Tyres"
    payments = runner.run(
        [node(2, "xero:WatchPayments", parameters={**conn(xero_connection), "start": "all"})]
    )
    assert [p["Amount"] for p in outputs(payments, 2)] == [100.0]


def test_tenant_can_be_overridden_per_module(runner, xero_connection):
    record = runner.one(
        "xero:CreateContact",
        {"Name": "X", "tenantId": "00000000-0000-0000-0000-000000000000"},
        conn(xero_connection),
    )
    assert record.status == "error"
    assert record.error["type"] == "AccountValidationError"


def test_invoice_type_names_and_secrets_stay_out_of_the_record(runner, xero_connection, store):
    contact = outputs(
        runner.one("xero:CreateContact", {"Name": "Ruru Rentals"}, conn(xero_connection)), 1
    )[0]
    record = runner.one(
        "xero:CreateInvoice",
        {
            "Type": "bill",
            "ContactID": contact["ContactID"],
            "LineItems": [
                {"Description": "Rent", "Quantity": 1, "UnitAmount": 10, "AccountCode": "429"}
            ],
        },
        conn(xero_connection),
    )
    assert outputs(record, 1)[0]["Type"] == "ACCPAY"
    dumped = json.dumps(record.to_dict(), default=str)
    secrets = store.get_connection(xero_connection.id).secrets
    for name in ("access_token", "refresh_token", "client_secret"):
        assert str(secrets[name]) not in dumped
