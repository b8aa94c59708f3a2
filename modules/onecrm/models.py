"""1CRM modules' pydantic models: parameters, mapped input (1CRM's field names) and the record
output listing every field the guide's scenarios map."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
    """The New Event trigger: its webhook and what 1CRM should post to it."""

    hook: Any = Field(default=None, alias="__IMTHOOK__")
    event: str = "create_or_update"


class SearchParameters(OneCrmParameters):
    limit: int | None = Field(default=10, ge=0)
    continueWhenNoRes: bool = False


class ModelInput(BaseModel):
    model_config = _LAX

    model: str | None = None


class SearchInput(ModelInput):
    """``filter_text``: 1CRM's generic search string; ``fields``: the fields to fetch (id,
    name always come back); ``filters``: exact matches by field; ``limit`` overrides the
    parameter."""

    filter_text: str | None = None
    fields: list[str] = Field(default_factory=list)
    filters: dict[str, Any] = Field(default_factory=dict)
    order: str | None = None
    limit: int | None = None

    @field_validator("fields", "filters", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return None if value in (None, "") else value

    @field_validator("fields", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if value is None:
            return []
        return (
            [f.strip() for f in value.split(",") if f.strip()] if isinstance(value, str) else value
        )


class GetInput(ModelInput):
    id: str
    fields: list[str] = Field(default_factory=list)


class LineItem(BaseModel):
    """An invoice or quote line: a tax percentage OR a tax amount, not both."""

    model_config = _LAX

    name: str | None = None
    quantity: float | None = None
    unit_price: float | None = None
    tax_percentage: float | None = None
    tax_amount: float | None = None


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
    billing_account: str | None = None
    currency: str | None = None
    exchange_rate: float | None = None
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
    refund: bool | None = None
    account_id: str | None = None
    account: str | None = None
    related_invoices: list[RelatedInvoice] | None = None


class CreateInput(RecordFields):
    pass


class UpdateInput(RecordFields):
    id: str
    create_if_missing: bool = False


class RecordOutput(RecordFields):
    """A 1CRM record as a bundle (audit dates ISO UTC)."""

    id: str
    date_entered: str | None = None
    date_modified: str | None = None
    created_by: str | None = None
    modified_user_id: str | None = None
    deleted: Any = None
    invoice_number: Any = None
    quote_number: Any = None
    subtotal: float | None = None
    tax: float | None = None
    amount_due: float | None = None
    total_allocated: float | None = None
