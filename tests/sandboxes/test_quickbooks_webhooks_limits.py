"""QuickBooks sandbox: signed data-change webhooks, the per-realm rate limit, injected faults."""

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime

from .test_quickbooks_oauth import fault, make_client

VERIFIER = "sandbox-verifier-token"


def signature(raw):
    return base64.b64encode(hmac.new(VERIFIER.encode(), raw, hashlib.sha256).digest()).decode()


def create_customer_invoice_and_payment(client):
    customer = client.create("customer", {"DisplayName": "Summit Legal"})
    invoice = client.create(
        "invoice",
        {
            "CustomerRef": {"value": customer["Id"]},
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": 100,
                    "SalesItemLineDetail": {"TaxCodeRef": {"value": "4"}},
                }
            ],
        },
    )
    client.create(
        "payment",
        {
            "CustomerRef": {"value": customer["Id"]},
            "TotalAmt": 115,
            "Line": [
                {"Amount": 115, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
            ],
        },
    )
    return customer


CHANGES = [
    ("Customer", "1", "Create"),
    ("Invoice", "1", "Create"),
    ("Payment", "1", "Create"),
    ("Invoice", "1", "Update"),
]


def test_every_change_posts_a_signed_cloudevents_array_by_default(serve, http, receiver_factory):
    """NOTES.md §8 (lines 141-151): CloudEvents are mandatory from 2026, an array, ``type``
    ``qbo.<entity>.<operation>.v1``, possibly ``Content-Type: application/cloudevents+json``."""
    receiver, url = receiver_factory()
    client = make_client(serve, http, {"webhook_url": url, "webhook_key": VERIFIER})
    customer = create_customer_invoice_and_payment(client)
    received = receiver.wait_for(3)
    for delivery in received:
        assert delivery["headers"]["Intuit-Signature"] == signature(delivery["raw"])
        assert delivery["headers"]["Content-Type"].startswith("application/cloudevents+json")
        assert isinstance(delivery["json"], list)
    events = [e for d in received for e in d["json"]]
    assert {e["specversion"] for e in events} == {"1.0"}
    assert {e["intuitaccountid"] for e in events} == {client.realm_id}
    assert len({e["id"] for e in events}) == len(events)
    assert [(e["type"], e["intuitentityid"]) for e in events] == [
        ("qbo.customer.created.v1", "1"),
        ("qbo.invoice.created.v1", "1"),
        ("qbo.payment.created.v1", "1"),
        ("qbo.invoice.updated.v1", "1"),
    ]
    stamp = datetime.fromisoformat(customer["MetaData"]["LastUpdatedTime"])  # company zone
    assert events[0]["time"] == stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    log = client.server.control("webhooks/flush")["webhooks"]
    assert [d["status"] for d in log] == [200, 200, 200]


def test_the_legacy_payload_is_still_selectable(serve, http, receiver_factory):
    receiver, url = receiver_factory()
    config = {"webhook_url": url, "webhook_key": VERIFIER, "webhook_format": "legacy"}
    client = make_client(serve, http, config)
    customer = create_customer_invoice_and_payment(client)
    received = receiver.wait_for(3)
    for delivery in received:
        assert delivery["headers"]["Intuit-Signature"] == signature(delivery["raw"])
        assert delivery["headers"]["Content-Type"].startswith("application/json")
        assert delivery["headers"]["Intuit-Notification-Schema-Version"] == "0.1"
    events = [n for d in received for n in d["json"]["eventNotifications"]]
    assert {n["realmId"] for n in events} == {client.realm_id}
    entities = [
        (e["name"], e["id"], e["operation"])
        for n in events
        for e in n["dataChangeEvent"]["entities"]
    ]
    assert entities == CHANGES
    last = received[0]["json"]["eventNotifications"][0]["dataChangeEvent"]["entities"][0]
    stamp = customer["MetaData"]["LastUpdatedTime"]  # …T10:00:00-08:00
    assert last["lastUpdated"] == stamp[:-3] + stamp[-2:]  # …T10:00:00-0800


def test_rate_limit_answers_429_then_recovers(serve, http):
    client = make_client(
        serve, http, {"rate_limit_per_minute": 2, "rate_limit_window_seconds": 0.5}
    )
    assert [client.query("select * from Item").status_code for _ in range(2)] == [200, 200]
    limited = client.query("select * from Item")
    assert limited.status_code == 429
    assert fault(limited)["code"] == "3001"
    assert "ThrottleExceeded" in fault(limited)["Message"]
    assert limited.headers["Retry-After"] == "1"
    time.sleep(0.55)
    assert client.query("select * from Item").status_code == 200


def test_injected_faults_use_the_fault_envelope(serve, http):
    client = make_client(serve, http)
    client.server.control("faults", {"status": 503, "count": 1, "path_prefix": "/v3/company"})
    failed = client.query("select * from Item")
    assert failed.status_code == 503
    assert failed.json()["Fault"]["type"] == "SystemFault"
    assert client.query("select * from Item").status_code == 200
