"""Xero modules' pydantic models: parameters, mapped input (Xero's own field names, as Make's
Xero app uses them) and outputs (every field, so the editor can offer each for mapping)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

_LAX = ConfigDict(extra="allow", populate_by_name=True)


def _date_text(value: Any) -> Any:
    """Dates mapped as datetimes go to Xero as ``YYYY-MM-DD``."""
    if isinstance(value, datetime | date):
        return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()
    return value


class XeroParameters(BaseModel):
    """Static settings of every Xero module: the connection (``__IMTCONN__``)."""

    model_config = _LAX

    connection: Any = Field(default=None, alias="__IMTCONN__")


class WatchParameters(XeroParameters):
    """Polling triggers. ``start``: ``now`` (from now on), ``date`` (since ``startDate``) or
    ``all``; read only while the trigger has no cursor yet."""

    tenantId: str | None = None
    start: str = "now"
    startDate: Any = None
    limit: int = Field(default=100, ge=1)


class SearchParameters(XeroParameters):
    """``limit``: the most records to output; 0 = every one. ``errorWhenNoRes``: finding
    nothing is an error (``DataError``) naming the query — a record whose condition does not
    hold in Xero yet (an invoice that does not owe a credit yet) goes to the error route, where
    Break retries it later, instead of ending quietly."""

    limit: int | None = Field(default=10, ge=0)
    continueWhenNoRes: bool = False
    errorWhenNoRes: bool = False


class TenantInput(BaseModel):
    model_config = _LAX

    tenantId: str | None = None


class FieldRule(BaseModel):
    """One AND rule of "Search by field": ``Name`` ``equals`` ``ACME Ltd``."""

    model_config = _LAX

    field: str
    operator: str = "equals"
    value: Any = None


def flatten_rules(value: Any) -> Any:
    """A search's ``filter`` as one list of AND rules: Make sends ``[[AND rules]]``."""
    if value in (None, ""):
        return []
    if isinstance(value, list) and value and isinstance(value[0], list):
        return [rule for group in value[:1] for rule in group]
    return value


class SearchContactsInput(TenantInput):
    """``searchBy``: ``field`` (AND rules in ``filter``), ``term`` (``searchTerm``), or
    ``where`` (a raw Xero ``where`` expression)."""

    searchBy: str = "field"
    filter: list[FieldRule] = Field(default_factory=list)
    term: str | None = None
    where: str | None = None
    includeArchived: bool = False
    order: str | None = None

    _flatten = field_validator("filter", mode="before")(flatten_rules)


class SearchInvoicesInput(TenantInput):
    where: str | None = None
    filter: list[FieldRule] = Field(default_factory=list)
    Statuses: list[str] | str | None = None
    ContactIDs: list[str] | str | None = None
    InvoiceNumbers: list[str] | str | None = None
    order: str | None = None

    _flatten = field_validator("filter", mode="before")(flatten_rules)


class RecordIdInput(TenantInput):
    ContactID: str | None = None


class SearchInput(TenantInput):
    """Search for credit notes, items or overpayments: a raw ``where`` and/or AND rules."""

    where: str | None = None
    filter: list[FieldRule] = Field(default_factory=list)
    order: str | None = None

    _flatten = field_validator("filter", mode="before")(flatten_rules)


class SearchItemsInput(SearchInput):
    """Search Items: ``Code`` and ``Name`` (each compared whole, case aside — Xero's ``==``),
    besides ``where`` and AND rules."""

    Code: str | None = None
    Name: str | None = None


class SearchTaxRatesInput(SearchInput):
    """Search Tax Rates: ``TaxType`` (e.g. ``OUTPUT2``), besides ``where`` and AND rules."""

    TaxType: str | None = None


