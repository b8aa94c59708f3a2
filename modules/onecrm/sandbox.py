"""Local emulator of a 1CRM instance's REST API (``/api.php/``).

1CRM's public API documentation is thin; this follows the model in
``/work/shared/reference/apis.md`` (ours, faithful to the 1CRM ⇄ Xero/QuickBooks guide):

- HTTP basic auth with an admin user; JSON bodies; errors as ``{"error": {"code", "message"}}``.
- ``GET /api.php/data/{Model}`` (``filter_text``, ``filters[field]``, ``fields[]``, ``limit``,
  ``offset``, ``order``) → ``{"records": [...], "total_results": N}``;
  ``GET /api.php/data/{Model}/{id}`` → ``{"record": {...}}``;
  ``POST /api.php/data/{Model}`` ``{"data": {...}}`` → ``{"id": ...}``;
  ``PATCH /api.php/data/{Model}/{id}`` ``{"data": {...}}`` (``create_if_missing``).
- Models Account, Contact, Invoice, Quote (line items with computed totals), Payment (related
  invoices reduce their ``amount_due``).
- Webhooks ("New Event"): ``POST /api.php/webhooks`` registers ``{url, model, event}``; every
  matching create/update is POSTed from a background thread as
  ``{"webhook_id", "model", "event", "timestamp", "record"}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import flask

from modules.sandboxing import (
    BaseSandboxState,
    Fault,
    json_response,
    new_delivery,
    register_control_routes,
    run_sandbox_in_thread,
)

__all__ = ["OneCrmSandboxState", "create_app", "run_sandbox_in_thread"]

API_PREFIX = "/api.php"
FIXTURE_DIR = Path(__file__).parent / "fixtures"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
DEFAULT_LIMIT = 20
MAX_LIMIT = 200
WEBHOOK_EVENTS = ("create", "update", "create_or_update")
#: Seeding order: records may only point at models seeded before them.
MODEL_ORDER = ("Account", "Contact", "Invoice", "Quote", "Payment")

DEFAULTS: dict[str, Any] = {
    "username": "admin",
    "password": "sandbox-password",
    "user_id": "1",
    "rate_limit_per_minute": 120,
    "default_currency": "USD",
    "fixture": None,
}
#: Fields the server owns: ignored in client data (kept when seeding).
SERVER_FIELDS = frozenset(
    {"id", "date_entered", "date_modified", "created_by", "modified_user_id", "deleted"}
)

Record = dict[str, Any]
Change = tuple[str, str, str]  # (model, "create" | "update", record id)


class CrmHttpError(Exception):
    """An error answer: ``{"error": {"code", "message", "fields"?}}`` with ``status``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})

    def body(self) -> Record:
        """The JSON body of the answer."""
        error: Record = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return {"error": error}


class InvalidRecord(CrmHttpError):
    """400 ``validation_error`` naming each bad field."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        summary = "; ".join(f"{name}: {problem}" for name, problem in fields.items())
        super().__init__(400, "validation_error", f"Invalid record: {summary}", fields)


def timestamp(moment: datetime) -> str:
    """1CRM's UTC timestamp format, ``YYYY-MM-DD HH:MM:SS``."""
    return moment.strftime(TIMESTAMP_FORMAT)


def number(value: Any, field_name: str, default: str | None = None) -> Decimal:
    """A Decimal from a JSON number/string.

    Raises:
        InvalidRecord: when missing (and no default) or not numeric.
    """
    if value is None or value == "":
        if default is None:
            raise InvalidRecord({field_name: "required"})
        return Decimal(default)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise InvalidRecord({field_name: f"'{value}' is not a number"}) from None


def cents(value: Decimal) -> float:
    """Round half up to 2 decimals, as the JSON number 1CRM shows."""
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


# ============================================================================================
# State
# ============================================================================================


