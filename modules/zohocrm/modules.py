"""Zoho CRM modules: New Event (notifications), Watch Records, Search Records, and Get / Create /
Update / Upsert a Record — for Accounts, Contacts, Products, Quotes and Invoices (the module is
chosen in the parameters or mapped as ``module``).

Every module takes ``parameters.__IMTCONN__`` (a Zoho CRM connection). Bundles are Zoho's
records with Zoho's field names; lookups come out as ``{"name", "id"}``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from engine.errors import InvalidConfigurationError
from engine.spec import Bundle, Empty, ModuleCall, ModuleKind, ModuleSpec
from modules.connections import (
    ApiClient,
    cursor_or_start,
    module_factory,
    starts_with_all,
    with_position,
)
from modules.zohocrm.client import (
    ZohoClient,
    all_of,
    client_for,
    criterion,
    module_name,
    record_result,
    zoho_settings,
)
from modules.zohocrm.models import (
    CreateInput,
    EventOutput,
    GetInput,
    ModuleInput,
    NewEventParameters,
    RecordOutput,
    SearchInput,
    SearchParameters,
    UpdateInput,
    UpsertInput,
    WatchParameters,
    ZohoParameters,
)

CONTROL_FIELDS = frozenset({"module", "id", "duplicate_check_fields"})
"""Mapper keys that steer the module rather than being record fields."""

NAME_FIELDS: Mapping[str, str] = {
    "Accounts": "Account_Name",
    "Contacts": "Full_Name",
    "Products": "Product_Name",
    "Quotes": "Subject",
    "Invoices": "Subject",
}
"""Each module's name field, for the search's ``name`` helper."""

CHANNEL_SECONDS = 24 * 3600 - 300
"""Zoho lets a channel live at most a day; the activation hook asks for just under that."""


def _module(call: ModuleCall) -> str:
    data: ModuleInput = call.input  # type: ignore[assignment]
    parameters: ZohoParameters = call.parameters  # type: ignore[assignment]
    module = module_name(data.module) or module_name(parameters.module)
    if module is None:
        raise InvalidConfigurationError("choose the Zoho CRM module (Accounts, Contacts …)")
    return module


def _fields(data: BaseModel) -> dict[str, Any]:
    """The mapped record fields: no control keys, nothing left empty."""
    fields = data.model_dump(exclude=set(CONTROL_FIELDS), exclude_none=True)
    return {k: v for k, v in fields.items() if v not in ("", [], {})}


# -- New Event (notifications) ------------------------------------------------------------------


def webhook_bundles(
    request_bundle: Mapping[str, Any], parameters: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """One bundle per record of a Zoho notification: ``module``, ``id``, ``operation``
    (insert, update, delete), ``affected_fields`` (updates), ``channel_id``, ``server_time``.

    With the trigger's ``parameters`` carrying a ``token``, a notification with another token
    (not from our channel) gives no bundles.
    """
    settings = NewEventParameters.model_validate(parameters or {})
    if settings.token and request_bundle.get("token") != settings.token:
        return []
    changed = _affected_fields(request_bundle.get("affected_fields"))
    common = {
        "module": request_bundle.get("module"),
        "operation": request_bundle.get("operation"),
        "channel_id": request_bundle.get("channel_id"),
        "server_time": request_bundle.get("server_time"),
    }
    return [
        {**common, "id": str(record_id), "affected_fields": changed.get(str(record_id))}
        for record_id in request_bundle.get("ids") or []
    ]


def _affected_fields(value: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in value or []:
        if isinstance(item, Mapping):
            found.update({str(k): list(v or []) for k, v in item.items()})
    return found


def new_event(call: ModuleCall) -> Iterator[Bundle]:
    """Run with a notification body ("run once" with a sample): its records."""
    yield from webhook_bundles(call.input.model_dump(), call.parameters.model_dump())


def notification_events(module: str, operations: list[str]) -> list[str]:
    """Zoho's event names: ``Accounts.all``, ``Contacts.create`` …"""
    return [f"{module}.{operation}" for operation in operations or ["all"]]


