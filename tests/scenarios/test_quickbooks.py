"""Golden tests of §3.1 to 3.7 (1CRM ⇄ QuickBooks Online) through the real service: 1CRM's and
Intuit's webhooks reach the served ingress, the worker path runs them."""

from __future__ import annotations

from engine.store import ExecutionStatus
from modules.connections import ApiSettings
from tests.scenarios.conftest import filtered, ops, retried_once, succeeded

LINES = [
    {"name": "Widget", "quantity": 2, "unit_price": 50, "tax_percentage": 15},
    {"name": "Consulting hour", "quantity": 3, "unit_price": 120, "tax_percentage": 10},
]


def customer(library, name="Harakeke Ltd"):
    account = library.crm("POST", "Account", {"name": name, "email1": "a@h.example"})
    created = library.qbo_api("POST", "customer", {"DisplayName": name})["Customer"]
    return account["id"], created["Id"]


def qbo_invoice(library, customer_id, note="PO-7"):
    body = {
        "CustomerRef": {"value": customer_id},
        "PrivateNote": note,
        "GlobalTaxCalculation": "TaxExcluded",
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": 100,
                "Description": "Widget",
                "SalesItemLineDetail": {"Qty": 2, "UnitPrice": 50, "TaxCodeRef": {"value": "4"}},
            },
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": 360,
                "Description": "Consulting hour",
                "SalesItemLineDetail": {"Qty": 3, "UnitPrice": 120, "TaxCodeRef": {"value": "8"}},
            },
        ],
    }
    return library.qbo_api("POST", "invoice", body)["Invoice"]


def of_customer(records, customer_id):
    return [r for r in records if r["CustomerRef"]["value"] == customer_id]


def by_name(records, field="DisplayName"):
    return {r[field]: r for r in records}


def test_3_1_account_created_then_updated_in_1crm_reaches_quickbooks(qbo_library):
    library = qbo_library
    scenario = library.load("3.1", app="quickbooks")
    created = library.crm(
        "POST",
        "Account",
        {
            "name": "Harakeke Ltd",
            "email1": "a@h.example",
            "billing_address_city": "Napier",
        },
    )
    (first,) = library.deliver(scenario)
    succeeded(first)
    assert ops(first, 4) == 1 and ops(first, 5) == 0
    customer_ = by_name(library.qbo_records("Customer"))["Harakeke Ltd"]
    assert customer_["PrimaryEmailAddr"]["Address"] == "a@h.example"
    assert customer_["BillAddr"]["City"] == "Napier"

    library.onecrm.control("config", {"clock_offset_seconds": 5})
    library.crm("PATCH", f"Account/{created['id']}", {"email1": "b@h.example"})
    (second,) = library.deliver(scenario)
    succeeded(second)
    assert ops(second, 5) == 1 and ops(second, 4) == 0
    customers = by_name(library.qbo_records("Customer"))
    assert customers["Harakeke Ltd"]["PrimaryEmailAddr"]["Address"] == "b@h.example"


def test_3_2_customer_created_in_quickbooks_reaches_1crm(qbo_library):
    library = qbo_library
    scenario = library.load("3.2", app="quickbooks")
    library.point_quickbooks_at(scenario)
    library.qbo_api(
        "POST",
        "customer",
        {
            "DisplayName": "Kowhai Ltd",
            "PrimaryEmailAddr": {"Address": "k@k.example"},
            "BillAddr": {"City": "Nelson"},
        },
    )
    executions = library.deliver_qbo(scenario)
    assert sum(ops(succeeded(e), 5) for e in executions) == 1
    account = by_name(library.crm_records("Account"), "name")["Kowhai Ltd"]
    assert (account["email1"], account["billing_address_city"]) == ("k@k.example", "Nelson")