class SearchQuotesInput(TenantInput):
    """Search Quotes by the parameters Xero's ``GET /Quotes`` takes (it takes no ``where``):
    ``QuoteNumber``, ``ContactID``, ``Status`` (``DRAFT``, ``SENT``, ``ACCEPTED``,
    ``DECLINED``, ``INVOICED``, ``DELETED``), ``DateFrom``/``DateTo``,
    ``ExpiryDateFrom``/``ExpiryDateTo``, ``order``."""

    QuoteNumber: str | None = None
    ContactID: str | None = None
    Status: str | None = None
    DateFrom: Any = None
    DateTo: Any = None
    ExpiryDateFrom: Any = None
    ExpiryDateTo: Any = None
    order: str | None = None

    _dates = field_validator("DateFrom", "DateTo", "ExpiryDateFrom", "ExpiryDateTo", mode="before")(
        _date_text
    )


class GetQuoteInput(TenantInput):
    QuoteID: str | None = None


class GetCreditNoteInput(TenantInput):
    CreditNoteID: str | None = None


class PaymentIdInput(TenantInput):
    """A payment by its ``PaymentID`` (Get a Payment, Delete a Payment)."""

    PaymentID: str | None = None


class GetItemInput(TenantInput):
    """An item by its ``ItemID`` (a GUID in Xero's spec; find one by code with Search Items)."""

    ItemID: str | None = None


class GetOverpaymentInput(TenantInput):
    OverpaymentID: str | None = None


class AllocationInput(TenantInput):
    """Apply credit to one invoice of the same contact (Xero requires Amount, Invoice, Date)."""

    CreditNoteID: str | None = None
    OverpaymentID: str | None = None
    InvoiceID: str | None = None
    Amount: float
    Date: Any = None

    _dates = field_validator("Date", mode="before")(_date_text)


class AllocationIdInput(TenantInput):
    """One allocation of a credit note: the credit note's ID and the allocation's ID."""

    CreditNoteID: str | None = None
    AllocationID: str | None = None


class Address(BaseModel):
    model_config = _LAX

    AddressType: str | None = None
    AddressLine1: str | None = None
    AddressLine2: str | None = None
    AddressLine3: str | None = None
    AddressLine4: str | None = None
    City: str | None = None
    Region: str | None = None
    PostalCode: str | None = None
    Country: str | None = None
    AttentionTo: str | None = None


class Phone(BaseModel):
    model_config = _LAX

    PhoneType: str | None = None
    PhoneNumber: str | None = None
    PhoneAreaCode: str | None = None
    PhoneCountryCode: str | None = None


class ContactFields(TenantInput):
    Name: str | None = None
    ContactNumber: str | None = None
    AccountNumber: str | None = None
    ContactStatus: str | None = None
    FirstName: str | None = None
    LastName: str | None = None
    EmailAddress: str | None = None
    SkypeUserName: str | None = None
    BankAccountDetails: str | None = None
    TaxNumber: str | None = None
    AccountsReceivableTaxType: str | None = None
    AccountsPayableTaxType: str | None = None
    DefaultCurrency: str | None = None
    Website: str | None = None
    Addresses: list[Address] | None = None
    Phones: list[Phone] | None = None
    IsSupplier: bool | None = None
    IsCustomer: bool | None = None


class CreateContactInput(ContactFields):
    Name: str


class UpdateContactInput(ContactFields):
    ContactID: str


class LineItem(BaseModel):
    model_config = _LAX

    Description: str | None = None
    Quantity: float | None = None
    UnitAmount: float | None = None
    ItemCode: str | None = None
    AccountCode: str | None = None
    TaxType: str | None = None
    TaxAmount: float | None = None
    LineAmount: float | None = None
    DiscountRate: float | None = None
    DiscountAmount: float | None = None
    LineItemID: str | None = None
    Tracking: list[dict[str, Any]] | None = None


