"""The records API of Zoho CRM v8 under ``/crm/v8/``: list, get, insert, update, upsert, delete,
search, and the module and field metadata (``/settings/modules``, ``/settings/fields``).

Every call needs ``Authorization: Zoho-oauthtoken <token>`` (401 ``INVALID_TOKEN``) with the
scopes it needs (401 ``OAUTH_SCOPE_MISMATCH``; search also ``ZohoSearch.securesearch.READ``),
then passes the org's limits (vendor/zoho/NOTES.md §8): API credits per rolling day (one per
call; 429 ``LIMIT_REACHED`` once spent) and calls in flight at once (429
``TOO_MANY_REQUESTS``). Older API versions (``/crm/v2/``) are not served. Lists need
``fields`` (at most 50), take ``per_page`` up to 200 and ``page`` only up to the 2,000th
record, then ``page_token`` (§3). Search ``equals`` matches substrings of text, as v8 does (§4).
Top-level errors are ``{"code", "details", "message", "status": "error"}``; write answers
carry one entry per record.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import flask

from modules.sandboxing import Fault, json_response

from . import notifications
from .criteria import CriteriaError, fields_of, matches, parse_criteria
from .oauth import scopes_for
from .records import MODULES, ModuleSpec, RecordError
from .state import ZohoSandboxState
from .store import Change

PREFIX = "/crm/v8"
MAX_PER_PAGE = 200
MAX_PAGED_RECORDS = 2000  # with ``page``; further on only with ``page_token``
MAX_FIELDS = 50
MAX_CRITERIA = 10
MAX_WRITE = 100
PAGE_TOKEN_HOURS = 24


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


def required_scopes(path: str, method: str) -> list[set[str]]:
    """The scopes a call needs: one of each returned set."""
    parts = path[len(PREFIX) + 1 :].split("/")
    if parts[0] == "actions":
        return [{f"ZohoCRM.notifications.{op}" for op in ("ALL", "READ", "CREATE", "WRITE")}]
    if parts[0] == "org":
        return [{"ZohoCRM.org.ALL", "ZohoCRM.org.READ"}]
    if parts[0] == "settings":
        kind = parts[1] if len(parts) > 1 else ""
        return [
            {
                "ZohoCRM.settings.ALL",
                f"ZohoCRM.settings.{kind}.ALL",
                f"ZohoCRM.settings.{kind}.READ",
            }
        ]
    operation = {"POST": "CREATE", "PUT": "UPDATE", "DELETE": "DELETE"}.get(method, "READ")
    module = {
        "ZohoCRM.modules.ALL",
        f"ZohoCRM.modules.{parts[0]}.ALL",
        f"ZohoCRM.modules.{parts[0]}.{operation}",
        *(["ZohoCRM.modules.READ"] if operation == "READ" else []),
    }
    if len(parts) > 1 and parts[1] == "search":
        return [module, {"ZohoSearch.securesearch.READ", "ZohoSearch.securesearch.ALL"}]
    return [module]


def check_access() -> None:
    """``before_request``: API version, token, scopes, then the org's credits and calls in
    flight."""
    request = flask.request
    if request.path.startswith("/crm/") and not request.path.startswith(PREFIX + "/"):
        raise ApiError(
            404, "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one"
        )
    if not request.path.startswith(PREFIX + "/"):
        return
    state = sandbox_state()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    with state.lock:
        scopes = scopes_for(state, token.strip()) if scheme == "Zoho-oauthtoken" else None
        if scopes is None:
            raise ApiError(401, "INVALID_TOKEN", "invalid oauth token")
        if not all(scopes & needed for needed in required_scopes(request.path, request.method)):
            raise ApiError(401, "OAUTH_SCOPE_MISMATCH", "invalid oauth scope to access this URL")
        credits = state.limiter.check(
            "credits",
            int(state.config["api_credits_per_day"]),
            float(state.config["credit_window_seconds"]),
        )
    if not credits.allowed:
        raise ApiError(
            429,
            "LIMIT_REACHED",
            "the API credits of the organisation for the last 24 hours are used up",
            limit=int(state.config["api_credits_per_day"]),
        )
    slot = state.in_flight.enter("org", int(state.config["max_concurrent_requests"]), 600.0)
    if slot is None:
        raise ApiError(
            429,
            "TOO_MANY_REQUESTS",
            "The concurrency limit of the organisation has been exceeded.",
            limit=int(state.config["max_concurrent_requests"]),
        )
    flask.g.zoho_slot = slot


def release_slot(error: BaseException | None) -> None:
    """``teardown_request``: the call no longer counts as in flight."""
    del error
    slot = flask.g.pop("zoho_slot", None)
    if slot is not None:
        sandbox_state().in_flight.leave("org", slot)


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
    """The module of a URL segment; one the org's edition lacks (config ``modules_missing``) is
    as unknown as a made-up one."""
    spec = MODULES.get(module)
    if spec is None or module in sandbox_state().config["modules_missing"]:
        raise ApiError(400, "INVALID_MODULE", "the module name given seems to be invalid")
    return spec


def _no_content() -> flask.Response:
    return flask.Response(status=204)


# --------------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------------


def _per_page() -> int:
    try:
        per_page = int(flask.request.args.get("per_page", MAX_PER_PAGE))
    except ValueError as exc:
        raise ApiError(400, "INVALID_DATA", "invalid data", param_name="per_page") from exc
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ApiError(
            400, "INVALID_DATA", "invalid data", param_name="per_page", maximum_length=MAX_PER_PAGE
        )
    return per_page


def _start() -> tuple[int, int | None]:
    """Where the answer starts (0-based) and the page number (None when a page token says)."""
    args, per_page = flask.request.args, _per_page()
    if args.get("page_token"):
        if args.get("page"):
            raise ApiError(
                400,
                "INVALID_DATA",
                "page and page_token cannot be used together",
                param_name="page_token",
            )
        state = sandbox_state()
        with state.lock:
            entry = state.page_tokens.get(args["page_token"])
        if entry is None or entry["expires"] <= state.now():
            raise ApiError(400, "INVALID_DATA", "invalid data", param_name="page_token")
        return entry["offset"], None
    try:
        page = max(1, int(args.get("page", 1)))
    except ValueError as exc:
        raise ApiError(400, "INVALID_DATA", "invalid data", param_name="page") from exc
    if page * per_page > MAX_PAGED_RECORDS:
        raise ApiError(
            400,
            "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
            f"The maximum number of records you can fetch using the page param is "
            f"{MAX_PAGED_RECORDS}; use page_token instead",
            limit=MAX_PAGED_RECORDS,
        )
    return (page - 1) * per_page, page


def _page_token(offset: int) -> tuple[str, str]:
    """A token for the answer starting at ``offset``, and when it stops working."""
    state = sandbox_state()
    token = secrets.token_hex(24)
    expires = state.now() + timedelta(hours=PAGE_TOKEN_HOURS)
    with state.lock:
        state.page_tokens[token] = {"offset": offset, "expires": expires}
    return token, expires.isoformat(timespec="seconds")


def _fields(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    wanted = flask.request.args.get("fields")
    if not wanted:
        return records
    names = {f.strip() for f in wanted.split(",")} | {"id"}
    return [{k: v for k, v in r.items() if k in names} for r in records]


def _paged(records: list[dict[str, Any]]) -> flask.Response:
    per_page = _per_page()
    offset, page = _start()
    chunk = records[offset : offset + per_page]
    if not chunk:
        return _no_content()
    more = len(records) > offset + per_page
    info: dict[str, Any] = {
        "per_page": per_page,
        "count": len(chunk),
        "page": page,
        "more_records": more,
        "next_page_token": None,
        "previous_page_token": None,
        "page_token_expiry": None,
        "sort_by": flask.request.args.get("sort_by", "id"),
        "sort_order": flask.request.args.get("sort_order", "asc"),
    }
    if more:
        info["next_page_token"], info["page_token_expiry"] = _page_token(offset + per_page)
    return json_response({"data": json.loads(json.dumps(_fields(chunk))), "info": info})


def _required_fields() -> None:
    """``fields`` is mandatory on list calls, at most 50 API names (vendor/zoho/NOTES.md §3)."""
    wanted = [f for f in flask.request.args.get("fields", "").split(",") if f.strip()]
    if not wanted:
        raise ApiError(
            400,
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            param_name="fields",
        )
    if len(wanted) > MAX_FIELDS:
        raise ApiError(
            400,
            "LIMIT_EXCEEDED",
            "the fields limit exceeded",
            param_name="fields",
            limit=MAX_FIELDS,
        )


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
    """``GET /{module}``: ``fields`` (mandatory), paging, ``sort_by``/``sort_order``, ``ids``,
    ``If-Modified-Since`` (304 when nothing changed since); 204 when the module is empty."""
    spec = module_spec(module)
    _required_fields()
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
        used = fields_of(node)
        if len(used) > MAX_CRITERIA:
            raise ApiError(
                400,
                "INVALID_QUERY",
                "Invalid query formed",
                limit=MAX_CRITERIA,
                reason=f"more than {MAX_CRITERIA} criteria",
            )
        with state.lock:
            known = {f["api_name"] for f in state.org.fields(spec)} | {"id"}
        for name in used:
            if name not in known:
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


# --------------------------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------------------------


def list_modules() -> flask.Response:
    """``GET /settings/modules``: the modules of the org's edition."""
    missing = sandbox_state().config["modules_missing"]
    modules = [
        {
            "api_name": name,
            "module_name": name,
            "plural_label": name.replace("_", " "),
            "api_supported": True,
            "generated_type": "default",
        }
        for name in MODULES
        if name not in missing
    ]
    return json_response({"modules": modules})


