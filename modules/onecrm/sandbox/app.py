"""The sandbox's HTTP face: ``/api.php/…`` as 1CRM answers it, plus ``/_sandbox/…`` controls.

Auth: HTTP Basic with the configured user, refused with 401 when ``basic_auth_enabled`` is
False, as a 1CRM instance whose admin has not enabled Basic auth refuses it (NOTES §1; the
sandbox's wording of that answer is ours). ``GET /api.php/version`` answers without auth
(``{"version", "authenticated", "products"}``, docs utility.md). Edition ``startup`` answers
the REST API with 403 (NOTES §1). Success is 200 (NOTES §4).
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

import flask
from werkzeug.exceptions import HTTPException

from modules.onecrm.sandbox.documents import edit_as_person, save_as_person
from modules.onecrm.sandbox.errors import BadRequest, CrmHttpError, NotFound
from modules.onecrm.sandbox.queries import (
    checked_fields,
    matches,
    order_records,
    page_of,
    requested_filters,
    shown_in_list,
    shown_record,
)
from modules.onecrm.sandbox.records import Change, save_record
from modules.onecrm.sandbox.schema import LINK_MODELS, MODELS, ModelSchema
from modules.onecrm.sandbox.state import OneCrmSandboxState
from modules.onecrm.sandbox.values import DATETIME_FORMAT
from modules.onecrm.sandbox.webhooks import announce, parse_subscription, subscribed
from modules.sandboxing import Fault, Monotonic, json_response, register_control_routes

API_PREFIX = "/api.php"
PUBLIC_PATHS = frozenset({f"{API_PREFIX}/version"})
API_EDITIONS = frozenset({"professional", "enterprise"})
BASIC_DISABLED_HINT = (
    "An administrator must enable Basic authentication for the API in 1CRM's administration "
    "settings, or the client must sign in with OAuth 2.0"
)


def sandbox_state() -> OneCrmSandboxState:
    """The state of the app serving the current request."""
    return flask.current_app.extensions["sandbox_state"]


# -- auth, edition, rate limit -----------------------------------------------------------------


def credentials_valid(state: OneCrmSandboxState) -> bool:
    auth = flask.request.authorization
    return (
        auth is not None
        and auth.type == "basic"
        and bool(state.config["basic_auth_enabled"])
        and hmac.compare_digest(str(auth.username), str(state.config["username"]))
        and hmac.compare_digest(str(auth.password), str(state.config["password"]))
    )


def check_access() -> None:
    """Edition, then credentials, then the per-user rate limit, for every API call.

    Raises:
        CrmHttpError: 403 (edition), 401 (with ``WWW-Authenticate``), 429 (``Retry-After``).
    """
    path = flask.request.path
    if not path.startswith(API_PREFIX + "/") or path in PUBLIC_PATHS:
        return
    state = sandbox_state()
    if state.config["edition"] not in API_EDITIONS:
        raise CrmHttpError(
            403,
            "forbidden",
            "The REST API is not available in this edition of 1CRM",
            "the REST API needs 1CRM Professional or Enterprise",
        )
    auth = flask.request.authorization
    challenge = {"WWW-Authenticate": 'Basic realm="1CRM API"'}
    if auth is not None and auth.type == "basic" and not state.config["basic_auth_enabled"]:
        raise CrmHttpError(
            401,
            "unauthorized",
            "Basic authentication is disabled",
            BASIC_DISABLED_HINT,
            challenge,
        )
    if not credentials_valid(state):
        raise CrmHttpError(401, "unauthorized", "Invalid user name or password", "", challenge)
    with state.lock:
        decision = state.limiter.check(
            str(state.config["username"]),
            int(state.config["rate_limit_per_minute"]),
            float(state.config["rate_limit_window_seconds"]),
        )
    if not decision.allowed:
        raise CrmHttpError(
            429,
            "rate_limited",
            "Too many requests",
            "",
            {"Retry-After": str(decision.retry_after)},
        )
    flask.g.rate_remaining = decision.remaining


def version() -> flask.Response:
    """``GET /api.php/version``: answers without credentials."""
    state = sandbox_state()
    edition = str(state.config["edition"])
    return json_response(
        {
            "version": state.config["version"],
            "authenticated": credentials_valid(state),
            "products": [edition],
        }
    )


def me() -> flask.Response:
    """``GET /api.php/me``: the signed-in user."""
    state = sandbox_state()
    return json_response(
        {
            "id": f"Users:{state.config['user_id']}",
            "name": state.config["username"],
            "first_name": None,
            "last_name": "Administrator",
            "role": "user",
            "groups": [],
            "email": None,
        }
    )


# -- requests ----------------------------------------------------------------------------------


def model_schema(model: str) -> ModelSchema:
    """Raises the documented 404 "Model Acount not found" for an unknown model."""
    if model not in MODELS:
        raise NotFound(f"Model {model} not found")
    return MODELS[model]


def request_json() -> Any:
    try:
        return json.loads(flask.request.get_data(as_text=True) or "{}")
    except json.JSONDecodeError as exc:
        raise BadRequest(f"Request body is not JSON: {exc}") from None


def request_data(body: Any) -> dict[str, Any]:
    if not isinstance(body, Mapping) or not isinstance(body.get("data"), Mapping):
        raise BadRequest('The body must be {"data": {...}}')
    return dict(body["data"])


def requested_field_names(schema: ModelSchema) -> list[str]:
    args = flask.request.args
    return checked_fields(schema, args.getlist("fields[]") or args.getlist("fields"))


def listing(schema: ModelSchema, records: list[dict[str, Any]]) -> flask.Response:
    """One page of ``records`` after the query's filters and order."""
    state, args = sandbox_state(), flask.request.args
    filters = requested_filters(schema, args)
    if args.get("filter_text"):
        if "filter_text" not in schema.filters:
            raise BadRequest(f"Model {schema.name} has no text search")
        filters["filter_text"] = str(args["filter_text"])
    offset, limit = page_of(args)
    fields = requested_field_names(schema)
    user = str(state.config["user_id"])
    found = [r for r in records if matches(r, schema, filters, user)]
    found = order_records(schema, found, args.get("order"))
    page = [shown_in_list(schema, r, fields) for r in found[offset : offset + limit]]
    return json_response({"records": page, "total_results": len(found)})


