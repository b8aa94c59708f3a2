"""1CRM modules' pydantic models: parameters, mapped input (1CRM's field names) and the record
output listing every field the guide's scenarios map."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

_LAX = ConfigDict(extra="allow", populate_by_name=True)

MODEL_NAMES = {
    "account": "Account",
    "accounts": "Account",
    "contact": "Contact",
    "contacts": "Contact",
    "invoice": "Invoice",
    "invoices": "Invoice",
    "quote": "Quote",
    "quotes": "Quote",
    "payment": "Payment",
    "payments": "Payment",
}
"""What users pick ("Accounts") → the API's model name ("Account"); unknown names pass as
given, so models this table lacks still reach the API."""

EVENT_TYPES = {
    "create": "create",
    "update": "update",
    "create_update": "create_update",
    "create_or_update": "create_update",
}
"""The New Event trigger's choices → 1CRM's webhook ``type``."""

DEFAULT_WEBHOOK_FILTER: dict[str, Any] = {
    "glue": "or",
    "conditions": [
        {"field": "deleted", "filter": "is_false", "value": "0", "when": "current_value"}
    ],
}
"""Every record that is not deleted: 1CRM fires no webhook without a valid filter (NOTES §6)."""


def model_name(value: Any) -> str | None:
    """The API's model name for ``value``, or None when empty."""
    if value in (None, ""):
        return None
    return MODEL_NAMES.get(str(value).strip().lower(), str(value).strip())


class OneCrmParameters(BaseModel):
    """Static settings of every 1CRM module: the connection and (optionally) the model."""

    model_config = _LAX

    connection: Any = Field(default=None, alias="__IMTCONN__")
    model: str | None = None


class NewEventParameters(OneCrmParameters):
    """The New Event trigger: its webhook, the event type and 1CRM's webhook filter."""

    hook: Any = Field(default=None, alias="__IMTHOOK__")
    event: str = "create_update"
    filters: dict[str, Any] | None = None

    @field_validator("event")
    @classmethod
    def _known_event(cls, value: str) -> str:
        if value not in EVENT_TYPES:
            raise ValueError(f"one of {', '.join(EVENT_TYPES)}")
        return value


class SearchParameters(OneCrmParameters):
    """``errorWhenNoRes``: finding nothing is an error (``DataError``) naming what was looked
    for — a record whose prerequisite is not in 1CRM yet goes to the error route, where Break
    retries it later, instead of ending quietly."""

    limit: int | None = Field(default=10, ge=0)
    continueWhenNoRes: bool = False
    errorWhenNoRes: bool = False


class ListParameters(OneCrmParameters):
    """A list of the parts of one record: every one unless ``limit`` is set."""

    limit: int | None = Field(default=None, ge=0)
    continueWhenNoRes: bool = False


class ModelInput(BaseModel):
    model_config = _LAX

    model: str | None = None


