"""Zoho CRM modules over real HTTP against the sandbox: the data-centre aware connection,
records of every module, upsert, criteria search with escaping, Watch Records, notifications,
and the API's error answers."""

from __future__ import annotations

import json
import threading
import time

import pytest
from werkzeug.wrappers import Request, Response

from engine.connections import exchange_code, token_public_data
from modules.zohocrm.modules import attach_webhook, detach_webhook, webhook_bundles

from . import test_zohocrm_support as support
from .conftest import REDIRECT_URI, outputs
from .test_quickbooks_support import authorize
from .test_zohocrm_support import CLIENT_SECRET, conn, zoho_client_data

start_zohocrm = support.start_zohocrm
zohocrm = support.zohocrm
zoho_connection = support.zoho_connection


def run_one(runner, module_id, mapper, connection, **parameters):
    record = runner.one(module_id, mapper, conn(connection, **parameters))
    assert record.status == "success", record.error
    return outputs(record, 1)


def failed(runner, module_id, mapper, connection, **parameters):
    record = runner.one(module_id, mapper, conn(connection, **parameters))
    assert record.status != "success"
    return record.modules[1].calls[-1].error


def records(sandbox, module):
    return sandbox.state()["records"][module]


# -- connection ---------------------------------------------------------------------------------


def test_connection_keeps_the_data_centre_and_its_api_domain(zohocrm, zoho_connection):
    data = zoho_connection.data
    assert data["api_domain"] == zohocrm.url
    assert data["location"] == "us" and data["token_url"] == f"{zohocrm.url}/oauth/v2/token"
    assert "access_token" not in data and zoho_connection.secrets["refresh_token"]


def test_test_connection(resolver, zoho_connection):
    assert resolver.test(zoho_connection.id)["location"] == "us"


def test_engine_code_exchange_reaches_zoho(registry, http, zohocrm):
    kind = registry.connection_kind("zohocrm")
    data = zoho_client_data(zohocrm)
    callback = authorize(http, kind, data)
    from datetime import UTC, datetime

    secrets = exchange_code(
        kind,
        {**data, "token_url": f"{zohocrm.url}/oauth/v2/token"},
        CLIENT_SECRET,
        code=callback["code"],
        redirect_uri=REDIRECT_URI,
        session=http,
        now=datetime.now(UTC),
    )
    assert secrets["access_token"] and secrets["refresh_token"]
    public = token_public_data(kind, secrets)  # what the OAuth callback stores as data
    assert public["api_domain"].startswith("http") and "api_domain" not in secrets


def test_zoho_refuses_with_http_200_and_that_is_an_account_error(registry, http, zohocrm):
    from datetime import UTC, datetime

    from engine.errors import AccountValidationError

    kind = registry.connection_kind("zohocrm")
    data = zoho_client_data(zohocrm)
    with pytest.raises(AccountValidationError, match="refused the token request"):
        exchange_code(
            kind,
            {**data, "token_url": f"{zohocrm.url}/oauth/v2/token"},
            CLIENT_SECRET,
            code="not-a-code",
            redirect_uri=REDIRECT_URI,
            session=http,
            now=datetime.now(UTC),
        )


# -- records ------------------------------------------------------------------------------------


def test_create_get_update_an_account_and_a_contact(runner, zoho_connection):
    account = run_one(
        runner,
        "zohocrm:CreateRecord",
        {"Account_Name": "Smith, Jones (NZ) Ltd", "Phone": "+64 9 555 1000", "Website": ""},
        zoho_connection,
        module="Accounts",
    )[0]
    assert account["id"] and account["Account_Name"] == "Smith, Jones (NZ) Ltd"
    assert "Website" not in account or account["Website"] in (None, "")
    contact = run_one(
        runner,
        "zohocrm:CreateRecord",
        {
            "module": "contacts",
            "Last_Name": "O'Brien",
            "First_Name": "Ada",
            "Email": "ada@sj.example",
            "Account_Name": {"id": account["id"]},
        },
        zoho_connection,
    )[0]
    assert contact["Full_Name"] == "Ada O'Brien"
    assert contact["Account_Name"] == {"name": "Smith, Jones (NZ) Ltd", "id": account["id"]}
    updated = run_one(
        runner,
        "zohocrm:UpdateRecord",
        {"id": contact["id"], "Phone": "021 555 0100"},
        zoho_connection,
        module="Contacts",
    )[0]
    assert updated["Phone"] == "021 555 0100" and updated["Email"] == "ada@sj.example"
    got = run_one(
        runner, "zohocrm:GetRecord", {"id": contact["id"]}, zoho_connection, module="Contacts"
    )
    assert got[0]["Phone"] == "021 555 0100"


