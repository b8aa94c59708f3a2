"""Allocations: a credit note's or an overpayment's credit applied to invoices of the same
contact (``PUT /CreditNotes/{id}/Allocations``, ``PUT /Overpayments/{id}/Allocations``), and
taken back (``DELETE /CreditNotes/{id}/Allocations/{AllocationID}``, Xero's
``deleteCreditNoteAllocations``: the invoice owes it again and the credit is free again).

An allocation lowers the source's ``RemainingCredit`` (PAID at zero) and raises the invoice's
``AmountCredited`` (PAID when nothing is due). NOTES §10: ``Amount``, ``Invoice`` and ``Date``
are required; the credit must be AUTHORISED and may not be over-allocated.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from .errors import Record, ValidationFailed
from .payments import rebalance_invoice
from .tenant import WriteContext, find_by_id
from .values import parse_date, to_decimal

MSG_NOT_AUTHORISED = "{label} not of valid status for allocation"
MSG_OVER_CREDIT = "The amount allocated exceeds the remaining credit"
MSG_OVER_DUE = "The amount allocated exceeds the amount outstanding on the invoice"


@dataclass(frozen=True)
class CreditSource:
    """A kind of document whose credit can be allocated."""

    label: str  # "Credit Note"
    resource: str  # "CreditNotes"
    id_field: str  # "CreditNoteID"
    number_field: str | None  # "CreditNoteNumber"
    event_category: str | None  # webhook category of the source, if Xero has one
    invoice_types: Mapping[str, str]  # source Type → the invoice Type it may pay

    def summary(self, source: Record) -> Record:
        keys = (self.id_field, self.number_field) if self.number_field else (self.id_field,)
        return {key: source.get(key) for key in keys}


CREDIT_NOTES = CreditSource(
    "Credit Note",
    "CreditNotes",
    "CreditNoteID",
    "CreditNoteNumber",
    "CREDITNOTE",
    {"ACCRECCREDIT": "ACCREC", "ACCPAYCREDIT": "ACCPAY"},
)
OVERPAYMENTS = CreditSource(
    "Overpayment",
    "Overpayments",
    "OverpaymentID",
    None,
    None,
    {"RECEIVE-OVERPAYMENT": "ACCREC", "SPEND-OVERPAYMENT": "ACCPAY"},
)


def allocate(context: WriteContext, kind: CreditSource, source: Record, data: Record) -> Record:
    """Apply one allocation of ``source``'s credit to the invoice ``data`` names.

    Raises:
        ValidationFailed: every reason the allocation is refused.
    """
    invoice = find_by_id(context.tenant.invoices, (data.get("Invoice") or {}).get("InvoiceID"))
    amount = to_decimal(data.get("Amount"))
    on = parse_date(data.get("Date"))
    errors = allocation_errors(kind, source, invoice, amount, data)
    if on is None:
        errors.append("The Date field must be specified")
    if errors:
        raise ValidationFailed(*errors)
    assert invoice is not None and on is not None  # allocation_errors guarantees the invoice
    allocation = {"AllocationID": str(uuid.uuid4()), "Amount": amount, "Date": on}
    source["Allocations"] = [*source["Allocations"], {**allocation, "Invoice": _invoice(invoice)}]
    source["RemainingCredit"] -= amount
    if source["RemainingCredit"] <= 0:
        source["Status"] = "PAID"
    context.stamp(source)
    if kind.event_category:
        context.event(kind.event_category, "UPDATE", source[kind.id_field])
    invoice.setdefault(kind.resource, []).append({**kind.summary(source), "AppliedAmount": amount})
    invoice["AmountCredited"] = invoice.get("AmountCredited", Decimal(0)) + amount
    rebalance_invoice(context, invoice, invoice["AmountPaid"], on)
    return {
        **allocation,
        "Invoice": _invoice(invoice),
        kind.label.replace(" ", ""): kind.summary(source),
    }


def allocation_errors(
    kind: CreditSource,
    source: Record,
    invoice: Record | None,
    amount: Decimal,
    data: Record,
) -> list[str]:
    """Every reason Xero would refuse this allocation."""
    errors = []
    if source.get("Status") != "AUTHORISED":
        errors.append(MSG_NOT_AUTHORISED.format(label=kind.label))
    if invoice is None:
        errors.append(
            "Invoice could not be found" if data.get("Invoice") else "An Invoice must be specified"
        )
        return errors
    if invoice["Status"] != "AUTHORISED":
        errors.append("Invoice not of valid status for allocation")
    if kind.invoice_types.get(source.get("Type", "")) != invoice["Type"]:
        errors.append(
            f"This {kind.label.lower()} cannot be allocated to an invoice of type {invoice['Type']}"
        )
    if invoice["Contact"]["ContactID"] != source["Contact"]["ContactID"]:
        errors.append("The invoice and the credit must have the same contact")
    if invoice.get("CurrencyCode") != source.get("CurrencyCode"):
        errors.append("The invoice and the credit must be in the same currency")
    if amount <= 0:
        errors.append("The Amount field must be greater than zero")
    if amount > source.get("RemainingCredit", Decimal(0)):
        errors.append(MSG_OVER_CREDIT)
    if amount > invoice["AmountDue"]:
        errors.append(MSG_OVER_DUE)
    return errors


MSG_NO_ALLOCATION = "The allocation you're looking for cannot be found"


def remove_allocation(
    context: WriteContext, kind: CreditSource, source: Record, allocation_id: str
) -> Record | None:
    """Take one allocation back: the source's ``RemainingCredit`` and the invoice's
    ``AmountDue`` rise by its amount (a PAID credit note or invoice is AUTHORISED again).
    ``None`` when the source has no such allocation. Xero answers the allocation with
    ``IsDeleted: true`` and lists it no more."""
    found = [a for a in source["Allocations"] if a["AllocationID"] == allocation_id]
    if not found:
        return None
    (allocation,) = found
    amount = allocation["Amount"]
    source["Allocations"] = [a for a in source["Allocations"] if a is not allocation]
    source["RemainingCredit"] += amount
    if source["Status"] == "PAID" and source["RemainingCredit"] > 0:
        source["Status"] = "AUTHORISED"
    context.stamp(source)
    if kind.event_category:
        context.event(kind.event_category, "UPDATE", source[kind.id_field])
    invoice = find_by_id(context.tenant.invoices, allocation["Invoice"]["InvoiceID"])
    if invoice is not None:
        applied = invoice.get(kind.resource, [])
        for index, entry in enumerate(applied):
            same_source = entry.get(kind.id_field) == source[kind.id_field]
            if same_source and entry.get("AppliedAmount") == amount:
                invoice[kind.resource] = applied[:index] + applied[index + 1 :]
                break
        invoice["AmountCredited"] = invoice.get("AmountCredited", Decimal(0)) - amount
        rebalance_invoice(context, invoice, invoice["AmountPaid"], allocation["Date"])
    return {**allocation, "IsDeleted": True}


def _invoice(invoice: Record) -> Record:
    return {"InvoiceID": invoice["InvoiceID"], "InvoiceNumber": invoice.get("InvoiceNumber")}
