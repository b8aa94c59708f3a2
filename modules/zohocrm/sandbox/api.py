"""The records API under ``/crm/v2/``: list, get, insert, update, upsert, delete, search.

Every call needs ``Authorization: Zoho-oauthtoken <token>`` (401 ``INVALID_TOKEN``) with a
scope covering the module (401 ``OAUTH_SCOPE_MISMATCH``), then passes the org's rate limit
(429 ``TOO_MANY_REQUESTS``). Top-level errors are ``{"code", "details", "message",
"status": "error"}``; write answers carry one entry per record.
"""

from __future__ import annotations

import json
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import flask

from modules.sandboxing import Fault, json_response

from . import notifications
from .criteria import CriteriaError, fields_of, matches, parse_criteria
from .records import MODULES, ModuleSpec, RecordError
from .state import ZohoSandboxState
from .store import Change

PREFIX = "/crm/v2"
MAX_PER_PAGE = 200
MAX_WRITE = 100


class ApiError(Exception):
    """A top-level error answer."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details

    def response(self) -> flask.Response:
        return json_response(
            {
                "code": self.code,
                "details": self.details,
                "message": self.message,
                "status": "error",
            },
            self.status,
        )


def sandbox_state() -> ZohoSandboxState:
    return flask.current_app.extensions["sandbox_state"]


def _required_scope(path: str, method: str) -> list[str]:
    parts = path[len(PREFIX) + 1 :].split("/")
    if parts[0] == "actions":
        return [
            "ZohoCRM.notifications.ALL",
            "ZohoCRM.notifications.READ",
            "ZohoCRM.notifications.CREATE",
            "ZohoCRM.notifications.WRITE",
        ]
    operation = {"POST": "CREATE", "PUT": "UPDATE", "DELETE": "DELETE"}.get(method, "READ")
    return [
        "ZohoCRM.modules.ALL",
        f"ZohoCRM.modules.{parts[0]}.ALL",
        f"ZohoCRM.modules.{parts[0]}.{operation}",
        *(["ZohoCRM.modules.READ"] if operation == "READ" else []),
    ]


def check_access() -> None:
    """``before_request``: token, scope, then the org's rate limit."""
    request = flask.request
    if not request.path.startswith(PREFIX + "/"):
        return
    state = sandbox_state()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    with state.lock:
        scopes = (
            state.tokens.scopes_for(token.strip(), state.now())
            if scheme == "Zoho-oauthtoken"
            else None
        )
        if scopes is None:
            raise ApiError(401, "INVALID_TOKEN", "invalid oauth token")
        if not scopes & set(_required_scope(request.path, request.method)):
            raise ApiError(401, "OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL")
        decision = state.limiter.check(
            "org",
            int(state.config["rate_limit_per_minute"]),
            float(state.config["rate_limit_window_seconds"]),
        )
    if not decision.allowed:
        raise ApiError(
            429,
            "TOO_MANY_REQUESTS",
            "The API call limit has been exceeded. Please try again after some time.",
        )


def fault_response(fault: Fault) -> flask.Response:
    """An injected fault in Zoho's top-level error style."""
    status = fault.status or 500
    codes = {
        429: "TOO_MANY_REQUESTS",
        500: "INTERNAL_ERROR",
        502: "INTERNAL_ERROR",
        503: "INTERNAL_ERROR",
        504: "INTERNAL_ERROR",
    }
    return ApiError(status, codes[status], "Injected by the sandbox").response()


def module_spec(module: str) -> ModuleSpec:
    spec = MODULES.get(module)
    if spec is None:
        raise ApiError(400, "INVALID_MODULE", "the module name given seems to be invalid")
    return spec


def _no_content() -> flask.Response:
    return flask.Response(status=204)


# --------------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------------


def _page_args() -> tuple[int, int]:
    try:
        page = max(1, int(flask.request.args.get("page", 1)))
        per_page = int(flask.request.args.get("per_page", MAX_PER_PAGE))
    except ValueError as exc:
        raise ApiError(400, "INVALID_DATA", "invalid data", param_name="page") from exc
    return page, max(1, min(per_page, MAX_PER_PAGE))


