"""QuickBooks sandbox: accounts and payment methods, items of each type with their accounts,
vendors in the customers' name list, sales receipts, credit memos, estimate updates and voids —
the entities the Zoho CRM ⇄ QuickBooks and CRM ⇄ QuickBooks packs write."""

import pytest

from .test_quickbooks_oauth import entity_of, fault, make_client
from .test_quickbooks_webhooks_limits import VERIFIER


@pytest.fixture
def client(serve, http):
    return make_client(serve, http)


INVENTORY = {
    "Name": "Widget",
    "Type": "Inventory",
    "UnitPrice": 12.5,
    "PurchaseCost": 7,
    "IncomeAccountRef": {"value": "1"},
    "ExpenseAccountRef": {"value": "80"},
    "AssetAccountRef": {"value": "81"},
    "TrackQtyOnHand": True,
    "QtyOnHand": 40,
    "InvStartDate": "2026-01-01",
}


def line(qty, price, tax_code="4", item="1"):
    return {
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {
            "ItemRef": {"value": item},
            "Qty": qty,
            "UnitPrice": price,
            "TaxCodeRef": {"value": tax_code},
        },
    }


def test_accounts_and_payment_methods_are_read_only_reference_lists(client):
    accounts = client.query("select * from Account where AccountType = 'Income'").json()
    assert {a["Name"] for a in accounts["QueryResponse"]["Account"]} == {"Sales", "Services"}
    asset = client.read("account", "81")
    assert (asset["AccountType"], asset["AccountSubType"]) == ("Other Current Asset", "Inventory")
    methods = client.query("select * from PaymentMethod").json()["QueryResponse"]
    assert "Cash" in {m["Name"] for m in methods["PaymentMethod"]}
    refused = client.post("account", {"Name": "Mine", "AccountType": "Income"})
    assert fault(refused)["code"] == "500"


def test_an_inventory_item_needs_its_three_accounts_and_its_quantities(client):
    item = client.create("item", INVENTORY)
    assert item["IncomeAccountRef"] == {"value": "1", "name": "Sales"}
    assert item["AssetAccountRef"] == {"value": "81", "name": "Inventory Asset"}
    assert (item["QtyOnHand"], item["InvStartDate"], item["TrackQtyOnHand"]) == (
        40.0,
        "2026-01-01",
        True,
    )
    for missing in ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"):
        body = {**INVENTORY, "Name": f"No {missing}"}
        del body[missing]
        answer = fault(client.post("item", body))
        assert (answer["code"], answer["element"]) == ("2020", missing)
    for missing in ("QtyOnHand", "InvStartDate"):
        body = {k: v for k, v in INVENTORY.items() if k != missing} | {"Name": f"No {missing}"}
        assert fault(client.post("item", body))["element"] == missing
    untracked = fault(client.post("item", {**INVENTORY, "Name": "U", "TrackQtyOnHand": False}))
    assert (untracked["code"], untracked["element"]) == ("6000", "TrackQtyOnHand")


def test_each_account_reference_takes_only_its_account_types(client):
    income_as_asset = fault(
        client.post("item", {**INVENTORY, "Name": "Bad asset", "AssetAccountRef": {"value": "1"}})
    )
    assert (income_as_asset["code"], income_as_asset["element"]) == ("6000", "AssetAccountRef")
    assert "Other Current Asset" in income_as_asset["Detail"]
    # an inventory item's expense account is its cost of sales, not any expense account
    purchases = fault(
        client.post("item", {**INVENTORY, "Name": "Bad cogs", "ExpenseAccountRef": {"value": "86"}})
    )
    assert purchases["element"] == "ExpenseAccountRef"
    unknown = fault(client.post("item", {**INVENTORY, "Name": "X", "IncomeAccountRef": "999"}))
    assert (unknown["code"], unknown["element"]) == ("2500", "IncomeAccountRef")


