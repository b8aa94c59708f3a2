"""Talking to the Xero Accounting API for one connection: URLs, headers, errors, dates.

The API host comes from the connection's ``base_url`` (``https://api.xero.com`` unless the
connection points at a sandbox); data calls go to ``{base_url}/api.xro/2.0/`` with the bearer
token and the ``xero-tenant-id`` header. Errors map through ``modules.connections.STATUS_ERRORS``;
Xero's ``ValidationException`` messages are kept verbatim. Rate limit: 60 calls a minute per
tenant (Xero's own per-tenant limit), shared across workers.

Every write (PUT/POST) of a module call carries an ``Idempotency-Key`` header (Xero keeps it
per organisation, at most 128 characters): the call's ``ModuleContext.idempotency_key``, so a
run re-run after a worker crash gets Xero's original answer instead of a second invoice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

from engine.errors import InvalidConfigurationError
from engine.spec import ModuleCall
from modules.connections import (
    ApiClient,
    ApiResponse,
    ApiSettings,
    connection_of,
    pages,
    run_sleep,
)

XERO_API_URL = "https://api.xero.com"
API_PATH = "/api.xro/2.0"
PAGE_SIZE = 100
UNPAGED = frozenset({"Items"})
"""Lists Xero answers whole: they take no ``page`` parameter."""
TENANT_CALLS_PER_MINUTE = 60
IDEMPOTENCY_HEADER = "Idempotency-Key"

KeyFor = Callable[[int | None], str | None]
"""Gives the idempotency key of a module call's n-th write (None for the first)."""

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def api_base(connection: Mapping[str, Any]) -> str:
    """The API host of ``connection`` (no trailing slash)."""
    return str(connection.get("base_url") or XERO_API_URL).rstrip("/")


def xero_settings(
    connection: Mapping[str, Any], tenant_id: str | None = None, **overrides: Any
) -> ApiSettings:
    """Request settings for one tenant of ``connection``.

    Raises:
        InvalidConfigurationError: no tenant is chosen, or the connection has no token.
    """
    tenant = tenant_id or connection.get("tenant_id")
    if not tenant:
        raise InvalidConfigurationError("choose a Xero organisation for this connection")
    token = connection.get("access_token")
    if not token:
        raise InvalidConfigurationError("the Xero connection is not authorized yet")
    headers = {
        "Authorization": f"Bearer {token}",
        "xero-tenant-id": str(tenant),
        "Accept": "application/json",
    }
    return ApiSettings(
        label="Xero",
        base_url=api_base(connection) + API_PATH,
        error_message=xero_error_message,
        headers=headers,
        rate_key=f"xero:{tenant}",
        rate_limit=TENANT_CALLS_PER_MINUTE,
        **overrides,
    )


def client_for(call: ModuleCall, tenant_id: str | None = None) -> XeroClient:
    """The Xero client for a module call (its connection, the run's session and sleep)."""
    settings = xero_settings(connection_of(call), tenant_id or None)
    api = ApiClient(settings, call.context.http, run_sleep(call))
    return XeroClient(api, key_for=call.context.idempotency_key)


