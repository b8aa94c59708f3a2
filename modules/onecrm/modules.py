"""1CRM modules: New Event (webhook trigger), Search for Records, Get, Create and Update a
Record — for any model (Account, Contact, Invoice, Quote, Payment …) — and the two lists a
sync needs because 1CRM keeps them as separate records: List Line Items of a quote or invoice,
and List a Payment's Invoices.

Every module takes ``parameters.__IMTCONN__`` (a 1CRM connection). The model is chosen in the
parameters or mapped as ``model``; "Accounts" and "Account" both work. Creating an invoice or
quote with ``line_items``, or a payment with ``related_invoices``, takes several calls
(``modules/onecrm/documents.py``); so does updating them with those parts (the lines replaced,
the payment allocated again).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel

from engine.errors import DataError, InvalidConfigurationError
from engine.spec import (
    Bundle,
    Effect,
    ModuleCall,
    ModuleKind,
    ModuleSpec,
    OutputChoice,
    RecordNaming,
)
from modules.connections import ApiClient, limited, module_factory, search_results, with_position
from modules.onecrm.client import OneCrmClient, client_for, from_onecrm, onecrm_settings, to_onecrm
from modules.onecrm.documents import (
    DOCUMENT_MODELS,
    delete_payment,
    read_allocations,
    read_lines,
    rewrite_document,
    rewrite_payment,
    write_document,
    write_payment,
)
from modules.onecrm.models import (
    DEFAULT_WEBHOOK_FILTER,
    EVENT_TYPES,
    RECORD_OUTPUTS,
    AllocationOutput,
    CreateInput,
    DeleteInput,
    DocumentInput,
    GetInput,
    LineOutput,
    ListParameters,
    ModelInput,
    NewEventParameters,
    OneCrmParameters,
    PaymentInput,
    RecordOutput,
    SearchInput,
    SearchParameters,
    UpdateInput,
    model_name,
)
from modules.onecrm.reference import currency_id

CONTROL_FIELDS = frozenset({"model", "id", "create_if_missing"})
"""Mapper keys that steer the module rather than being record fields."""
PARTS = ("line_items", "related_invoices")
"""Mapped parts written as records of their own (``documents.py``)."""

# -- New Event (instant trigger) --------------------------------------------------------------


def webhook_bundles(
    request_bundle: Mapping[str, Any], parameters: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The trigger's bundle from a 1CRM webhook request: the changed record.

    1CRM posts the record's fields, flat (NOTES §6); a body wrapping them in ``record`` is
    unwrapped too. A body that carries no record ``id`` is not a 1CRM delivery: no bundle.
    The delivery is not signed — see docs/connectors/onecrm.md for what stands in for that.
    """
    record = request_bundle.get("record")
    body = record if isinstance(record, Mapping) else request_bundle
    if not body.get("id"):
        return []
    return [from_onecrm(body)]


def new_event(call: ModuleCall) -> Iterator[Bundle]:
    """Run with a request bundle ("run once" with a sample): the record it carries."""
    yield from webhook_bundles(call.input.model_dump())


def attach_webhook(
    connection: Mapping[str, Any], session: Any, url: str, parameters: Mapping[str, Any]
) -> str:
    """Subscribe ``url`` to the trigger's model and event type in 1CRM; returns the 1CRM
    webhook id. The subscription carries the trigger's filter, else every record that is not
    deleted — 1CRM fires nothing without one (NOTES §6).

    For the service to call when a scenario with ``onecrm:NewEvent`` is activated.
    """
    settings = NewEventParameters.model_validate(parameters)
    model = model_name(settings.model)
    if model is None:
        raise InvalidConfigurationError("choose the 1CRM module (Account, Invoice …) to watch")
    api = ApiClient(onecrm_settings(connection, max_retries=0), session, time.sleep)
    body = {
        "type": EVENT_TYPES[settings.event],
        "url": url,
        "model": model,
        "filters": settings.filters or DEFAULT_WEBHOOK_FILTER,
    }
    answer = api.request("POST", "webhooks", json=body).body or {}
    return str(answer.get("id"))


def detach_webhook(connection: Mapping[str, Any], session: Any, hook_id: str) -> None:
    """Remove a subscription made by ``attach_webhook`` (when the scenario is deactivated)."""
    api = ApiClient(onecrm_settings(connection, max_retries=0), session, time.sleep)
    api.request("DELETE", f"webhooks/{hook_id}")


# -- records ------------------------------------------------------------------------------------


def _model(call: ModuleCall) -> str:
    data = call.input_as(ModelInput)
    parameters = call.parameters_as(OneCrmParameters)
    model = model_name(data.model) or model_name(parameters.model)
    if model is None:
        raise InvalidConfigurationError("choose the 1CRM module (Account, Invoice …)")
    return model


