"""Golden tests of §2.3 to 2.7: invoices, quotes and payments between 1CRM and Xero, through the
real service (1CRM webhooks → served ingress → worker path; Xero watch triggers polled)."""

from __future__ import annotations

import pytest

from engine.store import ExecutionStatus
from modules.connections import ApiSettings
from tests.scenarios.conftest import filtered, ops, output, retried_once, succeeded

LINES = [
    {"name": "Widget", "quantity": 2, "unit_price": 50, "tax_percentage": 15},
    {"name": "Consulting hour", "quantity": 3, "unit_price": 120, "tax_percentage": 0},
]


def customer(library, name="Harakeke Ltd"):
    """The same customer on both sides: a 1CRM account and a Xero contact."""
    account = library.crm("POST", "Account", {"name": name, "email1": "a@h.example"})
    (contact,) = library.xero_api("PUT", "Contacts", {"Name": name})["Contacts"]
    return account["id"], contact["ContactID"]


def xero_invoice(library, contact_id, reference="PO-7", status="AUTHORISED"):
    body = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "Date": "2026-03-01",
        "DueDate": "2026-03-31",
        "LineAmountTypes": "Exclusive",
        "Reference": reference,
        "Status": status,
        "LineItems": [
            {
                "Description": "Widget",
                "Quantity": 2,
                "UnitAmount": 50,
                "AccountCode": "200",
                "TaxType": "OUTPUT2",
            },
            {
                "Description": "Consulting hour",
                "Quantity": 3,
                "UnitAmount": 120,
                "AccountCode": "200",
                "TaxType": "NONE",
            },
        ],
    }
    (invoice,) = library.xero_api("PUT", "Invoices", {"Invoices": [body]})["Invoices"]
    return invoice


def test_2_3_invoice_created_in_1crm_becomes_a_xero_invoice_with_its_lines_and_taxes(library):
    account_id, contact_id = customer(library)
    scenario = library.load("2.3")
    invoice = library.crm_person(
        "Invoice",
        {
            "name": "March work",
            "billing_account_id": account_id,
            "due_date": "2026-03-31",
            "line_items": LINES,
        },
    )
    (execution,) = library.deliver(scenario)
    succeeded(execution)
    assert ops(execution, 5) == 1 and ops(execution, 6) == 1
    (created,) = library.xero_records("Invoices")
    assert created["Contact"]["ContactID"] == contact_id
    assert created["Status"] == "AUTHORISED" and created["Type"] == "ACCREC"
    assert [
        (line["Description"], line["Quantity"], line["UnitAmount"], line["TaxType"])
        for line in created["LineItems"]
    ] == [("Widget", 2, 50, "OUTPUT2"), ("Consulting hour", 3, 120, "NONE")]
    assert (created["SubTotal"], created["TotalTax"], created["Total"]) == (460, 15, 475)
    # The Integrated ID is written back to the 1CRM invoice.
    stored = library.crm("GET", f"Invoice/{invoice['id']}")["record"]
    assert stored["integrated_id"] == created["InvoiceID"]
    assert float(stored["amount"]) == created["Total"]


def test_2_3_invoice_of_an_account_xero_does_not_know_waits_for_its_contact(library):
    """It was filtered out ("Contact exists") and never sent; it waits for §2.1 now."""
    scenario = library.load("2.3")
    unknown = library.crm("POST", "Account", {"name": "Nobody Ltd"})
    library.crm_person(
        "Invoice",
        {
            "name": "Lost",
            "billing_account_id": unknown["id"],
            "line_items": LINES,
        },
    )
    (execution,) = library.deliver(scenario)
    assert execution.status is ExecutionStatus.WARNING, execution.error
    assert ops(execution, 5) == 0 and ops(execution, 6) == 0
    (waiting,) = library.service.list_incomplete(scenario_id=scenario)
    assert waiting.failed_module_id == 2 and "Nobody Ltd" in waiting.error["message"]
    assert library.xero_records("Invoices") == []


def test_2_5_quote_created_in_1crm_becomes_a_xero_quote(library):
    account_id, contact_id = customer(library)
    scenario = library.load("2.5")
    library.crm_person(
        "Quote",
        {
            "name": "Spring offer",
            "billing_account_id": account_id,
            "valid_until": "2026-04-30",
            "line_items": LINES,
        },
    )
    (execution,) = library.deliver(scenario)
    succeeded(execution)
    (quote,) = library.xero_records("Quotes")
    assert quote["Contact"]["ContactID"] == contact_id
    assert [line["TaxType"] for line in quote["LineItems"]] == ["OUTPUT2", "NONE"]
    assert quote["Total"] == 475
    assert module_ids(execution) == [1, 7, 2, 3, 4, 5]  # no Integrated ID write-back for quotes


