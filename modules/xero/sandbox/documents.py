"""Invoices and quotes: contact, dates, lines, tax and totals computed as Xero does, and the
status rules."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .contacts import MSG_NO_CONTACT, contact_summary, resolve_contact, write_contact
from .errors import Record, ValidationFailed
from .organisation import ACCOUNTS
from .tenant import Tenant, WriteContext, find_by_id
from .values import money, parse_date, to_decimal

INVOICE_TYPES = ("ACCREC", "ACCPAY")
CREDIT_NOTE_TYPES = ("ACCRECCREDIT", "ACCPAYCREDIT")
#: What ``Type`` a document kind takes; quotes have none.
DOCUMENT_TYPES: dict[str, tuple[str, ...]] = {
    "Invoice": INVOICE_TYPES,
    "CreditNote": CREDIT_NOTE_TYPES,
    "Overpayment": ("RECEIVE-OVERPAYMENT", "SPEND-OVERPAYMENT"),
}
PURCHASE_TYPES = ("ACCPAY", "ACCPAYCREDIT", "SPEND-OVERPAYMENT")
LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")
QUOTE_AMOUNT_TYPES = {kind.upper(): kind for kind in LINE_AMOUNT_TYPES}
QUOTE_STATUSES = ("DRAFT", "SENT", "ACCEPTED", "DECLINED", "INVOICED", "DELETED")
#: Quote status → statuses a client may move it to. The spec gives the codes and no table;
#: Xero's quote workflow (its organisation actions ``CreateDraftQuote`` and ``CreateSentQuote``:
#: a quote is made a draft or sent) lets a customer's answer be recorded only on a sent quote
#: and undone back to sent; an invoiced or deleted quote is done. Where that is not certain the
#: sandbox refuses (never more lenient than Xero): no DRAFT → ACCEPTED, no ACCEPTED → DECLINED.
QUOTE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "DRAFT": ("DRAFT", "SENT", "DELETED"),
    "SENT": ("SENT", "ACCEPTED", "DECLINED", "DELETED"),
    "ACCEPTED": ("ACCEPTED", "SENT", "INVOICED", "DELETED"),
    "DECLINED": ("DECLINED", "SENT", "DELETED"),
    "INVOICED": ("INVOICED",),
    "DELETED": (),
}
QUOTE_CREATED = ("DRAFT", "SENT")
"""The statuses a quote may be created with (``CreateDraftQuote``, ``CreateSentQuote``)."""
#: Invoice status → statuses a client may move it to (PAID only ever comes from payments).
INVOICE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "DRAFT": ("DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"),
    "SUBMITTED": ("SUBMITTED", "DRAFT", "AUTHORISED", "DELETED"),
    "AUTHORISED": ("AUTHORISED", "VOIDED"),
    "PAID": (),
    "VOIDED": (),
    "DELETED": (),
}

MSG_NO_LINES = "One or more line items must be specified"
MSG_BAD_TAX_TYPE = (
    "The TaxType code '{code}' does not exist or cannot be used for this type of transaction."
)
MSG_BAD_ACCOUNT = "Account code '{code}' is not a valid code for this document."
MSG_STATUS_MODIFY = "Invoice not of valid status for modification"
MSG_PAID_EDIT = "This document cannot be edited as it has a payment or credit note allocated to it."
# Xero's words, as its API answers an AUTHORISED or SUBMITTED invoice without a due date
# (reported by xeroizer users, waynerobinson/xeroizer#290 and #395; NOTES §5).
MSG_NO_DUE_DATE = "The document DueDate field must be specified."
MSG_QUOTE_NO_DATE = "The Date field must be specified when a quote is updated."
# Our words (the spec quotes none): a status change outside ``QUOTE_TRANSITIONS``.
MSG_QUOTE_STATUS = "A quote with status {old} cannot be changed to {new}."
# Our words: Xero refuses a currency the organisation has not added (NOTES §8).
MSG_CURRENCY = "The currency {code} is not enabled for this organisation."
NEEDS_DUE_DATE = ("SUBMITTED", "AUTHORISED")


def compute_lines(
    context: WriteContext, lines: Any, amount_types: str, default_tax: str
) -> tuple[list[Record], dict[str, Decimal]]:
    """Compute ``LineAmount``/``TaxAmount`` per line and the document totals.

    Exclusive: tax on top of the line amount. Inclusive: tax is inside it. NoTax: none.
    Tax is rounded per line; a line's own ``TaxAmount`` overrides it (Xero's spec allows it);
    ``DiscountRate`` or ``DiscountAmount`` lower the line amount. ``SubTotal`` is net of tax
    in every mode.

    Raises:
        ValidationFailed: unknown TaxType/AccountCode, non-numeric amounts.
    """
    rates = context.state.tax_rates()
    computed, errors = [], []
    for raw in lines or []:
        line = dict(raw)
        account = line.get("AccountCode")
        if account and str(account) not in ACCOUNTS:
            errors.append(MSG_BAD_ACCOUNT.format(code=account))
        tax_type = (
            "NONE"
            if amount_types == "NoTax"
            else line.get("TaxType")
            or (ACCOUNTS[str(account)][2] if account and str(account) in ACCOUNTS else default_tax)
        )
        if tax_type not in rates:
            errors.append(MSG_BAD_TAX_TYPE.format(code=tax_type))
            continue
        computed.append(compute_line(context, line, amount_types, tax_type, rates[tax_type][1]))
    if errors:
        raise ValidationFailed(*errors)
    total_tax = sum((line["TaxAmount"] for line in computed), Decimal("0"))
    gross = sum((line["LineAmount"] for line in computed), Decimal("0"))
    sub_total = gross - total_tax if amount_types == "Inclusive" else gross
    return computed, {"SubTotal": sub_total, "TotalTax": total_tax, "Total": sub_total + total_tax}


def compute_line(
    context: WriteContext, line: Record, amount_types: str, tax_type: str, rate: Decimal
) -> Record:
    """One line with Quantity, UnitAmount, LineAmount, TaxType and TaxAmount filled in."""
    quantity = to_decimal(line.get("Quantity"), "1")
    discount = to_decimal(line.get("DiscountRate"), "0")
    if line.get("UnitAmount") is None and line.get("LineAmount") is not None:
        line_amount = money(to_decimal(line["LineAmount"]))
        unit = line_amount / quantity if quantity else line_amount
    elif line.get("DiscountAmount") is not None:
        unit = to_decimal(line.get("UnitAmount"))
        line_amount = money(quantity * unit) - money(to_decimal(line["DiscountAmount"]))
    else:
        unit = to_decimal(line.get("UnitAmount"))
        line_amount = money(quantity * unit * (1 - discount / 100))
    if amount_types == "NoTax":
        tax = Decimal("0")
    elif line.get("TaxAmount") not in (None, ""):
        # "This value can be overriden if the calculated <TaxAmount> is not correct" [spec].
        tax = money(to_decimal(line["TaxAmount"]))
    elif amount_types == "Inclusive":
        tax = money(line_amount - line_amount / (1 + rate / 100))
    else:
        tax = money(line_amount * rate / 100)
    return {
        **line,
        "LineItemID": str(line.get("LineItemID") or uuid.uuid4()),
        "Quantity": quantity,
        "UnitAmount": unit,
        "TaxType": tax_type,
        "TaxAmount": tax,
        "LineAmount": line_amount,
        "Tracking": line.get("Tracking", []),
        **({"DiscountRate": discount} if line.get("DiscountRate") is not None else {}),
        **(
            {"DiscountAmount": money(to_decimal(line["DiscountAmount"]))}
            if line.get("DiscountAmount") is not None
            else {}
        ),
    }


def next_number(tenant: Tenant, prefix: str) -> str:
    """Xero-style sequential document number: INV-0001, QU-0001."""
    tenant.counters[prefix] += 1
    return f"{prefix}-{tenant.counters[prefix]:04d}"


def note_number(tenant: Tenant, prefix: str, number: Any) -> None:
    """Advance the counter past a caller-chosen ``INV-0042`` so later numbers don't collide."""
    match = re.fullmatch(rf"{prefix}-(\d+)", str(number or ""))
    if match:
        tenant.counters[prefix] = max(tenant.counters[prefix], int(match.group(1)))


