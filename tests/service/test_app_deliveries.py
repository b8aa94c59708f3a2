"""QuickBooks posts every company's changes to one address: each active scenario gets only its
own company's notifications, and only when the delivery is signed with the verifier token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from engine.store import StoreUnavailable
from webui import create_app

TOKEN = "intuit-verifier-token"


def delivery(*realms_and_ids):
    return json.dumps(
        {
            "eventNotifications": [
                {
                    "realmId": realm,
                    "dataChangeEvent": {
                        "entities": [{"name": "Customer", "id": entity, "operation": "Create"}]
                    },
                }
                for realm, entity in realms_and_ids
            ]
        }
    ).encode()


def signature(body, token=TOKEN):
    return base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()


@pytest.fixture
def companies(service, store):
    """Two active scenarios on two QuickBooks companies of the same Intuit app."""
    scenarios = {}
    for realm in ("111", "222"):
        connection = store.create_connection(
            "quickbooks",
            "oauth2",
            f"Company {realm}",
            data={"realm_id": realm},
            secrets={"verifier_token": TOKEN, "access_token": "unused"},
        )
        text = json.dumps(
            {
                "name": f"QBO {realm}",
                "flow": [
                    {
                        "id": 1,
                        "module": "quickbooks:NewEvent",
                        "parameters": {"__IMTCONN__": connection.id},
                    },
                    {
                        "id": 2,
                        "module": "util:ComposeTransformer",
                        "mapper": {"value": "{{1.realmId}}/{{1.id}}"},
                    },
                ],
                "metadata": {"version": 1},
            }
        )
        result = service.import_scenario(text, active=True)
        scenarios[realm] = result.webhooks[0]
    return scenarios


def post(service, body, sign=signature):
    client = create_app({"SWITCHBOARD_SERVICE": service}).test_client()
    return client.post(
        "/hooks/apps/quickbooks",
        data=body,
        headers={"intuit-signature": sign(body), "Content-Type": "application/json"},
    )


def outputs(service, webhook):
    values = []
    for execution_id in service.process_webhook(webhook.id):
        record = service.get_execution(execution_id).record
        values += [b["value"] for c in record["modules"][1]["calls"] for b in c["output"]]
    return values


def test_each_company_gets_only_its_own_changes(service, companies):
    answer = post(service, delivery(("111", "7"), ("222", "8"), ("111", "9")))
    assert answer.status_code == 200
    assert outputs(service, companies["111"]) == ["111/7", "111/9"]
    assert outputs(service, companies["222"]) == ["222/8"]


def cloud_events(*realms_and_ids):
    """Intuit's CloudEvents payload (mandatory from 2026): an array, one event per change."""
    return json.dumps(
        [
            {
                "specversion": "1.0",
                "id": f"event-{realm}-{entity}",
                "source": "intuit.test",
                "type": "qbo.customer.created.v1",
                "datacontenttype": "application/json",
                "time": "2026-03-01T10:00:00.000Z",
                "intuitentityid": entity,
                "intuitaccountid": realm,
                "data": {},
            }
            for realm, entity in realms_and_ids
        ]
    ).encode()


def test_a_cloudevents_delivery_reaches_each_company_per_event(service, companies):
    client = create_app({"SWITCHBOARD_SERVICE": service}).test_client()
    body = cloud_events(("111", "7"), ("222", "8"), ("111", "9"))
    answer = client.post(
        "/hooks/apps/quickbooks",
        data=body,
        headers={
            "intuit-signature": signature(body),
            "Content-Type": "application/cloudevents+json; charset=utf-8",
        },
    )
    assert answer.status_code == 200
    assert outputs(service, companies["111"]) == ["111/7", "111/9"]
    assert outputs(service, companies["222"]) == ["222/8"]


def test_a_bad_signature_is_refused_and_nothing_is_queued(service, store, companies):
    answer = post(service, delivery(("111", "7")), sign=lambda body: signature(body, "forged"))
    assert answer.status_code == 401
    assert all(store.count_queue(webhook.id) == 0 for webhook in companies.values())


def test_an_app_nobody_listens_to_is_404(service, companies):
    client = create_app({"SWITCHBOARD_SERVICE": service}).test_client()
    assert client.post("/hooks/apps/zohocrm", data=b"{}").status_code == 404


XERO_KEY = "xero-webhook-key"


@pytest.fixture
def organisations(service, store):
    """Two active xero:NewEvent scenarios on two organisations of the same Xero app."""
    webhooks = {}
    for tenant in ("tenant-a", "tenant-b"):
        connection = store.create_connection(
            "xero",
            "oauth2",
            tenant,
            data={"tenant_id": tenant},
            secrets={"webhook_key": XERO_KEY, "access_token": "unused"},
        )
        text = json.dumps(
            {
                "name": f"Xero {tenant}",
                "flow": [
                    {
                        "id": 1,
                        "module": "xero:NewEvent",
                        "parameters": {"__IMTCONN__": connection.id, "categories": "CONTACT"},
                    },
                    {
                        "id": 2,
                        "module": "util:ComposeTransformer",
                        "mapper": {"value": "{{1.tenantId}}/{{1.resourceId}}"},
                    },
                ],
                "metadata": {"version": 1},
            }
        )
        webhooks[tenant] = service.import_scenario(text, active=True).webhooks[0]
    return webhooks


def xero_post(service, body, key=XERO_KEY):
    client = create_app({"SWITCHBOARD_SERVICE": service}).test_client()
    sign = base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()
    headers = {"x-xero-signature": sign, "Content-Type": "application/json"}
    return client.post("/hooks/apps/xero", data=body, headers=headers)


