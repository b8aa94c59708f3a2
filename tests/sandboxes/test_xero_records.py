"""Xero data endpoints: contacts, where/order/paging/If-Modified-Since, invoices, payments."""

import re

import pytest

DUPLICATE = (
    "The contact name ACME Ltd is already assigned to another contact. "
    "The contact name must be unique across all active contacts."
)


def create_contact(client, **fields):
    response = client.put("Contacts", {"Contacts": [fields]})
    assert response.status_code == 200, response.text
    return response.json()["Contacts"][0]


def create_invoice(client, **fields):
    response = client.put("Invoices", {"Invoices": [fields]})
    assert response.status_code == 200, response.text
    return response.json()["Invoices"][0]


def test_put_contact_returns_envelope_and_record(xero_client):
    response = xero_client.put(
        "Contacts", {"Contacts": [{"Name": "ACME Ltd", "EmailAddress": "ap@acme.test"}]}
    )
    body = response.json()
    assert set(body) >= {"Id", "Status", "ProviderName", "DateTimeUTC", "Contacts"}
    assert body["Status"] == "OK"
    assert re.fullmatch(r"/Date\(\d+\)/", body["DateTimeUTC"])
    contact = body["Contacts"][0]
    assert re.fullmatch(r"[0-9a-f-]{36}", contact["ContactID"])
    assert re.fullmatch(r"/Date\(\d+\+0000\)/", contact["UpdatedDateUTC"])
    assert contact["ContactStatus"] == "ACTIVE"
    fetched = xero_client.get(f"Contacts/{contact['ContactID']}").json()["Contacts"][0]
    assert fetched["Name"] == "ACME Ltd"


def test_search_contacts_with_where(xero_client):
    create_contact(xero_client, Name="ACME Ltd", EmailAddress="ap@acme.test")
    create_contact(xero_client, Name="Acme Holdings", EmailAddress="x@holdings.test")
    create_contact(xero_client, Name="Blue Fern", EmailAddress="hello@bluefern.test")

    def names(where):
        response = xero_client.get("Contacts", params={"where": where})
        assert response.status_code == 200, response.text
        return sorted(c["Name"] for c in response.json()["Contacts"])

    assert names('Name=="ACME Ltd"') == ["ACME Ltd"]
    assert names('EmailAddress=="hello@bluefern.test"') == ["Blue Fern"]
    assert names('Name.Contains("acme")') == ["ACME Ltd", "Acme Holdings"]
    assert names('Name.StartsWith("Blue") OR Name=="ACME Ltd"') == ["ACME Ltd", "Blue Fern"]
    assert names('Name.Contains("acme") AND EmailAddress.EndsWith("holdings.test")') == [
        "Acme Holdings"
    ]
    assert names('(Name=="Nobody")') == []


def test_where_strings_double_a_quote_and_keep_a_backslash_as_xero_does(xero_client):
    """Xero's ``where`` is Dynamic LINQ: a quote inside a string is written twice and a
    backslash is an ordinary character (docs/modules/xero.md, "where strings"). A
    backslash-escaped quote ends the string there — Xero refuses ``Name=="a\\"b"``
    (XeroAPI/Xero-Java#347) — and the sandbox must refuse it too, never read it leniently."""
    name = "asd\"asd'asd \\ Ōtautahi"
    create_contact(xero_client, Name=name)
    create_contact(xero_client, Name="asd")
    create_contact(xero_client, Name="C:\\")

    def found(where):
        response = xero_client.get("Contacts", params={"where": where})
        return response.status_code, response.json()

    status, body = found('Name=="asd""asd\'asd \\ Ōtautahi"')
    assert status == 200, body
    assert [c["Name"] for c in body["Contacts"]] == [name]
    for refused in (
        'Name=="asd\\"asd\'asd \\\\ Ōtautahi"',  # JSON's escapes
        'Name=="asd"asd\'asd \\ Ōtautahi"',  # not escaped
    ):
        status, body = found(refused)
        assert status == 400 and body["Type"] == "QueryParseException", refused
    status, body = found('Name=="C:\\"')  # the backslash is the name's, the quote ends it
    assert status == 200 and [c["Name"] for c in body["Contacts"]] == ["C:\\"]
    status, body = found('Name=="\\u014ctautahi"')
    assert status == 200 and body["Contacts"] == []  # six characters, not "Ō"


def test_where_with_unknown_field_is_query_parse_error(xero_client):
    response = xero_client.get("Contacts", params={"where": 'Colour=="red"'})
    assert response.status_code == 400
    assert response.json()["Type"] == "QueryParseException"
    assert "No property or field 'Colour' exists in type 'Contact'" in response.json()["Message"]