def attach_webhook(
    connection: Mapping[str, Any], session: Any, url: str, parameters: Mapping[str, Any]
) -> str:
    """Subscribe ``url`` to the trigger's module (``POST /actions/watch``); returns the channel
    id. For the service to call on activation — and again before the channel expires (a day).

    Raises:
        InvalidConfigurationError: no module chosen.
        DataError: Zoho refused the subscription (its message).
    """
    settings = NewEventParameters.model_validate(parameters)
    module = module_name(settings.module)
    if module is None:
        raise InvalidConfigurationError("choose the Zoho CRM module to watch")
    channel_id = str(int(time.time() * 1000))
    expiry = datetime.now(UTC) + timedelta(seconds=CHANNEL_SECONDS)
    channel = {
        "channel_id": channel_id,
        "events": notification_events(module, settings.operations),
        "notify_url": url,
        "channel_expiry": expiry.isoformat(timespec="seconds"),
    }
    if settings.token:
        channel["token"] = settings.token
    record_result({"data": _client(connection, session).watch([channel])})
    return channel_id


def detach_webhook(connection: Mapping[str, Any], session: Any, channel_id: str) -> None:
    """Remove a channel made by ``attach_webhook`` (when the scenario is deactivated)."""
    _client(connection, session).unwatch([channel_id])


def _client(connection: Mapping[str, Any], session: Any) -> ZohoClient:
    return ZohoClient(ApiClient(zoho_settings(connection, max_retries=0), session, time.sleep))


# -- Watch Records ------------------------------------------------------------------------------


def watch_records(call: ModuleCall) -> Iterator[Bundle]:
    """Records created or modified since the cursor, oldest first, at most ``limit`` a run.

    Zoho stamps ``Modified_Time`` to the second and ``If-Modified-Since`` keeps later records
    only, so the request asks from one second before the cursor and skips the versions
    (``id@Modified_Time``) already output: none lost or repeated when records share a second.
    The cursor is ``{"since": Modified_Time, "seen": [...]}``.
    """
    parameters: WatchParameters = call.parameters  # type: ignore[assignment]
    since, seen = _position(call, parameters)
    if since is None and not starts_with_all(call, parameters.start):
        call.context.advance_cursor(_starting_now(call))
        return
    asked = since - timedelta(seconds=1) if since else None
    records = client_for(call).modified_since(_module(call), asked)
    produced = 0
    for record in records:
        stamp = _instant(record.get("Modified_Time"))
        if _version(record) in seen or (since and stamp and stamp < since):
            continue
        since, seen = _advanced(since, seen, stamp, record)
        call.context.advance_cursor({"since": since.isoformat(), "seen": sorted(seen)})
        yield record
        produced += 1
        if produced >= parameters.limit:
            return


def _starting_now(call: ModuleCall) -> dict[str, Any]:
    """The first cursor of "from now on": now, to the second, with the versions already
    stamped in this second marked as seen (they are not news, and later ones in the same
    second must still come)."""
    now = call.context.now().astimezone(UTC).replace(microsecond=0)
    stamped = client_for(call).modified_since(_module(call), now - timedelta(seconds=1))
    seen = [_version(r) for r in stamped if (_instant(r.get("Modified_Time")) or now) >= now]
    return {"since": now.isoformat(), "seen": sorted(seen)}


def _position(call: ModuleCall, parameters: WatchParameters) -> tuple[datetime | None, set[str]]:
    cursor = cursor_or_start(call)
    if isinstance(cursor, Mapping) and "since" in cursor:
        return _instant(cursor["since"]), set(cursor.get("seen") or [])
    if isinstance(cursor, Mapping) and cursor.get("type"):  # the UI's "choose where to start"
        if cursor["type"] == "all":
            return None, set()
        return _required_instant(cursor.get("date") or cursor.get("value")), set()
    if cursor not in (None, ""):
        return _required_instant(cursor), set()
    if parameters.start == "date":
        return _required_instant(parameters.startDate), set()
    if parameters.start not in ("now", "all"):
        raise InvalidConfigurationError(f"unknown start '{parameters.start}' (now, date or all)")
    return None, set()


def _advanced(
    since: datetime | None, seen: set[str], stamp: datetime | None, record: Mapping[str, Any]
) -> tuple[datetime, set[str]]:
    if stamp is None or (since is not None and stamp <= since):
        return since or datetime.now(UTC), seen | {_version(record)}
    return stamp, {_version(record)}


