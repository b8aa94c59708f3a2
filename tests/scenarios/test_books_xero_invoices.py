"""#20: §2.4 (Xero → 1CRM invoices) and §2.3 (1CRM → Xero invoices) keep the books balanced:
tax-inclusive amounts are taxed once, discounts and flat taxes are kept, currencies mapped,
drafts wait for approval, an invoice whose customer is not in 1CRM yet waits and is retried.
Reconcile (``modules/reconcile``) is the judge: no invoice differs."""

from __future__ import annotations

from datetime import timedelta

from engine.store import ExecutionStatus, IncompleteStatus, TriggerKind, utc_now
from tests.scenarios.conftest import ops, succeeded
from tests.scenarios.test_xero_documents import customer


def invoice_differences(library):
    return [d for d in library.differences("xero") if d.kind == "invoice"]


def xero_invoice(library, contact_id, lines, amount_types="Exclusive", status="AUTHORISED", **more):
    body = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "Date": "2026-03-01",
        "DueDate": "2026-03-31",
        "LineAmountTypes": amount_types,
        "Status": status,
        "LineItems": [{"AccountCode": "200", **line} for line in lines],
        **more,
    }
    (invoice,) = library.xero_api("PUT", "Invoices", {"Invoices": [body]})["Invoices"]
    return invoice


def watching(library):
    scenario = library.load("2.4")
    library.service.choose_where_to_start(scenario, 1, {"type": "all"})
    return scenario


def only_crm_invoice(library):
    (created,) = library.crm_records("Invoice")
    return library.crm("GET", f"Invoice/{created['id']}")["record"]


def test_2_4_a_tax_inclusive_invoice_is_taxed_once(library):
    _, contact_id = customer(library)
    scenario = watching(library)
    lines = [
        {"Description": "Widget", "Quantity": 2, "UnitAmount": 57.5, "TaxType": "OUTPUT2"},
        {"Description": "Odd", "Quantity": 3, "UnitAmount": 9.99, "TaxType": "OUTPUT2"},
        {"Description": "Advice", "Quantity": 1, "UnitAmount": 40, "TaxType": "NONE"},
    ]
    invoice = xero_invoice(library, contact_id, lines, "Inclusive")
    assert invoice["Total"] == 184.97
    succeeded(library.poll(scenario))
    stored = only_crm_invoice(library)
    assert float(stored["amount"]) == 184.97  # not 115 + 15 % again
    assert float(stored["total_tax"]) == invoice["TotalTax"]
    assert invoice_differences(library) == []


def test_2_4_discounts_and_currency_are_kept(library):
    _, contact_id = customer(library)
    scenario = watching(library)
    lines = [
        {
            "Description": "Widget",
            "Quantity": 3,
            "UnitAmount": 3.35,
            "DiscountRate": 10,
            "TaxType": "OUTPUT2",
        },
        {
            "Description": "Advice",
            "Quantity": 1,
            "UnitAmount": 100,
            "DiscountRate": 25,
            "TaxType": "NONE",
        },
    ]
    library.xero.control("config", {"currencies": ["USD"]})
    invoice = xero_invoice(library, contact_id, lines, CurrencyCode="USD", CurrencyRate=0.6)
    succeeded(library.poll(scenario))
    stored = only_crm_invoice(library)
    assert float(stored["amount"]) == invoice["Total"]
    assert float(stored["total_discount"]) > 0
    assert invoice_differences(library) == []


def test_2_4_a_draft_waits_until_it_is_approved(library):
    _, contact_id = customer(library)
    scenario = watching(library)
    lines = [{"Description": "Widget", "Quantity": 1, "UnitAmount": 10, "TaxType": "OUTPUT2"}]
    draft = xero_invoice(library, contact_id, lines, status="DRAFT")
    execution = succeeded(library.poll(scenario))
    assert ops(execution, 6) == 0 and library.crm_records("Invoice") == []
    library.xero.control("config", {"clock_offset_seconds": 5})
    library.xero_api(
        "POST", f"Invoices/{draft['InvoiceID']}", {"Invoices": [{"Status": "AUTHORISED"}]}
    )
    succeeded(library.poll(scenario))
    assert only_crm_invoice(library)["integrated_id"] == draft["InvoiceID"]
    assert invoice_differences(library) == []


