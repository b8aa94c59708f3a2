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


def webhook_event(state: XeroSandboxState, tenant: Tenant, event: Event) -> Record:
    """One element of ``events[]``; ``resourceUrl`` points at this sandbox so it can be fetched."""
    category, event_type, resource_id = event
    collection = "Contacts" if category == "CONTACT" else "Invoices"
    return {
        "resourceUrl": f"{flask.request.host_url.rstrip('/')}{API_PREFIX}/{collection}/"
        f"{resource_id}",
        "resourceId": resource_id,
        "eventDateUtc": state.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
        "eventType": event_type,
        "eventCategory": category,
        "tenantId": tenant.tenant_id,
        "tenantType": "ORGANISATION",
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
    """Xero's "intent to receive" check: one correctly and one wrongly signed empty payload;
    the receiver passes when it answers 200 then 401."""
    state = sandbox_state()
    url, key = state.config.get("webhook_url"), state.config.get("webhook_key")
    if not url or not key:
        raise SandboxError("configure webhook_url and webhook_key first")
    body = {
        "events": [],
        "firstEventSequence": 0,
        "lastEventSequence": 0,
        "entropy": secrets.token_hex(10).upper(),
    }
    good = send_webhook(state, url, key, body, "intent-to-receive:valid", sync=True)
    bad_signature = sign_payload(key + "-wrong", b"not the body")
    bad = send_webhook(
        state, url, key, body, "intent-to-receive:invalid", sync=True, signature=bad_signature
    )
    return flask.jsonify(
        {
            "url": url,
            "correctly_signed_status": good.status,
            "incorrectly_signed_status": bad.status,
            "passed": good.status == 200 and bad.status == 401,
            "errors": [d.error for d in (good, bad) if d.error],
        }
    )


def register(app: flask.Flask) -> None:
    """The control route that runs the intent-to-receive check against ``webhook_url``."""
    app.add_url_rule(
        "/_sandbox/webhooks/intent-to-receive",
        "intent_to_receive",
        intent_to_receive,
        methods=["POST"],
    )
