"""Talking to the QuickBooks Online Accounting API (v3) for one connection.

Data calls go to ``{base_url}/v3/company/{realm_id}/`` with the bearer token and
``minorversion``. The realm (company) id comes from the OAuth callback's ``realmId`` and is
kept in the connection's public data. Errors map through ``modules.connections.STATUS_ERRORS``;
the ``Fault`` envelope becomes one sentence with each error's ``Message`` and ``Detail``
verbatim. Limits (vendor/quickbooks/NOTES.md §7): 500 calls a minute and 10 calls in flight per
realm (Intuit's per-company limits), shared across workers, so two connections to one company
share the budget. ``minorversion=75`` goes with every call: Intuit ignores 1 to 74 since 1 August
2025 (§2).

Every write of a module call carries ``requestid`` (unique per company, at most 50
characters): the call's ``ModuleContext.idempotency_key``. QuickBooks answers a request whose
requestid it has seen with the original answer instead of writing again, so a run re-run after
a worker crash creates no second invoice.

Queries use Intuit's SQL-like language; every literal goes through ``quote`` (``'`` and ``\\``
are backslash-escaped), so ``O'Brien & Sons`` is found and never breaks a query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from engine.errors import DataError, InvalidConfigurationError, ModuleError
from engine.spec import ModuleCall
from modules.connections import ApiClient, ApiResponse, ApiSettings, connection_of, run_sleep

QBO_API_URL = "https://quickbooks.api.intuit.com"
MINOR_VERSION = "75"
REALM_CALLS_PER_MINUTE = 500
REALM_CONCURRENT_CALLS = 10
QUERY_PAGE_SIZE = 1000  # the largest MAXRESULTS Intuit accepts
STALE_OBJECT = "5010"

KeyFor = Callable[[int | None], str | None]
"""Gives the idempotency key of a module call's n-th write (None for the first)."""


def api_base(connection: Mapping[str, Any]) -> str:
    """The API host of ``connection`` (no trailing slash)."""
    return str(connection.get("base_url") or QBO_API_URL).rstrip("/")


def realm_of(connection: Mapping[str, Any]) -> str:
    """The company id the connection works on.

    Raises:
        InvalidConfigurationError: the connection has no realm id (authorize it again).
    """
    realm = connection.get("realm_id") or connection.get("realmId")
    if not realm:
        raise InvalidConfigurationError(
            "the QuickBooks connection has no company (realm id); reauthorize it"
        )
    return str(realm)


def qbo_settings(connection: Mapping[str, Any], **overrides: Any) -> ApiSettings:
    """Request settings for the connection's company.

    Raises:
        InvalidConfigurationError: no realm id, or the connection has no token yet.
    """
    realm = realm_of(connection)
    token = connection.get("access_token")
    if not token:
        raise InvalidConfigurationError("the QuickBooks connection is not authorized yet")
    settings: dict[str, Any] = {
        "label": "QuickBooks",
        "base_url": f"{api_base(connection)}/v3/company/{realm}",
        "error_message": qbo_error_message,
        "headers": {"Authorization": f"Bearer {token}", "Accept": "application/json"},
        "rate_key": f"quickbooks:{realm}",  # Intuit counts per company, whichever connection
        "rate_limit": REALM_CALLS_PER_MINUTE,
        "concurrency_key": f"quickbooks:{realm}",
        "max_concurrent": REALM_CONCURRENT_CALLS,
    }
    return ApiSettings(**{**settings, **overrides})


def client_for(call: ModuleCall) -> QuickBooksClient:
    """The QuickBooks client for a module call (its connection, the run's session and sleep)."""
    api = ApiClient(qbo_settings(connection_of(call)), call.context.http, run_sleep(call))
    return QuickBooksClient(api, key_for=call.context.idempotency_key)


