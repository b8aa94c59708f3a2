"""Local emulator of the Xero Accounting API and Xero's OAuth2 identity service.

Modelled on ``xero_accounting.yaml`` from XeroAPI/Xero-OpenAPI (``info.version: 2.9.0``) for
paths, envelopes, field names and error shapes, and on Xero's developer docs for OAuth2, rate
limits and webhooks. What it emulates (see ``docs/sandboxes.md`` for what differs):

- OAuth2: ``GET /identity/connect/authorize`` auto-approves and redirects with ``code`` and
  ``state``; ``POST /connect/token`` (authorization_code, refresh_token; rotating refresh tokens
  with a grace period); ``POST /connect/revocation``; ``GET/DELETE /connections``.
- ``/api.xro/2.0/`` Contacts, Invoices, Quotes, Payments (GET list/one, PUT, POST), read-only
  Accounts, TaxRates, Organisation; ``where``, ``order``, ``page``/``pageSize``,
  ``If-Modified-Since``, ``summarizeErrors``; Xero's envelopes and error bodies.
- ``Idempotency-Key`` on writes (max 128 characters, per tenant): a repeat gets the first
  answer and writes nothing; the same key on a different request is refused with 422.
- Per-tenant minute/day rate limits with Xero's headers; signed webhooks.

Internally records keep Python types (``Decimal``, ``date``, ``datetime``) under Xero's field
names, so ``where`` expressions evaluate on them directly; ``to_wire`` renders Xero's JSON.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import flask

from modules.sandbox_replays import KeyReused, ReplayStore, StoredReply, request_fingerprint
from modules.sandboxing import (
    BaseSandboxState,
    Fault,
    SandboxError,
    json_response,
    new_delivery,
    register_control_routes,
    run_sandbox_in_thread,
)

__all__ = ["SPEC_VERSION", "XeroSandboxState", "create_app", "run_sandbox_in_thread"]

SPEC_VERSION = "XeroAPI/Xero-OpenAPI xero_accounting.yaml 2.9.0"
API_PREFIX = "/api.xro/2.0"
FIXTURE_DIR = Path(__file__).parent / "fixtures"
DEFAULT_TENANT_ID = "8b5f9a2e-3c1d-4e7f-9a6b-2d4c8e1f0a35"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_IDEMPOTENCY_KEY = 128  # Xero's limit for the Idempotency-Key header

DEFAULTS: dict[str, Any] = {
    "client_id": "sandbox-client-id",
    "client_secret": "sandbox-client-secret",
    "redirect_uris": [],  # empty: any redirect URI is accepted
    "access_token_seconds": 1800,
    "refresh_grace_seconds": 1800.0,  # Xero keeps the previous refresh token for 30 minutes
    "refresh_token_days": 60,
    "authorization_code_seconds": 300,
    "rate_limit_per_minute": 60,
    "rate_limit_per_day": 5000,
    "app_rate_limit_per_minute": 10000,
    "provider_name": "Switchboard Sandbox",
    "base_currency": "NZD",
    "fixture": None,
    "tax_rates": None,  # {TaxType: {"Name": ..., "Rate": 15}} to extend/override the table
}

#: TaxType → (display name, percentage). NZ rates as in the Xero demo company plus AU-style 10%.
TAX_RATES: dict[str, tuple[str, Decimal]] = {
    "OUTPUT2": ("15% GST on Income", Decimal("15")),
    "INPUT2": ("15% GST on Expenses", Decimal("15")),
    "OUTPUT": ("GST on Income", Decimal("10")),
    "INPUT": ("GST on Expenses", Decimal("10")),
    "NONE": ("No GST", Decimal("0")),
    "EXEMPTOUTPUT": ("GST Free Income", Decimal("0")),
    "EXEMPTINPUT": ("GST Free Expenses", Decimal("0")),
    "ZERORATED": ("Zero Rated", Decimal("0")),
}

#: Chart of accounts: Code → (Name, Type, default TaxType).
ACCOUNTS: dict[str, tuple[str, str, str]] = {
    "090": ("Business Bank Account", "BANK", "NONE"),
    "091": ("Business Savings Account", "BANK", "NONE"),
    "200": ("Sales", "REVENUE", "OUTPUT2"),
    "260": ("Other Revenue", "REVENUE", "OUTPUT2"),
    "310": ("Cost of Goods Sold", "DIRECTCOSTS", "INPUT2"),
    "400": ("Advertising", "EXPENSE", "INPUT2"),
    "429": ("General Expenses", "EXPENSE", "INPUT2"),
    "610": ("Accounts Receivable", "CURRENT", "NONE"),
    "800": ("Accounts Payable", "CURRLIAB", "NONE"),
}

INVOICE_TYPES = ("ACCREC", "ACCPAY")
LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")
QUOTE_STATUSES = ("DRAFT", "SENT", "ACCEPTED", "DECLINED", "INVOICED", "DELETED")
#: Invoice status → statuses a client may move it to (PAID only ever comes from payments).
INVOICE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "DRAFT": ("DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"),
    "SUBMITTED": ("SUBMITTED", "DRAFT", "AUTHORISED", "DELETED"),
    "AUTHORISED": ("AUTHORISED", "VOIDED"),
    "PAID": (),
    "VOIDED": (),
    "DELETED": (),
}
#: Resource → (scope needed to write, extra scope that allows reading).
SCOPES: dict[str, tuple[str, str]] = {
    "Contacts": ("accounting.contacts", "accounting.contacts.read"),
    "Invoices": ("accounting.transactions", "accounting.transactions.read"),
    "Quotes": ("accounting.transactions", "accounting.transactions.read"),
    "Payments": ("accounting.transactions", "accounting.transactions.read"),
    "Accounts": ("accounting.settings", "accounting.settings.read"),
    "TaxRates": ("accounting.settings", "accounting.settings.read"),
    "Organisation": ("accounting.settings", "accounting.settings.read"),
}

MSG_DUPLICATE_CONTACT = (
    "The contact name {name} is already assigned to another contact. "
    "The contact name must be unique across all active contacts."
)
MSG_NO_CONTACT = "A Contact must be specified for this type of transaction"
MSG_NOT_AUTHORISED = "Payments can only be made against Authorised documents"
MSG_OVERPAYMENT = "Payment amount exceeds the amount outstanding on this document"
MSG_NO_LINES = "One or more line items must be specified"
MSG_BAD_TAX_TYPE = (
    "The TaxType code '{code}' does not exist or cannot be used for this type of transaction."
)
MSG_BAD_ACCOUNT = "Account code '{code}' is not a valid code for this document."
MSG_STATUS_MODIFY = "Invoice not of valid status for modification"
MSG_PAID_EDIT = "This document cannot be edited as it has a payment or credit note allocated to it."

Record = dict[str, Any]
Event = tuple[str, str, str]  # (eventCategory, eventType, resourceId)


# ============================================================================================
# Errors: raised anywhere, rendered in one place (``_handle_xero_error``)
# ============================================================================================


class XeroHttpError(Exception):
    """An answer other than 200, with Xero's body for it."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


class ValidationFailed(Exception):
    """One element failed Xero's validation; ``messages`` become its ``ValidationErrors``."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


def problem(status: int, title: str, detail: str) -> XeroHttpError:
    """Xero's identity/gateway error body (RFC 7807-like), used for 401/403/404/429/5xx."""
    body = {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }
    return XeroHttpError(status, body)


def api_exception(number: int, type_name: str, message: str, **extra: Any) -> XeroHttpError:
    """Xero's API exception envelope (``ErrorNumber``/``Type``/``Message``) as a 400."""
    return XeroHttpError(
        400, {"ErrorNumber": number, "Type": type_name, "Message": message, **extra}
    )


def validation_exception(elements: list[Record]) -> XeroHttpError:
    """The 400 ``ValidationException`` envelope (ErrorNumber 10) over failed elements."""
    return api_exception(
        10, "ValidationException", "A validation exception occurred", Elements=elements
    )


# ============================================================================================
# Values: parsing input, rendering Xero's wire format
# ============================================================================================


def ms_since_epoch(moment: datetime) -> int:
    """Milliseconds since 1970-01-01 UTC."""
    return int(moment.astimezone(UTC).timestamp() * 1000)


