"""Zoho CRM modules (API v8): New Event (notifications), Watch Records, Search Records, and Get /
Create / Update / Upsert a Record — for Accounts, Contacts, Vendors, Products, Quotes and
Invoices (the module is chosen in the parameters or mapped as ``module``).

Every module takes ``parameters.__IMTCONN__`` (a Zoho CRM connection). Bundles are Zoho's
records with Zoho's field names; lookups go in as ``{"id"}`` (a mapped id is wrapped) and come
out as ``{"name", "id"}``; Quotes and Invoices carry their lines in the ``Quoted_Items`` /
``Invoiced_Items`` subforms. Searches check Zoho's answers against what was asked: Zoho's
``equals`` also matches substrings (vendor/zoho/NOTES.md §4).
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel

from engine.errors import InvalidConfigurationError
from engine.spec import Bundle, Effect, Empty, ModuleCall, ModuleKind, ModuleSpec, RecordNaming
from modules.connections import (
    ApiClient,
    cursor_or_start,
    limited,
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
    "Vendors": "Vendor_Name",
    "Products": "Product_Name",
    "Quotes": "Subject",
    "Invoices": "Subject",
}
"""Each module's name field, for the search's ``name`` helper."""

LINE_ITEMS: Mapping[str, str] = {"Quotes": "Quoted_Items", "Invoices": "Invoiced_Items"}
"""The v8 subform holding each inventory module's lines (v2's ``Product_Details``)."""

LOOKUPS: Mapping[str, frozenset[str]] = {
    "Contacts": frozenset({"Account_Name"}),
    "Products": frozenset({"Vendor_Name"}),
    "Quotes": frozenset({"Account_Name", "Contact_Name"}),
    "Invoices": frozenset({"Account_Name", "Contact_Name"}),
}
"""Each module's lookup fields: a mapped id goes to Zoho as ``{"id": …}`` (a line item's
``Product_Name`` too). ``Account_Name`` of Accounts is the account's name, not a lookup."""

WATCH_FIELDS: Mapping[str, tuple[str, ...]] = {
    "Accounts": (
        "Account_Name",
        "Account_Number",
        "Account_Type",
        "Industry",
        "Phone",
        "Fax",
        "Website",
        *(
            f"{side}_{part}"
            for side in ("Billing", "Shipping")
            for part in ("Street", "City", "State", "Code", "Country")
        ),
        "Description",
    ),
    "Contacts": (
        "First_Name",
        "Last_Name",
        "Full_Name",
        "Email",
        "Secondary_Email",
        "Phone",
        "Mobile",
        "Title",
        "Account_Name",
        *(f"Mailing_{part}" for part in ("Street", "City", "State", "Zip", "Country")),
        "Description",
    ),
    "Vendors": (
        "Vendor_Name",
        "Email",
        "Phone",
        "Website",
        "GL_Account",
        "Category",
        "Street",
        "City",
        "State",
        "Zip_Code",
        "Country",
        "Description",
    ),
    "Products": (
        "Product_Name",
        "Product_Code",
        "Unit_Price",
        "Product_Active",
        "Taxable",
        "Tax",
        "Qty_in_Stock",
        "Description",
    ),
    "Quotes": (
        "Subject",
        "Quote_Number",
        "Quote_Stage",
        "Valid_Till",
        "Account_Name",
        "Contact_Name",
        "Quoted_Items",
        "Sub_Total",
        "Discount",
        "Tax",
        "Adjustment",
        "Grand_Total",
        "Description",
    ),
    "Invoices": (
        "Subject",
        "Invoice_Number",
        "Invoice_Date",
        "Due_Date",
        "Status",
        "Account_Name",
        "Contact_Name",
        "Invoiced_Items",
        "Sub_Total",
        "Discount",
        "Tax",
        "Adjustment",
        "Grand_Total",
        "Description",
    ),
}
"""The fields Watch Records reads when the trigger names none (v8 lists must name them, at most
50); the audit fields (``Owner``, ``Created_Time``, ``Modified_Time``) are always added."""
AUDIT_FIELDS = ("Owner", "Created_Time", "Modified_Time")

