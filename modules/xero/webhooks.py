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
