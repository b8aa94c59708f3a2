"""Xero sandbox rules from the vendor pack (``../shared/reference/vendor/xero/NOTES.md``): due
dates, payment accounts, the Organisations envelope, currencies, credit notes and their
allocations and webhooks, items, overpayments."""

import pytest

from .conftest import XeroClient, connect_xero

KEY = "sandbox-webhook-key"


def put_one(client, resource, element):
    response = client.put(resource, {resource: [element]})
    assert response.status_code == 200, response.text
    return response.json()[resource][0]


def refusal(response):
    """The messages of a 400 ValidationException (Xero's envelope)."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["ErrorNumber"], body["Type"]) == (10, "ValidationException")
    return [m["Message"] for e in body["Elements"] for m in e["ValidationErrors"]]


@pytest.fixture
def contact_id(xero_client):
    return put_one(xero_client, "Contacts", {"Name": "Harakeke Ltd"})["ContactID"]


def invoice(contact_id, **fields):
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "Status": "AUTHORISED",
        "DueDate": "2026-03-31",
        "LineItems": [{"Description": "Work", "Quantity": 1, "UnitAmount": 100}],
        **fields,
    }


@pytest.mark.parametrize("status", ["AUTHORISED", "SUBMITTED"])
def test_an_approved_invoice_without_a_due_date_is_refused(xero_client, contact_id, status):
    """NOTES §5: DueDate is required when Status is AUTHORISED or SUBMITTED."""
    element = invoice(contact_id, Status=status)
    del element["DueDate"]
    answer = xero_client.put("Invoices", {"Invoices": [element]})
    assert refusal(answer) == ["The document DueDate field must be specified."]
    assert xero_client.get("Invoices").json()["Invoices"] == []
    draft = {**element, "Status": "DRAFT"}
    assert put_one(xero_client, "Invoices", draft)["Status"] == "DRAFT"


def test_payments_go_to_bank_accounts_or_accounts_with_payments_enabled(xero_client, contact_id):
    """NOTES §9: the spec's own example pays into 970, a non-bank account with payments on."""
    accounts = {a["Code"]: a for a in xero_client.get("Accounts").json()["Accounts"]}
    assert (accounts["970"]["Type"], accounts["970"]["EnablePaymentsToAccount"]) == (
        "EQUITY",
        True,
    )
    first = put_one(xero_client, "Invoices", invoice(contact_id))
    paid = put_one(
        xero_client,
        "Payments",
        {"Invoice": {"InvoiceID": first["InvoiceID"]}, "Account": {"Code": "970"}, "Amount": 40},
    )
    assert paid["Account"]["Code"] == "970"
    to_sales = xero_client.put(
        "Payments",
        {
            "Payments": [
                {
                    "Invoice": {"InvoiceID": first["InvoiceID"]},
                    "Account": {"Code": "200"},
                    "Amount": 10,
                }
            ]
        },
    )
    assert refusal(to_sales) == ["Account type is invalid for making a payment to/from"]


def test_the_organisation_is_answered_under_organisations(xero_client):
    body = xero_client.get("Organisation").json()
    assert "Organisation" not in body
    (organisation,) = body["Organisations"]
    assert organisation["BaseCurrency"] == "NZD"


def test_documents_must_use_a_currency_of_the_organisation(http, start_xero):
    """NOTES §8: GET /Currencies lists the organisation's currencies; others are refused."""
    xero = start_xero({"currencies": ["AUD"]})
    tokens, tenant_id = connect_xero(http, xero)
    client = XeroClient(http, xero, tokens["access_token"], tenant_id)
    codes = [c["Code"] for c in client.get("Currencies").json()["Currencies"]]
    assert codes == ["NZD", "AUD"]
    contact = put_one(client, "Contacts", {"Name": "Sydney Pty"})["ContactID"]
    assert (
        put_one(client, "Invoices", invoice(contact, CurrencyCode="AUD"))["CurrencyCode"] == "AUD"
    )
    refused = client.put("Invoices", {"Invoices": [invoice(contact, CurrencyCode="USD")]})
    assert refusal(refused) == ["The currency USD is not enabled for this organisation."]


def test_a_credit_note_allocated_to_an_invoice_settles_it(xero_client, contact_id):
    """NOTES §10: PUT /CreditNotes/{id}/Allocations with Invoice, Amount and Date."""
    owed = put_one(xero_client, "Invoices", invoice(contact_id))
    note = put_one(
        xero_client,
        "CreditNotes",
        {
            "Type": "ACCRECCREDIT",
            "Contact": {"ContactID": contact_id},
            "Status": "AUTHORISED",
            "LineItems": [{"Description": "Refund", "Quantity": 1, "UnitAmount": 100}],
        },
    )
    assert note["CreditNoteNumber"] == "CN-0001"
    assert (note["Total"], note["RemainingCredit"]) == (115, 115)
    too_much = xero_client.put(
        f"CreditNotes/{note['CreditNoteID']}/Allocations",
        {
            "Allocations": [
                {"Invoice": {"InvoiceID": owed["InvoiceID"]}, "Amount": 200, "Date": "2026-03-02"}
            ]
        },
    )
    assert "The amount allocated exceeds the remaining credit" in refusal(too_much)
    allocated = xero_client.put(
        f"CreditNotes/{note['CreditNoteID']}/Allocations",
        {
            "Allocations": [
                {"Invoice": {"InvoiceID": owed["InvoiceID"]}, "Amount": 115, "Date": "2026-03-02"}
            ]
        },
    )
    assert allocated.status_code == 200, allocated.text
    assert allocated.json()["Allocations"][0]["Amount"] == 115
    settled = xero_client.get(f"Invoices/{owed['InvoiceID']}").json()["Invoices"][0]
    assert (settled["Status"], settled["AmountCredited"], settled["AmountDue"]) == ("PAID", 115, 0)
    spent = xero_client.get(f"CreditNotes/{note['CreditNoteID']}").json()["CreditNotes"][0]
    assert (spent["Status"], spent["RemainingCredit"]) == ("PAID", 0)


