"""Xero pieces for the Zoho CRM ⇄ Xero pack with ``responses`` standing in for Xero: a quote
search sends Xero's quote parameters (never ``where``), an item search by code or name is a
whole-value ``where``, and Update a Quote sends the quote's contact and date when they are not
mapped."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from engine.runtime import RunContext
from modules.xero.modules import XERO_MODULES
from tests.modules.helpers import call_module

from .test_clients_unit import TENANT, xero_connection

API = "https://api.xero.com/api.xro/2.0"
SPECS = {spec.id: spec for spec in XERO_MODULES}
QUOTE_ID = "5b6b5a4c-0d1e-4a5b-9c3d-2e1f0a9b8c7d"
CONTACT_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


class Connections:
    def get(self, connection_id):
        return xero_connection()


@pytest.fixture
def mocked():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def run_context():
    with requests.Session() as session:
        yield RunContext(
            clock=lambda: datetime(2026, 1, 2, tzinfo=UTC),
            http=session,
            connections=Connections(),
            sleep=lambda _: None,
        )


def run(module, mapped, run_context, **parameters):
    parameters = {"__IMTCONN__": "c1", **parameters}
    return call_module(SPECS[module], mapped, parameters, run_context=run_context)


def query(call):
    return parse_qs(urlsplit(call.request.url).query)


def quotes(*records):
    return {"Quotes": list(records)}


def test_a_quote_search_sends_xeros_quote_parameters_not_where(mocked, run_context):
    mocked.get(f"{API}/Quotes", json=quotes({"QuoteID": QUOTE_ID, "QuoteNumber": "QU-7"}))
    found = run(
        "xero:SearchQuotes",
        {"QuoteNumber": "QU-7", "ContactID": CONTACT_ID, "DateFrom": datetime(2026, 3, 1)},
        run_context,
    )
    assert [q["QuoteID"] for q in found] == [QUOTE_ID]
    sent = query(mocked.calls[0])
    assert sent["QuoteNumber"] == ["QU-7"] and sent["DateFrom"] == ["2026-03-01"]
    assert "where" not in sent
    assert mocked.calls[0].request.headers["xero-tenant-id"] == TENANT


def test_an_item_search_by_code_or_name_is_a_whole_value_where(mocked, run_context):
    mocked.get(f"{API}/Items", json={"Items": [{"ItemID": "1", "Code": "W-1"}]})
    run("xero:SearchItems", {"Code": 'W"1', "Name": "Widget"}, run_context)
    # Xero's where strings double a quote (docs/modules/xero.md, "where strings").
    assert query(mocked.calls[0])["where"] == ['Code=="W""1" AND Name=="Widget"']


def test_update_a_quote_sends_its_own_contact_and_date_when_not_mapped(mocked, run_context):
    stored = {
        "QuoteID": QUOTE_ID,
        "Contact": {"ContactID": CONTACT_ID, "Name": "Kea Ltd"},
        "Date": "/Date(1772323200000+0000)/",  # 2026-03-01
        "Status": "DRAFT",
    }
    mocked.get(f"{API}/Quotes/{QUOTE_ID}", json=quotes(stored))
    mocked.post(f"{API}/Quotes/{QUOTE_ID}", json=quotes({**stored, "Status": "SENT"}))
    (updated,) = run("xero:UpdateQuote", {"QuoteID": QUOTE_ID, "Status": "SENT"}, run_context)
    assert updated["Status"] == "SENT"
    (element,) = json.loads(mocked.calls[1].request.body)["Quotes"]
    assert element == {
        "QuoteID": QUOTE_ID,
        "Status": "SENT",
        "Contact": {"ContactID": CONTACT_ID},
        "Date": "2026-03-01",
    }


def test_update_a_quote_reads_nothing_when_contact_and_date_are_mapped(mocked, run_context):
    mocked.post(f"{API}/Quotes/{QUOTE_ID}", json=quotes({"QuoteID": QUOTE_ID}))
    run(
        "xero:UpdateQuote",
        {"QuoteID": QUOTE_ID, "ContactID": CONTACT_ID, "Date": "2026-03-02", "Title": "T"},
        run_context,
    )
    assert [c.request.method for c in mocked.calls] == ["POST"]