def _fields(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    wanted = flask.request.args.get("fields")
    if not wanted:
        return records
    names = {f.strip() for f in wanted.split(",")} | {"id"}
    return [{k: v for k, v in r.items() if k in names} for r in records]


def _paged(records: list[dict[str, Any]]) -> flask.Response:
    page, per_page = _page_args()
    chunk = records[(page - 1) * per_page : page * per_page]
    if not chunk:
        return _no_content()
    info = {
        "per_page": per_page,
        "count": len(chunk),
        "page": page,
        "more_records": len(records) > page * per_page,
    }
    return json_response({"data": json.loads(json.dumps(_fields(chunk))), "info": info})


def _modified_since() -> datetime | None:
    header = flask.request.headers.get("If-Modified-Since")
    if not header:
        return None
    try:
        moment = datetime.fromisoformat(header.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(header)
        except (TypeError, ValueError) as exc:
            raise ApiError(
                400, "INVALID_DATA", "invalid data", api_name="If-Modified-Since"
            ) from exc
    if moment.tzinfo is None:
        raise ApiError(400, "INVALID_DATA", "invalid data", api_name="If-Modified-Since")
    return moment


def list_records(module: str) -> flask.Response:
    """``GET /{module}``: paging, ``sort_by``/``sort_order``, ``ids``, ``If-Modified-Since``
    (304 when nothing changed since); 204 when the module is empty."""
    spec = module_spec(module)
    since = _modified_since()
    args = flask.request.args
    state = sandbox_state()
    with state.lock:
        records = list(state.org.records[spec.name].values())
    if args.get("ids"):
        wanted = args["ids"].split(",")
        records = [r for r in records if r["id"] in wanted]
    if since is not None:
        records = [r for r in records if datetime.fromisoformat(r["Modified_Time"]) > since]
        if not records:
            return flask.Response(status=304)
    sort_by = args.get("sort_by", "id")
    if sort_by not in ("id", "Created_Time", "Modified_Time"):
        raise ApiError(400, "INVALID_DATA", "invalid data", api_name="sort_by")
    records.sort(
        key=lambda r: (
            (len(r[sort_by]), r[sort_by])
            if sort_by == "id"
            else (datetime.fromisoformat(r[sort_by]), r["id"])
        ),
        reverse=args.get("sort_order", "asc") == "desc",
    )
    return _paged(records)


def get_record(module: str, record_id: str) -> flask.Response:
    """``GET /{module}/{id}``; 204 when there is no such record."""
    spec = module_spec(module)
    state = sandbox_state()
    with state.lock:
        record = state.org.lookup(spec.name, record_id)
        if record is None:
            return _no_content()
        return json_response({"data": [json.loads(json.dumps(record))]})


def search(module: str) -> flask.Response:
    """``GET /{module}/search`` by ``criteria``, ``email``, ``phone`` or ``word``; 204 when
    nothing matches."""
    spec = module_spec(module)
    args = flask.request.args
    state = sandbox_state()
    with state.lock:
        records = list(state.org.records[spec.name].values())
    if args.get("criteria"):
        try:
            node = parse_criteria(args["criteria"])
        except CriteriaError as error:
            raise ApiError(400, "INVALID_QUERY", "Invalid query formed", **error.details) from error
        known = {k for r in records for k in r} | set(spec.mandatory) | set(spec.lookups)
        for name in fields_of(node):
            if records and name not in known:
                raise ApiError(
                    400,
                    "INVALID_QUERY",
                    "Invalid query formed",
                    api_name=name,
                    reason="the field is not available for search",
                )
        found = [r for r in records if matches(node, r)]
    elif args.get("email"):
        found = [
            r
            for r in records
            if any(str(r.get(f) or "").casefold() == args["email"].casefold() for f in spec.emails)
        ]
    elif args.get("phone"):
        digits = "".join(c for c in args["phone"] if c.isdigit())
        found = [
            r
            for r in records
            if digits
            and any(
                digits in "".join(c for c in str(r.get(f) or "") if c.isdigit())
                for f in spec.phones
            )
        ]
    elif args.get("word"):
        word = args["word"].casefold()
        found = [
            r
            for r in records
            if any(isinstance(v, str) and word in v.casefold() for v in r.values())
        ]
    else:
        raise ApiError(
            400,
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            param_name="criteria",
        )
    return _paged(found)


# --------------------------------------------------------------------------------------------
# Writes
# --------------------------------------------------------------------------------------------


def _data() -> tuple[list[Any], dict[str, Any]]:
    try:
        body = json.loads(flask.request.get_data(as_text=True) or "null")
    except ValueError as exc:
        raise ApiError(400, "INVALID_DATA", "the input json is invalid") from exc
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise ApiError(400, "MANDATORY_NOT_FOUND", "required field not found", api_name="data")
    if len(body["data"]) > MAX_WRITE:
        raise ApiError(400, "LIMIT_EXCEEDED", "the data limit exceeded", limit=MAX_WRITE)
    return body["data"], body


def _success(record: dict[str, Any], message: str, **extra: Any) -> dict[str, Any]:
    details = {
        key: record[key]
        for key in ("Modified_Time", "Modified_By", "Created_Time", "id", "Created_By")
    }
    return {
        "code": "SUCCESS",
        "details": json.loads(json.dumps(details)),
        "message": message,
        "status": "success",
        **extra,
    }


def _answer(results: list[dict[str, Any]], ok_status: int) -> flask.Response:
    failures = sum(1 for r in results if r["status"] == "error")
    status = ok_status if not failures else 400 if failures == len(results) else 207
    return json_response({"data": results}, status)


def _each(items: list[Any], write: Any) -> list[dict[str, Any]]:
    """Run ``write(item) -> (result, change)`` per item under the lock; notify once."""
    state = sandbox_state()
    results, changes = [], []
    with state.lock:
        for item in items:
            try:
                if not isinstance(item, dict):
                    raise RecordError("INVALID_DATA", "invalid data", api_name="data")
                result, change = write(item)
            except RecordError as error:
                results.append(error.body())
                continue
            results.append(result)
            changes.append(change)
        notifications.notify(state, changes)
    return results


def insert_records(module: str) -> flask.Response:
    spec = module_spec(module)
    items, _ = _data()
    org = sandbox_state().org

    def write(item: dict[str, Any]) -> tuple[dict[str, Any], Change]:
        record, change = org.insert(spec, item)
        return _success(record, "record added"), change

    return _answer(_each(items, write), 201)


def update_records(module: str, record_id: str | None = None) -> flask.Response:
    spec = module_spec(module)
    items, _ = _data()
    org = sandbox_state().org

    def write(item: dict[str, Any]) -> tuple[dict[str, Any], Change]:
        target = record_id or item.get("id")
        if not target:
            raise RecordError("MANDATORY_NOT_FOUND", "required field not found", api_name="id")
        record, change = org.update(spec, str(target), item)
        return _success(record, "record updated"), change

    return _answer(_each(items, write), 200)


def upsert_records(module: str) -> flask.Response:
    """``POST /{module}/upsert``: update the first record matching a duplicate-check field
    (in the given order; the module's default otherwise), insert when none does."""
    spec = module_spec(module)
    items, body = _data()
    fields = body.get("duplicate_check_fields") or list(spec.duplicate_check)
    org = sandbox_state().org

    def write(item: dict[str, Any]) -> tuple[dict[str, Any], Change]:
        duplicate = org.find_duplicate(spec, item, list(fields))
        if duplicate is None:
            record, change = org.insert(spec, item)
            return _success(record, "record added", action="insert", duplicate_field=None), change
        record, change = org.update(spec, duplicate[0]["id"], item)
        return _success(
            record, "record updated", action="update", duplicate_field=duplicate[1]
        ), change

    return _answer(_each(items, write), 200)


def delete_records(module: str, record_id: str | None = None) -> flask.Response:
    spec = module_spec(module)
    ids = [record_id] if record_id else flask.request.args.get("ids", "").split(",")
    org = sandbox_state().org

    def write(target: str) -> tuple[dict[str, Any], Change]:
        change = org.delete(spec, target)
        return {
            "code": "SUCCESS",
            "details": {"id": target},
            "message": "record deleted",
            "status": "success",
        }, change

    return _answer(_each([{"id": i} for i in ids if i], lambda item: write(item["id"])), 200)


def register(app: flask.Flask) -> None:
    """Install the access check, the record routes and the error rendering."""
    app.before_request(check_access)
    notifications.register(app, PREFIX)
    base = f"{PREFIX}/<module>"
    app.add_url_rule(base, "zoho_list", list_records, methods=["GET"])
    app.add_url_rule(base, "zoho_insert", insert_records, methods=["POST"])
    app.add_url_rule(base, "zoho_update", update_records, methods=["PUT"])
    app.add_url_rule(base, "zoho_delete", delete_records, methods=["DELETE"])
    app.add_url_rule(f"{base}/upsert", "zoho_upsert", upsert_records, methods=["POST"])
    app.add_url_rule(f"{base}/search", "zoho_search", search, methods=["GET"])
    app.add_url_rule(f"{base}/<record_id>", "zoho_get", get_record, methods=["GET"])
    app.add_url_rule(f"{base}/<record_id>", "zoho_update_one", update_records, methods=["PUT"])
    app.add_url_rule(f"{base}/<record_id>", "zoho_delete_one", delete_records, methods=["DELETE"])
    app.register_error_handler(ApiError, ApiError.response)