def xero_date(value: date | datetime) -> str:
    """Render a record date the way Xero does: ``/Date(1573755038314+0000)/``."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return f"/Date({ms_since_epoch(value)}+0000)/"


def to_wire(value: Any) -> Any:
    """Deep-copy ``value`` into JSON types: dates as ``/Date(ms+0000)/``, Decimals as numbers."""
    if isinstance(value, Mapping):
        return {key: to_wire(item) for key, item in value.items() if not key.startswith("_")}
    if isinstance(value, list | tuple):
        return [to_wire(item) for item in value]
    if isinstance(value, date):
        return xero_date(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def parse_date(value: Any) -> date | None:
    """Accept ``YYYY-MM-DD``, ISO datetimes and ``/Date(ms)/``; None when absent or unreadable."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value:
        return None
    match = _MS_DATE.match(value)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC).date()
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def parse_timestamp(value: Any) -> datetime | None:
    """Like ``parse_date`` but keeps the time (naive input is UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    match = _MS_DATE.match(value)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_if_modified_since(header: str | None) -> datetime | None:
    """Read ``If-Modified-Since`` as an HTTP date or an ISO timestamp (what Xero SDKs send)."""
    if not header:
        return None
    stamp = parse_timestamp(header.strip())
    if stamp is not None:
        return stamp
    try:
        return parsedate_to_datetime(header).astimezone(UTC)
    except (TypeError, ValueError):
        raise api_exception(
            17, "InvalidParameterException", "If-Modified-Since is not a valid date"
        ) from None


def to_decimal(value: Any, default: str = "0") -> Decimal:
    """Decimal from a JSON number or numeric string.

    Raises:
        ValidationFailed: when ``value`` is not numeric.
    """
    if value is None or value == "":
        return Decimal(default)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(f"'{value}' is not a valid number") from None


def money(value: Decimal) -> Decimal:
    """Round to cents, half up (Xero rounds tax per line to 2 decimals)."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# ============================================================================================
# ``where`` filters: a subset of Xero's C#-like (Dynamic LINQ) expressions
# ============================================================================================

Expr = Callable[[Mapping[str, Any]], Any]

_WHERE_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+(?:\.\d+)?)'
    r"|(?P<op>==|!=|>=|<=|&&|\|\||[<>!(),.])|(?P<name>[A-Za-z_][A-Za-z0-9_]*))"
)
_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a is not None and b is not None and a > b,
    "<": lambda a, b: a is not None and b is not None and a < b,
    ">=": lambda a, b: a is not None and b is not None and a >= b,
    "<=": lambda a, b: a is not None and b is not None and a <= b,
}
_STRING_METHODS: dict[str, Callable[[str, list[Any]], Any]] = {
    "contains": lambda s, args: _fold(args[0]) in s,
    "startswith": lambda s, args: s.startswith(_fold(args[0])),
    "endswith": lambda s, args: s.endswith(_fold(args[0])),
    "equals": lambda s, args: s == _fold(args[0]),
    "tolower": lambda s, args: s,
    "toupper": lambda s, args: s,
}


def _fold(value: Any) -> Any:
    """Normalise a value for comparison: strings case-folded (Xero's SQL collation is
    case-insensitive), dates as aware datetimes, numbers as Decimal."""
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    return value


def _field(record: Mapping[str, Any], name: str) -> Any:
    """Case-insensitive field lookup (Xero accepts ``name`` for ``Name`` in filters)."""
    if name in record:
        return record[name]
    lowered = name.lower()
    for key, value in record.items():
        if key.lower() == lowered:
            return value
    return None


class WhereParser:
    """Recursive-descent parser turning a ``where`` string into a predicate over records.

    Grammar: ``or := and (("OR"|"||") and)*``, ``and := not (("AND"|"&&") not)*``,
    ``not := ("NOT"|"!") not | cmp``, ``cmp := operand (op operand)?``, ``operand`` is a
    literal (string, number, true/false/null, ``guid("…")``, ``DateTime(y,m,d[,h,m,s])``),
    a parenthesised expression, or a dotted field path with method calls
    (``Contains``, ``StartsWith``, ``EndsWith``, ``Equals``, ``ToLower``, ``ToUpper``).
    """

    def __init__(self, text: str, type_name: str, known_fields: Iterable[str]) -> None:
        self.type_name = type_name
        self.known = {name.lower() for name in known_fields}
        self.tokens = self._tokenize(text)
        self.pos = 0

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            match = _WHERE_TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise _parse_error(f"Syntax error at position {pos} in '{text}'")
            kind = match.lastgroup or ""
            tokens.append((kind, match.group(kind)))
            pos = match.end()
        return tokens

    def parse(self) -> Callable[[Mapping[str, Any]], bool]:
        """Parse the whole string; the result is True for records the filter keeps."""
        expr = self._or()
        if self.pos != len(self.tokens):
            raise _parse_error(f"Unexpected '{self.tokens[self.pos][1]}'")
        return lambda record: bool(expr(record))

    # --- token helpers ----------------------------------------------------------------------

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _accept(self, *values: str) -> bool:
        token = self._peek()
        if token and (token[1] in values or (token[0] == "name" and token[1].upper() in values)):
            self.pos += 1
            return True
        return False

    def _expect(self, value: str) -> None:
        if not self._accept(value):
            raise _parse_error(f"'{value}' expected")

    # --- grammar ----------------------------------------------------------------------------

    def _or(self) -> Expr:
        left = self._and()
        while self._accept("OR", "||"):
            right, prev = self._and(), left
            left = lambda r, a=prev, b=right: bool(a(r)) or bool(b(r))  # noqa: E731
        return left

    def _and(self) -> Expr:
        left = self._not()
        while self._accept("AND", "&&"):
            right, prev = self._not(), left
            left = lambda r, a=prev, b=right: bool(a(r)) and bool(b(r))  # noqa: E731
        return left

    def _not(self) -> Expr:
        if self._accept("NOT", "!"):
            inner = self._not()
            return lambda r: not inner(r)
        return self._comparison()

    def _comparison(self) -> Expr:
        left = self._operand()
        token = self._peek()
        if token and token[0] == "op" and token[1] in _COMPARATORS:
            self.pos += 1
            compare, right = _COMPARATORS[token[1]], self._operand()
            return lambda r: compare(_fold(left(r)), _fold(right(r)))
        return left

    def _operand(self) -> Expr:
        token = self._peek()
        if token is None:
            raise _parse_error("Expression expected")
        self.pos += 1
        kind, text = token
        if kind == "op" and text == "(":
            inner = self._or()
            self._expect(")")
            return inner
        if kind == "str":
            value: Any = json.loads(text)
            return lambda r: value
        if kind == "num":
            number = Decimal(text)
            return lambda r: number
        if kind == "name":
            return self._name_operand(text)
        raise _parse_error(f"Unexpected '{text}'")

    def _name_operand(self, name: str) -> Expr:
        keyword = name.lower()
        constants = {"true": True, "false": False, "null": None}
        if keyword in constants:
            constant = constants[keyword]
            return lambda r: constant
        if keyword in ("guid", "datetime") and self._accept("("):
            args = self._literal_args()
            value = _guid_literal(args) if keyword == "guid" else _datetime_literal(args)
            return lambda r: value
        return self._path(name)

    def _literal_args(self) -> list[Any]:
        args: list[Any] = []
        while not self._accept(")"):
            if args:
                self._expect(",")
            args.append(self._operand()({}))
        return args

    def _path(self, first: str) -> Expr:
        if first.lower() not in self.known:
            raise _parse_error(f"No property or field '{first}' exists in type '{self.type_name}'")
        path = [first]
        expr: Expr = lambda r: _resolve_path(r, path)  # noqa: E731
        called = False  # once a method was called, only further calls may follow
        while self._accept("."):
            token = self._peek()
            if token is None or token[0] != "name":
                raise _parse_error("Identifier expected")
            self.pos += 1
            if self._accept("("):
                expr, called = self._method_call(expr, token[1]), True
            elif not called:
                path.append(token[1])
            else:
                raise _parse_error(f"Unexpected '{token[1]}'")
        return expr

    def _method_call(self, target: Expr, method_name: str) -> Expr:
        method = _STRING_METHODS.get(method_name.lower())
        if method is None:
            raise _parse_error(f"No applicable method '{method_name}' exists in type 'String'")
        args = self._call_args()

        def call(record: Mapping[str, Any]) -> Any:
            value = target(record)
            if value is None:
                return None if method_name.lower() in ("tolower", "toupper") else False
            return method(_fold(str(value)), [a(record) for a in args])

        return call

    def _call_args(self) -> list[Expr]:
        args: list[Expr] = []
        while not self._accept(")"):
            if args:
                self._expect(",")
            args.append(self._or())
        return args


