"""QuickBooks sandbox: create / read / sparse update with SyncToken, invoices' tax and totals,
payments against invoices, deletes and change data capture."""

import json
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests

from .test_quickbooks_oauth import QboClient, fault, make_client

XERO_DEMO = Path(__file__).parents[2] / "modules/xero/fixtures/demo.json"


@pytest.fixture
def client(serve, http):
    return make_client(serve, http)


def sales_line(qty, price, tax_code, **extra):
    return {
        "DetailType": "SalesItemLineDetail",
        **extra,
        "SalesItemLineDetail": {"Qty": qty, "UnitPrice": price, "TaxCodeRef": {"value": tax_code}},
    }


def test_create_read_sparse_update_and_stale_sync_token(client):
    created = client.create(
        "customer", {"GivenName": "Ada", "FamilyName": "Lovelace", "CompanyName": "ACME Ltd"}
    )
    assert (created["Id"], created["SyncToken"], created["DisplayName"]) == ("1", "0", "ACME Ltd")
    assert created["MetaData"]["CreateTime"] == created["MetaData"]["LastUpdatedTime"]
    client.server.control("config", {"clock_offset_seconds": 5})
    response = client.post(
        "customer",
        {
            "Id": "1",
            "SyncToken": "0",
            "sparse": True,
            "PrimaryEmailAddr": {"Address": "ada@acme.test"},
        },
    )
    assert response.status_code == 200, response.text
    updated = response.json()["Customer"]
    assert updated["SyncToken"] == "1"
    assert updated["GivenName"] == "Ada"  # sparse: untouched fields stay
    assert updated["MetaData"]["LastUpdatedTime"] > created["MetaData"]["LastUpdatedTime"]
    assert updated["MetaData"]["CreateTime"] == created["MetaData"]["CreateTime"]
    stale = client.post("customer", {"Id": "1", "SyncToken": "0", "sparse": True, "Notes": "late"})
    assert stale.status_code == 400
    assert (fault(stale)["code"], fault(stale)["Message"]) == ("5010", "Stale Object Error")
    full = client.post("customer", {"Id": "1", "SyncToken": "1", "DisplayName": "ACME Ltd"})
    assert "GivenName" not in full.json()["Customer"]  # a full update drops omitted fields
    assert client.read("customer", "1")["SyncToken"] == "2"


def test_display_names_are_unique_and_required(client):
    client.create("customer", {"DisplayName": "Blue Fern Studio"})
    duplicate = client.post("customer", {"DisplayName": "blue fern studio"})
    assert duplicate.status_code == 400
    assert fault(duplicate)["code"] == "6240"
    assert fault(duplicate)["Message"] == "Duplicate Name Exists Error"
    nameless = client.post("customer", {"Notes": "who?"})
    assert fault(nameless)["code"] == "2020"
    missing_token = client.post("customer", {"Id": "1", "sparse": True, "Notes": "x"})
    assert fault(missing_token)["code"] == "2020"
    read_only = client.post("taxcode", {"Name": "Mine"})
    assert fault(read_only)["code"] == "500"


def test_an_invoice_sent_without_a_due_date_is_due_on_its_date_unless_there_are_terms(client):
    """The sandbox gave an invoice sent without ``DueDate`` one 30 days on. QuickBooks Online
    gives it the transaction date when there are no sales terms and follows the terms when
    there are (vendor NOTES §5); a due date sent is kept."""
    customer = client.create("customer", {"DisplayName": "Rimu Joinery"})
    body = {
        "CustomerRef": {"value": customer["Id"]},
        "TxnDate": "2024-03-01",
        "Line": [sales_line(1, 100, "4")],
    }
    assert client.create("invoice", body)["DueDate"] == "2024-03-01"
    assert client.create("invoice", {**body, "DueDate": "2024-04-15"})["DueDate"] == "2024-04-15"
    client.server.control("config", {"default_terms_days": 20})  # the company's terms: net 20
    assert client.create("invoice", body)["DueDate"] == "2024-03-21"


