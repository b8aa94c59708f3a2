"""Talking to a 1CRM instance's REST API (``{instance URL}/api.php/``) for one connection.

What 1CRM's own API client and docs say, and this client does (``shared/reference/vendor/1crm``):

- HTTP Basic with a 1CRM user — off on a new instance until an admin enables it; a 401 says so.
- Errors are ``{"error", "message", "hint"}``; the message (and hint) become the module error,
  typed by status like every app's (``modules/connections.py``). A non-JSON error answer is
  "Unexpected reply from server", as in 1CRM's client.
- ``POST /data/{Model}`` answers only the new id (a list of one id for link records) and
  ``PATCH`` only ``{"result": true}``: ``created``/``updated`` read the record back.
  Create-if-missing is the PATCH body key ``create``.
- Lists take only the filters the model declares (``GET /meta/fields/{Model}``): ``search``
  checks them before it asks. Without ``fields[]`` a list shows a few fields, so ``search``
  asks for every field the model has. Pages are at most 200 records.
- Values come back as text: the numbers the library maps (``NUMBER_FIELDS``) become numbers,
  ``date_entered``/``date_modified`` (UTC ``YYYY-MM-DD HH:MM:SS``) ISO UTC strings, in bundles.

Rate limit: ``rate_limit`` calls a minute per connection (120 unless the connection says
otherwise; 1CRM documents none), shared across workers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.errors import DataError, InvalidConfigurationError
from engine.spec import ModuleCall
from modules.connections import ApiClient, ApiResponse, ApiSettings, connection_of, run_sleep

API_PATH = "/api.php"
PAGE_SIZE = 200  # the API's largest page
SCAN_LIMIT = 1000
"""The most records a search compares itself (``match``) before it gives up and says so."""
CALLS_PER_MINUTE = 120
AUDIT_DATES = ("date_entered", "date_modified")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
NUMBER_FIELDS = frozenset(
    {
        "amount",
        "amount_due",
        "subtotal",
        "pretax",
        "total_tax",
        "total_discount",
        "total_shipping",
        "exchange_rate",
        "total_amount",
        "applied_amount",
        "quantity",
        "unit_price",
        "list_price",
        "net_price",
        "cost_price",
        "rate",
        "cost",
        "total",
        "conversion_rate",
        "balance",
    }
)
"""Fields whose text a bundle carries as a number (1CRM answers every value as text)."""
DATE_FIELDS = frozenset({"invoice_date", "due_date", "payment_date", "valid_until"})
"""Date fields: a mapped ISO date-time (``2026-03-31T00:00:00``) is sent as its date."""
UNAUTHORIZED_HINT = (
    "check the user name and password; if they are right, Basic authentication is probably "
    "disabled: a 1CRM administrator must enable it for the API (it is off on a new instance)"
)


def onecrm_settings(connection: Mapping[str, Any], **overrides: Any) -> ApiSettings:
    """Request settings for ``connection``.

    Raises:
        InvalidConfigurationError: the connection has no instance URL.
    """
    url = instance_url(connection)
    return ApiSettings(
        label="1CRM",
        base_url=url + API_PATH,
        error_message=onecrm_error_message,
        headers={"Accept": "application/json"},
        auth=(str(connection.get("username", "")), str(connection.get("password", ""))),
        rate_key=f"onecrm:{getattr(connection, 'id', None) or url}",
        rate_limit=int(connection.get("rate_limit") or CALLS_PER_MINUTE),
        **overrides,
    )


def instance_url(connection: Mapping[str, Any]) -> str:
    """The instance URL without a trailing ``/`` (or ``/api.php``)."""
    url = str(connection.get("url") or "").strip().rstrip("/").removesuffix(API_PATH)
    if not url.startswith(("http://", "https://")):
        raise InvalidConfigurationError("the 1CRM connection needs the instance URL (https://…)")
    return url


def client_for(call: ModuleCall) -> OneCrmClient:
    """The 1CRM client for a module call (its connection, the run's session and sleep)."""
    connection = connection_of(call)
    api = ApiClient(onecrm_settings(connection), call.context.http, run_sleep(call))
    return OneCrmClient(api, default_assigned_user=connection.get("assigned_user_id"))


class OneCrmClient:
    """1CRM records by model (``Account``, ``Invoice`` …) over an ``ApiClient``."""

    def __init__(self, api: ApiClient, default_assigned_user: Any = None) -> None:
        self.api = api
        self.default_assigned_user = default_assigned_user
        self._metadata: dict[str, dict[str, Any]] = {}

    # -- reads --

    def metadata(self, model: str) -> dict[str, Any]:
        """``{"fields", "filters"}`` of ``model`` (asked once per client)."""
        if model not in self._metadata:
            body = self.api.get(f"meta/fields/{model}") or {}
            self._metadata[model] = {
                "fields": dict(body.get("fields") or {}),
                "filters": dict(body.get("filters") or {}),
            }
        return self._metadata[model]

    def get(self, model: str, record_id: str, fields: list[str] | None = None) -> dict[str, Any]:
        """One record as a bundle; every field unless ``fields`` names some."""
        params = {"fields[]": fields} if fields else None
        body = self.api.get(f"data/{model}/{record_id}", params=params) or {}
        record = body.get("record")
        if not isinstance(record, Mapping):
            raise DataError(f"1CRM answered without the {model} record {record_id}")
        return from_onecrm(record)

    def search(
        self,
        model: str,
        *,
        filter_text: str | None = None,
        filters: Mapping[str, Any] | None = None,
        fields: list[str] | None = None,
        order: str | None = None,
        match: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Records of ``model`` as bundles, page by page, up to ``limit`` (all when falsy).

        ``filters`` must be filters the model declares; ``match`` keeps only records whose
        fields equal the given values (compared here, case-insensitively for text, over at
        most ``SCAN_LIMIT`` records). Without ``fields`` every field of the model is asked for.

        Raises:
            InvalidConfigurationError: a filter the model does not declare.
            DataError: ``match`` would have to compare more than ``SCAN_LIMIT`` records.
        """
        query: dict[str, Any] = {f"filters[{k}]": v for k, v in self.declared(model, filters)}
        if filter_text:
            query["filter_text"] = filter_text
        if order:
            query["order"] = order
        wanted = list(fields or self.field_names(model))
        wanted += [name for name in (match or {}) if name not in wanted]
        query["fields[]"] = wanted
        records = self.pages(f"data/{model}", query)
        yield from matching(records, match, limit, model)

    def related(
        self, model: str, record_id: str, link: str, fields: list[str]
    ) -> Iterator[dict[str, Any]]:
        """Every record of a related list (``lines_link`` of an invoice …) as bundles."""
        yield from self.pages(f"data/{model}/{record_id}/{link}", {"fields[]": fields})

    def pages(self, path: str, query: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            body = self.api.get(path, params={**query, "limit": PAGE_SIZE, "offset": offset}) or {}
            records = body.get("records") or []
            yield from (from_onecrm(r) for r in records)
            offset += len(records)
            if len(records) < PAGE_SIZE or offset >= int(body.get("total_results") or 0):
                return

    def field_names(self, model: str) -> list[str]:
        return list(self.metadata(model)["fields"]) or ["id", "name"]

    def declared(self, model: str, filters: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
        """The non-empty ``filters``, checked against the model's declared ones."""
        given = [(k, v) for k, v in (filters or {}).items() if v not in (None, "")]
        if not given:
            return []
        declared = self.metadata(model)["filters"]
        unknown = [name for name, _ in given if name not in declared]
        if unknown:
            raise InvalidConfigurationError(
                f"1CRM's {model} list has no filter {', '.join(unknown)}; it declares "
                f"{', '.join(declared) or 'none'} (use Filter text, or Match exactly)"
            )
        return given

    # -- writes --

    def create(self, model: str, data: Mapping[str, Any], resend_refused: bool = False) -> str:
        """Create a record; returns its id (1CRM answers nothing else). ``resend_refused``:
        sent again when the rate limit refused it (``ApiClient.request``)."""
        answer = self.api.request(
            "POST", f"data/{model}", json={"data": dict(data)}, resend_refused=resend_refused
        )
        return created_id(answer.body or {}, model)

    def update(
        self,
        model: str,
        record_id: str,
        data: Mapping[str, Any],
        create: bool = False,
        resend_refused: bool = False,
    ) -> None:
        """Change fields (``{"result": true}`` is all 1CRM answers); with ``create`` a missing
        record is created with this id."""
        body = {"data": dict(data), "create": bool(create)}
        path = f"data/{model}/{record_id}"
        self.api.request("PATCH", path, json=body, resend_refused=resend_refused)

    def delete(self, model: str, record_id: str, resend_refused: bool = False) -> None:
        self.api.request("DELETE", f"data/{model}/{record_id}", resend_refused=resend_refused)

    def created(self, model: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Create a record (assigned to the connection's default user unless mapped) and read
        it back."""
        return self.get(model, self.create(model, self.assigned(data)))

    def updated(
        self, model: str, record_id: str, data: Mapping[str, Any], create: bool
    ) -> dict[str, Any]:
        """Update (or create) a record and read it back: the module's output. A PATCH 1CRM
        refused with 429 is sent again after Retry-After (it did nothing): a write-back left
        to the run's retry lets the other direction see the record without it."""
        fields = self.assigned(data) if create else data
        self.update(model, record_id, fields, create, resend_refused=True)
        return self.get(model, record_id)

    def assigned(self, data: Mapping[str, Any]) -> dict[str, Any]:
        if data.get("assigned_user_id") or not self.default_assigned_user:
            return dict(data)
        return {**data, "assigned_user_id": self.default_assigned_user}


def created_id(body: Mapping[str, Any], model: str) -> str:
    """The id of a create's answer: ``{"id": "…"}``, or ``{"id": ["…"]}`` for link records."""
    value = body.get("id")
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str) or not value:
        raise DataError(f"1CRM answered the new {model} without its id: {dict(body)}")
    return value


def matching(
    records: Iterator[dict[str, Any]],
    match: Mapping[str, Any] | None,
    limit: int | None,
    model: str,
) -> Iterator[dict[str, Any]]:
    """The records equal to ``match`` (all without it), at most ``limit``."""
    wanted = {k: comparable(v) for k, v in (match or {}).items()}
    found = 0
    for scanned, record in enumerate(records, start=1):
        if wanted and scanned > SCAN_LIMIT:
            raise DataError(
                f"more than {SCAN_LIMIT} 1CRM {model} records to compare: narrow the search "
                "with Filter text or a filter"
            )
        if all(comparable(record.get(k)) == v for k, v in wanted.items()):
            yield record
            found += 1
            if limit and found >= limit:
                return


def comparable(value: Any) -> Any:
    """Text without case or surrounding blanks; numbers as numbers; empty as None."""
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return str(value).strip().casefold()


def onecrm_error_message(response: ApiResponse) -> str:
    """1CRM's ``message`` (and ``hint``) of ``{"error", "message", "hint"}``."""
    body = response.body if isinstance(response.body, Mapping) else None
    if body is None:
        return f"Unexpected reply from server (HTTP {response.status})"
    message = str(body.get("message") or body.get("error") or f"HTTP {response.status}")
    hint = str(body.get("hint") or "")
    if response.status == 401:
        hint = "; ".join(h for h in (hint, UNAUTHORIZED_HINT) if h)
    return f"{message} ({hint})" if hint else message


# -- values ------------------------------------------------------------------------------------


def from_onecrm(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record as a bundle: audit timestamps as ISO UTC strings, amounts as numbers."""
    bundle = dict(record)
    for name in AUDIT_DATES:
        if name in bundle:
            bundle[name] = iso_timestamp(bundle[name])
    for name in NUMBER_FIELDS.intersection(bundle):
        bundle[name] = to_number(bundle[name])
    return bundle


def to_onecrm(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Mapped fields as 1CRM takes them: dates of date fields without their time."""
    data = dict(fields)
    for name in DATE_FIELDS.intersection(data):
        value = data[name]
        if isinstance(value, str) and len(value) > 10 and value[4:5] == "-" and value[10] in "T ":
            data[name] = value[:10]
    return data


def to_number(value: Any) -> Any:
    """1CRM's number text ("224.55", "2") as a number; other values unchanged."""
    if not isinstance(value, str) or not value.strip():
        return value
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return value
    return int(number) if number == number.to_integral_value() else float(number)


def iso_timestamp(value: Any) -> Any:
    """``YYYY-MM-DD HH:MM:SS`` (UTC) → ``YYYY-MM-DDTHH:MM:SS.000Z``; other values unchanged."""
    try:
        moment = datetime.strptime(str(value), TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return value
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