def check_invoice_transition(existing: Record | None, status: str) -> None:
    """Guard status changes: PAID only via payments; paid/void/deleted invoices are frozen.

    Raises:
        ValidationFailed: with Xero's message for the refused change.
    """
    if existing is None:
        if status not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
            raise ValidationFailed("Invoice not of valid status for creation")
        return
    settled = existing.get("AmountPaid", 0) > 0 or existing.get("AmountCredited", 0) > 0
    if existing["Status"] == "PAID" or settled or existing.get("Allocations"):
        raise ValidationFailed(MSG_PAID_EDIT)
    if status not in INVOICE_TRANSITIONS[existing["Status"]]:
        raise ValidationFailed(MSG_STATUS_MODIFY)


@dataclass(frozen=True)
class NumberedKind:
    """An invoice-like document: where it is kept, how it is numbered, its webhook category."""

    kind: str  # build_document's kind: "Invoice", "CreditNote"
    label: str  # "invoice", "credit note" (in messages)
    collection: str  # the Tenant attribute holding them
    id_field: str
    number_field: str
    prefix: str  # INV, CN
    numbered_type: str  # the Type Xero numbers itself (sales documents; bills keep the caller's)
    event_category: str


INVOICE = NumberedKind(
    "Invoice", "invoice", "invoices", "InvoiceID", "InvoiceNumber", "INV", "ACCREC", "INVOICE"
)
CREDIT_NOTE = NumberedKind(
    "CreditNote",
    "credit note",
    "credit_notes",
    "CreditNoteID",
    "CreditNoteNumber",
    "CN",
    "ACCRECCREDIT",
    "CREDITNOTE",
)