def test_3_3_invoice_created_in_1crm_becomes_a_quickbooks_invoice_with_tax_codes(qbo_library):
    library = qbo_library
    account_id, customer_id = customer(library)
    scenario = library.load("3.3", app="quickbooks")
    invoice = library.crm_person(
        "Invoice",
        {
            "name": "March work",
            "billing_account_id": account_id,
            "line_items": LINES,
        },
    )
    unknown = library.crm("POST", "Account", {"name": "Nobody Ltd"})
    library.crm_person(
        "Invoice",
        {
            "name": "Lost",
            "billing_account_id": unknown["id"],
            "line_items": LINES,
        },
    )
    created_run, blocked = library.deliver(scenario)
    succeeded(created_run)
    # No such customer (yet): it waits for §3.1 (it was filtered out and never sent).
    assert blocked.status is ExecutionStatus.WARNING, blocked.error
    (waiting,) = library.service.list_incomplete(scenario_id=scenario)
    assert waiting.failed_module_id == 4 and "Nobody Ltd" in waiting.error["message"]
    (created,) = of_customer(library.qbo_records("Invoice"), customer_id)
    lines = [line for line in created["Line"] if line["DetailType"] == "SalesItemLineDetail"]
    assert [
        (
            line["Description"],
            line["SalesItemLineDetail"]["Qty"],
            line["SalesItemLineDetail"]["UnitPrice"],
            line["SalesItemLineDetail"]["TaxCodeRef"]["value"],
        )
        for line in lines
    ] == [("Widget", 2, 50, "4"), ("Consulting hour", 3, 120, "8")]
    assert created["TxnTaxDetail"]["TotalTax"] == 15 + 36
    stored = library.crm("GET", f"Invoice/{invoice['id']}")["record"]
    assert stored["integrated_id"] == created["Id"]


def test_3_4_invoice_created_in_quickbooks_becomes_a_1crm_invoice(qbo_library):
    library = qbo_library
    account_id, customer_id = customer(library)
    scenario = library.load("3.4", app="quickbooks")
    library.point_quickbooks_at(scenario)
    invoice = qbo_invoice(library, customer_id)
    executions = library.deliver_qbo(scenario)
    assert sum(ops(succeeded(e), 7) for e in executions) == 1
    (created,) = library.crm_records("Invoice")
    assert created["integrated_id"] == invoice["Id"]
    assert created["billing_account_id"] == account_id
    assert library.crm_lines("Invoice", created["id"]) == [
        ("Widget", 2, 50, 15),
        ("Consulting hour", 3, 120, 10),
    ]
    assert float(created["amount"]) == invoice["TotalAmt"]


def test_3_5_quote_created_in_1crm_becomes_a_quickbooks_estimate(qbo_library):
    library = qbo_library
    account_id, customer_id = customer(library)
    scenario = library.load("3.5a", app="quickbooks")
    library.crm_person(
        "Quote",
        {
            "name": "Spring offer",
            "billing_account_id": account_id,
            "line_items": LINES,
        },
    )
    (execution,) = library.deliver(scenario)
    succeeded(execution)
    (estimate,) = of_customer(library.qbo_records("Estimate"), customer_id)
    assert estimate["TxnTaxDetail"]["TotalTax"] == 51


def test_3_5a_a_failing_customer_search_keeps_the_quote_to_retry(qbo_library):
    """§3.5a's customer search had no error handler: a search QuickBooks failed read as "no
    customer" and the quote was never sent. It is kept to retry (Break), as the other
    searches are, and goes once QuickBooks answers."""
    library = qbo_library
    account_id, customer_id = customer(library)
    scenario = library.load("3.5a", app="quickbooks")
    library.quickbooks.fault(status=500, count=20, method="GET", path_prefix="/v3/company/")
    library.crm_person(
        "Quote", {"name": "Spring offer", "billing_account_id": account_id, "line_items": LINES}
    )
    (failed,) = library.deliver(scenario)
    assert failed.status is ExecutionStatus.WARNING, failed.error
    (waiting,) = library.service.list_incomplete(scenario_id=scenario)
    assert library.service.get_scenario(scenario).active
    assert of_customer(library.qbo_records("Estimate"), customer_id) == []

    library.quickbooks.control("faults", method="DELETE")
    retried_once(library, scenario, waiting)
    (estimate,) = of_customer(library.qbo_records("Estimate"), customer_id)
    assert estimate["TxnTaxDetail"]["TotalTax"] == 51


