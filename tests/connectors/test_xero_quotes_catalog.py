"""Xero modules for the Zoho CRM ⇄ Xero pack against the running sandbox (every exchange also
checked against Xero's OpenAPI file): quotes watched, searched by Xero's own quote
parameters, got and updated; items found by code or name; tax rates to map."""

from __future__ import annotations

from .conftest import node, outputs
from .test_xero_credits_items import conn, one

LINE = {"Description": "Design", "Quantity": 2, "UnitAmount": 100, "TaxType": "OUTPUT2"}


def quote(runner, connection, contact_id, **fields):
    (created,) = one(
        runner,
        "xero:CreateQuote",
        {"ContactID": contact_id, "Date": "2026-03-01", "LineItems": [LINE], **fields},
        connection,
    )
    return created


def test_quotes_are_searched_by_number_contact_status_and_dates(runner, xero, xero_connection):
    (kea,) = one(runner, "xero:CreateContact", {"Name": "Kea Ltd"}, xero_connection)
    (tui,) = one(runner, "xero:CreateContact", {"Name": "Tui Ltd"}, xero_connection)
    first = quote(runner, xero_connection, kea["ContactID"], QuoteNumber="ZQ-1001")
    quote(runner, xero_connection, tui["ContactID"], Date="2026-04-15", Status="SENT")
    by_number = one(runner, "xero:SearchQuotes", {"QuoteNumber": "ZQ-1001"}, xero_connection)
    assert [q["QuoteID"] for q in by_number] == [first["QuoteID"]]
    by_contact = one(runner, "xero:SearchQuotes", {"ContactID": tui["ContactID"]}, xero_connection)
    assert [q["Status"] for q in by_contact] == ["SENT"]
    march = one(
        runner,
        "xero:SearchQuotes",
        {"DateFrom": "2026-03-01", "DateTo": "2026-03-31", "Status": "DRAFT"},
        xero_connection,
    )
    assert [q["QuoteNumber"] for q in march] == ["ZQ-1001"]
    sent = xero.requests_to("/api.xro/2.0/Quotes", "GET")[-1]["query"]
    assert set(sent) == {"DateFrom", "DateTo", "Status", "page"}  # GET /Quotes takes no where


def test_a_quote_is_got_and_updated_with_its_contact_and_date(runner, xero, xero_connection):
    (contact,) = one(runner, "xero:CreateContact", {"Name": "Weka Ltd"}, xero_connection)
    created = quote(runner, xero_connection, contact["ContactID"], Title="Website")
    (got,) = one(runner, "xero:GetQuote", {"QuoteID": created["QuoteID"]}, xero_connection)
    assert (got["Title"], got["Total"]) == ("Website", 230)
    (accepted,) = one(
        runner,
        "xero:UpdateQuote",
        {"QuoteID": created["QuoteID"], "Status": "SENT", "Summary": "Sent by the pack"},
        xero_connection,
    )
    assert (accepted["Status"], accepted["Summary"], accepted["Title"]) == (
        "SENT",
        "Sent by the pack",
        "Website",
    )
    posted = xero.requests_to(f"/api.xro/2.0/Quotes/{created['QuoteID']}", "POST")[-1]
    (element,) = posted["json"]["Quotes"]
    assert element["Contact"] == {"ContactID": contact["ContactID"]}
    assert element["Date"] == "2026-03-01"


def test_quotes_are_watched_from_a_date(runner, xero_connection):
    (contact,) = one(runner, "xero:CreateContact", {"Name": "Ruru Ltd"}, xero_connection)
    flow = [
        node(
            1,
            "xero:WatchQuotes",
            parameters=conn(xero_connection, start="date", startDate="2020-01-01"),
        )
    ]
    created = quote(runner, xero_connection, contact["ContactID"])
    first = runner.run(flow)
    assert first.status == "success", first.error
    assert [q["QuoteID"] for q in outputs(first, 1)] == [created["QuoteID"]]
    assert runner.run(flow).modules[1].bundles_out == 0


def test_items_are_found_by_code_or_name_whole(runner, xero_connection):
    for code, name in (("WIDGET", "Widget"), ("WIDGET-PRO", "Widget Pro")):
        one(runner, "xero:CreateItem", {"Code": code, "Name": name}, xero_connection)
    by_code = one(runner, "xero:SearchItems", {"Code": "widget"}, xero_connection)
    assert [i["Code"] for i in by_code] == ["WIDGET"]
    by_name = one(runner, "xero:SearchItems", {"Name": "Widget Pro"}, xero_connection)
    assert [i["Code"] for i in by_name] == ["WIDGET-PRO"]
    both = one(
        runner,
        "xero:SearchItems",
        {"filter": [[{"field": "Name", "operator": "startsWith", "value": "Widget"}]]},
        xero_connection,
    )
    assert sorted(i["Code"] for i in both) == ["WIDGET", "WIDGET-PRO"]


def test_tax_rates_are_searched_by_type_for_the_tax_mapping(runner, xero_connection):
    (gst,) = one(runner, "xero:SearchTaxRates", {"TaxType": "OUTPUT2"}, xero_connection)
    assert gst["EffectiveRate"] == 15
    revenue = one(
        runner,
        "xero:SearchTaxRates",
        {"where": "CanApplyToRevenue==true", "order": "Name"},
        xero_connection,
        limit=0,
    )
    assert "OUTPUT2" in {r["TaxType"] for r in revenue}
    assert all(r["CanApplyToRevenue"] for r in revenue)
