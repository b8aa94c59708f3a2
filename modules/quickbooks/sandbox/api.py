"""The data API under ``/v3/company/{realmId}/``: read, create, update, delete, query, CDC.

Every call is checked in order: bearer token (401 ``AuthenticationFailed``), realm (401 when
unknown, 403 ``AuthorizationFailed`` when the token is for another company), then the per-realm
limits (429 ``ThrottleExceeded``): 500 requests a minute and 10 in flight at once
(vendor/quickbooks/NOTES.md §7). ``minorversion`` 1 to 74 is served as 75, as Intuit does since
1 August 2025 (§2); ``requestid`` on a write makes a repeat of it answer the original answer
(per company, as Intuit does). Paths are case-sensitive (``/customer``, not ``/Customer``).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import flask

from modules.sandboxing import Fault, json_response, new_delivery

from . import faults
from .entities import ENTITIES, ENTITY_NAMES, TRACKED, EntitySpec
from .oauth import realm_for
from .query import QueryError, parse_query, run_query, to_instant
from .realm import Change, Realm
from .state import QboSandboxState

PREFIX = "/v3/company/<realm_id>"
MAX_REQUEST_ID = 50  # Intuit's limit for requestid on everything but batch


def sandbox_state() -> QboSandboxState:
    return flask.current_app.extensions["sandbox_state"]


def current_realm(realm_id: str) -> Realm:
    """The realm checked by ``check_access`` for this request."""
    return sandbox_state().realms[realm_id]


def server_time() -> str:
    """``time`` of every answer: the company's local time with milliseconds."""
    state = sandbox_state()
    realm = next(iter(state.realms.values()), None)
    moment = state.now()
    if realm is not None:
        moment = moment.astimezone(realm.zone)
    return moment.isoformat(timespec="milliseconds")


def answer(body: dict[str, Any], status: int = 200) -> flask.Response:
    return json_response({**with_values(body), "time": server_time()}, status)