def organisation() -> flask.Response:
    """``GET /org``: the organisation, with the licence its API limits follow (config
    ``edition``, ``licensed_users``)."""
    config = sandbox_state().config
    org = {
        "id": "5843104000000000001",
        "company_name": "Sandbox Org",
        "country_code": "NZ",
        "currency": "NZD",
        "time_zone": "Pacific/Auckland",
        "license_details": {
            "paid": config["edition"] != "free",
            "paid_type": config["edition"],
            "users_license_purchased": config["licensed_users"],
        },
    }
    return json_response({"org": [org]})


def list_fields() -> flask.Response:
    """``GET /settings/fields?module=``: a module's fields with the org's custom ones (config
    ``custom_fields``; ``fields_missing`` removes some, as an org's layout may)."""
    module = flask.request.args.get("module")
    if not module:
        raise ApiError(
            400,
            "REQUIRED_PARAM_MISSING",
            "One of the expected parameter is missing",
            param_name="module",
        )
    spec = module_spec(module)
    state = sandbox_state()
    with state.lock:
        return json_response({"fields": state.org.fields(spec)})


def register(app: flask.Flask) -> None:
    """Install the access check, the record routes and the error rendering."""
    app.before_request(check_access)
    app.teardown_request(release_slot)
    notifications.register(app, PREFIX)
    app.add_url_rule(f"{PREFIX}/settings/modules", "zoho_modules", list_modules, methods=["GET"])
    app.add_url_rule(f"{PREFIX}/org", "zoho_org", organisation, methods=["GET"])
    app.add_url_rule(f"{PREFIX}/settings/fields", "zoho_fields", list_fields, methods=["GET"])
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
