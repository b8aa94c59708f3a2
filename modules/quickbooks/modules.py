"""QuickBooks Online modules: New Event (webhooks), and per entity the Watch / Get / Search /
Create / Update modules declared in ``ENTITIES`` — customers, vendors, items, invoices,
estimates, sales receipts, credit memos, payments; Void for invoices and sales receipts; the
account and tax code lists to search.

Every module takes ``parameters.__IMTCONN__`` (a QuickBooks connection, which names the
company). Bundles are QuickBooks' records with Intuit's field names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from pydantic import BaseModel

from engine.errors import InvalidConfigurationError
from engine.spec import (
    Bundle,
    Effect,
    Empty,
    ModuleCall,
    ModuleKind,
    ModuleSpec,
    RecordNaming,
    as_model,
)
from modules.connections import (
    cursor_or_start,
    module_factory,
    search_results,
    starts_with_all,
    with_position,
)
from modules.quickbooks import forms
from modules.quickbooks import models as m
from modules.quickbooks.client import client_for, condition, without_empty
from modules.quickbooks.lines import rates_by_code, sales_lines
from modules.quickbooks.search import SEARCHES, statement
from modules.quickbooks.webhooks import change_events, route_delivery

NAME_LISTS = frozenset({"Customer", "Vendor", "Item", "Account", "TaxCode"})
"""Entities QuickBooks deactivates instead of deleting (queries hide inactive ones)."""

Body = Callable[..., dict[str, Any]]
"""Builds a request body from a module's mapped input (``update=True`` for a sparse update)."""

# -- New Event (instant trigger) --------------------------------------------------------------