def test_update_contact_by_post_with_contact_id(xero_client):
    contact = create_contact(xero_client, Name="ACME Ltd")
    response = xero_client.post(
        "Contacts",
        {"Contacts": [{"ContactID": contact["ContactID"], "EmailAddress": "new@acme.test"}]},
    )
    assert response.status_code == 200
    updated = response.json()["Contacts"][0]
    assert updated["EmailAddress"] == "new@acme.test"
    assert updated["Name"] == "ACME Ltd"
    by_path = xero_client.post(f"Contacts/{contact['ContactID']}", {"FirstName": "Ada"})
    assert by_path.json()["Contacts"][0]["FirstName"] == "Ada"
    assert len(xero_client.get("Contacts").json()["Contacts"]) == 1


def test_duplicate_contact_name_is_validation_exception_verbatim(xero_client):
    create_contact(xero_client, Name="ACME Ltd")
    response = xero_client.put("Contacts", {"Contacts": [{"Name": "ACME Ltd"}]})
    assert response.status_code == 400
    body = response.json()
    assert body["ErrorNumber"] == 10
    assert body["Type"] == "ValidationException"
    assert body["Message"] == "A validation exception occurred"
    assert body["Elements"][0]["ValidationErrors"] == [{"Message": DUPLICATE}]


def test_batch_rolls_back_unless_summarize_errors_false(xero_client):
    create_contact(xero_client, Name="ACME Ltd")
    batch = {"Contacts": [{"Name": "New One"}, {"Name": "ACME Ltd"}]}
    assert xero_client.put("Contacts", batch).status_code == 400
    assert len(xero_client.get("Contacts").json()["Contacts"]) == 1
    response = xero_client.put("Contacts", batch, params={"summarizeErrors": "false"})
    assert response.status_code == 200
    elements = response.json()["Contacts"]
    assert [e["StatusAttributeString"] for e in elements] == ["OK", "ERROR"]
    assert elements[1]["ValidationErrors"] == [{"Message": DUPLICATE}]
    assert len(xero_client.get("Contacts").json()["Contacts"]) == 2


def test_paging_is_100_per_page_and_order_applies(xero, xero_client):
    contacts = [{"Name": f"Company {n:03d}"} for n in range(250)]
    xero.control("seed", {"tenants": [{"tenantId": xero_client.tenant_id, "Contacts": contacts}]})
    pages = [
        xero_client.get("Contacts", params={"page": p, "order": "Name DESC"}).json()["Contacts"]
        for p in (1, 2, 3, 4)
    ]
    assert [len(p) for p in pages] == [100, 100, 50, 0]
    assert pages[0][0]["Name"] == "Company 249"
    assert pages[2][-1]["Name"] == "Company 000"
    assert len(xero_client.get("Contacts").json()["Contacts"]) == 250  # unpaged: everything


def test_if_modified_since_returns_only_newer_records(xero, xero_client):
    xero.control(
        "seed",
        {
            "tenants": [
                {
                    "tenantId": xero_client.tenant_id,
                    "Contacts": [
                        {"Name": "Old Co", "UpdatedDateUTC": "2020-01-01T00:00:00"},
                        {"Name": "Older Co", "UpdatedDateUTC": "2019-06-01T00:00:00"},
                    ],
                }
            ]
        },
    )
    create_contact(xero_client, Name="Fresh Co")
    since = {"If-Modified-Since": "2020-06-01T00:00:00"}
    names = [c["Name"] for c in xero_client.get("Contacts", headers=since).json()["Contacts"]]
    assert names == ["Fresh Co"]
    http_date = {"If-Modified-Since": "Sun, 01 Dec 2019 00:00:00 GMT"}
    names = [c["Name"] for c in xero_client.get("Contacts", headers=http_date).json()["Contacts"]]
    assert sorted(names) == ["Fresh Co", "Old Co"]


