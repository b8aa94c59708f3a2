"""Receiving QuickBooks Online webhooks (the New Event trigger): both of Intuit's payloads.

Intuit signs each delivery with ``intuit-signature`` = base64(HMAC-SHA256(verifier token, raw
body)); the verifier token is shown on the Intuit app's Webhooks page. The check runs on the raw
body, before any JSON parsing, with a constant-time compare, and is the same for both payloads.

A delivery comes in one of two shapes (vendor/quickbooks/NOTES.md §8):

- **CloudEvents** (mandatory from 2026; an app switches on the Intuit webhooks page): a JSON
  array of events, possibly with ``Content-Type: application/cloudevents+json``, possibly for
  several companies::

      [{"specversion": "1.0", "id": "88cd…", "source": "intuit.…",
        "type": "qbo.customer.created.v1", "time": "2025-09-10T21:31:25.17Z",
        "intuitentityid": "1234", "intuitaccountid": "310687", "data": {}}]

- **legacy** (until the switch): ``{"eventNotifications": [{"realmId": "…",
  "dataChangeEvent": {"entities": [{"name", "id", "operation", "lastUpdated"}]}}]}``.

``delivery_events`` reads either into the same bundles (``realmId``, ``name``, ``id``,
``operation`` Create/Update/Delete/Merge/Void/Emailed, ``lastUpdated``; a CloudEvent adds its
``type`` and ``eventId``), so a scenario mapping ``{{1.name}}`` / ``{{1.id}}`` works with either.
Events carry ids only; a scenario fetches the record (``quickbooks:GetCustomer`` …).

Intuit posts every company's events to the one URL of the app: ``route_delivery`` checks the
signature with each candidate connection's verifier token and routes each event, not each
request, to the connection of its company.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

SIGNATURE_HEADER = "intuit-signature"
VERIFIER_ENV = "SWITCHBOARD_QUICKBOOKS_VERIFIER_TOKEN"
"""The deployment's Intuit app's verifier token, for connections that do not carry their own
(one Intuit app has one token for all the companies it reaches)."""

OPERATIONS: Mapping[str, str] = {
    "created": "Create",
    "updated": "Update",
    "deleted": "Delete",
    "merged": "Merge",
    "voided": "Void",
    "emailed": "Emailed",
}
"""CloudEvents ``type`` verbs → the legacy operation names (merge/void/emailed names are not
confirmed by Intuit's samples: an unknown verb is kept, capitalised)."""

ENTITY_NAMES: Mapping[str, str] = {
    name.lower(): name
    for name in (
        "Account",
        "Bill",
        "BillPayment",
        "Budget",
        "Class",
        "CreditMemo",
        "Currency",
        "Customer",
        "Department",
        "Deposit",
        "Employee",
        "Estimate",
        "Invoice",
        "Item",
        "JournalCode",
        "JournalEntry",
        "Payment",
        "PaymentMethod",
        "Preferences",
        "Purchase",
        "PurchaseOrder",
        "RefundReceipt",
        "SalesReceipt",
        "TaxAgency",
        "Term",
        "TimeActivity",
        "Transfer",
        "Vendor",
        "VendorCredit",
    )
}
"""Intuit's entity names by the lower-case form a CloudEvents ``type`` carries."""

_TYPE = re.compile(r"^qbo\.(?P<entity>[A-Za-z_]+)\.(?P<verb>[A-Za-z_]+)\.v\d+$")


def verifier_token_of(secrets: Mapping[str, Any] | None) -> str:
    """The verifier token that checks a connection's deliveries: its own ``verifier_token``,
    else the deployment's (``SWITCHBOARD_QUICKBOOKS_VERIFIER_TOKEN``); "" when neither is set."""
    own = (secrets or {}).get("verifier_token")
    return str(own or os.environ.get(VERIFIER_ENV) or "")


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


# -- reading a delivery -----------------------------------------------------------------------


def cloud_events(payload: Any) -> list[Mapping[str, Any]] | None:
    """The CloudEvents of a delivery, or None when it is not in that shape.

    Accepts the array Intuit sends, one structured-mode event (an object with
    ``specversion``), and the bundle a webhook makes of an array body (``{"value": [...]}``).
    """
    if isinstance(payload, Mapping) and "specversion" in payload:
        return [payload]
    if isinstance(payload, Mapping) and isinstance(payload.get("value"), list):
        payload = payload["value"]
    if isinstance(payload, list):
        events = [e for e in payload if isinstance(e, Mapping) and "specversion" in e]
        return events if events or not payload else None
    return None


def legacy_notifications(payload: Any) -> list[Mapping[str, Any]]:
    """The ``eventNotifications`` of a legacy delivery ([] for anything else)."""
    return _items(payload, "eventNotifications")


def event_bundle(event: Mapping[str, Any]) -> dict[str, Any]:
    """One CloudEvent as the trigger's bundle (the legacy names, plus ``type`` and
    ``eventId`` — the id Intuit keeps when it re-sends an event)."""
    match = _TYPE.match(str(event.get("type") or ""))
    entity, verb = (match["entity"], match["verb"]) if match else ("", "")
    bundle = {
        "realmId": _text(event.get("intuitaccountid")),
        "name": ENTITY_NAMES.get(entity.lower().replace("_", ""), entity[:1].upper() + entity[1:]),
        "id": _text(event.get("intuitentityid")),
        "operation": OPERATIONS.get(verb.lower(), verb[:1].upper() + verb[1:]),
        "lastUpdated": event.get("time"),
        "type": event.get("type"),
        "eventId": event.get("id"),
    }
    data = event.get("data")
    if isinstance(data, Mapping) and data.get("deletedId") not in (None, ""):
        bundle["deletedId"] = _text(data["deletedId"])  # a merge names the record it removed
    return bundle


def delivery_events(payload: Any) -> list[dict[str, Any]]:
    """Every change of a delivery (either shape), oldest first, as trigger bundles."""
    events = cloud_events(payload)
    if events is not None:
        return [event_bundle(event) for event in events]
    bundles = []
    for notification in legacy_notifications(payload):
        change = notification.get("dataChangeEvent")
        for entity in _items(change, "entities"):
            bundles.append({"realmId": notification.get("realmId"), **entity})
    return bundles


def change_events(
    payload: Mapping[str, Any] | list[Any] | bytes,
    entities: Iterable[str] = (),
    operations: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """One bundle per changed entity of a (verified) delivery, oldest first.

    Each bundle: ``realmId``, ``name`` (entity type), ``id``, ``operation`` (Create, Update,
    Delete, Merge, Void, Emailed), ``lastUpdated`` and, for merges, ``deletedId``; CloudEvents
    add ``type`` and ``eventId``. ``entities`` and ``operations`` (case-insensitive; empty =
    all) keep only the wanted changes.
    """
    if isinstance(payload, bytes | bytearray):
        payload = json.loads(payload or b"{}")
    wanted_names = {e.strip().lower() for e in entities if e and e.strip()}
    wanted_ops = {o.strip().lower() for o in operations if o and o.strip()}
    return [
        bundle
        for bundle in delivery_events(payload)
        if (not wanted_names or str(bundle.get("name", "")).lower() in wanted_names)
        and (not wanted_ops or str(bundle.get("operation", "")).lower() in wanted_ops)
    ]


def _items(container: Any, key: str) -> list[Mapping[str, Any]]:
    items = container.get(key) if isinstance(container, Mapping) else None
    return [item for item in items or [] if isinstance(item, Mapping)]


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


# -- one address for every company --------------------------------------------------------------


def company_part(payload: Any, realm: str) -> bytes | None:
    """The part of a delivery that concerns company ``realm``, in the delivery's own shape
    (None when it names that company nowhere)."""
    events = cloud_events(payload)
    if events is not None:
        own = [e for e in events if _text(e.get("intuitaccountid")) == realm]
        return json.dumps(own).encode() if own else None
    notifications = legacy_notifications(payload)
    own_notifications = [n for n in notifications if str(n.get("realmId")) == realm]
    return (
        json.dumps({"eventNotifications": own_notifications}).encode()
        if own_notifications
        else None
    )


def route_delivery(
    raw_body: bytes, headers: Mapping[str, str], connections: Mapping[Any, Any]
) -> tuple[int, dict[Any, bytes]]:
    """Intuit posts every company's changes to one URL: check the signature with each
    candidate connection's verifier token and give each the events of its own company
    (per event: one CloudEvents delivery may mix companies).

    Args:
        connections: candidate key (a scenario) → its stored QuickBooks connection.

    Returns:
        The status to answer (200 when some connection's token signs the body, else 401;
        400 for a signed body that is not JSON) and, per candidate whose company
        (``realm_id``) the delivery names, the body to queue for it (same shape as received).
    """
    signature = {k.lower(): v for k, v in headers.items()}.get(SIGNATURE_HEADER)
    verified = {
        key: connection
        for key, connection in connections.items()
        if verify_intuit_signature(verifier_token_of(connection.secrets), raw_body, signature)
    }
    if not verified:
        return 401, {}
    try:
        payload = json.loads(raw_body or b"{}")
    except ValueError:
        return 400, {}
    bodies: dict[Any, bytes] = {}
    for key, connection in verified.items():
        part = company_part(payload, str((connection.data or {}).get("realm_id") or ""))
        if part is not None:
            bodies[key] = part
    return 200, bodies
