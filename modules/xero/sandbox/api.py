"""The data API under ``/api.xro/2.0/``: auth, tenant, scope and rate limit gates, list/get/write
handlers with Xero's envelopes, idempotency keys, read-only settings, injected faults."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import flask

from modules.sandbox_replays import KeyReused, StoredReply, request_fingerprint
from modules.sandboxing import Fault, json_response

from .credits import CREDIT_NOTES, OVERPAYMENTS, CreditSource, allocate, remove_allocation
from .errors import (
    Record,
    ValidationFailed,
    XeroHttpError,
    api_exception,
    problem,
    validation_exception,
)
from .oauth import Grant, authenticate
from .organisation import ACCOUNTS, account_record
from .resources import API_PREFIX, RESOURCES, Resource
from .state import XeroSandboxState, sandbox_state
from .tenant import Tenant, WriteContext, find_by_id
from .values import ms_since_epoch, parse_if_modified_since, to_wire, xero_date
from .webhooks import emit_events
from .where import compile_where, order_records

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_IDEMPOTENCY_KEY = 128  # Xero's limit for the Idempotency-Key header

_INVOICES = ("accounting.invoices", "accounting.transactions")
_PAYMENTS = ("accounting.payments", "accounting.transactions")
_SETTINGS = ("accounting.settings",)
#: Resource → scopes that allow writing it; each one's ``.read`` variant also allows reading.
#: Granular scopes (NOTES §2) for every app; ``accounting.transactions`` only reaches a grant
#: of an app created before 2 March 2026 (``oauth.authorize`` refuses it for newer apps).
SCOPES: dict[str, tuple[str, ...]] = {
    "Contacts": ("accounting.contacts",),
    "Invoices": _INVOICES,
    "Quotes": _INVOICES,
    "CreditNotes": _INVOICES,
    "Items": (*_INVOICES, *_SETTINGS),  # items are reachable with either scope
    "Payments": _PAYMENTS,
    "Overpayments": _PAYMENTS,
    "Accounts": _SETTINGS,
    "TaxRates": _SETTINGS,
    "Organisation": _SETTINGS,
    "Currencies": _SETTINGS,
}


def envelope(key: str, items: list[Record]) -> Record:
    """Xero's success envelope around ``items``."""
    return {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": sandbox_state().config["provider_name"],
        "DateTimeUTC": f"/Date({ms_since_epoch(sandbox_state().now())})/",
        key: items,
    }


def require_tenant(state: XeroSandboxState, grant: Grant) -> Tenant:
    """The tenant named by ``xero-tenant-id``, if the grant may access it.

    Raises:
        XeroHttpError: 400 when the header is not a GUID, 403 when missing or not connected.
    """
    raw = flask.request.headers.get("xero-tenant-id", "").strip().lower()
    if raw:
        try:
            uuid.UUID(raw)
        except ValueError:
            raise problem(400, "Bad Request", "Invalid xero-tenant-id header") from None
    if not raw or raw not in grant.extra["tenant_ids"] or raw not in state.tenants:
        raise problem(403, "Forbidden", "AuthenticationUnsuccessful")
    return state.tenants[raw]


def require_scope(grant: Grant, resource: str, writing: bool) -> None:
    """Refuse with 403 when the grant's scopes do not cover the call."""
    writers = set(SCOPES[resource])
    allowed = writers if writing else writers | {f"{scope}.read" for scope in writers}
    if not allowed & set(grant.scope.split()):
        raise problem(403, "Forbidden", "AuthorizationUnsuccessful")