class OneCrmSandboxState(BaseSandboxState):
    """Records by model, webhook subscriptions and document counters."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(DEFAULTS, config)
        self.clear_records()
        self.seed_initial_fixture()

    def clear_records(self) -> None:
        """Forget every record and webhook subscription."""
        self.records: dict[str, dict[str, Record]] = {model: {} for model in MODEL_ORDER}
        self.subscriptions: dict[str, Record] = {}
        self.counters = {"Invoice": 1000, "Quote": 1000, "Payment": 1000}

    def load_fixture(self, fixture: Any) -> Mapping[str, Any]:
        """Also accept a fixture name from ``fixtures/`` (``"demo"``, ``"small"``)."""
        if isinstance(fixture, str) and (FIXTURE_DIR / f"{fixture}.json").exists():
            fixture = str(FIXTURE_DIR / f"{fixture}.json")
        return super().load_fixture(fixture)

    def seed(self, fixture: Mapping[str, Any]) -> dict[str, int]:
        """Load ``{"Account": [...], "Contact": [...], ...}`` in dependency order. Records may
        carry ``id``, ``date_entered`` and ``date_modified``; derived fields are recomputed and no
        webhooks fire."""
        loaded = {}
        for model in MODEL_ORDER:
            for data in fixture.get(model, []):
                save_record(self, model, dict(data), existing=None, seeding=True)
            loaded[model] = len(fixture.get(model, []))
        return loaded

    def records_snapshot(self) -> dict[str, Any]:
        """Every record by model, plus the webhook subscriptions under ``_webhooks``."""
        snapshot: dict[str, Any] = {m: list(rs.values()) for m, rs in self.records.items()}
        snapshot["_webhooks"] = list(self.subscriptions.values())
        return json.loads(json.dumps(snapshot))

    def next_number(self, model: str) -> int:
        """Sequential document number per model (invoice_number, quote_number...)."""
        self.counters[model] += 1
        return self.counters[model]


# ============================================================================================
# Models: derived fields and validation, one ``prepare`` per model
# ============================================================================================


def find_account(
    state: OneCrmSandboxState, account_id: Any, name: Any, field_name: str
) -> Record | None:
    """An Account by id, else by exact (case-insensitive) name; None when neither is given.

    Raises:
        InvalidRecord: an id or name that matches no account.
    """
    accounts = state.records["Account"]
    if account_id:
        if account_id not in accounts:
            raise InvalidRecord({field_name: f"no Account with id {account_id}"})
        return accounts[account_id]
    if name:
        wanted = str(name).strip().casefold()
        for account in accounts.values():
            if str(account.get("name", "")).strip().casefold() == wanted:
                return account
        raise InvalidRecord({field_name: f"no Account named {name}"})
    return None


def require(record: Record, *names: str) -> None:
    """Raise ``InvalidRecord`` listing every required field that is empty."""
    missing = {name: "required" for name in names if record.get(name) in (None, "")}
    if missing:
        raise InvalidRecord(missing)


def prepare_account(state: OneCrmSandboxState, record: Record) -> None:
    """Accounts need a name."""
    require(record, "name")
    record.setdefault("currency", state.config["default_currency"])


def prepare_contact(state: OneCrmSandboxState, record: Record) -> None:
    """``name`` is derived from first/last name; ``primary_account`` from its id."""
    full_name = " ".join(p for p in (record.get("first_name"), record.get("last_name")) if p)
    record["name"] = full_name or record.get("name")
    require(record, "last_name")
    account = find_account(
        state, record.get("primary_account_id"), record.get("primary_account"), "primary_account_id"
    )
    if account is not None:
        record["primary_account_id"], record["primary_account"] = account["id"], account["name"]


def compute_line_items(items: Any) -> tuple[list[Record], Record]:
    """Line totals (``ext_price``, ``tax``, ``total``) and document totals.

    Each line gives a tax percentage OR a tax amount (the guide's rule), never both.

    Raises:
        InvalidRecord: malformed lines, naming them ``line_items[N].field`` (1-based).
    """
    if items is None:
        items = []
    if not isinstance(items, list):
        raise InvalidRecord({"line_items": "must be a list"})
    lines, subtotal, tax_total = [], Decimal("0"), Decimal("0")
    for position, raw in enumerate(items, start=1):
        where = f"line_items[{position}]"
        if not isinstance(raw, Mapping) or not raw.get("name"):
            raise InvalidRecord({f"{where}.name": "required"})
        quantity = number(raw.get("quantity"), f"{where}.quantity", "1")
        unit_price = number(raw.get("unit_price"), f"{where}.unit_price")
        has_pct = raw.get("tax_percentage") not in (None, "")
        has_amount = raw.get("tax_amount") not in (None, "")
        if has_pct and has_amount:
            raise InvalidRecord({where: "give tax_percentage or tax_amount, not both"})
        ext_price = quantity * unit_price
        pct = number(raw.get("tax_percentage"), f"{where}.tax_percentage", "0")
        tax = (
            number(raw["tax_amount"], f"{where}.tax_amount")
            if has_amount
            else (ext_price * pct / 100)
        )
        subtotal, tax_total = subtotal + ext_price, tax_total + tax
        lines.append(
            {
                **raw,
                "id": raw.get("id") or str(uuid.uuid4()),
                "position": position,
                "quantity": float(quantity),
                "unit_price": float(unit_price),
                "ext_price": cents(ext_price),
                "tax": cents(tax),
                "total": cents(ext_price + tax),
            }
        )
    totals = {
        "subtotal": cents(subtotal),
        "tax": cents(tax_total),
        "amount": cents(subtotal + tax_total),
    }
    return lines, totals


def make_prepare_document(
    number_field: str, model: str
) -> Callable[[OneCrmSandboxState, Record], None]:
    """Invoices and quotes: billing account, line items, totals, document number."""

    def prepare(state: OneCrmSandboxState, record: Record) -> None:
        require(record, "name")
        account = find_account(
            state,
            record.get("billing_account_id"),
            record.get("billing_account"),
            "billing_account_id",
        )
        if account is not None:
            record["billing_account_id"], record["billing_account"] = account["id"], account["name"]
        lines, totals = compute_line_items(record.get("line_items"))
        record.update(line_items=lines, **totals)
        record.setdefault("currency", state.config["default_currency"])
        record.setdefault("exchange_rate", 1.0)
        if not record.get(number_field):
            record[number_field] = state.next_number(model)
        if model == "Invoice":
            record.setdefault("integrated_id", None)
            record["amount_due"] = cents(
                Decimal(str(record["amount"]))
                - allocated_to(state, record["id"], exclude_payment=None)
            )

    return prepare


def allocated_to(
    state: OneCrmSandboxState, invoice_id: str, exclude_payment: str | None
) -> Decimal:
    """Sum of every payment allocation to ``invoice_id`` (optionally ignoring one payment)."""
    total = Decimal("0")
    for payment in state.records["Payment"].values():
        if payment["id"] == exclude_payment:
            continue
        for allocation in payment.get("related_invoices", []):
            if allocation.get("invoice_id") == invoice_id:
                total += Decimal(str(allocation.get("amount", 0)))
    return total


def find_invoice_ref(state: OneCrmSandboxState, item: Mapping[str, Any]) -> Record | None:
    """A related invoice by its 1CRM id, or by ``integrated_id`` (the accounting system's id,
    which is what Xero → 1CRM payment syncs carry)."""
    invoices = state.records["Invoice"]
    for key in ("invoice_id", "integrated_id"):
        wanted = item.get(key)
        if wanted in invoices:
            return invoices[wanted]
        for invoice in invoices.values():
            if wanted and invoice.get("integrated_id") == wanted:
                return invoice
    return None


def prepare_payment(state: OneCrmSandboxState, record: Record) -> None:
    """Resolve related invoices and the account; allocations may not exceed what is due."""
    amount = number(record.get("amount"), "amount")
    if amount <= 0:
        raise InvalidRecord({"amount": "must be greater than zero"})
    allocations, total = [], Decimal("0")
    for position, item in enumerate(record.get("related_invoices") or [], start=1):
        where = f"related_invoices[{position}]"
        invoice = find_invoice_ref(state, item) if isinstance(item, Mapping) else None
        if invoice is None:
            raise InvalidRecord({f"{where}.invoice_id": "no such Invoice"})
        share = number(item.get("amount"), f"{where}.amount")
        due = Decimal(str(invoice["amount"])) - allocated_to(state, invoice["id"], record["id"])
        if share > due:
            raise InvalidRecord({f"{where}.amount": f"exceeds the amount due ({cents(due)})"})
        allocations.append(
            {
                "invoice_id": invoice["id"],
                "invoice": invoice["name"],
                "integrated_id": invoice.get("integrated_id"),
                "amount": cents(share),
            }
        )
        total += share
    if total > amount:
        raise InvalidRecord({"related_invoices": "total allocated exceeds the payment amount"})
    account = find_account(state, record.get("account_id"), record.get("account"), "account_id")
    if account is not None:
        record["account_id"], record["account"] = account["id"], account["name"]
    record.update(related_invoices=allocations, total_allocated=cents(total), amount=cents(amount))
    record.setdefault("currency", state.config["default_currency"])
    record.setdefault("exchange_rate", 1.0)
    record.setdefault("payment_type", "Receipt")
    record.setdefault("refund", False)
    record.setdefault("payment_date", timestamp(state.now())[:10])
    if not record.get("payment_number"):
        record["payment_number"] = state.next_number("Payment")
    record.setdefault("prefix", "PMT-")
    record["name"] = f"{record['prefix']}{record['payment_number']}"


@dataclass(frozen=True)
class ModelSpec:
    """One 1CRM model: how to validate/derive, and which text fields ``filter_text`` searches."""

    name: str
    prepare: Callable[[OneCrmSandboxState, Record], None]
    search_fields: tuple[str, ...]
    derived: frozenset[str] = frozenset()


MODELS: dict[str, ModelSpec] = {
    "Account": ModelSpec(
        "Account", prepare_account, ("name", "email1", "phone_office", "billing_address_city")
    ),
    "Contact": ModelSpec(
        "Contact",
        prepare_contact,
        ("name", "first_name", "last_name", "email1", "primary_account"),
        frozenset({"name"}),
    ),
    "Invoice": ModelSpec(
        "Invoice",
        make_prepare_document("invoice_number", "Invoice"),
        ("name", "invoice_number", "billing_account"),
        frozenset({"subtotal", "tax", "amount", "amount_due"}),
    ),
    "Quote": ModelSpec(
        "Quote",
        make_prepare_document("quote_number", "Quote"),
        ("name", "quote_number", "billing_account"),
        frozenset({"subtotal", "tax", "amount"}),
    ),
    "Payment": ModelSpec(
        "Payment",
        prepare_payment,
        ("name", "customer_reference", "account"),
        frozenset({"total_allocated", "name"}),
    ),
}


# ============================================================================================
# Writes
# ============================================================================================


def save_record(
    state: OneCrmSandboxState,
    model: str,
    data: Record,
    existing: Record | None,
    seeding: bool = False,
) -> tuple[Record, list[Change]]:
    """Create (``existing`` None) or update a record; return it and the changes to announce.

    A payment also changes the invoices it touches (their ``amount_due``), which are announced
    as updates too.

    Raises:
        InvalidRecord: on validation errors; nothing is stored then.
    """
    spec = MODELS[model]
    owned = SERVER_FIELDS | spec.derived
    changes = {k: v for k, v in data.items() if seeding or k not in owned}
    now = timestamp(state.now())
    base = existing or {
        "id": str(uuid.uuid4()),
        "date_entered": now,
        "created_by": state.config["user_id"],
        "assigned_user_id": state.config["user_id"],
        "deleted": 0,
    }
    record = json.loads(json.dumps({**base, **changes}))  # deep copy: validation may fail
    record["date_modified"] = (
        data.get("date_modified") if seeding and data.get("date_modified") else now
    )
    record["modified_user_id"] = state.config["user_id"]
    spec.prepare(state, record)
    touched = touched_invoices(existing, record) if model == "Payment" else set()
    state.records[model][record["id"]] = record
    announced = [(model, "update" if existing else "create", record["id"])]
    for invoice_id in sorted(touched):
        refresh_amount_due(state, invoice_id, now, seeding)
        announced.append(("Invoice", "update", invoice_id))
    return record, ([] if seeding else announced)


def touched_invoices(before: Record | None, after: Record) -> set[str]:
    """Invoices a payment allocated to, before or after this change."""
    ids = {a["invoice_id"] for a in after.get("related_invoices", [])}
    ids |= {a["invoice_id"] for a in (before or {}).get("related_invoices", [])}
    return ids


def refresh_amount_due(state: OneCrmSandboxState, invoice_id: str, now: str, seeding: bool) -> None:
    """Recompute an invoice's ``amount_due`` from all payments."""
    invoice = state.records["Invoice"].get(invoice_id)
    if invoice is None:
        return
    due = Decimal(str(invoice["amount"])) - allocated_to(state, invoice_id, None)
    invoice["amount_due"] = cents(due)
    if not seeding:
        invoice["date_modified"] = now


# ============================================================================================
# Webhooks
# ============================================================================================


def subscriptions_for(state: OneCrmSandboxState, model: str, event: str) -> list[Record]:
    """Registered webhooks that want ``event`` on ``model`` (plus ``config["webhook_url"]``)."""
    hooks = [
        h
        for h in state.subscriptions.values()
        if h["model"] == model and h["event"] in (event, "create_or_update")
    ]
    if state.config.get("webhook_url"):
        hooks.append(
            {
                "id": "config",
                "url": state.config["webhook_url"],
                "model": model,
                "event": "create_or_update",
            }
        )
    return hooks


def announce(state: OneCrmSandboxState, changes: list[Change]) -> None:
    """Queue one POST per (change, matching webhook), carrying the record as it is now."""
    for model, event, record_id in changes:
        record = state.records[model].get(record_id)
        for hook in subscriptions_for(state, model, event):
            body = {
                "webhook_id": hook["id"],
                "model": model,
                "event": event,
                "timestamp": timestamp(state.now()),
                "record": record,
            }
            raw = json.dumps(body).encode("utf-8")
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "1CRM-Webhooks (sandbox)",
                "X-1CRM-Webhook-Id": hook["id"],
                "X-1CRM-Event": f"{model}.{event}",
            }
            if state.config.get("webhook_key"):
                digest = hmac.new(str(state.config["webhook_key"]).encode(), raw, hashlib.sha256)
                headers["X-1CRM-Signature"] = base64.b64encode(digest.digest()).decode()
            state.webhooks.enqueue(
                new_delivery(hook["url"], body, headers, f"{model}.{event}"), raw
            )