def webhook_bundles(
    request_bundle: Mapping[str, Any] | list[Any], parameters: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The trigger's bundles from a (verified) Intuit delivery, CloudEvents or legacy: one
    per changed entity, with ``realmId``, ``name``, ``id``, ``operation``, ``lastUpdated``
    (CloudEvents add ``type`` and ``eventId``). With the trigger's ``parameters`` only the
    chosen entities and operations are kept."""
    settings = m.NewEventParameters.model_validate(parameters or {})
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
    parameters = call.parameters_as(m.WatchParameters)
    since, seen = _watch_position(call, parameters)
    if since is None and not starts_with_all(call, parameters.start):
        call.context.advance_cursor(_starting_now(call, entity))
        return
    query = _changed_since(entity, since, parameters.includeInactive)
    records = client_for(call).query_all(query, parameters.limit + len(seen))
    fresh = (r for r in records if _version(r) not in seen)
    for count, record in enumerate(fresh, start=1):
        since, seen = _advanced(since, seen, record)
        call.context.advance_cursor({"since": since, "seen": sorted(seen)})
        yield record
        if count >= parameters.limit:
            return


def _changed_since(entity: str, since: str | None, include_inactive: bool = False) -> str:
    """The query for records of ``entity`` stamped at or after ``since``, oldest first;
    inactive name-list records too when asked (``Active IN (true, false)``: QuickBooks'
    queries otherwise hide them)."""
    found = [condition("MetaData.LastUpdatedTime", "greaterOrEqual", since)] if since else []
    if include_inactive and entity in NAME_LISTS:
        found.append(condition("Active", "in", [True, False]))
    where = f" WHERE {' AND '.join(found)}" if found else ""
    return f"SELECT * FROM {entity}{where} ORDERBY MetaData.LastUpdatedTime"


def _starting_now(call: ModuleCall, entity: str) -> dict[str, Any]:
    """The first cursor of "from now on": now, to the second, with the versions already
    stamped in this second marked as seen (they are not news; later ones in the same second
    must still come)."""
    now = _iso(call.context.now())
    include_inactive = getattr(call.parameters, "includeInactive", False)
    stamped = client_for(call).query_all(_changed_since(entity, now, include_inactive))
    return {"since": now, "seen": sorted(_version(r) for r in stamped)}


def _watch_position(call: ModuleCall, parameters: m.WatchParameters) -> tuple[str | None, set[str]]:
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


# -- get, search -------------------------------------------------------------------------------


def get_record(entity: str, call: ModuleCall) -> Iterator[Bundle]:
    data = call.input_as(m.RecordIdInput)
    yield client_for(call).get(entity, data.Id)


def search_records(entity: str, call: ModuleCall) -> Iterator[Bundle]:
    """Records matching every filled field (AND), ordered, at most ``limit``."""
    parameters = call.parameters_as(m.SearchParameters)
    query = statement(SEARCHES[entity], call.input_as(m.SearchInput))
    records = list(client_for(call).query_all(query, parameters.limit or None))
    yield from search_results(
        records, parameters.errorWhenNoRes, lambda: f"QuickBooks has no record for {query} (yet)"
    )


def list_document_lines(call: ModuleCall) -> Iterator[Bundle]:
    """An invoice's or estimate's sales lines, one bundle each, with each line's share of the
    document's discount and of each tax rate (``modules/quickbooks/lines.py``): what a system
    that keeps discount and tax per line (1CRM) needs."""
    data = call.input_as(m.DocumentLinesInput)
    client = client_for(call)
    document = client.get(data.entity, data.Id)
    codes = _codes(client)
    lines = [{k: _plain(v) for k, v in line.items()} for line in sales_lines(document, codes)]
    yield from with_position(lines)


def _plain(value: Any) -> Any:
    """A Decimal as the int or float a bundle carries."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


# -- create, update, void ---------------------------------------------------------------------


def plain_body(data: BaseModel, *, update: bool = False) -> dict[str, Any]:
    """A name-list record's body: the mapped fields, nothing empty."""
    del update
    return without_empty(data.model_dump())


def item_body(data: BaseModel, *, update: bool = False) -> dict[str, Any]:
    """An item's body; a new inventory item tracks its quantity on hand (QuickBooks requires
    ``TrackQtyOnHand`` for it) unless mapped otherwise."""
    fields = without_empty(data.model_dump())
    if not update and fields.get("Type") == "Inventory":
        fields.setdefault("TrackQtyOnHand", True)
    return fields


def form_body(data: BaseModel, *, update: bool = False) -> dict[str, Any]:
    """A sales form's body (``forms.sales_document``); an update sends lines only if mapped."""
    return forms.sales_document(as_model(data, forms.SalesFormFields), lines_required=not update)


def payment_body(data: BaseModel, *, update: bool = False) -> dict[str, Any]:
    del update
    return forms.payment_body(as_model(data, forms.CreatePaymentInput))


def create_record(entity: str, body: Body, call: ModuleCall) -> Iterator[Bundle]:
    client = client_for(call)
    yield client.create(entity, forms.with_line_taxes(body(call.input), partial(_codes, client)))


def _codes(client: Any) -> dict[str, list[tuple[str, Decimal]]]:
    """The company's tax codes with the sales rates each applies."""
    return rates_by_code(
        list(client.query_all("SELECT * FROM TaxCode")),
        list(client.query_all("SELECT * FROM TaxRate")),
    )


def update_record(entity: str, body: Body, call: ModuleCall) -> Iterator[Bundle]:
    """Sparse update; on a stale SyncToken the record is read again and the update retried
    once (``QuickBooksClient.update``)."""
    data = call.input_as(m.RecordUpdate)
    client = client_for(call)
    fields = {**body(data, update=True), "Id": data.Id}
    if data.SyncToken:
        fields["SyncToken"] = data.SyncToken
    yield client.update(entity, forms.with_line_taxes(fields, partial(_codes, client)))


def operate_record(operation: str, entity: str, call: ModuleCall) -> Iterator[Bundle]:
    """Void or delete a record (``QuickBooksClient.operate``); outputs QuickBooks' answer (the
    voided record; a deleted one's ``Id`` and ``status`` "Deleted")."""
    data = call.input_as(forms.VoidInput)
    yield client_for(call).operate(entity, operation, data.Id, data.SyncToken)


# -- specs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    """One QuickBooks entity and the modules it gets.

    ``label``/``plural``/``article`` name the modules (``Create a Sales Receipt``, ``Watch
    Sales Receipts``); the model fields are the mapped inputs; a module is made for each one
    given (``watch``: a Watch trigger, ``search``: a Search for … module, ``void``: Void,
    ``delete``: Delete).
    """

    name: str
    label: str
    plural: str
    article: str
    output: type[BaseModel]
    body: Body = plain_body
    create: type[BaseModel] | None = None
    update: type[BaseModel] | None = None
    search: type[BaseModel] | None = None
    watch: bool = True
    get: bool = True
    void: bool = False
    delete: bool = False

    @property
    def id_plural(self) -> str:
        return self.plural.replace(" ", "")


ENTITIES: tuple[Entity, ...] = (
    Entity(
        "Customer",
        "Customer",
        "Customers",
        "a",
        m.CustomerOutput,
        create=m.CreateCustomerInput,
        update=m.UpdateCustomerInput,
        search=m.SearchNamesInput,
    ),
    Entity(
        "Vendor",
        "Vendor",
        "Vendors",
        "a",
        m.VendorOutput,
        create=m.CreateVendorInput,
        update=m.UpdateVendorInput,
        search=m.SearchNamesInput,
    ),
    Entity(
        "Item",
        "Item",
        "Items",
        "an",
        m.ItemOutput,
        item_body,
        m.CreateItemInput,
        m.UpdateItemInput,
        m.SearchItemsInput,
    ),
    Entity(
        "Invoice",
        "Invoice",
        "Invoices",
        "an",
        forms.InvoiceOutput,
        form_body,
        forms.CreateInvoiceInput,
        forms.UpdateInvoiceInput,
        m.SearchFormsInput,
        void=True,
    ),
    Entity(
        "Estimate",
        "Estimate",
        "Estimates",
        "an",
        forms.EstimateOutput,
        form_body,
        forms.CreateEstimateInput,
        forms.UpdateEstimateInput,
        m.SearchEstimatesInput,
    ),
    Entity(
        "SalesReceipt",
        "Sales Receipt",
        "Sales Receipts",
        "a",
        forms.SalesReceiptOutput,
        form_body,
        forms.CreateSalesReceiptInput,
        forms.UpdateSalesReceiptInput,
        m.SearchFormsInput,
        void=True,
    ),
    Entity(
        "CreditMemo",
        "Credit Memo",
        "Credit Memos",
        "a",
        forms.CreditMemoOutput,
        form_body,
        forms.CreateCreditMemoInput,
        forms.UpdateCreditMemoInput,
        m.SearchFormsInput,
    ),
    Entity(
        "Payment",
        "Payment",
        "Payments",
        "a",
        forms.PaymentOutput,
        payment_body,
        forms.CreatePaymentInput,
        search=m.SearchPaymentsInput,
        delete=True,
    ),
    Entity(
        "Account",
        "Account",
        "Accounts",
        "an",
        m.AccountOutput,
        search=m.SearchAccountsInput,
        watch=False,
        get=False,
    ),
    Entity(
        "TaxCode",
        "Tax Code",
        "Tax Codes",
        "a",
        m.TaxCodeOutput,
        search=m.SearchTaxCodesInput,
        watch=False,
        get=False,
    ),
)
"""Every entity the modules reach. Module ids follow the ones this connector already had
(``WatchCustomers``, ``GetCustomer``, ``SearchForCustomers``, ``CreateCustomer``,
``UpdateCustomer``), which name Make's QuickBooks modules' labels (docs/modules/quickbooks.md
says where ids had to be chosen)."""

RECORD_NAMING = RecordNaming(
    key=("Id",), name=("DisplayName", "DocNumber", "PaymentRefNum", "Name")
)
"""Customers and vendors by their Display Name, documents by their number, payments by their
reference, items, accounts and tax codes by their name."""

EVENT_NAMING = RecordNaming(key=("id",))
"""An event names the changed entity by ``id`` only (its ``name`` is the entity's type)."""

_spec = module_factory(
    "quickbooks",
    parameters=m.QuickBooksParameters,
    input_model=m.RecordIdInput,
    naming=RECORD_NAMING,
)
_TRIGGER, _SEARCH, _ACTION = ModuleKind.TRIGGER, ModuleKind.SEARCH, ModuleKind.ACTION


def entity_specs(entity: Entity) -> list[ModuleSpec]:
    """The modules one entity gets, in a fixed order: watch, get, search, create, update,
    void, delete."""
    name, label, plural, article = entity.name, entity.label, entity.plural, entity.article
    found = []
    if entity.watch:
        found.append(
            _spec(
                f"Watch{entity.id_plural}",
                f"Watch {plural}",
                _TRIGGER,
                partial(watch, name),
                parameters=m.WatchParameters,
                input_model=Empty,
                output=entity.output,
                effect=Effect.WATCH,
            )
        )
    if entity.get:
        found.append(
            _spec(
                f"Get{name}",
                f"Get {article} {label}",
                _ACTION,
                partial(get_record, name),
                output=entity.output,
                effect=Effect.READ,
            )
        )
    if entity.search:
        found.append(
            _spec(
                f"SearchFor{entity.id_plural}",
                f"Search for {plural}",
                _SEARCH,
                partial(search_records, name),
                parameters=m.SearchParameters,
                input_model=entity.search,
                output=entity.output,
                effect=Effect.SEARCH,
            )
        )
    for verb, model, run, effect in (
        ("Create", entity.create, create_record, Effect.CREATE),
        ("Update", entity.update, update_record, Effect.UPDATE),
    ):
        if model is not None:
            found.append(
                _spec(
                    f"{verb}{name}",
                    f"{verb} {article} {label}",
                    _ACTION,
                    partial(run, name, entity.body),
                    input_model=model,
                    output=entity.output,
                    effect=effect,
                )
            )
    for verb, wanted, output, effect in (
        ("Void", entity.void, entity.output, Effect.UPDATE),  # the document stays, nothing due
        ("Delete", entity.delete, m.DeletedOutput, Effect.DELETE),
    ):
        if wanted:
            found.append(
                _spec(
                    f"{verb}{name}",
                    f"{verb} {article} {label}",
                    _ACTION,
                    partial(operate_record, verb.lower(), name),
                    input_model=forms.VoidInput,
                    output=output,
                    effect=effect,
                )
            )
    return found


QUICKBOOKS_MODULES: tuple[ModuleSpec, ...] = (
    _spec(
        "NewEvent",
        "New Event",
        ModuleKind.INSTANT_TRIGGER,
        new_event,
        parameters=m.NewEventParameters,
        input_model=Empty,
        output=m.EventOutput,
        effect=Effect.WATCH,
        naming=EVENT_NAMING,
        hooks={
            "webhook_bundles": webhook_bundles,
            "route_delivery": route_delivery,
        },
    ),
    *(spec for entity in ENTITIES for spec in entity_specs(entity)),
    _spec(
        "ListDocumentLines",
        "List an Invoice's or Estimate's Lines",
        _SEARCH,
        list_document_lines,
        input_model=m.DocumentLinesInput,
        output=m.DocumentLineOutput,
        effect=Effect.SEARCH,
        naming=RecordNaming(key=(), name=("Description",)),
    ),
)