def test_xero_intent_to_receive_is_answered_200_signed_and_401_forged(service, organisations):
    empty = json.dumps(
        {"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": "S0m3r4Nd0mt3xt"}
    ).encode()
    assert xero_post(service, empty).status_code == 200
    assert xero_post(service, empty, key="wrong").status_code == 401


def test_xero_deliveries_are_answered_with_an_empty_body_and_no_cookies(service, organisations):
    """Xero's intent-to-receive fails an endpoint whose answer has a body or sets a cookie
    (vendor/xero/NOTES.md §13), for the 200 of a signed payload and the 401 of a forged one."""
    empty = json.dumps(
        {"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": "QWERTYUIOP"}
    ).encode()
    signed, forged = xero_post(service, empty), xero_post(service, empty, key="wrong")
    assert (signed.status_code, signed.data) == (200, b"")
    assert (forged.status_code, forged.data) == (401, b"")
    assert "Set-Cookie" not in signed.headers and "Set-Cookie" not in forged.headers


def test_xero_events_reach_only_their_organisation_and_category(service, organisations):
    events = [
        {
            "resourceId": "c-1",
            "tenantId": "tenant-a",
            "eventCategory": "CONTACT",
            "eventType": "CREATE",
        },
        {
            "resourceId": "i-1",
            "tenantId": "tenant-a",
            "eventCategory": "INVOICE",
            "eventType": "UPDATE",
        },
        {
            "resourceId": "c-2",
            "tenantId": "tenant-b",
            "eventCategory": "CONTACT",
            "eventType": "UPDATE",
        },
    ]
    assert xero_post(service, json.dumps({"events": events}).encode()).status_code == 200
    assert outputs(service, organisations["tenant-a"]) == ["tenant-a/c-1"]
    assert outputs(service, organisations["tenant-b"]) == ["tenant-b/c-2"]


def test_xero_sandbox_passes_intent_to_receive_and_delivers_a_real_event(service, store):
    """Over real HTTP: the Xero sandbox's own "intent to receive" check against the served app,
    then a contact created in the sandbox arrives as a bundle of the New Event scenario."""
    import requests

    from modules.sandboxing import run_sandbox_in_thread
    from modules.xero import sandbox as xero_sandbox
    from switchboard.cli import _demo_oauth_connection

    app_url, stop_app = run_sandbox_in_thread(create_app({"SWITCHBOARD_SERVICE": service}))
    xero_url, stop_xero = run_sandbox_in_thread(
        xero_sandbox.create_app(
            {"webhook_url": f"{app_url}/hooks/apps/xero", "webhook_key": XERO_KEY}
        )
    )
    try:
        granted = _demo_oauth_connection(store, service.registry, "xero", xero_url)
        connection = store.update_connection_secrets(
            granted.id, {**granted.secrets, "webhook_key": XERO_KEY}, granted.revision
        )
        text = json.dumps(
            {
                "name": "Xero events",
                "flow": [
                    {
                        "id": 1,
                        "module": "xero:NewEvent",
                        "parameters": {"__IMTCONN__": connection.id},
                    },
                    {
                        "id": 2,
                        "module": "util:ComposeTransformer",
                        "mapper": {"value": "{{1.eventCategory}} {{1.eventType}}"},
                    },
                ],
                "metadata": {"version": 1},
            }
        )
        webhook = service.import_scenario(text, active=True).webhooks[0]
        with requests.Session() as http:
            check = http.post(f"{xero_url}/_sandbox/webhooks/intent-to-receive", timeout=30)
            assert check.json()["passed"] is True, check.json()
            created = http.put(
                f"{xero_url}/api.xro/2.0/Contacts",
                json={"Contacts": [{"Name": "Event Co"}]},
                headers={
                    "Authorization": f"Bearer {connection.secrets['access_token']}",
                    "Accept": "application/json",
                    "xero-tenant-id": connection.data["tenant_id"],
                },
                timeout=30,
            )
            assert created.status_code == 200, created.text
            http.post(f"{xero_url}/_sandbox/webhooks/flush", timeout=30)
        assert outputs(service, webhook) == ["CONTACT CREATE"]
    finally:
        stop_xero()
        stop_app()


def test_a_delivery_is_queued_whole_or_not_at_all(service, store, companies, monkeypatch):
    real = store.enqueue
    calls = {"n": 0}

    def second_part_breaks(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise StoreUnavailable("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "enqueue", second_part_breaks)
    body = delivery(("111", "7"), ("222", "8"))
    answer = post(service, body)
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert answer.json["error"]["code"] == "store_unavailable"
    # The first company's part was written, then rolled back with the rest.
    assert all(store.count_queue(webhook.id) == 0 for webhook in companies.values())
    # Intuit sends the refused delivery again: now it is queued once, whole.
    monkeypatch.setattr(store, "enqueue", real)
    assert post(service, body).status_code == 200
    assert outputs(service, companies["111"]) == ["111/7"]
    assert outputs(service, companies["222"]) == ["222/8"]


def test_a_stored_delivery_is_answered_200_when_dispatching_it_fails(
    service, store, companies, monkeypatch
):
    # The parts were stored, then a failing dispatch answered 500: Intuit sends it again.
    def fails(webhook_id):
        raise OSError("the broker connection broke")

    monkeypatch.setattr(service.queue, "dispatch_webhook", fails)
    body = delivery(("111", "7"))
    assert post(service, body).status_code == 200
    assert store.count_queue(companies["111"].id) == 1  # the sweep dispatches it later
