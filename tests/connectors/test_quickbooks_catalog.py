"""QuickBooks modules for the sync packs, over real HTTP against the sandbox: items of each
type with their accounts, vendors, searches by the seeds' match keys (e-mail, item name,
document number), estimates updated and searched, sales receipts, credit memos, invoice
updates and voids, watches of the new entities (inactive ones when asked), accounts and tax
codes to choose from."""

from __future__ import annotations

from . import test_quickbooks_support as support
from .conftest import outputs
from .test_quickbooks_modules import failed, run_one
from .test_quickbooks_support import conn, qbo_records

start_quickbooks = support.start_quickbooks
quickbooks = support.quickbooks
qbo_connection = support.qbo_connection

WIDGET = {
    "Name": "Widget, large (red)",
    "Type": "Inventory",
    "Sku": "W-RED-L",
    "UnitPrice": 19.5,
    "IncomeAccountRef": "1",
    "ExpenseAccountRef": "80",
    "AssetAccountRef": "81",
    "QtyOnHand": 25,
    "InvStartDate": "2026-01-01",
    "SalesTaxCodeRef": "4",
}
LINE = {"ItemRef": "1", "Qty": 2, "UnitPrice": 50, "TaxCodeRef": "4"}


def test_an_inventory_item_is_created_with_its_accounts_and_found_by_exact_name(
    runner, qbo_connection
):
    item = run_one(runner, "quickbooks:CreateItem", WIDGET, qbo_connection)[0]
    assert (item["Type"], item["TrackQtyOnHand"], item["QtyOnHand"]) == ("Inventory", True, 25.0)
    assert item["AssetAccountRef"] == {"value": "81", "name": "Inventory Asset"}
    found = run_one(
        runner, "quickbooks:SearchForItems", {"Name": "widget, LARGE (red)"}, qbo_connection
    )
    assert [i["Id"] for i in found] == [item["Id"]]  # '=' is exact, case aside
    prefix = run_one(
        runner,
        "quickbooks:SearchForItems",
        {"Name": "Widget", "match": "startsWith"},
        qbo_connection,
    )
    assert [i["Id"] for i in prefix] == [item["Id"]]
    assert run_one(runner, "quickbooks:SearchForItems", {"Name": "Widget"}, qbo_connection) == []
    by_sku = run_one(
        runner, "quickbooks:SearchForItems", {"Sku": "W-RED-L", "Type": "Inventory"}, qbo_connection
    )
    assert [i["Id"] for i in by_sku] == [item["Id"]]
    got = run_one(runner, "quickbooks:GetItem", {"Id": item["Id"]}, qbo_connection)
    assert got[0]["Sku"] == "W-RED-L"


def test_an_item_without_the_accounts_its_type_needs_is_refused_by_quickbooks(
    runner, qbo_connection
):
    error = failed(
        runner,
        "quickbooks:CreateItem",
        {k: v for k, v in WIDGET.items() if k != "AssetAccountRef"},
        qbo_connection,
    )
    assert error["type"] == "DataError" and "AssetAccountRef" in error["message"]
    service = run_one(
        runner,
        "quickbooks:CreateItem",
        {"Name": "Installation", "Type": "Service", "IncomeAccountRef": "2", "UnitPrice": 90},
        qbo_connection,
    )[0]
    assert service["TrackQtyOnHand"] is False


def test_an_item_updates_sparsely_and_deactivation_shows_in_an_inactive_watch(
    runner, quickbooks, qbo_connection
):
    item = run_one(runner, "quickbooks:CreateItem", WIDGET, qbo_connection)[0]
    flow_parameters = conn(qbo_connection, start="all", limit=100, includeInactive=True)
    flow = [
        {"id": 1, "module": "quickbooks:WatchItems", "version": 1, "parameters": flow_parameters}
    ]
    first = runner.run(flow)
    assert first.status == "success", first.error
    assert item["Id"] in [b["Id"] for b in outputs(first, 1)]
    changed = run_one(
        runner,
        "quickbooks:UpdateItem",
        {"Id": item["Id"], "UnitPrice": 21, "Active": False},
        qbo_connection,
    )[0]
    assert (changed["UnitPrice"], changed["Active"], changed["SyncToken"]) == (21.0, False, "1")
    assert changed["AssetAccountRef"]["value"] == "81"  # sparse: the accounts stay
    second = runner.run(flow)
    assert [b["Id"] for b in outputs(second, 1)] == [item["Id"]]
    active_only = [{**flow[0], "parameters": conn(qbo_connection, start="all", limit=100)}]
    ids = [b["Id"] for b in outputs(runner.run(active_only), 1)]
    assert item["Id"] not in ids


