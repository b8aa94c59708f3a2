"""QuickBooks Online modules: New Event (webhooks), Watch Customers / Invoices / Payments, Get a
Customer / Invoice / Estimate / Payment, Search for Customers, Create / Update a Customer, and
Create an Invoice / Estimate / Payment.

Every module takes ``parameters.__IMTCONN__`` (a QuickBooks connection, which names the
company). Bundles are QuickBooks' records with Intuit's field names.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from pydantic import BaseModel

from engine.errors import InvalidConfigurationError
from engine.spec import Bundle, Empty, ModuleCall, ModuleKind, ModuleSpec
from modules.connections import cursor_or_start, module_factory, starts_with_all, with_position
from modules.quickbooks.client import client_for, condition, without_empty
from modules.quickbooks.models import (
    CreateCustomerInput,
    CreateEstimateInput,
    CreateInvoiceInput,
    CreatePaymentInput,
    CustomerOutput,
    EstimateOutput,
    EventOutput,
    InvoiceOutput,
    NewEventParameters,
    PaymentOutput,
    QuickBooksParameters,
    RecordIdInput,
    SalesDocumentFields,
    SalesLine,
    SearchCustomersInput,
    SearchParameters,
    UpdateCustomerInput,
    WatchParameters,
)
from modules.quickbooks.webhooks import change_events, intuit_webhook_status, route_delivery

# -- New Event (instant trigger) --------------------------------------------------------------


def webhook_bundles(
    request_bundle: Mapping[str, Any] | list[Any], parameters: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The trigger's bundles from a (verified) Intuit delivery, CloudEvents or legacy: one
    per changed entity, with ``realmId``, ``name``, ``id``, ``operation``, ``lastUpdated``
    (CloudEvents add ``type`` and ``eventId``). With the trigger's ``parameters`` only the
    chosen entities and operations are kept."""
    settings = NewEventParameters.model_validate(parameters or {})
    return change_events(request_bundle, settings.entities, settings.operations)


def new_event(call: ModuleCall) -> Iterator[Bundle]:
    """Run with a request bundle ("run once" with a sample): its changed entities."""
    parameters = call.parameters.model_dump(by_alias=True)
    yield from webhook_bundles(call.input.model_dump(), parameters)


# -- watch (polling triggers) -----------------------------------------------------------------


def watch(entity: str, call: ModuleCall) -> Iterator[Bundle]:
    """Records of ``entity`` created or changed since the cursor, oldest first, at most
    ``limit`` a run.

    QuickBooks stamps ``MetaData.LastUpdatedTime`` to the second, so the query asks for
    records at or after the cursor's time and skips the versions (``Id:SyncToken``) already
    output at exactly that time: nothing is lost or repeated when several records share a
    second. The cursor is ``{"since": LastUpdatedTime, "seen": [...]}``; a start choice
    (``{"type": "now"|"since"|"all"|"manual"}``) or the module's ``start`` decides the first run.
    """
    parameters: WatchParameters = call.parameters  # type: ignore[assignment]
    since, seen = _watch_position(call, parameters)
    if since is None and not starts_with_all(call, parameters.start):
        call.context.advance_cursor(_starting_now(call, entity))
        return
    records = client_for(call).query_all(
        _changed_since(entity, since), parameters.limit + len(seen)
    )
    fresh = (r for r in records if _version(r) not in seen)
    for count, record in enumerate(fresh, start=1):
        since, seen = _advanced(since, seen, record)
        call.context.advance_cursor({"since": since, "seen": sorted(seen)})
        yield record
        if count >= parameters.limit:
            return


def _changed_since(entity: str, since: str | None) -> str:
    """The query for records of ``entity`` stamped at or after ``since``, oldest first."""
    where = f" WHERE {condition('MetaData.LastUpdatedTime', 'greaterOrEqual', since)}"
    return f"SELECT * FROM {entity}{where if since else ''} ORDERBY MetaData.LastUpdatedTime"


def _starting_now(call: ModuleCall, entity: str) -> dict[str, Any]:
    """The first cursor of "from now on": now, to the second, with the versions already
    stamped in this second marked as seen (they are not news; later ones in the same second
    must still come)."""
    now = _iso(call.context.now())
    stamped = client_for(call).query_all(_changed_since(entity, now))
    return {"since": now, "seen": sorted(_version(r) for r in stamped)}


def _watch_position(call: ModuleCall, parameters: WatchParameters) -> tuple[str | None, set[str]]:
    cursor = cursor_or_start(call)
    if isinstance(cursor, Mapping) and "since" in cursor:
        return str(cursor["since"]), set(cursor.get("seen") or [])
    if isinstance(cursor, Mapping) and cursor.get("type"):  # the UI's "choose where to start"
        value = cursor.get("date") or cursor.get("value")
        return (_iso_text(value) if cursor["type"] != "all" else None), set()
    if cursor not in (None, ""):
        return _iso_text(cursor), set()
    if parameters.start == "date":
        if parameters.startDate in (None, ""):
            raise InvalidConfigurationError("choose the date to start watching from")
        return _iso_text(parameters.startDate), set()
    if parameters.start not in ("now", "all"):
        raise InvalidConfigurationError(f"unknown start '{parameters.start}' (now, date or all)")
    return None, set()