def write_numbered(
    kind: NumberedKind,
    balances: Callable[[Record, Record, Record], Record],
    context: WriteContext,
    data: Record,
) -> Record:
    """Create a document of ``kind``, or update the one its ID names; totals are recomputed
    and ``balances(document, existing, merged)`` adds what payments and allocations left."""
    tenant = context.tenant
    records: dict[str, Record] = getattr(tenant, kind.collection)
    existing = find_by_id(records, data.get(kind.id_field))
    if data.get(kind.id_field) and existing is None and not context.seeding:
        raise ValidationFailed(
            f"The {kind.label} with {kind.id_field} {data[kind.id_field]} was not found"
        )
    merged = {**(existing or {}), **data}
    status = str(merged.get("Status") or "DRAFT").upper()
    if not context.seeding:
        check_invoice_transition(existing, status)
    document = build_document(context, merged, status, kind=kind.kind)
    if existing is None:
        document[kind.id_field] = context.new_id(data.get(kind.id_field))
        number = merged.get(kind.number_field)
        note_number(tenant, kind.prefix, number)
        if not number and document["Type"] == kind.numbered_type:
            number = next_number(tenant, kind.prefix)
        document[kind.number_field] = number or ""
    document.update(balances(document, existing or {}, merged))
    record = {**(existing or {}), **document}
    context.stamp(record, data.get("UpdatedDateUTC"))
    records[record[kind.id_field]] = record
    context.event(kind.event_category, "UPDATE" if existing else "CREATE", record[kind.id_field])
    return record


def invoice_balances(document: Record, existing: Record, merged: Record) -> Record:
    paid = existing.get("AmountPaid", Decimal("0"))
    credited = existing.get("AmountCredited", Decimal("0"))
    return {
        "AmountPaid": paid,
        "AmountCredited": credited,
        "AmountDue": document["Total"] - paid - credited,
        "Payments": existing.get("Payments", []),
        "CurrencyRate": to_decimal(merged.get("CurrencyRate"), "1"),
    }