def test_2_4_an_invoice_whose_customer_is_not_in_1crm_yet_waits_and_is_retried(library):
    (contact,) = library.xero_api("PUT", "Contacts", {"Name": "Kōwhai Ltd"})["Contacts"]
    _, contact_id = customer(library)
    scenario = watching(library)
    lines = [{"Description": "Widget", "Quantity": 1, "UnitAmount": 10, "TaxType": "OUTPUT2"}]
    waiting = xero_invoice(library, contact["ContactID"], lines)  # like INV-0113
    later = xero_invoice(library, contact_id, lines)
    first = library.poll(scenario)
    assert first.status is ExecutionStatus.WARNING, first.error
    (created,) = library.crm_records("Invoice")
    assert created["integrated_id"] == later["InvoiceID"]  # the one after it did not wait
    (incomplete,) = library.service.list_incomplete(scenario_id=scenario)
    assert library.service.get_scenario(scenario).active

    library.crm("POST", "Account", {"name": "Kōwhai Ltd"})  # §2.2 synced the contact
    report = library.service.tick(now=utc_now() + timedelta(minutes=2))
    assert report.retried == [incomplete.id]
    (retry,) = [
        e
        for e in library.service.list_executions(scenario_id=scenario).items
        if e.trigger_kind is TriggerKind.RETRY
    ]
    assert library.service.execute(retry.id).status is ExecutionStatus.SUCCESS
    assert library.service.get_incomplete(incomplete.id).status is IncompleteStatus.RESOLVED
    assert sorted(i["integrated_id"] for i in library.crm_records("Invoice")) == sorted(
        [waiting["InvoiceID"], later["InvoiceID"]]
    )
    assert invoice_differences(library) == []


def currency_id(library, code):
    return next(c["id"] for c in library.crm_records("Currency") if c["iso4217"] == code)


def sent_to_xero(library, data):
    account_id, _ = customer(library)
    scenario = library.load("2.3")
    library.crm_person("Invoice", {"billing_account_id": account_id, **data})
    (execution,) = library.deliver(scenario)
    succeeded(execution)
    (created,) = library.xero_records("Invoices")
    return created


def test_2_3_a_flat_tax_amount_stays_that_amount(library):
    lines = [
        {"name": "Freight", "quantity": 1, "unit_price": 300, "tax_amount": 15},
        {
            "name": "Odd",
            "quantity": 3,
            "unit_price": 3.35,
            "discount_percentage": 10,
            "tax_percentage": 15,
        },
    ]
    created = sent_to_xero(
        library,
        {
            "name": "Flat",
            "invoice_date": "2026-03-02",
            "due_date": "2026-03-30",
            "line_items": lines,
        },
    )
    (stored,) = library.crm_records("Invoice")
    assert created["Total"] == float(stored["amount"])  # 1CRM 315 + the odd line, not 325 + …
    assert created["LineItems"][0]["TaxAmount"] == 15
    assert invoice_differences(library) == []


def test_2_3_the_currency_and_its_rate_are_sent(library):
    library.xero.control("config", {"currencies": ["USD"]})
    lines = [{"name": "Widget", "quantity": 2, "unit_price": 50, "tax_percentage": 15}]
    created = sent_to_xero(
        library,
        {
            "name": "Dollars",
            "invoice_date": "2026-03-02",
            "due_date": "2026-03-30",
            "currency_id": currency_id(library, "USD"),
            "exchange_rate": 0.6,
            "line_items": lines,
        },
    )
    assert (created["CurrencyCode"], created["CurrencyRate"]) == ("USD", 0.6)
    assert invoice_differences(library) == []


def test_2_3_an_invoice_without_due_date_is_due_on_its_date(library):
    lines = [{"name": "Widget", "quantity": 2, "unit_price": 50, "tax_percentage": 15}]
    created = sent_to_xero(
        library, {"name": "Undated", "invoice_date": "2026-03-02", "line_items": lines}
    )
    assert created["Status"] == "AUTHORISED"
    assert created["DueDate"].startswith("2026-03-02") or "/Date(" in created["DueDate"]
    (stored,) = library.crm_records("Invoice")
    assert str(stored["due_date"]).startswith("2026-03-02")
    assert invoice_differences(library) == []


def test_2_4_an_invoice_voided_in_xero_is_cancelled_in_1crm(library):
    _, contact_id = customer(library)
    scenario = watching(library)
    lines = [{"Description": "Widget", "Quantity": 1, "UnitAmount": 10, "TaxType": "OUTPUT2"}]
    invoice = xero_invoice(library, contact_id, lines)
    succeeded(library.poll(scenario))
    library.xero.control("config", {"clock_offset_seconds": 5})
    library.xero_api(
        "POST", f"Invoices/{invoice['InvoiceID']}", {"Invoices": [{"Status": "VOIDED"}]}
    )
    execution = succeeded(library.poll(scenario))
    assert ops(execution, 12) == 1
    stored = only_crm_invoice(library)
    assert stored["cancelled"] in (True, 1, "1") and float(stored["amount_due"]) == 0
    assert invoice_differences(library) == []


def test_2_5_a_quote_s_flat_tax_and_currency_reach_xero_as_for_invoices(library):
    account_id, _ = customer(library)
    library.xero.control("config", {"currencies": ["USD"]})
    scenario = library.load("2.5")
    lines = [{"name": "Freight", "quantity": 1, "unit_price": 300, "tax_amount": 15}]
    library.crm_person(
        "Quote",
        {
            "name": "Offer",
            "billing_account_id": account_id,
            "valid_until": "2026-04-30",
            "currency_id": currency_id(library, "USD"),
            "line_items": lines,
        },
    )
    (execution,) = library.deliver(scenario)
    succeeded(execution)
    (quote,) = library.xero_records("Quotes")
    assert (quote["Total"], quote["CurrencyCode"]) == (315, "USD")