def test_service_and_non_inventory_items_need_an_income_or_expense_account(client):
    nameless = fault(client.post("item", {"Name": "Consulting", "Type": "Service"}))
    assert (nameless["code"], nameless["element"]) == ("2020", "IncomeAccountRef")
    bought = client.create(
        "item", {"Name": "Stationery", "Type": "NonInventory", "ExpenseAccountRef": "86"}
    )
    assert bought["ExpenseAccountRef"] == {"value": "86", "name": "Purchases"}
    assert bought["TrackQtyOnHand"] is False and "QtyOnHand" not in bought
    counted = fault(
        client.post(
            "item",
            {"Name": "Counted", "Type": "Service", "IncomeAccountRef": "2", "TrackQtyOnHand": True},
        )
    )
    assert (counted["code"], counted["element"]) == ("6000", "TrackQtyOnHand")
    odd = fault(client.post("item", {"Name": "Bundle", "Type": "Group", "IncomeAccountRef": "1"}))
    assert (odd["code"], odd["element"]) == ("2170", "Type")
    long_name = fault(client.post("item", {"Name": "x" * 101, "IncomeAccountRef": "1"}))
    assert long_name["element"] == "Name"
    duplicate = fault(client.post("item", {"Name": "stationery", "IncomeAccountRef": "1"}))
    assert duplicate["code"] == "6240"


def test_an_inventory_item_keeps_its_type_and_sparse_updates_keep_its_accounts(client):
    item = client.create("item", INVENTORY)
    changed = client.post(
        "item", {"Id": item["Id"], "SyncToken": "0", "sparse": True, "UnitPrice": 15}
    )
    assert changed.status_code == 200, changed.text
    assert entity_of(changed)["AssetAccountRef"]["value"] == "81"
    retyped = client.post(
        "item",
        {
            "Id": item["Id"],
            "SyncToken": "1",
            "sparse": True,
            "Type": "NonInventory",
            "TrackQtyOnHand": False,
        },
    )
    assert (fault(retyped)["code"], fault(retyped)["element"]) == ("6000", "Type")


def test_inventory_items_need_a_company_that_tracks_quantities(serve, http):
    preferences = {"ProductAndServicesPrefs": {"QuantityOnHand": False}}
    client = make_client(
        serve, http, {"fixture": {"realms": [{"realmId": "42", "Preferences": preferences}]}}
    )
    refused = fault(client.post("item", INVENTORY))
    assert (refused["code"], refused["element"]) == ("6000", "Type")
    assert client.create("item", {"Name": "Labour", "Type": "Service", "IncomeAccountRef": "2"})


def test_vendors_share_the_customers_name_list(client):
    vendor = client.create(
        "vendor",
        {"CompanyName": "Kiwi Supplies", "PrimaryEmailAddr": {"Address": "ap@kiwi.example"}},
    )
    assert (vendor["DisplayName"], vendor["Active"]) == ("Kiwi Supplies", True)
    as_customer = fault(client.post("customer", {"DisplayName": "kiwi supplies"}))
    assert (as_customer["code"], as_customer["Detail"].endswith(f"Id={vendor['Id']}")) == (
        "6240",
        True,
    )
    customer = client.create("customer", {"DisplayName": "Fern Cafe"})
    as_vendor = fault(client.post("vendor", {"DisplayName": "Fern Cafe"}))
    assert as_vendor["Detail"].endswith(f"Id={customer['Id']}")
    found = client.query("select * from Vendor where PrimaryEmailAddr = 'ap@kiwi.example'")
    assert [v["Id"] for v in found.json()["QueryResponse"]["Vendor"]] == [vendor["Id"]]


