"""Zoho CRM sandbox: /actions/watch notifications, the rate limit, faults and fixtures."""

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
    assert first["resource_uri"] == f"{client.api_domain}/crm/v2/Accounts"
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


def test_rate_limit_then_success_and_injected_faults(serve, http):
    client = make_client(
        serve, http, {"rate_limit_per_minute": 2, "rate_limit_window_seconds": 0.5}
    )
    assert [client.request("GET", "Accounts").status_code for _ in range(2)] == [204, 204]
    limited = client.request("GET", "Accounts")
    assert limited.status_code == 429
    assert limited.json()["code"] == "TOO_MANY_REQUESTS"
    time.sleep(0.55)
    assert client.request("GET", "Accounts").status_code == 204
    client.server.control("faults", {"status": 500, "count": 1, "path_prefix": "/crm/v2"})
    failed = client.request("GET", "Accounts")
    assert (failed.status_code, failed.json()["status"]) == (500, "error")


def test_demo_fixture_has_the_shared_companies(serve, http):
    client = make_client(serve, http, {"fixture": "demo"})
    accounts = client.request("GET", "Accounts").json()
    crm = json.loads(ONECRM_DEMO.read_text())
    assert {a["Account_Name"] for a in accounts["data"]} == {a["name"] for a in crm["Account"]}
    invoices = client.request("GET", "Invoices", params={"per_page": 200}).json()["data"]
    assert len(invoices) == 50
    assert all(i["Product_Details"] and i["Grand_Total"] > 0 for i in invoices)