def apply_rate_limits(state: XeroSandboxState, tenant: Tenant) -> None:
    """Count the call against the tenant's minute and day budgets; remember the headers.

    Raises:
        XeroHttpError: 429 with ``Retry-After`` and ``X-Rate-Limit-Problem``.
    """
    config = state.config
    day_key = (tenant.tenant_id, state.now().date())
    day_used = state.day_counts.get(day_key, 0)
    if day_used >= int(config["rate_limit_per_day"]):
        raise rate_limited("day", 3600, {"X-DayLimit-Remaining": "0"})
    decision = state.limiter.check(
        tenant.tenant_id,
        int(config["rate_limit_per_minute"]),
        float(config["rate_limit_window_seconds"]),
    )
    if not decision.allowed:
        raise rate_limited("minute", decision.retry_after, {"X-MinLimit-Remaining": "0"})
    state.day_counts[day_key] = day_used + 1
    flask.g.rate_headers = {
        "X-MinLimit-Remaining": str(decision.remaining),
        "X-DayLimit-Remaining": str(int(config["rate_limit_per_day"]) - day_used - 1),
        "X-AppMinLimit-Remaining": str(int(config["app_rate_limit_per_minute"]) - 1),
    }


def rate_limited(problem_kind: str, retry_after: int, headers: Mapping[str, str]) -> XeroHttpError:
    """Xero's 429: ``Retry-After`` seconds and which limit was hit."""
    error = problem(429, "Too Many Requests", f"Rate limit exceeded ({problem_kind})")
    error.headers.update(
        {"Retry-After": str(retry_after), "X-Rate-Limit-Problem": problem_kind, **headers}
    )
    return error


def open_tenant(resource: str, writing: bool) -> tuple[XeroSandboxState, Tenant]:
    """Every data call's gate, in Xero's order: token, tenant, scope, rate limit."""
    state = sandbox_state()
    grant = authenticate(state)
    tenant = require_tenant(state, grant)
    require_scope(grant, resource, writing)
    apply_rate_limits(state, tenant)
    return state, tenant


def request_items(key: str) -> list[Record]:
    """The elements of a PUT/POST body: ``{"Contacts": [...]}`` or one bare object.

    Raises:
        XeroHttpError: 400 ``PostDataInvalidException`` when the body is not JSON.
    """
    try:
        body = json.loads(flask.request.get_data(as_text=True) or "{}")
    except json.JSONDecodeError as exc:
        raise api_exception(14, "PostDataInvalidException", f"Invalid JSON: {exc}") from None
    if isinstance(body, Mapping) and isinstance(body.get(key), list):
        return [dict(item) for item in body[key]]
    if isinstance(body, Mapping) and body:
        return [dict(body)]
    raise api_exception(14, "PostDataInvalidException", "The request body is empty")


# -- handlers ---------------------------------------------------------------------------------


def list_records(resource: Resource) -> flask.Response:
    """GET a collection: IDs, where, If-Modified-Since, order, paging (100 a page)."""
    state, tenant = open_tenant(resource.name, writing=False)
    args = flask.request.args
    with state.lock:
        records = list(tenant.collections()[resource.name].values())
        records = filter_records(resource, records, args)
        records = order_records(records, args.get("order"))
        page = args.get("page", type=int) if resource.paged else None
        if page is not None:
            size = min(args.get("pageSize", DEFAULT_PAGE_SIZE, type=int), MAX_PAGE_SIZE)
            records = records[(max(page, 1) - 1) * size : max(page, 1) * size]
        # Xero returns invoice line items on lists only when paging (or for one invoice).
        with_lines = page is not None or resource.name not in ("Invoices",)
        rendered = [resource.render(tenant, r, with_lines) for r in records]
    return json_response(envelope(resource.name, rendered))


def filter_records(
    resource: Resource, records: list[Record], args: Mapping[str, str]
) -> list[Record]:
    """Apply the read filters a list call may carry."""
    since = parse_if_modified_since(flask.request.headers.get("If-Modified-Since"))
    if since is not None:
        records = [r for r in records if r["UpdatedDateUTC"] > since]
    if args.get("IDs"):
        wanted = {i.strip().lower() for i in args["IDs"].split(",")}
        records = [r for r in records if r[resource.id_field] in wanted]
    if resource.name == "Contacts" and args.get("includeArchived", "").lower() != "true":
        records = [r for r in records if r.get("ContactStatus") != "ARCHIVED"]
    if resource.name == "Contacts" and args.get("searchTerm"):
        records = [r for r in records if matches_search_term(r, args["searchTerm"])]
    if args.get("Statuses"):
        statuses = {s.strip().upper() for s in args["Statuses"].split(",")}
        records = [r for r in records if r.get("Status") in statuses]
    if args.get("where") and resource.where:  # Quotes take no where: ignored, as unknown
        keep = compile_where(args["where"], resource.type_name, resource.known_fields)
        records = [r for r in records if keep(r)]
    for name, holds in resource.list_filters.items():
        if args.get(name):
            try:
                records = [r for r in records if holds(r, args[name])]
            except ValidationFailed as error:
                message = "; ".join(error.messages)
                raise api_exception(16, "QueryParseException", message) from None
    return records


