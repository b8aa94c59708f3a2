"""Talking to the Zoho CRM API (v8) for one connection.

Zoho runs one API host per data centre (``www.zohoapis.com``, ``.eu``, ``.in``, ``.com.au``,
``.jp``, ``.ca``, ``.com.cn``, ``.sa`` — vendor/zoho/NOTES.md §1). The token answer's
``api_domain`` names the one an organisation lives in; it is kept in the connection's public
data and every call goes to ``{api_domain}/crm/v8/`` with ``Authorization: Zoho-oauthtoken
<token>``. Errors map through ``modules.connections.STATUS_ERRORS``; Zoho's ``{"code",
"message", "details"}`` (top level or per record) becomes one sentence with the code, the
message and the failing field. 204 (no records) and 304 (nothing modified since) are empty
answers, not errors.

Limits (§8): an organisation has API credits per rolling day (one a call here) and a number of
calls in flight at once, both set by its edition (``EDITIONS``; the connection says which and
how many licensed users). The client keeps to both, shared across workers.

Lists must name their ``fields`` (at most 50); pages hold up to 200 records and past the
2,000th record continue with ``page_token`` (§3). Search criteria escape ``\\``, ``(``, ``)``
and ``,`` in values (``criterion``), so a value such as ``Smith, Jones (NZ)`` is one value and
never changes the criteria's structure; at most 10 criteria (§4).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.errors import DataError, InvalidConfigurationError
from engine.spec import ModuleCall
from modules.connections import ApiClient, ApiResponse, ApiSettings, connection_of, run_sleep

ZOHO_API_URL = "https://www.zohoapis.com"
API_PATH = "/crm/v8"
PAGE_SIZE = 200
MAX_FIELDS = 50
MAX_CRITERIA = 10
CREDIT_WINDOW_SECONDS = 24 * 3600.0
MODULES = ("Accounts", "Contacts", "Vendors", "Products", "Quotes", "Invoices")


@dataclass(frozen=True)
class Edition:
    """What a Zoho CRM edition allows an organisation (vendor/zoho/NOTES.md §8)."""

    base_credits: int
    credits_per_user: int
    max_credits: int | None
    concurrent_calls: int

    def credits(self, users: int) -> int:
        """API credits per rolling day for ``users`` licensed users."""
        total = self.base_credits + self.credits_per_user * max(users, 0)
        return min(total, self.max_credits) if self.max_credits else total


EDITIONS: Mapping[str, Edition] = {
    "free": Edition(5_000, 0, 5_000, 5),
    "standard": Edition(50_000, 250, 100_000, 10),
    "professional": Edition(50_000, 500, 3_000_000, 15),
    "enterprise": Edition(50_000, 1_000, 5_000_000, 20),
    "ultimate": Edition(50_000, 2_000, None, 25),
}
"""Credits: Zoho's API-limits page; calls in flight: Free 5 … Ultimate 25 (a secondary
source; the steps between are Zoho's published 10/15/20)."""
DEFAULT_EDITION = "free"


def edition_of(connection: Mapping[str, Any]) -> tuple[Edition, int]:
    """The connection's edition and licensed users (Free, one user, when not set).

    Raises:
        InvalidConfigurationError: an edition Zoho does not sell, or a user count that is no
            whole number.
    """
    name = str(connection.get("edition") or DEFAULT_EDITION).strip().lower()
    if name not in EDITIONS:
        raise InvalidConfigurationError(
            f"unknown Zoho CRM edition '{name}' ({', '.join(EDITIONS)})"
        )
    try:
        users = int(connection.get("licensed_users") or 1)
    except (TypeError, ValueError):
        raise InvalidConfigurationError("licensed users must be a whole number") from None
    return EDITIONS[name], users


def licence_of(org_answer: Any) -> dict[str, str]:
    """``edition`` and ``licensed_users`` from a ``GET /org`` answer's ``license_details``
    (``paid_type``, ``users_license_purchased``); empty for an edition not in ``EDITIONS``."""
    orgs = org_answer.get("org") if isinstance(org_answer, Mapping) else None
    first = orgs[0] if isinstance(orgs, list) and orgs and isinstance(orgs[0], Mapping) else {}
    licence = first.get("license_details") or {}
    edition = str(licence.get("paid_type") or "").lower()
    if edition not in EDITIONS:
        return {}
    return {"edition": edition, "licensed_users": str(licence.get("users_license_purchased") or 1)}


def api_domain(connection: Mapping[str, Any]) -> str:
    """The API host of the connection's data centre (no trailing slash)."""
    return str(connection.get("api_domain") or ZOHO_API_URL).rstrip("/")