def test_two_updates_racing_with_one_sync_token(client):
    client.create("customer", {"DisplayName": "Racer"})
    barrier, results = threading.Barrier(2), []

    def update(note):
        # One session per thread: requests.Session is not meant for concurrent use.
        with requests.Session() as session:
            mine = QboClient(session, client.server, client.token, client.realm_id)
            barrier.wait()
            response = mine.post(
                "customer", {"Id": "1", "SyncToken": "0", "sparse": True, "Notes": note}
            )
            results.append((response.status_code, response.json()))

    threads = [threading.Thread(target=update, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 400]
    loser = next(body for status, body in results if status == 400)
    assert loser["Fault"]["Error"][0]["code"] == "5010"
    assert client.read("customer", "1")["SyncToken"] == "1"


def test_invoice_lines_tax_lines_and_totals(client):
    client.create("customer", {"DisplayName": "Kauri Logistics"})
    invoice = client.create(
        "invoice",
        {
            "CustomerRef": {"value": "1"},
            "TxnDate": "2024-03-01",
            "Line": [sales_line(3, 100, "4"), sales_line(2, 25, "8"), sales_line(1, 80, "6")],
        },
    )
    assert invoice["CustomerRef"] == {"value": "1", "name": "Kauri Logistics"}
    assert [line.get("Amount") for line in invoice["Line"]] == [300.0, 50.0, 80.0, 430.0]
    assert invoice["Line"][-1]["DetailType"] == "SubTotalLineDetail"
    assert invoice["Line"][0]["SalesItemLineDetail"]["ItemRef"] == {
        "value": "1",
        "name": "Services",
    }
    tax = invoice["TxnTaxDetail"]
    assert tax["TotalTax"] == 50.0
    assert [
        (t["TaxLineDetail"]["TaxPercent"], t["TaxLineDetail"]["NetAmountTaxable"], t["Amount"])
        for t in tax["TaxLine"]
    ] == [(15.0, 300.0, 45.0), (0.0, 80.0, 0.0), (10.0, 50.0, 5.0)]
    assert (invoice["TotalAmt"], invoice["Balance"]) == (480.0, 480.0)
    assert invoice["DueDate"] == "2024-03-01"  # no sales terms: due on its date
    assert invoice["DocNumber"] == "1001"
    discounted = client.create(
        "invoice",
        {
            "CustomerRef": {"value": "1"},
            "Line": [
                sales_line(1, 200, "4"),
                {
                    "DetailType": "DiscountLineDetail",
                    "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10},
                },
            ],
        },
    )
    assert discounted["TxnTaxDetail"]["TotalTax"] == 27.0  # 15 % of 180
    assert discounted["TotalAmt"] == 207.0
    assert client.read("customer", "1")["Balance"] == 687.0


def test_invoice_validation_faults(client):
    client.create("customer", {"DisplayName": "Harbour Bakery"})
    no_lines = client.post("invoice", {"CustomerRef": {"value": "1"}, "Line": []})
    assert fault(no_lines)["code"] == "2020"
    unknown = client.post(
        "invoice", {"CustomerRef": {"value": "99"}, "Line": [sales_line(1, 1, "4")]}
    )
    assert fault(unknown)["code"] == "2500"
    mismatch = client.post(
        "invoice", {"CustomerRef": {"value": "1"}, "Line": [sales_line(2, 10, "4", Amount=25)]}
    )
    assert fault(mismatch)["code"] == "6070"
    client.create(
        "item", {"Name": "Untaxed thing", "UnitPrice": 5, "IncomeAccountRef": {"value": "1"}}
    )
    no_tax = client.post(
        "invoice",
        {
            "CustomerRef": {"value": "1"},
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": 5,
                    "SalesItemLineDetail": {"ItemRef": {"value": "2"}},
                }
            ],
        },
    )
    assert fault(no_tax)["code"] == "6000"