FIELDS_USED: Mapping[str, tuple[str, ...]] = {
    module: (
        *(("Last_Name", "Email") if module == "Contacts" else ()),
        NAME_FIELDS[module],
        *((LINE_ITEMS[module],) if module in LINE_ITEMS else ()),
        "Modified_Time",
    )
    for module in NAME_FIELDS
}
"""Per module, the fields the modules themselves name (``connection check`` looks for them)."""

CHANNEL_SECONDS = 7 * 24 * 3600 - 300
"""Zoho lets a v8 channel live at most a week (NOTES.md §7); activation asks for just under,
and the service renews it after half of that."""

log = logging.getLogger("switchboard.zohocrm")


def _module(call: ModuleCall) -> str:
    data = call.input_as(ModuleInput)
    parameters = call.parameters_as(ZohoParameters)
    module = module_name(data.module) or module_name(parameters.module)
    if module is None:
        raise InvalidConfigurationError("choose the Zoho CRM module (Accounts, Contacts …)")
    return module


def record_fields(module: str, data: BaseModel) -> dict[str, Any]:
    """The mapped record fields: no control keys, nothing left empty, a mapped id in a lookup
    field (and a line item's ``Product_Name``) wrapped as ``{"id": …}``."""
    fields = data.model_dump(exclude=set(CONTROL_FIELDS), exclude_none=True)
    fields = {k: v for k, v in fields.items() if v not in ("", [], {})}
    for name in LOOKUPS.get(module, ()) & fields.keys():
        fields[name] = as_lookup(fields[name])
    subform = LINE_ITEMS.get(module)
    if subform and isinstance(fields.get(subform), list):
        fields[subform] = [
            {**item, "Product_Name": as_lookup(item["Product_Name"])}
            if isinstance(item, Mapping) and "Product_Name" in item
            else item
            for item in fields[subform]
        ]
    return fields


def as_lookup(value: Any) -> Any:
    """``"5843…"`` or ``5843…`` → ``{"id": "5843…"}``; a mapping passes unchanged."""
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        return {"id": str(value).strip()}
    return value


# -- New Event (notifications) ------------------------------------------------------------------


