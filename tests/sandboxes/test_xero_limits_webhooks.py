"""Xero rate limits, injected faults, signed webhooks and the intent-to-receive check."""

import base64
import hashlib
import hmac
import threading
import time

import pytest
import requests
from werkzeug.wrappers import Request, Response

from .conftest import XeroClient, connect_xero

KEY = "sandbox-webhook-key"


@pytest.fixture
def limited(http, start_xero):
    xero = start_xero({"rate_limit_per_minute": 3, "rate_limit_window_seconds": 0.6})
    tokens, tenant_id = connect_xero(http, xero)
    return XeroClient(http, xero, tokens["access_token"], tenant_id)


def test_minute_limit_answers_429_with_retry_after_then_recovers(limited):
    remaining = [limited.get("Contacts").headers["X-MinLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    refused = limited.get("Contacts")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["X-Rate-Limit-Problem"] == "minute"
    time.sleep(0.65)
    again = limited.get("Contacts")
    assert again.status_code == 200
    assert int(again.headers["X-DayLimit-Remaining"]) == 5000 - 4


def test_injected_500_then_success(xero, xero_client):
    xero.control("faults", {"status": 500, "count": 1, "path_prefix": "/api.xro/2.0/Contacts"})
    assert xero_client.get("Contacts").status_code == 500
    assert xero_client.get("Contacts").status_code == 200


def test_injected_429_carries_retry_after(xero, xero_client):
    xero.control("faults", {"status": 429, "count": 2, "retry_after": 7, "method": "PUT"})
    assert xero_client.get("Contacts").status_code == 200  # method does not match
    refused = xero_client.put("Contacts", {"Name": "A"})
    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "7")
    assert xero_client.put("Contacts", {"Name": "A"}).status_code == 429
    assert xero_client.put("Contacts", {"Name": "A"}).status_code == 200


def test_injected_delay_trips_client_timeout(xero, xero_client):
    xero.control("faults", {"delay_seconds": 0.5, "count": 1})
    with pytest.raises(requests.exceptions.ReadTimeout):
        xero_client.get("Contacts", timeout=0.15)
    assert xero_client.get("Contacts", timeout=2).status_code == 200


def test_bad_fault_spec_is_refused(xero, http):
    response = http.post(f"{xero.url}/_sandbox/faults", json={"status": 418})
    assert response.status_code == 400


def test_contact_and_invoice_changes_send_signed_webhooks(xero, xero_client, receiver_factory):
    receiver, url = receiver_factory(key=KEY)
    xero.control("config", {"webhook_url": url, "webhook_key": KEY})
    contact = xero_client.put("Contacts", {"Name": "Hooked Ltd"}).json()["Contacts"][0]
    xero_client.post("Contacts", {"ContactID": contact["ContactID"], "FirstName": "Ada"})
    xero_client.put("Invoices", {"Type": "ACCREC", "Contact": {"ContactID": contact["ContactID"]}})
    received = receiver.wait_for(3)
    assert [r["answered"] for r in received] == [200, 200, 200]
    raw = received[0]["raw"]
    expected = base64.b64encode(hmac.new(KEY.encode(), raw, hashlib.sha256).digest()).decode()
    assert received[0]["headers"]["X-Xero-Signature"] == expected
    events = [r["json"]["events"][0] for r in received]
    assert [(e["eventCategory"], e["eventType"]) for e in events] == [
        ("CONTACT", "CREATE"),
        ("CONTACT", "UPDATE"),
        ("INVOICE", "CREATE"),
    ]
    first = events[0]
    assert first["resourceId"] == contact["ContactID"]
    assert first["tenantId"] == xero_client.tenant_id
    assert first["tenantType"] == "ORGANISATION"
    assert first["resourceUrl"].endswith(f"/api.xro/2.0/Contacts/{contact['ContactID']}")
    payload = received[2]["json"]
    assert payload["firstEventSequence"] == payload["lastEventSequence"] == 3
    assert payload["entropy"]
    fetched = xero_client.http.get(first["resourceUrl"], headers=xero_client.headers())
    assert fetched.json()["Contacts"][0]["FirstName"] == "Ada"


def test_intent_to_receive_passes_for_a_verifying_receiver(xero, receiver_factory):
    _, url = receiver_factory(key=KEY)
    xero.control("config", {"webhook_url": url, "webhook_key": KEY})
    report = xero.control("webhooks/intent-to-receive")
    assert report["passed"] is True
    assert (report["correctly_signed_status"], report["incorrectly_signed_status"]) == (200, 401)


def test_intent_to_receive_fails_for_a_receiver_that_accepts_everything(xero, receiver_factory):
    receiver, url = receiver_factory(status=200)
    xero.control("config", {"webhook_url": url, "webhook_key": KEY})
    report = xero.control("webhooks/intent-to-receive")
    assert report["passed"] is False
    assert report["incorrectly_signed_status"] == 200
    assert [r["json"]["events"] for r in receiver.received] == [[], [], [], []]
    assert [r["signed"] for r in report["attempts"]] == [True, False, True, False]


def verifying_receiver(body=b"", cookie=None):
    """A receiver that checks the signature right but answers with ``body`` / a cookie."""

    def app(environ, start_response):
        request = Request(environ)
        expected = base64.b64encode(
            hmac.new(KEY.encode(), request.get_data(), hashlib.sha256).digest()
        ).decode()
        good = hmac.compare_digest(expected, request.headers.get("x-xero-signature", ""))
        response = Response(body, status=200 if good else 401)
        if cookie:
            response.set_cookie("session", cookie)
        return response(environ, start_response)

    return app


@pytest.mark.parametrize(
    ("receiver", "problem"),
    [
        (verifying_receiver(body=b"Accepted"), "the answer has a body; Xero wants it empty"),
        (verifying_receiver(cookie="abc"), "the answer sets a cookie; Xero wants none"),
    ],
)
def test_intent_to_receive_wants_an_empty_body_and_no_cookies(xero, serve, receiver, problem):
    """NOTES §13: answer 200 or 401 with an empty body and no cookies, or the check fails."""
    xero.control("config", {"webhook_url": serve(receiver) + "/hooks", "webhook_key": KEY})
    report = xero.control("webhooks/intent-to-receive")
    assert (report["correctly_signed_status"], report["incorrectly_signed_status"]) == (200, 401)
    assert report["passed"] is False
    assert problem in report["errors"]


def test_reset_forgets_records_and_config(xero, xero_client, http):
    xero_client.put("Contacts", {"Name": "Temp"})
    xero.control("config", {"webhook_url": "http://127.0.0.1:9/x"})
    xero.control("reset")
    state = xero.state()
    assert state["config"]["webhook_url"] is None
    assert all(not t["Contacts"] for t in state["records"].values())
    assert xero_client.get("Contacts").status_code == 401  # tokens are gone too


def test_a_sixth_call_in_progress_is_refused_429_concurrent(http, start_xero):
    """NOTES §3: at most 5 calls in progress per tenant; the sixth gets 429 concurrent."""
    xero = start_xero()
    tokens, tenant_id = connect_xero(http, xero)
    xero.control(
        "faults", {"delay_seconds": 3, "count": 6, "method": "GET", "path_prefix": "/api.xro"}
    )
    barrier = threading.Barrier(6)
    answers = []

    def call():
        with requests.Session() as session:
            client = XeroClient(session, xero, tokens["access_token"], tenant_id)
            barrier.wait()
            answers.append(client.get("Contacts"))

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 200, 429]
    (refused,) = [a for a in answers if a.status_code == 429]
    assert refused.headers["X-Rate-Limit-Problem"] == "concurrent"
    assert refused.headers["Retry-After"] == "1"