@pytest.mark.parametrize(("section", "model"), [("2.3", "Invoice"), ("2.5", "Quote")])
def test_a_failing_currency_lookup_keeps_the_document_to_retry(library, section, model):
    """§2.3's and §2.5's currency lookup (1CRM Get a Record: Currency) had no error handler,
    unlike their other reads: a lookup 1CRM failed was left to Make's default handling (an
    incomplete execution retried by itself only for a connection, rate-limit or timeout
    error; any other error waited for a person). It is kept to retry with backoff (Break, 8
    attempts) as §3.13's is — the run ends with a warning — and the document reaches Xero once
    1CRM answers."""
    account_id, _ = customer(library)
    scenario = library.load(section)
    failing = 1 + ApiSettings.max_retries  # the lookup and the connector's resends
    library.onecrm.fault(
        status=500, count=failing, method="GET", path_prefix="/api.php/data/Currency"
    )
    library.crm_person(
        model, {"name": "Spring work", "billing_account_id": account_id, "line_items": LINES}
    )
    (failed,) = library.deliver(scenario)
    assert failed.status is ExecutionStatus.WARNING, failed.error
    (waiting,) = library.service.list_incomplete(scenario_id=scenario)
    assert library.service.get_scenario(scenario).active
    kind = "Invoices" if model == "Invoice" else "Quotes"
    assert library.xero_records(kind) == []

    library.onecrm.control("faults", method="DELETE")
    retried_once(library, scenario, waiting)
    (document,) = library.xero_records(kind)
    assert document["Total"] == 475


def module_ids(execution):
    return [m["id"] for m in execution.record["modules"]]


def test_2_4_invoice_created_in_xero_becomes_a_1crm_invoice(library):
    account_id, contact_id = customer(library)
    (stranger,) = library.xero_api("PUT", "Contacts", {"Name": "Stranger Ltd"})["Contacts"]
    scenario = library.load("2.4")
    library.service.choose_where_to_start(scenario, 1, {"type": "all"})
    invoice = xero_invoice(library, contact_id)
    xero_invoice(library, stranger["ContactID"])  # no such 1CRM account (yet): it waits
    xero_invoice(library, contact_id, reference="1CRM 2001")  # came from 1CRM: not sent back
    execution = library.poll(scenario)
    assert execution.status is ExecutionStatus.WARNING, execution.error
    assert ops(execution, 6) == 1 and filtered(execution, 4) == 1  # the one from 1CRM
    (waiting,) = library.service.list_incomplete(scenario_id=scenario)
    assert waiting.failed_module_id == 4 and "Stranger Ltd" in waiting.error["message"]
    (created,) = library.crm_records("Invoice")
    assert created["integrated_id"] == invoice["InvoiceID"]
    assert created["billing_account_id"] == account_id
    assert library.crm_lines("Invoice", created["id"]) == [
        ("Widget", 2, 50, 15),
        ("Consulting hour", 3, 120, 0),
    ]
    assert float(created["amount"]) == invoice["Total"] == 475

    # The invoice changes in Xero (a payment): it is not created a second time.
    library.xero.control("config", {"clock_offset_seconds": 5})
    library.xero_api(
        "PUT",
        "Payments",
        {
            "Invoice": {"InvoiceID": invoice["InvoiceID"]},
            "Account": {"Code": "090"},
            "Amount": 100,
            "Date": "2026-03-05",
        },
    )
    again = succeeded(library.poll(scenario))
    assert ops(again, 6) == 0 and filtered(again, 4) == 1
    assert len(library.crm_records("Invoice")) == 1


def test_2_6_payment_created_in_1crm_pays_the_synced_xero_invoice(library):
    account_id, contact_id = customer(library)
    paid = xero_invoice(library, contact_id)
    other = xero_invoice(library, contact_id, reference="PO-8")
    invoice = library.crm_person(
        "Invoice",
        {
            "name": "March work",
            "billing_account_id": account_id,
            "line_items": LINES,
            "integrated_id": paid["InvoiceID"],
        },
    )
    scenario = library.load("2.6")
    library.crm_person(
        "Payment",
        {
            "account_id": account_id,
            "amount": 200,
            "payment_date": "2026-03-10",
            "customer_reference": "DD-0310",
            "payment_method": "Bank Transfer",
            "related_invoices": [{"invoice_id": invoice["id"], "amount": 200}],
        },
    )
    (execution,) = library.deliver(scenario)
    succeeded(execution)
    (payment,) = library.xero_records("Payments")
    assert payment["Invoice"]["InvoiceID"] == paid["InvoiceID"]
    # The customer's reference, then §2.6's mark (§2.7 never brings a marked payment back).
    (mine,) = library.crm_records("Payment")
    assert (payment["Amount"], payment["Reference"]) == (200, f"DD-0310 [1CRM {mine['name']}]")
    assert payment["Date"].startswith("/Date(") or payment["Date"].startswith("2026-03-10")
    invoices = {i["InvoiceID"]: i for i in library.xero_records("Invoices")}
    assert invoices[paid["InvoiceID"]]["AmountDue"] == 275
    assert invoices[other["InvoiceID"]]["AmountDue"] == 475

    # A payment of an invoice not synced to Xero (yet) waits for its Integrated ID: it was
    # filtered, and dropped when the invoice's own sync had not written it back yet.
    local = library.crm_person(
        "Invoice",
        {
            "name": "Local only",
            "billing_account_id": account_id,
            "line_items": LINES,
        },
    )
    library.crm_person(
        "Payment",
        {
            "account_id": account_id,
            "amount": 50,
            "payment_date": "2026-03-11",
            "related_invoices": [{"invoice_id": local["id"], "amount": 50}],
        },
    )
    (blocked,) = library.deliver(scenario)
    assert blocked.status is ExecutionStatus.WARNING, blocked.error
    (waiting,) = library.service.list_incomplete(scenario_id=scenario)
    assert waiting.failed_module_id == 43 and "has no integrated_id" in waiting.error["message"]
    assert len(library.xero_records("Payments")) == 1


