"""Golden tests of the zoho-xero pack (the OneSaas seed) through the real service against the
Zoho CRM and Xero sandboxes: prefix, status and customer options, items created when missing,
the tax table, daily summaries, and Xero invoices and contacts back with a status filter."""

from __future__ import annotations

import pytest

from engine.service import InvalidRequest
from tests.packs.conftest import ops, succeeded

TO_XERO = "invoices-zoho-to-xero.json"
TO_ZOHO = "invoices-xero-to-zoho.json"


def zoho_invoice(world, number, product, **extra):
    account = world.zoho_create("Accounts", {"Account_Name": extra.pop("company", "Tōtara Ltd")})
    return world.zoho_create(
        "Invoices",
        {
            "Subject": f"Order {number}",
            "Invoice_Number": number,
            "Invoice_Date": "2026-05-04",
            "Due_Date": "2026-06-03",
            "Account_Name": {"id": account},
            "Invoiced_Items": [
                {
                    "Product_Name": {"id": product},
                    "Quantity": 3,
                    "ListPrice": 40,
                    "Line_Tax": [{"name": "GST", "percentage": 15}],
                }
            ],
            **extra,
        },
    )


def test_a_zoho_invoice_reaches_xero_with_prefix_status_customer_item_and_tax(zoho_xero):
    world = zoho_xero
    options = {"invoice_prefix": "ZO-", "status": "DRAFT", "customer": "online_sale"}
    flows = world.install("zoho-xero", {"options": options})
    product = world.zoho_create(
        "Products", {"Product_Name": "Flax kete", "Product_Code": "KETE-1", "Unit_Price": 40}
    )
    invoice = zoho_invoice(world, "5001", product)
    run = succeeded(world.run(flows[TO_XERO]))
    assert ops(run, 10) == 1
    (sent,) = [i for i in world.xero_records("Invoices") if i["InvoiceNumber"] == "ZO-5001"]
    assert (sent["Status"], sent["Contact"]["Name"]) == ("DRAFT", "Online Sale")
    (line,) = sent["LineItems"]
    assert (line["ItemCode"], line["TaxType"]) == ("KETE-1", "OUTPUT2")
    assert float(sent["Total"]) == 138.0  # 3 x 40 + 15 % GST
    assert "KETE-1" in {i["Code"] for i in world.xero_records("Items")}  # created when missing
    (zoho,) = [i for i in world.zoho_records("Invoices") if i["id"] == invoice]
    assert zoho["Xero_Invoice_Id"] == sent["InvoiceID"]
    # Sent once: the write-back does not send it again.
    assert ops(succeeded(world.run(flows[TO_XERO])), 10) == 0


def test_the_prefix_is_at_most_four_characters(zoho_xero):
    with pytest.raises(InvalidRequest, match="longer than 4 characters"):
        zoho_xero.install("zoho-xero", {"options": {"invoice_prefix": "ZOHO-"}})


def test_daily_summaries_send_yesterdays_invoices_as_one(zoho_xero):
    world = zoho_xero
    flows = world.install("zoho-xero", {"options": {"invoice_mode": "daily_summary"}})
    product = world.zoho_create("Products", {"Product_Name": "Pounamu", "Unit_Price": 40})
    from datetime import UTC, datetime, timedelta

    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    zoho_invoice(world, "6001", product, Invoice_Date=yesterday)
    zoho_invoice(world, "6002", product, Invoice_Date=yesterday, company="Rimu Ltd")
    assert ops(succeeded(world.run(flows[TO_XERO])), 10) == 0  # not on their own
    succeeded(world.run(flows["invoices-daily-summary-zoho-to-xero.json"]))
    day = yesterday.replace("-", "")
    (summary,) = [i for i in world.xero_records("Invoices") if i["InvoiceNumber"] == f"Z-{day}"]
    assert summary["Contact"]["Name"] == "Online Sale"
    assert len(summary["LineItems"]) == 2 and float(summary["Total"]) == 276.0


def test_xero_invoices_come_back_by_status_and_contacts_become_accounts(zoho_xero):
    world = zoho_xero
    flows = world.install("zoho-xero", {"options": {"xero_statuses": "AUTHORISED"}})
    contact = world.xero(
        "PUT",
        "Contacts",
        {
            "Contacts": [
                {
                    "Name": "Harakeke Co",
                    "FirstName": "Hine",
                    "LastName": "Moana",
                    "EmailAddress": "hine@harakeke.example",
                }
            ]
        },
    )["Contacts"][0]
    succeeded(world.run(flows["contacts-xero-to-zoho.json"]))
    accounts = {a["Account_Name"]: a for a in world.zoho_records("Accounts")}
    assert accounts["Harakeke Co"]["Xero_Contact_Id"] == contact["ContactID"]
    people = {c.get("Email"): c for c in world.zoho_records("Contacts")}
    assert people["hine@harakeke.example"]["Last_Name"] == "Moana"

    def xero_invoice(number, status):
        body = {
            "Invoices": [
                {
                    "Type": "ACCREC",
                    "Contact": {"ContactID": contact["ContactID"]},
                    "InvoiceNumber": number,
                    "Date": "2026-05-04",
                    "DueDate": "2026-06-01",
                    "Status": status,
                    "LineAmountTypes": "Exclusive",
                    "LineItems": [
                        {
                            "Description": "Weaving class",
                            "Quantity": 2,
                            "UnitAmount": 50,
                            "AccountCode": "200",
                            "TaxType": "OUTPUT2",
                        }
                    ],
                }
            ]
        }
        return world.xero("PUT", "Invoices", body)["Invoices"][0]

    draft = xero_invoice("X-1", "DRAFT")
    authorised = xero_invoice("X-2", "AUTHORISED")
    succeeded(world.run(flows[TO_ZOHO]))
    synced = {i.get("Xero_Invoice_Id"): i for i in world.zoho_records("Invoices")}
    assert draft["InvoiceID"] not in synced  # the status filter
    got = synced[authorised["InvoiceID"]]
    assert (got["Invoice_Number"], got["Grand_Total"], got["Status"]) == ("X-2", 115, "Approved")
    assert got["Invoiced_Items"][0]["Line_Tax"][0]["name"] == "GST"
    log = {e.source_name: e for e in world.service.sync_log(flows[TO_ZOHO])}
    assert log["X-1"].status == "Not Valid" and "status to sync" in log["X-1"].message
