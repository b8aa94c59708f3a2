"""The sync log blames what stopped a record, on real runs against the sandboxes.

Issue #20 found it blaming the wrong thing: "stopped by: Account exists" when the filter's label
bundled four conditions and the account did exist; "stopped by: Sales lines" on QuickBooks runs
whose filter on lines (into an aggregator) stopped nothing. These blueprints keep the shapes the
library had then (2.4 and 3.4 as they were), so the regression stays tested whatever the
library's blueprints become."""

from __future__ import annotations

import json

from tests.scenarios.test_quickbooks import customer as qbo_customer
from tests.scenarios.test_quickbooks import qbo_invoice
from tests.scenarios.test_xero_documents import customer, xero_invoice

SCENARIO = {"roundtrips": 1, "maxErrors": 3, "sequential": True, "timezone": "UTC"}


def flow_item(module_id, module, parameters=None, mapper=None, **extra):
    return {
        "id": module_id,
        "module": module,
        "version": 1,
        "parameters": parameters or {},
        "mapper": mapper or {},
        **extra,
    }


def conditions(name, *groups):
    return {"name": name, "conditions": [list(group) for group in groups]}


def ignore(module_id):
    return [flow_item(module_id, "builtin:Ignore")]


def account_search(module_id, name_of_customer, ignore_id):
    return flow_item(
        module_id,
        "onecrm:SearchRecords",
        {"__IMTCONN__": "connection:onecrm", "limit": 1, "continueWhenNoRes": True},
        {"model": "Account", "filter_text": name_of_customer, "match": {"name": name_of_customer}},
        onerror=ignore(ignore_id),
    )


XERO_INVOICES = {  # 2.4 as it was: one filter labelled "Account exists" with four conditions
    "name": "Xero invoices to 1CRM (four conditions, one label)",
    "flow": [
        flow_item(1, "xero:WatchInvoices", {"__IMTCONN__": "connection:xero"}),
        account_search(2, "{{1.Contact.Name}}", 8),
        flow_item(
            3,
            "onecrm:CreateRecord",
            {"__IMTCONN__": "connection:onecrm"},
            {
                "model": "Invoice",
                "name": "{{ifempty(1.Reference; 1.InvoiceNumber)}}",
                "billing_account_id": "{{2.id}}",
                "integrated_id": "{{1.InvoiceID}}",
            },
            filter=conditions(
                "Account exists",
                [
                    {"a": "{{2.id}}", "o": "exist"},
                    {"a": "{{1.Type}}", "o": "text:equal", "b": "ACCREC"},
                    {"a": "{{1.Reference}}", "o": "text:notstartwith", "b": "1CRM "},
                ],
            ),
        ),
    ],
    "metadata": {"version": 1, "instant": False, "scenario": SCENARIO},
}

QUICKBOOKS_INVOICES = {  # 3.4 as it was: "Sales lines" filters lines into the aggregator
    "name": "QuickBooks invoices to 1CRM (a filter on lines)",
    "flow": [
        flow_item(
            1,
            "quickbooks:NewEvent",
            {"__IMTCONN__": "connection:quickbooks", "entities": "Invoice", "operations": "Create"},
        ),
        flow_item(
            2,
            "quickbooks:GetInvoice",
            {"__IMTCONN__": "connection:quickbooks"},
            {"Id": "{{1.id}}"},
        ),
        flow_item(3, "builtin:BasicFeeder", mapper={"array": "{{2.Line}}"}),
        flow_item(
            4,
            "builtin:BasicAggregator",
            {"feeder": 3},
            {"name": "{{3.Description}}", "amount": "{{3.Amount}}"},
            filter=conditions(
                "Sales lines",
                [{"a": "{{3.DetailType}}", "o": "text:equal", "b": "SalesItemLineDetail"}],
            ),
        ),
        account_search(5, "{{2.CustomerRef.name}}", 8),
        flow_item(
            7,
            "onecrm:CreateRecord",
            {"__IMTCONN__": "connection:onecrm"},
            {
                "model": "Invoice",
                "name": "{{ifempty(2.DocNumber; 2.Id)}}",
                "billing_account_id": "{{5.id}}",
                "integrated_id": "{{2.Id}}",
            },
            filter=conditions("Account exists", [{"a": "{{5.id}}", "o": "exist"}]),
        ),
    ],
    "metadata": {"version": 1, "instant": True, "scenario": SCENARIO},
}


def imported(library, blueprint):
    text = json.dumps(blueprint).encode()
    result = library.service.import_scenario(text, connections=library.connections)
    library.service.activate_scenario(result.scenario.id)
    return result.scenario.id


def test_a_filter_of_several_conditions_is_blamed_by_the_condition_that_failed(library):
    _, contact_id = customer(library)
    scenario = imported(library, XERO_INVOICES)
    library.service.choose_where_to_start(scenario, 1, {"type": "all"})
    sale = xero_invoice(library, contact_id)
    echo = xero_invoice(library, contact_id, reference="1CRM INV-1001")
    bill = {
        "Type": "ACCPAY",
        "Contact": {"ContactID": contact_id},
        "Date": "2026-03-01",
        "DueDate": "2026-03-31",
        "Status": "AUTHORISED",
        "LineItems": [{"Description": "Paper", "Quantity": 1, "UnitAmount": 10}],
    }
    (bill,) = library.xero_api("PUT", "Invoices", {"Invoices": [bill]})["Invoices"]
    library.poll(scenario)

    log = {entry.source_key: entry for entry in library.service.sync_log(scenario)}
    (created,) = library.crm_records("Invoice")
    assert (log[sale["InvoiceID"]].status, log[sale["InvoiceID"]].target_key) == (
        "Synced",
        created["id"],
    )
    # The account exists for both: each names the one condition that failed, not the label.
    assert log[bill["InvoiceID"]].status == "Not Valid"
    assert log[bill["InvoiceID"]].message == (
        'stopped by Account exists: {{1.Type}} equal to ACCREC (it was "ACCPAY")'
    )
    assert log[echo["InvoiceID"]].message == (
        "stopped by Account exists: {{1.Reference}} does not start with 1CRM  "
        '(it was "1CRM INV-1001")'
    )


def test_a_filter_on_lines_into_an_aggregator_never_stops_the_invoice(qbo_library):
    library = qbo_library
    _, known_id = qbo_customer(library)
    stranger = library.qbo_api("POST", "customer", {"DisplayName": "Stranger Ltd"})["Customer"]
    scenario = imported(library, QUICKBOOKS_INVOICES)
    library.point_quickbooks_at(scenario)
    known = qbo_invoice(library, known_id)
    unknown = qbo_invoice(library, stranger["Id"], note="PO-8")
    executions = library.deliver_qbo(scenario)
    # QuickBooks adds a subtotal line, which "Sales lines" stopped in every run.
    assert all(e.record["modules"][3]["filtered"] == 1 for e in executions), executions

    log = {entry.source_key: entry for entry in library.service.sync_log(scenario)}
    (created,) = library.crm_records("Invoice")
    assert (log[known["Id"]].status, log[known["Id"]].target_key) == ("Synced", created["id"])
    assert log[known["Id"]].source_name == known["DocNumber"]  # named by Get an Invoice
    assert log[unknown["Id"]].status == "Not Valid"
    assert log[unknown["Id"]].message == "stopped by Account exists: {{5.id}} exists (it was empty)"
