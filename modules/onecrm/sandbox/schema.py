"""The models the 1CRM sandbox serves: their fields, declared list filters and related links.

This is the metadata ``GET /api.php/meta/fields/{Model}`` answers (``{"fields", "filters"}``,
shaped like ``vendor/1crm/docs-pages/meta.md``) and what every read and write is checked
against: a write naming a field the model does not have is refused, a list call with a filter
the model does not declare is refused (NOTES §3: "``filters[...]`` accepts only the filters the
model declares").

Sources: Contact's filters follow meta.md; the tally models (``InvoiceLineGroup``,
``InvoiceLine``, ``InvoiceAdjustment`` …) and ``Payment``/``invoices_payments`` take the fields
of ``examples/create-invoice.md``, ``create-quote.md`` and ``quote-structure.md``; Account and
Invoice field names follow the field lists of Pipedream's 1CRM sources (secondary). Which
filters Account, Invoice and Payment declare on a real instance is not published: ours are a
plausible list-view set, and ``switchboard connection check`` reads the real ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

TEXT_TYPES = frozenset({"varchar", "name", "text", "email", "phone", "url"})
"""Field types whose list filters match the start of the value (meta.md / filter-contacts.md:
``filters[first_name]=John`` also finds "Johnathan")."""


@dataclass(frozen=True)
class Field:
    """One field of a model.

    Attributes:
        type: 1CRM's field type (``id``, ``varchar``, ``enum``, ``date``, ``datetime``,
            ``decimal``, ``int``, ``bool``, ``ref`` …).
        label: the ``vname`` people see.
        required: a create without it is refused.
        editable: False for fields the server fills (written values are ignored).
        options: allowed values of an ``enum``.
        ref_model: for an id field, the model it points at (checked on write).
        id_name: for a ``ref`` field (the related record's display name), its id field.
    """

    type: str
    label: str
    required: bool = False
    editable: bool = True
    options: tuple[str, ...] = ()
    ref_model: str | None = None
    id_name: str | None = None

    def meta(self, name: str) -> dict[str, Any]:
        """This field as ``GET /meta/fields`` shows it."""
        shown: dict[str, Any] = {
            "vname": self.label,
            "type": self.type,
            "required": self.required,
            "editable": self.editable,
            "name": name,
        }
        if self.options:
            shown["options"] = {option: option for option in self.options}
        if self.id_name:
            shown["id_name"] = self.id_name
        if self.ref_model:
            shown["bean_name"] = self.ref_model
        return shown


@dataclass(frozen=True)
class Filter:
    """A list-view filter a model declares (``filters[<name>]=…``).

    ``kind``: ``unified_search`` (the text of any search field contains the value), ``owner``
    (``all``/``mine``/``not_mine``), ``flag`` (favourites), ``text`` (a field starts with the
    value, case-insensitively), ``equal`` (a field equals the value).
    """

    kind: str
    label: str
    fields: tuple[str, ...] = ()

    def meta(self, name: str) -> dict[str, Any]:
        types = {"unified_search": "unified_search", "owner": "owner", "flag": "flag"}
        shown: dict[str, Any] = {"name": name, "vname": self.label}
        shown["type"] = types.get(self.kind, "varchar" if self.kind == "text" else "enum")
        if len(self.fields) == 1:
            shown["field"] = self.fields[0]
        elif self.fields:
            shown["fields"] = list(self.fields)
        return shown


@dataclass(frozen=True)
class Link:
    """A related list: ``GET /data/{Model}/{id}/{link}`` lists ``model`` records whose
    ``foreign_key`` is the id."""

    model: str
    foreign_key: str


@dataclass(frozen=True)
class ModelSchema:
    """One model: fields, filters, what ``filter_text`` searches, what a list shows without
    ``fields[]``, related links, and its document number (``invoice_number`` …)."""

    name: str
    fields: Mapping[str, Field]
    filters: Mapping[str, Filter] = field(default_factory=dict)
    search_fields: tuple[str, ...] = ("name",)
    list_fields: tuple[str, ...] = ("name",)
    links: Mapping[str, Link] = field(default_factory=dict)
    number_field: str | None = None
    number_prefix: str = ""

    def meta(self) -> dict[str, Any]:
        return {
            "fields": {name: spec.meta(name) for name, spec in self.fields.items()},
            "filters": {name: spec.meta(name) for name, spec in self.filters.items()},
        }

    def editable(self, name: str) -> bool:
        spec = self.fields.get(name)
        return spec is not None and spec.editable


# -- building blocks ---------------------------------------------------------------------------


def _fields(*groups: Mapping[str, Field]) -> dict[str, Field]:
    merged: dict[str, Field] = {}
    for group in groups:
        merged.update(group)
    return merged


def text(label: str, **extra: Any) -> Field:
    return Field("varchar", label, **extra)


def number(label: str, **extra: Any) -> Field:
    return Field("decimal", label, **extra)


def ref(model: str, label: str, **extra: Any) -> Field:
    """An id field pointing at ``model``."""
    return Field("id", label, ref_model=model, **extra)


def shown(id_name: str, label: str) -> Field:
    """The display name of the record an id field points at (filled by the server)."""
    return Field("ref", label, editable=False, id_name=id_name)


AUDIT = {
    "id": Field("id", "ID", editable=False),
    "deleted": Field("bool", "Deleted", editable=False),
    "date_entered": Field("datetime", "Date Created", editable=False),
    "date_modified": Field("datetime", "Last Modified", editable=False),
    "created_by": Field("id", "Created By", editable=False),
    "modified_user_id": Field("id", "Modified By", editable=False),
}
OWNED = {
    "assigned_user_id": Field("id", "Assigned to ID"),
    "assigned_user": Field("ref", "Assigned to", editable=False, id_name="assigned_user_id"),
}
CURRENCY = {
    "currency_id": ref("Currency", "ID (currency)"),
    "currency": shown("currency_id", "Currency"),
    "exchange_rate": number("Exchange Rate"),
}
COMMON_FILTERS = {
    "filter_text": Filter("unified_search", "Search Text"),
    "filter_owner": Filter("owner", "Owner", ("assigned_user_id",)),
    "filter_favorites": Filter("flag", "Only Favorites"),
}


def address(prefix: str, label: str) -> dict[str, Field]:
    parts = ("street", "city", "state", "postalcode", "country")
    return {f"{prefix}_address_{part}": text(f"{label} {part.title()}") for part in parts}


def any_of(label: str, *names: str) -> Filter:
    return Filter("text", label, names)


# -- models ------------------------------------------------------------------------------------

ACCOUNT = ModelSchema(
    "Account",
    _fields(
        AUDIT,
        OWNED,
        CURRENCY,
        {
            "name": Field("name", "Account Name", required=True),
            "account_type": text("Type"),
            "industry": text("Industry"),
            "description": Field("text", "Description"),
            "email1": Field("email", "Email"),
            "email2": Field("email", "Other Email"),
            "phone_office": Field("phone", "Office Phone"),
            "phone_alternate": Field("phone", "Alternate Phone"),
            "phone_fax": Field("phone", "Fax"),
            "website": Field("url", "Website"),
            "is_supplier": Field("bool", "Supplier"),
            "balance": number("Balance", editable=False),
            "tax_code_id": ref("TaxCode", "ID (tax_code)"),
            "primary_contact_id": ref("Contact", "ID (primary_contact)"),
        },
        address("billing", "Billing"),
        address("shipping", "Shipping"),
    ),
    filters={
        **COMMON_FILTERS,
        "name": any_of("Account Name", "name"),
        "account_type": Filter("equal", "Type", ("account_type",)),
        "industry": Filter("equal", "Industry", ("industry",)),
        "any_email": any_of("Any Email", "email1", "email2"),
        "any_phone": any_of("Any Phone", "phone_office", "phone_alternate", "phone_fax"),
        "address_city": any_of("Any City", "billing_address_city", "shipping_address_city"),
    },
    search_fields=("name", "email1", "phone_office", "billing_address_city"),
    list_fields=("name",),
)

CONTACT = ModelSchema(
    "Contact",
    _fields(
        AUDIT,
        OWNED,
        {
            "name": Field("name", "Name", editable=False),
            "salutation": text("Salutation"),
            "first_name": text("First Name"),
            "last_name": Field("name", "Last Name", required=True),
            "title": text("Title"),
            "email1": Field("email", "Email"),
            "email2": Field("email", "Other Email"),
            "phone_work": Field("phone", "Office Phone"),
            "phone_mobile": Field("phone", "Mobile"),
            "phone_home": Field("phone", "Home Phone"),
            "primary_account_id": ref("Account", "ID (primary_account)"),
            "primary_account": shown("primary_account_id", "Primary Account"),
            "description": Field("text", "Description"),
        },
        address("primary", "Primary Address"),
        address("alt", "Other Address"),
    ),
    # meta.md's Contact filters (a subset).
    filters={
        **COMMON_FILTERS,
        "primary_account": Filter("equal", "Primary Account", ("primary_account_id",)),
        "first_name": any_of("First Name", "first_name"),
        "last_name": any_of("Last Name", "last_name"),
        "any_phone": any_of("Any Phone", "phone_work", "phone_mobile", "phone_home"),
        "any_email": any_of("Any Email", "email1", "email2"),
        "address_city": any_of("Any City", "primary_address_city", "alt_address_city"),
        "title": any_of("Title", "title"),
    },
    search_fields=("name", "first_name", "last_name", "email1", "primary_account"),
    list_fields=("name", "first_name", "last_name", "salutation"),
)

CURRENCY_MODEL = ModelSchema(
    "Currency",
    _fields(
        AUDIT,
        {
            "name": Field("name", "Currency Name", required=True),
            "symbol": text("Symbol"),
            "iso4217": text("ISO 4217 Code", required=True),
            "conversion_rate": number("Conversion Rate"),
            "status": Field("enum", "Status", options=("Active", "Inactive")),
        },
    ),
    filters={"filter_text": Filter("unified_search", "Search Text")},
    search_fields=("name", "iso4217"),
    list_fields=("name", "iso4217", "symbol", "conversion_rate", "status"),
)

TAX_RATE = ModelSchema(
    "TaxRate",
    _fields(AUDIT, {"name": Field("name", "Name", required=True), "rate": number("Rate (%)")}),
    filters={"filter_text": Filter("unified_search", "Search Text")},
    list_fields=("name", "rate"),
)

TAX_CODE = ModelSchema(
    "TaxCode",
    _fields(AUDIT, {"name": Field("name", "Name", required=True), "code": text("Code")}),
    filters={"filter_text": Filter("unified_search", "Search Text")},
    list_fields=("name", "code"),
)

TOTALS = {
    "amount": number("Total"),
    "subtotal": number("Subtotal"),
    "pretax": number("Pretax Total"),
    "total_tax": number("Total Tax"),
    "total_discount": number("Total Discount"),
    "total_shipping": number("Total Shipping"),
}


def document(name: str, prefix: str, **extra: Field) -> ModelSchema:
    """An invoice or quote: the tally record whose parts are separate models (NOTES §5)."""
    number_field = f"{name.lower()}_number"
    part = name  # InvoiceLineGroup, QuoteLine …
    key = f"{name.lower()}_id"
    return ModelSchema(
        name,
        _fields(
            AUDIT,
            OWNED,
            CURRENCY,
            TOTALS,
            {
                "name": Field("name", "Subject", required=True),
                number_field: Field("int", "Number"),
                "prefix": text("Number Prefix"),
                "billing_account_id": ref("Account", "ID (billing_account)"),
                "billing_account": shown("billing_account_id", "Billing Account"),
                "billing_contact_id": ref("Contact", "ID (billing_contact)"),
                "billing_contact": shown("billing_contact_id", "Billing Contact"),
                "terms": text("Terms"),
                "description": Field("text", "Description"),
            },
            address("billing", "Billing"),
            extra,
        ),
        filters={
            **COMMON_FILTERS,
            "billing_account": Filter("equal", "Account Name", ("billing_account_id",)),
        },
        search_fields=("name", number_field, "billing_account"),
        list_fields=("name", number_field, "prefix"),
        links={
            "line_groups_link": Link(f"{part}LineGroup", "parent_id"),
            "lines_link": Link(f"{part}Line", key),
            "comments_link": Link(f"{part}Comment", key),
            "adjustments_link": Link(f"{part}Adjustment", key),
        },
        number_field=number_field,
        number_prefix=prefix,
    )


INVOICE = document(
    "Invoice",
    "INV-",
    invoice_date=Field("date", "Invoice Date"),
    due_date=Field("date", "Due Date"),
    amount_due=number("Amount Due"),
    shipping_stage=text("Shipping Stage"),
    purchase_order_num=text("Purchase Order Number"),
    cancelled=Field("bool", "Cancelled"),
    from_quote_id=ref("Quote", "ID (from_quote)"),
    integrated_id=text("Integrated ID"),
)
QUOTE = document(
    "Quote",
    "QUO-",
    quote_stage=text("Quote Stage"),
    valid_until=Field("date", "Valid Until"),
)

ADJUSTMENT_TYPES = ("StandardTax", "StandardDiscount", "StdPercentDiscount", "UntaxedShipping")
"""The adjustment types the docs show (create-quote.md, quote-structure.md)."""
ADJUSTMENT_RELATED = ("TaxRates", "Discounts", "ShippingProviders")


def document_parts(parent: str) -> tuple[ModelSchema, ...]:
    """``{parent}LineGroup``, ``{parent}Line``, ``{parent}Adjustment``, ``{parent}Comment``."""
    key = f"{parent.lower()}_id"
    owner = {key: ref(parent, parent, required=True)}
    group = {"line_group_id": ref(f"{parent}LineGroup", "Line Group", required=True)}
    position = {"position": Field("int", "Position")}
    return (
        ModelSchema(
            f"{parent}LineGroup",
            _fields(
                AUDIT,
                position,
                {
                    "parent_id": ref(parent, parent, required=True),
                    "name": text("Name"),
                    "status": text("Status"),
                    "group_type": text("Group Type"),
                    "cost": number("Cost"),
                    "subtotal": number("Subtotal"),
                    "total": number("Total"),
                },
            ),
        ),
        ModelSchema(
            f"{parent}Line",
            _fields(
                AUDIT,
                owner,
                group,
                position,
                {
                    "name": Field("name", "Name", required=True),
                    "quantity": number("Quantity"),
                    "related_type": text("Related Type"),
                    "related_id": Field("id", "Product"),
                    "mfr_part_no": text("Manufacturer Part No."),
                    "tax_class_id": ref("TaxCode", "Tax Code"),
                    "cost_price": number("Cost Price"),
                    "list_price": number("List Price"),
                    "unit_price": number("Unit Price"),
                    "net_price": number("Net Price"),
                },
            ),
        ),
        ModelSchema(
            f"{parent}Adjustment",
            _fields(
                AUDIT,
                owner,
                group,
                position,
                {
                    "line_id": ref(f"{parent}Line", "Line"),
                    "name": text("Name"),
                    "related_type": Field("enum", "Related Type", options=ADJUSTMENT_RELATED),
                    "related_id": Field("id", "Related ID"),
                    "rate": number("Rate"),
                    "type": Field("enum", "Type", required=True, options=ADJUSTMENT_TYPES),
                    "amount": number("Amount"),
                },
            ),
        ),
        ModelSchema(
            f"{parent}Comment",
            _fields(AUDIT, owner, group, position, {"body": Field("text", "Comment")}),
            search_fields=("body",),
            list_fields=(),
        ),
    )


PAYMENT = ModelSchema(
    "Payment",
    _fields(
        AUDIT,
        OWNED,
        CURRENCY,
        {
            "name": Field("name", "Payment", editable=False),
            "payment_number": Field("int", "Payment Number"),
            "prefix": text("Payment Number Prefix"),
            "account_id": ref("Account", "ID (account)"),
            "account": shown("account_id", "Account"),
            "direction": Field(
                "enum", "Direction", required=True, options=("incoming", "outgoing")
            ),
            "payment_date": Field("date", "Payment Date"),
            "payment_type": text("Payment Type"),
            "payment_method": text("Payment Method"),
            "amount": number("Received/Sent Amount", required=True),
            "total_amount": number("Total Allocated"),
            "related_invoice_id": ref("Invoice", "Related Invoice"),
            "applied_amount": number("Applied Amount"),
            "customer_reference": text("Customer Reference No."),
            "notes": Field("text", "Notes"),
            "refund": Field("bool", "Refund"),
            "integrated_id": text("Integrated ID"),
        },
    ),
    filters={
        **COMMON_FILTERS,
        "account": Filter("equal", "Account", ("account_id",)),
        "direction": Filter("equal", "Direction", ("direction",)),
    },
    search_fields=("name", "customer_reference", "account"),
    list_fields=("name", "payment_number", "prefix"),
    number_field="payment_number",
    number_prefix="PMT-",
)

INVOICES_PAYMENTS = ModelSchema(
    "invoices_payments",
    _fields(
        {k: AUDIT[k] for k in ("id", "deleted", "date_modified")},
        {
            "payment_id": ref("Payment", "Payment", required=True),
            "invoice_id": ref("Invoice", "Invoice", required=True),
            "amount": number("Amount", required=True),
        },
    ),
    # Our assumption: the link lists by either end (how a payment's invoices are read back).
    filters={
        "payment_id": Filter("equal", "Payment", ("payment_id",)),
        "invoice_id": Filter("equal", "Invoice", ("invoice_id",)),
    },
    search_fields=(),
    list_fields=("payment_id", "invoice_id", "amount"),
)


def _by_name(models: Iterable[ModelSchema]) -> dict[str, ModelSchema]:
    return {model.name: model for model in models}


MODELS: dict[str, ModelSchema] = _by_name(
    (
        CURRENCY_MODEL,
        TAX_RATE,
        TAX_CODE,
        ACCOUNT,
        CONTACT,
        QUOTE,
        *document_parts("Quote"),
        INVOICE,
        *document_parts("Invoice"),
        PAYMENT,
        INVOICES_PAYMENTS,
    )
)
"""Every model, in seeding order: a record may only point at models listed before it."""

LINK_MODELS = frozenset({"invoices_payments"})
"""Link records: their create answers a list of ids (NOTES §2, the create row)."""

PEOPLE_MODELS = ("Account", "Contact", "Invoice", "Quote", "Payment")
"""The models the ``webhook_url`` catch-all announces (what a person edits in 1CRM)."""