def matches_search_term(record: Record, term: str) -> bool:
    """Xero's ``searchTerm``: case-insensitive substring of name, names, email or number."""
    keys = ("Name", "FirstName", "LastName", "EmailAddress", "ContactNumber")
    return any(term.casefold() in str(record.get(key) or "").casefold() for key in keys)


def get_record(resource: Resource, record_id: str) -> flask.Response:
    """GET one record by ID (invoices and quotes also by number)."""
    state, tenant = open_tenant(resource.name, writing=False)
    with state.lock:
        collection = tenant.collections()[resource.name]
        record = find_by_id(collection, record_id)
        if record is None and resource.number_field:
            record = next(
                (r for r in collection.values() if r.get(resource.number_field) == record_id), None
            )
        if record is None:
            raise problem(404, "NotFound", "The resource you're looking for cannot be found")
        return json_response(envelope(resource.name, [resource.render(tenant, record)]))


def write_records(resource: Resource, path_id: str | None) -> flask.Response:
    """PUT/POST a batch. With ``summarizeErrors`` (default) any failure rolls the whole batch
    back and answers 400; with ``summarizeErrors=false`` valid elements are saved and each
    element carries ``StatusAttributeString``. A write carrying an ``Idempotency-Key`` the
    tenant already saw is answered with the first answer and changes nothing."""
    state, tenant = open_tenant(resource.name, writing=True)
    key = idempotency_key()
    fingerprint = current_fingerprint()
    with state.lock:
        stored = replayed(state, tenant, key, fingerprint)
        if stored is not None:
            return json_response(stored.body, stored.status, {"Idempotent-Replayed": "true"})
        body = apply_write(state, tenant, resource, path_id)
        if key:
            state.replies.remember(tenant.tenant_id, key, fingerprint, 200, body)
    return json_response(body)


def apply_write(
    state: XeroSandboxState, tenant: Tenant, resource: Resource, path_id: str | None
) -> Record:
    """The write itself (lock held): the answer's envelope, or a raised Xero error."""
    items = request_items(resource.name)
    summarize = flask.request.args.get("summarizeErrors", "true").lower() != "false"
    if path_id:
        if find_by_id(tenant.collections()[resource.name], path_id) is None:
            raise problem(404, "NotFound", "The resource you're looking for cannot be found")
        for item in items:
            item[resource.id_field] = path_id
    save_point = tenant.save_point()
    context = WriteContext(state, tenant)
    results, failed = apply_batch(context, resource, items)
    if failed and summarize:
        tenant.rollback(save_point)
        raise validation_exception([results[i] for i in failed])
    emit_events(state, tenant, context.events)
    if not summarize:
        for index, element in enumerate(results):
            element["StatusAttributeString"] = "ERROR" if index in failed else "OK"
    return envelope(resource.name, results)


def idempotency_key() -> str | None:
    """The request's ``Idempotency-Key`` (None without one).

    Raises:
        XeroHttpError: 400 when it is longer than Xero's 128 characters.
    """
    key = flask.request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise api_exception(  # the 400 of a write is Xero's Error envelope (spec)
            17,
            "InvalidParameterException",
            f"Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY} characters",
        )
    return key or None


def current_fingerprint() -> str:
    request = flask.request
    query = request.query_string.decode("latin-1")
    return request_fingerprint(request.method, request.path, query, request.get_data())


