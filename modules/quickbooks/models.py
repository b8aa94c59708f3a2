"""QuickBooks modules' pydantic models: parameters, searches, customers, vendors, items and
accounts (sales forms and payments: ``forms.py``).

Inputs use Intuit's field names. Where QuickBooks nests a single value (``{"value": id}`` refs,
``{"Address": …}`` e-mails, ``{"FreeFormNumber": …}`` phones, ``{"URI": …}`` web sites) a plain
mapped value is accepted and wrapped, as Make's QuickBooks app lets users map a flat id; the
nested form passes unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

LAX = ConfigDict(extra="allow", populate_by_name=True)


def wrapped(key: str) -> Callable[[Any], Any]:
    """A "before" validator wrapping a plain value as ``{key: value}``; empty stays None."""

    def wrap(value: Any) -> Any:
        if value in (None, ""):
            return None
        if isinstance(value, dict):
            return value
        return {key: str(value) if key in ("value", "FreeFormNumber") else value}

    return wrap


def date_text(value: Any) -> Any:
    """Dates mapped as datetimes go to QuickBooks as ``YYYY-MM-DD``; empty stays None."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


as_ref = wrapped("value")


class QuickBooksParameters(BaseModel):
    """Static settings of every QuickBooks module: the connection (``__IMTCONN__``)."""

    model_config = LAX

    connection: Any = Field(default=None, alias="__IMTCONN__")


