"""#20: the QuickBooks library keeps the books balanced: §3.3 maps zero-rated lines, discounts
and the currency; §3.4 takes tax-inclusive amounts and discounts as QuickBooks computed them
and waits for a customer 1CRM does not have yet; §3.6/§3.7 never send a payment back where it
came from. Reconcile is the judge."""

from __future__ import annotations

from datetime import timedelta

from engine.store import ExecutionStatus, IncompleteStatus, TriggerKind, utc_now
from tests.scenarios.conftest import ops, succeeded
from tests.scenarios.test_quickbooks import customer, of_customer


def differences(library, kind):
    """Differences of ``kind`` about what the test made (the fixture's company has invoices
    of its own that were never synced)."""
    mine = {r["integrated_id"] for r in library.crm_records("Invoice")}
    return [d for d in library.differences("quickbooks") if d.kind == kind and d.key in mine | {""}]


def sales_line(description, qty, price, code, amount=None):
    return {
        "DetailType": "SalesItemLineDetail",
        "Amount": amount if amount is not None else qty * price,
        "Description": description,
        "SalesItemLineDetail": {"Qty": qty, "UnitPrice": price, "TaxCodeRef": {"value": code}},
    }


def test_3_3_discounts_zero_rates_and_the_currency_reach_quickbooks(qbo_library):
    library = qbo_library
    account_id, customer_id = customer(library)
    scenario = library.load("3.3", app="quickbooks")
    lines = [
        {
            "name": "Widget",
            "quantity": 3,
            "unit_price": 3.35,
            "discount_percentage": 10,
            "tax_percentage": 15,
        },
        {"name": "Export freight", "quantity": 1, "unit_price": 2, "tax_percentage": 0},
    ]
    library.crm_person(
        "Invoice",
        {
            "name": "Mixed",
            "billing_account_id": account_id,
            "invoice_date": "2026-03-02",
            "due_date": "2026-03-30",
            "line_items": lines,
        },
    )
    succeeded(library.deliver(scenario)[0])
    (created,) = of_customer(library.qbo_records("Invoice"), customer_id)
    (stored,) = library.crm_records("Invoice")
    assert created["TotalAmt"] == float(stored["amount"])
    assert created["CurrencyRef"]["value"] == "NZD"
    assert differences(library, "invoice") == []


def test_3_4_tax_inclusive_and_discounted_invoices_are_taken_as_quickbooks_computed_them(
    qbo_library,
):
    library = qbo_library
    _, customer_id = customer(library)
    scenario = library.load("3.4", app="quickbooks")
    library.point_quickbooks_at(scenario)
    body = {
        "CustomerRef": {"value": customer_id},
        "TxnDate": "2026-03-01",
        "DueDate": "2026-03-31",
        "GlobalTaxCalculation": "TaxInclusive",
        "Line": [
            sales_line("Widget", 2, 57.5, "4"),
            sales_line("Odd", 3, 9.99, "4", amount=29.97),
            sales_line("Advice", 1, 40, "5"),
            {
                "DetailType": "DiscountLineDetail",
                "Amount": 10,
                "DiscountLineDetail": {"PercentBased": False},
            },
        ],
    }
    invoice = library.qbo_api("POST", "invoice", body)["Invoice"]
    executions = library.deliver_qbo(scenario)
    assert sum(ops(succeeded(e), 7) for e in executions) == 1
    (created,) = library.crm_records("Invoice")
    stored = library.crm("GET", f"Invoice/{created['id']}")["record"]
    assert float(stored["amount"]) == invoice["TotalAmt"]  # taxed once, discount kept
    assert float(stored["total_tax"]) == invoice["TxnTaxDetail"]["TotalTax"]
    assert differences(library, "invoice") == []