def credit_note_balances(document: Record, existing: Record, merged: Record) -> Record:
    allocations = existing.get("Allocations", [])
    allocated = sum((a["Amount"] for a in allocations), Decimal(0))
    return {
        "RemainingCredit": document["Total"] - allocated,
        "Allocations": allocations,
        "Payments": existing.get("Payments", []),
        "CurrencyRate": to_decimal(merged.get("CurrencyRate"), "1"),
    }


def write_invoice(context: WriteContext, data: Record) -> Record:
    """Create an invoice, or update the one named by ``InvoiceID``."""
    return write_numbered(INVOICE, invoice_balances, context, data)


def write_credit_note(context: WriteContext, data: Record) -> Record:
    """Create a credit note, or update the one named by ``CreditNoteID``; its remaining credit
    is its total less what was allocated to invoices (``credits.allocate``)."""
    return write_numbered(CREDIT_NOTE, credit_note_balances, context, data)


def build_document(context: WriteContext, merged: Record, status: str, kind: str) -> Record:
    """Validate and compute the fields invoices, credit notes, overpayments and quotes share
    (type, contact, dates, currency, lines, totals).

    Collects every problem before raising, as Xero lists all of an element's errors.
    """
    errors: list[str] = []
    doc_type = document_type(errors, merged, kind)
    contact, contact_to_create = _collect(errors, resolve_contact, context, merged.get("Contact"))
    amount_types = merged.get("LineAmountTypes") or "Exclusive"
    if kind == "Quote":  # quotes spell them EXCLUSIVE, INCLUSIVE, NOTAX (QuoteLineAmountTypes)
        amount_types = QUOTE_AMOUNT_TYPES.get(str(amount_types), amount_types)
    if amount_types not in LINE_AMOUNT_TYPES:
        errors.append(f"'{amount_types}' is not a valid LineAmountTypes value")
        amount_types = "Exclusive"
    default_tax = "INPUT2" if doc_type in PURCHASE_TYPES else "OUTPUT2"
    computed = _collect(
        errors, compute_lines, context, merged.get("LineItems"), amount_types, default_tax
    )
    if not merged.get("LineItems") and status in ("SUBMITTED", "AUTHORISED", "SENT"):
        errors.append(MSG_NO_LINES)
    if kind == "Invoice" and status in NEEDS_DUE_DATE and merged.get("DueDate") in (None, ""):
        errors.append(MSG_NO_DUE_DATE)
    currency = merged.get("CurrencyCode") or context.state.config["base_currency"]
    if currency not in context.state.currencies():
        errors.append(MSG_CURRENCY.format(code=currency))
    dates = _collect(errors, document_dates, context, merged, kind)
    if errors:
        raise ValidationFailed(*dict.fromkeys(errors))
    if contact is None and contact_to_create:
        contact = write_contact(context, {"Name": contact_to_create})
    lines, totals = computed
    document = {
        "Contact": contact_summary(contact),
        "Status": status,
        "LineAmountTypes": amount_types,
        "LineItems": lines,
        "Reference": merged.get("Reference", ""),
        "CurrencyCode": currency,
        "HasAttachments": False,
        **dates,
        **totals,
    }
    if doc_type is not None:
        document["Type"] = doc_type
    return document


def document_type(errors: list[str], merged: Record, kind: str) -> str | None:
    """The document's ``Type`` (the kind's first type when absent; None for quotes)."""
    types = DOCUMENT_TYPES.get(kind)
    if types is None:
        return None
    doc_type = str(merged.get("Type") or types[0]).upper()
    if doc_type not in types:
        errors.append(f"{kind} Type must be {' or '.join(types)}")
    return doc_type


def _collect(errors: list[str], check: Callable[..., Any], *args: Any) -> Any:
    """Run ``check``; on ``ValidationFailed`` record its messages and return neutral values."""
    try:
        return check(*args)
    except ValidationFailed as exc:
        errors.extend(exc.messages)
        return (None, None)


