"""Receiving Xero webhooks: signature check and the "intent to receive" handshake.

Xero signs each delivery with ``x-xero-signature`` = base64(HMAC-SHA256(webhook key, raw
body)) and, before enabling a webhook, sends one correctly and one wrongly signed empty
payload: the receiver must answer 200 to the first and 401 to the second, within 5 seconds.
The check must run on the raw body, before any JSON parsing. Events carry ids only; a
scenario fetches the resource (``xero:GetContact`` …).

Ingress use (the webhook view, once it offers a per-app hook)::

    status = xero_webhook_status(webhook_key, raw_body, headers.get("x-xero-signature"))
    if status != 200: answer 401 and do not queue; else queue ``xero_events(raw_body)``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

SIGNATURE_HEADER = "x-xero-signature"


def xero_signature(key: str, raw_body: bytes) -> str:
    """base64(HMAC-SHA256(key, raw body)), as Xero computes it."""
    digest = hmac.new(key.encode("utf-8"), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_xero_signature(key: str, raw_body: bytes, signature: str | None) -> bool:
    """Whether ``signature`` signs ``raw_body`` with ``key`` (constant-time compare)."""
    if not key or not signature:
        return False
    # Bytes, not text: compare_digest refuses non-ASCII str, and a caller chooses the header.
    expected = xero_signature(key, raw_body).encode("ascii")
    return hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))


def xero_webhook_status(key: str, raw_body: bytes, signature: str | None) -> int:
    """The status to answer a delivery (and the intent-to-receive check): 200 or 401."""
    return 200 if verify_xero_signature(key, raw_body, signature) else 401


def xero_events(raw_body: bytes) -> list[dict[str, Any]]:
    """The events of a verified delivery (empty for the intent-to-receive payload)."""
    payload = json.loads(raw_body or b"{}")
    events = payload.get("events") if isinstance(payload, dict) else None
    return [event for event in events or [] if isinstance(event, dict)]


def route_delivery(
    raw_body: bytes, headers: Mapping[str, str], connections: Mapping[Any, Any]
) -> tuple[int, dict[Any, bytes]]:
    """Xero posts every organisation's events to the app's one webhook URL: check
    ``x-xero-signature`` with each candidate connection's webhook key and give each candidate
    the events of its own organisation (``tenant_id``).

    A correctly signed delivery answers 200 even when it carries no event — that is Xero's
    "intent to receive" check — and a wrongly signed one 401, with nothing queued.
    """
    signature = {k.lower(): v for k, v in headers.items()}.get(SIGNATURE_HEADER)
    verified = {
        key: connection
        for key, connection in connections.items()
        if verify_xero_signature(
            str((connection.secrets or {}).get("webhook_key") or ""), raw_body, signature
        )
    }
    if not verified:
        return 401, {}
    try:
        events = xero_events(raw_body)
    except ValueError:
        return 400, {}
    bodies: dict[Any, bytes] = {}
    for key, connection in verified.items():
        tenant = str((connection.data or {}).get("tenant_id") or "")
        own = [event for event in events if str(event.get("tenantId")) == tenant]
        if own:
            bodies[key] = json.dumps({"events": own}).encode()
    return 200, bodies


def event_bundles(
    request_bundle: Mapping[str, Any], parameters: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """One bundle per event of a routed delivery (``resourceId``, ``resourceUrl``,
    ``eventCategory`` CONTACT/INVOICE, ``eventType`` CREATE/UPDATE, ``eventDateUtc``,
    ``tenantId``), keeping only the categories and types the trigger asks for."""
    settings = dict(parameters or {})
    categories = _wanted(settings.get("categories"))
    types = _wanted(settings.get("types"))
    events = request_bundle.get("events") if isinstance(request_bundle, Mapping) else None
    return [
        dict(event)
        for event in events or []
        if isinstance(event, Mapping)
        and (not categories or str(event.get("eventCategory", "")).upper() in categories)
        and (not types or str(event.get("eventType", "")).upper() in types)
    ]


def _wanted(value: Any) -> set[str]:
    items = value.split(",") if isinstance(value, str) else value or []
    return {str(item).strip().upper() for item in items if str(item).strip()}