def register_webhook() -> tuple[flask.Response, int]:
    """``POST /api.php/webhooks`` with ``{url, model, event}`` (or wrapped in ``data``)."""
    state = sandbox_state()
    body = request_json()
    data = body.get("data", body) if isinstance(body, Mapping) else {}
    problems = {}
    if not str(data.get("url", "")).startswith(("http://", "https://")):
        problems["url"] = "an http(s) URL is required"
    if data.get("model") not in MODELS:
        problems["model"] = f"one of {', '.join(MODELS)}"
    if data.get("event") not in WEBHOOK_EVENTS:
        problems["event"] = f"one of {', '.join(WEBHOOK_EVENTS)}"
    if problems:
        raise InvalidRecord(problems)
    hook = {
        "id": str(uuid.uuid4()),
        "url": data["url"],
        "model": data["model"],
        "event": data["event"],
        "name": data.get("name", ""),
        "date_entered": timestamp(state.now()),
    }
    with state.lock:
        state.subscriptions[hook["id"]] = hook
    return flask.jsonify({"id": hook["id"], "record": hook}), 201


def list_webhooks() -> flask.Response:
    """``GET /api.php/webhooks``."""
    state = sandbox_state()
    with state.lock:
        hooks = list(state.subscriptions.values())
    return flask.jsonify({"records": hooks, "total_results": len(hooks)})


