"""QuickBooks pieces for the sync packs without a sandbox: search statements by match keys,
item and sales-form bodies, sparse updates of forms, voids with a stale SyncToken, and the
inactive-records watch — HTTP mocked with ``responses``."""

from __future__ import annotations

import json

import pytest
import requests
import responses

from engine.errors import DataError, InvalidConfigurationError
from modules.quickbooks import forms
from modules.quickbooks import models as m
from modules.quickbooks.modules import ENTITIES, _changed_since, entity_specs, item_body
from modules.quickbooks.search import SEARCHES, statement

from .test_quickbooks_unit import API, STALE, qbo, query_of


@pytest.fixture
def session():
    with requests.Session() as opened:
        yield opened


@pytest.fixture
def mocked():
    with responses.RequestsMock() as mock:
        yield mock


def test_item_search_by_name_sku_and_type_escapes_and_orders_by_name():
    data = m.SearchItemsInput(Name="Bolt, 10mm (O'Neil)", Sku="B-10", Type="Inventory")
    assert statement(SEARCHES["Item"], data) == (
        r"SELECT * FROM Item WHERE Name = 'Bolt, 10mm (O\'Neil)' AND Sku = 'B-10' "
        "AND Type = 'Inventory' ORDERBY Name"
    )
    contains = m.SearchItemsInput(Name="10%", match="contains", orderBy="Sku")
    assert statement(SEARCHES["Item"], contains) == (
        "SELECT * FROM Item WHERE Name LIKE '%10%%' ORDERBY Sku"
    )


def test_form_searches_by_number_customer_and_date_range():
    data = m.SearchFormsInput.model_validate(
        {
            "DocNumber": "INV-7",
            "CustomerRef": {"value": 12},
            "TxnDateFrom": "2026-01-01",
            "TxnDateTo": "2026-01-31",
        }
    )
    assert statement(SEARCHES["SalesReceipt"], data) == (
        "SELECT * FROM SalesReceipt WHERE DocNumber = 'INV-7' AND CustomerRef = '12' "
        "AND TxnDate >= '2026-01-01' AND TxnDate <= '2026-01-31' ORDERBY Id"
    )
    status = m.SearchEstimatesInput(TxnStatus="Pending")
    assert statement(SEARCHES["Estimate"], status) == (
        "SELECT * FROM Estimate WHERE TxnStatus = 'Pending' ORDERBY Id"
    )


def test_vendor_and_account_searches():
    vendors = m.SearchNamesInput(PrimaryEmailAddr="ap@kea.example", Active=False)
    assert statement(SEARCHES["Vendor"], vendors) == (
        "SELECT * FROM Vendor WHERE PrimaryEmailAddr = 'ap@kea.example' AND Active = false "
        "ORDERBY DisplayName"
    )
    accounts = m.SearchAccountsInput(AccountType="Cost of Goods Sold")
    assert statement(SEARCHES["Account"], accounts) == (
        "SELECT * FROM Account WHERE AccountType = 'Cost of Goods Sold' ORDERBY Name"
    )


def test_a_new_inventory_item_tracks_its_quantity_and_flat_refs_are_wrapped():
    data = m.CreateItemInput.model_validate(
        {
            "Name": "Kit",
            "Type": "Inventory",
            "IncomeAccountRef": 1,
            "ExpenseAccountRef": "80",
            "AssetAccountRef": {"value": "81"},
            "QtyOnHand": 3,
            "InvStartDate": "2026-01-01T09:00:00",
        }
    )
    body = item_body(data)
    assert body["TrackQtyOnHand"] is True
    assert [body[k] for k in ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef")] == [
        {"value": "1"},
        {"value": "80"},
        {"value": "81"},
    ]
    untracked = item_body(m.CreateItemInput(Name="Labour", Type="Service", TrackQtyOnHand=False))
    assert untracked["TrackQtyOnHand"] is False
    update = item_body(m.UpdateItemInput(Id="5", Type="Inventory"), update=True)
    assert "TrackQtyOnHand" not in update  # a sparse update changes only what is mapped
    with pytest.raises(ValueError):
        m.CreateItemInput.model_validate({"Type": "Service"})  # Name is required