def test_3_13_a_failing_customer_search_keeps_the_quote_edit_to_retry(qbo_library):
    """§3.13's customer search had no error handler: a search QuickBooks failed read as "no
    customer" and the 1CRM quote edit was dropped. It is kept to retry (Break), as 3.5a's is,
    and reaches the estimate once QuickBooks answers."""
    # the customer search fails, its resends too; the estimates' search (own Break) then answers
    failing = 1 + ApiSettings.max_retries
    quote_edit_kept_to_retry(
        qbo_library,
        lambda: qbo_library.quickbooks.fault(
            status=500, count=failing, method="GET", path_prefix="/v3/company/"
        ),
    )


def test_3_13_a_failing_currency_lookup_keeps_the_quote_edit_to_retry(qbo_library):
    """§3.13's currency lookup (1CRM Get a Record: Currency) had no error handler, unlike its
    searches: a lookup 1CRM failed was left to Make's default handling (an incomplete
    execution retried by itself only for a connection, rate-limit or timeout error; any other
    error waited for a person). It is kept to retry with backoff (Break), as the customer
    search is — the run ends with a warning — and reaches the estimate once 1CRM answers."""
    failing = 1 + ApiSettings.max_retries  # the lookup and the connector's resends
    quote_edit_kept_to_retry(
        qbo_library,
        lambda: qbo_library.onecrm.fault(
            status=500, count=failing, method="GET", path_prefix="/api.php/data/Currency"
        ),
    )


def quote_edit_kept_to_retry(library, fail) -> None:
    """A quote sent by §3.5a and edited in 1CRM while ``fail()``'s faults last: §3.13's run
    ends with a warning, its edit kept (the scenario still on), and the retry writes it."""
    account_id, customer_id = customer(library)
    sends, edits = library.load("3.5a", app="quickbooks"), library.load("3.13", app="quickbooks")
    quote = library.crm_person(
        "Quote", {"name": "Spring offer", "billing_account_id": account_id, "line_items": LINES}
    )
    (sent,) = library.deliver(sends)
    succeeded(sent)
    library.deliver(edits)  # 1CRM's create event is not §3.13's
    fail()
    library.crm_edit("Quote", quote["id"], {"line_items": LINES[:1]})
    (failed,) = library.deliver(edits)
    assert failed.status is ExecutionStatus.WARNING, failed.error
    (waiting,) = library.service.list_incomplete(scenario_id=edits)
    assert library.service.get_scenario(edits).active
    (estimate,) = of_customer(library.qbo_records("Estimate"), customer_id)
    assert estimate["TotalAmt"] == 511  # not edited yet

    library.quickbooks.control("faults", method="DELETE")
    library.onecrm.control("faults", method="DELETE")
    retried_once(library, edits, waiting)
    (estimate,) = of_customer(library.qbo_records("Estimate"), customer_id)
    assert estimate["TotalAmt"] == 115  # the edit's one line: 100 and its 15% tax


def test_3_3_a_failing_currency_lookup_keeps_the_invoice_to_retry(qbo_library):
    """§3.3's currency lookup had no error handler (as §3.13's had not): a lookup 1CRM failed
    was left to Make's default handling. It is kept to retry with backoff (Break) and the
    invoice reaches QuickBooks once 1CRM answers."""
    library = qbo_library
    account_id, customer_id = customer(library)
    scenario = library.load("3.3", app="quickbooks")
    library.onecrm.fault(
        status=500,
        count=1 + ApiSettings.max_retries,  # the lookup and the connector's resends
        method="GET",
        path_prefix="/api.php/data/Currency",
    )
    library.crm_person(
        "Invoice", {"name": "March work", "billing_account_id": account_id, "line_items": LINES}
    )
    (failed,) = library.deliver(scenario)
    assert failed.status is ExecutionStatus.WARNING, failed.error
    (waiting,) = library.service.list_incomplete(scenario_id=scenario)
    assert waiting.failed_module_id == 7 and library.service.get_scenario(scenario).active
    assert of_customer(library.qbo_records("Invoice"), customer_id) == []

    library.onecrm.control("faults", method="DELETE")
    retried_once(library, scenario, waiting)
    assert len(of_customer(library.qbo_records("Invoice"), customer_id)) == 1