def test_upsert_inserts_then_updates_by_duplicate_check_field(runner, zohocrm, zoho_connection):
    first = run_one(
        runner,
        "zohocrm:UpsertRecord",
        {"Product_Name": "Support plan", "Unit_Price": 80},
        zoho_connection,
        module="Products",
    )[0]
    assert first["$action"] == "insert"
    second = run_one(
        runner,
        "zohocrm:UpsertRecord",
        {
            "Product_Name": "SUPPORT PLAN",
            "Unit_Price": 95,
            "duplicate_check_fields": "Product_Name",
        },
        zoho_connection,
        module="Products",
    )[0]
    assert second["$action"] == "update" and second["$duplicate_field"] == "Product_Name"
    assert second["id"] == first["id"] and second["Unit_Price"] == 95
    assert len(records(zohocrm, "Products")) == 1


def test_quotes_and_invoices_with_line_items(runner, zoho_connection):
    account = run_one(
        runner,
        "zohocrm:CreateRecord",
        {"Account_Name": "Tui Ltd"},
        zoho_connection,
        module="Accounts",
    )[0]
    product = run_one(
        runner,
        "zohocrm:CreateRecord",
        {"Product_Name": "Workshop", "Unit_Price": 200},
        zoho_connection,
        module="Products",
    )[0]
    lines = [
        {
            "Product_Name": {"id": product["id"]},
            "Quantity": 2,
            "Line_Tax": [{"name": "GST", "percentage": 15}],
        }
    ]
    for module, subform in (("Quotes", "Quoted_Items"), ("Invoices", "Invoiced_Items")):
        document = run_one(
            runner,
            "zohocrm:CreateRecord",
            {
                "Subject": f"{module} 1",
                "Account_Name": {"id": account["id"]},
                subform: lines,
            },
            zoho_connection,
            module=module,
        )[0]
        assert document["Sub_Total"] == pytest.approx(460)  # 2 x 200 + 15 % GST
        assert document[subform][0]["Product_Name"]["name"] == "Workshop"


def test_refused_record_is_a_clear_data_error(runner, zoho_connection):
    error = failed(
        runner,
        "zohocrm:CreateRecord",
        {"Last_Name": "Bad", "Email": "not-an-email"},
        zoho_connection,
        module="Contacts",
    )
    assert error["type"] == "DataError"
    assert error["message"] == "Zoho CRM: INVALID_DATA: invalid data (Email)"
    missing = failed(
        runner, "zohocrm:CreateRecord", {"Phone": "1"}, zoho_connection, module="Accounts"
    )
    assert "MANDATORY_NOT_FOUND" in missing["message"] and "Account_Name" in missing["message"]


def test_unknown_record_and_module(runner, zoho_connection):
    error = failed(
        runner,
        "zohocrm:GetRecord",
        {"id": "5843104000000999999"},
        zoho_connection,
        module="Accounts",
    )
    assert error["type"] == "DataError" and "no Accounts record" in error["message"]
    unknown = failed(runner, "zohocrm:GetRecord", {"id": "1"}, zoho_connection, module="Widgets")
    assert "INVALID_MODULE" in unknown["message"]
    unchosen = failed(runner, "zohocrm:GetRecord", {"id": "1"}, zoho_connection)
    assert unchosen["type"] == "InvalidConfigurationError"


def test_revoked_grant_is_an_account_validation_error(runner, http, zohocrm, zoho_connection):
    http.post(
        f"{zohocrm.url}/oauth/v2/token/revoke",
        params={"token": zoho_connection.secrets["refresh_token"]},
    )
    error = failed(runner, "zohocrm:GetRecord", {"id": "1"}, zoho_connection, module="Accounts")
    assert error["type"] == "AccountValidationError" and "INVALID_TOKEN" in error["message"]


