"""Zoho CRM modules for the sync packs, over real HTTP against the sandbox: Vendors, lookups
and line items mapped as plain ids, searches by the seeds' match keys that keep only exact
matches (a product's name, a cross-reference id), and the cross-reference fields written and
read back."""

from __future__ import annotations

from . import test_zohocrm_support as support
from .conftest import outputs
from .test_zohocrm_modules import run_one
from .test_zohocrm_support import conn

start_zohocrm = support.start_zohocrm
zohocrm = support.zohocrm
zoho_connection = support.zoho_connection


def create(runner, connection, module, **fields):
    return run_one(runner, "zohocrm:CreateRecord", fields, connection, module=module)[0]


def search(runner, connection, module, mapper, **parameters):
    return run_one(runner, "zohocrm:SearchRecords", mapper, connection, module=module, **parameters)


def test_vendors_are_created_updated_upserted_and_watched(runner, zoho_connection):
    vendor = create(runner, zoho_connection, "vendors", Vendor_Name="Kea Components", City="Nelson")
    assert vendor["Vendor_Name"] == "Kea Components"
    updated = run_one(
        runner,
        "zohocrm:UpdateRecord",
        {"id": vendor["id"], "QuickBooks_Vendor_Id": "31"},
        zoho_connection,
        module="Vendors",
    )[0]
    assert (updated["QuickBooks_Vendor_Id"], updated["City"]) == ("31", "Nelson")
    upserted = run_one(
        runner,
        "zohocrm:UpsertRecord",
        {"Vendor_Name": "Kea Components", "Phone": "+64 3 555 0101"},
        zoho_connection,
        module="Vendors",
    )[0]
    assert (upserted["$action"], upserted["id"]) == ("update", vendor["id"])
    flow = [
        {
            "id": 1,
            "module": "zohocrm:WatchRecords",
            "version": 1,
            "parameters": conn(zoho_connection, module="Vendors", start="all"),
        }
    ]
    watched = outputs(runner.run(flow), 1)
    assert [(w["id"], w["Phone"]) for w in watched] == [(vendor["id"], "+64 3 555 0101")]
    assert watched[0]["City"] == "Nelson"  # one of the module's usual fields


def test_lookups_and_line_items_take_plain_ids(runner, zoho_connection):
    vendor = create(runner, zoho_connection, "Vendors", Vendor_Name="Moa Freight")
    product = create(
        runner,
        zoho_connection,
        "Products",
        Product_Name="Crate",
        Unit_Price=40,
        Vendor_Name=vendor["id"],
    )
    assert product["Vendor_Name"] == {"name": "Moa Freight", "id": vendor["id"]}
    account = create(runner, zoho_connection, "Accounts", Account_Name="Harbour Bakery")
    contact = create(
        runner, zoho_connection, "Contacts", Last_Name="Ng", Account_Name=account["id"]
    )
    assert contact["Account_Name"]["id"] == account["id"]
    quote = create(
        runner,
        zoho_connection,
        "Quotes",
        Subject="Crates for Harbour",
        Account_Name=account["id"],
        Contact_Name=contact["id"],
        Quoted_Items=[{"Product_Name": product["id"], "Quantity": 3}],
    )
    assert quote["Quoted_Items"][0]["Product_Name"]["name"] == "Crate"
    assert quote["Grand_Total"] == 120.0
    assert quote["Contact_Name"]["id"] == contact["id"]


def test_a_product_is_found_by_its_exact_name_only_when_asked(runner, zoho_connection):
    widget = create(runner, zoho_connection, "Products", Product_Name="Widget")
    create(runner, zoho_connection, "Products", Product_Name="Widget Pro")
    prefix = search(runner, zoho_connection, "Products", {"name": "widget"}, limit=0)
    assert len(prefix) == 2
    exact = search(
        runner, zoho_connection, "Products", {"name": "widget", "match": "equals"}, limit=0
    )
    assert [p["id"] for p in exact] == [widget["id"]]
    assert exact[0]["__IMTLENGTH__"] == 1


def test_a_cross_reference_search_keeps_only_the_exact_id(runner, zohocrm, zoho_connection):
    """Zoho's ``equals`` would also find 158 for 58 (the sandbox does, as Zoho does)."""
    mine = create(runner, zoho_connection, "Contacts", Last_Name="Ng", QuickBooks_Customer_Id="58")
    create(runner, zoho_connection, "Contacts", Last_Name="Hu", QuickBooks_Customer_Id="158")
    rule = [[{"field": "QuickBooks_Customer_Id", "operator": "equals", "value": "58"}]]
    found = search(runner, zoho_connection, "Contacts", {"filter": rule}, limit=0)
    assert [c["id"] for c in found] == [mine["id"]]
    searched = zohocrm.requests_to("/crm/v8/Contacts/search")
    assert searched[-1]["query"]["criteria"] == ["(QuickBooks_Customer_Id:equals:58)"]


def test_contacts_are_found_by_email_whichever_field_holds_it(runner, zoho_connection):
    first = create(runner, zoho_connection, "Contacts", Last_Name="Ng", Email="ng@fern.example")
    second = create(
        runner,
        zoho_connection,
        "Contacts",
        Last_Name="Hu",
        Email="hu@fern.example",
        Secondary_Email="NG@fern.example",
    )
    found = search(runner, zoho_connection, "Contacts", {"email": "ng@fern.example"}, limit=0)
    assert sorted(c["id"] for c in found) == sorted([first["id"], second["id"]])