def delete_webhook(hook_id: str) -> flask.Response:
    """``DELETE /api.php/webhooks/{id}``."""
    state = sandbox_state()
    with state.lock:
        if state.subscriptions.pop(hook_id, None) is None:
            raise CrmHttpError(404, "not_found", f"Webhook {hook_id} not found")
    return flask.jsonify({"deleted": True, "id": hook_id})


# ============================================================================================
# Reads and writes over HTTP
# ============================================================================================


def sandbox_state() -> OneCrmSandboxState:
    """The state of the app serving the current request."""
    return flask.current_app.extensions["sandbox_state"]


def model_spec(model: str) -> ModelSpec:
    """The spec of ``model``, or a 404 naming the known models."""
    if model not in MODELS:
        raise CrmHttpError(
            404, "unknown_model", f"Unknown model {model}; known: {', '.join(MODELS)}"
        )
    return MODELS[model]


def request_json() -> Any:
    """The JSON body, or a 400 when it isn't JSON."""
    try:
        return json.loads(flask.request.get_data(as_text=True) or "{}")
    except json.JSONDecodeError as exc:
        raise CrmHttpError(400, "invalid_json", f"Request body is not JSON: {exc}") from None


def request_data() -> Record:
    """The ``data`` object of a create/update body."""
    body = request_json()
    if not isinstance(body, Mapping) or not isinstance(body.get("data"), Mapping):
        raise CrmHttpError(400, "invalid_request", 'Body must be {"data": {...}}')
    return dict(body["data"])