def test_3_6_and_3_7_payments_both_ways_pay_the_right_invoices(qbo_library):
    library = qbo_library
    account_id, customer_id = customer(library)
    paid = qbo_invoice(library, customer_id)
    other = qbo_invoice(library, customer_id, note="PO-8")
    mine = library.crm_person(
        "Invoice",
        {
            "name": "March work",
            "billing_account_id": account_id,
            "line_items": LINES,
            "integrated_id": paid["Id"],
        },
    )
    library.crm_person(
        "Invoice",
        {
            "name": "Other",
            "billing_account_id": account_id,
            "line_items": LINES,
            "integrated_id": other["Id"],
        },
    )
    to_qbo = library.load("3.6", app="quickbooks")
    from_qbo = library.load("3.7", app="quickbooks")  # both ways at once: no echo
    library.point_quickbooks_at(from_qbo)
    library.crm_person(
        "Payment",
        {
            "account_id": account_id,
            "amount": 200,
            "payment_date": "2026-03-10",
            "customer_reference": "DD-0310",
            "related_invoices": [{"invoice_id": mine["id"], "amount": 200}],
        },
    )
    (execution,) = library.deliver(to_qbo)
    succeeded(execution)
    (payment,) = of_customer(library.qbo_records("Payment"), customer_id)
    assert payment["TotalAmt"] == 200
    assert [
        (t["TxnId"], line["Amount"]) for line in payment["Line"] for t in line["LinkedTxn"]
    ] == [(paid["Id"], 200)]
    balances = {i["Id"]: i["Balance"] for i in library.qbo_records("Invoice")}
    assert balances[paid["Id"]] == paid["TotalAmt"] - 200
    assert balances[other["Id"]] == other["TotalAmt"]

    echo = library.deliver_qbo(from_qbo)  # the new payment, seen from QuickBooks: skipped
    assert sum(ops(succeeded(e), 7) for e in echo) == 0
    assert len(library.crm_records("Payment")) == 1

    library.qbo_api(
        "POST",
        "payment",
        {
            "CustomerRef": {"value": customer_id},
            "TotalAmt": 120.5,
            "PaymentRefNum": "EFT-12",
            "Line": [
                {"Amount": 120.5, "LinkedTxn": [{"TxnId": other["Id"], "TxnType": "Invoice"}]}
            ],
        },
    )
    executions = library.deliver_qbo(from_qbo)
    assert sum(ops(succeeded(e), 7) for e in executions) == 1
    created = [p for p in library.crm_records("Payment") if p["customer_reference"] == "EFT-12"]
    (payment,) = created
    assert payment["account_id"] == account_id and payment["amount"] == "120.5"
    (other_in_crm,) = [
        i for i in library.crm_records("Invoice") if i["integrated_id"] == other["Id"]
    ]
    assert library.crm_allocations(payment["id"]) == [(other_in_crm["id"], 120.5)]
    assert float(other_in_crm["amount_due"]) == other["TotalAmt"] - 120.5
    (echo,) = library.deliver(to_qbo)  # the new 1CRM payment came from QuickBooks: skipped
    assert filtered(succeeded(echo), 4) == 1  # stopped before the customer search (it waits)
    assert len(of_customer(library.qbo_records("Payment"), customer_id)) == 2  # no third


def test_3_5_estimate_created_in_quickbooks_becomes_a_1crm_quote_once(qbo_library):
    library = qbo_library
    account_id, customer_id = customer(library)
    to_qbo = library.load("3.5a", app="quickbooks")
    from_qbo = library.load("3.5b", app="quickbooks")
    library.point_quickbooks_at(from_qbo)
    body = {
        "CustomerRef": {"value": customer_id},
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": 100,
                "Description": "Widget",
                "SalesItemLineDetail": {"Qty": 2, "UnitPrice": 50, "TaxCodeRef": {"value": "4"}},
            },
        ],
    }
    estimate = library.qbo_api("POST", "estimate", body)["Estimate"]
    executions = library.deliver_qbo(from_qbo)
    assert sum(ops(succeeded(e), 7) for e in executions) == 1
    (quote,) = library.crm_records("Quote")
    assert quote["billing_account_id"] == account_id
    assert quote["name"] == f"QuickBooks estimate {estimate['DocNumber']}"
    assert library.crm_lines("Quote", quote["id"]) == [("Widget", 2, 50, 15)]
    (echo,) = library.deliver(to_qbo)  # the quote came from QuickBooks: not sent back
    assert filtered(succeeded(echo), 4) == 1  # before the customer search
    assert len(of_customer(library.qbo_records("Estimate"), customer_id)) == 1