def test_429_on_a_write_is_a_rate_limit_error_and_reads_retry(runner, zohocrm, zoho_connection):
    zohocrm.fault(status=429, count=1, retry_after=4, method="POST")
    error = failed(
        runner, "zohocrm:CreateRecord", {"Account_Name": "Kea"}, zoho_connection, module="Accounts"
    )
    assert error["type"] == "RateLimitError"
    zohocrm.fault(status=429, count=1, retry_after=4, method="GET")
    found = run_one(
        runner, "zohocrm:SearchRecords", {"word": "nothing"}, zoho_connection, module="Accounts"
    )
    assert found == [] and runner.sleeps  # waited, then retried


# -- search -------------------------------------------------------------------------------------


@pytest.fixture
def accounts(runner, zoho_connection):
    names = ("Smith, Jones (NZ) Ltd", "Smith Ltd", "Back\\slash Co")
    for name in names:
        run_one(
            runner,
            "zohocrm:CreateRecord",
            {"Account_Name": name, "Phone": "+64 9 555 1000"},
            zoho_connection,
            module="Accounts",
        )
    return names


def search(runner, connection, mapper, **parameters):
    return run_one(
        runner, "zohocrm:SearchRecords", mapper, connection, module="Accounts", **parameters
    )


def test_criteria_values_with_parentheses_commas_and_backslashes(runner, zoho_connection, accounts):
    rule = {"field": "Account_Name", "operator": "equals", "value": "Smith, Jones (NZ) Ltd"}
    assert [r["Account_Name"] for r in search(runner, zoho_connection, {"filter": [[rule]]})] == [
        "Smith, Jones (NZ) Ltd"
    ]
    slash = {"field": "Account_Name", "operator": "equals", "value": "Back\\slash Co"}
    assert len(search(runner, zoho_connection, {"filter": [[slash]]})) == 1
    both = [
        {"field": "Account_Name", "operator": "starts_with", "value": "Smith"},
        {"field": "Phone", "operator": "equals", "value": "+64 9 555 1000"},
    ]
    assert len(search(runner, zoho_connection, {"filter": [both]}, limit=0)) == 2
    listed = {"field": "Account_Name", "operator": "in", "value": ["Smith Ltd", "Back\\slash Co"]}
    assert len(search(runner, zoho_connection, {"filter": [[listed]]}, limit=0)) == 2


def test_name_email_phone_and_word_helpers(runner, zoho_connection, accounts):
    assert len(search(runner, zoho_connection, {"name": "Smith, Jones ("})) == 1
    assert len(search(runner, zoho_connection, {"phone": "555 1000"}, limit=0)) == 3
    assert len(search(runner, zoho_connection, {"word": "slash"})) == 1
    run_one(
        runner,
        "zohocrm:CreateRecord",
        {"Last_Name": "Ng", "Email": "ng@x.example"},
        zoho_connection,
        module="Contacts",
    )
    by_email = run_one(
        runner,
        "zohocrm:SearchRecords",
        {"email": "NG@x.example"},
        zoho_connection,
        module="Contacts",
    )
    assert [r["Last_Name"] for r in by_email] == ["Ng"]


def test_no_match_is_no_bundles_and_the_flow_can_continue(runner, zoho_connection, accounts):
    flow = [
        {
            "id": 1,
            "module": "zohocrm:SearchRecords",
            "version": 1,
            "parameters": conn(zoho_connection, module="Accounts", continueWhenNoRes=True),
            "mapper": {"name": "Nobody"},
        },
        {
            "id": 2,
            "module": "util:SetVariable2",
            "version": 1,
            "parameters": {},
            "mapper": {"name": "reached", "scope": "roundtrip", "value": "yes"},
        },
    ]
    record = runner.run(flow)
    assert record.status == "success", record.error
    assert record.modules[1].bundles_out == 0 and record.modules[2].operations == 1


def test_bad_criteria_is_a_data_error(runner, zoho_connection, accounts):
    error = failed(
        runner,
        "zohocrm:SearchRecords",
        {"criteria": "(Nope:equals:1)"},
        zoho_connection,
        module="Accounts",
    )
    assert error["type"] == "DataError" and "INVALID_QUERY" in error["message"]