def _resolve_path(record: Mapping[str, Any], path: list[str]) -> Any:
    value: Any = record
    for name in path:
        if not isinstance(value, Mapping):
            return None
        value = _field(value, name)
    return value


def _guid_literal(args: list[Any]) -> str:
    if len(args) != 1 or not isinstance(args[0], str):
        raise _parse_error("guid() takes one string")
    return args[0].lower()


def _datetime_literal(args: list[Any]) -> datetime:
    try:
        return datetime(*(int(a) for a in args), tzinfo=UTC)
    except (TypeError, ValueError):
        raise _parse_error("DateTime() takes year, month, day[, hour, minute, second]") from None


def _parse_error(message: str) -> XeroHttpError:
    return api_exception(16, "QueryParseException", message)


def compile_where(
    text: str, type_name: str, known_fields: Iterable[str]
) -> Callable[[Mapping[str, Any]], bool]:
    """Compile a ``where`` query parameter.

    Raises:
        XeroHttpError: 400 ``QueryParseException`` on bad syntax or an unknown field.
    """
    return WhereParser(text, type_name, known_fields).parse()


def order_records(records: list[Record], order: str | None) -> list[Record]:
    """Sort by Xero's ``order`` parameter (``"Name ASC, UpdatedDateUTC DESC"``); stable."""
    if not order:
        return records
    for clause in reversed([c.strip() for c in order.split(",") if c.strip()]):
        parts = clause.split()
        descending = len(parts) > 1 and parts[1].upper() == "DESC"
        path = parts[0].split(".")
        present = [r for r in records if _resolve_path(r, path) is not None]
        missing = [r for r in records if _resolve_path(r, path) is None]
        present.sort(key=lambda r, p=path: _fold(_resolve_path(r, p)), reverse=descending)
        records = present + missing
    return records


# ============================================================================================
# State
# ============================================================================================


@dataclass
class Tenant:
    """One Xero organisation and its records (keyed by their IDs, insertion-ordered)."""

    tenant_id: str
    name: str
    created: datetime
    contacts: dict[str, Record] = field(default_factory=dict)
    invoices: dict[str, Record] = field(default_factory=dict)
    quotes: dict[str, Record] = field(default_factory=dict)
    payments: dict[str, Record] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=lambda: {"INV": 0, "QU": 0})

    def collections(self) -> dict[str, dict[str, Record]]:
        """The record collections by API resource name."""
        return {
            "Contacts": self.contacts,
            "Invoices": self.invoices,
            "Quotes": self.quotes,
            "Payments": self.payments,
        }

    def save_point(self) -> tuple[dict[str, dict[str, Record]], dict[str, int]]:
        """A deep copy of the records, for ``rollback`` (batch writes are all-or-nothing)."""
        return copy.deepcopy(self.collections()), dict(self.counters)

    def rollback(self, save_point: tuple[dict[str, dict[str, Record]], dict[str, int]]) -> None:
        """Restore a ``save_point``."""
        saved, counters = save_point
        for name, collection in self.collections().items():
            collection.clear()
            collection.update(saved[name])
        self.counters = counters


@dataclass
class Grant:
    """One user consent (Xero's authentication event): a client, scopes and tenants."""

    grant_id: str
    client_id: str
    scopes: list[str]
    tenant_ids: list[str]
    user_id: str
    created: datetime
    revoked: bool = False


@dataclass
class IssuedToken:
    """An access or refresh token. Refresh tokens remember their rotation: when they were
    used (``rotated_at``) and the token answer that use produced (``successor``)."""

    token: str
    grant_id: str
    expires_at: datetime
    rotated_at: datetime | None = None
    successor: dict[str, Any] | None = None


@dataclass
class AuthorizationCode:
    """A one-time code handed out by ``/identity/connect/authorize``."""

    code: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    expires_at: datetime
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    used: bool = False


class XeroSandboxState(BaseSandboxState):
    """All of the Xero sandbox's memory: tenants with records, OAuth artefacts, sequences."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(DEFAULTS, config)
        self.signing_secret = secrets.token_bytes(32)
        self.clear_records()
        self.seed_initial_fixture()

    def clear_records(self) -> None:
        """Forget tenants, tokens and codes; recreate the default tenant."""
        self.tenants: dict[str, Tenant] = {}
        self.grants: dict[str, Grant] = {}
        self.access_tokens: dict[str, IssuedToken] = {}
        self.refresh_tokens: dict[str, IssuedToken] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.event_sequence = 0
        self.day_counts: dict[tuple[str, date], int] = {}
        self.replies = ReplayStore()  # answers by (tenant, Idempotency-Key)
        self.add_tenant(DEFAULT_TENANT_ID, "Demo Company (Sandbox)")

    def add_tenant(self, tenant_id: str, name: str) -> Tenant:
        """Create (or rename) a tenant; existing records are kept."""
        tenant = self.tenants.get(tenant_id)
        if tenant is None:
            tenant = self.tenants[tenant_id] = Tenant(tenant_id, name, self.now())
        tenant.name = name
        return tenant

    def load_fixture(self, fixture: Any) -> Mapping[str, Any]:
        """Also accept a fixture name from ``fixtures/`` (``"demo"``, ``"small"``)."""
        if isinstance(fixture, str) and (FIXTURE_DIR / f"{fixture}.json").exists():
            fixture = str(FIXTURE_DIR / f"{fixture}.json")
        return super().load_fixture(fixture)

    def seed(self, fixture: Mapping[str, Any]) -> dict[str, int]:
        """Load ``{"tenants": [{"tenantId", "tenantName", "Contacts": [...], "Invoices": [...],
        "Quotes": [...], "Payments": [...]}]}``. Records may carry their IDs and
        ``UpdatedDateUTC``; totals are recomputed. No webhooks fire.

        Raises:
            SandboxError: when a record fails validation (the message names it).
        """
        loaded = {"tenants": 0, "Contacts": 0, "Invoices": 0, "Quotes": 0, "Payments": 0}
        for spec in fixture.get("tenants", []):
            tenant_id = spec.get("tenantId", DEFAULT_TENANT_ID)
            tenant = self.add_tenant(tenant_id, spec.get("tenantName", "Demo Company"))
            loaded["tenants"] += 1
            for resource in ("Contacts", "Invoices", "Quotes", "Payments"):
                for item in spec.get(resource, []):
                    self._seed_one(tenant, resource, item)
                    loaded[resource] += 1
        return loaded

    def _seed_one(self, tenant: Tenant, resource: str, item: Record) -> None:
        context = WriteContext(self, tenant, seeding=True)
        try:
            RESOURCES[resource].write(context, copy.deepcopy(item))
        except ValidationFailed as exc:
            raise SandboxError(f"{resource} fixture record {item}: {exc}") from None

    def records_snapshot(self) -> dict[str, Any]:
        """Every tenant's records as the API renders them."""
        return {
            tenant_id: {
                "tenantName": tenant.name,
                **{
                    name: [RESOURCES[name].render(tenant, r) for r in collection.values()]
                    for name, collection in tenant.collections().items()
                },
            }
            for tenant_id, tenant in self.tenants.items()
        }

    def tax_rates(self) -> dict[str, tuple[str, Decimal]]:
        """The tax table, with ``config["tax_rates"]`` overrides applied."""
        rates = dict(TAX_RATES)
        for tax_type, spec in (self.config.get("tax_rates") or {}).items():
            rates[tax_type] = (spec.get("Name", tax_type), to_decimal(spec.get("Rate")))
        return rates

    def next_sequence(self) -> int:
        """Webhook event sequence number (monotonic per sandbox)."""
        self.event_sequence += 1
        return self.event_sequence


# ============================================================================================
# Writes: one function per resource, each validating fully before mutating anything
# ============================================================================================


@dataclass
class WriteContext:
    """What a write needs: the state (time, config), the tenant, and whether we are seeding
    (seeding keeps given IDs and UpdatedDateUTC and emits no events)."""

    state: XeroSandboxState
    tenant: Tenant
    seeding: bool = False
    events: list[Event] = field(default_factory=list)

    def new_id(self, given: Any) -> str:
        """A fresh UUID, or the given one while seeding."""
        return str(given).lower() if self.seeding and given else str(uuid.uuid4())

    def stamp(self, record: Record, given: Any = None) -> None:
        """Set ``UpdatedDateUTC`` to now (or to the fixture's value while seeding)."""
        seeded = parse_timestamp(given) if self.seeding else None
        record["UpdatedDateUTC"] = seeded or self.state.now()

    def event(self, category: str, event_type: str, resource_id: str) -> None:
        """Queue a webhook event, sent once the whole request has committed."""
        if not self.seeding:
            self.events.append((category, event_type, resource_id))


