"""Xero's books, read through the Xero connector: contacts, sales invoices, their payments and
the credit notes allocated to them.

A line's net amount is its ``LineAmount`` less its tax when the invoice's amounts are
tax-inclusive; a ``NoTax`` line has no tax. Statuses: DRAFT and SUBMITTED are ``draft``,
AUTHORISED ``open``, PAID ``paid``, VOIDED ``void`` (nothing due); DELETED invoices and
payments are gone. Each allocation of a sales credit note is a ``credit note`` payment of one
invoice, keyed by its ``AllocationID``; what of it is allocated to no invoice
(``RemainingCredit``) is the contact's unallocated ``Credit``. A quote the library made
(reference ``1CRM <number>``, §2.5) is keyed by that reference; one made in Xero is not synced
(key ``""``). Quote statuses: DRAFT and SENT are ``open``, then ``accepted``, ``declined``,
``invoiced``; DELETED quotes are gone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from modules.connections import ApiClient
from modules.reconcile.books import (
    ACCEPTED,
    CREDIT,
    DECLINED,
    DRAFT,
    FROM_CRM,
    INVOICED,
    OPEN,
    PAID,
    PAYMENT,
    VOID,
    Allocation,
    Books,
    Credit,
    Customer,
    Invoice,
    Line,
    Payment,
    Quote,
    day,
    money,
    quantity,
    text,
)
from modules.xero.client import XeroClient, xero_settings

STATUSES = {"DRAFT": DRAFT, "SUBMITTED": DRAFT, "AUTHORISED": OPEN, "PAID": PAID, "VOIDED": VOID}
LIVE_CREDIT = ("AUTHORISED", "PAID")
QUOTE_STATUSES = {
    "DRAFT": OPEN,
    "SENT": OPEN,
    "ACCEPTED": ACCEPTED,
    "DECLINED": DECLINED,
    "INVOICED": INVOICED,
}
QUOTE_MODES = {"EXCLUSIVE": "Exclusive", "INCLUSIVE": "Inclusive", "NOTAX": "NoTax"}
"""Quotes spell their line amount types in capitals (the spec's QuoteLineAmountTypes)."""


def fetch_xero(
    connection: Mapping[str, Any], session: Any, sleep: Callable[[float], None] = time.sleep
) -> Books:
    """The organisation's customers, sales invoices and what paid them, over ``connection``.

    Raises:
        ModuleError: Xero could not be read (the connector's errors).
    """
    client = XeroClient(ApiClient(xero_settings(connection), session, sleep))
    contacts = client.list("Contacts", params={"where": 'ContactStatus=="ACTIVE"'})
    invoices = [
        i
        for i in client.list("Invoices", params={"where": 'Type=="ACCREC"'})
        if i.get("Status") in STATUSES
    ]
    sales = {i["InvoiceID"] for i in invoices}
    payments = [
        payment_of(p)
        for p in client.list("Payments")
        if p.get("Status") != "DELETED" and (p.get("Invoice") or {}).get("InvoiceID") in sales
    ]
    credits = list(client.list("CreditNotes", params={"where": 'Type=="ACCRECCREDIT"'}))
    return Books(
        customers=[customer_of(c) for c in contacts],
        invoices=[invoice_of(i) for i in invoices],
        payments=payments + [c for note in credits for c in credits_of(note)],
        quotes=[quote_of(q) for q in client.list("Quotes") if q.get("Status") in QUOTE_STATUSES],
        credits=[c for note in credits if (c := unallocated_of(note)) is not None],
    )


def customer_of(contact: Mapping[str, Any]) -> Customer:
    address = first(contact.get("Addresses"), "AddressType", "POBOX")
    phone = first(contact.get("Phones"), "PhoneType", "DEFAULT")
    return Customer(
        name=str(contact.get("Name") or "").strip(),
        email=text(contact.get("EmailAddress")),
        phone=text(phone.get("PhoneNumber")),
        website=text(contact.get("Website")),
        street=text(address.get("AddressLine1")),
        city=text(address.get("City")),
        region=text(address.get("Region")),
        postcode=text(address.get("PostalCode")),
        country=text(address.get("Country")),
    )


def first(items: Any, key: str, value: str) -> Mapping[str, Any]:
    """The first of ``items`` whose ``key`` is ``value`` (an empty mapping if none)."""
    return next((i for i in items or [] if isinstance(i, Mapping) and i.get(key) == value), {})


def invoice_of(invoice: Mapping[str, Any]) -> Invoice:
    status = STATUSES[invoice["Status"]]
    mode = invoice.get("LineAmountTypes") or "Exclusive"
    return Invoice(
        key=invoice["InvoiceID"],
        label=text(invoice.get("InvoiceNumber")) or invoice["InvoiceID"],
        customer=text((invoice.get("Contact") or {}).get("Name")),
        date=day(invoice.get("Date")),
        due_date=day(invoice.get("DueDate")),
        currency=text(invoice.get("CurrencyCode")),
        rate=quantity(invoice.get("CurrencyRate")),
        status=status,
        lines=tuple(line_of(line, mode) for line in invoice.get("LineItems") or []),
        subtotal=money(invoice.get("SubTotal")),
        tax=money(invoice.get("TotalTax")),
        total=money(invoice.get("Total")),
        amount_due=money(0 if status == VOID else invoice.get("AmountDue")),
    )


def line_of(line: Mapping[str, Any], mode: str) -> Line:
    tax = money(0 if mode == "NoTax" else line.get("TaxAmount"))
    amount = money(line.get("LineAmount"))
    return Line(
        text(line.get("Description")),
        quantity(line.get("Quantity")),
        amount - tax if mode == "Inclusive" else amount,
        tax,
    )


def payment_of(payment: Mapping[str, Any]) -> Payment:
    amount = money(payment.get("Amount"))
    return Payment(
        key=payment["PaymentID"],
        label=text(payment.get("Reference")) or payment["PaymentID"][:8],
        kind=PAYMENT,
        date=day(payment.get("Date")),
        amount=amount,
        allocations=(Allocation(payment["Invoice"]["InvoiceID"], amount),),
    )


def credits_of(note: Mapping[str, Any]) -> list[Payment]:
    """Each allocation of a live sales credit note, as a credit of one invoice."""
    if note.get("Status") not in LIVE_CREDIT:
        return []
    label = text(note.get("CreditNoteNumber")) or note["CreditNoteID"][:8]
    return [
        Payment(
            key=str(allocation.get("AllocationID") or ""),
            label=label,
            kind=CREDIT,
            date=day(allocation.get("Date")),
            amount=money(allocation.get("Amount")),
            allocations=(
                Allocation(allocation["Invoice"]["InvoiceID"], money(allocation.get("Amount"))),
            ),
        )
        for allocation in note.get("Allocations") or []
    ]


def quote_of(quote: Mapping[str, Any]) -> Quote:
    reference = text(quote.get("Reference")) or ""
    mode = str(quote.get("LineAmountTypes") or "EXCLUSIVE")
    mode = QUOTE_MODES.get(mode.upper(), mode)
    return Quote(
        key=reference if reference.startswith(FROM_CRM) else "",
        id=quote["QuoteID"],
        label=text(quote.get("QuoteNumber")) or quote["QuoteID"],
        customer=text((quote.get("Contact") or {}).get("Name")),
        date=day(quote.get("Date") or quote.get("DateString")),
        expiry=day(quote.get("ExpiryDate") or quote.get("ExpiryDateString")),
        currency=text(quote.get("CurrencyCode")),
        rate=quantity(quote.get("CurrencyRate")),
        status=QUOTE_STATUSES[quote["Status"]],
        lines=tuple(line_of(line, mode) for line in quote.get("LineItems") or []),
        subtotal=money(quote.get("SubTotal")),
        tax=money(quote.get("TotalTax")),
        total=money(quote.get("Total")),
    )


def unallocated_of(note: Mapping[str, Any]) -> Credit | None:
    """What of a live sales credit note is allocated to no invoice (``RemainingCredit``)."""
    remaining = money(note.get("RemainingCredit"))
    if note.get("Status") not in LIVE_CREDIT or not remaining:
        return None
    return Credit(
        customer=str((note.get("Contact") or {}).get("Name") or "").strip(),
        currency=text(note.get("CurrencyCode")),
        amount=remaining,
        label=text(note.get("CreditNoteNumber")) or note["CreditNoteID"][:8],
    )