def document_dates(context: WriteContext, merged: Record, kind: str) -> Record:
    """``Date`` (default today), ``DueDate`` / ``ExpiryDate`` as dates.

    Raises:
        ValidationFailed: a date that cannot be read.
    """
    second = "DueDate" if kind == "Invoice" else "ExpiryDate"
    result: Record = {"Date": context.state.now().date()}
    for key in ("Date", second):
        raw = merged.get(key)
        if raw in (None, ""):
            continue
        parsed = parse_date(raw)
        if parsed is None:
            raise ValidationFailed(f"'{raw}' is not a valid date for {key}")
        result[key] = parsed
    return result


def write_quote(context: WriteContext, data: Record) -> Record:
    """Create a quote, or update the one named by ``QuoteID``."""
    tenant = context.tenant
    existing = find_by_id(tenant.quotes, data.get("QuoteID"))
    if data.get("QuoteID") and existing is None and not context.seeding:
        raise ValidationFailed(f"The quote with QuoteID {data['QuoteID']} was not found")
    if existing is not None and not context.seeding:
        _quote_update_names_contact_and_date(data)
    merged = {**(existing or {}), **data}
    status = str(merged.get("Status") or "DRAFT").upper()
    if status not in QUOTE_STATUSES:
        raise ValidationFailed(f"'{status}' is not a valid quote status")
    if not context.seeding:
        _check_quote_status(existing, status)
    document = build_document(context, merged, status, kind="Quote")
    document["LineAmountTypes"] = document["LineAmountTypes"].upper()
    for key in ("Title", "Summary", "Terms"):
        document[key] = merged.get(key, "")
    if existing is None:
        document["QuoteID"] = context.new_id(data.get("QuoteID"))
        note_number(tenant, "QU", merged.get("QuoteNumber"))
        document["QuoteNumber"] = merged.get("QuoteNumber") or next_number(tenant, "QU")
    record = {**(existing or {}), **document}
    context.stamp(record, data.get("UpdatedDateUTC"))
    tenant.quotes[record["QuoteID"]] = record
    return record


def _check_quote_status(existing: Record | None, status: str) -> None:
    """A new quote is a draft or sent; an existing one moves only as ``QUOTE_TRANSITIONS`` says.

    Raises:
        ValidationFailed: a status the quote may not take.
    """
    old = None if existing is None else str(existing.get("Status") or "DRAFT")
    allowed = QUOTE_CREATED if old is None else QUOTE_TRANSITIONS.get(old, ())
    if status not in allowed:
        raise ValidationFailed(MSG_QUOTE_STATUS.format(old=old or "(new)", new=status))


def _quote_update_names_contact_and_date(data: Record) -> None:
    """A quote update names its ``Contact`` and ``Date`` (spec ``updateQuote``: its example
    sends both even to change the ``Reference``); the sandbox refuses one without them rather
    than fill them in from the quote, so it is never more lenient than Xero. A create's
    ``Date`` defaults to today (spec ``Quote.Date``). The date message is ours: the spec
    quotes none.

    Raises:
        ValidationFailed: ``Contact`` or ``Date`` missing from the update.
    """
    errors = []
    if not data.get("Contact"):
        errors.append(MSG_NO_CONTACT)
    if data.get("Date") in (None, ""):
        errors.append(MSG_QUOTE_NO_DATE)
    if errors:
        raise ValidationFailed(*errors)


def write_overpayment(context: WriteContext, data: Record) -> Record:
    """Record an overpayment (fixtures only: Xero creates them from a bank transaction of type
    RECEIVE-OVERPAYMENT or SPEND-OVERPAYMENT, which this sandbox does not emulate)."""
    if not context.seeding:
        raise ValidationFailed("Overpayments are created as bank transactions")
    document = build_document(context, data, "AUTHORISED", kind="Overpayment")
    document.update(
        OverpaymentID=context.new_id(data.get("OverpaymentID")),
        RemainingCredit=document["Total"],
        Allocations=[],
        Payments=[],
        CurrencyRate=to_decimal(data.get("CurrencyRate"), "1"),
    )
    context.stamp(document, data.get("UpdatedDateUTC"))
    context.tenant.overpayments[document["OverpaymentID"]] = document
    return document