def list_records(model: str) -> flask.Response:
    """``GET /api.php/data/{Model}``."""
    schema, state = model_schema(model), sandbox_state()
    with state.lock:
        return listing(schema, list(state.records[model].values()))


def list_related(model: str, record_id: str, link: str) -> flask.Response:
    """``GET /api.php/data/{Model}/{id}/{link}``: the same options as a list."""
    schema, state = model_schema(model), sandbox_state()
    if link not in schema.links:
        raise NotFound(f"Link {link} not found")
    target = schema.links[link]
    with state.lock:
        if record_id not in state.records[model]:
            raise NotFound()
        related = [
            r
            for r in state.records[target.model].values()
            if r.get(target.foreign_key) == record_id
        ]
        return listing(MODELS[target.model], related)


def get_record(model: str, record_id: str) -> flask.Response:
    """``GET /api.php/data/{Model}/{id}`` → ``{"record": {...}}``."""
    schema, state = model_schema(model), sandbox_state()
    with state.lock:
        record = state.records[model].get(record_id)
        if record is None:
            raise NotFound()
        fields = requested_field_names(schema)
        return json_response({"record": shown_record(schema, record, fields)})


def create_record(model: str) -> flask.Response:
    """``POST /api.php/data/{Model}`` ``{"data"}`` → ``{"id"}`` (a list of one id for a link
    model, NOTES §2)."""
    model_schema(model)
    state, data = sandbox_state(), request_data(request_json())
    with state.lock:
        record, change = save_record(state, model, data, None)
        announce(state, [change])
    created = [record["id"]] if model in LINK_MODELS else record["id"]
    return json_response({"id": created})


def update_record(model: str, record_id: str) -> flask.Response:
    """``PATCH /api.php/data/{Model}/{id}`` ``{"data", "create"}`` → ``{"result": true}``;
    a missing record is 404 unless ``create`` is true (NOTES §2)."""
    model_schema(model)
    state, body = sandbox_state(), request_json()
    data = request_data(body)
    create = body.get("create") is True
    with state.lock:
        existing = state.records[model].get(record_id)
        if existing is None and not create:
            raise NotFound()
        _, change = save_record(state, model, data, existing, record_id=record_id)
        announce(state, [change])
    return json_response({"result": True})


def delete_record(model: str, record_id: str) -> flask.Response:
    """``DELETE /api.php/data/{Model}/{id}`` → ``{"result": true}``.

    1CRM marks a deleted record ``deleted`` (every model has the field) and announces it as an
    update: the working default webhook filter, ``deleted is_false``, is there to leave such
    changes out (NOTES §6). A subscription that asks for them gets the record as it was, with
    ``deleted: "1"``; the API answers 404 for it from then on."""
    model_schema(model)
    state = sandbox_state()
    with state.lock:
        record = state.records[model].get(record_id)
        if record is None:
            raise NotFound()
        now = state.now().strftime(DATETIME_FORMAT)
        state.records[model][record_id] = {**record, "deleted": "1", "date_modified": now}
        announce(state, [Change(model, "update", record_id, record)])
        del state.records[model][record_id]
    return json_response({"result": True})


def metadata(model: str) -> flask.Response:
    """``GET /api.php/meta/fields/{Model}`` → ``{"fields", "filters"}``."""
    return json_response(model_schema(model).meta())


def register_webhook() -> flask.Response:
    state = sandbox_state()
    hook = parse_subscription(request_json())
    with state.lock:
        subscribed(state, hook)
    return json_response({"id": hook["id"]})