CONTACT_FIELDS = (
    "ContactNumber",
    "AccountNumber",
    "ContactStatus",
    "Name",
    "FirstName",
    "LastName",
    "EmailAddress",
    "SkypeUserName",
    "BankAccountDetails",
    "TaxNumber",
    "CompanyNumber",
    "AccountsReceivableTaxType",
    "AccountsPayableTaxType",
    "Addresses",
    "Phones",
    "DefaultCurrency",
    "ContactPersons",
    "Website",
    "ContactGroups",
)


def find_by_id(collection: Mapping[str, Record], record_id: Any) -> Record | None:
    """Look a record up by (case-insensitive) UUID."""
    return collection.get(str(record_id).lower()) if record_id else None


def write_contact(context: WriteContext, data: Record) -> Record:
    """Create a contact, or update the one named by ``ContactID``."""
    tenant = context.tenant
    existing = find_by_id(tenant.contacts, data.get("ContactID"))
    if data.get("ContactID") and existing is None and not context.seeding:
        raise ValidationFailed(f"The contact with ContactID {data['ContactID']} was not found")
    changes = {key: data[key] for key in CONTACT_FIELDS if key in data}
    record = {**existing, **changes} if existing else new_contact(context, data, changes)
    validate_contact(tenant, record)
    context.stamp(record, data.get("UpdatedDateUTC"))
    tenant.contacts[record["ContactID"]] = record
    context.event("CONTACT", "UPDATE" if existing else "CREATE", record["ContactID"])
    return record


def new_contact(context: WriteContext, data: Record, changes: Record) -> Record:
    """A contact record with Xero's defaults for fields the caller left out."""
    return {
        "ContactID": context.new_id(data.get("ContactID")),
        "ContactStatus": "ACTIVE",
        "Name": None,
        "EmailAddress": "",
        "Addresses": [],
        "Phones": [],
        "ContactGroups": [],
        "ContactPersons": [],
        "HasAttachments": False,
        **changes,
    }


def validate_contact(tenant: Tenant, record: Record) -> None:
    """Name present and unique (case-insensitively) among other ACTIVE contacts."""
    name = (record.get("Name") or "").strip()
    if not name:
        raise ValidationFailed("The contact name must be specified.")
    if record.get("ContactStatus", "ACTIVE") not in ("ACTIVE", "ARCHIVED", "GDPRREQUEST"):
        raise ValidationFailed(f"'{record['ContactStatus']}' is not a valid ContactStatus")
    if record.get("ContactStatus", "ACTIVE") != "ACTIVE":
        return
    for other in tenant.contacts.values():
        same_name = (other.get("Name") or "").strip().casefold() == name.casefold()
        if (
            same_name
            and other["ContactID"] != record["ContactID"]
            and (other.get("ContactStatus") == "ACTIVE")
        ):
            raise ValidationFailed(MSG_DUPLICATE_CONTACT.format(name=name))


def resolve_contact(context: WriteContext, ref: Any) -> tuple[Record | None, str | None]:
    """The contact an invoice names: by ``ContactID`` or, like Xero, by ``Name`` — an unknown
    name means "create it", returned as the second item.

    Raises:
        ValidationFailed: no contact given, or an unknown ContactID.
    """
    if not isinstance(ref, Mapping) or not (ref.get("ContactID") or ref.get("Name")):
        raise ValidationFailed(MSG_NO_CONTACT)
    if ref.get("ContactID"):
        contact = find_by_id(context.tenant.contacts, ref["ContactID"])
        if contact is None:
            raise ValidationFailed(f"The contact with ContactID {ref['ContactID']} was not found")
        return contact, None
    wanted = str(ref["Name"]).strip().casefold()
    for contact in context.tenant.contacts.values():
        if (contact.get("Name") or "").strip().casefold() == wanted:
            return contact, None
    return None, str(ref["Name"]).strip()


def contact_summary(contact: Record) -> Record:
    """The contact as embedded in invoices, quotes and payments."""
    keys = ("ContactID", "ContactNumber", "Name", "FirstName", "LastName", "EmailAddress")
    return {key: contact[key] for key in keys if contact.get(key) is not None}


def compute_lines(
    context: WriteContext, lines: Any, amount_types: str, default_tax: str
) -> tuple[list[Record], dict[str, Decimal]]:
    """Compute ``LineAmount``/``TaxAmount`` per line and the document totals.

    Exclusive: tax on top of the line amount. Inclusive: tax is inside it. NoTax: none.
    Tax is rounded per line; ``SubTotal`` is net of tax in every mode.

    Raises:
        ValidationFailed: unknown TaxType/AccountCode, non-numeric amounts.
    """
    rates = context.state.tax_rates()
    computed, errors = [], []
    for raw in lines or []:
        line = dict(raw)
        account = line.get("AccountCode")
        if account and str(account) not in ACCOUNTS:
            errors.append(MSG_BAD_ACCOUNT.format(code=account))
        tax_type = (
            "NONE"
            if amount_types == "NoTax"
            else line.get("TaxType")
            or (ACCOUNTS[str(account)][2] if account and str(account) in ACCOUNTS else default_tax)
        )
        if tax_type not in rates:
            errors.append(MSG_BAD_TAX_TYPE.format(code=tax_type))
            continue
        computed.append(compute_line(context, line, amount_types, tax_type, rates[tax_type][1]))
    if errors:
        raise ValidationFailed(*errors)
    total_tax = sum((line["TaxAmount"] for line in computed), Decimal("0"))
    gross = sum((line["LineAmount"] for line in computed), Decimal("0"))
    sub_total = gross - total_tax if amount_types == "Inclusive" else gross
    return computed, {"SubTotal": sub_total, "TotalTax": total_tax, "Total": sub_total + total_tax}


def compute_line(
    context: WriteContext, line: Record, amount_types: str, tax_type: str, rate: Decimal
) -> Record:
    """One line with Quantity, UnitAmount, LineAmount, TaxType and TaxAmount filled in."""
    quantity = to_decimal(line.get("Quantity"), "1")
    discount = to_decimal(line.get("DiscountRate"), "0")
    if line.get("UnitAmount") is None and line.get("LineAmount") is not None:
        line_amount = money(to_decimal(line["LineAmount"]))
        unit = line_amount / quantity if quantity else line_amount
    else:
        unit = to_decimal(line.get("UnitAmount"))
        line_amount = money(quantity * unit * (1 - discount / 100))
    if amount_types == "Inclusive":
        tax = money(line_amount - line_amount / (1 + rate / 100))
    else:
        tax = money(line_amount * rate / 100) if amount_types == "Exclusive" else Decimal("0")
    return {
        **line,
        "LineItemID": str(line.get("LineItemID") or uuid.uuid4()),
        "Quantity": quantity,
        "UnitAmount": unit,
        "TaxType": tax_type,
        "TaxAmount": tax,
        "LineAmount": line_amount,
        "Tracking": line.get("Tracking", []),
        **({"DiscountRate": discount} if line.get("DiscountRate") is not None else {}),
    }


def next_number(tenant: Tenant, prefix: str) -> str:
    """Xero-style sequential document number: INV-0001, QU-0001."""
    tenant.counters[prefix] += 1
    return f"{prefix}-{tenant.counters[prefix]:04d}"


def note_number(tenant: Tenant, prefix: str, number: Any) -> None:
    """Advance the counter past a caller-chosen ``INV-0042`` so later numbers don't collide."""
    match = re.fullmatch(rf"{prefix}-(\d+)", str(number or ""))
    if match:
        tenant.counters[prefix] = max(tenant.counters[prefix], int(match.group(1)))


def check_invoice_transition(existing: Record | None, status: str) -> None:
    """Guard status changes: PAID only via payments; paid/void/deleted invoices are frozen.

    Raises:
        ValidationFailed: with Xero's message for the refused change.
    """
    if existing is None:
        if status not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
            raise ValidationFailed("Invoice not of valid status for creation")
        return
    if existing["Status"] == "PAID" or existing.get("AmountPaid", 0) > 0:
        raise ValidationFailed(MSG_PAID_EDIT)
    if status not in INVOICE_TRANSITIONS[existing["Status"]]:
        raise ValidationFailed(MSG_STATUS_MODIFY)


