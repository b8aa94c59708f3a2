"""Xero modules: watch, search, get, create and update contacts, invoices, quotes, payments,
credit notes (and their allocation to invoices), items and overpayments; search tax rates.

Every module takes ``parameters.__IMTCONN__`` (a Xero connection) and may override the
connection's organisation with ``tenantId`` in its mapper. Bundles carry Xero's field names with
dates as ISO UTC strings.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from pydantic import BaseModel

from engine.errors import InvalidConfigurationError
from engine.spec import Bundle, Effect, ModuleCall, ModuleKind, ModuleSpec, RecordNaming
from modules.connections import limited, module_factory, search_results
from modules.xero.client import client_for, iso, parse_iso, without_empty
from modules.xero.models import (
    AllocationIdInput,
    AllocationInput,
    AllocationOutput,
    ContactOutput,
    CreateContactInput,
    CreateCreditNoteInput,
    CreateInvoiceInput,
    CreateItemInput,
    CreatePaymentInput,
    CreateQuoteInput,
    CreditNoteOutput,
    FieldRule,
    GetCreditNoteInput,
    GetItemInput,
    GetOverpaymentInput,
    GetQuoteInput,
    InvoiceOutput,
    ItemOutput,
    OverpaymentOutput,
    PaymentIdInput,
    PaymentOutput,
    QuoteOutput,
    RecordIdInput,
    SearchContactsInput,
    SearchInput,
    SearchInvoicesInput,
    SearchItemsInput,
    SearchParameters,
    SearchQuotesInput,
    SearchTaxRatesInput,
    TaxRateOutput,
    TenantInput,
    UpdateContactInput,
    UpdateCreditNoteInput,
    UpdateInvoiceInput,
    UpdateItemInput,
    UpdateQuoteInput,
    WatchParameters,
    XeroParameters,
)
from modules.xero.webhooks import event_bundles, route_delivery

# -- watch (polling triggers) ---------------------------------------------------------------


def watch(resource: str, call: ModuleCall) -> Iterator[Bundle]:
    """Records of ``resource`` changed since the cursor, oldest first, at most ``limit``.

    The cursor is the ``UpdatedDateUTC`` of the last record output. Without a cursor the user's
    "choose where to start" (``call.context.start``) or else the module's ``start`` decides:
    ``now`` outputs nothing and starts watching from now, ``date``/``since`` starts at that
    date, ``all`` outputs every record.
    """
    parameters = _with_start_choice(call)
    since = _watch_start(call, parameters)
    if since is None and call.context.cursor is None and parameters.start == "now":
        call.context.advance_cursor(iso(call.context.now()))
        return
    client = client_for(call, parameters.tenantId)
    changed = client.list(resource, params={"order": "UpdatedDateUTC ASC"}, modified_since=since)
    later = (r for r in changed if since is None or _updated(r) > since)
    for record in limited(later, parameters.limit):
        call.context.advance_cursor(record.get("UpdatedDateUTC"))
        yield record


def _with_start_choice(call: ModuleCall) -> WatchParameters:
    """The trigger's parameters, with the service's "choose where to start" applied."""
    parameters = call.parameters_as(WatchParameters)
    choice = call.context.start
    if not choice:
        return parameters
    kind = choice.get("type")
    # "From now on" is pinned when it is chosen (on activation): what changes between then and
    # the first poll is news too, so it reads from that moment like "since".
    if kind == "since" or (kind == "now" and choice.get("date")):
        return parameters.model_copy(update={"start": "date", "startDate": choice.get("date")})
    if kind in ("now", "all"):
        return parameters.model_copy(update={"start": kind})
    return parameters


def _watch_start(call: ModuleCall, parameters: WatchParameters) -> datetime | None:
    if call.context.cursor is not None:
        return parse_iso(call.context.cursor)
    if parameters.start == "date":
        start = parse_iso(parameters.startDate)
        if start is None:
            raise InvalidConfigurationError("choose the date to start watching from")
        return start
    if parameters.start not in ("now", "all"):
        raise InvalidConfigurationError(f"unknown start '{parameters.start}' (now, date or all)")
    return None


def _updated(record: Mapping[str, Any]) -> datetime:
    return parse_iso(record.get("UpdatedDateUTC")) or datetime.min.replace(tzinfo=UTC)


# -- search -----------------------------------------------------------------------------------

WHERE_TEMPLATES: Mapping[str, str] = {
    "equals": "{field}=={value}",
    "notEquals": "{field}!={value}",
    "contains": "{field}.Contains({value})",
    "startsWith": "{field}.StartsWith({value})",
    "endsWith": "{field}.EndsWith({value})",
    "greaterThan": "{field}>{value}",
    "lessThan": "{field}<{value}",
}
"""Search-by-field operators → Xero ``where`` fragments (AND-joined)."""


def where_clause(rules: list[FieldRule]) -> str | None:
    """Xero's ``where`` for AND rules; IDs compare as GUIDs, other values as strings."""
    parts = []
    for rule in rules:
        template = WHERE_TEMPLATES.get(rule.operator)
        if template is None:
            raise InvalidConfigurationError(f"unknown search operator '{rule.operator}'")
        parts.append(template.format(field=rule.field, value=_literal(rule.field, rule.value)))
    return " AND ".join(parts) or None


