"""Xero sandbox: ``GET /Quotes`` takes the parameters Xero's spec gives it (ContactID, Status,
QuoteNumber, DateFrom/DateTo, ExpiryDateFrom/ExpiryDateTo) and no ``where``; the read-only
settings lists (tax rates, accounts) take ``where`` and ``order``."""

from .test_xero_records import create_contact

LINE = {"Description": "Design", "Quantity": 1, "UnitAmount": 50, "TaxType": "OUTPUT2"}


def create_quote(client, contact_id, **fields):
    body = {"Contact": {"ContactID": contact_id}, "LineItems": [LINE], **fields}
    response = client.put("Quotes", {"Quotes": [body]})
    assert response.status_code == 200, response.text
    return response.json()["Quotes"][0]


def quote_ids(client, **params):
    response = client.get("Quotes", params=params)
    assert response.status_code == 200, response.text
    return [q["QuoteID"] for q in response.json()["Quotes"]]


def test_quotes_are_listed_by_their_own_parameters(xero_client):
    kea = create_contact(xero_client, Name="Kea Ltd")["ContactID"]
    tui = create_contact(xero_client, Name="Tui Ltd")["ContactID"]
    march = create_quote(
        xero_client, kea, Date="2026-03-10", ExpiryDate="2026-04-10", QuoteNumber="Q-7"
    )
    april = create_quote(
        xero_client, tui, Date="2026-04-02", ExpiryDate="2026-05-02", Status="SENT"
    )
    assert quote_ids(xero_client, ContactID=tui) == [april["QuoteID"]]
    assert quote_ids(xero_client, Status="sent") == [april["QuoteID"]]
    assert quote_ids(xero_client, QuoteNumber="Q-7") == [march["QuoteID"]]
    assert quote_ids(xero_client, DateFrom="2026-04-01") == [april["QuoteID"]]
    assert quote_ids(xero_client, DateTo="2026-03-31") == [march["QuoteID"]]
    assert quote_ids(xero_client, ExpiryDateFrom="2026-04-10", ExpiryDateTo="2026-04-30") == [
        march["QuoteID"]
    ]
    bad = xero_client.get("Quotes", params={"DateFrom": "next week"})
    assert bad.status_code == 400 and bad.json()["Type"] == "QueryParseException"


def test_a_where_on_quotes_is_not_a_filter(xero_client):
    """Xero's spec gives ``GET /Quotes`` no ``where``: a client relying on one would get
    every quote, so the connector never sends it (Search Quotes uses the parameters)."""
    kea = create_contact(xero_client, Name="Kea Ltd")["ContactID"]
    first = create_quote(xero_client, kea)["QuoteID"]
    second = create_quote(xero_client, kea, Status="SENT")["QuoteID"]
    assert quote_ids(xero_client, where='Status=="SENT"') == [first, second]


def test_tax_rates_and_accounts_take_where_and_order(xero_client):
    rates = xero_client.get("TaxRates", params={"where": 'TaxType=="OUTPUT2"'}).json()["TaxRates"]
    assert [r["TaxType"] for r in rates] == ["OUTPUT2"]
    ordered = xero_client.get("TaxRates", params={"order": "Name DESC"}).json()["TaxRates"]
    names = [r["Name"] for r in ordered]
    assert names == sorted(names, key=str.casefold, reverse=True)
    banks = xero_client.get("Accounts", params={"where": 'Type=="BANK"'}).json()["Accounts"]
    assert banks and {a["Type"] for a in banks} == {"BANK"}
    unknown = xero_client.get("TaxRates", params={"where": 'Colour=="red"'})
    assert unknown.status_code == 400


def test_a_quote_update_without_contact_and_date_is_refused_as_xero_does(xero_client):
    """The sandbox filled an update's missing ``Contact`` and ``Date`` in from the quote;
    Xero's update (spec ``updateQuote``) names both: one without them is a 400
    ValidationException listing each."""
    kea = create_contact(xero_client, Name="Kea Ltd")["ContactID"]
    quote = create_quote(xero_client, kea, ExpiryDate="2026-04-30")
    path = f"Quotes/{quote['QuoteID']}"
    refused = xero_client.post(path, {"Quotes": [{"ExpiryDate": "2026-05-31"}]})
    assert refused.status_code == 400, refused.text
    body = refused.json()
    assert body["Type"] == "ValidationException"
    messages = [e["Message"] for e in body["Elements"][0]["ValidationErrors"]]
    assert len(messages) == 2 and messages[0].startswith("The Contact must contain")
    assert "Date" in messages[1]
    update = {"Contact": {"ContactID": kea}, "Date": "2026-03-01", "ExpiryDate": "2026-05-31"}
    accepted = xero_client.post(path, {"Quotes": [update]})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["Quotes"][0]["ExpiryDate"].startswith("/Date(")


def set_status(client, quote, status):
    body = {
        "QuoteID": quote["QuoteID"],
        "Contact": {"ContactID": quote["Contact"]["ContactID"]},
        "Date": "2026-03-10",
        "Status": status,
    }
    return client.post(f"Quotes/{quote['QuoteID']}", {"Quotes": [body]})


def test_a_quote_is_accepted_or_declined_only_once_sent(xero_client):
    """Issue #20 (quote statuses): a customer's answer is recorded on a sent quote; a draft is
    sent first, an answer goes back to SENT before the other answer, an invoiced quote stays
    so. The sandbox refused nothing before (a draft became ACCEPTED at once)."""
    kea = create_contact(xero_client, Name="Kea Ltd")["ContactID"]
    quote = create_quote(xero_client, kea)
    refused = set_status(xero_client, quote, "ACCEPTED")
    assert refused.status_code == 400, refused.text
    assert "DRAFT cannot be changed to ACCEPTED" in refused.text
    for status in ("SENT", "ACCEPTED", "SENT", "DECLINED", "SENT", "ACCEPTED", "INVOICED"):
        assert set_status(xero_client, quote, status).status_code == 200, status
    assert set_status(xero_client, quote, "SENT").status_code == 400
    accepted = xero_client.put(
        "Quotes",
        {"Quotes": [{"Contact": {"ContactID": kea}, "LineItems": [LINE], "Status": "ACCEPTED"}]},
    )
    assert accepted.status_code == 400, accepted.text


def test_the_quote_status_changes_xero_is_known_to_refuse_are_refused(xero_client):
    """The two refusals confirmed against a live Xero organisation (XeroAPI/xero-mcp-server#309,
    docs/sandboxes.md): a draft cannot be declined, an accepted quote cannot be declined."""
    kea = create_contact(xero_client, Name="Kea Ltd")["ContactID"]
    quote = create_quote(xero_client, kea)
    draft_declined = set_status(xero_client, quote, "DECLINED")
    assert draft_declined.status_code == 400, draft_declined.text
    assert "DRAFT cannot be changed to DECLINED" in draft_declined.text
    for status in ("SENT", "ACCEPTED"):
        assert set_status(xero_client, quote, status).status_code == 200, status
    accepted_declined = set_status(xero_client, quote, "DECLINED")
    assert accepted_declined.status_code == 400, accepted_declined.text
    assert "ACCEPTED cannot be changed to DECLINED" in accepted_declined.text
