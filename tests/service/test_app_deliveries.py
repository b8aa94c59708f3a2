"""QuickBooks posts every company's changes to one address: each active scenario gets only its
own company's notifications, and only when the delivery is signed with the verifier token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

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


def test_a_bad_signature_is_refused_and_nothing_is_queued(service, store, companies):
    answer = post(service, delivery(("111", "7")), sign=lambda body: signature(body, "forged"))
    assert answer.status_code == 401
    assert all(store.count_queue(webhook.id) == 0 for webhook in companies.values())


def test_an_app_nobody_listens_to_is_404(service, companies):
    client = create_app({"SWITCHBOARD_SERVICE": service}).test_client()
    assert client.post("/hooks/apps/zohocrm", data=b"{}").status_code == 404