class DocumentFields(TenantInput):
    """Fields shared by invoices and quotes. ``ContactID`` is the flat form Make shows;
    ``Contact`` (``{ContactID}`` or ``{Name}``) is accepted as Xero takes it."""

    ContactID: str | None = None
    Contact: dict[str, Any] | None = None
    Date: Any = None
    LineAmountTypes: str | None = None
    LineItems: list[LineItem] | None = None
    Reference: str | None = None
    CurrencyCode: str | None = None
    CurrencyRate: float | None = None
    Status: str | None = None
    BrandingThemeID: str | None = None

    _dates = field_validator("Date", mode="before")(_date_text)


class InvoiceFields(DocumentFields):
    Type: str | None = None
    DueDate: Any = None
    InvoiceNumber: str | None = None
    Url: str | None = None
    SentToContact: bool | None = None
    ExpectedPaymentDate: Any = None

    _due = field_validator("DueDate", "ExpectedPaymentDate", mode="before")(_date_text)


INVOICE_TYPES = {"sales": "ACCREC", "sales invoice": "ACCREC", "bill": "ACCPAY"}
"""What the UI calls the invoice types → Xero's codes (codes pass unchanged)."""


class CreateInvoiceInput(InvoiceFields):
    Type: str = "ACCREC"

    @field_validator("Type", mode="before")
    @classmethod
    def _type_code(cls, value: Any) -> Any:
        if value in (None, ""):
            return "ACCREC"
        return INVOICE_TYPES.get(str(value).strip().lower(), str(value).strip().upper())


class UpdateInvoiceInput(InvoiceFields):
    InvoiceID: str


CREDIT_NOTE_TYPES = {
    "sales": "ACCRECCREDIT",
    "sales credit note": "ACCRECCREDIT",
    "customer": "ACCRECCREDIT",
    "bill": "ACCPAYCREDIT",
    "supplier": "ACCPAYCREDIT",
}
"""What the UI calls the credit note types → Xero's codes (codes pass unchanged)."""


class UpdateCreditNoteInput(DocumentFields):
    """A credit note changed by its ``CreditNoteID`` (void one: ``Status`` VOIDED, once its
    allocations are deleted — Xero refuses to change an allocated one)."""

    CreditNoteID: str


class CreateCreditNoteInput(DocumentFields):
    """A credit note: ``ACCRECCREDIT`` to a customer (the default) or ``ACCPAYCREDIT`` from a
    supplier; apply it with Allocate a Credit Note."""

    Type: str = "ACCRECCREDIT"
    CreditNoteNumber: str | None = None

    @field_validator("Type", mode="before")
    @classmethod
    def _type_code(cls, value: Any) -> Any:
        if value in (None, ""):
            return "ACCRECCREDIT"
        return CREDIT_NOTE_TYPES.get(str(value).strip().lower(), str(value).strip().upper())


class ItemDetails(BaseModel):
    """``SalesDetails`` / ``PurchaseDetails`` of an item."""

    model_config = _LAX

    UnitPrice: float | None = None
    AccountCode: str | None = None
    COGSAccountCode: str | None = None
    TaxType: str | None = None


class ItemFields(TenantInput):
    Code: str | None = None
    Name: str | None = None
    Description: str | None = None
    PurchaseDescription: str | None = None
    IsSold: bool | None = None
    IsPurchased: bool | None = None
    SalesDetails: ItemDetails | None = None
    PurchaseDetails: ItemDetails | None = None
    InventoryAssetAccountCode: str | None = None


class CreateItemInput(ItemFields):
    """Xero requires ``Code`` (at most 30 characters, unique); ``Name`` at most 50."""

    Code: str


class UpdateItemInput(ItemFields):
    """Xero's spec requires the item's ``Code`` in every item element, updates too."""

    ItemID: str
    Code: str