def test_a_sparse_form_update_sends_lines_only_when_mapped():
    status = forms.UpdateEstimateInput.model_validate({"Id": 9, "TxnStatus": "Accepted"})
    assert forms.sales_document(status, lines_required=False) == {"TxnStatus": "Accepted"}
    relined = forms.UpdateInvoiceInput.model_validate(
        {"Id": "9", "Line": [{"ItemRef": "1", "Qty": 1, "UnitPrice": 4}], "DiscountAmount": 1}
    )
    lines = forms.sales_document(relined, lines_required=False)["Line"]
    assert [line["DetailType"] for line in lines] == ["SalesItemLineDetail", "DiscountLineDetail"]
    with pytest.raises(InvalidConfigurationError, match="replaces every line"):
        forms.sales_document(
            forms.UpdateInvoiceInput(Id="9", DiscountPercent=5), lines_required=False
        )


def test_a_sales_receipt_needs_no_customer_and_wraps_its_account_and_method():
    receipt = forms.CreateSalesReceiptInput.model_validate(
        {
            "Line": [{"Amount": 10, "TaxCodeRef": "4"}],
            "DepositToAccountRef": 35,
            "PaymentMethodRef": "1",
        }
    )
    body = forms.sales_document(receipt)
    assert "CustomerRef" not in body
    assert (body["DepositToAccountRef"], body["PaymentMethodRef"]) == (
        {"value": "35"},
        {"value": "1"},
    )
    with pytest.raises(ValueError):
        forms.CreateCreditMemoInput.model_validate({"Line": [{"Amount": 1}]})  # needs a customer


def test_void_reads_the_sync_token_and_retries_once_when_stale(session, mocked):
    mocked.get(f"{API}/invoice/7", json={"Invoice": {"Id": "7", "SyncToken": "2"}})
    mocked.post(f"{API}/invoice", **STALE)
    mocked.get(f"{API}/invoice/7", json={"Invoice": {"Id": "7", "SyncToken": "3"}})
    mocked.post(f"{API}/invoice", json={"Invoice": {"Id": "7", "SyncToken": "4", "TotalAmt": 0}})
    voided = qbo(session).void("Invoice", "7")
    assert voided["TotalAmt"] == 0
    posts = [c for c in mocked.calls if c.request.method == "POST"]
    assert [query_of(c)["operation"] for c in posts] == [["void"], ["void"]]
    assert [json.loads(c.request.body) for c in posts] == [
        {"Id": "7", "SyncToken": "2"},
        {"Id": "7", "SyncToken": "3"},
    ]


def test_void_gives_up_after_a_second_stale_answer(session, mocked):
    mocked.post(f"{API}/salesreceipt", **STALE)
    mocked.get(f"{API}/salesreceipt/4", json={"SalesReceipt": {"Id": "4", "SyncToken": "8"}})
    mocked.post(f"{API}/salesreceipt", **STALE)
    with pytest.raises(DataError, match="Stale Object"):
        qbo(session).void("SalesReceipt", "4", sync_token="7")


def test_watching_inactive_records_asks_for_both_states_of_name_lists_only():
    assert _changed_since("Item", "2026-01-01T00:00:00+00:00", include_inactive=True) == (
        "SELECT * FROM Item WHERE MetaData.LastUpdatedTime >= '2026-01-01T00:00:00+00:00' "
        "AND Active IN (true, false) ORDERBY MetaData.LastUpdatedTime"
    )
    assert _changed_since("Vendor", None, include_inactive=True) == (
        "SELECT * FROM Vendor WHERE Active IN (true, false) ORDERBY MetaData.LastUpdatedTime"
    )
    assert _changed_since("Invoice", None, include_inactive=True) == (
        "SELECT * FROM Invoice ORDERBY MetaData.LastUpdatedTime"
    )


def test_every_entity_names_its_modules_as_the_connector_always_has():
    ids = {spec.id for entity in ENTITIES for spec in entity_specs(entity)}
    assert {
        "quickbooks:SearchForCustomers",
        "quickbooks:CreateSalesReceipt",
        "quickbooks:VoidInvoice",
        "quickbooks:WatchCreditMemos",
        "quickbooks:SearchForTaxCodes",
    } <= ids
    assert "quickbooks:VoidEstimate" not in ids  # QuickBooks voids invoices and receipts only