def matches_filters(record: Record, spec: ModelSpec, args: Mapping[str, Any]) -> bool:
    """``filter_text``: case-insensitive substring of any search field; ``filters[f]``: equal
    (case-insensitive for text)."""
    text = str(args.get("filter_text") or "").strip().casefold()
    if text and not any(text in str(record.get(f) or "").casefold() for f in spec.search_fields):
        return False
    exact = {k[8:-1]: v for k, v in args.items() if k.startswith("filters[") and k.endswith("]")}
    return all(str(record.get(k, "")).casefold() == str(v).casefold() for k, v in exact.items())


def order_records(records: list[Record], order: str | None) -> list[Record]:
    """Sort by ``order`` (``"name"``, ``"date_modified desc"``, comma-separated); stable, with
    empty values last."""
    for clause in reversed([c.strip() for c in (order or "").split(",") if c.strip()]):
        name, _, direction = clause.partition(" ")
        descending = direction.strip().lower() == "desc"
        present = [r for r in records if r.get(name) not in (None, "")]
        empty = [r for r in records if r.get(name) in (None, "")]
        present.sort(key=lambda r, n=name: _sort_key(r[n]), reverse=descending)
        records = present + empty
    return records


def _sort_key(value: Any) -> tuple[int, Any]:
    # Numbers sort numerically, everything else as case-insensitive text.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value).casefold())


