"""Receiving QuickBooks Online webhooks (the New Event trigger).

Intuit signs each delivery with ``intuit-signature`` = base64(HMAC-SHA256(verifier token, raw
body)); the verifier token is shown on the Intuit app's Webhooks page. The check must run on the
raw body, before any JSON parsing, with a constant-time compare. A delivery batches changes of
one or more companies::

    {"eventNotifications": [{"realmId": "…", "dataChangeEvent": {"entities": [
        {"name": "Customer", "id": "42", "operation": "Update", "lastUpdated": "…"}]}}]}

Events carry ids only; a scenario fetches the record (``quickbooks:GetCustomer`` …).

Ingress use (once the webhook view offers a per-app check)::

    status = intuit_webhook_status(verifier_token, raw_body, headers.get("intuit-signature"))
    if status != 200: answer 401 and do not queue; else queue ``change_events(raw_body)``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any

SIGNATURE_HEADER = "intuit-signature"


def intuit_signature(verifier_token: str, raw_body: bytes) -> str:
    """base64(HMAC-SHA256(verifier token, raw body)), as Intuit computes it."""
    digest = hmac.new(verifier_token.encode("utf-8"), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_intuit_signature(verifier_token: str, raw_body: bytes, signature: str | None) -> bool:
    """Whether ``signature`` signs ``raw_body`` with ``verifier_token`` (constant-time)."""
    if not verifier_token or not signature:
        return False
    expected = intuit_signature(verifier_token, raw_body).encode("ascii")
    return hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))


def intuit_webhook_status(verifier_token: str, raw_body: bytes, signature: str | None) -> int:
    """The status to answer a delivery: 200 when correctly signed, else 401 (do not queue)."""
    return 200 if verify_intuit_signature(verifier_token, raw_body, signature) else 401


def change_events(
    payload: Mapping[str, Any] | bytes,
    entities: Iterable[str] = (),
    operations: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """One bundle per changed entity of a (verified) delivery, oldest notification first.

    Each bundle: ``realmId``, ``name`` (entity type), ``id``, ``operation`` (Create, Update,
    Delete, Merge, Void, Emailed), ``lastUpdated`` and, for merges, ``deletedId``. ``entities``
    and ``operations`` (case-insensitive; empty = all) keep only the wanted changes.
    """
    if isinstance(payload, bytes | bytearray):
        payload = json.loads(payload or b"{}")
    wanted_names = {e.strip().lower() for e in entities if e and e.strip()}
    wanted_ops = {o.strip().lower() for o in operations if o and o.strip()}
    bundles = []
    for notification in _items(payload, "eventNotifications"):
        change = notification.get("dataChangeEvent")
        for entity in _items(change, "entities"):
            bundle = {"realmId": notification.get("realmId"), **entity}
            if wanted_names and str(bundle.get("name", "")).lower() not in wanted_names:
                continue
            if wanted_ops and str(bundle.get("operation", "")).lower() not in wanted_ops:
                continue
            bundles.append(bundle)
    return bundles


def _items(container: Any, key: str) -> list[Mapping[str, Any]]:
    items = container.get(key) if isinstance(container, Mapping) else None
    return [item for item in items or [] if isinstance(item, Mapping)]


def route_delivery(
    raw_body: bytes, headers: Mapping[str, str], connections: Mapping[Any, Any]
) -> tuple[int, dict[Any, bytes]]:
    """Intuit posts every company's changes to one URL: check the signature with each
    candidate connection's verifier token and give each the notifications of its own company.

    Args:
        connections: candidate key (a scenario) → its stored QuickBooks connection.

    Returns:
        The status to answer (200 when some connection's token signs the body, else 401) and,
        per candidate whose company (``realm_id``) the delivery names, the body to queue for it.
    """
    signature = {k.lower(): v for k, v in headers.items()}.get(SIGNATURE_HEADER)
    verified = {
        key: connection
        for key, connection in connections.items()
        if verify_intuit_signature(
            str((connection.secrets or {}).get("verifier_token") or ""), raw_body, signature
        )
    }
    if not verified:
        return 401, {}
    try:
        payload = json.loads(raw_body or b"{}")
    except ValueError:
        return 400, {}
    notifications = _items(payload, "eventNotifications")
    bodies: dict[Any, bytes] = {}
    for key, connection in verified.items():
        realm = str((connection.data or {}).get("realm_id") or "")
        own = [n for n in notifications if str(n.get("realmId")) == realm]
        if own:
            bodies[key] = json.dumps({"eventNotifications": own}).encode()
    return 200, bodies