class XeroClient:
    """Xero's resources over an ``ApiClient``; every answer's dates are ISO strings.

    Args:
        api: the request path for one connection and tenant.
        key_for: the module call's idempotency keys; without it writes carry no key.
    """

    def __init__(self, api: ApiClient, key_for: KeyFor | None = None) -> None:
        self.api = api
        self._key_for = key_for
        self._writes = 0

    def _write(self, method: str, path: str, body: Any) -> Any:
        """Send one write with the call's next idempotency key (the first write gets the
        call's key, later ones a numbered suffix, so each stays stable across a re-run)."""
        self._writes += 1
        suffix = None if self._writes == 1 else self._writes
        key = self._key_for(suffix) if self._key_for is not None else None
        headers = {IDEMPOTENCY_HEADER: key} if key else None
        return self.api.request(method, path, json=body, headers=headers).body

    def list(
        self,
        resource: str,
        *,
        params: Mapping[str, Any] | None = None,
        modified_since: datetime | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every record of ``resource`` matching ``params``, fetched page by page."""
        headers = {"If-Modified-Since": if_modified_since(modified_since)} if modified_since else {}

        def fetch(page: int | None) -> list[Any]:
            query = {**(params or {}), **({"page": page} if page else {})}
            body = self.api.request("GET", resource, params=query, headers=headers).body
            return list((body or {}).get(resource) or [])

        records = fetch(None) if resource in UNPAGED else pages(fetch, PAGE_SIZE)
        for record in records:
            yield from_xero(record)

    def get(self, resource: str, record_id: str) -> dict[str, Any]:
        body = self.api.request("GET", f"{resource}/{record_id}").body
        return _first(resource, body)

    def create(self, resource: str, element: Mapping[str, Any]) -> dict[str, Any]:
        """PUT one element (Xero's create); returns it as stored."""
        body = self._write("PUT", resource, {resource: [dict(element)]})
        return _first(resource, body)

    def update(self, resource: str, record_id: str, element: Mapping[str, Any]) -> dict[str, Any]:
        """POST the changed fields of one record; returns it as stored."""
        path = f"{resource}/{record_id}"
        body = self._write("POST", path, {resource: [dict(element)]})
        return _first(resource, body)

    def delete_payment(self, payment_id: str) -> dict[str, Any]:
        """Xero deletes (reverses) a payment by POSTing ``{"Status": "DELETED"}`` to it
        (``deletePayment``, body ``PaymentDelete``); returns the payment, now DELETED."""
        body = self._write("POST", f"Payments/{payment_id}", {"Status": "DELETED"})
        return _first("Payments", body)

    def allocate(self, resource: str, record_id: str, allocation: Mapping[str, Any]) -> Any:
        """PUT one allocation of a credit note's or overpayment's credit; returns it."""
        path = f"{resource}/{record_id}/Allocations"
        return _first("Allocations", self._write("PUT", path, {"Allocations": [allocation]}))

    def delete_allocation(self, resource: str, record_id: str, allocation_id: str) -> Any:
        """DELETE one allocation of a credit note (``deleteCreditNoteAllocations``): its
        invoice owes the amount again and the credit is free again. Xero answers the bare
        allocation, ``IsDeleted: true``."""
        body = self._write("DELETE", f"{resource}/{record_id}/Allocations/{allocation_id}", None)
        return from_xero(body) if isinstance(body, Mapping) else {}


def _first(resource: str, body: Any) -> dict[str, Any]:
    items = (body or {}).get(resource) or [] if isinstance(body, Mapping) else []
    if not items:
        from engine.errors import DataError

        raise DataError(f"Xero answered without {resource}")
    return from_xero(items[0])


def xero_error_message(response: ApiResponse) -> str:
    """One sentence from Xero's error envelope; validation messages verbatim, joined by "; "."""
    body = response.body if isinstance(response.body, Mapping) else {}
    validation = [
        str(problem.get("Message"))
        for element in body.get("Elements") or []
        for problem in (element.get("ValidationErrors") or [])
        if problem.get("Message")
    ]
    if validation:
        return "; ".join(dict.fromkeys(validation))
    if response.status == 429:
        problem = {k.lower(): v for k, v in response.headers.items()}.get("x-rate-limit-problem")
        return f"rate limit reached ({problem or 'unknown'} limit)"
    for key in ("Message", "Detail", "Title", "error"):
        if body.get(key):
            return str(body[key])
    return f"HTTP {response.status}" + (f": {response.text[:200]}" if response.text else "")


def from_xero(value: Any) -> Any:
    """``value`` with every ``/Date(ms±zzzz)/`` turned into an ISO UTC datetime string."""
    if isinstance(value, Mapping):
        return {key: from_xero(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_xero(item) for item in value]
    if isinstance(value, str):
        match = _MS_DATE.match(value)
        if match:
            return iso(datetime.fromtimestamp(int(match.group(1)) / 1000, UTC))
    return value


def iso(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and ``Z``, as Make shows dates."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: Any) -> datetime | None:
    """An aware datetime from an ISO string (naive means UTC); None when unreadable."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def if_modified_since(moment: datetime) -> str:
    """The header value Xero reads: an RFC 3339 date-time in UTC, to the second (callers drop
    records not later). The spec types the header ``format: date-time``, so the zone is kept."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def without_empty(value: Any) -> Any:
    """A request element without empty fields: Make sends only what the user filled in."""
    if isinstance(value, Mapping):
        cleaned = {k: without_empty(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [item for item in (without_empty(v) for v in value) if item not in (None, "", {})]
    return value