@pytest.mark.parametrize(
    ("amount_types", "sub_total", "total_tax", "total"),
    [
        ("Exclusive", 300.0, 45.0, 345.0),
        ("Inclusive", 260.87, 39.13, 300.0),
        ("NoTax", 300.0, 0.0, 300.0),
    ],
)
def test_invoice_totals_and_taxes(xero_client, amount_types, sub_total, total_tax, total):
    contact = create_contact(xero_client, Name="ACME Ltd")
    invoice = create_invoice(
        xero_client,
        Type="ACCREC",
        Contact={"ContactID": contact["ContactID"]},
        LineAmountTypes=amount_types,
        Date="2024-03-01",
        DueDate="2024-03-31",
        LineItems=[
            {
                "Description": "Widgets",
                "Quantity": 2,
                "UnitAmount": 100,
                "AccountCode": "200",
                "TaxType": "OUTPUT2",
            },
            {"Description": "Setup", "Quantity": 1, "UnitAmount": 100, "AccountCode": "200"},
        ],
    )
    assert (invoice["SubTotal"], invoice["TotalTax"], invoice["Total"]) == (
        sub_total,
        total_tax,
        total,
    )
    assert invoice["AmountDue"] == total
    assert invoice["AmountPaid"] == 0
    assert invoice["Status"] == "DRAFT"
    assert invoice["InvoiceNumber"] == "INV-0001"
    assert invoice["LineItems"][0]["LineAmount"] == 200.0
    assert re.fullmatch(r"/Date\(\d+\+0000\)/", invoice["DueDate"])
    assert invoice["DateString"] == "2024-03-01T00:00:00"


def test_invoice_without_contact_and_with_bad_tax_type(xero_client):
    response = xero_client.put(
        "Invoices",
        {
            "Invoices": [
                {
                    "Type": "ACCREC",
                    "LineItems": [{"Description": "x", "UnitAmount": 1, "TaxType": "BOGUS"}],
                }
            ]
        },
    )
    assert response.status_code == 400
    messages = [e["Message"] for e in response.json()["Elements"][0]["ValidationErrors"]]
    assert messages == [
        "The Contact must contain at least 1 of the following elements to identify the contact: "
        "Name, ContactID, ContactNumber",
        "The TaxType code 'BOGUS' does not exist or cannot be used for this type of transaction.",
    ]


def test_invoice_by_contact_name_creates_contact_and_where_filters(xero_client):
    create_invoice(
        xero_client,
        Type="ACCREC",
        Contact={"Name": "New Customer"},
        Status="AUTHORISED",
        DueDate="2024-02-10",
        LineItems=[{"Description": "x", "UnitAmount": 10}],
    )
    contact = xero_client.get("Contacts", params={"where": 'Name=="New Customer"'}).json()[
        "Contacts"
    ][0]
    assert contact["IsCustomer"] is True
    where = (
        f'Type=="ACCREC" AND Status=="AUTHORISED" AND '
        f'Contact.ContactID==guid("{contact["ContactID"]}")'
    )
    found = xero_client.get("Invoices", params={"where": where}).json()["Invoices"]
    assert len(found) == 1
    assert "LineItems" not in found[0]  # Xero omits line items on unpaged lists
    paged = xero_client.get("Invoices", params={"where": where, "page": 1}).json()["Invoices"]
    assert paged[0]["LineItems"][0]["Description"] == "x"


