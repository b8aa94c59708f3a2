"""Signed webhook deliveries (CONTACT/INVOICE events) and Xero's "intent to receive" check."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

import flask

from modules.sandboxing import SandboxError, new_delivery

from .errors import Record
from .resources import API_PREFIX
from .state import XeroSandboxState, sandbox_state
from .tenant import Event, Tenant


def sign_payload(key: str, raw_body: bytes) -> str:
    """``x-xero-signature``: base64 of HMAC-SHA256 over the raw body with the webhook key."""
    digest = hmac.new(key.encode("utf-8"), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


EVENT_COLLECTIONS = {"CONTACT": "Contacts", "INVOICE": "Invoices", "CREDITNOTE": "CreditNotes"}
"""Webhook category → the collection its ``resourceUrl`` points into."""


def webhook_event(state: XeroSandboxState, tenant: Tenant, event: Event) -> Record:
    """One element of ``events[]``; ``resourceUrl`` points at this sandbox so it can be fetched."""
    category, event_type, resource_id = event
    collection = EVENT_COLLECTIONS[category]
    extra = {}
    if category == "CREDITNOTE":  # Xero adds the credit note's type and status (wh-spec)
        note = tenant.credit_notes[resource_id]
        extra = {"data": {"Type": note["Type"], "Status": note["Status"]}}
    return {
        "resourceUrl": f"{flask.request.host_url.rstrip('/')}{API_PREFIX}/{collection}/"
        f"{resource_id}",
        "resourceId": resource_id,
        "eventDateUtc": state.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
        "eventType": event_type,
        "eventCategory": category,
        "tenantId": tenant.tenant_id,
        "tenantType": "ORGANISATION",
        **extra,
    }


def emit_events(state: XeroSandboxState, tenant: Tenant, events: list[Event]) -> None:
    """Send one signed payload with this request's CONTACT/INVOICE events (if configured)."""
    url, key = state.config.get("webhook_url"), state.config.get("webhook_key")
    if not events or not url or not key:
        return
    unique = list(dict.fromkeys(events))
    items = [webhook_event(state, tenant, e) for e in unique]
    first = state.event_sequence + 1
    for _ in items:
        state.next_sequence()
    body = {
        "events": items,
        "firstEventSequence": first,
        "lastEventSequence": state.event_sequence,
        "entropy": secrets.token_hex(10).upper(),
    }
    send_webhook(state, url, key, body, kind="events", sync=False)


def send_webhook(
    state: XeroSandboxState,
    url: str,
    key: str,
    body: Record,
    kind: str,
    sync: bool,
    signature: str | None = None,
) -> Any:
    """POST ``body`` signed with ``key`` (or with a given, possibly wrong, ``signature``)."""
    raw = json.dumps(body, separators=(",", ":")).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "x-xero-signature": signature or sign_payload(key, raw),
        "User-Agent": "Xero-Webhooks (Switchboard sandbox)",
    }
    delivery = new_delivery(url, body, headers, kind)
    if sync:
        return state.webhooks.send_now(delivery, raw)
    state.webhooks.enqueue(delivery, raw)
    return delivery


def intent_to_receive() -> flask.Response:
    """Xero's "intent to receive" check: a series of empty payloads, some correctly and some
    wrongly signed. The receiver passes when it answers every correctly signed one 200 and every
    wrongly signed one 401, each within 5 seconds (``webhook_timeout_seconds``), with an empty
    body and no cookies (NOTES §13)."""
    state = sandbox_state()
    url, key = state.config.get("webhook_url"), state.config.get("webhook_key")
    if not url or not key:
        raise SandboxError("configure webhook_url and webhook_key first")
    attempts = []
    for signed in (True, False, True, False):
        body = {
            "events": [],
            "firstEventSequence": 0,
            "lastEventSequence": 0,
            "entropy": secrets.token_hex(10).upper(),
        }
        signature = None if signed else sign_payload(key + "-wrong", b"not the body")
        kind = f"intent-to-receive:{'valid' if signed else 'invalid'}"
        delivery = send_webhook(state, url, key, body, kind, sync=True, signature=signature)
        attempts.append(judge_answer(delivery, signed))
    return flask.jsonify(
        {
            "url": url,
            "attempts": attempts,
            "correctly_signed_status": attempts[0]["status"],
            "incorrectly_signed_status": attempts[1]["status"],
            "passed": all(not a["problems"] for a in attempts),
            "errors": [p for a in attempts for p in a["problems"]],
        }
    )


def judge_answer(delivery: Any, signed: bool) -> Record:
    """What Xero checks of one intent-to-receive answer; ``problems`` empty when it passes."""
    wanted = 200 if signed else 401
    headers = {name.lower(): value for name, value in delivery.response_headers.items()}
    problems = [delivery.error] if delivery.error else []
    if delivery.status is not None and delivery.status != wanted:
        problems.append(
            f"answered {delivery.status} to a {'' if signed else 'wrongly '}signed "
            f"payload, Xero wants {wanted}"
        )
    if delivery.response_body:
        problems.append("the answer has a body; Xero wants it empty")
    if "set-cookie" in headers:
        problems.append("the answer sets a cookie; Xero wants none")
    return {"signed": signed, "status": delivery.status, "problems": problems}


def register(app: flask.Flask) -> None:
    """The control route that runs the intent-to-receive check against ``webhook_url``."""
    app.add_url_rule(
        "/_sandbox/webhooks/intent-to-receive",
        "intent_to_receive",
        intent_to_receive,
        methods=["POST"],
    )