def replayed(
    state: XeroSandboxState, tenant: Tenant, key: str | None, fingerprint: str
) -> StoredReply | None:
    """The stored answer for a key this tenant already saw (lock held).

    Raises:
        XeroHttpError: 422 when the key came before with a different request (method, path,
            query or body): the key names one request, and guessing which one is wanted
            would either duplicate or lose a write.
    """
    if key is None:
        return None
    try:
        return state.replies.lookup(tenant.tenant_id, key, fingerprint)
    except KeyReused:
        raise problem(
            422,
            "Unprocessable Entity",
            "This Idempotency-Key was already used for a different request",
        ) from None


def apply_batch(
    context: WriteContext, resource: Resource, items: list[Record]
) -> tuple[list[Record], list[int]]:
    """Write each element; failed ones come back echoed with their ``ValidationErrors``."""
    results: list[Record] = []
    failed: list[int] = []
    for index, item in enumerate(items):
        event_count = len(context.events)
        try:
            record = resource.write(context, item)
            results.append(resource.render(context.tenant, record))
        except ValidationFailed as exc:
            del context.events[event_count:]
            failed.append(index)
            results.append(
                {
                    **to_wire(item),
                    "HasValidationErrors": True,
                    "ValidationErrors": [{"Message": message} for message in exc.messages],
                }
            )
    return results, failed


def read_only_list(name: str) -> flask.Response:
    """GET Accounts / TaxRates / Organisation / Currencies (static settings), with ``where``
    and ``order`` as Xero's lists take them. The envelope key is Xero's: ``GET
    /Organisation`` answers under ``Organisations``."""
    state, tenant = open_tenant(name, writing=False)
    key, build = SETTINGS[name]
    items, args = build(state, tenant), flask.request.args
    if args.get("where"):
        known = {field for item in items for field in item}
        keep = compile_where(args["where"], key.rstrip("s"), known)
        items = [item for item in items if keep(item)]
    return json_response(envelope(key, order_records(items, args.get("order"))))


def _accounts(state: XeroSandboxState, tenant: Tenant) -> list[Record]:
    return [account_record(code) for code in ACCOUNTS]


def _tax_rates(state: XeroSandboxState, tenant: Tenant) -> list[Record]:
    return [
        {
            "Name": label,
            "TaxType": code,
            "Status": "ACTIVE",
            "CanApplyToRevenue": not code.startswith("INPUT") and code != "EXEMPTINPUT",
            "CanApplyToExpenses": not code.startswith("OUTPUT") and code != "EXEMPTOUTPUT",
            "EffectiveRate": float(rate),
            "DisplayTaxRate": float(rate),
        }
        for code, (label, rate) in state.tax_rates().items()
    ]


def _organisations(state: XeroSandboxState, tenant: Tenant) -> list[Record]:
    return [
        {
            "OrganisationID": tenant.tenant_id,
            "Name": tenant.name,
            "BaseCurrency": state.config["base_currency"],
            "OrganisationType": "COMPANY",
            "CreatedDateUTC": xero_date(tenant.created),
        }
    ]


def _currencies(state: XeroSandboxState, tenant: Tenant) -> list[Record]:
    return [{"Code": code, "Description": code} for code in state.currencies()]


SETTINGS: dict[str, tuple[str, Any]] = {
    "Accounts": ("Accounts", _accounts),
    "TaxRates": ("TaxRates", _tax_rates),
    "Organisation": ("Organisations", _organisations),
    "Currencies": ("Currencies", _currencies),
}
"""Read-only settings: path → (envelope key, the items of a tenant)."""


def allocate_credit(source: CreditSource, source_id: str) -> flask.Response:
    """``PUT /CreditNotes/{id}/Allocations`` and ``PUT /Overpayments/{id}/Allocations``: all
    elements or none, answered under ``Allocations``."""
    state, tenant = open_tenant(source.resource, writing=True)
    with state.lock:
        document = find_by_id(tenant.collections()[source.resource], source_id)
        if document is None:
            raise problem(404, "NotFound", "The resource you're looking for cannot be found")
        items = request_items("Allocations")
        save_point = tenant.save_point()
        context = WriteContext(state, tenant)
        results, failed = [], []
        for index, item in enumerate(items):
            try:
                results.append(to_wire(allocate(context, source, document, item)))
            except ValidationFailed as exc:
                failed.append(index)
                results.append({**to_wire(item), "ValidationErrors": messages(exc)})
        if failed:
            tenant.rollback(save_point)
            raise validation_exception([results[i] for i in failed])
        emit_events(state, tenant, context.events)
        return json_response(envelope("Allocations", results))