def write_invoice(context: WriteContext, data: Record) -> Record:
    """Create an invoice, or update the one named by ``InvoiceID``; totals are recomputed."""
    tenant = context.tenant
    existing = find_by_id(tenant.invoices, data.get("InvoiceID"))
    if data.get("InvoiceID") and existing is None and not context.seeding:
        raise ValidationFailed(f"The invoice with InvoiceID {data['InvoiceID']} was not found")
    merged = {**(existing or {}), **data}
    status = str(merged.get("Status") or "DRAFT").upper()
    if not context.seeding:
        check_invoice_transition(existing, status)
    document = build_document(context, merged, status, kind="Invoice")
    if existing is None:
        document["InvoiceID"] = context.new_id(data.get("InvoiceID"))
        prefix_number = merged.get("InvoiceNumber")
        note_number(tenant, "INV", prefix_number)
        if not prefix_number and document["Type"] == "ACCREC":
            prefix_number = next_number(tenant, "INV")
        document["InvoiceNumber"] = prefix_number or ""
    paid = (existing or {}).get("AmountPaid", Decimal("0"))
    document.update(
        AmountPaid=paid,
        AmountCredited=Decimal("0"),
        AmountDue=document["Total"] - paid,
        Payments=(existing or {}).get("Payments", []),
        CurrencyRate=to_decimal(merged.get("CurrencyRate"), "1"),
    )
    record = {**(existing or {}), **document}
    context.stamp(record, data.get("UpdatedDateUTC"))
    tenant.invoices[record["InvoiceID"]] = record
    context.event("INVOICE", "UPDATE" if existing else "CREATE", record["InvoiceID"])
    return record


def build_document(context: WriteContext, merged: Record, status: str, kind: str) -> Record:
    """Validate and compute the fields invoices and quotes share (contact, dates, lines, totals).

    Collects every problem before raising, as Xero lists all of an element's errors.
    """
    errors: list[str] = []
    doc_type = str(merged.get("Type") or "ACCREC").upper() if kind == "Invoice" else None
    if doc_type is not None and doc_type not in INVOICE_TYPES:
        errors.append("Invoice Type must be ACCREC or ACCPAY")
    contact, contact_to_create = _collect(errors, resolve_contact, context, merged.get("Contact"))
    amount_types = merged.get("LineAmountTypes") or "Exclusive"
    if amount_types not in LINE_AMOUNT_TYPES:
        errors.append(f"'{amount_types}' is not a valid LineAmountTypes value")
        amount_types = "Exclusive"
    default_tax = "INPUT2" if doc_type == "ACCPAY" else "OUTPUT2"
    computed = _collect(
        errors, compute_lines, context, merged.get("LineItems"), amount_types, default_tax
    )
    if not merged.get("LineItems") and status in ("SUBMITTED", "AUTHORISED", "SENT"):
        errors.append(MSG_NO_LINES)
    dates = _collect(errors, document_dates, context, merged, kind)
    if errors:
        raise ValidationFailed(*dict.fromkeys(errors))
    if contact is None and contact_to_create:
        contact = write_contact(context, {"Name": contact_to_create})
    lines, totals = computed
    document = {
        "Contact": contact_summary(contact),
        "Status": status,
        "LineAmountTypes": amount_types,
        "LineItems": lines,
        "Reference": merged.get("Reference", ""),
        "CurrencyCode": merged.get("CurrencyCode") or context.state.config["base_currency"],
        "HasAttachments": False,
        **dates,
        **totals,
    }
    if doc_type is not None:
        document["Type"] = doc_type
    return document


def _collect(errors: list[str], check: Callable[..., Any], *args: Any) -> Any:
    """Run ``check``; on ``ValidationFailed`` record its messages and return neutral values."""
    try:
        return check(*args)
    except ValidationFailed as exc:
        errors.extend(exc.messages)
        return (None, None)


def document_dates(context: WriteContext, merged: Record, kind: str) -> Record:
    """``Date`` (default today), ``DueDate`` / ``ExpiryDate`` as dates.

    Raises:
        ValidationFailed: a date that cannot be read.
    """
    second = "DueDate" if kind == "Invoice" else "ExpiryDate"
    result: Record = {"Date": context.state.now().date()}
    for key in ("Date", second):
        raw = merged.get(key)
        if raw in (None, ""):
            continue
        parsed = parse_date(raw)
        if parsed is None:
            raise ValidationFailed(f"'{raw}' is not a valid date for {key}")
        result[key] = parsed
    return result


def write_quote(context: WriteContext, data: Record) -> Record:
    """Create a quote, or update the one named by ``QuoteID``."""
    tenant = context.tenant
    existing = find_by_id(tenant.quotes, data.get("QuoteID"))
    if data.get("QuoteID") and existing is None and not context.seeding:
        raise ValidationFailed(f"The quote with QuoteID {data['QuoteID']} was not found")
    merged = {**(existing or {}), **data}
    status = str(merged.get("Status") or "DRAFT").upper()
    if status not in QUOTE_STATUSES:
        raise ValidationFailed(f"'{status}' is not a valid quote status")
    document = build_document(context, merged, status, kind="Quote")
    for key in ("Title", "Summary", "Terms"):
        document[key] = merged.get(key, "")
    if existing is None:
        document["QuoteID"] = context.new_id(data.get("QuoteID"))
        note_number(tenant, "QU", merged.get("QuoteNumber"))
        document["QuoteNumber"] = merged.get("QuoteNumber") or next_number(tenant, "QU")
    record = {**(existing or {}), **document}
    context.stamp(record, data.get("UpdatedDateUTC"))
    tenant.quotes[record["QuoteID"]] = record
    return record


def find_invoice(tenant: Tenant, ref: Any) -> Record | None:
    """An invoice by ``InvoiceID`` or ``InvoiceNumber`` (Xero accepts either on payments)."""
    if not isinstance(ref, Mapping):
        return None
    if ref.get("InvoiceID"):
        return find_by_id(tenant.invoices, ref["InvoiceID"])
    number = ref.get("InvoiceNumber")
    return next(
        (i for i in tenant.invoices.values() if number and i["InvoiceNumber"] == number), None
    )


def find_account(ref: Any) -> tuple[str, Record] | None:
    """A chart-of-accounts entry by ``Code`` or ``AccountID``."""
    if not isinstance(ref, Mapping):
        return None
    for code, (name, acc_type, _tax) in ACCOUNTS.items():
        if ref.get("Code") == code or str(ref.get("AccountID", "")).lower() == account_id(code):
            return code, {
                "AccountID": account_id(code),
                "Code": code,
                "Name": name,
                "Type": acc_type,
            }
    return None


def account_id(code: str) -> str:
    """Stable UUID for an account code, identical across sandbox runs."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"switchboard-sandbox/xero/account/{code}"))


def write_payment(context: WriteContext, data: Record) -> Record:
    """Apply a payment to one invoice (or delete one with ``Status: DELETED``).

    Raises:
        ValidationFailed: missing invoice/account, invoice not AUTHORISED, amount over due.
    """
    existing = find_by_id(context.tenant.payments, data.get("PaymentID"))
    if existing is not None:
        return delete_payment(context, existing, data)
    invoice = find_invoice(context.tenant, data.get("Invoice"))
    account = find_account(data.get("Account"))
    amount = to_decimal(data.get("Amount"))
    errors = payment_errors(invoice, account, amount, data)
    if errors:
        raise ValidationFailed(*errors)
    assert invoice is not None and account is not None  # payment_errors guarantees both
    record = {
        "PaymentID": context.new_id(data.get("PaymentID")),
        "Date": parse_date(data.get("Date")) or context.state.now().date(),
        "Amount": amount,
        "BankAmount": amount,
        "Reference": data.get("Reference", ""),
        "CurrencyRate": to_decimal(data.get("CurrencyRate"), "1"),
        "PaymentType": "ACCRECPAYMENT" if invoice["Type"] == "ACCREC" else "ACCPAYPAYMENT",
        "Status": "AUTHORISED",
        "IsReconciled": bool(data.get("IsReconciled", False)),
        "HasAccount": True,
        "HasValidationErrors": False,
        "Account": account[1],
        "Invoice": invoice_summary(invoice),
    }
    context.stamp(record, data.get("UpdatedDateUTC"))
    context.tenant.payments[record["PaymentID"]] = record
    settle_invoice(context, invoice, record, amount)
    return record


def payment_errors(
    invoice: Record | None, account: tuple[str, Record] | None, amount: Decimal, data: Record
) -> list[str]:
    """Every reason Xero would refuse this payment, in Xero's words where known."""
    errors = []
    if invoice is None:
        errors.append(
            "Invoice could not be found"
            if data.get("Invoice")
            else "You must specify an Invoice, CreditNote, Prepayment or Overpayment"
        )
    if account is None:
        errors.append(
            "Account could not be found"
            if data.get("Account")
            else "You must specify an Account or an Account Code"
        )
    elif account[1]["Type"] != "BANK":
        errors.append("Account type is invalid for making a payment to/from")
    if amount <= 0:
        errors.append("Payment amount must be greater than zero")
    if invoice is not None and invoice["Status"] != "AUTHORISED":
        errors.append(MSG_NOT_AUTHORISED)
    if invoice is not None and amount > invoice["AmountDue"]:
        errors.append(MSG_OVERPAYMENT)
    return errors


