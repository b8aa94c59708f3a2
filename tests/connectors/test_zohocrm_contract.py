"""Zoho CRM against the vendor pack (``vendor/zoho/NOTES.md``, API v8): the connector and the
sandbox are held to each fact, every test citing the line it checks (``notes_line`` verifies
the citation). Where the pack documents a rule, the sandbox is never more lenient than Zoho."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import requests

from engine.connections import resolved_from_values
from engine.errors import InvalidConfigurationError
from modules.zohocrm import sandbox as zoho_sandbox
from modules.zohocrm.client import API_PATH, EDITIONS, all_of, criterion, zoho_settings
from modules.zohocrm.client import MODULES as ZOHO_MODULES
from modules.zohocrm.connection import SCOPES, ZOHOCRM_CONNECTION, api_domain_for
from modules.zohocrm.datacentres import DATA_CENTRES, by_api_domain
from modules.zohocrm.modules import CHANNEL_SECONDS, attach_webhook, webhook_bundles
from tests.connectors import test_zohocrm_support as support
from tests.connectors.conftest import outputs
from tests.connectors.pack_citations import notes_line
from tests.connectors.test_zohocrm_support import conn
from tests.sandboxes.conftest import Server
from tests.sandboxes.test_zohocrm_oauth import ZohoClient, connect, make_client, start_zoho

APP = "zoho"

start_zohocrm = support.start_zohocrm
zohocrm = support.zohocrm
zoho_connection = support.zoho_connection


@pytest.fixture
def sandbox_client(serve, http):
    """The Zoho CRM sandbox as a raw HTTP client sees it (every scope granted)."""
    return make_client(serve, http)


def run_one(runner, module_id, mapper, connection, **parameters):
    record = runner.one(module_id, mapper, conn(connection, **parameters))
    assert record.status == "success", record.error
    return outputs(record, 1)


def connection_to(api_domain, **data):
    return resolved_from_values(
        ZOHOCRM_CONNECTION, {"api_domain": api_domain, **data}, {"access_token": "1000.at"}
    )


# -- §1 data centres, §2 OAuth ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "code", "api", "accounts"),
    [
        (41, "US", "https://www.zohoapis.com", "https://accounts.zoho.com"),
        (42, "EU", "https://www.zohoapis.eu", "https://accounts.zoho.eu"),
        (43, "IN", "https://www.zohoapis.in", "https://accounts.zoho.in"),
        (44, "AU", "https://www.zohoapis.com.au", "https://accounts.zoho.com.au"),
        (45, "JP", "https://www.zohoapis.jp", "https://accounts.zoho.jp"),
        (46, "CA", "https://www.zohoapis.ca", "https://accounts.zohocloud.ca"),
        (47, "CN", "https://www.zohoapis.com.cn", "https://accounts.zoho.com.cn"),
        (48, "SA", "https://www.zohoapis.sa", "https://accounts.zoho.sa"),
    ],
)
def test_every_data_centre_pairs_its_api_host_with_its_accounts_server(line, code, api, accounts):
    notes_line(APP, line, f"`{api}`")
    notes_line(APP, line, f"`{accounts}`")
    assert api_domain_for(accounts) == api
    assert by_api_domain(api).code == code
    assert zoho_settings(connection_to(api)).base_url == f"{api}/crm/v8"
    assert len(DATA_CENTRES) == 8


def test_canada_is_not_derived_from_its_accounts_host():
    notes_line(APP, 52, "Canada is the trap")
    assert api_domain_for("https://accounts.zohocloud.ca") == "https://www.zohoapis.ca"
    notes_line(APP, 54, "`sandbox.zohoapis.<tld>`")
    assert by_api_domain("https://sandbox.zohoapis.ca").code == "CA"


def test_calls_go_to_v8_and_the_sandbox_serves_no_older_version(sandbox_client, http):
    notes_line(APP, 55, "Paths: `{api_domain}/crm/v8/{module_api_name}")
    assert API_PATH == "/crm/v8"
    old = http.get(
        f"{sandbox_client.api_domain}/crm/v2/Accounts",
        headers={"Authorization": f"Zoho-oauthtoken {sandbox_client.token}"},
    )
    assert old.status_code == 404 and old.json()["code"] == "INVALID_URL_PATTERN"


def test_search_needs_the_secure_search_scope_and_the_connection_asks_for_it(serve, http):
    notes_line(APP, 73, "search also needs")
    notes_line(APP, 74, "`ZohoSearch.securesearch.READ`")
    assert "ZohoSearch.securesearch.READ" in SCOPES[0].split(",")
    server = start_zoho(serve, http)
    tokens = connect(http, server, scope="ZohoCRM.modules.ALL")
    client = ZohoClient(http, tokens["api_domain"], tokens["access_token"])
    refused = client.request("GET", "Accounts/search", params={"word": "x"})
    assert (refused.status_code, refused.json()["code"]) == (401, "OAUTH_SCOPE_MISMATCH")


# -- §3 records ------------------------------------------------------------------------------------


def test_lists_must_name_their_fields_and_the_connector_does(
    sandbox_client, runner, zohocrm, zoho_connection
):
    notes_line(APP, 98, "**`fields` is mandatory when fetching all records** (max 50 API names")
    bare = sandbox_client.request("GET", "Accounts")
    assert bare.status_code == 400 and bare.json()["code"] == "REQUIRED_PARAM_MISSING"
    many = ",".join(f"Field_{n}" for n in range(51))
    assert sandbox_client.request("GET", "Accounts", params={"fields": many}).status_code == 400
    flow = [
        {
            "id": 1,
            "module": "zohocrm:WatchRecords",
            "version": 1,
            "mapper": {},
            "parameters": conn(zoho_connection, module="Accounts", start="all"),
        }
    ]
    assert runner.run(flow).status == "success"
    listed = zohocrm.requests_to("/crm/v8/Accounts", "GET")[-1]  # after the sign-in's check
    fields = listed["query"]["fields"][0].split(",")
    assert "Account_Name" in fields and "Modified_Time" in fields and len(fields) <= 50


def test_per_page_is_at_most_200_and_page_does_not_mix_with_page_token(sandbox_client):
    notes_line(APP, 98, "`per_page`")
    notes_line(APP, 99, "default and maximum 200; `page` cannot be combined with `page_token`")
    fields = {"fields": "Account_Name"}
    sandbox_client.insert("Accounts", {"Account_Name": "Kowhai Ltd"})
    assert (
        sandbox_client.request("GET", "Accounts", params={**fields, "per_page": 201}).status_code
        == 400
    )
    mixed = sandbox_client.request(
        "GET", "Accounts", params={**fields, "page": 1, "page_token": "t"}
    )
    assert mixed.status_code == 400


def test_past_two_thousand_records_only_the_page_token_goes_on(
    sandbox_client, runner, zohocrm, zoho_connection
):
    notes_line(APP, 101, "continue with `page_token` when `more_records` is true")
    accounts = [{"Account_Name": f"Company {n:04}"} for n in range(2050)]
    zohocrm.control("seed", {"Accounts": accounts})
    sandbox_client.server.control("seed", {"Accounts": accounts[:1]})
    far = sandbox_client.request("GET", "Accounts", params={"fields": "Account_Name", "page": 11})
    assert far.status_code == 400 and far.json()["code"] == "DISCRETE_PAGINATION_LIMIT_EXCEEDED"
    flow = [
        {
            "id": 1,
            "module": "zohocrm:WatchRecords",
            "version": 1,
            "mapper": {},
            "parameters": conn(zoho_connection, module="Accounts", start="all", limit=5000),
        }
    ]
    record = runner.run(flow)
    assert record.status == "success", record.error
    assert record.modules[1].bundles_out == 2050
    pages = zohocrm.requests_to("/crm/v8/Accounts", "GET")[1:]  # after the sign-in's check
    assert len(pages) == 11 and all("page_token" in p["query"] for p in pages[1:])


def test_line_items_are_the_v8_subforms(runner, zoho_connection):
    notes_line(APP, 104, "subform keys `Quoted_Items` (Quotes), `Invoiced_Items` (Invoices)")
    notes_line(APP, 187, "→ v8 subforms `Quoted_Items` / `Invoiced_Items`")
    product = run_one(
        runner,
        "zohocrm:CreateRecord",
        {"Product_Name": "Kit", "Unit_Price": 10},
        zoho_connection,
        module="Products",
    )[0]
    items = [
        {
            "Product_Name": {"id": product["id"]},
            "Quantity": 3,
            "ListPrice": 12,
            "Line_Tax": [{"name": "GST", "percentage": 15}],
        }
    ]
    invoice = run_one(
        runner,
        "zohocrm:CreateRecord",
        {"Subject": "Kits", "Invoiced_Items": items},
        zoho_connection,
        module="Invoices",
    )[0]
    (line,) = invoice["Invoiced_Items"]
    assert (line["Total"], line["Tax"], line["Net_Total"]) == (36.0, 5.4, 41.4)
    assert invoice["Grand_Total"] == 41.4
    record = runner.one(
        "zohocrm:CreateRecord",
        {"Subject": "Old", "Product_Details": [{"product": {"id": product["id"]}}]},
        conn(zoho_connection, module="Invoices"),
    )
    assert (
        "MANDATORY_NOT_FOUND" in record.error["message"]
        and "Invoiced_Items" in record.error["message"]
    )


# -- §4 search -------------------------------------------------------------------------------------


def test_at_most_ten_criteria(sandbox_client):
    notes_line(APP, 116, "**max 10 criteria**")
    rules = [criterion("Account_Name", "starts_with", f"x{n}") for n in range(11)]
    with pytest.raises(InvalidConfigurationError, match="at most 10 criteria"):
        all_of(rules)
    text = "(" + "or".join(rules) + ")"
    refused = sandbox_client.request("GET", "Accounts/search", params={"criteria": text})
    assert refused.status_code == 400 and refused.json()["code"] == "INVALID_QUERY"


def test_a_comma_is_backslash_escaped_then_url_encoded(runner, zohocrm, zoho_connection):
    notes_line(APP, 117, "Escape `(`, `)` and `,` inside a value with a backslash, then URL-encode")
    notes_line(APP, 118, "`Burns%5C%2CB`")
    run_one(
        runner,
        "zohocrm:CreateRecord",
        {"Account_Name": "Burns,B"},
        zoho_connection,
        module="Accounts",
    )
    rule = {"field": "Account_Name", "operator": "equals", "value": "Burns,B"}
    found = run_one(
        runner, "zohocrm:SearchRecords", {"filter": [[rule]]}, zoho_connection, module="Accounts"
    )
    assert [r["Account_Name"] for r in found] == ["Burns,B"]
    (searched,) = zohocrm.requests_to("/crm/v8/Accounts/search", "GET")
    criteria = searched["query"]["criteria"][0]
    assert criteria == r"(Account_Name:equals:Burns\,B)"
    sent = requests.Request("GET", zohocrm.url, params={"criteria": criteria}).prepare()
    assert "Burns%5C%2CB" in urlsplit(sent.url).query  # as the client's session encodes it


def test_equals_finds_substrings_so_the_connector_checks_the_match_itself(
    sandbox_client, runner, zoho_connection
):
    notes_line(APP, 119, "`equals` behaves like *contains* in the Search API")
    notes_line(APP, 120, "**Do not treat a search hit as an exact match**")
    sandbox_client.insert("Accounts", {"Account_Name": "ABC"}, {"Account_Name": "ABC Inc"})
    hits = sandbox_client.request(
        "GET", "Accounts/search", params={"criteria": "(Account_Name:equals:ABC)"}
    )
    assert sorted(r["Account_Name"] for r in hits.json()["data"]) == ["ABC", "ABC Inc"]
    for name in ("ABC", "ABC Inc"):
        run_one(
            runner,
            "zohocrm:CreateRecord",
            {"Account_Name": name},
            zoho_connection,
            module="Accounts",
        )
    rule = {"field": "Account_Name", "operator": "equals", "value": "abc"}
    found = run_one(
        runner, "zohocrm:SearchRecords", {"filter": [[rule]]}, zoho_connection, module="Accounts"
    )
    assert [r["Account_Name"] for r in found] == ["ABC"]


def test_no_match_is_204_with_an_empty_body(sandbox_client):
    notes_line(APP, 124, "No match: HTTP 204 with an empty body")
    empty = sandbox_client.request(
        "GET", "Accounts/search", params={"criteria": "(Account_Name:equals:Nobody)"}
    )
    assert (empty.status_code, empty.content) == (204, b"")


# -- §7 notifications ------------------------------------------------------------------------------


def test_a_notification_is_verified_only_by_its_echoed_token():
    notes_line(APP, 156, "**there is no HMAC signature**; compare the token")
    body = {"module": "Accounts", "ids": ["1"], "operation": "insert", "token": "s3cret"}
    assert len(webhook_bundles(body, {"token": "s3cret"})) == 1
    assert webhook_bundles({**body, "token": "s3creT"}, {"token": "s3cret"}) == []
    assert webhook_bundles(body, {}) == []  # nothing to verify against: nothing passes


def test_channels_carry_a_token_and_live_up_to_a_week(
    runner, http, serve, zohocrm, zoho_connection, resolver
):
    notes_line(APP, 158, "**1 week from v4**")
    notes_line(APP, 155, "`token` (≤ 50 characters)")
    connection = resolver.get(zoho_connection.id)
    with pytest.raises(InvalidConfigurationError, match="verification token"):
        attach_webhook(connection, http, "http://127.0.0.1:9/hook", {"module": "Accounts"})
    attach_webhook(
        connection, http, "http://127.0.0.1:9/hook", {"module": "Accounts", "token": "t" * 50}
    )
    (channel,) = zohocrm.state()["records"]["_channels"]
    expiry = datetime.fromisoformat(channel["channel_expiry"])
    assert timedelta(days=6) < expiry - datetime.now(UTC) <= timedelta(weeks=1)
    assert CHANNEL_SECONDS < 7 * 24 * 3600
    (sent,) = zohocrm.requests_to("/crm/v8/actions/watch", "POST")
    assert sent["json"]["watch"][0]["notify_on_related_action"] is False
    notes_line(APP, 160, "`notify_on_related_action` defaults to true")


def test_the_sandbox_refuses_channels_past_a_week_and_long_tokens(sandbox_client):
    notes_line(APP, 158, "**1 week from v4**; channels must be")
    now = datetime.now(UTC)

    def watch(**extra):
        channel = {
            "channel_id": "42",
            "events": ["Accounts.all"],
            "notify_url": "http://127.0.0.1:9/",
            **extra,
        }
        return sandbox_client.request("POST", "actions/watch", json={"watch": [channel]})

    six_days = (now + timedelta(days=6)).isoformat(timespec="seconds")
    eight_days = (now + timedelta(days=8)).isoformat(timespec="seconds")
    assert watch(channel_expiry=six_days, token="t").status_code == 200
    assert watch(channel_expiry=eight_days, token="t").status_code == 400
    assert watch(token="t" * 51).json()["watch"][0]["details"]["api_name"] == "token"


# -- §8 limits and errors --------------------------------------------------------------------------


def test_credits_per_day_and_calls_at_once_follow_the_edition():
    notes_line(APP, 167, "Credits per rolling 24 h")
    notes_line(APP, 168, "Free 5,000; Standard 50,000 + 250/user (max 100,000)")
    notes_line(APP, 171, "Concurrency per org: Free 5 … Ultimate 25")
    free = zoho_settings(connection_to("https://www.zohoapis.eu"))
    assert (free.rate_limit, free.rate_window, free.max_concurrent) == (5000, 86400.0, 5)
    standard = zoho_settings(
        connection_to("https://www.zohoapis.eu", edition="standard", licensed_users="300")
    )
    assert (standard.rate_limit, standard.max_concurrent) == (100_000, 10)  # capped
    enterprise = zoho_settings(
        connection_to("https://www.zohoapis.eu", edition="Enterprise", licensed_users="20")
    )
    assert (
        enterprise.rate_limit == 70_000
        and enterprise.max_concurrent == EDITIONS["enterprise"].concurrent_calls
    )
    assert standard.concurrency_key == standard.rate_key


def test_the_sandbox_answers_429_past_the_credits_and_the_calls_in_flight(serve, http):
    notes_line(APP, 172, "Over the limit: HTTP 429")
    app = zoho_sandbox.create_app({"max_concurrent_requests": 3})
    server = Server(serve(app), http)
    tokens = connect(http, server)
    client = ZohoClient(http, tokens["api_domain"], tokens["access_token"])
    in_flight = app.extensions["sandbox_state"].in_flight
    held = [in_flight.enter("org", 3, 60.0) for _ in range(3)]
    busy = client.request("GET", "Accounts", params={"fields": "Account_Name"})
    assert (busy.status_code, busy.json()["code"]) == (429, "TOO_MANY_REQUESTS")
    in_flight.leave("org", held[0])
    assert client.request("GET", "Accounts", params={"fields": "Account_Name"}).status_code == 204


def test_errors_use_the_documented_envelope(sandbox_client):
    notes_line(
        APP, 174, 'Error envelope: `{"code", "message", "status": "error", "details": {...}}`'
    )
    answer = sandbox_client.request("GET", "Accounts")
    assert set(answer.json()) == {"code", "message", "status", "details"}
    assert answer.json()["status"] == "error"
    per_record = sandbox_client.request("POST", "Accounts", json={"data": [{"Phone": "1"}]})
    assert set(per_record.json()["data"][0]) == {"code", "message", "status", "details"}


def test_sign_in_reads_the_edition_whose_limits_the_client_keeps_to(zoho_connection, resolver):
    notes_line(APP, 169, "Enterprise 50,000 + 1,000/user; Ultimate 50,000 + 2,000/user")
    assert (zoho_connection.data["edition"], zoho_connection.data["licensed_users"]) == (
        "standard",
        "3",
    )
    settings = zoho_settings(resolver.get(zoho_connection.id))
    assert (settings.rate_limit, settings.max_concurrent) == (50_750, 10)


# -- §3 the modules and fields the sync packs use -----------------------------------------------


def test_the_packs_six_modules_are_served_with_the_fields_of_the_notes(sandbox_client):
    notes_line(
        APP, 79, "Module API names: `Contacts`, `Accounts`, `Products`, `Invoices`, `Quotes`"
    )
    notes_line(APP, 79, "`Vendors`")
    notes_line(APP, 112, "Products: `Product_Name`, `Product_Code`, `Unit_Price`, `Tax`")
    notes_line(APP, 113, "`Qty_in_Stock`, `Vendor_Name`")
    notes_line(APP, 109, "Invoice fields: `Subject`, `Invoice_Number`, `Invoice_Date`, `Due_Date`")
    notes_line(APP, 111, "billing/shipping address parts; Quotes add `Quote_Stage`")
    for module in ("Contacts", "Accounts", "Products", "Invoices", "Quotes", "Vendors"):
        assert module in ZOHO_MODULES
        answer = sandbox_client.request("GET", "settings/fields", params={"module": module})
        assert answer.status_code == 200, (module, answer.text)
    products = fields_named(sandbox_client, "Products")
    assert {
        "Product_Name",
        "Product_Code",
        "Unit_Price",
        "Tax",
        "Taxable",
        "Product_Active",
        "Qty_in_Stock",
        "Vendor_Name",
    } <= products
    invoices = fields_named(sandbox_client, "Invoices")
    assert {"Subject", "Invoice_Number", "Invoice_Date", "Due_Date", "Status", "Account_Name"} <= (
        invoices
    )
    assert {"Contact_Name", "Currency", "Exchange_Rate", "Billing_Street", "Shipping_Code"} <= (
        invoices
    )
    assert {"Quote_Stage", "Quoted_Items"} <= fields_named(sandbox_client, "Quotes")


def fields_named(client, module):
    answer = client.request("GET", "settings/fields", params={"module": module}).json()
    return {f["api_name"] for f in answer["fields"]}