def search_records(call: ModuleCall) -> Iterator[Bundle]:
    data = call.input_as(SearchInput)
    parameters = call.parameters_as(SearchParameters)
    limit = data.limit if data.limit is not None else parameters.limit
    found = client_for(call).search(
        _model(call),
        filter_text=data.filter_text or None,
        filters=data.filters,
        fields=data.fields or None,
        order=data.order or None,
        match={k: v for k, v in data.match.items() if v not in (None, "")},
        limit=limit,
    )
    records = list(limited(found, limit))
    yield from search_results(
        records,
        parameters.errorWhenNoRes,
        lambda: f"1CRM has no {_model(call)} {_looked_for(data)} (yet)",
    )


def _looked_for(data: SearchInput) -> str:
    """What a search asked for, for its "found nothing" error."""
    asked = {**data.filters, **data.match}
    parts = [f"{k} = {v!r}" for k, v in asked.items() if v not in (None, "")]
    if data.filter_text:
        parts.insert(0, f"matching {data.filter_text!r}")
    return ", ".join(parts) or "at all"


def get_record(call: ModuleCall) -> Iterator[Bundle]:
    data = call.input_as(GetInput)
    model = _model(call)
    fields = [*data.fields, *(f for f in data.require if f not in data.fields)]
    record = client_for(call).get(model, data.id, fields if data.fields else None)
    missing = [name for name in data.require if record.get(name) in (None, "")]
    if missing:
        raise DataError(f"1CRM {model} {data.id} has no {', '.join(missing)} (yet)")
    yield record


def create_record(call: ModuleCall) -> Iterator[Bundle]:
    model, data = _model(call), call.input
    client = client_for(call)
    fields = with_currency_id(client, _fields(data))
    lines, allocations = getattr(data, "line_items", None), getattr(data, "related_invoices", None)
    if model in DOCUMENT_MODELS and lines is not None:
        refuse_parts(model, data, allowed="line_items")
        yield write_document(client, model, fields, lines)
    elif model == "Payment" and allocations is not None:
        refuse_parts(model, data, allowed="related_invoices")
        yield write_payment(client, fields, allocations)
    else:
        refuse_parts(model, data)
        yield client.created(model, fields)


def update_record(call: ModuleCall) -> Iterator[Bundle]:
    """PATCH the mapped fields (``create``: make the record if the id is not there), then read
    the record back — 1CRM answers an update with ``{"result": true}`` only."""
    data = call.input_as(UpdateInput)
    if not data.id:
        raise InvalidConfigurationError("map the Record ID to update")
    model = _model(call)
    client = client_for(call)
    lines = getattr(data, "line_items", None)
    allocations = getattr(data, "related_invoices", None)
    rewrite = model in DOCUMENT_MODELS and lines is not None and not data.create_if_missing
    reallocate = model == "Payment" and allocations is not None and not data.create_if_missing
    allowed = "line_items" if rewrite else "related_invoices" if reallocate else None
    refuse_parts(model, data, updating=True, allowed=allowed)
    fields = with_currency_id(client, _fields(data))
    if rewrite:
        yield rewrite_document(client, model, data.id, fields, lines)
    elif reallocate:
        yield rewrite_payment(client, data.id, fields, allocations)
    else:
        yield client.updated(model, data.id, fields, data.create_if_missing)


def delete_record(call: ModuleCall) -> Iterator[Bundle]:
    """Delete a record; a payment's invoices owe again what it paid (``delete_payment``).
    Outputs the record as it was."""
    data = call.input_as(DeleteInput)
    model, client = _model(call), client_for(call)
    if model == "Payment":
        yield delete_payment(client, data.id)
        return
    record = client.get(model, data.id)
    client.delete(model, data.id)
    yield record


def list_line_items(call: ModuleCall) -> Iterator[Bundle]:
    """The lines of a quote or invoice, one bundle each (read from 1CRM's line records)."""
    data = call.input_as(DocumentInput)
    model = _model(call)
    if model not in DOCUMENT_MODELS:
        raise InvalidConfigurationError("List Line Items reads a Quote or an Invoice")
    parameters = call.parameters_as(ListParameters)
    lines = read_lines(client_for(call), model, data.id)
    yield from with_position(list(limited(iter(lines), parameters.limit)))


def list_payment_invoices(call: ModuleCall) -> Iterator[Bundle]:
    """The invoices a payment pays, one bundle each, with the amount and Integrated ID."""
    data = call.input_as(PaymentInput)
    parameters = call.parameters_as(ListParameters)
    allocations = read_allocations(client_for(call), data.id)
    check_required(data, allocations)
    yield from with_position(list(limited(iter(allocations), parameters.limit)))


def check_required(data: PaymentInput, allocations: list[dict[str, Any]]) -> None:
    """Every live invoice the payment pays has the ``require`` fields, else a ``DataError``
    naming the first that lacks them: the payment waits for all of them, not only for the
    first (a later one was sent without its accounting system's id)."""
    for allocation in allocations:
        if allocation.get("invoice_number") in (None, ""):
            continue  # deleted since: its fields are empty and nothing will fill them
        missing = [name for name in data.require if allocation.get(name) in (None, "")]
        if missing:
            raise DataError(
                f"1CRM Invoice {allocation['invoice_id']} (paid by payment {data.id}) "
                f"has no {', '.join(missing)} (yet)"
            )


