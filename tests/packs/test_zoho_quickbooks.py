"""Golden tests of the zoho-quickbooks pack through the real service: installed the way
``switchboard pack install`` does it, its polling scenarios run against the Zoho CRM and
QuickBooks Online sandboxes over HTTP."""

from __future__ import annotations

from tests.packs.conftest import ops, succeeded

TO_QBO = "customers-zoho-to-quickbooks.json"
TO_ZOHO = "customers-quickbooks-to-zoho.json"


def by_email(customers):
    return {
        (c.get("PrimaryEmailAddr") or {}).get("Address"): c
        for c in customers
        if c.get("PrimaryEmailAddr")
    }


def test_a_zoho_contact_and_its_account_become_one_quickbooks_customer(zoho_quickbooks):
    world = zoho_quickbooks
    flows = world.install("zoho-quickbooks")
    account = world.zoho_create(
        "Accounts", {"Account_Name": "Pohutukawa Ltd", "Billing_City": "Napier"}
    )
    contact = world.zoho_create(
        "Contacts",
        {
            "First_Name": "Mere",
            "Last_Name": "Tane",
            "Email": "mere@pohutukawa.example",
            "Phone": "+64 6 555 0101",
            "Account_Name": {"id": account},
        },
    )
    run = succeeded(world.run(flows[TO_QBO]))
    assert ops(run, 5) == 1
    customer = by_email(world.qbo_records("Customer"))["mere@pohutukawa.example"]
    assert (customer["CompanyName"], customer["BillAddr"]["City"]) == ("Pohutukawa Ltd", "Napier")
    assert (customer["GivenName"], customer["FamilyName"]) == ("Mere", "Tane")
    (linked,) = [c for c in world.zoho_records("Contacts") if c["id"] == contact]
    assert linked["QuickBooks_Customer_Id"] == customer["Id"]
    assert linked["QuickBooks_Synced_Time"]

    # The echo: QuickBooks → Zoho sees the new customer, finds the same contact, writes nothing.
    echo = succeeded(world.run(flows[TO_ZOHO]))
    assert sum(ops(echo, m) for m in (5, 6, 7)) == 0
    again = succeeded(world.run(flows[TO_QBO]))
    assert sum(ops(again, m) for m in (5, 7, 9)) == 0


def test_no_email_or_a_shared_email_is_not_valid_with_the_reason(zoho_quickbooks):
    world = zoho_quickbooks
    flows = world.install("zoho-quickbooks")
    for name in ("Twin A", "Twin B"):
        world.qbo(
            "POST",
            "customer",
            {"DisplayName": name, "PrimaryEmailAddr": {"Address": "twin@x.example"}},
        )
    world.zoho_create("Contacts", {"Last_Name": "Nomail"})
    world.zoho_create("Contacts", {"Last_Name": "Twin", "Email": "twin@x.example"})
    succeeded(world.run(flows[TO_QBO]))
    log = {e.source_name: e for e in world.service.sync_log(flows[TO_QBO])}
    assert log["Nomail"].status == "Not Valid"
    assert "Has an e-mail" in log["Nomail"].message
    assert log["Twin"].status == "Not Valid"
    assert "One QuickBooks customer with this e-mail" in log["Twin"].message
    assert len(by_email(world.qbo_records("Customer"))) == len(
        {
            c["PrimaryEmailAddr"]["Address"]
            for c in world.qbo_records("Customer")
            if c.get("PrimaryEmailAddr")
        }
    )
    health = {h["flow"]: h for h in world.service.pack_health("zoho-quickbooks")}
    assert health[TO_QBO]["not_valid"] == 2 and health[TO_QBO]["last_status"] == "success"