def select_fields(record: Record, fields: list[str]) -> Record:
    """Only the requested ``fields[]`` (``id`` always)."""
    if not fields:
        return record
    return {key: record.get(key) for key in ["id", *[f for f in fields if f != "id"]]}


def list_records(model: str) -> flask.Response:
    """``GET /api.php/data/{Model}``."""
    spec, state, args = model_spec(model), sandbox_state(), flask.request.args
    limit = min(max(args.get("limit", DEFAULT_LIMIT, type=int), 0), MAX_LIMIT)
    offset = max(args.get("offset", 0, type=int), 0)
    with state.lock:
        found = [r for r in state.records[model].values() if matches_filters(r, spec, args)]
        found = order_records(found, args.get("order"))
        fields = args.getlist("fields[]") or args.getlist("fields")
        page = [select_fields(r, fields) for r in found[offset : offset + limit]]
        return json_response({"records": page, "total_results": len(found)})


def get_record(model: str, record_id: str) -> flask.Response:
    """``GET /api.php/data/{Model}/{id}``."""
    model_spec(model)
    state = sandbox_state()
    with state.lock:
        record = state.records[model].get(record_id)
        if record is None:
            raise CrmHttpError(404, "not_found", f"{model} {record_id} not found")
        fields = flask.request.args.getlist("fields[]")
        return json_response({"record": select_fields(record, fields)})


def create_record(model: str) -> tuple[flask.Response, int]:
    """``POST /api.php/data/{Model}`` → ``{"id": ...}``."""
    model_spec(model)
    state, data = sandbox_state(), request_data()
    with state.lock:
        record, changes = save_record(state, model, data, existing=None)
        announce(state, changes)
    return json_response({"id": record["id"]}), 201