def _advanced(since: str | None, seen: set[str], record: Mapping[str, Any]) -> tuple[str, set[str]]:
    stamp = str((record.get("MetaData") or {}).get("LastUpdatedTime") or since or "")
    if since is not None and _instant(stamp) == _instant(since):
        return since, seen | {_version(record)}
    return stamp, {_version(record)}


def _version(record: Mapping[str, Any]) -> str:
    return f"{record.get('Id')}:{record.get('SyncToken')}"


def _instant(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _iso_text(value: Any) -> str:
    if isinstance(value, datetime):
        return _iso(value if value.tzinfo else value.replace(tzinfo=UTC))
    moment = _instant(str(value))
    if moment is None:
        raise InvalidConfigurationError(f"'{value}' is not a date to start watching from")
    return _iso(moment)


# -- get, search ------------------------------------------------------------------------------


def get_record(entity: str, call: ModuleCall) -> Iterator[Bundle]:
    data: RecordIdInput = call.input  # type: ignore[assignment]
    yield client_for(call).get(entity, data.Id)


TEXT_FIELDS = ("DisplayName", "CompanyName", "GivenName", "FamilyName")


def customer_conditions(data: SearchCustomersInput) -> list[str]:
    """The WHERE conditions of a customer search, every literal escaped.

    Raises:
        InvalidConfigurationError: ``match`` is not equals, contains or startsWith.
    """
    if data.match not in ("equals", "contains", "startsWith"):
        raise InvalidConfigurationError(f"unknown match '{data.match}'")
    found = [
        condition(name, data.match, getattr(data, name))
        for name in TEXT_FIELDS
        if getattr(data, name) not in (None, "")
    ]
    if data.PrimaryEmailAddr:
        found.append(condition("PrimaryEmailAddr", "equals", data.PrimaryEmailAddr))
    if data.Active is not None:
        found.append(condition("Active", "equals", data.Active))
    found += [condition(rule.field, rule.operator, rule.value) for rule in data.filter]
    if data.where:
        found.append(data.where)
    return found


def search_customers(call: ModuleCall) -> Iterator[Bundle]:
    """Customers matching every filled field (AND), ordered, at most ``limit``."""
    data: SearchCustomersInput = call.input  # type: ignore[assignment]
    parameters: SearchParameters = call.parameters  # type: ignore[assignment]
    conditions = customer_conditions(data)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    order = f" ORDERBY {data.orderBy}" if data.orderBy else " ORDERBY DisplayName"
    statement = f"SELECT * FROM Customer{where}{order}"
    found = list(client_for(call).query_all(statement, parameters.limit or None))
    yield from with_position(found)


# -- create, update ---------------------------------------------------------------------------


def create_customer(call: ModuleCall) -> Iterator[Bundle]:
    data: CreateCustomerInput = call.input  # type: ignore[assignment]
    yield client_for(call).create("Customer", without_empty(data.model_dump()))


def update_customer(call: ModuleCall) -> Iterator[Bundle]:
    """Sparse update; on a stale SyncToken the customer is read again and the update retried
    once (``QuickBooksClient.update``)."""
    data: UpdateCustomerInput = call.input  # type: ignore[assignment]
    fields = without_empty(data.model_dump())
    fields["Id"] = data.Id
    yield client_for(call).update("Customer", fields)


def create_document(entity: str, call: ModuleCall) -> Iterator[Bundle]:
    """Create an invoice or an estimate from the mapped lines."""
    data: SalesDocumentFields = call.input  # type: ignore[assignment]
    yield client_for(call).create(entity, sales_document(data))


def sales_document(data: SalesDocumentFields) -> dict[str, Any]:
    """The request body of an invoice or estimate: lines in Intuit's shape, the document
    discount as a ``DiscountLineDetail`` line.

    Raises:
        InvalidConfigurationError: no line, or both a discount percent and amount.
    """
    if not data.Line:
        raise InvalidConfigurationError("add at least one line")
    fields = data.model_dump(exclude={"Line", "DiscountPercent", "DiscountAmount"})
    lines = [sales_line(line) for line in data.Line]
    discount = document_discount(data.DiscountPercent, data.DiscountAmount)
    fields["Line"] = lines + ([discount] if discount else [])
    return without_empty(fields)


def sales_line(line: SalesLine) -> dict[str, Any]:
    """One line in Intuit's shape; flat ``ItemRef``/``Qty``/``UnitPrice``/``TaxCodeRef`` go
    into the line's detail object (explicit detail fields win)."""
    if line.DetailType == "DiscountLineDetail":
        return document_discount(line.DiscountPercent, line.Amount, line.DiscountLineDetail) or {}
    if line.DetailType == "DescriptionOnly":
        return {"DetailType": "DescriptionOnly", "Description": line.Description}
    detail = {
        "ItemRef": line.ItemRef,
        "Qty": line.Qty,
        "UnitPrice": line.UnitPrice,
        "TaxCodeRef": line.TaxCodeRef,
        "ServiceDate": line.ServiceDate,
        **(line.SalesItemLineDetail or {}),
    }
    amount = line.Amount
    if amount is None and line.Qty is not None and line.UnitPrice is not None:
        amount = round(line.Qty * line.UnitPrice, 2)  # QuickBooks requires Amount = Qty * price
    return {
        "DetailType": "SalesItemLineDetail",
        "Description": line.Description,
        "Amount": amount,
        "SalesItemLineDetail": detail,
    }


def document_discount(
    percent: float | None, amount: float | None, detail: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """A ``DiscountLineDetail`` line for a percent or an amount (None when neither).

    Raises:
        InvalidConfigurationError: both a percent and an amount.
    """
    if percent is not None and amount is not None:
        raise InvalidConfigurationError("give the discount as a percent or an amount, not both")
    if percent is not None:
        return {
            "DetailType": "DiscountLineDetail",
            "DiscountLineDetail": {
                **(detail or {}),
                "PercentBased": True,
                "DiscountPercent": percent,
            },
        }
    if amount is not None:
        return {
            "DetailType": "DiscountLineDetail",
            "Amount": amount,
            "DiscountLineDetail": {**(detail or {}), "PercentBased": False},
        }
    return None


def create_payment(call: ModuleCall) -> Iterator[Bundle]:
    data: CreatePaymentInput = call.input  # type: ignore[assignment]
    yield client_for(call).create("Payment", payment_body(data))


def payment_body(data: CreatePaymentInput) -> dict[str, Any]:
    """The request body of a payment: each line linked to its invoice (``LinkedTxn``)."""
    fields = data.model_dump(exclude={"Line", "InvoiceId"})
    lines = [
        {"Amount": line.Amount, "LinkedTxn": line.LinkedTxn or _invoice_link(line.InvoiceId)}
        for line in data.Line
    ]
    if not lines and data.InvoiceId:
        lines = [{"Amount": data.TotalAmt, "LinkedTxn": _invoice_link(data.InvoiceId)}]
    fields["Line"] = lines
    return without_empty(fields)


def _invoice_link(invoice_id: str | None) -> list[dict[str, Any]]:
    if not invoice_id:
        raise InvalidConfigurationError("map the invoice each payment line pays")
    return [{"TxnId": invoice_id, "TxnType": "Invoice"}]


# -- specs ------------------------------------------------------------------------------------


_spec = module_factory("quickbooks", parameters=QuickBooksParameters, input_model=RecordIdInput)


_TRIGGER, _SEARCH, _ACTION = ModuleKind.TRIGGER, ModuleKind.SEARCH, ModuleKind.ACTION


def _watch_spec(entity: str, plural: str, output: type[BaseModel]) -> ModuleSpec:
    return _spec(
        f"Watch{plural}",
        f"Watch {plural}",
        _TRIGGER,
        partial(watch, entity),
        parameters=WatchParameters,
        input_model=Empty,
        output=output,
    )


def _get_spec(entity: str, article: str, output: type[BaseModel]) -> ModuleSpec:
    return _spec(
        f"Get{entity}",
        f"Get {article} {entity}",
        _ACTION,
        partial(get_record, entity),
        output=output,
    )


QUICKBOOKS_MODULES: tuple[ModuleSpec, ...] = (
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
            "webhook_status": intuit_webhook_status,
            "route_delivery": route_delivery,
        },
    ),
    _watch_spec("Customer", "Customers", CustomerOutput),
    _watch_spec("Invoice", "Invoices", InvoiceOutput),
    _watch_spec("Payment", "Payments", PaymentOutput),
    _get_spec("Customer", "a", CustomerOutput),
    _get_spec("Invoice", "an", InvoiceOutput),
    _get_spec("Estimate", "an", EstimateOutput),
    _get_spec("Payment", "a", PaymentOutput),
    _spec(
        "SearchForCustomers",
        "Search for Customers",
        _SEARCH,
        search_customers,
        parameters=SearchParameters,
        input_model=SearchCustomersInput,
        output=CustomerOutput,
    ),
    _spec(
        "CreateCustomer",
        "Create a Customer",
        _ACTION,
        create_customer,
        input_model=CreateCustomerInput,
        output=CustomerOutput,
    ),
    _spec(
        "UpdateCustomer",
        "Update a Customer",
        _ACTION,
        update_customer,
        input_model=UpdateCustomerInput,
        output=CustomerOutput,
    ),
    _spec(
        "CreateInvoice",
        "Create an Invoice",
        _ACTION,
        partial(create_document, "Invoice"),
        input_model=CreateInvoiceInput,
        output=InvoiceOutput,
    ),
    _spec(
        "CreateEstimate",
        "Create an Estimate",
        _ACTION,
        partial(create_document, "Estimate"),
        input_model=CreateEstimateInput,
        output=EstimateOutput,
    ),
    _spec(
        "CreatePayment",
        "Create a Payment",
        _ACTION,
        create_payment,
        input_model=CreatePaymentInput,
        output=PaymentOutput,
    ),
)