def test_payment_reduces_invoice_balance_and_updates_the_invoice(client):
    client.create("customer", {"DisplayName": "Tui Software"})
    invoice = client.create(
        "invoice", {"CustomerRef": {"value": "1"}, "Line": [sales_line(2, 100, "4")]}
    )
    assert invoice["TotalAmt"] == 230.0
    payment = client.create(
        "payment",
        {
            "CustomerRef": {"value": "1"},
            "TotalAmt": 150,
            "Line": [
                {"Amount": 100, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
            ],
        },
    )
    assert payment["UnappliedAmt"] == 50.0
    after = client.read("invoice", invoice["Id"])
    assert (after["Balance"], after["SyncToken"]) == (130.0, "1")
    assert after["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "Payment"}]
    assert client.read("customer", "1")["Balance"] == 130.0
    too_much = client.post(
        "payment",
        {
            "CustomerRef": {"value": "1"},
            "TotalAmt": 500,
            "Line": [
                {"Amount": 131, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
            ],
        },
    )
    assert fault(too_much)["code"] == "6000"
    bigger = client.post(
        "payment",
        {
            "Id": payment["Id"],
            "SyncToken": "0",
            "sparse": True,
            "Line": [
                {"Amount": 150, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
            ],
        },
    )
    assert bigger.json()["Payment"]["UnappliedAmt"] == 0.0
    assert client.read("invoice", invoice["Id"])["Balance"] == 80.0
    deleted = client.post("payment", {"Id": payment["Id"], "SyncToken": "1"}, operation="delete")
    assert deleted.json()["Payment"]["status"] == "Deleted"
    assert client.read("invoice", invoice["Id"])["Balance"] == 230.0


def test_estimates_compute_like_invoices(client):
    client.create("customer", {"DisplayName": "Waka Travel"})
    estimate = client.create(
        "estimate", {"CustomerRef": {"value": "1"}, "Line": [sales_line(4, 50, "4")]}
    )
    assert (estimate["TotalAmt"], estimate["TxnStatus"]) == (230.0, "Pending")
    assert "Balance" not in estimate


def test_change_data_capture_lists_changes_and_deletions(client):
    start = datetime.fromisoformat(client.query("select * from Item").json()["time"])
    client.create("customer", {"DisplayName": "Orca Marine Supplies"})
    invoice = client.create(
        "invoice", {"CustomerRef": {"value": "1"}, "Line": [sales_line(1, 10, "4")]}
    )
    client.post("invoice", {"Id": invoice["Id"], "SyncToken": "0"}, operation="delete")
    since = (start - timedelta(seconds=1)).isoformat()
    response = client.request(
        "GET", "cdc", params={"entities": "Customer,Invoice,Payment", "changedSince": since}
    )
    assert response.status_code == 200, response.text
    parts = response.json()["CDCResponse"][0]["QueryResponse"]
    assert [c["DisplayName"] for c in parts[0]["Customer"]] == ["Orca Marine Supplies"]
    assert parts[1]["Invoice"] == [
        {
            "Id": invoice["Id"],
            "status": "Deleted",
            "domain": "QBO",
            "MetaData": parts[1]["Invoice"][0]["MetaData"],
        }
    ]
    assert parts[2] == {}
    too_old = client.request(
        "GET", "cdc", params={"entities": "Customer", "changedSince": "2020-01-01"}
    )
    assert too_old.status_code == 400
    missing = client.request("GET", "cdc", params={"entities": "Customer"})
    assert fault(missing)["code"] == "2020"


def test_demo_fixture_has_the_shared_companies(serve, http):
    client = make_client(serve, http, {"fixture": "demo"})
    names = client.query("select * from Customer maxresults 1000").json()
    xero = json.loads(XERO_DEMO.read_text())["tenants"][0]["Contacts"]
    assert {c["DisplayName"] for c in names["QueryResponse"]["Customer"]} == {
        c["Name"] for c in xero
    }
    assert client.query("select count(*) from Invoice").json()["QueryResponse"] == {
        "totalCount": 42
    }
    open_invoices = client.query("select * from Invoice where Balance > '0'").json()
    assert 0 < len(open_invoices["QueryResponse"]["Invoice"]) < 42


def test_a_refused_invoice_uses_up_no_document_number(client):
    """The sandbox used to hand out the next DocNumber before validating, so a refused invoice
    left a gap (1001 refused, the next saved invoice 1002)."""
    client.create("customer", {"DisplayName": "Gapless Ltd"})
    untaxed = {"DetailType": "SalesItemLineDetail", "Amount": 5, "SalesItemLineDetail": {}}
    refused = client.post("invoice", {"CustomerRef": {"value": "1"}, "Line": [untaxed]})
    assert fault(refused)["code"] == "6000"
    saved = client.create(
        "invoice", {"CustomerRef": {"value": "1"}, "Line": [sales_line(1, 5, "4")]}
    )
    assert saved["DocNumber"] == "1001"
    client.post("invoice", {"Id": saved["Id"], "SyncToken": "0"}, operation="delete")
    again = client.create(
        "invoice", {"CustomerRef": {"value": "1"}, "Line": [sales_line(1, 5, "4")]}
    )
    assert again["DocNumber"] == "1002"  # a deleted invoice's number is not handed out again