def _version(record: Mapping[str, Any]) -> str:
    return f"{record.get('id')}@{record.get('Modified_Time')}"


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _required_instant(value: Any) -> datetime:
    moment = _instant(value) if value not in (None, "") else None
    if moment is None:
        raise InvalidConfigurationError("choose the date to start watching from")
    return moment


# -- search, get, create, update, upsert ------------------------------------------------------


def search_params(module: str, data: SearchInput) -> dict[str, Any]:
    """The search request's one parameter: ``criteria`` built from the rules (escaped), the
    ``name`` helper and raw criteria (AND); else ``email``, ``phone`` or ``word``, in that order
    (Zoho takes one of them per request).

    Raises:
        InvalidConfigurationError: nothing to search by.
    """
    rules = [criterion(rule.field, rule.operator, rule.value) for rule in data.filter]
    if data.name:
        rules.append(criterion(NAME_FIELDS.get(module, "Name"), "starts_with", data.name))
    if data.criteria:
        rules.append(data.criteria)
    choices = {"criteria": all_of(rules), "email": data.email, "phone": data.phone}
    choices["word"] = data.word
    for key, value in choices.items():
        if value not in (None, ""):
            return {key: value}
    raise InvalidConfigurationError("search by criteria, name, e-mail, phone or word")


def search_records(call: ModuleCall) -> Iterator[Bundle]:
    """Records matching the search; none (not an error) when Zoho answers 204."""
    data: SearchInput = call.input  # type: ignore[assignment]
    parameters: SearchParameters = call.parameters  # type: ignore[assignment]
    module = _module(call)
    found = client_for(call).search(module, search_params(module, data), parameters.limit or None)
    yield from with_position(list(found))


def get_record(call: ModuleCall) -> Iterator[Bundle]:
    data: GetInput = call.input  # type: ignore[assignment]
    yield client_for(call).get(_module(call), data.id)


def create_record(call: ModuleCall) -> Iterator[Bundle]:
    yield client_for(call).insert(_module(call), _fields(call.input))


def update_record(call: ModuleCall) -> Iterator[Bundle]:
    data: UpdateInput = call.input  # type: ignore[assignment]
    yield client_for(call).update(_module(call), data.id, _fields(data))


def upsert_record(call: ModuleCall) -> Iterator[Bundle]:
    data: UpsertInput = call.input  # type: ignore[assignment]
    module = _module(call)
    yield client_for(call).upsert(module, _fields(data), data.duplicate_check_fields)


# -- specs ------------------------------------------------------------------------------------


_spec = module_factory(
    "zohocrm", parameters=ZohoParameters, input_model=ModuleInput, output=RecordOutput
)


_ACTION = ModuleKind.ACTION

ZOHOCRM_MODULES: tuple[ModuleSpec, ...] = (
    _spec(
        "NewEvent",
        "New Event",
        ModuleKind.INSTANT_TRIGGER,
        new_event,
        parameters=NewEventParameters,
        input_model=Empty,
        output=EventOutput,
        hooks={
            "webhook_bundles": webhook_bundles,
            "attach_webhook": attach_webhook,
            "detach_webhook": detach_webhook,
            "renew_webhook_after": lambda: CHANNEL_SECONDS // 2,
        },
    ),
    _spec(
        "WatchRecords",
        "Watch Records",
        ModuleKind.TRIGGER,
        watch_records,
        parameters=WatchParameters,
        input_model=ModuleInput,
    ),
    _spec(
        "SearchRecords",
        "Search Records",
        ModuleKind.SEARCH,
        search_records,
        parameters=SearchParameters,
        input_model=SearchInput,
    ),
    _spec("GetRecord", "Get a Record", _ACTION, get_record, input_model=GetInput),
    _spec("CreateRecord", "Create a Record", _ACTION, create_record, input_model=CreateInput),
    _spec("UpdateRecord", "Update a Record", _ACTION, update_record, input_model=UpdateInput),
    _spec("UpsertRecord", "Upsert a Record", _ACTION, upsert_record, input_model=UpsertInput),
)