def test_3_5b_estimate_edited_in_quickbooks_rewrites_its_1crm_quote_and_never_loops(qbo_library):
    """§3.5b ran on Create only: an estimate edited in QuickBooks kept its first lines, expiry
    and currency in 1CRM. It now takes Update too and rewrites the quote named after the
    estimate; §3.13 leaves that 1CRM update alone (the estimate did not come from 1CRM)."""
    library = qbo_library
    _, customer_id = customer(library)
    from_qbo = library.load("3.5b", app="quickbooks")
    edits = library.load("3.13", app="quickbooks")
    library.point_quickbooks_at(from_qbo)
    line = {
        "DetailType": "SalesItemLineDetail",
        "Amount": 100,
        "Description": "Widget",
        "SalesItemLineDetail": {"Qty": 2, "UnitPrice": 50, "TaxCodeRef": {"value": "4"}},
    }
    body = {"CustomerRef": {"value": customer_id}, "ExpirationDate": "2026-04-30", "Line": [line]}
    estimate = library.qbo_api("POST", "estimate", body)["Estimate"]
    library.deliver_qbo(from_qbo)
    library.deliver(edits)  # 1CRM's create event is not §3.13's

    extra = {
        **line,
        "Amount": 360,
        "Description": "Consulting hour",
        "SalesItemLineDetail": {"Qty": 3, "UnitPrice": 120, "TaxCodeRef": {"value": "8"}},
    }
    edit = {
        "Id": estimate["Id"],
        "SyncToken": estimate["SyncToken"],
        "sparse": True,
        "ExpirationDate": "2026-05-31",
        "Line": [line, extra],
    }
    edited = library.qbo_api("POST", "estimate", edit)["Estimate"]
    executions = library.deliver_qbo(from_qbo)
    assert sum(ops(succeeded(e), 13) for e in executions) == 1
    (quote,) = library.crm_records("Quote")
    assert quote["name"] == f"QuickBooks estimate {estimate['DocNumber']}"
    assert str(quote["valid_until"]).startswith("2026-05-31")
    assert float(quote["amount"]) == edited["TotalAmt"] == 511
    assert library.crm_lines("Quote", quote["id"]) == [
        ("Widget", 2, 50, 15),
        ("Consulting hour", 3, 120, 10),
    ]
    writes = library.crm_writes()
    (echo,) = library.deliver(edits)  # the rewritten quote, seen from 1CRM: not sent back
    assert ops(succeeded(echo), 5) == 0
    estimates = of_customer(library.qbo_records("Estimate"), customer_id)
    assert [e["TotalAmt"] for e in estimates] == [511]
    assert library.deliver_qbo(from_qbo) == [] and library.crm_writes() == writes