def _fields(data: BaseModel) -> dict[str, Any]:
    """The mapped record fields: no control keys, no parts, nothing left empty (Make sends
    only what the user filled in)."""
    fields = data.model_dump(exclude=set(CONTROL_FIELDS) | set(PARTS), exclude_none=True)
    return to_onecrm({k: v for k, v in fields.items() if v not in ("", [], {})})


def refuse_parts(
    model: str, data: BaseModel, updating: bool = False, allowed: str | None = None
) -> None:
    """Line items and payment allocations are records of their own in 1CRM: only an invoice's
    or quote's lines and a payment's invoices are written with it.

    Raises:
        InvalidConfigurationError: where this module cannot write them.
    """
    given = [p for p in PARTS if p != allowed and getattr(data, p, None) not in (None, [])]
    if not given:
        return
    where = "Update a Record" if updating else f"a {model}"
    raise InvalidConfigurationError(
        f"{', '.join(given)} cannot be written with {where}: 1CRM keeps them as records of "
        "their own; create the invoice or quote (line_items) or the payment (related_invoices) "
        "with Create a Record"
    )


def with_currency_id(client: OneCrmClient, fields: dict[str, Any]) -> dict[str, Any]:
    """``currency`` (an ISO code such as ``NZD``, or the currency's name) as 1CRM's
    ``currency_id``; 1CRM ignores the ``currency`` display field itself.

    Raises:
        DataError: the instance has no such currency.
    """
    code = fields.pop("currency", None)
    if code in (None, "") or fields.get("currency_id"):
        return fields
    fields["currency_id"] = currency_id(client, str(code))
    return fields


# -- specs ------------------------------------------------------------------------------------


RECORD_NAMING = RecordNaming(
    key=("id",),
    name=(
        ("prefix", "invoice_number"),
        ("prefix", "quote_number"),
        ("prefix", "payment_number"),
        "name",
        "customer_reference",
    ),
)
"""Every 1CRM model's record: its ``id``; a document by its number as 1CRM shows it
(``INV-1003``), anything else by its name."""

_spec = module_factory(
    "onecrm",
    parameters=OneCrmParameters,
    input_model=ModelInput,
    output=RecordOutput,
    naming=RECORD_NAMING,
)
BY_MODEL = OutputChoice("model", RECORD_OUTPUTS)
"""A record module outputs the fields of the record type it is set to (``model``)."""


ONECRM_MODULES: tuple[ModuleSpec, ...] = (
    _spec(
        "NewEvent",
        "New Event",
        ModuleKind.INSTANT_TRIGGER,
        new_event,
        parameters=NewEventParameters,
        output_choice=BY_MODEL,
        effect=Effect.WATCH,
        hooks={
            "webhook_bundles": webhook_bundles,
            "attach_webhook": attach_webhook,
            "detach_webhook": detach_webhook,
        },
    ),
    _spec(
        "SearchRecords",
        "Search for Records",
        ModuleKind.SEARCH,
        search_records,
        parameters=SearchParameters,
        input_model=SearchInput,
        output_choice=BY_MODEL,
        effect=Effect.SEARCH,
    ),
    _spec(
        "GetRecord",
        "Get a Record",
        ModuleKind.ACTION,
        get_record,
        input_model=GetInput,
        output_choice=BY_MODEL,
        effect=Effect.READ,
    ),
    _spec(
        "CreateRecord",
        "Create a Record",
        ModuleKind.ACTION,
        create_record,
        input_model=CreateInput,
        output_choice=BY_MODEL,
        effect=Effect.CREATE,
    ),
    _spec(
        "UpdateRecord",
        "Update a Record",
        ModuleKind.ACTION,
        update_record,
        input_model=UpdateInput,
        output_choice=BY_MODEL,
        effect=Effect.UPDATE,
    ),
    _spec(
        "DeleteRecord",
        "Delete a Record",
        ModuleKind.ACTION,
        delete_record,
        input_model=DeleteInput,
        effect=Effect.DELETE,
    ),
    _spec(
        "ListLineItems",
        "List Line Items of a Quote or Invoice",
        ModuleKind.SEARCH,
        list_line_items,
        parameters=ListParameters,
        input_model=DocumentInput,
        output=LineOutput,
        effect=Effect.SEARCH,
        naming=RecordNaming(key=("id",), name=("name",)),
    ),
    _spec(
        "ListPaymentInvoices",
        "List a Payment's Invoices",
        ModuleKind.SEARCH,
        list_payment_invoices,
        parameters=ListParameters,
        input_model=PaymentInput,
        output=AllocationOutput,
        effect=Effect.SEARCH,
        naming=RecordNaming(key=("id",), name=("invoice_number", "invoice")),
    ),
)