def zoho_settings(connection: Mapping[str, Any], **overrides: Any) -> ApiSettings:
    """Request settings for ``connection``.

    Raises:
        InvalidConfigurationError: the connection has no token yet.
    """
    token = connection.get("access_token")
    if not token:
        raise InvalidConfigurationError("the Zoho CRM connection is not authorized yet")
    domain = api_domain(connection)
    edition, users = edition_of(connection)
    account = f"zohocrm:{getattr(connection, 'id', None) or domain}"
    settings: dict[str, Any] = {
        "label": "Zoho CRM",
        "base_url": domain + API_PATH,
        "error_message": zoho_error_message,
        "headers": {"Authorization": f"Zoho-oauthtoken {token}", "Accept": "application/json"},
        "rate_key": account,
        "rate_limit": edition.credits(users),
        "rate_window": CREDIT_WINDOW_SECONDS,
        "concurrency_key": account,
        "max_concurrent": edition.concurrent_calls,
    }
    return ApiSettings(**{**settings, **overrides})


def client_for(call: ModuleCall) -> ZohoClient:
    """The Zoho CRM client for a module call (its connection, the run's session and sleep)."""
    api = ApiClient(zoho_settings(connection_of(call)), call.context.http, run_sleep(call))
    return ZohoClient(api)


