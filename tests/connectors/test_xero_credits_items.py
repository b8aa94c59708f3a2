"""Xero credit notes, items and overpayments modules against the running sandbox."""

from __future__ import annotations

from modules.xero.webhooks import event_bundles

from .conftest import node, outputs


def conn(connection, **parameters):
    return {"__IMTCONN__": connection.id, **parameters}


def one(runner, module, mapper, connection, **parameters):
    record = runner.one(module, mapper, conn(connection, **parameters))
    assert record.status == "success", record.error
    return outputs(record, 1)


def authorised_invoice(runner, connection, contact_id):
    (invoice,) = one(
        runner,
        "xero:CreateInvoice",
        {
            "ContactID": contact_id,
            "Status": "AUTHORISED",
            "DueDate": "2026-04-30",
            "LineItems": [{"Description": "Work", "Quantity": 1, "UnitAmount": 200}],
        },
        connection,
    )
    return invoice


def test_credit_note_created_found_and_allocated_to_an_invoice(runner, xero_connection):
    (contact,) = one(runner, "xero:CreateContact", {"Name": "Pukeko Ltd"}, xero_connection)
    invoice = authorised_invoice(runner, xero_connection, contact["ContactID"])
    (note,) = one(
        runner,
        "xero:CreateCreditNote",
        {
            "Type": "sales",
            "ContactID": contact["ContactID"],
            "Status": "AUTHORISED",
            "LineItems": [{"Description": "Goodwill", "Quantity": 1, "UnitAmount": 40}],
        },
        xero_connection,
    )
    assert (note["Type"], note["Total"], note["RemainingCredit"]) == ("ACCRECCREDIT", 46, 46)
    found = one(
        runner,
        "xero:SearchCreditNotes",
        {"filter": [[{"field": "Type", "operator": "equals", "value": "ACCRECCREDIT"}]]},
        xero_connection,
    )
    assert [n["CreditNoteID"] for n in found] == [note["CreditNoteID"]]
    (got,) = one(
        runner, "xero:GetCreditNote", {"CreditNoteID": note["CreditNoteID"]}, xero_connection
    )
    assert got["CreditNoteNumber"] == note["CreditNoteNumber"]
    (allocation,) = one(
        runner,
        "xero:AllocateCreditNote",
        {"CreditNoteID": note["CreditNoteID"], "InvoiceID": invoice["InvoiceID"], "Amount": 46},
        xero_connection,
    )
    assert allocation["Amount"] == 46 and allocation["Date"]
    watched = runner.run(
        [node(1, "xero:WatchCreditNotes", parameters=conn(xero_connection, start="all"))]
    )
    assert [(n["Status"], n["RemainingCredit"]) for n in outputs(watched, 1)] == [("PAID", 0)]


def test_a_credit_note_allocation_deleted_frees_the_credit_and_the_invoice_owes_again(
    runner, xero_connection
):
    """Xero's ``deleteCreditNoteAllocations``: the invoice owes again and the credit note is
    AUTHORISED with its credit free (then it may be voided); an allocation not there is 404."""
    (contact,) = one(runner, "xero:CreateContact", {"Name": "Kereru Ltd"}, xero_connection)
    invoice = authorised_invoice(runner, xero_connection, contact["ContactID"])
    (note,) = one(
        runner,
        "xero:CreateCreditNote",
        {
            "Type": "ACCRECCREDIT",
            "ContactID": contact["ContactID"],
            "Status": "AUTHORISED",
            "LineAmountTypes": "NoTax",
            "LineItems": [{"Description": "Goodwill", "Quantity": 1, "UnitAmount": 30}],
        },
        xero_connection,
    )
    ids = {"CreditNoteID": note["CreditNoteID"], "InvoiceID": invoice["InvoiceID"]}
    (allocation,) = one(runner, "xero:AllocateCreditNote", {**ids, "Amount": 30}, xero_connection)
    wanted = {"CreditNoteID": note["CreditNoteID"], "AllocationID": allocation["AllocationID"]}
    (deleted,) = one(runner, "xero:DeleteCreditNoteAllocation", wanted, xero_connection)
    assert deleted["IsDeleted"] is True and deleted["Amount"] == 30
    (got,) = one(
        runner, "xero:GetCreditNote", {"CreditNoteID": note["CreditNoteID"]}, xero_connection
    )
    assert (got["Status"], got["RemainingCredit"], got.get("Allocations") or []) == (
        "AUTHORISED",
        30,
        [],
    )
    where = [[{"field": "InvoiceID", "operator": "equals", "value": invoice["InvoiceID"]}]]
    found = one(
        runner, "xero:SearchInvoice", {"searchBy": "field", "filter": where}, xero_connection
    )
    assert [(i["AmountDue"], i["AmountCredited"]) for i in found] == [(230, 0)]
    again = runner.one("xero:DeleteCreditNoteAllocation", wanted, conn(xero_connection))
    assert again.status == "error"
    assert "cannot be found" in again.error["message"]