def test_2_7_payment_created_in_xero_becomes_a_1crm_payment_of_the_right_invoice(library):
    account_id, contact_id = customer(library)
    invoice = xero_invoice(library, contact_id)
    other = xero_invoice(library, contact_id, reference="PO-8")
    mine = library.crm_person(
        "Invoice",
        {
            "name": "March work",
            "billing_account_id": account_id,
            "line_items": LINES,
            "integrated_id": invoice["InvoiceID"],
        },
    )
    library.crm_person(
        "Invoice",
        {
            "name": "Other",
            "billing_account_id": account_id,
            "line_items": LINES,
            "integrated_id": other["InvoiceID"],
        },
    )
    scenario = library.load("2.7")
    library.service.choose_where_to_start(scenario, 1, {"type": "all"})
    library.xero_api(
        "PUT",
        "Payments",
        {
            "Invoice": {"InvoiceID": invoice["InvoiceID"]},
            "Account": {"Code": "090"},
            "Amount": 120.5,
            "Date": "2026-03-12",
            "Reference": "EFT-12",
        },
    )
    execution = succeeded(library.poll(scenario))
    assert ops(execution, 4) == 1
    (payment,) = library.crm_records("Payment")
    assert payment["account_id"] == account_id and payment["amount"] == "120.5"
    assert (payment["customer_reference"], payment["direction"]) == ("EFT-12", "incoming")
    assert library.crm_allocations(payment["id"]) == [(mine["id"], 120.5)]
    assert output(execution, 4)[0]["id"] == payment["id"]
    stored = library.crm("GET", f"Invoice/{mine['id']}")["record"]
    assert float(stored["amount_due"]) == 475 - 120.5

    again = succeeded(library.poll(scenario))
    assert ops(again, 4) == 0 and len(library.crm_records("Payment")) == 1


def test_golden_a_late_1crm_quote_event_never_sends_its_older_values_to_xero(library):
    """§2.12's line-edit route took the expiry, title and currency rate from the webhook
    bundle: an event handled after a later edit (a late or out-of-order 1CRM event) sent the
    older values to Xero, which then held them until the next edit's event came in — or for
    good, if that one came first. It now writes the quote as 1CRM has it now (the Get a Record
    its status route already read), so every update carries the latest values."""
    account_id, _ = customer(library)
    sends, edits = library.load("2.5"), library.load("2.12")
    quote = library.crm_person(
        "Quote",
        {
            "name": "Spring offer",
            "billing_account_id": account_id,
            "valid_until": "2026-04-30",
            "line_items": LINES,
        },
    )
    succeeded(*library.deliver(sends))
    library.deliver(edits)  # 1CRM's create event is not §2.12's
    library.crm_edit("Quote", quote["id"], {"name": "Spring offer v2", "valid_until": "2026-05-31"})
    library.crm_edit("Quote", quote["id"], {"name": "Spring offer v3", "valid_until": "2026-06-30"})
    older, newer = library.deliver(edits)  # the older event is handled after the newer edit
    succeeded(older), succeeded(newer)
    updates = [
        r["json"]
        for r in library.xero.state()["requests"]
        if r["method"] == "POST" and r["path"].startswith("/api.xro/2.0/Quotes") and r["json"]
    ]
    sent = [(q.get("Title"), q.get("ExpiryDate")) for body in updates for q in body["Quotes"]]
    assert sent and all(title == "Spring offer v3" for title, _ in sent), sent
    assert all(str(expiry).startswith("2026-06-30") for _, expiry in sent), sent
    (xero_quote,) = library.xero_records("Quotes")
    assert xero_quote["Title"] == "Spring offer v3"