def module_name(value: Any) -> str | None:
    """Zoho's module API name for what a user picked ("accounts" → "Accounts"); other names
    pass unchanged so modules this list lacks still reach the API."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    return next((m for m in MODULES if m.lower() == text.lower()), text)


class ZohoClient:
    """Zoho CRM records by module over an ``ApiClient``."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def modified_since(
        self,
        module: str,
        since: datetime | None,
        fields: Iterable[str],
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Records modified after ``since`` (all when None), oldest change first, with
        ``fields`` (v8 lists must name them; ``Modified_Time`` is always added).

        Raises:
            InvalidConfigurationError: more than 50 fields.
        """
        headers = {"If-Modified-Since": since.isoformat(timespec="seconds")} if since else {}
        params = {
            "fields": field_list([*fields, "Modified_Time"]),
            "sort_by": "Modified_Time",
            "sort_order": "asc",
        }
        yield from self._pages(module, params, headers, limit)

    def search(
        self, module: str, params: Mapping[str, Any], limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Records matching ``criteria``, ``email``, ``phone`` or ``word``; none on 204."""
        yield from self._pages(f"{module}/search", params, {}, limit)

    def _pages(
        self,
        path: str,
        params: Mapping[str, Any],
        headers: Mapping[str, str],
        limit: int | None,
    ) -> Iterator[dict[str, Any]]:
        position: dict[str, Any] = {"page": 1}
        produced = 0
        while True:
            query = {**params, **position, "per_page": PAGE_SIZE}
            body = self.api.request("GET", path, params=query, headers=headers).body or {}
            records = [r for r in body.get("data") or [] if isinstance(r, Mapping)]
            for record in records:
                yield dict(record)
                produced += 1
                if limit and produced >= limit:
                    return
            info = body.get("info") or {}
            if not info.get("more_records") or not records:
                return
            position = next_position(info, position)

    def get(self, module: str, record_id: str) -> dict[str, Any]:
        """One record.

        Raises:
            DataError: no such record (Zoho answers 204).
        """
        body = self.api.request("GET", f"{module}/{record_id}").body or {}
        records = body.get("data") or []
        if not records:
            raise DataError(f"Zoho CRM: no {module} record with id {record_id}")
        return dict(records[0])

    def insert(self, module: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """Create one record; returns it as stored."""
        body = self.api.request("POST", module, json={"data": [dict(record)]}).body
        return self.get(module, record_result(body)["details"]["id"])

    def update(self, module: str, record_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """Change the given fields of one record; returns it as stored."""
        path = f"{module}/{record_id}"
        body = self.api.request("PUT", path, json={"data": [dict(record)]}).body
        return self.get(module, record_result(body)["details"]["id"])

    def upsert(
        self, module: str, record: Mapping[str, Any], duplicate_check_fields: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Insert, or update the record a duplicate-check field matches; returns the record
        with ``$action`` (``insert``/``update``) and ``$duplicate_field``."""
        payload: dict[str, Any] = {"data": [dict(record)]}
        fields = [f for f in duplicate_check_fields if f]
        if fields:
            payload["duplicate_check_fields"] = fields
        result = record_result(self.api.request("POST", f"{module}/upsert", json=payload).body)
        stored = self.get(module, result["details"]["id"])
        return {
            **stored,
            "$action": result.get("action"),
            "$duplicate_field": result.get("duplicate_field"),
        }

    def watch(self, channels: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Subscribe notification channels (``POST /actions/watch``); per-channel answers."""
        body = self.api.request("POST", "actions/watch", json={"watch": list(channels)}).body
        return [dict(item) for item in (body or {}).get("watch") or []]

    def unwatch(self, channel_ids: Iterable[Any]) -> None:
        """Remove notification channels."""
        ids = ",".join(str(c) for c in channel_ids)
        self.api.request("DELETE", "actions/watch", params={"channel_ids": ids})


def next_position(info: Mapping[str, Any], position: Mapping[str, Any]) -> dict[str, Any]:
    """Where the next page starts: Zoho's ``next_page_token`` when it gives one (the only way
    past the 2,000th record), else the next page number."""
    token = info.get("next_page_token")
    if token:
        return {"page_token": token}
    return {"page": int(position.get("page") or 1) + 1}


def field_list(fields: Iterable[str]) -> str:
    """The ``fields`` parameter: API names, once each, comma-separated.

    Raises:
        InvalidConfigurationError: none, or more than Zoho's 50.
    """
    names = list(dict.fromkeys(f.strip() for f in fields if f and f.strip()))
    if not names or len(names) > MAX_FIELDS:
        raise InvalidConfigurationError(
            f"name between 1 and {MAX_FIELDS} fields to read (got {len(names)})"
        )
    return ",".join(names)


def record_result(body: Any) -> dict[str, Any]:
    """The one per-record answer of a write.

    Raises:
        DataError: the record was refused (its code and message, verbatim).
    """
    results = (body or {}).get("data") if isinstance(body, Mapping) else None
    if not results:
        raise DataError("Zoho CRM answered without a result")
    result = dict(results[0])
    if result.get("status") != "success":
        raise DataError(f"Zoho CRM: {_sentence(result)}", detail={"body": body})
    return result


def zoho_error_message(response: ApiResponse) -> str:
    """One sentence from Zoho's error answer: ``CODE: message (api_name)``; for a refused
    batch, each record's sentence joined by "; "."""
    body = response.body if isinstance(response.body, Mapping) else {}
    items = [r for r in body.get("data") or [] if isinstance(r, Mapping)]
    failures = [_sentence(r) for r in items if r.get("status") == "error"]
    if failures:
        return "; ".join(dict.fromkeys(failures))
    if body.get("code") or body.get("message"):
        return _sentence(body)
    return f"HTTP {response.status}" + (f": {response.text[:200]}" if response.text else "")


def _sentence(problem: Mapping[str, Any]) -> str:
    code, message = problem.get("code"), problem.get("message")
    text = ": ".join(str(part) for part in (code, message) if part)
    details = problem.get("details")
    field = details.get("api_name") if isinstance(details, Mapping) else None
    return f"{text} ({field})" if field else text


# -- search criteria ----------------------------------------------------------------------------

CRITERIA_OPERATORS = frozenset(
    {
        "equals",
        "not_equal",
        "starts_with",
        "in",
        "greater_than",
        "greater_equal",
        "less_than",
        "less_equal",
        "between",
    }
)


def escape_value(value: Any) -> str:
    """A criteria value with ``\\``, ``(``, ``)`` and ``,`` escaped (booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    for special in ("\\", "(", ")", ","):
        text = text.replace(special, "\\" + special)
    return text


def criterion(field: str, operator: str, value: Any) -> str:
    """One ``(field:operator:value)``; ``in`` and ``between`` take a list (joined by the
    unescaped commas that separate values).

    Raises:
        InvalidConfigurationError: an unknown operator.
    """
    if operator not in CRITERIA_OPERATORS:
        raise InvalidConfigurationError(f"unknown Zoho CRM search operator '{operator}'")
    values = value if isinstance(value, list | tuple) else [value]
    if operator not in ("in", "between"):
        values = values[:1]
    return f"({field}:{operator}:{','.join(escape_value(v) for v in values)})"


def all_of(criteria: list[str]) -> str | None:
    """Criteria joined with ``and`` (one criterion stays as it is); None when empty.

    Raises:
        InvalidConfigurationError: more than Zoho's 10 criteria.
    """
    if not criteria:
        return None
    if len(criteria) > MAX_CRITERIA:
        raise InvalidConfigurationError(
            f"Zoho CRM searches with at most {MAX_CRITERIA} criteria (got {len(criteria)})"
        )
    if len(criteria) == 1:
        return criteria[0]
    return "(" + "and".join(criteria) + ")"