def test_vendors_are_created_searched_by_email_and_updated(runner, qbo_connection):
    vendor = run_one(
        runner,
        "quickbooks:CreateVendor",
        {
            "CompanyName": "Kea Components",
            "PrimaryEmailAddr": "orders@kea.example",
            "AcctNum": "C-1001",
            "BillAddr": {"City": "Nelson"},
        },
        qbo_connection,
    )[0]
    assert vendor["DisplayName"] == "Kea Components"
    found = run_one(
        runner,
        "quickbooks:SearchForVendors",
        {"PrimaryEmailAddr": "orders@kea.example"},
        qbo_connection,
    )
    assert [v["Id"] for v in found] == [vendor["Id"]]
    updated = run_one(
        runner, "quickbooks:UpdateVendor", {"Id": vendor["Id"], "AcctNum": "C-2002"}, qbo_connection
    )[0]
    assert (updated["AcctNum"], updated["BillAddr"]["City"]) == ("C-2002", "Nelson")
    clash = failed(
        runner, "quickbooks:CreateCustomer", {"DisplayName": "Kea Components"}, qbo_connection
    )
    assert "Duplicate Name Exists" in clash["message"]


def test_customers_with_one_email_are_all_found_so_a_duplicate_can_be_told(runner, qbo_connection):
    for name in ("Twin One", "Twin Two"):
        run_one(
            runner,
            "quickbooks:CreateCustomer",
            {"DisplayName": name, "PrimaryEmailAddr": "shared@twins.example"},
            qbo_connection,
        )
    found = run_one(
        runner,
        "quickbooks:SearchForCustomers",
        {"PrimaryEmailAddr": "SHARED@twins.example"},
        qbo_connection,
        limit=0,
    )
    assert sorted(c["DisplayName"] for c in found) == ["Twin One", "Twin Two"]
    assert found[0]["__IMTLENGTH__"] == 2


def test_estimates_are_searched_by_number_and_status_and_updated(runner, qbo_connection):
    estimate = run_one(
        runner,
        "quickbooks:CreateEstimate",
        {"CustomerRef": "1", "DocNumber": "Q-1001", "Line": [LINE]},
        qbo_connection,
    )[0]
    found = run_one(
        runner, "quickbooks:SearchForEstimates", {"DocNumber": "q-1001"}, qbo_connection
    )
    assert [e["Id"] for e in found] == [estimate["Id"]]
    accepted = run_one(
        runner,
        "quickbooks:UpdateEstimate",
        {"Id": estimate["Id"], "TxnStatus": "Accepted"},
        qbo_connection,
    )[0]
    assert (accepted["TxnStatus"], accepted["TotalAmt"]) == ("Accepted", 115.0)
    relined = run_one(
        runner,
        "quickbooks:UpdateEstimate",
        {"Id": estimate["Id"], "Line": [{**LINE, "Qty": 1}], "DiscountPercent": 10},
        qbo_connection,
    )[0]
    assert relined["TotalAmt"] == 51.75  # lines replaced: 50 less 10 %, GST 15 %
    by_status = run_one(
        runner,
        "quickbooks:SearchForEstimates",
        {"TxnStatus": "Accepted", "CustomerRef": "1"},
        qbo_connection,
    )
    assert [e["Id"] for e in by_status] == [estimate["Id"]]
    lonely = failed(
        runner,
        "quickbooks:UpdateEstimate",
        {"Id": estimate["Id"], "DiscountAmount": 5},
        qbo_connection,
    )
    assert "replaces every line" in lonely["message"]


def test_invoices_update_void_and_are_found_by_number_and_date(runner, quickbooks, qbo_connection):
    invoice = run_one(
        runner,
        "quickbooks:CreateInvoice",
        {"CustomerRef": "1", "DocNumber": "Z-77", "TxnDate": "2026-02-03", "Line": [LINE]},
        qbo_connection,
    )[0]
    memo = run_one(
        runner,
        "quickbooks:UpdateInvoice",
        {"Id": invoice["Id"], "PrivateNote": "sent", "DueDate": "2026-03-31"},
        qbo_connection,
    )[0]
    assert (memo["PrivateNote"], memo["DueDate"], memo["TotalAmt"]) == ("sent", "2026-03-31", 115.0)
    dated = run_one(
        runner,
        "quickbooks:SearchForInvoices",
        {"TxnDateFrom": "2026-02-01", "TxnDateTo": "2026-02-28", "DocNumber": "Z-77"},
        qbo_connection,
    )
    assert [i["Id"] for i in dated] == [invoice["Id"]]
    voided = run_one(runner, "quickbooks:VoidInvoice", {"Id": invoice["Id"]}, qbo_connection)[0]
    assert (voided["TotalAmt"], voided["Balance"], voided["PrivateNote"]) == (0.0, 0.0, "Voided")
    posts = quickbooks.requests_to(f"/v3/company/{support.REALM}/invoice", "POST")
    assert posts[-1]["query"]["operation"] == ["void"]