def test_quickbooks_wins_when_both_sides_changed_between_syncs(zoho_quickbooks):
    world = zoho_quickbooks
    flows = world.install("zoho-quickbooks")
    contact = world.zoho_create(
        "Contacts", {"Last_Name": "Rata", "Email": "rata@x.example", "Phone": "1"}
    )
    succeeded(world.run(flows[TO_QBO]))
    customer = by_email(world.qbo_records("Customer"))["rata@x.example"]
    succeeded(world.run(flows[TO_ZOHO]))  # the echo, nothing to write

    # Both change the phone before the next sync; Zoho→QuickBooks happens to run first.
    world.next_second()
    world.zoho_update("Contacts", contact, {"Phone": "2-zoho"})
    sync_token = world.qbo_records("Customer")[-1]["SyncToken"]
    world.qbo(
        "POST",
        "customer",
        {
            "Id": customer["Id"],
            "SyncToken": sync_token,
            "sparse": True,
            "PrimaryPhone": {"FreeFormNumber": "3-qbo"},
        },
    )
    first = succeeded(world.run(flows[TO_QBO]))
    assert ops(first, 7) == 0  # QuickBooks changed since the last sync: not overwritten
    log = {e.source_key: e for e in world.service.sync_log(flows[TO_QBO])}
    assert "QuickBooks unchanged since the last sync" in log[contact].message
    succeeded(world.run(flows[TO_ZOHO]))
    (zoho,) = [c for c in world.zoho_records("Contacts") if c["id"] == contact]
    assert zoho["Phone"] == "3-qbo"
    final = by_email(world.qbo_records("Customer"))["rata@x.example"]
    assert final["PrimaryPhone"]["FreeFormNumber"] == "3-qbo"
    # And it settles: neither side writes again.
    assert sum(ops(succeeded(world.run(flows[TO_QBO])), m) for m in (5, 7, 9)) == 0
    assert sum(ops(succeeded(world.run(flows[TO_ZOHO])), m) for m in (5, 6, 7)) == 0


def test_products_and_an_invoice_reach_quickbooks_with_tax_codes(zoho_quickbooks):
    world = zoho_quickbooks
    flows = world.install("zoho-quickbooks", {"taxes": {"GST": "4"}})
    product = world.zoho_create(
        "Products", {"Product_Name": "Harakeke mat", "Product_Code": "HM-1", "Unit_Price": 80}
    )
    succeeded(world.run(flows["products-zoho-to-quickbooks.json"]))
    items = {i["Name"]: i for i in world.qbo_records("Item")}
    assert (items["Harakeke mat"]["Sku"], items["Harakeke mat"]["UnitPrice"]) == ("HM-1", 80)
    (linked,) = [p for p in world.zoho_records("Products") if p["id"] == product]
    assert linked["QuickBooks_Item_Id"] == items["Harakeke mat"]["Id"]
    echo = succeeded(world.run(flows["products-quickbooks-to-zoho.json"]))
    assert sum(ops(echo, m) for m in (4, 5, 6)) == 0

    account = world.zoho_create("Accounts", {"Account_Name": "Kahikatea Ltd"})
    contact = world.zoho_create(
        "Contacts",
        {"Last_Name": "Kahu", "Email": "kahu@k.example", "Account_Name": {"id": account}},
    )
    succeeded(world.run(flows[TO_QBO]))
    invoice = world.zoho_create(
        "Invoices",
        {
            "Subject": "Mats",
            "Invoice_Number": "Z-1001",
            "Invoice_Date": "2026-03-02",
            "Due_Date": "2026-03-30",
            "Account_Name": {"id": account},
            "Contact_Name": {"id": contact},
            "Invoiced_Items": [
                {
                    "Product_Name": {"id": product},
                    "Quantity": 2,
                    "ListPrice": 80,
                    "Line_Tax": [{"name": "GST", "percentage": 15}],
                }
            ],
        },
    )
    run = succeeded(world.run(flows["invoices-zoho-to-quickbooks.json"]))
    assert ops(run, 7) == 1
    (created,) = [i for i in world.qbo_records("Invoice") if i.get("DocNumber") == "Z-1001"]
    (line,) = [x for x in created["Line"] if x["DetailType"] == "SalesItemLineDetail"]
    assert line["SalesItemLineDetail"]["TaxCodeRef"]["value"] == "4"
    assert line["SalesItemLineDetail"]["ItemRef"]["value"] == items["Harakeke mat"]["Id"]
    assert created["TotalAmt"] == 184  # 2 x 80 + 15 % GST, to the cent
    (zoho_invoice,) = [i for i in world.zoho_records("Invoices") if i["id"] == invoice]
    assert zoho_invoice["Grand_Total"] == 184
    assert zoho_invoice["QuickBooks_Invoice_Id"] == created["Id"]
    again = succeeded(world.run(flows["invoices-zoho-to-quickbooks.json"]))
    assert ops(again, 7) == 0 and ops(again, 10) == 0