def update_record(model: str, record_id: str) -> flask.Response:
    """``PATCH /api.php/data/{Model}/{id}``; a missing id is a 404 unless
    ``create_if_missing`` (query or body) asks for a create."""
    model_spec(model)
    state, body = sandbox_state(), request_json()
    data = request_data()
    create_flag = flask.request.args.get("create_if_missing", "") in ("1", "true") or bool(
        isinstance(body, Mapping) and body.get("create_if_missing")
    )
    with state.lock:
        existing = state.records[model].get(record_id)
        if existing is None and not create_flag:
            raise CrmHttpError(404, "not_found", f"{model} {record_id} not found")
        record, changes = save_record(state, model, data, existing=existing)
        announce(state, changes)
        return json_response({"id": record["id"], "record": record})


# ============================================================================================
# Auth, rate limit, app factory
# ============================================================================================


def check_auth_and_rate() -> None:
    """Basic auth for every ``/api.php/`` call, then the per-user rate limit.

    Raises:
        CrmHttpError: 401 (with ``WWW-Authenticate``) or 429 (with ``Retry-After``).
    """
    if not flask.request.path.startswith(API_PREFIX + "/"):
        return
    state = sandbox_state()
    auth = flask.request.authorization
    valid = (
        auth is not None
        and auth.type == "basic"
        and hmac.compare_digest(str(auth.username), str(state.config["username"]))
        and hmac.compare_digest(str(auth.password), str(state.config["password"]))
    )
    if not valid:
        raise CrmHttpError(
            401,
            "unauthorized",
            "Invalid username or password",
            headers={"WWW-Authenticate": 'Basic realm="1CRM"'},
        )
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
            headers={"Retry-After": str(decision.retry_after)},
        )
    flask.g.rate_remaining = decision.remaining


def fault_response(fault: Fault) -> flask.Response:
    """An injected fault in this API's error style."""
    codes = {
        429: "rate_limited",
        500: "server_error",
        502: "bad_gateway",
        503: "service_unavailable",
        504: "gateway_timeout",
    }
    status = fault.status or 500
    headers = {"Retry-After": str(fault.retry_after)} if status in (429, 503) else {}
    error = CrmHttpError(status, codes[status], "Injected by the sandbox", headers=headers)
    return json_response(error.body(), status, error.headers)


def _handle_error(error: CrmHttpError) -> flask.Response:
    return json_response(error.body(), error.status, error.headers)


def _add_rate_header(response: flask.Response) -> flask.Response:
    remaining = getattr(flask.g, "rate_remaining", None)
    if remaining is not None:
        response.headers["X-RateLimit-Remaining"] = str(remaining)
    return response


def create_app(config: dict[str, Any] | None = None) -> flask.Flask:
    """Build a 1CRM sandbox app. ``config`` overrides ``DEFAULTS`` and the common sandbox keys;
    ``config["fixture"]`` may name a fixture (``"demo"``, ``"small"``), a path or a dict."""
    app = flask.Flask(__name__)
    state = OneCrmSandboxState(config)
    register_control_routes(app, state, fault_response)
    app.before_request(check_auth_and_rate)
    data = f"{API_PREFIX}/data/<model>"
    app.add_url_rule(data, "list_records", list_records, methods=["GET"])
    app.add_url_rule(data, "create_record", create_record, methods=["POST"])
    app.add_url_rule(f"{data}/<record_id>", "get_record", get_record, methods=["GET"])
    app.add_url_rule(f"{data}/<record_id>", "update_record", update_record, methods=["PATCH"])
    app.add_url_rule(
        f"{API_PREFIX}/webhooks", "register_webhook", register_webhook, methods=["POST"]
    )
    app.add_url_rule(f"{API_PREFIX}/webhooks", "list_webhooks", list_webhooks, methods=["GET"])
    app.add_url_rule(
        f"{API_PREFIX}/webhooks/<hook_id>", "delete_webhook", delete_webhook, methods=["DELETE"]
    )
    app.register_error_handler(CrmHttpError, _handle_error)
    app.after_request(_add_rate_header)
    return app