def test_a_sales_receipt_records_a_paid_sale_and_can_be_voided(runner, qbo_connection):
    receipt = run_one(
        runner,
        "quickbooks:CreateSalesReceipt",
        {"CustomerRef": "2", "Line": [LINE], "PaymentMethodRef": "4", "PaymentRefNum": "ch_123"},
        qbo_connection,
    )[0]
    assert (receipt["TotalAmt"], receipt["Balance"]) == (115.0, 0.0)
    assert receipt["DepositToAccountRef"]["name"] == "Undeposited Funds"
    assert receipt["PaymentMethodRef"]["name"] == "Visa"
    found = run_one(
        runner,
        "quickbooks:SearchForSalesReceipts",
        {"DocNumber": receipt["DocNumber"]},
        qbo_connection,
    )
    assert [r["Id"] for r in found] == [receipt["Id"]]
    banked = run_one(
        runner,
        "quickbooks:UpdateSalesReceipt",
        {"Id": receipt["Id"], "DepositToAccountRef": "35"},
        qbo_connection,
    )[0]
    assert banked["DepositToAccountRef"]["name"] == "Cheque Account"
    voided = run_one(runner, "quickbooks:VoidSalesReceipt", {"Id": receipt["Id"]}, qbo_connection)[
        0
    ]
    assert voided["TotalAmt"] == 0.0
    got = run_one(runner, "quickbooks:GetSalesReceipt", {"Id": receipt["Id"]}, qbo_connection)
    assert got[0]["PrivateNote"] == "Voided"


def test_a_credit_memo_is_created_updated_and_watched(runner, quickbooks, qbo_connection):
    flow = [
        {
            "id": 1,
            "module": "quickbooks:WatchCreditMemos",
            "version": 1,
            "parameters": conn(qbo_connection, start="now"),
        }
    ]
    assert runner.run(flow).modules[1].bundles_out == 0
    memo = run_one(
        runner, "quickbooks:CreateCreditMemo", {"CustomerRef": "1", "Line": [LINE]}, qbo_connection
    )[0]
    assert (memo["RemainingCredit"], memo["Balance"]) == (115.0, 115.0)
    changed = run_one(
        runner,
        "quickbooks:UpdateCreditMemo",
        {"Id": memo["Id"], "CustomerMemo": "returned goods"},
        qbo_connection,
    )[0]
    assert changed["CustomerMemo"] == {"value": "returned goods"}
    watched = outputs(runner.run(flow), 1)
    assert [(b["Id"], b["SyncToken"]) for b in watched] == [(memo["Id"], "1")]
    found = run_one(runner, "quickbooks:GetCreditMemo", {"Id": memo["Id"]}, qbo_connection)
    assert found[0]["CustomerMemo"] == {"value": "returned goods"}
    assert len(qbo_records(quickbooks, "CreditMemo")) == 1


def test_accounts_and_tax_codes_can_be_searched_for_a_setup_page(runner, qbo_connection):
    income = run_one(
        runner, "quickbooks:SearchForAccounts", {"AccountType": "Income"}, qbo_connection, limit=0
    )
    assert [a["Name"] for a in income] == ["Sales", "Services"]
    assets = run_one(
        runner,
        "quickbooks:SearchForAccounts",
        {"AccountSubType": "Inventory"},
        qbo_connection,
    )
    assert [a["Id"] for a in assets] == ["81"]
    codes = run_one(runner, "quickbooks:SearchForTaxCodes", {}, qbo_connection, limit=0)
    assert {c["Name"] for c in codes} >= {"GST", "Zero-rated", "Exempt"}


def test_a_payment_is_found_by_id_until_it_is_deleted(runner, qbo_connection):
    """3.7's route for created payments searches by Id (nothing once deleted, where Get
    fails); Delete a Payment frees the invoice it paid."""
    invoice = run_one(
        runner, "quickbooks:CreateInvoice", {"CustomerRef": "1", "Line": [LINE]}, qbo_connection
    )[0]
    payment = run_one(
        runner,
        "quickbooks:CreatePayment",
        {"CustomerRef": "1", "TotalAmt": 40, "InvoiceId": invoice["Id"], "PaymentRefNum": "R-1"},
        qbo_connection,
    )[0]
    found = run_one(runner, "quickbooks:SearchForPayments", {"Id": payment["Id"]}, qbo_connection)
    assert [p["Id"] for p in found] == [payment["Id"]]
    by_reference = run_one(
        runner, "quickbooks:SearchForPayments", {"PaymentRefNum": "R-1"}, qbo_connection
    )
    assert [p["Id"] for p in by_reference] == [payment["Id"]]
    gone = run_one(runner, "quickbooks:DeletePayment", {"Id": payment["Id"]}, qbo_connection)
    assert (gone[0]["Id"], gone[0]["status"]) == (payment["Id"], "Deleted")
    assert (
        run_one(runner, "quickbooks:SearchForPayments", {"Id": payment["Id"]}, qbo_connection) == []
    )
    (again,) = run_one(runner, "quickbooks:GetInvoice", {"Id": invoice["Id"]}, qbo_connection)
    assert again["Balance"] == again["TotalAmt"] == 115.0