def webhook_bundles(
    request_bundle: Mapping[str, Any], parameters: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """One bundle per record of a Zoho notification: ``module``, ``id``, ``operation``
    (insert, update, delete), ``affected_fields`` (updates), ``channel_id``, ``server_time``.

    Zoho signs nothing: the channel's ``token``, echoed in every notification, is the only
    proof it came from Zoho (vendor/zoho/NOTES.md §7). A notification whose token is not the
    trigger's (compared in constant time), or any notification when the trigger has no token,
    gives no bundles.
    """
    settings = NewEventParameters.model_validate(parameters or {})
    if not token_matches(settings.token, request_bundle.get("token")):
        log.warning("a Zoho CRM notification without the channel's token was dropped")
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


def token_matches(expected: str | None, given: Any) -> bool:
    """Whether a notification's echoed ``token`` is the channel's (constant-time)."""
    if not expected or not isinstance(given, str):
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


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
    id. For the service to call on activation — and again before the channel expires (a week).
    Related-record changes are not asked for (``notify_on_related_action``): the trigger is
    about the module's own records.

    Raises:
        InvalidConfigurationError: no module chosen, or no verification token (the only proof
            a notification comes from Zoho).
        DataError: Zoho refused the subscription (its message).
    """
    settings = NewEventParameters.model_validate(parameters)
    module = module_name(settings.module)
    if module is None:
        raise InvalidConfigurationError("choose the Zoho CRM module to watch")
    if not settings.token:
        raise InvalidConfigurationError(
            "set the channel's verification token (a secret of up to 50 characters): Zoho "
            "echoes it in every notification and signs nothing else"
        )
    channel_id = str(int(time.time() * 1000))
    expiry = datetime.now(UTC) + timedelta(seconds=CHANNEL_SECONDS)
    channel = {
        "channel_id": channel_id,
        "events": notification_events(module, settings.operations),
        "notify_url": url,
        "channel_expiry": expiry.isoformat(timespec="seconds"),
        "token": settings.token,
        "notify_on_related_action": False,
    }
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
    parameters = call.parameters_as(WatchParameters)
    since, seen = _position(call, parameters)
    if since is None and not starts_with_all(call, parameters.start):
        call.context.advance_cursor(_starting_now(call))
        return
    asked = since - timedelta(seconds=1) if since else None
    module = _module(call)
    records = client_for(call).modified_since(module, asked, watch_fields(module, parameters))
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
    module = _module(call)
    fields = watch_fields(module, call.parameters_as(WatchParameters))
    stamped = client_for(call).modified_since(module, now - timedelta(seconds=1), fields)
    seen = [_version(r) for r in stamped if (_instant(r.get("Modified_Time")) or now) >= now]
    return {"since": now.isoformat(), "seen": sorted(seen)}


def watch_fields(module: str, parameters: WatchParameters) -> list[str]:
    """The fields Watch Records asks for: the trigger's, else the module's usual ones, with the
    audit fields (the cursor needs ``Modified_Time``).

    Raises:
        InvalidConfigurationError: a module without usual fields and none named.
    """
    chosen = parameters.fields or list(WATCH_FIELDS.get(module, ()))
    if not chosen:
        raise InvalidConfigurationError(f"name the {module} fields to output (at most 50)")
    return list(dict.fromkeys([*chosen, *AUDIT_FIELDS]))


def _position(call: ModuleCall, parameters: WatchParameters) -> tuple[datetime | None, set[str]]:
    cursor = cursor_or_start(call)
    if isinstance(cursor, Mapping) and "since" in cursor:
        return _instant(cursor["since"]), set(cursor.get("seen") or [])
    if isinstance(cursor, Mapping) and cursor.get("type"):  # the UI's "choose where to start"
        if cursor["type"] == "all":
            return None, set()
        # Zoho stamps to the second: a start pinned mid-second ("now" is pinned with its
        # microseconds) would skip what changes later in that same second.
        moment = _required_instant(cursor.get("date") or cursor.get("value"))
        return moment.replace(microsecond=0), set()
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
    ``name`` helper (``match``: ``starts_with`` or ``equals``) and raw criteria (AND); else
    ``email``, ``phone`` or ``word``, in that order (Zoho takes one of them per request).

    Raises:
        InvalidConfigurationError: nothing to search by, or an unknown ``match``.
    """
    rules = [criterion(rule.field, rule.operator, rule.value) for rule in data.filter]
    if data.name:
        rules.append(criterion(name_field(module), name_operator(data.match), data.name))
    if data.criteria:
        rules.append(data.criteria)
    choices = {"criteria": all_of(rules), "email": data.email, "phone": data.phone}
    choices["word"] = data.word
    for key, value in choices.items():
        if value not in (None, ""):
            return {key: value}
    raise InvalidConfigurationError("search by criteria, name, e-mail, phone or word")


def name_field(module: str) -> str:
    return NAME_FIELDS.get(module, "Name")


def name_operator(match: str) -> str:
    """The criteria operator of the ``name`` helper."""
    if match not in ("starts_with", "equals"):
        raise InvalidConfigurationError(f"unknown match '{match}' (starts_with or equals)")
    return match


def search_records(call: ModuleCall) -> Iterator[Bundle]:
    """Records matching the search; none (not an error) when Zoho answers 204.

    Zoho's ``equals`` matches substrings of text (``ABC`` finds "ABC Inc", NOTES.md §4), so
    the records of an ``equals`` rule (and of ``name`` with ``match`` equals) are compared
    again here, exactly (case-insensitive), and an ``email`` search keeps the records with
    that e-mail address — before ``limit`` counts them."""
    data = call.input_as(SearchInput)
    parameters = call.parameters_as(SearchParameters)
    module = _module(call)
    params = search_params(module, data)
    found = client_for(call).search(module, params)
    exact = [(rule.field, rule.value) for rule in data.filter if rule.operator == "equals"]
    if data.name and data.match == "equals":
        exact.append((name_field(module), data.name))
    matching = (
        r
        for r in found
        if all(equals_exactly(r.get(field), value) for field, value in exact)
        and ("email" not in params or has_email(r, params["email"]))
    )
    yield from with_position(list(limited(matching, parameters.limit or None)))


def has_email(record: Mapping[str, Any], email: str) -> bool:
    """Whether one of the record's e-mail fields (``Email``, ``Secondary_Email`` …) is
    ``email`` (case-insensitive)."""
    return any(
        isinstance(value, str) and value.strip().casefold() == email.strip().casefold()
        for key, value in record.items()
        if "email" in key.lower()
    )


def equals_exactly(actual: Any, wanted: Any) -> bool:
    """Whether a record's value is the ``equals`` rule's value itself: text case-insensitively,
    numbers as numbers, a lookup by its name or id."""
    if isinstance(actual, Mapping):
        return any(equals_exactly(actual.get(k), wanted) for k in ("name", "id"))
    if isinstance(actual, list):
        return any(equals_exactly(item, wanted) for item in actual)
    if actual is None:
        return wanted in (None, "")
    if isinstance(actual, bool) or isinstance(wanted, bool):
        return str(actual).lower() == str(wanted).lower()
    if isinstance(actual, int | float):
        try:
            return Decimal(str(actual)) == Decimal(str(wanted))
        except InvalidOperation:
            return False
    return str(actual).casefold() == str(wanted).casefold()


def get_record(call: ModuleCall) -> Iterator[Bundle]:
    data = call.input_as(GetInput)
    yield client_for(call).get(_module(call), data.id)


def create_record(call: ModuleCall) -> Iterator[Bundle]:
    module = _module(call)
    yield client_for(call).insert(module, record_fields(module, call.input))


def update_record(call: ModuleCall) -> Iterator[Bundle]:
    data = call.input_as(UpdateInput)
    module = _module(call)
    yield client_for(call).update(module, data.id, record_fields(module, data))


def upsert_record(call: ModuleCall) -> Iterator[Bundle]:
    data = call.input_as(UpsertInput)
    module = _module(call)
    fields = record_fields(module, data)
    yield client_for(call).upsert(module, fields, data.duplicate_check_fields)


# -- specs ------------------------------------------------------------------------------------


RECORD_NAMING = RecordNaming(
    key=("id",),
    name=("Account_Name", "Full_Name", "Last_Name", "Deal_Name", "Subject", "Product_Name", "Name"),
)
"""A Zoho record by its ``id``; named by its module's name field (Accounts, Contacts, Leads,
Deals, Invoices/Quotes/Sales Orders, Products, custom modules)."""

EVENT_NAMING = RecordNaming(key=("id",))
"""A notification names the changed record by ``id`` only (``module`` is its module)."""

_spec = module_factory(
    "zohocrm",
    parameters=ZohoParameters,
    input_model=ModuleInput,
    output=RecordOutput,
    naming=RECORD_NAMING,
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
        effect=Effect.WATCH,
        naming=EVENT_NAMING,
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
        effect=Effect.WATCH,
    ),
    _spec(
        "SearchRecords",
        "Search Records",
        ModuleKind.SEARCH,
        search_records,
        parameters=SearchParameters,
        input_model=SearchInput,
        effect=Effect.SEARCH,
    ),
    _spec(
        "GetRecord", "Get a Record", _ACTION, get_record, input_model=GetInput, effect=Effect.READ
    ),
    _spec(
        "CreateRecord",
        "Create a Record",
        _ACTION,
        create_record,
        input_model=CreateInput,
        effect=Effect.CREATE,
    ),
    _spec(
        "UpdateRecord",
        "Update a Record",
        _ACTION,
        update_record,
        input_model=UpdateInput,
        effect=Effect.UPDATE,
    ),
    _spec(
        "UpsertRecord",
        "Upsert a Record",
        _ACTION,
        upsert_record,
        input_model=UpsertInput,
        effect=Effect.UPSERT,
    ),
)