def test_a_sales_receipt_is_paid_at_sale_into_undeposited_funds(client):
    receipt = client.create(
        "salesreceipt", {"Line": [line(2, 50)], "PaymentMethodRef": {"value": "1"}}
    )
    assert "CustomerRef" not in receipt  # a walk-in sale has no customer
    assert receipt["DepositToAccountRef"] == {"value": "4", "name": "Undeposited Funds"}
    assert receipt["PaymentMethodRef"] == {"value": "1", "name": "Cash"}
    assert (receipt["TotalAmt"], receipt["Balance"]) == (115.0, 0.0)
    banked = client.create(
        "salesreceipt", {"Line": [line(1, 10)], "DepositToAccountRef": {"value": "35"}}
    )
    assert banked["DepositToAccountRef"]["name"] == "Cheque Account"
    into_income = fault(
        client.post("salesreceipt", {"Line": [line(1, 10)], "DepositToAccountRef": "1"})
    )
    assert (into_income["code"], into_income["element"]) == ("6000", "DepositToAccountRef")
    no_tax = fault(
        client.post("salesreceipt", {"Line": [{"DetailType": "SalesItemLineDetail", "Amount": 5}]})
    )
    assert no_tax["code"] == "6000"
    estimate = client.create(
        "estimate",
        {
            "CustomerRef": client.create("customer", {"DisplayName": "C"})["Id"],
            "Line": [line(1, 1)],
        },
    )
    numbers = [receipt["DocNumber"], banked["DocNumber"], estimate["DocNumber"]]
    assert numbers == ["1001", "1002", "1003"]  # one sequence for every sales form