def test_3_4_an_invoice_whose_customer_is_not_in_1crm_yet_waits(qbo_library):
    library = qbo_library
    newcomer = library.qbo_api("POST", "customer", {"DisplayName": "Rimu Ltd"})["Customer"]
    scenario = library.load("3.4", app="quickbooks")
    library.point_quickbooks_at(scenario)
    body = {
        "CustomerRef": {"value": newcomer["Id"]},
        "GlobalTaxCalculation": "TaxExcluded",
        "Line": [sales_line("Widget", 2, 50, "4")],
    }
    invoice = library.qbo_api("POST", "invoice", body)["Invoice"]
    (execution,) = library.deliver_qbo(scenario)
    assert execution.status is ExecutionStatus.WARNING, execution.error
    (incomplete,) = library.service.list_incomplete(scenario_id=scenario)
    assert library.service.get_scenario(scenario).active
    library.crm("POST", "Account", {"name": "Rimu Ltd"})  # §3.2 synced the customer
    report = library.service.tick(now=utc_now() + timedelta(minutes=2))
    assert report.retried == [incomplete.id]
    (retry,) = [
        e
        for e in library.service.list_executions(scenario_id=scenario).items
        if e.trigger_kind is TriggerKind.RETRY
    ]
    assert library.service.execute(retry.id).status is ExecutionStatus.SUCCESS
    assert library.service.get_incomplete(incomplete.id).status is IncompleteStatus.RESOLVED
    (created,) = library.crm_records("Invoice")
    assert created["integrated_id"] == invoice["Id"]
    assert differences(library, "invoice") == []


def test_3_6_and_3_7_a_1crm_payment_without_reference_does_not_come_back(qbo_library):
    """#20: 1CRM payment (no customer reference) → QuickBooks 217 → back as PMT-1003: 1CRM
    showed 42.00 due, QuickBooks 73.50."""
    library = qbo_library
    account_id, customer_id = customer(library)
    body = {
        "CustomerRef": {"value": customer_id},
        "GlobalTaxCalculation": "TaxExcluded",
        "Line": [sales_line("Widget", 1, 100, "4")],
    }
    invoice = library.qbo_api("POST", "invoice", body)["Invoice"]
    mine = library.crm_person(
        "Invoice",
        {
            "name": "March work",
            "billing_account_id": account_id,
            "line_items": [
                {"name": "Widget", "quantity": 1, "unit_price": 100, "tax_percentage": 15}
            ],
            "integrated_id": invoice["Id"],
        },
    )
    to_qbo = library.load("3.6", app="quickbooks")
    from_qbo = library.load("3.7", app="quickbooks")
    library.point_quickbooks_at(from_qbo)
    library.crm_person(
        "Payment",
        {
            "account_id": account_id,
            "amount": 41.5,
            "payment_date": "2026-03-10",
            "related_invoices": [{"invoice_id": mine["id"], "amount": 41.5}],
        },
    )
    succeeded(library.deliver(to_qbo)[0])
    (sent,) = of_customer(library.qbo_records("Payment"), customer_id)
    echo = library.deliver_qbo(from_qbo)
    assert sum(ops(succeeded(e), 7) for e in echo) == 0
    (payment,) = library.crm_records("Payment")  # not a second one
    assert payment["integrated_id"] == sent["Id"]
    due = library.crm("GET", f"Invoice/{mine['id']}")["record"]["amount_due"]
    balance = {i["Id"]: i["Balance"] for i in library.qbo_records("Invoice")}[invoice["Id"]]
    assert float(due) == balance == 73.5
    assert differences(library, "payment") == []


def test_3_5b_a_tax_inclusive_discounted_estimate_becomes_a_1crm_quote_of_the_same_total(
    qbo_library,
):
    library = qbo_library
    _, customer_id = customer(library)
    scenario = library.load("3.5b", app="quickbooks")
    library.point_quickbooks_at(scenario)
    body = {
        "CustomerRef": {"value": customer_id},
        "GlobalTaxCalculation": "TaxInclusive",
        "Line": [
            sales_line("Widget", 2, 57.5, "4"),
            sales_line("Advice", 1, 40, "5"),
            {
                "DetailType": "DiscountLineDetail",
                "Amount": 10,
                "DiscountLineDetail": {"PercentBased": False},
            },
        ],
    }
    estimate = library.qbo_api("POST", "estimate", body)["Estimate"]
    executions = library.deliver_qbo(scenario)
    assert sum(ops(succeeded(e), 7) for e in executions) == 1
    (quote,) = library.crm_records("Quote")
    stored = library.crm("GET", f"Quote/{quote['id']}")["record"]
    assert float(stored["amount"]) == estimate["TotalAmt"]
    assert float(stored["total_tax"]) == estimate["TxnTaxDetail"]["TotalTax"]