class NewEventParameters(QuickBooksParameters):
    """The New Event trigger: its webhook and which changes to output (empty = every one)."""

    hook: Any = Field(default=None, alias="__IMTHOOK__")
    entities: list[str] = Field(default_factory=list)
    operations: list[str] = Field(default_factory=list)

    @field_validator("entities", "operations", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if value in (None, ""):
            return []
        return [v.strip() for v in value.split(",")] if isinstance(value, str) else value


class WatchParameters(QuickBooksParameters):
    """Polling triggers. ``start``: ``now`` (from now on), ``date`` (since ``startDate``) or
    ``all``; read only while the trigger has no cursor yet. ``includeInactive``: name-list
    records (customers, vendors, items) made inactive are reported too (QuickBooks' queries
    hide them otherwise)."""

    start: str = "now"
    startDate: Any = None
    limit: int = Field(default=100, ge=1)
    includeInactive: bool = False


class SearchParameters(QuickBooksParameters):
    """``limit``: the most records to output (the query's MAXRESULTS); 0 = every one.
    ``errorWhenNoRes``: finding nothing is an error (``DataError``) naming the query — a
    record whose condition does not hold in QuickBooks yet goes to the error route, where Break
    retries it later, instead of ending quietly."""

    limit: int | None = Field(default=10, ge=0)
    continueWhenNoRes: bool = False
    errorWhenNoRes: bool = False


class FieldRule(BaseModel):
    """One AND rule of a search: ``CompanyName`` ``startsWith`` ``O'Brien``."""

    model_config = LAX

    field: str
    operator: str = "equals"
    value: Any = None


class SearchInput(BaseModel):
    """What every search takes besides its own fields: ``match`` (how the text fields
    compare: ``equals``, ``contains`` or ``startsWith``), ``filter`` (AND rules on any field),
    ``where`` (a raw condition in Intuit's query language, not escaped) and ``orderBy``."""

    model_config = LAX

    match: str = "equals"
    filter: list[FieldRule] = Field(default_factory=list)
    where: str | None = None
    orderBy: str | None = None

    @field_validator("filter", mode="before")
    @classmethod
    def _flatten(cls, value: Any) -> Any:
        if value in (None, ""):
            return []
        if isinstance(value, list) and value and isinstance(value[0], list):
            return [rule for group in value[:1] for rule in group]  # Make's [[AND rules]]
        return value


class SearchNamesInput(SearchInput):
    """Search for Customers / Vendors: every filled field is one AND condition."""

    DisplayName: str | None = None
    CompanyName: str | None = None
    GivenName: str | None = None
    FamilyName: str | None = None
    PrimaryEmailAddr: str | None = None
    Active: bool | None = None


SearchCustomersInput = SearchNamesInput


class SearchItemsInput(SearchInput):
    """Search for Items by ``Name`` (as ``match`` says), ``Sku``, ``Type`` (``Inventory``,
    ``NonInventory``, ``Service``) and ``Active``."""

    Name: str | None = None
    Sku: str | None = None
    Type: str | None = None
    Active: bool | None = None


class SearchFormsInput(SearchInput):
    """Search for invoices, sales receipts or credit memos by ``DocNumber`` (as ``match``
    says), ``CustomerRef`` (the customer's Id) and ``TxnDate`` from / to."""

    DocNumber: str | None = None
    CustomerRef: str | None = None
    TxnDateFrom: Any = None
    TxnDateTo: Any = None

    _customer = field_validator("CustomerRef", mode="before")(
        lambda v: str(v.get("value")) if isinstance(v, dict) else (str(v) if v else None)
    )
    _dates = field_validator("TxnDateFrom", "TxnDateTo", mode="before")(date_text)


class SearchEstimatesInput(SearchFormsInput):
    """Search for Estimates: as the other forms, and by ``TxnStatus`` (``Pending``,
    ``Accepted``, ``Closed``, ``Rejected``)."""

    TxnStatus: str | None = None


class SearchPaymentsInput(SearchInput):
    """Search for Payments by ``Id`` (finds nothing once the payment is deleted — unlike Get,
    which fails), ``PaymentRefNum`` (as ``match`` says), ``CustomerRef`` (the customer's Id)
    and ``TxnDate`` from / to."""

    Id: str | None = None
    PaymentRefNum: str | None = None
    CustomerRef: str | None = None
    TxnDateFrom: Any = None
    TxnDateTo: Any = None

    _ids = field_validator("Id", mode="before")(lambda v: str(v) if isinstance(v, int) else v)
    _customer = field_validator("CustomerRef", mode="before")(
        lambda v: str(v.get("value")) if isinstance(v, dict) else (str(v) if v else None)
    )


class SearchAccountsInput(SearchInput):
    """Search for Accounts by ``Name`` (as ``match`` says), ``AccountType`` (``Income``,
    ``Cost of Goods Sold``, ``Other Current Asset``, ``Bank`` …), ``AccountSubType`` and
    ``Active``."""

    Name: str | None = None
    AccountType: str | None = None
    AccountSubType: str | None = None
    Active: bool | None = None


class SearchTaxCodesInput(SearchInput):
    """Search for Tax Codes by ``Name`` (as ``match`` says) and ``Active``."""

    Name: str | None = None
    Active: bool | None = None


class RecordIdInput(BaseModel):
    """Get a record: its QuickBooks ``Id``."""

    model_config = LAX

    Id: str

    @field_validator("Id", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


class DocumentLinesInput(RecordIdInput):
    """The invoice (or estimate: ``entity``) whose sales lines to list."""

    entity: Literal["Invoice", "Estimate"] = "Invoice"


class DocumentLineOutput(BaseModel):
    """One sales line with its shares: ``NetAmount`` without tax and after its share of the
    discount, ``TaxAmount`` its share of each rate's tax, ``NetUnitPrice`` without tax."""

    model_config = LAX

    Description: str | None = None
    ItemName: str | None = None
    Qty: float | None = None
    UnitPrice: float | None = None
    NetUnitPrice: float | None = None
    Amount: float | None = None
    TaxCode: str | None = None
    TaxPercent: float | None = None
    Discount: float | None = None
    NetAmount: float | None = None
    TaxAmount: float | None = None


class PhysicalAddress(BaseModel):
    model_config = LAX

    Line1: str | None = None
    Line2: str | None = None
    Line3: str | None = None
    City: str | None = None
    CountrySubDivisionCode: str | None = None
    PostalCode: str | None = None
    Country: str | None = None


class NameFields(BaseModel):
    """What customers and vendors share: names, contact details, addresses, tax and
    currency. ``DisplayName`` is unique across customers and vendors."""

    model_config = LAX

    DisplayName: str | None = None
    Title: str | None = None
    GivenName: str | None = None
    MiddleName: str | None = None
    FamilyName: str | None = None
    Suffix: str | None = None
    CompanyName: str | None = None
    PrintOnCheckName: str | None = None
    PrimaryEmailAddr: dict[str, Any] | None = None
    PrimaryPhone: dict[str, Any] | None = None
    Mobile: dict[str, Any] | None = None
    Fax: dict[str, Any] | None = None
    WebAddr: dict[str, Any] | None = None
    BillAddr: PhysicalAddress | None = None
    Active: bool | None = None
    CurrencyRef: dict[str, Any] | None = None

    _email = field_validator("PrimaryEmailAddr", mode="before")(wrapped("Address"))
    _phones = field_validator("PrimaryPhone", "Mobile", "Fax", mode="before")(
        wrapped("FreeFormNumber")
    )
    _web = field_validator("WebAddr", mode="before")(wrapped("URI"))
    _currency = field_validator("CurrencyRef", mode="before")(as_ref)


class CustomerFields(NameFields):
    ShipAddr: PhysicalAddress | None = None
    Notes: str | None = None
    Taxable: bool | None = None
    DefaultTaxCodeRef: dict[str, Any] | None = None

    _refs = field_validator("DefaultTaxCodeRef", mode="before")(as_ref)


class RecordUpdate(BaseModel):
    """Sparse update of one record: ``Id``; ``SyncToken`` is read when not mapped."""

    Id: str
    SyncToken: str | None = None

    _id = field_validator("Id", "SyncToken", mode="before")(
        lambda v: str(v) if isinstance(v, int) else v
    )


class CreateCustomerInput(CustomerFields):
    """A new customer: ``DisplayName`` or a name QuickBooks can derive it from."""


class UpdateCustomerInput(CustomerFields, RecordUpdate):
    """Sparse update: only the mapped fields change."""


class VendorFields(NameFields):
    """A supplier: the shared name fields plus ``AcctNum`` (your account with them),
    ``TaxIdentifier``, ``Vendor1099``, ``TermRef``."""

    AcctNum: str | None = None
    TaxIdentifier: str | None = None
    Vendor1099: bool | None = None
    TermRef: dict[str, Any] | None = None

    _term = field_validator("TermRef", mode="before")(as_ref)


class CreateVendorInput(VendorFields):
    """A new vendor: ``DisplayName`` or a name QuickBooks can derive it from."""


class UpdateVendorInput(VendorFields, RecordUpdate):
    """Sparse update: only the mapped fields change."""


class ItemFields(BaseModel):
    """A product or service. ``Type``: ``Inventory`` (needs ``IncomeAccountRef``,
    ``ExpenseAccountRef`` — cost of goods sold —, ``AssetAccountRef``, ``QtyOnHand`` and
    ``InvStartDate``; ``TrackQtyOnHand`` is set for it), ``NonInventory`` or ``Service`` (an
    income or an expense account)."""

    model_config = LAX

    Name: str | None = None
    Type: str | None = None
    Sku: str | None = None
    Description: str | None = None
    PurchaseDesc: str | None = None
    UnitPrice: float | None = None
    PurchaseCost: float | None = None
    Taxable: bool | None = None
    SalesTaxIncluded: bool | None = None
    SalesTaxCodeRef: dict[str, Any] | None = None
    PurchaseTaxCodeRef: dict[str, Any] | None = None
    IncomeAccountRef: dict[str, Any] | None = None
    ExpenseAccountRef: dict[str, Any] | None = None
    AssetAccountRef: dict[str, Any] | None = None
    TrackQtyOnHand: bool | None = None
    QtyOnHand: float | None = None
    InvStartDate: Any = None
    Active: bool | None = None

    _refs = field_validator(
        "SalesTaxCodeRef",
        "PurchaseTaxCodeRef",
        "IncomeAccountRef",
        "ExpenseAccountRef",
        "AssetAccountRef",
        mode="before",
    )(as_ref)
    _date = field_validator("InvStartDate", mode="before")(date_text)


class CreateItemInput(ItemFields):
    """A new item: ``Name`` and the accounts its ``Type`` needs."""

    Name: str


class UpdateItemInput(ItemFields, RecordUpdate):
    """Sparse update: only the mapped fields change (an inventory item keeps its type)."""


# -- outputs ------------------------------------------------------------------------------------


class MetaDataOutput(BaseModel):
    model_config = LAX

    CreateTime: str | None = None
    LastUpdatedTime: str | None = None


class RecordOutput(BaseModel):
    model_config = LAX

    Id: str
    SyncToken: str | None = None
    MetaData: MetaDataOutput | None = None
    domain: str | None = None


class CustomerOutput(RecordOutput, CustomerFields):
    FullyQualifiedName: str | None = None
    Balance: float | None = None
    BalanceWithJobs: float | None = None


class VendorOutput(RecordOutput, VendorFields):
    Balance: float | None = None


class ItemOutput(RecordOutput, ItemFields):
    FullyQualifiedName: str | None = None


class AccountOutput(RecordOutput):
    Name: str | None = None
    FullyQualifiedName: str | None = None
    AccountType: str | None = None
    AccountSubType: str | None = None
    Classification: str | None = None
    Active: bool | None = None
    CurrentBalance: float | None = None


class TaxCodeOutput(RecordOutput):
    Name: str | None = None
    Description: str | None = None
    Active: bool | None = None
    Taxable: bool | None = None
    SalesTaxRateList: dict[str, Any] | None = None


class EventOutput(BaseModel):
    """One changed entity of a webhook delivery (CloudEvents or legacy). ``type`` and
    ``eventId`` come with CloudEvents only (``qbo.customer.created.v1``, the event's id)."""

    model_config = LAX

    realmId: str | None = None
    name: str | None = None
    id: str | None = None
    operation: str | None = None
    lastUpdated: str | None = None
    deletedId: str | None = None
    type: str | None = None
    eventId: str | None = None


class DeletedOutput(BaseModel):
    """What QuickBooks answers to a delete: the record's ``Id`` and ``status`` "Deleted"."""

    model_config = LAX

    Id: str
    status: str | None = None
    domain: str | None = None
