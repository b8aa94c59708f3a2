"""Zoho CRM pieces for the sync packs with ``responses`` standing in for Zoho: plain ids
wrapped as lookups, the name helper's ``match``, and searches that keep only what was asked
for when Zoho answers with more (``equals`` as contains, an e-mail search's neighbours)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from engine.errors import InvalidConfigurationError
from engine.runtime import RunContext
from modules.zohocrm.models import CreateInput, SearchInput
from modules.zohocrm.modules import ZOHOCRM_MODULES, as_lookup, record_fields, search_params
from tests.modules.helpers import call_module

from .test_zohocrm_unit import API, connection

SEARCH = next(spec for spec in ZOHOCRM_MODULES if spec.id == "zohocrm:SearchRecords")
CREATE = next(spec for spec in ZOHOCRM_MODULES if spec.id == "zohocrm:CreateRecord")


class Connections:
    def get(self, connection_id):
        return connection()


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


def run(spec, mapped, run_context, **parameters):
    return call_module(spec, mapped, {"__IMTCONN__": "c1", **parameters}, run_context=run_context)


def test_plain_ids_become_lookups_in_lookup_fields_and_line_items_only():
    data = CreateInput.model_validate(
        {
            "Subject": "Q1",
            "Account_Name": "5843104000000412001",
            "Contact_Name": {"id": "5843104000000412002"},
            "Quoted_Items": [{"Product_Name": 5843104000000412003, "Quantity": 2}],
            "QuickBooks_Estimate_Id": "77",
        }
    )
    fields = record_fields("Quotes", data)
    assert fields["Account_Name"] == {"id": "5843104000000412001"}
    assert fields["Contact_Name"] == {"id": "5843104000000412002"}
    assert fields["Quoted_Items"] == [
        {"Product_Name": {"id": "5843104000000412003"}, "Quantity": 2}
    ]
    assert fields["QuickBooks_Estimate_Id"] == "77"  # a text field stays text
    account = record_fields("Accounts", CreateInput(Account_Name="ACME Ltd"))
    assert account["Account_Name"] == "ACME Ltd"  # an account's own name is no lookup
    assert as_lookup(True) is True and as_lookup(" ") == " "


def test_the_name_helper_starts_with_or_equals():
    assert search_params("Products", SearchInput(name="Bolt (M6)")) == {
        "criteria": r"(Product_Name:starts_with:Bolt \(M6\))"
    }
    assert search_params("Vendors", SearchInput(name="Kea", match="equals")) == {
        "criteria": "(Vendor_Name:equals:Kea)"
    }
    with pytest.raises(InvalidConfigurationError, match="starts_with or equals"):
        search_params("Products", SearchInput(name="x", match="contains"))


def test_an_exact_name_search_drops_what_zoho_matched_as_contains(mocked, run_context):
    mocked.get(
        f"{API}/Products/search",
        json={
            "data": [
                {"id": "1", "Product_Name": "Widget Pro"},
                {"id": "2", "Product_Name": "widget"},
                {"id": "3", "Product_Name": "Big Widget"},
            ],
            "info": {"more_records": False},
        },
    )
    found = run(SEARCH, {"name": "Widget", "match": "equals"}, run_context, module="Products")
    assert [p["id"] for p in found] == ["2"]
    asked = parse_qs(urlsplit(mocked.calls[0].request.url).query)
    assert asked["criteria"] == ["(Product_Name:equals:Widget)"]


def test_an_email_search_keeps_the_records_with_that_address(mocked, run_context):
    mocked.get(
        f"{API}/Contacts/search",
        json={
            "data": [
                {"id": "1", "Email": "ng@fern.example"},
                {"id": "2", "Email": "nguyen@fern.example"},
                {"id": "3", "Email": "a@b.example", "Secondary_Email": "NG@fern.example"},
            ],
            "info": {"more_records": False},
        },
    )
    found = run(SEARCH, {"email": "ng@fern.example"}, run_context, module="Contacts", limit=0)
    assert [c["id"] for c in found] == ["1", "3"]


def test_create_sends_the_wrapped_lookups(mocked, run_context):
    mocked.post(
        f"{API}/Products",
        json={"data": [{"code": "SUCCESS", "status": "success", "details": {"id": "9"}}]},
        status=201,
    )
    mocked.get(f"{API}/Products/9", json={"data": [{"id": "9", "Product_Name": "Crate"}]})
    run(CREATE, {"Product_Name": "Crate", "Vendor_Name": "44"}, run_context, module="Products")
    sent = json.loads(mocked.calls[0].request.body)
    assert sent == {"data": [{"Product_Name": "Crate", "Vendor_Name": {"id": "44"}}]}
