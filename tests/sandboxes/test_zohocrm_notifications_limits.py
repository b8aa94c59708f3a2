"""Zoho CRM sandbox: /actions/watch notifications, API credits and calls in flight, faults and
fixtures."""

import json
import time
from pathlib import Path

from .test_zohocrm_oauth import make_client

ONECRM_DEMO = Path(__file__).parents[2] / "modules/onecrm/fixtures/demo.json"


def watch(client, url, events, channel_id="1000000068001"):
    return client.request(
        "POST",
        "actions/watch",
        json={
            "watch": [
                {
                    "channel_id": channel_id,
                    "events": events,
                    "notify_url": url + "?org=demo&x=1",
                    "token": "TOKEN_FOR_VERIFICATION",
                }
            ]
        },
    )


def test_watch_then_changes_are_posted_to_the_notify_url(serve, http, receiver_factory):
    client = make_client(serve, http)
    receiver, url = receiver_factory()
    subscribed = watch(client, url, ["Accounts.all", "Contacts.create"])
    assert subscribed.status_code == 200, subscribed.text
    result = subscribed.json()["watch"][0]
    assert result["code"] == "SUCCESS"
    assert {e["resource_name"] for e in result["details"]["events"]} == {"Accounts", "Contacts"}
    (account_id,) = client.insert("Accounts", {"Account_Name": "Matai Timber"})
    client.request("PUT", "Accounts", json={"data": [{"id": account_id, "Phone": "1"}]})
    (contact_id,) = client.insert("Contacts", {"Last_Name": "Walker"})
    client.request("PUT", "Contacts", json={"data": [{"id": contact_id, "Phone": "2"}]})
    client.request("DELETE", "Accounts", params={"ids": account_id})
    received = receiver.wait_for(4)
    time.sleep(0.2)  # the contact update must not arrive: only Contacts.create is watched
    assert len(receiver.received) == 4
    bodies = [r["json"] for r in received]
    assert [(b["module"], b["operation"], b["ids"]) for b in bodies] == [
        ("Accounts", "insert", [account_id]),
        ("Accounts", "update", [account_id]),
        ("Contacts", "insert", [contact_id]),
        ("Accounts", "delete", [account_id]),
    ]
    first = bodies[0]
    assert first["channel_id"] == 1000000068001
    assert first["token"] == "TOKEN_FOR_VERIFICATION"
    assert first["query_params"] == {"org": "demo", "x": "1"}
    assert first["resource_uri"] == f"{client.api_domain}/crm/v8/Accounts"
    assert bodies[1]["affected_fields"] == [{account_id: ["Phone"]}]
    listed = client.request("GET", "actions/watch").json()["watch"]
    assert listed[0]["events"] == ["Accounts.all", "Contacts.create"]
    gone = client.request("DELETE", "actions/watch", params={"channel_ids": "1000000068001"})
    assert gone.json()["watch"][0]["code"] == "SUCCESS"
    assert client.request("GET", "actions/watch").status_code == 204


def test_watch_validates_events_and_expiry(serve, http):
    client = make_client(serve, http)
    bad_event = watch(client, "http://127.0.0.1:9/hook", ["Widgets.create"])
    assert bad_event.status_code == 400
    assert bad_event.json()["watch"][0]["details"] == {"api_name": "events"}
    too_long = client.request(
        "POST",
        "actions/watch",
        json={
            "watch": [
                {
                    "channel_id": "7",
                    "events": ["Accounts.edit"],
                    "notify_url": "http://127.0.0.1:9/",
                    "channel_expiry": "2099-01-01T00:00:00+00:00",
                }
            ]
        },
    )
    assert too_long.json()["watch"][0]["details"] == {"api_name": "channel_expiry"}


FIELDS = {"fields": "Account_Name"}


def test_api_credits_run_out_then_come_back_and_injected_faults(serve, http):
    client = make_client(serve, http, {"api_credits_per_day": 2, "credit_window_seconds": 0.5})
    calls = [client.request("GET", "Accounts", params=FIELDS).status_code for _ in range(2)]
    assert calls == [204, 204]
    spent = client.request("GET", "Accounts", params=FIELDS)
    assert spent.status_code == 429
    assert spent.json()["code"] == "LIMIT_REACHED"
    time.sleep(0.55)  # the (shortened) rolling day has passed
    assert client.request("GET", "Accounts", params=FIELDS).status_code == 204
    client.server.control("faults", {"status": 500, "count": 1, "path_prefix": "/crm/v8"})
    failed = client.request("GET", "Accounts", params=FIELDS)
    assert (failed.status_code, failed.json()["status"]) == (500, "error")


def test_demo_fixture_has_the_shared_companies(serve, http):
    client = make_client(serve, http, {"fixture": "demo"})
    accounts = client.request("GET", "Accounts", params=FIELDS).json()
    crm = json.loads(ONECRM_DEMO.read_text())
    assert {a["Account_Name"] for a in accounts["data"]} == {a["name"] for a in crm["Account"]}
    listing = {"fields": "Invoiced_Items,Grand_Total", "per_page": 200}
    invoices = client.request("GET", "Invoices", params=listing).json()["data"]
    assert len(invoices) == 50
    assert all(i["Invoiced_Items"] and i["Grand_Total"] > 0 for i in invoices)
