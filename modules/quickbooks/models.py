"""QuickBooks modules' pydantic models: parameters, mapped input and outputs.

Inputs use Intuit's field names. Where QuickBooks nests a single value (``{"value": id}`` refs,
``{"Address": …}`` e-mails, ``{"FreeFormNumber": …}`` phones, ``{"URI": …}`` web sites) a plain
mapped value is accepted and wrapped, as Make's QuickBooks app lets users map a flat id; the
nested form passes unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

_LAX = ConfigDict(extra="allow", populate_by_name=True)


def _wrapper(key: str) -> Callable[[Any], Any]:
    """A "before" validator wrapping a plain value as ``{key: value}``; empty stays None."""

    def wrap(value: Any) -> Any:
        if value in (None, ""):
            return None
        if isinstance(value, dict):
            return value
        return {key: str(value) if key in ("value", "FreeFormNumber") else value}

    return wrap


def _date_text(value: Any) -> Any:
    """Dates mapped as datetimes go to QuickBooks as ``YYYY-MM-DD``; empty stays None."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


_ref = _wrapper("value")


class QuickBooksParameters(BaseModel):
    """Static settings of every QuickBooks module: the connection (``__IMTCONN__``)."""

    model_config = _LAX

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
    ``all``; read only while the trigger has no cursor yet."""

    start: str = "now"
    startDate: Any = None
    limit: int = Field(default=100, ge=1)


class SearchParameters(QuickBooksParameters):
    """``limit``: the most customers to output (the query's MAXRESULTS); 0 = every one."""

    limit: int | None = Field(default=10, ge=0)
    continueWhenNoRes: bool = False


class FieldRule(BaseModel):
    """One AND rule of a search: ``CompanyName`` ``startsWith`` ``O'Brien``."""

    model_config = _LAX

    field: str
    operator: str = "equals"
    value: Any = None


class SearchCustomersInput(BaseModel):
    """Search for Customers. Every filled field is one AND condition; ``match`` says how the
    text fields compare (``equals``, ``contains`` or ``startsWith``). ``filter`` adds rules on
    any field; ``where`` is a raw condition in Intuit's query language (not escaped)."""

    model_config = _LAX

    DisplayName: str | None = None
    CompanyName: str | None = None
    GivenName: str | None = None
    FamilyName: str | None = None
    PrimaryEmailAddr: str | None = None
    Active: bool | None = None
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


class RecordIdInput(BaseModel):
    """Get a record: its QuickBooks ``Id``."""

    model_config = _LAX

    Id: str

    @field_validator("Id", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


class PhysicalAddress(BaseModel):
    model_config = _LAX

    Line1: str | None = None
    Line2: str | None = None
    Line3: str | None = None
    City: str | None = None
    CountrySubDivisionCode: str | None = None
    PostalCode: str | None = None
    Country: str | None = None


class CustomerFields(BaseModel):
    model_config = _LAX

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
    ShipAddr: PhysicalAddress | None = None
    Notes: str | None = None
    Taxable: bool | None = None
    Active: bool | None = None
    DefaultTaxCodeRef: dict[str, Any] | None = None
    CurrencyRef: dict[str, Any] | None = None

    _email = field_validator("PrimaryEmailAddr", mode="before")(_wrapper("Address"))
    _phones = field_validator("PrimaryPhone", "Mobile", "Fax", mode="before")(
        _wrapper("FreeFormNumber")
    )
    _web = field_validator("WebAddr", mode="before")(_wrapper("URI"))
    _refs = field_validator("DefaultTaxCodeRef", "CurrencyRef", mode="before")(_ref)


class CreateCustomerInput(CustomerFields):
    """A new customer: ``DisplayName`` or a name QuickBooks can derive it from."""


class UpdateCustomerInput(CustomerFields):
    """Sparse update: only the mapped fields change. ``SyncToken`` is read when not mapped."""

    Id: str
    SyncToken: str | None = None

    _id = field_validator("Id", "SyncToken", mode="before")(
        lambda v: str(v) if isinstance(v, int) else v
    )


class SalesLine(BaseModel):
    """One line of an invoice or estimate. ``DetailType`` ``SalesItemLineDetail`` (default):
    ``ItemRef``, ``Qty``, ``UnitPrice``, ``TaxCodeRef``; ``DiscountLineDetail``:
    ``DiscountPercent`` or ``Amount``; ``DescriptionOnly``: ``Description``."""

    model_config = _LAX

    DetailType: str = "SalesItemLineDetail"
    Description: str | None = None
    Amount: float | None = None
    ItemRef: dict[str, Any] | None = None
    Qty: float | None = None
    UnitPrice: float | None = None
    TaxCodeRef: dict[str, Any] | None = None
    ServiceDate: Any = None
    DiscountPercent: float | None = None
    SalesItemLineDetail: dict[str, Any] | None = None
    DiscountLineDetail: dict[str, Any] | None = None

    _refs = field_validator("ItemRef", "TaxCodeRef", mode="before")(_ref)
    _date = field_validator("ServiceDate", mode="before")(_date_text)


class SalesDocumentFields(BaseModel):
    """Fields shared by invoices and estimates. ``DiscountPercent`` / ``DiscountAmount`` add
    a document discount line; ``TxnTaxDetail`` (e.g. ``{"TotalTax": …}``) overrides the tax
    QuickBooks computes from the lines' tax codes."""

    model_config = _LAX

    CustomerRef: dict[str, Any]
    Line: list[SalesLine] = Field(default_factory=list)
    TxnDate: Any = None
    DocNumber: str | None = None
    PrivateNote: str | None = None
    CustomerMemo: dict[str, Any] | None = None
    BillEmail: dict[str, Any] | None = None
    BillAddr: PhysicalAddress | None = None
    ShipAddr: PhysicalAddress | None = None
    GlobalTaxCalculation: str | None = None
    ApplyTaxAfterDiscount: bool | None = None
    TxnTaxDetail: dict[str, Any] | None = None
    DiscountPercent: float | None = None
    DiscountAmount: float | None = None
    SalesTermRef: dict[str, Any] | None = None
    CurrencyRef: dict[str, Any] | None = None

    _refs = field_validator("CustomerRef", "SalesTermRef", "CurrencyRef", mode="before")(_ref)
    _memo = field_validator("CustomerMemo", mode="before")(_wrapper("value"))
    _email = field_validator("BillEmail", mode="before")(_wrapper("Address"))
    _dates = field_validator("TxnDate", mode="before")(_date_text)


class CreateInvoiceInput(SalesDocumentFields):
    DueDate: Any = None
    EmailStatus: str | None = None

    _due = field_validator("DueDate", mode="before")(_date_text)


class CreateEstimateInput(SalesDocumentFields):
    ExpirationDate: Any = None
    TxnStatus: str | None = None

    _expiry = field_validator("ExpirationDate", mode="before")(_date_text)


class PaymentLine(BaseModel):
    """Part of a payment applied to one invoice: ``InvoiceId`` and ``Amount`` (or Intuit's
    ``LinkedTxn`` list as is)."""

    model_config = _LAX

    Amount: float
    InvoiceId: str | None = None
    LinkedTxn: list[dict[str, Any]] | None = None

    _id = field_validator("InvoiceId", mode="before")(lambda v: str(v) if isinstance(v, int) else v)


class CreatePaymentInput(BaseModel):
    """A customer payment. ``Line``: the invoices it pays; or the shortcut ``InvoiceId`` (the
    whole ``TotalAmt`` applied to that invoice). Unapplied remainder stays as credit."""

    model_config = _LAX

    CustomerRef: dict[str, Any]
    TotalAmt: float
    Line: list[PaymentLine] = Field(default_factory=list)
    InvoiceId: str | None = None
    TxnDate: Any = None
    PaymentRefNum: str | None = None
    PrivateNote: str | None = None
    PaymentMethodRef: dict[str, Any] | None = None
    DepositToAccountRef: dict[str, Any] | None = None
    CurrencyRef: dict[str, Any] | None = None

    _refs = field_validator(
        "CustomerRef", "PaymentMethodRef", "DepositToAccountRef", "CurrencyRef", mode="before"
    )(_ref)
    _dates = field_validator("TxnDate", mode="before")(_date_text)
    _id = field_validator("InvoiceId", mode="before")(lambda v: str(v) if isinstance(v, int) else v)


# -- outputs ------------------------------------------------------------------------------------


class MetaDataOutput(BaseModel):
    model_config = _LAX

    CreateTime: str | None = None
    LastUpdatedTime: str | None = None


class RecordOutput(BaseModel):
    model_config = _LAX

    Id: str
    SyncToken: str | None = None
    MetaData: MetaDataOutput | None = None
    domain: str | None = None


class CustomerOutput(RecordOutput, CustomerFields):
    FullyQualifiedName: str | None = None
    Balance: float | None = None
    BalanceWithJobs: float | None = None


class SalesDocumentOutput(RecordOutput):
    CustomerRef: dict[str, Any] | None = None
    Line: list[dict[str, Any]] | None = None
    TxnDate: str | None = None
    DocNumber: str | None = None
    PrivateNote: str | None = None
    CustomerMemo: dict[str, Any] | None = None
    BillEmail: dict[str, Any] | None = None
    GlobalTaxCalculation: str | None = None
    TxnTaxDetail: dict[str, Any] | None = None
    TotalAmt: float | None = None


class InvoiceOutput(SalesDocumentOutput):
    DueDate: str | None = None
    Balance: float | None = None
    LinkedTxn: list[dict[str, Any]] | None = None
    EmailStatus: str | None = None


class EstimateOutput(SalesDocumentOutput):
    ExpirationDate: str | None = None
    TxnStatus: str | None = None


class PaymentOutput(RecordOutput):
    CustomerRef: dict[str, Any] | None = None
    TotalAmt: float | None = None
    UnappliedAmt: float | None = None
    TxnDate: str | None = None
    PaymentRefNum: str | None = None
    PrivateNote: str | None = None
    Line: list[dict[str, Any]] | None = None


class EventOutput(BaseModel):
    """One changed entity of a webhook delivery (CloudEvents or legacy). ``type`` and
    ``eventId`` come with CloudEvents only (``qbo.customer.created.v1``, the event's id)."""

    model_config = _LAX

    realmId: str | None = None
    name: str | None = None
    id: str | None = None
    operation: str | None = None
    lastUpdated: str | None = None
    deletedId: str | None = None
    type: str | None = None
    eventId: str | None = None