def test_a_credit_memo_is_open_credit_that_lowers_the_customers_balance(client):
    customer = client.create("customer", {"DisplayName": "Rata Dental"})
    client.create("invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line(1, 200)]})
    memo = client.create(
        "creditmemo", {"CustomerRef": {"value": customer["Id"]}, "Line": [line(1, 40)]}
    )
    assert (memo["TotalAmt"], memo["Balance"], memo["RemainingCredit"]) == (46.0, 46.0, 46.0)
    assert client.read("customer", customer["Id"])["Balance"] == 184.0  # 230 - 46
    nobody = fault(client.post("creditmemo", {"Line": [line(1, 40)]}))
    assert (nobody["code"], nobody["element"]) == ("2020", "CustomerRef")


def test_estimates_update_sparsely_and_know_their_statuses(client):
    customer = client.create("customer", {"DisplayName": "Pohutukawa Events"})
    estimate = client.create(
        "estimate", {"CustomerRef": {"value": customer["Id"]}, "Line": [line(2, 10)]}
    )
    accepted = client.post(
        "estimate",
        {"Id": estimate["Id"], "SyncToken": "0", "sparse": True, "TxnStatus": "Accepted"},
    )
    assert entity_of(accepted)["TxnStatus"] == "Accepted"
    assert entity_of(accepted)["TotalAmt"] == 23.0
    unknown = fault(
        client.post(
            "estimate",
            {"Id": estimate["Id"], "SyncToken": "1", "sparse": True, "TxnStatus": "Sent"},
        )
    )
    assert (unknown["code"], unknown["element"]) == ("2170", "TxnStatus")


def test_an_estimate_keeps_the_expiry_it_was_given_and_none_otherwise(client):
    """The sandbox gave an estimate without ``ExpirationDate`` one 30 days on; QuickBooks
    documents no such default (vendor NOTES §5: only an invoice's DueDate has one)."""
    customer = client.create("customer", {"DisplayName": "Kowhai Kitchens"})
    bare = client.create(
        "estimate", {"CustomerRef": {"value": customer["Id"]}, "Line": [line(1, 10)]}
    )
    assert "ExpirationDate" not in bare
    dated = client.create(
        "estimate",
        {
            "CustomerRef": {"value": customer["Id"]},
            "ExpirationDate": "2026-04-30",
            "Line": [line(1, 10)],
        },
    )
    assert dated["ExpirationDate"] == "2026-04-30"


def test_voiding_an_invoice_zeroes_it_and_frees_its_payments(client):
    customer = client.create("customer", {"DisplayName": "Takahe Tours"})
    invoice = client.create(
        "invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line(1, 100)]}
    )
    payment = client.create(
        "payment",
        {
            "CustomerRef": {"value": customer["Id"]},
            "TotalAmt": 50,
            "Line": [{"Amount": 50, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
        },
    )
    current = client.read("invoice", invoice["Id"])
    stale = client.post("invoice", {"Id": invoice["Id"], "SyncToken": "0"}, operation="void")
    assert fault(stale)["code"] == "5010"
    voided = entity_of(
        client.post(
            "invoice",
            {"Id": invoice["Id"], "SyncToken": current["SyncToken"]},
            operation="void",
        )
    )
    assert (voided["TotalAmt"], voided["Balance"], voided["PrivateNote"]) == (0.0, 0.0, "Voided")
    assert [ln["Amount"] for ln in voided["Line"]] == [0.0, 0.0]
    assert voided["TxnTaxDetail"]["TotalTax"] == 0.0
    assert client.read("payment", payment["Id"])["UnappliedAmt"] == 50.0
    assert client.read("customer", customer["Id"])["Balance"] == 0.0
    estimate = client.create(
        "estimate", {"CustomerRef": {"value": customer["Id"]}, "Line": [line(1, 1)]}
    )
    not_voidable = client.post(
        "estimate", {"Id": estimate["Id"], "SyncToken": "0"}, operation="void"
    )
    assert fault(not_voidable)["code"] == "500"


def test_new_entities_reach_cdc_and_cloudevents_webhooks(serve, http, receiver_factory):
    receiver, url = receiver_factory()
    client = make_client(serve, http, {"webhook_url": url, "webhook_key": VERIFIER})
    start = client.query("select * from Item").json()["time"][:19]  # to the second, as stamped
    vendor = client.create("vendor", {"DisplayName": "Moa Freight"})
    receipt = client.create("salesreceipt", {"Line": [line(1, 10)]})
    client.post("salesreceipt", {"Id": receipt["Id"], "SyncToken": "0"}, operation="void")
    events = [e for d in receiver.wait_for(3) for e in d["json"]]
    assert [(e["type"], e["intuitentityid"]) for e in events] == [
        ("qbo.vendor.created.v1", vendor["Id"]),
        ("qbo.salesreceipt.created.v1", receipt["Id"]),
        ("qbo.salesreceipt.voided.v1", receipt["Id"]),
    ]
    changed = client.request(
        "GET",
        "cdc",
        params={"entities": "Vendor,SalesReceipt,CreditMemo", "changedSince": start + "-08:00"},
    ).json()["CDCResponse"][0]["QueryResponse"]
    assert [v["Id"] for v in changed[0]["Vendor"]] == [vendor["Id"]]
    assert changed[1]["SalesReceipt"][0]["PrivateNote"] == "Voided"
    assert changed[2] == {}


def tax_line(rate, amount):
    return {
        "Amount": amount,
        "DetailType": "TaxLineDetail",
        "TaxLineDetail": {"TaxRateRef": {"value": rate}},
    }


def test_a_tax_line_sent_overrides_that_rates_tax_for_the_write_that_sends_it(client):
    """Non-US companies take an app's tax per rate (``TxnTaxDetail.TaxLine``): 2 x 10.10 at
    15 % is 3.03 by QuickBooks, 3.04 taxed per line; a rate no line applies is refused."""
    customer = client.create("customer", {"DisplayName": "Weka Works"})
    lines = [line(1, 10.10), line(1, 10.10), line(1, 5, tax_code="5")]
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": lines}
    computed = client.create("invoice", body)
    assert (computed["TxnTaxDetail"]["TotalTax"], computed["TotalAmt"]) == (3.03, 28.23)
    overridden = client.create(
        "invoice", {**body, "TxnTaxDetail": {"TaxLine": [tax_line("9", 3.04)]}}
    )
    assert (overridden["TxnTaxDetail"]["TotalTax"], overridden["TotalAmt"]) == (3.04, 28.24)
    assert [t["Amount"] for t in overridden["TxnTaxDetail"]["TaxLine"]] == [3.04, 0.0]
    assert overridden["Balance"] == 28.24
    unused = client.post("invoice", {**body, "TxnTaxDetail": {"TaxLine": [tax_line("12", 1)]}})
    assert fault(unused)["code"] == "6000"
    note = {"Id": overridden["Id"], "SyncToken": overridden["SyncToken"], "sparse": True}
    updated = entity_of(client.post("invoice", {**note, "Line": lines}))
    assert updated["TxnTaxDetail"]["TotalTax"] == 3.03  # not sent again: computed