def invoice_summary(invoice: Record) -> Record:
    """The invoice as embedded in a payment."""
    keys = ("InvoiceID", "InvoiceNumber", "Type", "Contact", "CurrencyCode")
    return {key: copy.deepcopy(invoice.get(key)) for key in keys}


def settle_invoice(
    context: WriteContext, invoice: Record, payment: Record, amount: Decimal
) -> None:
    """Book ``amount`` against ``invoice``; a settled invoice becomes PAID."""
    invoice["Payments"] = [
        *invoice["Payments"],
        {key: payment[key] for key in ("PaymentID", "Date", "Amount", "Reference", "CurrencyRate")},
    ]
    rebalance_invoice(context, invoice, invoice["AmountPaid"] + amount, payment["Date"])


def rebalance_invoice(
    context: WriteContext, invoice: Record, amount_paid: Decimal, paid_on: date
) -> None:
    """Set ``AmountPaid``/``AmountDue`` and move between AUTHORISED and PAID accordingly."""
    invoice["AmountPaid"] = amount_paid
    invoice["AmountDue"] = invoice["Total"] - amount_paid - invoice["AmountCredited"]
    if invoice["AmountDue"] <= 0:
        invoice["Status"] = "PAID"
        invoice["FullyPaidOnDate"] = paid_on
    elif invoice["Status"] == "PAID":
        invoice["Status"] = "AUTHORISED"
        invoice.pop("FullyPaidOnDate", None)
    context.stamp(invoice)
    context.event("INVOICE", "UPDATE", invoice["InvoiceID"])


def delete_payment(context: WriteContext, payment: Record, data: Record) -> Record:
    """Xero deletes payments by POSTing ``{"Status": "DELETED"}``; the invoice is re-opened."""
    if str(data.get("Status", "")).upper() != "DELETED" or payment["Status"] == "DELETED":
        raise ValidationFailed("Payment not of valid status for modification")
    payment["Status"] = "DELETED"
    context.stamp(payment)
    invoice = find_by_id(context.tenant.invoices, payment["Invoice"]["InvoiceID"])
    if invoice is not None:
        invoice["Payments"] = [
            p for p in invoice["Payments"] if p["PaymentID"] != payment["PaymentID"]
        ]
        rebalance_invoice(
            context, invoice, invoice["AmountPaid"] - payment["Amount"], payment["Date"]
        )
    return payment


# ============================================================================================
# Resources: declared once, served by generic handlers
# ============================================================================================


@dataclass(frozen=True)
class Resource:
    """How one API collection is named, stored, written, rendered and filtered."""

    name: str
    id_field: str
    type_name: str
    write: Callable[[WriteContext, Record], Record]
    known_fields: tuple[str, ...]
    number_field: str | None = None

    def render(self, tenant: Tenant, record: Record, with_lines: bool = True) -> Record:
        """The record as Xero's JSON (derived fields added, line items optional)."""
        wire = to_wire(record)
        if self.name == "Contacts":
            wire.update(contact_flags(tenant, record["ContactID"]))
        elif self.name in ("Invoices", "Quotes"):
            # Embedded contacts show the contact as it is now (a rename shows everywhere).
            current = tenant.contacts.get(record["Contact"]["ContactID"])
            wire["Contact"] = to_wire(contact_summary(current or record["Contact"]))
        for key in ("Date", "DueDate", "ExpiryDate"):
            if isinstance(record.get(key), date):
                wire[f"{key}String"] = record[key].strftime("%Y-%m-%dT00:00:00")
        if not with_lines:
            wire.pop("LineItems", None)
        return wire


def contact_flags(tenant: Tenant, contact_id: str) -> Record:
    """``IsCustomer``/``IsSupplier`` are derived in Xero from the contact's invoices."""
    types = {i["Type"] for i in tenant.invoices.values() if i["Contact"]["ContactID"] == contact_id}
    return {"IsCustomer": "ACCREC" in types, "IsSupplier": "ACCPAY" in types}


_DOCUMENT_FIELDS = (
    "Contact",
    "Date",
    "DueDate",
    "ExpiryDate",
    "Status",
    "LineAmountTypes",
    "LineItems",
    "SubTotal",
    "TotalTax",
    "Total",
    "CurrencyCode",
    "Reference",
    "UpdatedDateUTC",
)
RESOURCES: dict[str, Resource] = {
    "Contacts": Resource(
        "Contacts",
        "ContactID",
        "Contact",
        write_contact,
        ("ContactID", *CONTACT_FIELDS, "UpdatedDateUTC", "IsCustomer", "IsSupplier"),
    ),
    "Invoices": Resource(
        "Invoices",
        "InvoiceID",
        "Invoice",
        write_invoice,
        (
            "InvoiceID",
            "InvoiceNumber",
            "Type",
            "AmountDue",
            "AmountPaid",
            "AmountCredited",
            "FullyPaidOnDate",
            *_DOCUMENT_FIELDS,
        ),
        number_field="InvoiceNumber",
    ),
    "Quotes": Resource(
        "Quotes",
        "QuoteID",
        "Quote",
        write_quote,
        ("QuoteID", "QuoteNumber", "Title", "Summary", "Terms", *_DOCUMENT_FIELDS),
        number_field="QuoteNumber",
    ),
    "Payments": Resource(
        "Payments",
        "PaymentID",
        "Payment",
        write_payment,
        (
            "PaymentID",
            "Date",
            "Amount",
            "Reference",
            "PaymentType",
            "Status",
            "Invoice",
            "Account",
            "UpdatedDateUTC",
            "IsReconciled",
            "CurrencyRate",
        ),
    ),
}


# ============================================================================================
# Request plumbing: auth, tenant, scope, rate limit, envelopes
# ============================================================================================


def sandbox_state() -> XeroSandboxState:
    """The state of the app serving the current request."""
    return flask.current_app.extensions["sandbox_state"]


def envelope(key: str, items: list[Record]) -> Record:
    """Xero's success envelope around ``items``."""
    return {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": sandbox_state().config["provider_name"],
        "DateTimeUTC": f"/Date({ms_since_epoch(sandbox_state().now())})/",
        key: items,
    }


def authenticate(state: XeroSandboxState) -> Grant:
    """The grant behind the request's bearer token.

    Raises:
        XeroHttpError: 401 when the token is missing, unknown, revoked or expired.
    """
    header = flask.request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    token = state.access_tokens.get(value.strip()) if scheme.lower() == "bearer" else None
    grant = state.grants.get(token.grant_id) if token else None
    if token is None or grant is None or grant.revoked:
        raise problem(401, "Unauthorized", "AuthenticationUnsuccessful")
    if token.expires_at <= state.now():
        expired = token.expires_at.strftime("%m/%d/%Y %H:%M:%S")
        raise problem(401, "Unauthorized", f"TokenExpired: token expired at {expired}")
    return grant


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
    if not raw or raw not in grant.tenant_ids or raw not in state.tenants:
        raise problem(403, "Forbidden", "AuthenticationUnsuccessful")
    return state.tenants[raw]


def require_scope(grant: Grant, resource: str, writing: bool) -> None:
    """Refuse with 403 when the grant's scopes do not cover the call."""
    write_scope, read_scope = SCOPES[resource]
    allowed = {write_scope} if writing else {write_scope, read_scope}
    if not allowed & set(grant.scopes):
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


def request_items(resource: Resource) -> list[Record]:
    """The elements of a PUT/POST body: ``{"Contacts": [...]}`` or one bare object.

    Raises:
        XeroHttpError: 400 ``PostDataInvalidException`` when the body is not JSON.
    """
    try:
        body = json.loads(flask.request.get_data(as_text=True) or "{}")
    except json.JSONDecodeError as exc:
        raise api_exception(14, "PostDataInvalidException", f"Invalid JSON: {exc}") from None
    if isinstance(body, Mapping) and isinstance(body.get(resource.name), list):
        return [dict(item) for item in body[resource.name]]
    if isinstance(body, Mapping) and body:
        return [dict(body)]
    raise api_exception(14, "PostDataInvalidException", "The request body is empty")