# -- Watch Records ------------------------------------------------------------------------------


def test_watch_records_all_then_only_changes(runner, zohocrm, zoho_connection, accounts):
    flow = [
        {
            "id": 1,
            "module": "zohocrm:WatchRecords",
            "version": 1,
            "parameters": conn(zoho_connection, module="Accounts", start="all", limit=2),
            "mapper": {},
        }
    ]
    seen = []
    for _ in range(3):
        record = runner.run(flow)
        assert record.status == "success", record.error
        seen += [b["Account_Name"] for b in outputs(record, 1)]
    assert sorted(seen) == sorted(accounts)
    zohocrm.control("config", {"clock_offset_seconds": 3})
    target = next(r for r in records(zohocrm, "Accounts") if r["Account_Name"] == "Smith Ltd")
    run_one(
        runner,
        "zohocrm:UpdateRecord",
        {"id": target["id"], "Phone": "1"},
        zoho_connection,
        module="Accounts",
    )
    changed = runner.run(flow)
    assert [b["id"] for b in outputs(changed, 1)] == [target["id"]]
    listed = zohocrm.requests_to("/crm/v8/Accounts", "GET")[-1]
    assert {k.lower(): v for k, v in listed["headers"].items()}["if-modified-since"]
    assert "Account_Name" in listed["query"]["fields"][0].split(",")
    assert runner.run(flow).modules[1].bundles_out == 0  # 304: nothing since


def test_watch_from_now_outputs_only_later_records(runner, zohocrm, zoho_connection, accounts):
    flow = [
        {
            "id": 1,
            "module": "zohocrm:WatchRecords",
            "version": 1,
            "parameters": conn(zoho_connection, module="Accounts"),
            "mapper": {},
        }
    ]
    assert runner.run(flow).modules[1].bundles_out == 0
    zohocrm.control("config", {"clock_offset_seconds": 3})
    run_one(
        runner,
        "zohocrm:CreateRecord",
        {"Account_Name": "Kaka Ltd"},
        zoho_connection,
        module="Accounts",
    )
    assert [b["Account_Name"] for b in outputs(runner.run(flow), 1)] == ["Kaka Ltd"]


# -- notifications ------------------------------------------------------------------------------


class NotifyReceiver:
    def __init__(self):
        self.bodies = []
        self.condition = threading.Condition()

    def __call__(self, environ, start_response):
        body = json.loads(Request(environ).get_data() or b"null")
        with self.condition:
            self.bodies.append(body)
            self.condition.notify_all()
        return Response("ok")(environ, start_response)

    def next(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        with self.condition:
            while not self.bodies:
                assert self.condition.wait(deadline - time.monotonic()), "no notification"
            return self.bodies.pop(0)


def test_notifications_subscribe_deliver_and_unsubscribe(
    runner, http, serve, zohocrm, zoho_connection, resolver
):
    receiver = NotifyReceiver()
    url = serve(receiver) + "/hooks/zoho"
    connection = resolver.get(zoho_connection.id)
    parameters = {"module": "Accounts", "operations": "create,edit", "token": "tok-1"}
    channel_id = attach_webhook(connection, http, url, parameters)
    assert channel_id.isdigit()

    created = run_one(
        runner,
        "zohocrm:CreateRecord",
        {"Account_Name": "Weka Ltd"},
        zoho_connection,
        module="Accounts",
    )[0]
    bundles = webhook_bundles(receiver.next(), parameters)
    assert [(b["module"], b["id"], b["operation"]) for b in bundles] == [
        ("Accounts", created["id"], "insert")
    ]
    run_one(
        runner,
        "zohocrm:UpdateRecord",
        {"id": created["id"], "Phone": "9"},
        zoho_connection,
        module="Accounts",
    )
    updated = webhook_bundles(receiver.next(), parameters)
    assert updated[0]["operation"] == "update" and "Phone" in updated[0]["affected_fields"]
    forged = {"module": "Accounts", "ids": ["1"], "operation": "insert", "token": "forged"}
    assert webhook_bundles(forged, parameters) == []

    detach_webhook(connection, http, channel_id)
    assert zohocrm.state()["records"]["_channels"] in ({}, [])