def test_an_invoice_whose_customer_or_product_is_not_synced_is_not_valid(zoho_quickbooks):
    world = zoho_quickbooks
    flows = world.install("zoho-quickbooks", {"directions": {"products": "off"}})
    assert not world.service.get_scenario(flows["products-zoho-to-quickbooks.json"]).active
    product = world.zoho_create("Products", {"Product_Name": "Unsynced thing", "Unit_Price": 5})
    account = world.zoho_create("Accounts", {"Account_Name": "Totara Ltd"})
    contact = world.zoho_create(
        "Contacts", {"Last_Name": "Totara", "Email": "t@t.example", "Account_Name": {"id": account}}
    )
    lines = [{"Product_Name": {"id": product}, "Quantity": 1, "ListPrice": 5}]
    world.zoho_create(
        "Invoices",
        {"Subject": "No customer", "Account_Name": {"id": account}, "Invoiced_Items": lines},
    )
    succeeded(world.run(flows[TO_QBO]))
    world.zoho_create(
        "Invoices",
        {
            "Subject": "No item",
            "Account_Name": {"id": account},
            "Contact_Name": {"id": contact},
            "Invoiced_Items": lines,
        },
    )
    succeeded(world.run(flows["invoices-zoho-to-quickbooks.json"]))
    assert world.qbo_records("Invoice") == world.qbo_records("Invoice")[:2]  # the fixture's two
    log = {
        e.source_name: e for e in world.service.sync_log(flows["invoices-zoho-to-quickbooks.json"])
    }
    assert log["No customer"].status == "Not Valid"
    assert "Customer synced to QuickBooks" in log["No customer"].message
    assert log["No item"].status == "Not Valid"
    assert "every product synced" in log["No item"].message


def test_a_quickbooks_invoice_reaches_zoho_and_settles(zoho_quickbooks):
    world = zoho_quickbooks
    flows = world.install("zoho-quickbooks")
    customer = world.qbo(
        "POST",
        "customer",
        {
            "DisplayName": "Rimu Ltd",
            "CompanyName": "Rimu Ltd",
            "PrimaryEmailAddr": {"Address": "r@rimu.example"},
        },
    )["Customer"]
    item = world.qbo(
        "POST",
        "item",
        {
            "Name": "Rimu plank",
            "Type": "Service",
            "UnitPrice": 20,
            "IncomeAccountRef": {"value": "1"},
        },
    )["Item"]
    succeeded(world.run(flows[TO_ZOHO]))
    succeeded(world.run(flows["products-quickbooks-to-zoho.json"]))
    contact = [c for c in world.zoho_records("Contacts") if c.get("Email") == "r@rimu.example"]
    assert contact and contact[0]["QuickBooks_Customer_Id"] == customer["Id"]
    line = {
        "Qty": 5,
        "UnitPrice": 20,
        "ItemRef": {"value": item["Id"]},
        "TaxCodeRef": {"value": "4"},
    }
    invoice = world.qbo(
        "POST",
        "invoice",
        {
            "CustomerRef": {"value": customer["Id"]},
            "DocNumber": "Q-77",
            "DueDate": "2026-04-30",
            "GlobalTaxCalculation": "TaxExcluded",
            "Line": [
                {"DetailType": "SalesItemLineDetail", "Amount": 100, "SalesItemLineDetail": line}
            ],
        },
    )["Invoice"]
    run = succeeded(world.run(flows["invoices-quickbooks-to-zoho.json"]))
    assert ops(run, 8) == 1
    (zoho,) = [
        i for i in world.zoho_records("Invoices") if i.get("QuickBooks_Invoice_Id") == invoice["Id"]
    ]
    assert (zoho["Invoice_Number"], zoho["Due_Date"], zoho["Grand_Total"]) == (
        "Q-77",
        "2026-04-30",
        115,
    )
    assert zoho["Invoiced_Items"][0]["Line_Tax"][0]["name"] == "GST"
    # The echo: Zoho → QuickBooks sees the new Zoho invoice, already synced and equal.
    echo = succeeded(world.run(flows["invoices-zoho-to-quickbooks.json"]))
    assert ops(echo, 7) == 0 and ops(echo, 10) == 0
    assert succeeded(world.run(flows["invoices-quickbooks-to-zoho.json"]))


def test_vendors_both_ways(zoho_quickbooks):
    world = zoho_quickbooks
    flows = world.install("zoho-quickbooks")
    world.zoho_create(
        "Vendors", {"Vendor_Name": "Kowhai Supplies", "Email": "k@kowhai.example", "City": "Nelson"}
    )
    succeeded(world.run(flows["vendors-zoho-to-quickbooks.json"]))
    vendors = {v["DisplayName"]: v for v in world.qbo_records("Vendor")}
    assert vendors["Kowhai Supplies"]["BillAddr"]["City"] == "Nelson"
    world.qbo(
        "POST",
        "vendor",
        {"DisplayName": "Matai Timber", "PrimaryEmailAddr": {"Address": "m@matai.example"}},
    )
    run = succeeded(world.run(flows["vendors-quickbooks-to-zoho.json"]))
    assert ops(run, 4) == 1  # Matai is new; Kowhai is the echo, equal
    names = {v["Vendor_Name"] for v in world.zoho_records("Vendors")}
    assert {"Kowhai Supplies", "Matai Timber"} <= names