def with_values(value: Any) -> Any:
    """``value`` without its null properties: QuickBooks returns only properties that have a
    value (vendor/quickbooks/NOTES.md §3), so a client never sees ``"Notes": null``."""
    if isinstance(value, dict):
        return {k: with_values(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [with_values(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------
# Auth and limits
# --------------------------------------------------------------------------------------------


def check_access() -> None:
    """``before_request`` for ``/v3/company/...``: token, realm, then rate limit."""
    if not flask.request.path.startswith("/v3/company/"):
        return
    state = sandbox_state()
    realm_id = flask.request.path.split("/")[3]
    header = flask.request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    with state.lock:
        token_realm = realm_for(state, token.strip()) if scheme.lower() == "bearer" else None
        if token_realm is None:
            raise faults.authentication_failed(
                "Token expired or invalid" if token else "Missing bearer token"
            )
        if realm_id not in state.realms:
            raise faults.authentication_failed(f"Unknown realm {realm_id}")
        if token_realm != realm_id:
            raise faults.authorization_failed()
        decision = state.limiter.check(
            realm_id,
            int(state.config["rate_limit_per_minute"]),
            float(state.config["rate_limit_window_seconds"]),
        )
    if not decision.allowed:
        raise faults.throttled(decision.retry_after)
    slot = state.in_flight.enter(realm_id, int(state.config["max_concurrent_requests"]), 600.0)
    if slot is None:
        raise faults.throttled(1)
    flask.g.qbo_slot = (realm_id, slot)


def release_slot(error: BaseException | None) -> None:
    """``teardown_request``: the request no longer counts as in flight."""
    del error
    held = flask.g.pop("qbo_slot", None)
    if held is not None:
        sandbox_state().in_flight.leave(*held)


def fault_response(fault: Fault) -> flask.Response:
    """An injected fault in QuickBooks' style."""
    status = fault.status or 500
    if status == 429:
        error = faults.throttled(fault.retry_after)
    else:
        error = faults.QboFault(
            str(status),
            "An application error has occurred",
            "Injected by the sandbox",
            status=status,
            fault_type="SystemFault",
        )
        if status == 503:
            error.headers["Retry-After"] = str(fault.retry_after)
    return render_fault(error)


def render_fault(error: faults.QboFault) -> flask.Response:
    """Every QuickBooks error answer is rendered here."""
    return json_response(error.body(server_time()), error.status, error.headers)


def add_intuit_tid(response: flask.Response) -> flask.Response:
    response.headers.setdefault("intuit_tid", str(uuid.uuid4()))
    return response


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


def entity_spec(entity: str) -> EntitySpec:
    """The entity of a URL segment; only Intuit's lower-case path names (``/customer``)."""
    spec = ENTITIES.get(entity)
    if spec is None:
        raise faults.unsupported(
            f"Could not find resource for relative : {flask.request.path} of full path"
        )
    return spec


def read_entity(realm_id: str, entity: str, record_id: str) -> flask.Response:
    spec = entity_spec(entity)
    state = sandbox_state()
    with state.lock:
        record = current_realm(realm_id).get(spec.name, record_id)
        return answer({spec.name: record})


def _request_json() -> dict[str, Any]:
    try:
        body = json.loads(flask.request.get_data(as_text=True) or "null")
    except ValueError as exc:
        raise faults.invalid_property(f"Request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise faults.invalid_property("Request body must be a JSON object")
    return body


def write_entity(realm_id: str, entity: str) -> flask.Response:
    """``POST /{entity}``: create, update (with ``Id``), ``?operation=delete`` or
    ``?operation=void`` (invoices, sales receipts). A write whose
    ``requestid`` the company already saw gets the original answer and changes nothing."""
    spec = entity_spec(entity)
    if not spec.writable:
        raise faults.unsupported(f"Create/Update for {spec.name}")
    body = _request_json()
    request_id = _request_id()
    state = sandbox_state()
    with state.lock:
        stored = _replayed(state, realm_id, request_id)
        if stored is not None:
            return json_response(stored.body, stored.status)
        realm = current_realm(realm_id)
        result, changes = _apply_write(realm, spec, body)
        answered = {spec.name: with_values(json.loads(json.dumps(result))), "time": server_time()}
        if request_id:
            # Intuit replays the original answer for a seen requestid whatever the body:
            # no fingerprint is compared.
            state.replies.remember(realm_id, request_id, "", 200, answered)
        announce(state, realm_id, changes)
    return json_response(answered)


def _apply_write(realm: Realm, spec: EntitySpec, body: dict[str, Any]) -> tuple[Any, list[Change]]:
    """The write itself (lock held): the record as now stored (or deleted) and its changes."""
    operation = flask.request.args.get("operation", "")
    if operation == "delete":
        return realm.delete(spec, body)
    if operation == "void":
        return realm.void(spec, body)
    if operation:
        raise faults.unsupported(f"{operation} for {spec.name}")
    if body.get("Id") not in (None, ""):
        sparse = str(body.get("sparse", "")).lower() == "true"
        changes = realm.update(spec, body, sparse=sparse)
        return realm.get(spec.name, str(body["Id"])), changes
    changes = realm.create(spec, body)
    return realm.get(spec.name, changes[0].id), changes


def void_in_screens(realm_id: str, entity: str, record_id: str) -> flask.Response:
    """``POST /_sandbox/ui/{realm}/{entity}/{id}/void``: a person voids the record in
    QuickBooks' screens (More → Void), which void a credit memo too, though the API does not
    (``Realm.void``); announced as a ``Void`` and the payments it touched as updates."""
    spec = entity_spec(entity)
    state = sandbox_state()
    with state.lock:
        realm = current_realm(realm_id)
        current = {"Id": record_id, "SyncToken": realm.get(spec.name, record_id)["SyncToken"]}
        record, changes = realm.void(spec, current, in_screens=True)
        announce(state, realm_id, changes)
    return json_response({spec.name: with_values(json.loads(json.dumps(record)))})


def _replayed(state: QboSandboxState, realm_id: str, request_id: str | None) -> Any:
    """The stored answer for a requestid this company already saw (lock held), else None."""
    if request_id is None:
        return None
    return state.replies.lookup(realm_id, request_id, "", strict=False)


def _request_id() -> str | None:
    """The ``requestid`` query parameter (None without one).

    Raises:
        QboFault: when it is longer than Intuit's 50 characters.
    """
    request_id = flask.request.args.get("requestid", "").strip()
    if len(request_id) > MAX_REQUEST_ID:
        raise faults.invalid_property(
            f"requestid must be at most {MAX_REQUEST_ID} characters", "requestid"
        )
    return request_id or None


def company_info(realm_id: str, company_id: str) -> flask.Response:
    state = sandbox_state()
    with state.lock:
        realm = current_realm(realm_id)
        if company_id not in (realm_id, "1"):
            raise faults.not_found()
        return answer({"CompanyInfo": realm.company_info()})


def preferences(realm_id: str) -> flask.Response:
    """``GET /preferences``: the company's settings (tax, currencies, sales-form fields)."""
    state = sandbox_state()
    with state.lock:
        return answer({"Preferences": copy.deepcopy(current_realm(realm_id).preferences)})


# --------------------------------------------------------------------------------------------
# Query and change data capture
# --------------------------------------------------------------------------------------------


def query(realm_id: str) -> flask.Response:
    """``GET /query?query=…`` (or ``POST`` with the query as the text body)."""
    text = flask.request.args.get("query")
    if text is None and flask.request.method == "POST":
        text = flask.request.get_data(as_text=True)
    if not text:
        raise faults.required("query")
    try:
        parsed = parse_query(text)
    except QueryError as error:
        raise faults.query_error(error.detail, error.parse) from error
    name = parsed.entity if parsed.entity in ENTITY_NAMES.values() else None  # case-sensitive
    state = sandbox_state()
    with state.lock:
        realm = current_realm(realm_id)
        if parsed.entity in ("CompanyInfo", "Preferences"):
            records = [
                realm.company_info() if parsed.entity == "CompanyInfo" else realm.preferences
            ]
        elif name is None:
            raise faults.query_error(
                f"QueryValidationError: Entity '{parsed.entity}' is not supported", False
            )
        else:
            records = list(realm.records[name].values())
            spec = ENTITIES[name.lower()]
            if spec.name_field and not parsed.mentions("Active"):
                records = [r for r in records if r.get("Active", True) is not False]
        page, total = run_query(parsed, records)
        key = name or parsed.entity
        if parsed.count:
            return answer({"QueryResponse": {"totalCount": total}})
        result: dict[str, Any] = {}
        if page:
            result = {
                key: json.loads(json.dumps(page)),
                "startPosition": parsed.start,
                "maxResults": len(page),
            }
        return answer({"QueryResponse": result})


def change_data_capture(realm_id: str) -> flask.Response:
    """``GET /cdc?entities=Customer,Invoice&changedSince=ISO``."""
    args = flask.request.args
    if not args.get("entities"):
        raise faults.required("entities")
    if not args.get("changedSince"):
        raise faults.required("changedSince")
    since = to_instant(args["changedSince"])
    if since is None:
        raise faults.invalid_property(
            f"changedSince {args['changedSince']!r} is not an ISO date-time", "changedSince"
        )
    state = sandbox_state()
    if since < state.now() - timedelta(days=float(state.config["cdc_max_days"])):
        raise faults.query_error(
            "QueryValidationError: changedSince must be within the last "
            f"{state.config['cdc_max_days']} days",
            False,
        )
    responses = []
    with state.lock:
        realm = current_realm(realm_id)
        for entity in args["entities"].split(","):
            name = ENTITY_NAMES.get(entity.strip().lower())
            if name is None or name not in TRACKED:
                raise faults.query_error(
                    f"QueryValidationError: CDC is not supported for {entity.strip()}", False
                )
            responses.append(_changed(realm, name, since))
    return answer({"CDCResponse": [{"QueryResponse": responses}]})


def _changed(realm: Realm, name: str, since: Any) -> dict[str, Any]:
    def later(record: dict[str, Any]) -> bool:
        moment = to_instant(str(record.get("MetaData", {}).get("LastUpdatedTime", "")))
        return moment is not None and moment >= since

    changed = sorted(
        (r for r in realm.records[name].values() if later(r)),
        # ``later`` kept only records with a time; the fallback is for the type checker.
        key=lambda r: (
            to_instant(r["MetaData"]["LastUpdatedTime"]) or datetime.min.replace(tzinfo=UTC)
        ),
    )
    changed += [
        {k: v for k, v in d.items() if k != "entity"}
        for d in realm.deleted
        if d["entity"] == name and later(d)
    ]
    changed = json.loads(json.dumps(changed[:1000]))
    if not changed:
        return {}
    return {
        name: changed,
        "startPosition": 1,
        "maxResults": len(changed),
        "totalCount": len(changed),
    }


# --------------------------------------------------------------------------------------------
# Webhooks
# --------------------------------------------------------------------------------------------


def announce(state: QboSandboxState, realm_id: str, changes: list[Change]) -> None:
    """Queue one signed POST for a request's changes (lock held).

    ``config["webhook_format"]`` picks the payload: ``cloudevents`` (the default, as every app
    must from 2026: an array of events, ``Content-Type: application/cloudevents+json``) or
    ``legacy`` (``eventNotifications``, with the headers and ``lastUpdated`` format
    ``2015-10-05T14:42:19-0700`` of Intuit's webhooks guide). Both are signed alike.
    """
    url, key = state.config.get("webhook_url"), state.config.get("webhook_key")
    tracked = [c for c in changes if c.entity in TRACKED]
    if not url or not tracked:
        return
    body: dict[str, Any] | list[dict[str, Any]]
    if state.config.get("webhook_format", "cloudevents") == "legacy":
        body, headers = _legacy_delivery(realm_id, tracked)
    else:
        body, headers = _cloudevents_delivery(realm_id, tracked)
    raw = json.dumps(body).encode()
    if key:
        digest = hmac.new(str(key).encode(), raw, hashlib.sha256).digest()
        headers["intuit-signature"] = base64.b64encode(digest).decode()
    state.webhooks.enqueue(new_delivery(url, body, headers, "dataChangeEvent"), raw)


CLOUDEVENT_VERBS = {
    "Create": "created",
    "Update": "updated",
    "Delete": "deleted",
    "Void": "voided",  # Intuit's samples show created/updated/deleted only (NOTES.md §8)
}


def _cloudevents_delivery(
    realm_id: str, changes: list[Change]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """An array of CloudEvents 1.0, one per change (``type`` ``qbo.<entity>.<verb>.v1``,
    ``time`` in UTC, ids only: ``data`` is empty as in Intuit's samples)."""
    events = [
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": f"intuit.{base64.b64encode(realm_id.encode()).decode()}",
            "type": f"qbo.{c.entity.lower()}.{CLOUDEVENT_VERBS[c.operation]}.v1",
            "datacontenttype": "application/json",
            "time": _utc(c.at),
            "intuitentityid": c.id,
            "intuitaccountid": realm_id,
            "data": {},
        }
        for c in changes
    ]
    headers = {
        "Content-Type": "application/cloudevents+json; charset=utf-8",
        "Accept": "application/json",
        "User-Agent": "intuit_notification_server/0.1",
        "intuit-t-id": str(uuid.uuid4()),
    }
    return events, headers


def _legacy_delivery(realm_id: str, changes: list[Change]) -> tuple[dict[str, Any], dict[str, str]]:
    entities = [
        {
            "name": c.entity,
            "id": c.id,
            "operation": c.operation,
            "lastUpdated": _compact_offset(c.at),
        }
        for c in changes
    ]
    body = {
        "eventNotifications": [{"realmId": realm_id, "dataChangeEvent": {"entities": entities}}]
    }
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Accept": "application/json",
        "User-Agent": "intuit_notification_server/0.1",
        "intuit-notification-schema-version": "0.1",
        "intuit-t-id": str(uuid.uuid4()),
        "intuit-created-time": entities[0]["lastUpdated"],
    }
    return body, headers


def _utc(moment: str) -> str:
    """``2026-01-01T10:00:00-08:00`` → ``2026-01-01T18:00:00.000000Z`` (CloudEvents ``time``)."""
    stamp = datetime.fromisoformat(moment).astimezone(UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _compact_offset(moment: str) -> str:
    """``…-08:00`` → ``…-0800``."""
    return moment[:-3] + moment[-2:] if moment[-3:-2] == ":" else moment


def register(app: flask.Flask) -> None:
    """Install the data routes, the access check and the error rendering."""
    app.before_request(check_access)
    app.teardown_request(release_slot)
    app.add_url_rule(f"{PREFIX}/query", "qbo_query", query, methods=["GET", "POST"])
    app.add_url_rule(f"{PREFIX}/cdc", "qbo_cdc", change_data_capture, methods=["GET"])
    app.add_url_rule(
        f"{PREFIX}/companyinfo/<company_id>", "qbo_company", company_info, methods=["GET"]
    )
    app.add_url_rule(f"{PREFIX}/preferences", "qbo_preferences", preferences, methods=["GET"])
    app.add_url_rule(f"{PREFIX}/<entity>/<record_id>", "qbo_read", read_entity, methods=["GET"])
    app.add_url_rule(f"{PREFIX}/<entity>", "qbo_write", write_entity, methods=["POST"])
    app.add_url_rule(
        "/_sandbox/ui/<realm_id>/<entity>/<record_id>/void",
        "qbo_void_in_screens",
        void_in_screens,
        methods=["POST"],
    )
    app.register_error_handler(faults.QboFault, render_fault)
    app.after_request(add_intuit_tid)