class SearchInput(ModelInput):
    """``filter_text``: 1CRM's generic search string; ``filters``: list-view filters the model
    declares; ``match``: {field: value} a record must equal (compared by Switchboard);
    ``fields``: the fields to fetch (every field when empty); ``limit`` overrides the
    parameter."""

    filter_text: str | None = None
    fields: list[str] = Field(default_factory=list)
    filters: dict[str, Any] = Field(default_factory=dict)
    match: dict[str, Any] = Field(default_factory=dict)
    order: str | None = None
    limit: int | None = None

    @field_validator("fields", "filters", "match", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return None if value in (None, "") else value

    @field_validator("filters", "match", mode="before")
    @classmethod
    def _nothing(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("fields", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return field_names(value)


def field_names(value: Any) -> Any:
    """Field names as a list: a comma-separated text split, nothing as none."""
    if value in (None, ""):
        return []
    return [f.strip() for f in value.split(",") if f.strip()] if isinstance(value, str) else value


class GetInput(ModelInput):
    """``require``: fields the record must have filled in — one without them is an error
    (``DataError``), so a record that waits for another scenario to write them (an invoice's
    Integrated ID, written back once it is synced) goes to the error route, where Break retries
    it and each retry reads the record again."""

    id: str
    fields: list[str] = Field(default_factory=list)
    require: list[str] = Field(default_factory=list)

    @field_validator("fields", "require", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return field_names(value)


class DeleteInput(ModelInput):
    """The record to delete (``model`` and ``id``)."""

    id: str


class DocumentInput(ModelInput):
    """A quote or invoice (``model``) by its id."""

    id: str


class PaymentInput(BaseModel):
    """``require``: fields each invoice the payment pays must have filled in (as GetRecord's):
    one without them is an error, so a payment over several invoices waits until every one is
    synced — an invoice deleted since (its fields empty) is not waited for."""

    model_config = _LAX

    id: str
    require: list[str] = Field(default_factory=list)

    @field_validator("require", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return field_names(value)


class LineItem(BaseModel):
    """An invoice or quote line: a tax percentage, a (flat) tax amount, or both (the rate
    names the tax, the amount is kept); a discount percentage OR a discount amount; the net
    ``ext_price`` when another system's rounding must be kept."""

    model_config = _LAX

    name: str | None = None
    quantity: float | None = None
    unit_price: float | None = None
    discount_percentage: float | None = None
    discount_amount: float | None = None
    tax_percentage: float | None = None
    tax_amount: float | None = None
    ext_price: float | None = None
    """The net amount (after the discount, before tax) as another system rounded it: kept."""


class RelatedInvoice(BaseModel):
    """A payment's allocation: the 1CRM invoice id or its ``integrated_id``, and the amount."""

    model_config = _LAX

    invoice_id: str | None = None
    integrated_id: str | None = None
    amount: float | None = None


class RecordFields(ModelInput):
    """Fields the guide's scenarios map; any other field of the model may be mapped too."""

    name: str | None = None
    assigned_user_id: str | None = None
    email1: str | None = None
    phone_office: str | None = None
    website: str | None = None
    billing_address_street: str | None = None
    billing_address_city: str | None = None
    billing_address_state: str | None = None
    billing_address_postalcode: str | None = None
    billing_address_country: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    primary_account_id: str | None = None
    billing_account_id: str | None = None
    currency: str | None = None
    currency_id: str | None = None
    exchange_rate: float | None = None
    invoice_date: str | None = None
    due_date: str | None = None
    valid_until: str | None = None
    integrated_id: str | None = None
    line_items: list[LineItem] | None = None
    amount: float | None = None
    payment_date: str | None = None
    payment_number: str | None = None
    prefix: str | None = None
    customer_reference: str | None = None
    notes: str | None = None
    payment_method: str | None = None
    payment_type: str | None = None
    direction: str | None = None
    refund: bool | None = None
    account_id: str | None = None
    related_invoices: list[RelatedInvoice] | None = None


class CreateInput(RecordFields):
    pass


class UpdateInput(RecordFields):
    id: str
    create_if_missing: bool = Field(
        default=False, validation_alias=AliasChoices("create_if_missing", "create")
    )


class RecordOutput(RecordFields):
    """A 1CRM record as a bundle (audit dates ISO UTC, amounts as numbers)."""

    id: str
    date_entered: str | None = None
    date_modified: str | None = None
    created_by: str | None = None
    modified_user_id: str | None = None
    deleted: Any = None
    billing_account: str | None = None
    account: str | None = None
    invoice_number: Any = None
    quote_number: Any = None
    subtotal: float | None = None
    total_tax: float | None = None
    amount_due: float | None = None
    total_amount: float | None = None


class LineOutput(BaseModel):
    """A line of a quote or invoice: price, discount, extended price (after the discount), tax
    rate and amount."""

    model_config = _LAX

    id: str
    name: str | None = None
    position: Any = None
    line_group_id: str | None = None
    quantity: float | None = None
    unit_price: float | None = None
    discount_percentage: float | None = None
    discount_amount: float | None = None
    ext_price: float | None = None
    tax_percentage: float | None = None
    tax_amount: float | None = None
    total: float | None = None


class AllocationOutput(BaseModel):
    """What a payment pays of one invoice."""

    model_config = _LAX

    id: str
    invoice_id: str
    invoice: str | None = None
    invoice_number: Any = None
    integrated_id: str | None = None
    amount: float | None = None


# -- each record type's output (what the mapping panel lists for the chosen type) -------------


class RecordBase(BaseModel):
    """What every 1CRM record has: its id, name, owner and audit fields (dates ISO UTC)."""

    model_config = _LAX

    id: str
    name: str | None = None
    assigned_user_id: str | None = None
    date_entered: str | None = None
    date_modified: str | None = None
    created_by: str | None = None
    modified_user_id: str | None = None
    deleted: Any = None


class Priced(BaseModel):
    """A record in a currency."""

    currency_id: str | None = None
    exchange_rate: float | None = None


class AccountOutput(Priced, RecordBase):
    """An Account."""

    account_type: str | None = None
    industry: str | None = None
    description: str | None = None
    email1: str | None = None
    email2: str | None = None
    phone_office: str | None = None
    phone_alternate: str | None = None
    phone_fax: str | None = None
    website: str | None = None
    is_supplier: bool | None = None
    balance: float | None = None
    tax_code_id: str | None = None
    primary_contact_id: str | None = None
    billing_address_street: str | None = None
    billing_address_city: str | None = None
    billing_address_state: str | None = None
    billing_address_postalcode: str | None = None
    billing_address_country: str | None = None
    shipping_address_street: str | None = None
    shipping_address_city: str | None = None
    shipping_address_state: str | None = None
    shipping_address_postalcode: str | None = None
    shipping_address_country: str | None = None


class ContactOutput(RecordBase):
    """A Contact."""

    salutation: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    email1: str | None = None
    email2: str | None = None
    phone_work: str | None = None
    phone_mobile: str | None = None
    phone_home: str | None = None
    primary_account_id: str | None = None
    primary_account: str | None = None
    description: str | None = None
    primary_address_street: str | None = None
    primary_address_city: str | None = None
    primary_address_state: str | None = None
    primary_address_postalcode: str | None = None
    primary_address_country: str | None = None


class DocumentOutput(Priced, RecordBase):
    """What an invoice and a quote share: the customer, the number prefix and the totals
    (``amount`` is the total)."""

    prefix: str | None = None
    billing_account_id: str | None = None
    billing_account: str | None = None
    billing_contact_id: str | None = None
    billing_contact: str | None = None
    terms: str | None = None
    description: str | None = None
    amount: float | None = None
    subtotal: float | None = None
    pretax: float | None = None
    total_tax: float | None = None
    total_discount: float | None = None
    total_shipping: float | None = None
    billing_address_street: str | None = None
    billing_address_city: str | None = None
    billing_address_state: str | None = None
    billing_address_postalcode: str | None = None
    billing_address_country: str | None = None


class InvoiceOutput(DocumentOutput):
    """An Invoice (its lines: List Line Items)."""

    invoice_number: Any = None
    invoice_date: str | None = None
    due_date: str | None = None
    amount_due: float | None = None
    shipping_stage: str | None = None
    purchase_order_num: str | None = None
    cancelled: bool | None = None
    from_quote_id: str | None = None
    integrated_id: str | None = None


class QuoteOutput(DocumentOutput):
    """A Quote (its lines: List Line Items)."""

    quote_number: Any = None
    quote_stage: str | None = None
    valid_until: str | None = None


class PaymentOutput(Priced, RecordBase):
    """A Payment (the invoices it pays: List a Payment's Invoices)."""

    payment_number: Any = None
    prefix: str | None = None
    account_id: str | None = None
    account: str | None = None
    direction: str | None = None
    payment_date: str | None = None
    payment_type: str | None = None
    payment_method: str | None = None
    amount: float | None = None
    total_amount: float | None = None
    related_invoice_id: str | None = None
    applied_amount: float | None = None
    customer_reference: str | None = None
    notes: str | None = None
    refund: bool | None = None
    integrated_id: str | None = None


OUTPUTS_BY_MODEL: dict[str, type[BaseModel]] = {
    "Account": AccountOutput,
    "Contact": ContactOutput,
    "Invoice": InvoiceOutput,
    "Quote": QuoteOutput,
    "Payment": PaymentOutput,
}
"""Each record type's output; another type outputs ``RecordOutput`` (every field above)."""

RECORD_OUTPUTS: dict[str, type[BaseModel]] = {
    name: OUTPUTS_BY_MODEL[model] for name, model in MODEL_NAMES.items()
}
"""The output by what users pick ("Accounts", "account" …), as ``model_name`` reads it (the
pick ignores case, so "Account" finds "account")."""