class CreateQuoteInput(DocumentFields):
    ExpiryDate: Any = None
    QuoteNumber: str | None = None
    Title: str | None = None
    Summary: str | None = None
    Terms: str | None = None

    _expiry = field_validator("ExpiryDate", mode="before")(_date_text)

    @field_validator("LineAmountTypes", mode="before")
    @classmethod
    def _quote_amount_types(cls, value: Any) -> Any:
        """Quotes spell them EXCLUSIVE, INCLUSIVE, NOTAX (the spec's QuoteLineAmountTypes)."""
        return str(value).strip().upper() if isinstance(value, str) and value.strip() else value


class UpdateQuoteInput(CreateQuoteInput):
    """The changed fields of one quote (``Status`` ``SENT``, ``ACCEPTED`` …); Xero's update
    example carries ``Contact`` and ``Date``, so the module sends the quote's own when they are
    not mapped."""

    QuoteID: str


class CreatePaymentInput(TenantInput):
    """One payment against one invoice (Xero takes one invoice per payment)."""

    InvoiceID: str | None = None
    InvoiceNumber: str | None = None
    AccountCode: str | None = None
    AccountID: str | None = None
    Amount: float
    Date: Any = None
    Reference: str | None = None
    CurrencyRate: float | None = None
    IsReconciled: bool | None = None

    _dates = field_validator("Date", mode="before")(_date_text)


# -- outputs ------------------------------------------------------------------------------------


class ContactOutput(ContactFields):
    ContactID: str
    UpdatedDateUTC: str | None = None
    HasAttachments: bool | None = None
    Balances: dict[str, Any] | None = None


class InvoiceOutput(InvoiceFields):
    InvoiceID: str
    SubTotal: float | None = None
    TotalTax: float | None = None
    Total: float | None = None
    AmountDue: float | None = None
    AmountPaid: float | None = None
    AmountCredited: float | None = None
    FullyPaidOnDate: str | None = None
    UpdatedDateUTC: str | None = None
    Payments: list[dict[str, Any]] | None = None


class QuoteOutput(CreateQuoteInput):
    QuoteID: str
    TotalDiscount: float | None = None
    SubTotal: float | None = None
    TotalTax: float | None = None
    Total: float | None = None
    UpdatedDateUTC: str | None = None


class PaymentOutput(BaseModel):
    model_config = _LAX

    PaymentID: str
    Date: str | None = None
    Amount: float | None = None
    Reference: str | None = None
    Status: str | None = None
    PaymentType: str | None = None
    CurrencyRate: float | None = None
    IsReconciled: bool | None = None
    Invoice: dict[str, Any] | None = None
    Account: dict[str, Any] | None = None
    UpdatedDateUTC: str | None = None


class CreditNoteOutput(CreateCreditNoteInput):
    CreditNoteID: str
    SubTotal: float | None = None
    TotalTax: float | None = None
    Total: float | None = None
    RemainingCredit: float | None = None
    Allocations: list[dict[str, Any]] | None = None
    UpdatedDateUTC: str | None = None


class ItemOutput(ItemFields):
    ItemID: str
    IsTrackedAsInventory: bool | None = None
    UpdatedDateUTC: str | None = None


class TaxRateOutput(BaseModel):
    model_config = _LAX

    Name: str | None = None
    TaxType: str | None = None
    Status: str | None = None
    EffectiveRate: float | None = None
    DisplayTaxRate: float | None = None
    CanApplyToRevenue: bool | None = None
    TaxComponents: list[dict[str, Any]] | None = None


class OverpaymentOutput(BaseModel):
    model_config = _LAX

    OverpaymentID: str
    Type: str | None = None
    Contact: dict[str, Any] | None = None
    Date: str | None = None
    Status: str | None = None
    LineItems: list[dict[str, Any]] | None = None
    Total: float | None = None
    RemainingCredit: float | None = None
    CurrencyCode: str | None = None
    Allocations: list[dict[str, Any]] | None = None
    UpdatedDateUTC: str | None = None


class AllocationOutput(BaseModel):
    model_config = _LAX

    AllocationID: str | None = None
    Amount: float | None = None
    Date: str | None = None
    Invoice: dict[str, Any] | None = None