def list_webhooks() -> flask.Response:
    state = sandbox_state()
    with state.lock:
        hooks = list(state.subscriptions.values())
    return json_response({"records": hooks, "total_results": len(hooks)})


def delete_webhook(hook_id: str) -> flask.Response:
    state = sandbox_state()
    with state.lock:
        if state.subscriptions.pop(hook_id, None) is None:
            raise NotFound()
    return json_response({"result": True})


def save_as_a_person(model: str) -> flask.Response:
    """``POST /_sandbox/ui/{Model}``: what a person's save in 1CRM's screens stores — an
    invoice or quote with ``line_items``, a payment with ``related_invoices`` — in one go,
    announced like any change (``documents.py``)."""
    model_schema(model)
    state, data = sandbox_state(), request_json()
    with state.lock:
        record, changes = save_as_person(state, model, data)
        announce(state, changes)
    return json_response({"id": record["id"]})


def edit_as_a_person(model: str, record_id: str) -> flask.Response:
    """``PATCH /_sandbox/ui/{Model}/{id}``: an invoice or quote edited in 1CRM's screens —
    its fields and, given ``line_items``, its lines replaced — announced as an update."""
    model_schema(model)
    state, data = sandbox_state(), request_json()
    with state.lock:
        record, changes = edit_as_person(state, model, record_id, data)
        announce(state, changes)
    return json_response({"id": record["id"]})


# -- errors, faults, app factory ---------------------------------------------------------------


def fault_response(fault: Fault) -> flask.Response:
    """An injected fault in this API's error envelope."""
    status = fault.status or 500
    kinds = {429: "rate_limited", 502: "bad_gateway", 503: "service_unavailable"}
    headers = {"Retry-After": str(fault.retry_after)} if status in (429, 503) else {}
    error = CrmHttpError(status, kinds.get(status, "server_error"), "Injected by the sandbox")
    return json_response(error.body(), status, headers)


def _handle_error(error: CrmHttpError) -> flask.Response:
    return json_response(error.body(), error.status, error.headers)


def _handle_http_error(error: HTTPException) -> flask.Response | HTTPException:
    """Routing errors under ``/api.php`` in the API's envelope (405 for a wrong method)."""
    if not flask.request.path.startswith(API_PREFIX + "/"):
        return error
    status = error.code or 500
    answer = NotFound() if status == 404 else CrmHttpError(status, "", error.name)
    return json_response(answer.body(), status)


def _add_rate_header(response: flask.Response) -> flask.Response:
    remaining = getattr(flask.g, "rate_remaining", None)
    if remaining is not None:
        response.headers["X-RateLimit-Remaining"] = str(remaining)
    return response


ROUTES: tuple[tuple[str, str, Any, tuple[str, ...]], ...] = (
    ("/version", "version", version, ("GET",)),
    ("/me", "me", me, ("GET",)),
    ("/meta/fields/<model>", "metadata", metadata, ("GET",)),
    ("/data/<model>", "list_records", list_records, ("GET",)),
    ("/data/<model>", "create_record", create_record, ("POST",)),
    ("/data/<model>/<record_id>", "get_record", get_record, ("GET",)),
    ("/data/<model>/<record_id>", "update_record", update_record, ("PATCH",)),
    ("/data/<model>/<record_id>", "delete_record", delete_record, ("DELETE",)),
    ("/data/<model>/<record_id>/<link>", "list_related", list_related, ("GET",)),
    ("/webhooks", "register_webhook", register_webhook, ("POST",)),
    ("/webhooks", "list_webhooks", list_webhooks, ("GET",)),
    ("/webhooks/<hook_id>", "delete_webhook", delete_webhook, ("DELETE",)),
)


def create_app(
    config: dict[str, Any] | None = None, *, monotonic: Monotonic = time.monotonic
) -> flask.Flask:
    """Build a 1CRM sandbox app. ``config`` overrides ``state.DEFAULTS`` and the common sandbox
    keys; ``config["fixture"]`` may name a fixture (``"demo"``, ``"small"``), a path or a dict.
    ``monotonic`` counts its rate-limit windows (a test passes the clock its connectors
    wait on).
    """
    app = flask.Flask(__name__)
    state = OneCrmSandboxState(config, monotonic)
    register_control_routes(app, state, fault_response)
    app.before_request(check_access)
    for path, name, view, methods in ROUTES:
        app.add_url_rule(API_PREFIX + path, name, view, methods=list(methods))
    app.add_url_rule("/_sandbox/ui/<model>", "save_as_a_person", save_as_a_person, methods=["POST"])
    app.add_url_rule(
        "/_sandbox/ui/<model>/<record_id>", "edit_as_a_person", edit_as_a_person, methods=["PATCH"]
    )
    app.register_error_handler(CrmHttpError, _handle_error)
    app.register_error_handler(HTTPException, _handle_http_error)
    app.after_request(_add_rate_header)
    return app