def test_3_1_and_3_2_accounts_both_ways_settle_and_never_loop(qbo_library):
    library = qbo_library
    to_qbo, from_qbo = library.load("3.1", app="quickbooks"), library.load("3.2", app="quickbooks")
    library.point_quickbooks_at(from_qbo)
    account = library.crm(
        "POST",
        "Account",
        {
            "name": "Totara Ltd",
            "email1": "t@t.example",
            "billing_address_city": "Rotorua",
        },
    )

    def writes():
        crm = library.crm_writes()
        qbo = sum(
            r["method"] == "POST" and "/query" not in r["path"]
            for r in library.quickbooks.state()["requests"]
        )
        return crm, qbo

    def settle():
        for round_number in range(1, 6):
            before = writes()
            for execution in library.deliver(to_qbo) + library.deliver_qbo(from_qbo):
                succeeded(execution)
            if writes() == before:
                return round_number
        raise AssertionError("still writing after 5 rounds: the two-way sync loops")

    crm_before, qbo_before = writes()
    assert settle() <= 2
    assert writes() == (crm_before, qbo_before + 1)  # one customer; nothing bounced back

    library.onecrm.control("config", {"clock_offset_seconds": 5})
    library.crm("PATCH", f"Account/{account['id']}", {"email1": "new@t.example"})
    crm_before, qbo_before = writes()
    assert settle() <= 2
    assert writes() == (crm_before, qbo_before + 1)  # one update; nothing bounced back
    (customer_,) = [c for c in library.qbo_records("Customer") if c["DisplayName"] == "Totara Ltd"]
    assert customer_["PrimaryEmailAddr"]["Address"] == "new@t.example"
    assert len([a for a in library.crm_records("Account") if a["name"] == "Totara Ltd"]) == 1


def test_sync_log_of_a_quickbooks_event_names_the_customer(qbo_library):
    library = qbo_library
    scenario = library.load("3.2", app="quickbooks")
    library.point_quickbooks_at(scenario)
    created = library.qbo_api("POST", "customer", {"DisplayName": "Logged Co"})["Customer"]
    library.deliver_qbo(scenario)
    # the newest entry is the Update event of the note 3.2 wrote on the customer (its
    # account's id): the two are the same, nothing is written
    entries = library.service.sync_log(scenario, latest=False)
    assert sorted((e.status, e.source_key) for e in entries) == [
        ("Not Valid", created["Id"]),
        ("Synced", created["Id"]),
    ]
    (entry,) = [e for e in entries if e.status == "Synced"]
    assert (entry.status, entry.source_key, entry.source_name) == (
        "Synced",
        created["Id"],
        "Logged Co",
    )
    (account,) = [a for a in library.crm_records("Account") if a["name"] == "Logged Co"]
    assert entry.target_key == account["id"]


def test_3_3_a_zero_rated_line_gets_the_zero_rated_code_and_other_rates_are_refused(qbo_library):
    """3.3 maps 15 % to code 4, 10 % to code 8 and 0 % to code 5 (Zero-rated), any other rate to
    no code. A zero-rated line used to get no code, and QuickBooks applies no default: it
    refuses the invoice (#20: 102.00 became 103.50 where a default applied). A rate the
    scenario does not map is still refused, not taxed at some rate."""
    library = qbo_library
    _, customer_id = customer(library)
    scenario = library.load("3.3", app="quickbooks")
    account_id = by_name(library.crm_records("Account"), "name")["Harakeke Ltd"]["id"]
    zero_rated = {"name": "Export freight", "quantity": 1, "unit_price": 2, "tax_percentage": 0}
    widget = {"name": "Widget", "quantity": 1, "unit_price": 100}
    library.crm_person(
        "Invoice",
        {"name": "Export", "billing_account_id": account_id, "line_items": [widget, zero_rated]},
    )
    (execution,) = library.deliver(scenario)
    succeeded(execution)
    (created,) = of_customer(library.qbo_records("Invoice"), customer_id)
    assert created["TotalAmt"] == 102.00
    codes = [
        line["SalesItemLineDetail"]["TaxCodeRef"]["value"]
        for line in created["Line"]
        if line["DetailType"] == "SalesItemLineDetail"
    ]
    assert codes == ["5", "5"]

    odd_rate = {"name": "Odd", "quantity": 1, "unit_price": 40, "tax_percentage": 7}
    library.crm_person(
        "Invoice", {"name": "Odd", "billing_account_id": account_id, "line_items": [odd_rate]}
    )
    (refused,) = library.deliver(scenario)
    # Kept to retry (someone may add the rate), the scenario still on.
    assert refused.status is ExecutionStatus.WARNING
    (waiting,) = library.service.list_incomplete(scenario_id=scenario)
    assert "Make sure all your transactions have a GST rate" in waiting.error["message"]
    assert library.service.get_scenario(scenario).active
    assert len(of_customer(library.qbo_records("Invoice"), customer_id)) == 1