def test_credit_notes_send_creditnote_webhooks_with_type_and_status(
    xero, xero_client, contact_id, receiver_factory
):
    """wh-spec: CREDITNOTE events carry data {Type, Status}."""
    receiver, url = receiver_factory(key=KEY)
    xero.control("config", {"webhook_url": url, "webhook_key": KEY})
    note = put_one(
        xero_client,
        "CreditNotes",
        {"Type": "ACCPAYCREDIT", "Contact": {"ContactID": contact_id}, "Status": "DRAFT"},
    )
    (delivery,) = receiver.wait_for(1)
    (event,) = delivery["json"]["events"]
    assert event["eventCategory"] == "CREDITNOTE" and event["eventType"] == "CREATE"
    assert event["data"] == {"Type": "ACCPAYCREDIT", "Status": "DRAFT"}
    assert event["resourceUrl"].endswith(f"/api.xro/2.0/CreditNotes/{note['CreditNoteID']}")


def test_items_have_unique_codes_and_follow_the_sold_and_purchased_flags(xero_client):
    """NOTES §11."""
    item = put_one(
        xero_client,
        "Items",
        {
            "Code": "WIDGET",
            "Name": "Widget",
            "Description": "A widget",
            "SalesDetails": {"UnitPrice": 50, "AccountCode": "200", "TaxType": "OUTPUT2"},
        },
    )
    assert (item["IsSold"], item["IsPurchased"], item["IsTrackedAsInventory"]) == (
        True,
        True,
        False,
    )
    assert item["SalesDetails"]["UnitPrice"] == 50
    duplicate = xero_client.put("Items", {"Items": [{"Code": "widget"}]})
    assert refusal(duplicate) == ["Price List Item with Code 'widget' already exists"]
    no_code = xero_client.post(f"Items/{item['ItemID']}", {"Items": [{"IsSold": False}]})
    assert refusal(no_code) == ["Item code must be specified"]  # the spec requires Code
    updated = xero_client.post(
        f"Items/{item['ItemID']}", {"Items": [{"Code": "WIDGET", "IsSold": False}]}
    )
    assert updated.status_code == 200, updated.text
    (unsold,) = updated.json()["Items"]
    assert "SalesDetails" not in unsold and "Description" not in unsold
    assert xero_client.get("Items/WIDGET").status_code == 404  # the path takes the ItemID


def test_overpayments_are_listed_and_allocated_to_invoices(xero, xero_client, contact_id):
    owed = put_one(xero_client, "Invoices", invoice(contact_id))
    xero.control(
        "seed",
        {
            "tenants": [
                {
                    "tenantId": xero_client.tenant_id,
                    "Overpayments": [
                        {
                            "Type": "RECEIVE-OVERPAYMENT",
                            "Contact": {"ContactID": contact_id},
                            "LineAmountTypes": "NoTax",
                            "LineItems": [{"Description": "Paid twice", "LineAmount": 60}],
                        }
                    ],
                }
            ]
        },
    )
    (over,) = xero_client.get("Overpayments").json()["Overpayments"]
    assert (over["Status"], over["Total"], over["RemainingCredit"]) == ("AUTHORISED", 60, 60)
    assert xero_client.put("Overpayments", {"Overpayments": [{}]}).status_code == 405
    allocated = xero_client.put(
        f"Overpayments/{over['OverpaymentID']}/Allocations",
        {
            "Allocations": [
                {"Invoice": {"InvoiceID": owed["InvoiceID"]}, "Amount": 60, "Date": "2026-03-02"}
            ]
        },
    )
    assert allocated.status_code == 200, allocated.text
    left = xero_client.get(f"Invoices/{owed['InvoiceID']}").json()["Invoices"][0]
    assert (left["Status"], left["AmountDue"]) == ("AUTHORISED", 55)


def test_a_document_may_name_its_contact_by_contact_number(xero_client):
    """NOTES §12: Name, ContactID or ContactNumber identifies the contact of a transaction."""
    contact = put_one(xero_client, "Contacts", {"Name": "Numbered Ltd", "ContactNumber": "1CRM-7"})
    element = invoice(None, Status="DRAFT")
    element["Contact"] = {"ContactNumber": "1CRM-7"}
    assert put_one(xero_client, "Invoices", element)["Contact"]["ContactID"] == contact["ContactID"]
    element["Contact"] = {"ContactNumber": "1CRM-404"}
    refused = xero_client.put("Invoices", {"Invoices": [element]})
    assert refusal(refused) == ["The contact with ContactNumber 1CRM-404 was not found"]