def _literal(field: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = where_string("" if value is None else str(value))
    return f"guid({text})" if field.endswith("ID") else text


def where_string(value: str) -> str:
    """``value`` as a string of Xero's ``where`` (Dynamic LINQ): in double quotes, a quote
    inside doubled, nothing else escaped — a backslash is an ordinary character, and
    ``json.dumps`` would send ``\\"`` (which ends Xero's string) and ``\\u014c`` for "Ō"
    (which Xero reads as six characters, so a name with a macron was never found). Sources:
    docs/modules/xero.md, "where strings"."""
    return '"' + value.replace('"', '""') + '"'


def search_contacts(call: ModuleCall) -> Iterator[Bundle]:
    data = call.input_as(SearchContactsInput)
    params: dict[str, Any] = {"includeArchived": "true" if data.includeArchived else None}
    if data.searchBy == "term":
        params["searchTerm"] = data.term
    elif data.searchBy == "where":
        params["where"] = data.where
    else:
        params["where"] = where_clause(data.filter)
    params["order"] = data.order
    yield from _search(call, "Contacts", params, data.tenantId)


def search_invoices(call: ModuleCall) -> Iterator[Bundle]:
    data = call.input_as(SearchInvoicesInput)
    where = " AND ".join(w for w in (data.where, where_clause(data.filter)) if w) or None
    params = {
        "where": where,
        "Statuses": _csv(data.Statuses),
        "ContactIDs": _csv(data.ContactIDs),
        "InvoiceNumbers": _csv(data.InvoiceNumbers),
        "order": data.order,
    }
    yield from _search(call, "Invoices", params, data.tenantId)


def _search(
    call: ModuleCall, resource: str, params: Mapping[str, Any], tenant_id: str | None
) -> Iterator[Bundle]:
    parameters = call.parameters_as(SearchParameters)
    query = {k: v for k, v in params.items() if v not in (None, "")}
    found = list(
        limited(client_for(call, tenant_id).list(resource, params=query), parameters.limit)
    )
    yield from search_results(
        found, parameters.errorWhenNoRes, lambda: f"Xero has no {resource} where {query} (yet)"
    )


def _csv(value: list[str] | str | None) -> str | None:
    return ",".join(value) if isinstance(value, list) else value


# -- get, create, update ------------------------------------------------------------------------


EXACT_FIELDS: Mapping[str, tuple[str, ...]] = {
    "Items": ("Code", "Name"),
    "TaxRates": ("TaxType",),
}
"""Search fields compared whole (Xero's ``==``, case aside), by resource: an item's code or
name is a match key of the sync packs."""


def search(resource: str, call: ModuleCall) -> Iterator[Bundle]:
    """Search credit notes, items, overpayments or tax rates by a raw ``where``, AND rules
    and the resource's exact fields (``EXACT_FIELDS``)."""
    data = call.input_as(SearchInput)
    rules = [
        FieldRule(field=name, value=value)
        for name in EXACT_FIELDS.get(resource, ())
        if (value := getattr(data, name, None)) not in (None, "")
    ]
    where = " AND ".join(w for w in (data.where, where_clause([*rules, *data.filter])) if w)
    params = {"where": where or None, "order": data.order}
    yield from _search(call, resource, params, data.tenantId)


def search_quotes(call: ModuleCall) -> Iterator[Bundle]:
    """Quotes by the parameters ``GET /Quotes`` takes (Xero gives quotes no ``where``)."""
    data = call.input_as(SearchQuotesInput)
    params = data.model_dump(exclude={"tenantId"})
    yield from _search(call, "Quotes", params, data.tenantId)


def get(resource: str, id_field: str, call: ModuleCall) -> Iterator[Bundle]:
    """One record by its ID."""
    data = call.input_as(TenantInput)
    record_id = getattr(data, id_field, None)
    if not record_id:
        raise InvalidConfigurationError(f"map the {id_field} to get")
    yield client_for(call, data.tenantId).get(resource, str(record_id))


def allocate(resource: str, id_field: str, call: ModuleCall) -> Iterator[Bundle]:
    """Apply a credit note's or an overpayment's credit to one invoice of the same contact.
    Xero requires the date: the run's day (UTC) unless one is mapped."""
    data = call.input_as(AllocationInput)
    source_id = getattr(data, id_field)
    if not source_id:
        raise InvalidConfigurationError(f"map the {id_field} whose credit to allocate")
    if not data.InvoiceID:
        raise InvalidConfigurationError("map the Invoice ID the credit goes to")
    allocation = {
        "Invoice": {"InvoiceID": data.InvoiceID},
        "Amount": data.Amount,
        "Date": data.Date or call.context.now().astimezone(UTC).date().isoformat(),
    }
    yield client_for(call, data.tenantId).allocate(resource, source_id, allocation)


def delete_allocation(call: ModuleCall) -> Iterator[Bundle]:
    """Take back one allocation of a credit note: its invoice owes the amount again and the
    credit is free to allocate again (Xero's ``deleteCreditNoteAllocations``)."""
    data = call.input_as(AllocationIdInput)
    if not (data.CreditNoteID and data.AllocationID):
        raise InvalidConfigurationError("map the Credit Note ID and the Allocation ID to delete")
    client = client_for(call, data.tenantId)
    yield client.delete_allocation("CreditNotes", data.CreditNoteID, data.AllocationID)


def create(resource: str, call: ModuleCall) -> Iterator[Bundle]:
    data = call.input_as(TenantInput)
    yield client_for(call, data.tenantId).create(resource, _element(data))


def update(resource: str, id_field: str, call: ModuleCall) -> Iterator[Bundle]:
    data = call.input_as(TenantInput)
    record_id = getattr(data, id_field)
    yield client_for(call, data.tenantId).update(resource, record_id, _element(data))


def update_quote(call: ModuleCall) -> Iterator[Bundle]:
    """Change a quote. Xero's update example names the quote's ``Contact`` and ``Date``: the
    quote's own are read and sent when they are not mapped."""
    data = call.input_as(UpdateQuoteInput)
    element = _element(data)
    client = client_for(call, data.tenantId)
    if "Contact" not in element or "Date" not in element:
        current = client.get("Quotes", data.QuoteID)
        element.setdefault(
            "Contact", {"ContactID": (current.get("Contact") or {}).get("ContactID")}
        )
        element.setdefault("Date", str(current.get("Date") or "")[:10] or None)
    yield client.update("Quotes", data.QuoteID, without_empty(element))


def create_payment(call: ModuleCall) -> Iterator[Bundle]:
    data = call.input_as(CreatePaymentInput)
    if not (data.InvoiceID or data.InvoiceNumber):
        raise InvalidConfigurationError("map the invoice (ID or number) the payment is for")
    if not (data.AccountCode or data.AccountID):
        raise InvalidConfigurationError(
            "choose the account (code or ID) of the payment: a bank account, or one with "
            "payments enabled"
        )
    element = {
        "Invoice": {"InvoiceID": data.InvoiceID, "InvoiceNumber": data.InvoiceNumber},
        "Account": {"Code": data.AccountCode, "AccountID": data.AccountID},
        "Amount": data.Amount,
        "Date": data.Date,
        "Reference": data.Reference,
        "CurrencyRate": data.CurrencyRate,
        "IsReconciled": data.IsReconciled,
    }
    yield client_for(call, data.tenantId).create("Payments", without_empty(element))


def delete_payment(call: ModuleCall) -> Iterator[Bundle]:
    """Delete (reverse) a payment: its invoice owes again what it paid. Xero refuses a
    payment already deleted ("Payment not of valid status for modification")."""
    data = call.input_as(PaymentIdInput)
    if not data.PaymentID:
        raise InvalidConfigurationError("map the Payment ID to delete")
    yield client_for(call, data.tenantId).delete_payment(data.PaymentID)


def _element(data: BaseModel) -> dict[str, Any]:
    """The mapped fields as a Xero element: no tenant, flat ``ContactID`` nested, no empties."""
    fields = data.model_dump(exclude={"tenantId"})
    contact_id = fields.pop("ContactID", None) if "Contact" in fields else None
    if contact_id and not fields.get("Contact"):
        fields["Contact"] = {"ContactID": contact_id}
    return without_empty(fields)


# -- specs ------------------------------------------------------------------------------------


_spec = module_factory("xero", parameters=XeroParameters, input_model=TenantInput)

NAMING: Mapping[str, RecordNaming] = {
    "Contacts": RecordNaming(key=("ContactID",), name=("Name",)),
    "Invoices": RecordNaming(key=("InvoiceID",), name=("InvoiceNumber", "Reference")),
    "Quotes": RecordNaming(key=("QuoteID",), name=("QuoteNumber", "Reference")),
    "Payments": RecordNaming(key=("PaymentID",), name=("Reference",)),
    "CreditNotes": RecordNaming(key=("CreditNoteID",), name=("CreditNoteNumber", "Reference")),
    "Items": RecordNaming(key=("ItemID",), name=("Code", "Name")),
    "Overpayments": RecordNaming(key=("OverpaymentID",)),
    "Allocations": RecordNaming(key=("AllocationID",)),
    "TaxRates": RecordNaming(key=("TaxType",), name=("Name",)),
    "Events": RecordNaming(key=("resourceId",)),
}
"""How each resource's bundles identify and name a record (an event names it by id only)."""


class NewEventParameters(XeroParameters):
    """``xero:NewEvent``: which events to keep (comma lists; empty = all)."""

    categories: Any = None  # CONTACT, INVOICE, CREDITNOTE
    types: Any = None  # CREATE, UPDATE


def new_event(call: ModuleCall) -> Iterator[Bundle]:
    """Run with a delivery as its input ("run once" with a sample): its events."""
    yield from event_bundles(call.input.model_dump(), call.parameters.model_dump())


_TRIGGER, _SEARCH, _ACTION = ModuleKind.TRIGGER, ModuleKind.SEARCH, ModuleKind.ACTION

_CREDITS_AND_ITEMS = (
    ("CreditNotes", "Credit Note", CreditNoteOutput, SearchInput),
    ("Items", "Item", ItemOutput, SearchItemsInput),
    ("Overpayments", "Overpayment", OverpaymentOutput, SearchInput),
)
"""Resources with Watch and Search modules of one shape: (resource, label, output, search
input)."""

XERO_MODULES: tuple[ModuleSpec, ...] = (
    _spec(
        "NewEvent",
        "New Event",
        ModuleKind.INSTANT_TRIGGER,
        new_event,
        parameters=NewEventParameters,
        hooks={"webhook_bundles": event_bundles, "route_delivery": route_delivery},
        effect=Effect.WATCH,
        naming=NAMING["Events"],
    ),
    _spec(
        "WatchContacts",
        "Watch Contacts",
        _TRIGGER,
        partial(watch, "Contacts"),
        parameters=WatchParameters,
        output=ContactOutput,
        effect=Effect.WATCH,
        naming=NAMING["Contacts"],
    ),
    _spec(
        "WatchInvoices",
        "Watch Invoices",
        _TRIGGER,
        partial(watch, "Invoices"),
        parameters=WatchParameters,
        output=InvoiceOutput,
        effect=Effect.WATCH,
        naming=NAMING["Invoices"],
    ),
    _spec(
        "WatchPayments",
        "Watch Payments",
        _TRIGGER,
        partial(watch, "Payments"),
        parameters=WatchParameters,
        output=PaymentOutput,
        effect=Effect.WATCH,
        naming=NAMING["Payments"],
    ),
    _spec(
        "SearchContacts",
        "Search for Contacts",
        _SEARCH,
        search_contacts,
        parameters=SearchParameters,
        input_model=SearchContactsInput,
        output=ContactOutput,
        effect=Effect.SEARCH,
        naming=NAMING["Contacts"],
    ),
    _spec(
        "SearchInvoice",
        "Search for Invoices",
        _SEARCH,
        search_invoices,
        parameters=SearchParameters,
        input_model=SearchInvoicesInput,
        output=InvoiceOutput,
        effect=Effect.SEARCH,
        naming=NAMING["Invoices"],
    ),
    _spec(
        "GetContact",
        "Get a Contact",
        _ACTION,
        partial(get, "Contacts", "ContactID"),
        input_model=RecordIdInput,
        output=ContactOutput,
        effect=Effect.READ,
        naming=NAMING["Contacts"],
    ),
    _spec(
        "CreateContact",
        "Create a Contact",
        _ACTION,
        partial(create, "Contacts"),
        input_model=CreateContactInput,
        output=ContactOutput,
        effect=Effect.CREATE,
        naming=NAMING["Contacts"],
    ),
    _spec(
        "UpdateContact",
        "Update a Contact",
        _ACTION,
        partial(update, "Contacts", "ContactID"),
        input_model=UpdateContactInput,
        output=ContactOutput,
        effect=Effect.UPDATE,
        naming=NAMING["Contacts"],
    ),
    _spec(
        "CreateInvoice",
        "Create an Invoice",
        _ACTION,
        partial(create, "Invoices"),
        input_model=CreateInvoiceInput,
        output=InvoiceOutput,
        effect=Effect.CREATE,
        naming=NAMING["Invoices"],
    ),
    _spec(
        "UpdateInvoice",
        "Update an Invoice",
        _ACTION,
        partial(update, "Invoices", "InvoiceID"),
        input_model=UpdateInvoiceInput,
        output=InvoiceOutput,
        effect=Effect.UPDATE,
        naming=NAMING["Invoices"],
    ),
    _spec(
        "CreateQuote",
        "Create a Quote",
        _ACTION,
        partial(create, "Quotes"),
        input_model=CreateQuoteInput,
        output=QuoteOutput,
        effect=Effect.CREATE,
        naming=NAMING["Quotes"],
    ),
    _spec(
        "CreatePayment",
        "Create a Payment",
        _ACTION,
        create_payment,
        input_model=CreatePaymentInput,
        output=PaymentOutput,
        effect=Effect.CREATE,
        naming=NAMING["Payments"],
    ),
    _spec(
        "GetPayment",
        "Get a Payment",
        _ACTION,
        partial(get, "Payments", "PaymentID"),
        input_model=PaymentIdInput,
        output=PaymentOutput,
        effect=Effect.READ,
        naming=NAMING["Payments"],
    ),
    _spec(
        "DeletePayment",
        "Delete a Payment",
        _ACTION,
        delete_payment,
        input_model=PaymentIdInput,
        output=PaymentOutput,
        effect=Effect.DELETE,
        naming=NAMING["Payments"],
    ),
    *(
        _spec(
            f"Watch{resource}",
            f"Watch {label}s",
            _TRIGGER,
            partial(watch, resource),
            parameters=WatchParameters,
            output=output,
            effect=Effect.WATCH,
            naming=NAMING[resource],
        )
        for resource, label, output, _ in _CREDITS_AND_ITEMS
    ),
    *(
        _spec(
            f"Search{resource}",
            f"Search for {label}s",
            _SEARCH,
            partial(search, resource),
            parameters=SearchParameters,
            input_model=search_input,
            output=output,
            effect=Effect.SEARCH,
            naming=NAMING[resource],
        )
        for resource, label, output, search_input in _CREDITS_AND_ITEMS
    ),
    _spec(
        "WatchQuotes",
        "Watch Quotes",
        _TRIGGER,
        partial(watch, "Quotes"),
        parameters=WatchParameters,
        output=QuoteOutput,
        effect=Effect.WATCH,
        naming=NAMING["Quotes"],
    ),
    _spec(
        "SearchQuotes",
        "Search for Quotes",
        _SEARCH,
        search_quotes,
        parameters=SearchParameters,
        input_model=SearchQuotesInput,
        output=QuoteOutput,
        effect=Effect.SEARCH,
        naming=NAMING["Quotes"],
    ),
    _spec(
        "GetQuote",
        "Get a Quote",
        _ACTION,
        partial(get, "Quotes", "QuoteID"),
        input_model=GetQuoteInput,
        output=QuoteOutput,
        effect=Effect.READ,
        naming=NAMING["Quotes"],
    ),
    _spec(
        "UpdateQuote",
        "Update a Quote",
        _ACTION,
        update_quote,
        input_model=UpdateQuoteInput,
        output=QuoteOutput,
        effect=Effect.UPDATE,
        naming=NAMING["Quotes"],
    ),
    _spec(
        "SearchTaxRates",
        "Search for Tax Rates",
        _SEARCH,
        partial(search, "TaxRates"),
        parameters=SearchParameters,
        input_model=SearchTaxRatesInput,
        output=TaxRateOutput,
        effect=Effect.SEARCH,
        naming=NAMING["TaxRates"],
    ),
    _spec(
        "GetCreditNote",
        "Get a Credit Note",
        _ACTION,
        partial(get, "CreditNotes", "CreditNoteID"),
        input_model=GetCreditNoteInput,
        output=CreditNoteOutput,
        effect=Effect.READ,
        naming=NAMING["CreditNotes"],
    ),
    _spec(
        "CreateCreditNote",
        "Create a Credit Note",
        _ACTION,
        partial(create, "CreditNotes"),
        input_model=CreateCreditNoteInput,
        output=CreditNoteOutput,
        effect=Effect.CREATE,
        naming=NAMING["CreditNotes"],
    ),
    _spec(
        "UpdateCreditNote",
        "Update a Credit Note",
        _ACTION,
        partial(update, "CreditNotes", "CreditNoteID"),
        input_model=UpdateCreditNoteInput,
        output=CreditNoteOutput,
        effect=Effect.UPDATE,
        naming=NAMING["CreditNotes"],
    ),
    _spec(
        "AllocateCreditNote",
        "Allocate a Credit Note",
        _ACTION,
        partial(allocate, "CreditNotes", "CreditNoteID"),
        input_model=AllocationInput,
        output=AllocationOutput,
        effect=Effect.CREATE,
        naming=NAMING["Allocations"],
    ),
    _spec(
        "DeleteCreditNoteAllocation",
        "Delete a Credit Note Allocation",
        _ACTION,
        delete_allocation,
        input_model=AllocationIdInput,
        output=AllocationOutput,
        effect=Effect.DELETE,
        naming=NAMING["Allocations"],
    ),
    _spec(
        "GetItem",
        "Get an Item",
        _ACTION,
        partial(get, "Items", "ItemID"),
        input_model=GetItemInput,
        output=ItemOutput,
        effect=Effect.READ,
        naming=NAMING["Items"],
    ),
    _spec(
        "CreateItem",
        "Create an Item",
        _ACTION,
        partial(create, "Items"),
        input_model=CreateItemInput,
        output=ItemOutput,
        effect=Effect.CREATE,
        naming=NAMING["Items"],
    ),
    _spec(
        "UpdateItem",
        "Update an Item",
        _ACTION,
        partial(update, "Items", "ItemID"),
        input_model=UpdateItemInput,
        output=ItemOutput,
        effect=Effect.UPDATE,
        naming=NAMING["Items"],
    ),
    _spec(
        "GetOverpayment",
        "Get an Overpayment",
        _ACTION,
        partial(get, "Overpayments", "OverpaymentID"),
        input_model=GetOverpaymentInput,
        output=OverpaymentOutput,
        effect=Effect.READ,
        naming=NAMING["Overpayments"],
    ),
    _spec(
        "AllocateOverpayment",
        "Allocate an Overpayment",
        _ACTION,
        partial(allocate, "Overpayments", "OverpaymentID"),
        input_model=AllocationInput,
        output=AllocationOutput,
        effect=Effect.CREATE,
        naming=NAMING["Allocations"],
    ),
)