def test_payment_settles_invoice(xero_client):
    contact = create_contact(xero_client, Name="ACME Ltd")
    invoice = create_invoice(
        xero_client,
        Type="ACCREC",
        Status="AUTHORISED",
        DueDate="2024-02-10",
        Contact={"ContactID": contact["ContactID"]},
        LineItems=[{"Description": "x", "Quantity": 1, "UnitAmount": 100}],
    )
    assert invoice["Total"] == 115.0

    def pay(amount):
        return xero_client.put(
            "Payments",
            {
                "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                "Account": {"Code": "090"},
                "Date": "2024-04-01",
                "Amount": amount,
                "Reference": "R1",
            },
        )

    first = pay(15)
    assert first.status_code == 200, first.text
    payment = first.json()["Payments"][0]
    assert payment["Invoice"]["InvoiceID"] == invoice["InvoiceID"]
    assert payment["Status"] == "AUTHORISED"
    partly = xero_client.get(f"Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]
    assert (partly["AmountDue"], partly["AmountPaid"], partly["Status"]) == (
        100.0,
        15.0,
        "AUTHORISED",
    )
    over = pay(100.01)
    assert over.status_code == 400
    assert over.json()["Elements"][0]["ValidationErrors"] == [
        {"Message": "Payment amount exceeds the amount outstanding on this document"}
    ]
    assert pay(100).status_code == 200
    paid = xero_client.get(f"Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]
    assert (paid["AmountDue"], paid["Status"]) == (0.0, "PAID")
    assert len(paid["Payments"]) == 2
    payments = xero_client.get(
        "Payments", params={"where": f'Invoice.InvoiceID==guid("{invoice["InvoiceID"]}")'}
    ).json()["Payments"]
    assert len(payments) == 2


def test_payment_on_draft_invoice_is_refused(xero_client):
    contact = create_contact(xero_client, Name="ACME Ltd")
    invoice = create_invoice(
        xero_client,
        Type="ACCREC",
        Contact={"ContactID": contact["ContactID"]},
        LineItems=[{"Description": "x", "UnitAmount": 10}],
    )
    response = xero_client.put(
        "Payments",
        {
            "Payments": [
                {
                    "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                    "Account": {"Code": "090"},
                    "Amount": 5,
                }
            ]
        },
    )
    assert response.status_code == 400
    assert response.json()["Elements"][0]["ValidationErrors"] == [
        {"Message": "Payments can only be made against Authorised documents"}
    ]


def test_quotes_create_and_list(xero_client):
    contact = create_contact(xero_client, Name="ACME Ltd")
    response = xero_client.put(
        "Quotes",
        {
            "Quotes": [
                {
                    "Contact": {"ContactID": contact["ContactID"]},
                    "Date": "2024-05-01",
                    "ExpiryDate": "2024-05-31",
                    "Title": "Website",
                    "LineItems": [
                        {
                            "Description": "Design",
                            "Quantity": 3,
                            "UnitAmount": 50,
                            "TaxType": "OUTPUT2",
                        }
                    ],
                }
            ]
        },
    )
    assert response.status_code == 200, response.text
    quote = response.json()["Quotes"][0]
    assert (quote["QuoteNumber"], quote["Status"], quote["Total"]) == ("QU-0001", "DRAFT", 172.5)
    listed = xero_client.get("Quotes", params={"Status": "DRAFT"}).json()["Quotes"]
    assert [q["QuoteID"] for q in listed] == [quote["QuoteID"]]


def test_unknown_record_is_404(xero_client):
    response = xero_client.get("Contacts/3f1c2b7a-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.json()["Status"] == 404


def test_state_logs_requests(xero, xero_client):
    xero_client.get("Contacts", params={"where": 'Name=="x"'})
    log = xero.state()["requests"]
    entry = [e for e in log if e["path"] == "/api.xro/2.0/Contacts"][-1]
    assert entry["query"] == {"where": ['Name=="x"']}
    assert entry["status"] == 200


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Total > 100", ["INV-0002"]),
        ("Date >= DateTime(2024, 02, 01)", ["INV-0002"]),
        ('NOT (Status == "PAID") AND Status != "DRAFT"', ["INV-0001"]),
        ('Reference.ToLower().StartsWith("po-")', ["INV-0001", "INV-0002"]),
        ('Status == "AUTHORISED" || Total < 0', ["INV-0001"]),
    ],
)
def test_where_expression_forms_on_invoices(xero, xero_client, where, expected):
    contact_id = create_contact(xero_client, Name="ACME Ltd")["ContactID"]
    base = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "Status": "AUTHORISED",
        "DueDate": "2024-03-31",
    }
    create_invoice(
        xero_client,
        **base,
        Date="2024-01-10",
        Reference="PO-1",
        LineItems=[{"Description": "a", "UnitAmount": 50}],
    )
    second = create_invoice(
        xero_client,
        **base,
        Date="2024-02-10",
        Reference="po-2",
        LineItems=[{"Description": "b", "UnitAmount": 200}],
    )
    xero_client.put(
        "Payments",
        {
            "Invoice": {"InvoiceID": second["InvoiceID"]},
            "Account": {"Code": "090"},
            "Amount": second["Total"],
        },
    )
    response = xero_client.get("Invoices", params={"where": where, "order": "InvoiceNumber"})
    assert response.status_code == 200, response.text
    assert [i["InvoiceNumber"] for i in response.json()["Invoices"]] == expected


def test_deleting_a_payment_reopens_the_invoice(xero_client):
    contact_id = create_contact(xero_client, Name="ACME Ltd")["ContactID"]
    invoice = create_invoice(
        xero_client,
        Type="ACCREC",
        Status="AUTHORISED",
        DueDate="2024-02-10",
        Contact={"ContactID": contact_id},
        LineItems=[{"Description": "a", "UnitAmount": 20}],
    )
    payment = xero_client.put(
        "Payments",
        {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Account": {"Code": "090"}, "Amount": 23},
    ).json()
    payment_id = payment["Payments"][0]["PaymentID"]
    deleted = xero_client.post(f"Payments/{payment_id}", {"Status": "DELETED"})
    assert deleted.json()["Payments"][0]["Status"] == "DELETED"
    reopened = xero_client.get(f"Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]
    assert (reopened["Status"], reopened["AmountDue"], reopened["Payments"]) == (
        "AUTHORISED",
        23.0,
        [],
    )