def delete_allocation(source: CreditSource, source_id: str, allocation_id: str) -> flask.Response:
    """``DELETE /CreditNotes/{id}/Allocations/{AllocationID}``: the allocation, answered with
    ``IsDeleted: true`` (Xero's example answers the bare Allocation)."""
    state, tenant = open_tenant(source.resource, writing=True)
    with state.lock:
        document = find_by_id(tenant.collections()[source.resource], source_id)
        context = WriteContext(state, tenant)
        removed = (
            None
            if document is None
            else remove_allocation(context, source, document, allocation_id)
        )
        if removed is None:
            raise problem(404, "NotFound", "The resource you're looking for cannot be found")
        emit_events(state, tenant, context.events)
        return json_response(to_wire(removed))


def messages(error: ValidationFailed) -> list[Record]:
    return [{"Message": message} for message in error.messages]


def fault_response(fault: Fault) -> flask.Response:
    """An injected fault in Xero's style (429 carries ``Retry-After``)."""
    titles = {
        429: "Too Many Requests",
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }
    status = fault.status or 500
    error = problem(status, titles[status], "Injected by the sandbox")
    if status == 429:
        error.headers.update(
            {
                "Retry-After": str(fault.retry_after),
                "X-Rate-Limit-Problem": "minute",
                "X-MinLimit-Remaining": "0",
            }
        )
    return json_response(error.body, status, error.headers)


def handle_xero_error(error: XeroHttpError) -> flask.Response:
    headers = {**error.headers, **getattr(flask.g, "rate_headers", {})}
    return json_response(error.body, error.status, headers)


def _add_rate_headers(response: flask.Response) -> flask.Response:
    for name, value in getattr(flask.g, "rate_headers", {}).items():
        response.headers.setdefault(name, value)
    return response


def register(app: flask.Flask) -> None:
    """The data API's routes, its error rendering and its rate-limit headers."""
    for name, resource in RESOURCES.items():
        base = f"{API_PREFIX}/{name}"
        app.add_url_rule(base, f"list_{name}", lambda r=resource: list_records(r), methods=["GET"])
        app.add_url_rule(
            f"{base}/<record_id>",
            f"get_{name}",
            lambda record_id, r=resource: get_record(r, record_id),
            methods=["GET"],
        )
        if resource.writable:
            _register_writes(app, name, resource)
    for source in (CREDIT_NOTES, OVERPAYMENTS):
        app.add_url_rule(
            f"{API_PREFIX}/{source.resource}/<source_id>/Allocations",
            f"allocate_{source.resource}",
            lambda source_id, s=source: allocate_credit(s, source_id),
            methods=["PUT"],
        )
    app.add_url_rule(
        f"{API_PREFIX}/CreditNotes/<source_id>/Allocations/<allocation_id>",
        "delete_allocation_CreditNotes",
        lambda source_id, allocation_id: delete_allocation(CREDIT_NOTES, source_id, allocation_id),
        methods=["DELETE"],
    )
    for name in SETTINGS:
        app.add_url_rule(
            f"{API_PREFIX}/{name}",
            f"read_{name}",
            lambda n=name: read_only_list(n),
            methods=["GET"],
        )
    app.register_error_handler(XeroHttpError, handle_xero_error)
    app.after_request(_add_rate_headers)


def _register_writes(app: flask.Flask, name: str, resource: Resource) -> None:
    base = f"{API_PREFIX}/{name}"
    app.add_url_rule(base, f"put_{name}", lambda: write_records(resource, None), methods=["PUT"])
    app.add_url_rule(base, f"post_{name}", lambda: write_records(resource, None), methods=["POST"])
    app.add_url_rule(
        f"{base}/<record_id>",
        f"post_one_{name}",
        lambda record_id: write_records(resource, record_id),
        methods=["POST"],
    )