class QuickBooksClient:
    """QuickBooks entities over an ``ApiClient``; answers are returned as QuickBooks sends them.

    Entity names are Intuit's (``Customer``, ``Invoice`` …); paths use them lower-cased.

    Args:
        api: the request path for one connection's company.
        key_for: the module call's idempotency keys; without it writes carry no requestid.
    """

    def __init__(self, api: ApiClient, key_for: KeyFor | None = None) -> None:
        self.api = api
        self._key_for = key_for
        self._writes = 0

    def _write(self, entity: str, body: Mapping[str, Any], operation: str | None = None) -> Any:
        """POST one write with the call's next requestid (the first write gets the call's key,
        later ones — a retry after a stale SyncToken — a numbered suffix: each must be new to
        QuickBooks, or it would answer the earlier write's answer)."""
        self._writes += 1
        suffix = None if self._writes == 1 else self._writes
        key = self._key_for(suffix) if self._key_for is not None else None
        params = {"requestid": key} if key else {}
        if operation:
            params["operation"] = operation
        return self._call("POST", entity.lower(), params=params or None, json=dict(body))

    def _call(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None
    ) -> Any:
        query = {"minorversion": MINOR_VERSION, **(params or {})}
        return self.api.request(method, path, params=query, json=json).body or {}

    def get(self, entity: str, record_id: Any) -> dict[str, Any]:
        """One record by ``Id``.

        Raises:
            DataError: no such record (Fault 610) or an empty id.
        """
        if record_id in (None, ""):
            raise InvalidConfigurationError(f"map the {entity} ID to get")
        body = self._call("GET", f"{entity.lower()}/{record_id}")
        return _entity(entity, body)

    def create(self, entity: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Create one record; returns it as stored (with ``Id``, ``SyncToken``)."""
        return _entity(entity, self._write(entity, fields))

    def sparse_update(self, entity: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Change only the given fields of the record ``fields["Id"]`` at ``fields["SyncToken"]``.

        Raises:
            DataError: Fault 5010 when the SyncToken is not current (see ``update``).
        """
        return _entity(entity, self._write(entity, {**fields, "sparse": True}))

    def update(self, entity: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Sparse update that survives a concurrent change (``_at_current_token``): our fields
        win, the other writer's remaining fields stay."""
        return self._at_current_token(entity, fields, self.sparse_update)

    def void(self, entity: str, record_id: str, sync_token: str | None = None) -> dict[str, Any]:
        """Void an invoice or sales receipt (``operate``): it stays, every amount zero."""
        return self.operate(entity, "void", record_id, sync_token)

    def operate(
        self, entity: str, operation: str, record_id: str, sync_token: str | None = None
    ) -> dict[str, Any]:
        """``?operation=void`` (an invoice or sales receipt stays, every amount zero; answers
        the record) or ``?operation=delete`` (a transaction goes; answers ``{"Id", "status":
        "Deleted"}``) on the record at its current SyncToken (``_at_current_token``).

        Raises:
            DataError: QuickBooks refused (no such record: Fault 610; an entity that cannot be
                voided or deleted).
        """
        fields = {"Id": record_id, "SyncToken": sync_token}
        return self._at_current_token(
            entity, fields, lambda name, body: _entity(name, self._write(name, body, operation))
        )

    def _at_current_token(
        self,
        entity: str,
        fields: Mapping[str, Any],
        write: Callable[[str, Mapping[str, Any]], dict[str, Any]],
    ) -> dict[str, Any]:
        """``write`` the record ``fields["Id"]`` at its current ``SyncToken``.

        Without a ``SyncToken`` the current one is read first. When QuickBooks answers Fault
        5010 (another writer changed the record since our token was read), the record is read
        again and the write retried once with the fresh token. A second 5010 is raised.
        """
        fields = dict(fields)
        if fields.get("SyncToken") in (None, ""):
            fields["SyncToken"] = self.get(entity, fields["Id"])["SyncToken"]
        try:
            return write(entity, fields)
        except DataError as error:
            if STALE_OBJECT not in fault_codes(error):
                raise
        fresh = self.get(entity, fields["Id"])
        return write(entity, {**fields, "SyncToken": fresh["SyncToken"]})

    def query(self, statement: str) -> list[dict[str, Any]]:
        """The records one query statement returns (one page: the statement's own MAXRESULTS)."""
        body = self._call("GET", "query", params={"query": statement})
        response = body.get("QueryResponse") or {}
        entity = next((k for k, v in response.items() if isinstance(v, list)), None)
        return list(response.get(entity) or []) if entity else []

    def query_all(self, statement: str, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every record ``statement`` (no STARTPOSITION/MAXRESULTS) matches, page by page,
        stopping once ``limit`` records were produced."""
        position, produced = 1, 0
        while True:
            size = min(QUERY_PAGE_SIZE, limit - produced) if limit else QUERY_PAGE_SIZE
            page = self.query(f"{statement} STARTPOSITION {position} MAXRESULTS {size}")
            yield from page
            produced += len(page)
            position += len(page)
            if len(page) < size or (limit and produced >= limit):
                return

    def changed_since(self, entities: Iterable[str], since: str) -> dict[str, list[dict[str, Any]]]:
        """Change data capture: records of ``entities`` changed at or after ``since`` (ISO),
        deletions included as ``{"Id", "status": "Deleted"}``; by entity name."""
        names = ",".join(entities)
        body = self._call("GET", "cdc", params={"entities": names, "changedSince": since})
        changed: dict[str, list[dict[str, Any]]] = {}
        for block in body.get("CDCResponse") or []:
            for response in block.get("QueryResponse") or []:
                for name, records in response.items():
                    if isinstance(records, list):
                        changed.setdefault(name, []).extend(records)
        return changed

    def company_info(self) -> dict[str, Any]:
        """The company's ``CompanyInfo`` (name, country …)."""
        realm = self.api.settings.base_url.rstrip("/").rsplit("/", 1)[-1]
        return _entity("CompanyInfo", self._call("GET", f"companyinfo/{realm}"))

    def preferences(self) -> dict[str, Any]:
        """The company's ``Preferences`` (``TaxPrefs``, ``CurrencyPrefs``,
        ``SalesFormsPrefs`` …)."""
        return _entity("Preferences", self._call("GET", "preferences"))


def _entity(entity: str, body: Mapping[str, Any]) -> dict[str, Any]:
    record = body.get(entity)
    if not isinstance(record, Mapping):
        raise DataError(f"QuickBooks answered without a {entity}")
    return dict(record)


# -- the query language -----------------------------------------------------------------------


def quote(value: Any) -> str:
    """A query literal: strings single-quoted with ``\\`` and ``'`` backslash-escaped; numbers
    and booleans bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def like_literal(value: Any, operator: str) -> str:
    """A LIKE pattern literal for ``contains`` / ``startsWith`` / ``endsWith``.

    QuickBooks' LIKE knows only ``%`` and has no way to escape it, so a ``%`` in the value is
    matched as a wildcard (a harmless widening: the match still contains the rest).
    """
    text = str(value)
    pattern = {"contains": f"%{text}%", "startsWith": f"{text}%", "endsWith": f"%{text}"}
    return quote(pattern[operator])


def condition(field: str, operator: str, value: Any) -> str:
    """One WHERE condition; ``operator`` is equals, contains, startsWith, endsWith,
    greaterThan, lessThan, greaterOrEqual, lessOrEqual or in (a list). QuickBooks' language
    has no "not equal", no OR and no parentheses.

    Raises:
        InvalidConfigurationError: an unknown operator.
    """
    if operator in ("contains", "startsWith", "endsWith"):
        return f"{field} LIKE {like_literal(value, operator)}"
    if operator == "in":
        values = value if isinstance(value, list | tuple) else str(value).split(",")
        return f"{field} IN ({', '.join(quote(v) for v in values)})"
    symbol = COMPARISONS.get(operator)
    if symbol is None:
        raise InvalidConfigurationError(f"unknown QuickBooks search operator '{operator}'")
    return f"{field} {symbol} {quote(value)}"


COMPARISONS: Mapping[str, str] = {
    "equals": "=",
    "greaterThan": ">",
    "lessThan": "<",
    "greaterOrEqual": ">=",
    "lessOrEqual": "<=",
}


# -- errors -------------------------------------------------------------------------------------


def qbo_error_message(response: ApiResponse) -> str:
    """One sentence from QuickBooks' ``Fault`` envelope: each error's Message and Detail verbatim
    (``Message: Detail``), joined by "; ". The gateway's lower-case ``fault`` (401/403) too."""
    errors = _fault_errors(response.body)
    sentences = []
    for error in errors:
        message = str(error.get("Message") or error.get("message") or "").strip()
        detail = str(error.get("Detail") or error.get("detail") or "").strip()
        text = f"{message}: {detail}" if message and detail else message or detail
        if text:
            sentences.append(text)
    if sentences:
        return "; ".join(dict.fromkeys(sentences))
    return f"HTTP {response.status}" + (f": {response.text[:200]}" if response.text else "")


def _fault_errors(body: Any) -> list[Mapping[str, Any]]:
    if not isinstance(body, Mapping):
        return []
    fault = body.get("Fault") or body.get("fault")
    if not isinstance(fault, Mapping):
        return []
    errors = fault.get("Error") or fault.get("error") or []
    return [e for e in errors if isinstance(e, Mapping)]


def fault_codes(error: ModuleError) -> set[str]:
    """The Fault error codes a QuickBooks module error carries (``{"5010"}`` …)."""
    detail = getattr(error, "detail", None)
    body = detail.get("body") if isinstance(detail, Mapping) else None
    return {str(e.get("code") or "") for e in _fault_errors(body)}


def without_empty(value: Any) -> Any:
    """A request body without empty fields: Make sends only what the user filled in."""
    if isinstance(value, Mapping):
        cleaned = {k: without_empty(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [item for item in (without_empty(v) for v in value) if item not in (None, "", {})]
    return value
