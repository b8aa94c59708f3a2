"""The API's collections, declared once and served by the generic handlers in ``api``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .contacts import CONTACT_FIELDS, contact_summary, write_contact
from .documents import write_credit_note, write_invoice, write_overpayment, write_quote
from .errors import Record, ValidationFailed
from .items import ITEM_FIELDS, write_item
from .payments import write_payment
from .tenant import Tenant, WriteContext
from .values import parse_date, to_wire

API_PREFIX = "/api.xro/2.0"


@dataclass(frozen=True)
class Resource:
    """How one API collection is named, stored, written, rendered and filtered."""

    name: str
    id_field: str
    type_name: str
    write: Callable[[WriteContext, Record], Record]
    known_fields: tuple[str, ...]
    number_field: str | None = None
    writable: bool = True  # served with PUT and POST (Overpayments come from bank transactions)
    paged: bool = True  # lists take ``page``; Xero answers Items whole
    where: bool = True  # lists take ``where`` (Quotes do not: the spec gives them none)
    list_filters: Mapping[str, ListFilter] = field(default_factory=dict)
    """Query parameters of the list beyond the common ones, as the spec declares them."""

    def render(self, tenant: Tenant, record: Record, with_lines: bool = True) -> Record:
        """The record as Xero's JSON (derived fields added, line items optional)."""
        wire = to_wire(record)
        if self.name == "Contacts":
            wire.update(contact_flags(tenant, record["ContactID"]))
        elif "Contact" in record:
            # Embedded contacts show the contact as it is now (a rename shows everywhere).
            current = tenant.contacts.get(record["Contact"]["ContactID"])
            wire["Contact"] = to_wire(contact_summary(current or record["Contact"]))
        for key in ("Date", "DueDate", "ExpiryDate"):
            if isinstance(record.get(key), date):
                wire[f"{key}String"] = record[key].strftime("%Y-%m-%dT00:00:00")
        if not with_lines:
            wire.pop("LineItems", None)
        return wire


ListFilter = Callable[[Record, str], bool]
"""Whether a stored record passes a list's query parameter (its value as sent)."""


def _date_bound(key: str, later: bool) -> ListFilter:
    """``DateFrom``-style filters: the record's date on or after (before) the given one."""

    def keep(record: Record, value: str) -> bool:
        bound, own = parse_date(value), record.get(key)
        if bound is None:
            raise ValidationFailed(f"'{value}' is not a valid date")
        return isinstance(own, date) and (own >= bound if later else own <= bound)

    return keep


def _same(key: str, *path: str) -> ListFilter:
    def keep(record: Record, value: str) -> bool:
        own: Any = record.get(key)
        for step in path:
            own = own.get(step) if isinstance(own, Mapping) else None
        return str(own or "").casefold() == value.strip().casefold()

    return keep


QUOTE_FILTERS: Mapping[str, ListFilter] = {
    "DateFrom": _date_bound("Date", later=True),
    "DateTo": _date_bound("Date", later=False),
    "ExpiryDateFrom": _date_bound("ExpiryDate", later=True),
    "ExpiryDateTo": _date_bound("ExpiryDate", later=False),
    "ContactID": _same("Contact", "ContactID"),
    "Status": _same("Status"),
    "QuoteNumber": _same("QuoteNumber"),
}
"""``GET /Quotes``' own parameters (spec ``getQuotes``): no ``where``, these instead."""


def contact_flags(tenant: Tenant, contact_id: str) -> Record:
    """``IsCustomer``/``IsSupplier`` are derived in Xero from the contact's invoices."""
    types = {i["Type"] for i in tenant.invoices.values() if i["Contact"]["ContactID"] == contact_id}
    return {"IsCustomer": "ACCREC" in types, "IsSupplier": "ACCPAY" in types}


_DOCUMENT_FIELDS = (
    "Contact",
    "Date",
    "DueDate",
    "ExpiryDate",
    "Status",
    "LineAmountTypes",
    "LineItems",
    "SubTotal",
    "TotalTax",
    "Total",
    "CurrencyCode",
    "Reference",
    "UpdatedDateUTC",
)
RESOURCES: dict[str, Resource] = {
    "Contacts": Resource(
        "Contacts",
        "ContactID",
        "Contact",
        write_contact,
        ("ContactID", *CONTACT_FIELDS, "UpdatedDateUTC", "IsCustomer", "IsSupplier"),
    ),
    "Invoices": Resource(
        "Invoices",
        "InvoiceID",
        "Invoice",
        write_invoice,
        (
            "InvoiceID",
            "InvoiceNumber",
            "Type",
            "AmountDue",
            "AmountPaid",
            "AmountCredited",
            "FullyPaidOnDate",
            *_DOCUMENT_FIELDS,
        ),
        number_field="InvoiceNumber",
    ),
    "Quotes": Resource(
        "Quotes",
        "QuoteID",
        "Quote",
        write_quote,
        ("QuoteID", "QuoteNumber", "Title", "Summary", "Terms", *_DOCUMENT_FIELDS),
        number_field="QuoteNumber",
        where=False,
        list_filters=QUOTE_FILTERS,
    ),
    "Payments": Resource(
        "Payments",
        "PaymentID",
        "Payment",
        write_payment,
        (
            "PaymentID",
            "Date",
            "Amount",
            "Reference",
            "PaymentType",
            "Status",
            "Invoice",
            "Account",
            "UpdatedDateUTC",
            "IsReconciled",
            "CurrencyRate",
        ),
    ),
    "CreditNotes": Resource(
        "CreditNotes",
        "CreditNoteID",
        "CreditNote",
        write_credit_note,
        ("CreditNoteID", "CreditNoteNumber", "Type", "RemainingCredit", *_DOCUMENT_FIELDS),
        number_field="CreditNoteNumber",
    ),
    "Items": Resource(
        "Items",
        "ItemID",
        "Item",
        write_item,
        ("ItemID", *ITEM_FIELDS, "IsTrackedAsInventory", "UpdatedDateUTC"),
        paged=False,
    ),
    "Overpayments": Resource(
        "Overpayments",
        "OverpaymentID",
        "Overpayment",
        write_overpayment,
        ("OverpaymentID", "Type", "RemainingCredit", *_DOCUMENT_FIELDS),
        writable=False,
    ),
}