def test_items_created_updated_got_searched_and_watched(runner, xero, xero_connection):
    (item,) = one(
        runner,
        "xero:CreateItem",
        {
            "Code": "HOUR",
            "Name": "Consulting hour",
            "SalesDetails": {"UnitPrice": 120, "AccountCode": "200", "TaxType": "OUTPUT2"},
        },
        xero_connection,
    )
    (updated,) = one(
        runner,
        "xero:UpdateItem",
        {"ItemID": item["ItemID"], "Code": "HOUR", "Name": "Hour"},
        xero_connection,
    )
    assert updated["Name"] == "Hour" and updated["SalesDetails"]["UnitPrice"] == 120
    (got,) = one(runner, "xero:GetItem", {"ItemID": item["ItemID"]}, xero_connection)
    assert got["Code"] == "HOUR"
    found = one(
        runner,
        "xero:SearchItems",
        {"filter": [{"field": "Code", "operator": "equals", "value": "HOUR"}]},
        xero_connection,
    )
    assert [i["Code"] for i in found] == ["HOUR"]
    watched = runner.run(
        [node(1, "xero:WatchItems", parameters=conn(xero_connection, start="all"))]
    )
    assert [i["Code"] for i in outputs(watched, 1)] == ["HOUR"]
    # Xero answers Items whole: the connector sends no page parameter.
    assert all("page" not in r["query"] for r in xero.requests_to("/api.xro/2.0/Items", "GET"))


def test_overpayments_watched_found_and_allocated(runner, xero, xero_connection):
    (contact,) = one(runner, "xero:CreateContact", {"Name": "Tūī Ltd"}, xero_connection)
    invoice = authorised_invoice(runner, xero_connection, contact["ContactID"])
    xero.control(
        "seed",
        {
            "tenants": [
                {
                    "tenantId": xero_connection.data["tenant_id"],
                    "Overpayments": [
                        {
                            "Type": "RECEIVE-OVERPAYMENT",
                            "Contact": {"ContactID": contact["ContactID"]},
                            "LineAmountTypes": "NoTax",
                            "LineItems": [{"Description": "Paid twice", "LineAmount": 30}],
                        }
                    ],
                }
            ]
        },
    )
    watched = runner.run(
        [node(1, "xero:WatchOverpayments", parameters=conn(xero_connection, start="all"))]
    )
    (over,) = outputs(watched, 1)
    found = one(
        runner, "xero:SearchOverpayments", {"where": 'Status=="AUTHORISED"'}, xero_connection
    )
    assert [o["OverpaymentID"] for o in found] == [over["OverpaymentID"]]
    (got,) = one(
        runner, "xero:GetOverpayment", {"OverpaymentID": over["OverpaymentID"]}, xero_connection
    )
    assert got["RemainingCredit"] == 30
    one(
        runner,
        "xero:AllocateOverpayment",
        {
            "OverpaymentID": over["OverpaymentID"],
            "InvoiceID": invoice["InvoiceID"],
            "Amount": 30,
            "Date": "2026-04-01",
        },
        xero_connection,
    )
    (left,) = one(
        runner,
        "xero:SearchInvoice",
        {"InvoiceNumbers": [invoice["InvoiceNumber"]]},
        xero_connection,
    )
    assert left["AmountDue"] == 200


def test_new_event_keeps_the_creditnote_category_and_its_data():
    delivery = {
        "events": [
            {"eventCategory": "INVOICE", "eventType": "UPDATE", "resourceId": "i"},
            {
                "eventCategory": "CREDITNOTE",
                "eventType": "CREATE",
                "resourceId": "c",
                "data": {"Type": "ACCRECCREDIT", "Status": "DRAFT"},
            },
        ]
    }
    (event,) = event_bundles(delivery, {"categories": "CREDITNOTE"})
    assert event["data"] == {"Type": "ACCRECCREDIT", "Status": "DRAFT"}
