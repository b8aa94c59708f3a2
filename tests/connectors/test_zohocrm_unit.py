"""Zoho CRM client calls and error paths with ``responses`` standing in for Zoho, criteria
escaping, the data-centre helpers and notification bundles."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from engine.connections import resolved_from_values
from engine.errors import (
    AccountValidationError,
    ConnectionError,
    DataError,
    InvalidConfigurationError,
    RateLimitError,
)
from modules.connections import ApiClient
from modules.zohocrm.client import (
    ZohoClient,
    all_of,
    criterion,
    escape_value,
    module_name,
    zoho_settings,
)
from modules.zohocrm.connection import (
    ZOHOCRM_CONNECTION,
    api_domain_for,
    callback_data,
    remember_api_domain,
)
from modules.zohocrm.models import SearchInput
from modules.zohocrm.modules import notification_events, search_params, webhook_bundles

EU = "https://www.zohoapis.eu"
API = f"{EU}/crm/v8"


@pytest.fixture
def session():
    with requests.Session() as opened:
        yield opened


@pytest.fixture
def mocked():
    with responses.RequestsMock() as mock:
        yield mock


def connection(**data):
    return resolved_from_values(
        ZOHOCRM_CONNECTION, {"api_domain": EU, **data}, {"access_token": "1000.at"}
    )


def zoho(session, sleeps=None, **overrides):
    settings = zoho_settings(connection(), **overrides)
    return ZohoClient(ApiClient(settings, session, (sleeps if sleeps is not None else []).append))


def success(record_id="111", **extra):
    return {
        "code": "SUCCESS",
        "details": {"id": record_id},
        "message": "record added",
        "status": "success",
        **extra,
    }


# -- connection and settings --------------------------------------------------------------------


def test_settings_call_the_api_domain_with_zohos_token_scheme():
    settings = zoho_settings(connection())
    assert settings.base_url == API
    assert settings.headers["Authorization"] == "Zoho-oauthtoken 1000.at"
    with pytest.raises(InvalidConfigurationError):
        zoho_settings(resolved_from_values(ZOHOCRM_CONNECTION, {}, {}))


@pytest.mark.parametrize(
    ("server", "domain"),
    [
        ("https://accounts.zoho.com", "https://www.zohoapis.com"),
        ("https://accounts.zoho.eu", "https://www.zohoapis.eu"),
        ("https://accounts.zoho.com.au", "https://www.zohoapis.com.au"),
        ("https://accounts.zoho.in", "https://www.zohoapis.in"),
        ("https://accounts.zoho.jp", "https://www.zohoapis.jp"),
        ("https://accounts.zohocloud.ca", "https://www.zohoapis.ca"),  # not zohoapis.zohocloud
        ("https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"),
        ("https://accounts.zoho.sa", "https://www.zohoapis.sa"),
        ("http://127.0.0.1:5000/", "http://127.0.0.1:5000"),
    ],
)
def test_api_domain_of_each_data_centre(server, domain):
    assert api_domain_for(server) == domain


def test_callback_data_points_refreshes_at_the_users_accounts_server():
    data = callback_data(
        {"code": "c", "location": "eu", "accounts-server": "https://accounts.zoho.eu"}
    )
    assert data == {
        "location": "eu",
        "accounts_server": "https://accounts.zoho.eu",
        "token_url": "https://accounts.zoho.eu/oauth/v2/token",
        "api_domain": EU,
    }
    assert callback_data({"code": "c"}) == {}


def test_on_authorized_prefers_the_token_answers_api_domain(session, mocked):
    mocked.get("https://crm.example.test/crm/v8/Accounts", status=204)
    refused = {"code": "OAUTH_SCOPE_MISMATCH", "message": "invalid oauth scope", "status": "error"}
    mocked.get("https://crm.example.test/crm/v8/org", status=401, json=refused)
    data = {"api_domain": "https://crm.example.test", "accounts_server": "https://accounts.zoho.eu"}
    assert remember_api_domain(data, "1000.at", session) == {
        "api_domain": "https://crm.example.test"
    }
    mocked.get(f"{API}/Accounts", status=204)
    licence = {"paid_type": "enterprise", "users_license_purchased": 12, "paid": True}
    mocked.get(f"{API}/org", json={"org": [{"license_details": licence}]})
    assert remember_api_domain(
        {"accounts_server": "https://accounts.zoho.eu"}, "1000.at", session
    ) == {"api_domain": EU, "edition": "enterprise", "licensed_users": "12"}


def test_oauth_settings_ask_offline_access_and_comma_scopes():
    settings = ZOHOCRM_CONNECTION.oauth2
    assert settings.extra_authorize_params["access_type"] == "offline"
    assert " ".join(settings.scopes).split(",") == [
        "ZohoCRM.modules.ALL",
        "ZohoSearch.securesearch.READ",  # search needs it (vendor/zoho/NOTES.md §2)
        "ZohoCRM.notifications.ALL",
        "ZohoCRM.org.READ",  # the edition and licences that set the API limits
        "ZohoCRM.settings.modules.READ",
        "ZohoCRM.settings.fields.READ",
    ]
    assert settings.rotates_refresh_token is False


def test_module_names():
    assert module_name("accounts") == "Accounts" and module_name("INVOICES") == "Invoices"
    assert module_name("Deals") == "Deals" and module_name("") is None


# -- calls --------------------------------------------------------------------------------------


def test_get_and_204_for_an_unknown_record(session, mocked):
    mocked.get(f"{API}/Accounts/1", json={"data": [{"id": "1", "Account_Name": "A"}]})
    mocked.get(f"{API}/Accounts/2", status=204)
    client = zoho(session)
    assert client.get("Accounts", "1")["Account_Name"] == "A"
    with pytest.raises(DataError, match="no Accounts record with id 2"):
        client.get("Accounts", "2")


def test_insert_update_and_upsert_return_the_stored_record(session, mocked):
    mocked.post(f"{API}/Accounts", json={"data": [success("9")]}, status=201)
    mocked.put(f"{API}/Accounts/9", json={"data": [success("9", message="record updated")]})
    mocked.post(
        f"{API}/Accounts/upsert",
        json={"data": [success("9", action="update", duplicate_field="Account_Name")]},
    )
    for _ in range(3):
        mocked.get(f"{API}/Accounts/9", json={"data": [{"id": "9"}]})
    client = zoho(session)
    assert client.insert("Accounts", {"Account_Name": "A"}) == {"id": "9"}
    assert json.loads(mocked.calls[0].request.body) == {"data": [{"Account_Name": "A"}]}
    assert client.update("Accounts", "9", {"Phone": "1"}) == {"id": "9"}
    upserted = client.upsert("Accounts", {"Account_Name": "A"}, ["Account_Name"])
    assert upserted["$action"] == "update" and upserted["$duplicate_field"] == "Account_Name"
    assert json.loads(mocked.calls[4].request.body)["duplicate_check_fields"] == ["Account_Name"]


def test_invalid_data_is_a_data_error_with_the_field(session, mocked):
    refused = {
        "code": "INVALID_DATA",
        "details": {"api_name": "Email", "expected_data_type": "email"},
        "message": "invalid data",
        "status": "error",
    }
    mocked.post(f"{API}/Contacts", json={"data": [refused]}, status=400)
    with pytest.raises(DataError) as raised:
        zoho(session).insert("Contacts", {"Last_Name": "x", "Email": "nope"})
    assert raised.value.message == "Zoho CRM: INVALID_DATA: invalid data (Email)"


def test_a_refused_record_in_a_success_status_is_still_an_error(session, mocked):
    refused = {
        "code": "DUPLICATE_DATA",
        "details": {"api_name": "Email"},
        "message": "duplicate data",
        "status": "error",
    }
    mocked.post(f"{API}/Contacts", json={"data": [refused]}, status=207)
    with pytest.raises(DataError, match=r"DUPLICATE_DATA: duplicate data \(Email\)"):
        zoho(session).insert("Contacts", {"Last_Name": "x"})


def test_401_is_an_account_validation_error(session, mocked):
    body = {
        "code": "INVALID_TOKEN",
        "details": {},
        "message": "invalid oauth token",
        "status": "error",
    }
    mocked.get(f"{API}/Accounts/1", json=body, status=401)
    with pytest.raises(AccountValidationError, match="INVALID_TOKEN: invalid oauth token"):
        zoho(session).get("Accounts", "1")


def test_429_is_a_rate_limit_error_with_retry_after(session, mocked):
    body = {"code": "TOO_MANY_REQUESTS", "details": {}, "message": "too many", "status": "error"}
    mocked.post(f"{API}/Accounts", json=body, status=429, headers={"Retry-After": "30"})
    with pytest.raises(RateLimitError) as raised:
        zoho(session).insert("Accounts", {"Account_Name": "A"})
    assert raised.value.retry_after == 30


def test_5xx_reads_are_retried_then_a_connection_error(session, mocked):
    for _ in range(4):
        mocked.get(f"{API}/Accounts/1", status=500, json={"code": "INTERNAL_ERROR"})
    sleeps = []
    with pytest.raises(ConnectionError, match="INTERNAL_ERROR"):
        zoho(session, sleeps).get("Accounts", "1")
    assert sleeps == [1.0, 2.0, 4.0]


def test_search_204_is_no_records_and_pages_follow_more_records(session, mocked):
    mocked.get(f"{API}/Accounts/search", status=204)
    assert list(zoho(session).search("Accounts", {"word": "x"})) == []
    mocked.get(
        f"{API}/Accounts/search",
        json={"data": [{"id": "1"}], "info": {"more_records": True}},
    )
    mocked.get(
        f"{API}/Accounts/search", json={"data": [{"id": "2"}], "info": {"more_records": False}}
    )
    assert [r["id"] for r in zoho(session).search("Accounts", {"word": "x"})] == ["1", "2"]
    pages = [parse_qs(urlsplit(c.request.url).query)["page"] for c in mocked.calls[1:]]
    assert pages == [["1"], ["2"]]


def test_lists_continue_with_the_page_token_zoho_gives(session, mocked):
    """Past 2,000 records only ``page_token`` reaches further (vendor/zoho/NOTES.md §3)."""
    first = {"more_records": True, "next_page_token": "tok-2", "page": 1}
    mocked.get(f"{API}/Accounts", json={"data": [{"id": "1"}], "info": first})
    mocked.get(f"{API}/Accounts", json={"data": [{"id": "2"}], "info": {"more_records": False}})
    found = zoho(session).modified_since("Accounts", None, ["Account_Name"])
    assert [r["id"] for r in found] == ["1", "2"]
    second = parse_qs(urlsplit(mocked.calls[1].request.url).query)
    assert second["page_token"] == ["tok-2"] and "page" not in second


def test_modified_since_sends_the_header_and_304_is_empty(session, mocked):
    mocked.get(f"{API}/Accounts", status=304)
    since = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert list(zoho(session).modified_since("Accounts", since, ["Account_Name"])) == []
    assert mocked.calls[0].request.headers["If-Modified-Since"] == "2024-01-02T03:04:05+00:00"
    query = parse_qs(urlsplit(mocked.calls[0].request.url).query)
    assert query["sort_by"] == ["Modified_Time"]
    assert query["fields"] == ["Account_Name,Modified_Time"]  # mandatory in v8


def test_watch_and_unwatch_channels(session, mocked):
    mocked.post(f"{API}/actions/watch", json={"watch": [success("x")]})
    mocked.delete(f"{API}/actions/watch", json={"watch": [success("x")]})
    client = zoho(session)
    assert client.watch([{"channel_id": "1"}])[0]["status"] == "success"
    client.unwatch(["1", "2"])
    assert "channel_ids=1%2C2" in mocked.calls[1].request.url


# -- criteria -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("Smith, Jones (NZ)", r"Smith\, Jones \(NZ\)"),
        ("C:\\temp", r"C:\\temp"),
        ("a\\,b", r"a\\\,b"),
        (True, "true"),
        (15, "15"),
    ],
)
def test_values_escape_backslash_parentheses_and_commas(value, escaped):
    assert escape_value(value) == escaped


def test_criteria_and_helpers():
    assert criterion("Account_Name", "equals", "A (B)") == r"(Account_Name:equals:A \(B\))"
    assert criterion("Rating", "in", ["a,b", "c"]) == r"(Rating:in:a\,b,c)"
    assert criterion("Amount", "between", [1, 5]) == "(Amount:between:1,5)"
    assert all_of(["(a:equals:1)"]) == "(a:equals:1)"
    assert all_of(["(a:equals:1)", "(b:equals:2)"]) == "((a:equals:1)and(b:equals:2))"
    assert all_of([]) is None
    with pytest.raises(InvalidConfigurationError):
        criterion("a", "contains", "x")


def test_search_params_pick_one_kind_of_search():
    named = search_params("Contacts", SearchInput(name="O'Brien, A"))
    assert named == {"criteria": r"(Full_Name:starts_with:O'Brien\, A)"}
    both = SearchInput(
        filter=[[{"field": "Email", "operator": "equals", "value": "a@b.c"}]],
        criteria="(Phone:equals:1)",
    )
    assert search_params("Accounts", both) == {
        "criteria": "((Email:equals:a@b.c)and(Phone:equals:1))"
    }
    assert search_params("Accounts", SearchInput(email="a@b.c", word="x")) == {"email": "a@b.c"}
    with pytest.raises(InvalidConfigurationError):
        search_params("Accounts", SearchInput())


# -- notifications ------------------------------------------------------------------------------

NOTIFICATION = {
    "server_time": 1700000000000,
    "module": "Accounts",
    "resource_uri": f"{API}/Accounts",
    "ids": ["11", "12"],
    "affected_fields": [{"11": ["Phone"]}, {"12": ["Account_Name", "Phone"]}],
    "operation": "update",
    "channel_id": 1000,
    "token": "tok-1",
}


def test_one_bundle_per_notified_record():
    bundles = webhook_bundles(NOTIFICATION, {"token": "tok-1"})
    assert bundles == [
        {
            "module": "Accounts",
            "operation": "update",
            "channel_id": 1000,
            "server_time": 1700000000000,
            "id": "11",
            "affected_fields": ["Phone"],
        },
        {
            "module": "Accounts",
            "operation": "update",
            "channel_id": 1000,
            "server_time": 1700000000000,
            "id": "12",
            "affected_fields": ["Account_Name", "Phone"],
        },
    ]


def test_notifications_with_another_token_are_dropped():
    assert webhook_bundles(NOTIFICATION, {"token": "other"}) == []
    assert webhook_bundles({**NOTIFICATION, "token": None}, {"token": "tok-1"}) == []
    assert webhook_bundles({**NOTIFICATION, "token": 7}, {"token": "tok-1"}) == []
    assert webhook_bundles(NOTIFICATION) == []  # no token configured: nothing is verified


def test_notification_event_names():
    assert notification_events("Accounts", ["create", "edit"]) == [
        "Accounts.create",
        "Accounts.edit",
    ]
    assert notification_events("Contacts", []) == ["Contacts.all"]
