"""Talking to a 1CRM instance's REST API (``{instance URL}/api.php/``) for one connection.

HTTP Basic auth with the connection's admin user; errors ``{"error": {"code", "message",
"fields"}}`` become one sentence naming the failing fields. Rate limit: ``rate_limit`` calls a
minute per connection (120 unless the connection says otherwise), shared across workers.
Dates: 1CRM's ``date_entered``/``date_modified`` (UTC ``YYYY-MM-DD HH:MM:SS``) become ISO UTC
strings in bundles, like every other app's dates.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from engine.errors import DataError, InvalidConfigurationError
from engine.spec import ModuleCall
from modules.connections import ApiClient, ApiResponse, ApiSettings, connection_of, run_sleep

API_PATH = "/api.php"
PAGE_SIZE = 200  # the API's largest page
CALLS_PER_MINUTE = 120
AUDIT_DATES = ("date_entered", "date_modified")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def onecrm_settings(connection: Mapping[str, Any], **overrides: Any) -> ApiSettings:
    """Request settings for ``connection``.

    Raises:
        InvalidConfigurationError: the connection has no instance URL.
    """
    url = str(connection.get("url") or "").rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise InvalidConfigurationError("the 1CRM connection needs the instance URL (https://…)")
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

    def search(
        self, model: str, params: Mapping[str, Any], limit: int | None
    ) -> Iterator[dict[str, Any]]:
        """Records matching ``params`` (``filter_text``, ``fields[]`` …), up to ``limit``."""
        offset, wanted = 0, limit or None
        while True:
            size = min(PAGE_SIZE, wanted - offset) if wanted else PAGE_SIZE
            query = {**params, "limit": size, "offset": offset}
            body = self.api.request("GET", f"data/{model}", params=query).body or {}
            records = body.get("records") or []
            yield from (from_onecrm(r) for r in records)
            offset += len(records)
            total = int(body.get("total_results") or 0)
            if len(records) < size or offset >= total or (wanted and offset >= wanted):
                return

    def get(self, model: str, record_id: str, fields: list[str] | None = None) -> dict[str, Any]:
        params = {"fields[]": fields} if fields else None
        body = self.api.request("GET", f"data/{model}/{record_id}", params=params).body or {}
        return from_onecrm(_record(body))

    def create(self, model: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Create a record (assigned to the connection's default user unless mapped)."""
        body = self.api.request("POST", f"data/{model}", json={"data": self._assigned(data)}).body
        return self.get(model, str((body or {}).get("id")))

    def update(
        self, model: str, record_id: str, data: Mapping[str, Any], create_if_missing: bool
    ) -> dict[str, Any]:
        """Change the mapped fields; with ``create_if_missing`` a missing id is created."""
        payload = self._assigned(data) if create_if_missing else dict(data)
        params = {"create_if_missing": "1"} if create_if_missing else None
        path = f"data/{model}/{record_id}"
        body = self.api.request("PATCH", path, params=params, json={"data": payload}).body
        return from_onecrm(_record(body or {}))

    def _assigned(self, data: Mapping[str, Any]) -> dict[str, Any]:
        if data.get("assigned_user_id") or not self.default_assigned_user:
            return dict(data)
        return {**data, "assigned_user_id": self.default_assigned_user}


def _record(body: Mapping[str, Any]) -> dict[str, Any]:
    record = body.get("record")
    if not isinstance(record, Mapping):
        raise DataError("1CRM answered without a record")
    return dict(record)


def onecrm_error_message(response: ApiResponse) -> str:
    """``message`` of 1CRM's error envelope, then each failing field and why."""
    body = response.body if isinstance(response.body, Mapping) else {}
    error = body.get("error") if isinstance(body.get("error"), Mapping) else {}
    message = str(error.get("message") or f"HTTP {response.status}")
    fields = error.get("fields") or {}
    if isinstance(fields, Mapping) and fields:
        message += " (" + "; ".join(f"{name}: {why}" for name, why in fields.items()) + ")"
    return message


def from_onecrm(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record as a bundle: audit timestamps as ISO UTC strings."""
    bundle = dict(record)
    for name in AUDIT_DATES:
        if name in bundle:
            bundle[name] = iso_timestamp(bundle[name])
    return bundle


def iso_timestamp(value: Any) -> Any:
    """``YYYY-MM-DD HH:MM:SS`` (UTC) → ``YYYY-MM-DDTHH:MM:SS.000Z``; other values unchanged."""
    try:
        moment = datetime.strptime(str(value), TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return value
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