# ============================================================================================
# Handlers
# ============================================================================================


def list_records(resource: Resource) -> flask.Response:
    """GET a collection: IDs, where, If-Modified-Since, order, paging (100 a page)."""
    state, tenant = open_tenant(resource.name, writing=False)
    args = flask.request.args
    with state.lock:
        records = list(tenant.collections()[resource.name].values())
        records = filter_records(resource, records, args)
        records = order_records(records, args.get("order"))
        page = args.get("page", type=int)
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
    if args.get("where"):
        keep = compile_where(args["where"], resource.type_name, resource.known_fields)
        records = [r for r in records if keep(r)]
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
    items = request_items(resource)
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
        raise problem(
            400, "Bad Request", f"Idempotency-Key must be at most {MAX_IDEMPOTENCY_KEY} characters"
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
    """GET Accounts / TaxRates / Organisation (static settings, enough for connectors)."""
    state, tenant = open_tenant(name, writing=False)
    if name == "Accounts":
        items = [
            {
                **find_account({"Code": code})[1],
                "Status": "ACTIVE",  # type: ignore[index]
                "TaxType": tax,
                "EnablePaymentsToAccount": kind == "BANK",
            }
            for code, (_n, kind, tax) in ACCOUNTS.items()
        ]
    elif name == "TaxRates":
        items = [
            {
                "Name": label,
                "TaxType": code,
                "Status": "ACTIVE",
                "EffectiveRate": float(rate),
                "DisplayTaxRate": float(rate),
            }
            for code, (label, rate) in state.tax_rates().items()
        ]
    else:
        items = [
            {
                "OrganisationID": tenant.tenant_id,
                "Name": tenant.name,
                "BaseCurrency": state.config["base_currency"],
                "OrganisationType": "COMPANY",
                "CreatedDateUTC": xero_date(tenant.created),
            }
        ]
    return json_response(envelope(name, items))


# ============================================================================================
# Webhooks
# ============================================================================================


def sign_payload(key: str, raw_body: bytes) -> str:
    """``x-xero-signature``: base64 of HMAC-SHA256 over the raw body with the webhook key."""
    digest = hmac.new(key.encode("utf-8"), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def webhook_event(state: XeroSandboxState, tenant: Tenant, event: Event) -> Record:
    """One element of ``events[]``; ``resourceUrl`` points at this sandbox so it can be fetched."""
    category, event_type, resource_id = event
    collection = "Contacts" if category == "CONTACT" else "Invoices"
    return {
        "resourceUrl": f"{flask.request.host_url.rstrip('/')}{API_PREFIX}/{collection}/"
        f"{resource_id}",
        "resourceId": resource_id,
        "eventDateUtc": state.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
        "eventType": event_type,
        "eventCategory": category,
        "tenantId": tenant.tenant_id,
        "tenantType": "ORGANISATION",
    }


def emit_events(state: XeroSandboxState, tenant: Tenant, events: list[Event]) -> None:
    """Send one signed payload with this request's CONTACT/INVOICE events (if configured)."""
    url, key = state.config.get("webhook_url"), state.config.get("webhook_key")
    if not events or not url or not key:
        return
    unique = list(dict.fromkeys(events))
    items = [webhook_event(state, tenant, e) for e in unique]
    first = state.event_sequence + 1
    for _ in items:
        state.next_sequence()
    body = {
        "events": items,
        "firstEventSequence": first,
        "lastEventSequence": state.event_sequence,
        "entropy": secrets.token_hex(10).upper(),
    }
    send_webhook(state, url, key, body, kind="events", sync=False)


def send_webhook(
    state: XeroSandboxState,
    url: str,
    key: str,
    body: Record,
    kind: str,
    sync: bool,
    signature: str | None = None,
) -> Any:
    """POST ``body`` signed with ``key`` (or with a given, possibly wrong, ``signature``)."""
    raw = json.dumps(body, separators=(",", ":")).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "x-xero-signature": signature or sign_payload(key, raw),
        "User-Agent": "Xero-Webhooks (Switchboard sandbox)",
    }
    delivery = new_delivery(url, body, headers, kind)
    if sync:
        return state.webhooks.send_now(delivery, raw)
    state.webhooks.enqueue(delivery, raw)
    return delivery


def intent_to_receive() -> flask.Response:
    """Xero's "intent to receive" check: one correctly and one wrongly signed empty payload;
    the receiver passes when it answers 200 then 401."""
    state = sandbox_state()
    url, key = state.config.get("webhook_url"), state.config.get("webhook_key")
    if not url or not key:
        raise SandboxError("configure webhook_url and webhook_key first")
    body = {
        "events": [],
        "firstEventSequence": 0,
        "lastEventSequence": 0,
        "entropy": secrets.token_hex(10).upper(),
    }
    good = send_webhook(state, url, key, body, "intent-to-receive:valid", sync=True)
    bad_signature = sign_payload(key + "-wrong", b"not the body")
    bad = send_webhook(
        state, url, key, body, "intent-to-receive:invalid", sync=True, signature=bad_signature
    )
    return flask.jsonify(
        {
            "url": url,
            "correctly_signed_status": good.status,
            "incorrectly_signed_status": bad.status,
            "passed": good.status == 200 and bad.status == 401,
            "errors": [d.error for d in (good, bad) if d.error],
        }
    )


# ============================================================================================
# OAuth2 identity endpoints
# ============================================================================================


def oauth_error(error: str, description: str | None = None, status: int = 400) -> XeroHttpError:
    """RFC 6749 error body, as Xero's identity server answers."""
    body = {"error": error, **({"error_description": description} if description else {})}
    return XeroHttpError(status, body)


def authorize() -> flask.Response:
    """Auto-approve the consent and redirect back with ``code``, ``scope`` and ``state``."""
    state = sandbox_state()
    args = flask.request.args
    redirect_uri = args.get("redirect_uri", "")
    if args.get("client_id") != state.config["client_id"]:
        raise oauth_error("unauthorized_client", "Unknown client_id")
    allowed = state.config["redirect_uris"]
    if not redirect_uri or (allowed and redirect_uri not in allowed):
        raise oauth_error("invalid_request", "Invalid redirect_uri")
    if args.get("response_type") != "code":
        raise oauth_error("unsupported_response_type")
    code = AuthorizationCode(
        code=secrets.token_urlsafe(32),
        client_id=args["client_id"],
        redirect_uri=redirect_uri,
        scopes=args.get("scope", "").split(),
        expires_at=state.now() + timedelta(seconds=int(state.config["authorization_code_seconds"])),
        code_challenge=args.get("code_challenge"),
        code_challenge_method=args.get("code_challenge_method"),
    )
    with state.lock:
        state.codes[code.code] = code
    query = {"code": code.code, "scope": " ".join(code.scopes), "session_state": uuid.uuid4().hex}
    if "state" in args:
        query["state"] = args["state"]
    separator = "&" if "?" in redirect_uri else "?"
    return flask.redirect(f"{redirect_uri}{separator}{urlencode(query)}", code=302)


def client_credentials() -> tuple[str | None, str | None]:
    """Client id/secret from HTTP Basic auth or from the form body."""
    auth = flask.request.authorization
    if auth and auth.type == "basic":
        return auth.username, auth.password
    form = flask.request.form
    return form.get("client_id"), form.get("client_secret")


def token_endpoint() -> flask.Response:
    """``POST /connect/token`` for the authorization_code and refresh_token grants."""
    state = sandbox_state()
    client_id, client_secret = client_credentials()
    if client_id != state.config["client_id"] or client_secret != state.config["client_secret"]:
        raise oauth_error("invalid_client")
    grant_type = flask.request.form.get("grant_type")
    with state.lock:
        if grant_type == "authorization_code":
            answer = exchange_code(state, client_id)
        elif grant_type == "refresh_token":
            answer = rotate_refresh_token(state, client_id)
        else:
            raise oauth_error("unsupported_grant_type")
    return json_response(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def exchange_code(state: XeroSandboxState, client_id: str) -> Record:
    """Trade a one-time code for tokens; the grant covers every tenant of the sandbox."""
    form = flask.request.form
    code = state.codes.get(form.get("code", ""))
    if code is None or code.used or code.expires_at <= state.now() or code.client_id != client_id:
        raise oauth_error("invalid_grant")
    if form.get("redirect_uri") != code.redirect_uri or not pkce_ok(code, form):
        raise oauth_error("invalid_grant")
    code.used = True
    grant = Grant(
        grant_id=str(uuid.uuid4()),
        client_id=client_id,
        scopes=code.scopes,
        tenant_ids=list(state.tenants),
        user_id=str(uuid.uuid4()),
        created=state.now(),
    )
    state.grants[grant.grant_id] = grant
    return issue_tokens(state, grant)


def pkce_ok(code: AuthorizationCode, form: Mapping[str, str]) -> bool:
    """Check ``code_verifier`` against the challenge, when the authorize call sent one."""
    if not code.code_challenge:
        return True
    verifier = form.get("code_verifier", "")
    if code.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        verifier = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
    return hmac.compare_digest(verifier, code.code_challenge)


def rotate_refresh_token(state: XeroSandboxState, client_id: str) -> Record:
    """Use a refresh token once: it rotates. Within the grace period a repeat use of the old
    token returns the same successor answer (so two racing refreshes end with one new token);
    after it, the old token is ``invalid_grant``."""
    token = state.refresh_tokens.get(flask.request.form.get("refresh_token", ""))
    now = state.now()
    grant = state.grants.get(token.grant_id) if token else None
    if token is None or grant is None or grant.revoked or grant.client_id != client_id:
        raise oauth_error("invalid_grant")
    if token.expires_at <= now:
        raise oauth_error("invalid_grant")
    if token.rotated_at is not None:
        grace = timedelta(seconds=float(state.config["refresh_grace_seconds"]))
        if now - token.rotated_at > grace or token.successor is None:
            raise oauth_error("invalid_grant")
        return token.successor
    answer = issue_tokens(state, grant)
    token.rotated_at, token.successor = now, answer
    return answer


def issue_tokens(state: XeroSandboxState, grant: Grant) -> Record:
    """A fresh access token (JWT-shaped, 30 min) and refresh token (60 days unused)."""
    now = state.now()
    access_expiry = now + timedelta(seconds=int(state.config["access_token_seconds"]))
    access = make_jwt(state, grant, access_expiry)
    refresh = secrets.token_hex(32)
    state.access_tokens[access] = IssuedToken(access, grant.grant_id, access_expiry)
    refresh_expiry = now + timedelta(days=int(state.config["refresh_token_days"]))
    state.refresh_tokens[refresh] = IssuedToken(refresh, grant.grant_id, refresh_expiry)
    answer: Record = {
        "access_token": access,
        "expires_in": int(state.config["access_token_seconds"]),
        "token_type": "Bearer",
        "refresh_token": refresh,
        "scope": " ".join(grant.scopes),
    }
    if "openid" in grant.scopes:
        answer["id_token"] = make_jwt(state, grant, access_expiry, id_token=True)
    return answer


def make_jwt(
    state: XeroSandboxState, grant: Grant, expiry: datetime, id_token: bool = False
) -> str:
    """A JWT with Xero's claims, HS256-signed with a per-sandbox secret. Clients that decode it
    (for ``authentication_event_id`` or ``exp``) see what they expect; the sandbox itself
    validates tokens by lookup, so it can revoke them."""
    now = int(state.now().timestamp())
    claims: Record = {
        "nbf": now,
        "exp": int(expiry.timestamp()),
        "iss": "https://identity.xero.com",
        "aud": state.config["client_id"] if id_token else "https://identity.xero.com/resources",
        "client_id": grant.client_id,
        "sub": grant.user_id,
        "auth_time": now,
        "xero_userid": grant.user_id,
        "authentication_event_id": grant.grant_id,
        "jti": uuid.uuid4().hex,
        "scope": grant.scopes,
    }
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps(claims).encode())
    signature = hmac.new(state.signing_secret, f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{_b64url(signature.digest())}"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def revoke_token() -> flask.Response:
    """``POST /connect/revocation``: revoking a refresh token ends its whole grant."""
    state = sandbox_state()
    client_id, client_secret = client_credentials()
    if client_id != state.config["client_id"] or client_secret != state.config["client_secret"]:
        raise oauth_error("invalid_client")
    with state.lock:
        token = state.refresh_tokens.get(flask.request.form.get("token", ""))
        if token is not None and token.grant_id in state.grants:
            state.grants[token.grant_id].revoked = True
    return flask.Response(status=200)


def connection_id_for(grant: Grant, tenant_id: str) -> str:
    """Stable connection id for a (grant, tenant) pair."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{grant.grant_id}/{tenant_id}"))


def list_connections() -> flask.Response:
    """``GET /connections``: the tenants this token's grant may access."""
    state = sandbox_state()
    with state.lock:
        grant = authenticate(state)
        items = [
            {
                "id": connection_id_for(grant, tenant_id),
                "authEventId": grant.grant_id,
                "tenantId": tenant_id,
                "tenantType": "ORGANISATION",
                "tenantName": state.tenants[tenant_id].name,
                "createdDateUtc": grant.created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
                "updatedDateUtc": grant.created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
            }
            for tenant_id in grant.tenant_ids
            if tenant_id in state.tenants
        ]
    return json_response(items)


def delete_connection(connection_id: str) -> flask.Response:
    """``DELETE /connections/{id}``: disconnect one tenant from the grant."""
    state = sandbox_state()
    with state.lock:
        grant = authenticate(state)
        for tenant_id in list(grant.tenant_ids):
            if connection_id_for(grant, tenant_id) == connection_id:
                grant.tenant_ids.remove(tenant_id)
                return flask.Response(status=204)
    raise problem(404, "NotFound", "The resource you're looking for cannot be found")


# ============================================================================================
# App factory
# ============================================================================================


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


def _handle_xero_error(error: XeroHttpError) -> flask.Response:
    headers = {**error.headers, **getattr(flask.g, "rate_headers", {})}
    return json_response(error.body, error.status, headers)


def _add_rate_headers(response: flask.Response) -> flask.Response:
    for name, value in getattr(flask.g, "rate_headers", {}).items():
        response.headers.setdefault(name, value)
    return response


def _register_api_routes(app: flask.Flask) -> None:
    for name, resource in RESOURCES.items():
        base = f"{API_PREFIX}/{name}"
        app.add_url_rule(base, f"list_{name}", lambda r=resource: list_records(r), methods=["GET"])
        app.add_url_rule(
            base, f"put_{name}", lambda r=resource: write_records(r, None), methods=["PUT"]
        )
        app.add_url_rule(
            base, f"post_{name}", lambda r=resource: write_records(r, None), methods=["POST"]
        )
        app.add_url_rule(
            f"{base}/<record_id>",
            f"get_{name}",
            lambda record_id, r=resource: get_record(r, record_id),
            methods=["GET"],
        )
        app.add_url_rule(
            f"{base}/<record_id>",
            f"post_one_{name}",
            lambda record_id, r=resource: write_records(r, record_id),
            methods=["POST"],
        )
    for name in ("Accounts", "TaxRates", "Organisation"):
        app.add_url_rule(
            f"{API_PREFIX}/{name}",
            f"read_{name}",
            lambda n=name: read_only_list(n),
            methods=["GET"],
        )


def create_app(config: dict[str, Any] | None = None) -> flask.Flask:
    """Build a Xero sandbox app. ``config`` overrides ``DEFAULTS`` (and the common sandbox
    keys); ``config["fixture"]`` may name a fixture (``"demo"``, ``"small"``), a path or a dict.
    """
    app = flask.Flask(__name__)
    state = XeroSandboxState(config)
    register_control_routes(app, state, fault_response)
    app.add_url_rule(
        "/_sandbox/webhooks/intent-to-receive",
        "intent_to_receive",
        intent_to_receive,
        methods=["POST"],
    )
    app.add_url_rule("/identity/connect/authorize", "authorize", authorize, methods=["GET"])
    app.add_url_rule("/connect/token", "token", token_endpoint, methods=["POST"])
    app.add_url_rule("/connect/revocation", "revocation", revoke_token, methods=["POST"])
    app.add_url_rule("/connections", "connections", list_connections, methods=["GET"])
    app.add_url_rule(
        "/connections/<connection_id>", "delete_connection", delete_connection, methods=["DELETE"]
    )
    _register_api_routes(app)
    app.register_error_handler(XeroHttpError, _handle_xero_error)
    app.after_request(_add_rate_headers)
    return app
