"""1CRM's books, read through the 1CRM connector (list calls only, a few per model).

An invoice is keyed by its Integrated ID (the accounting system's invoice id) and is ``void``
when cancelled, ``paid`` when nothing is due, else ``open``; its net total is 1CRM's *pretax*
total. A payment is keyed by its Integrated ID; a 1CRM payment of type *Credit Note* is a
credit note's credit (what the Xero library records of a credit note allocated to an invoice).
A quote is keyed by its origin: ``QuickBooks estimate <number>`` (its subject, as 3.5b names
it) for one that came from QuickBooks, else ``1CRM <number>``; its stage gives its status.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from modules.connections import ApiClient
from modules.onecrm.client import OneCrmClient, onecrm_settings
from modules.onecrm.documents import ADJUSTMENT_FIELDS, GROUP_FIELDS, LINE_FIELDS, lines_from
from modules.reconcile.books import (
    ACCEPTED,
    CREDIT,
    DECLINED,
    FROM_CRM,
    FROM_QUICKBOOKS,
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

ACCOUNT_FIELDS = [
    "name",
    "email1",
    "phone_office",
    "website",
    "billing_address_street",
    "billing_address_city",
    "billing_address_state",
    "billing_address_postalcode",
    "billing_address_country",
]
INVOICE_FIELDS = [
    "name",
    "prefix",
    "invoice_number",
    "integrated_id",
    "billing_account_id",
    "invoice_date",
    "date_entered",
    "due_date",
    "currency_id",
    "exchange_rate",
    "cancelled",
    "pretax",
    "total_tax",
    "amount",
    "amount_due",
]
PAYMENT_FIELDS = [
    "account_id",
    "currency_id",
    "prefix",
    "payment_number",
    "integrated_id",
    "payment_type",
    "payment_date",
    "amount",
]
QUOTE_FIELDS = [
    "name",
    "prefix",
    "quote_number",
    "billing_account_id",
    "date_entered",
    "valid_until",
    "currency_id",
    "exchange_rate",
    "quote_stage",
    "pretax",
    "total_tax",
    "amount",
]
QUOTE_STAGES = {
    "Closed Accepted": ACCEPTED,
    "Confirmed": ACCEPTED,
    "Closed Lost": DECLINED,
    "Closed Dead": DECLINED,
}
"""1CRM's quote stages that end a quote; every other stage (Draft, Negotiation, Delivered,
On Hold …) is ``open``."""
CREDIT_NOTE_TYPE = "Credit Note"
"""The payment type a credit note's credit is recorded with in 1CRM."""


def fetch_onecrm(
    connection: Mapping[str, Any], session: Any, sleep: Callable[[float], None] = time.sleep
) -> Books:
    """1CRM's customers, invoices and payments over ``connection``.

    Raises:
        ModuleError: 1CRM could not be read (the connector's errors).
    """
    client = OneCrmClient(ApiClient(onecrm_settings(connection), session, sleep))
    accounts = list(client.search("Account", fields=ACCOUNT_FIELDS))
    names = {a["id"]: a.get("name") for a in accounts}
    codes = {c["id"]: c.get("iso4217") for c in client.search("Currency", fields=["iso4217"])}
    invoices = list(client.search("Invoice", fields=INVOICE_FIELDS))
    lines = lines_by_invoice(client)
    keys = {i["id"]: text(i.get("integrated_id")) or f"1crm:{i['id']}" for i in invoices}
    quote_lines = lines_by_invoice(client, "Quote")
    records = list(client.search("Payment", fields=PAYMENT_FIELDS))
    payments = payments_of(client, keys, records)
    return Books(
        customers=[customer_of(a) for a in accounts],
        invoices=[invoice_of(i, names, codes, lines.get(i["id"], [])) for i in invoices],
        payments=payments,
        credits=unallocated_credits(records, payments, names, codes),
        quotes=[
            quote_of(q, names, codes, quote_lines.get(q["id"], []))
            for q in client.search("Quote", fields=QUOTE_FIELDS)
        ],
    )


def customer_of(account: Mapping[str, Any]) -> Customer:
    return Customer(
        name=str(account.get("name") or "").strip(),
        email=text(account.get("email1")),
        phone=text(account.get("phone_office")),
        website=text(account.get("website")),
        street=text(account.get("billing_address_street")),
        city=text(account.get("billing_address_city")),
        region=text(account.get("billing_address_state")),
        postcode=text(account.get("billing_address_postalcode")),
        country=text(account.get("billing_address_country")),
    )


def lines_by_invoice(
    client: OneCrmClient, model: str = "Invoice"
) -> dict[str, list[dict[str, Any]]]:
    """Every invoice's (or quote's: ``model``) lines (``documents.lines_from``), from three
    list calls."""
    owner = f"{model.lower()}_id"
    groups = list(client.search(f"{model}LineGroup", fields=["parent_id", *GROUP_FIELDS]))
    lines = list(client.search(f"{model}Line", fields=[owner, *LINE_FIELDS]))
    adjustments = list(client.search(f"{model}Adjustment", fields=[owner, *ADJUSTMENT_FIELDS]))
    by_owner: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: {"groups": [], "lines": [], "adjustments": []}
    )
    for group in groups:
        by_owner[group["parent_id"]]["groups"].append(group)
    for line in lines:
        by_owner[line[owner]]["lines"].append(line)
    for adjustment in adjustments:
        by_owner[adjustment[owner]]["adjustments"].append(adjustment)
    return {
        owner: lines_from(parts["groups"], parts["lines"], parts["adjustments"])
        for owner, parts in by_owner.items()
    }


def invoice_of(
    invoice: Mapping[str, Any],
    names: Mapping[str, Any],
    codes: Mapping[str, Any],
    lines: list[dict[str, Any]],
) -> Invoice:
    void = str(invoice.get("cancelled") or "0") not in ("0", "", "False", "false")
    due = money(invoice.get("amount_due"))
    status = VOID if void else (PAID if due <= 0 else OPEN)
    return Invoice(
        key=text(invoice.get("integrated_id")) or "",
        label=f"{invoice.get('prefix') or ''}{invoice.get('invoice_number') or ''}",
        customer=text(names.get(str(invoice.get("billing_account_id") or ""))),
        date=day(invoice.get("invoice_date")) or day(invoice.get("date_entered")),
        due_date=day(invoice.get("due_date")),
        currency=text(codes.get(str(invoice.get("currency_id") or ""))),
        rate=quantity(invoice.get("exchange_rate")),
        status=status,
        lines=lines_of(lines),
        subtotal=money(invoice.get("pretax")),
        tax=money(invoice.get("total_tax")),
        total=money(invoice.get("amount")),
        amount_due=money(0 if void else due),
    )


def lines_of(lines: list[dict[str, Any]]) -> tuple[Line, ...]:
    return tuple(
        Line(
            text(line.get("name")),
            quantity(line.get("quantity")),
            money(line.get("ext_price")),
            money(line.get("tax_amount")),
        )
        for line in lines
    )


def quote_of(
    quote: Mapping[str, Any],
    names: Mapping[str, Any],
    codes: Mapping[str, Any],
    lines: list[dict[str, Any]],
) -> Quote:
    subject = text(quote.get("name")) or ""
    number = quote.get("quote_number") or ""
    return Quote(
        key=subject if subject.startswith(FROM_QUICKBOOKS) else f"{FROM_CRM}{number}",
        id=str(quote["id"]),
        label=f"{quote.get('prefix') or ''}{number}",
        customer=text(names.get(str(quote.get("billing_account_id") or ""))),
        date=day(quote.get("date_entered")),
        expiry=day(quote.get("valid_until")),
        currency=text(codes.get(str(quote.get("currency_id") or ""))),
        rate=quantity(quote.get("exchange_rate")),
        status=QUOTE_STAGES.get(str(quote.get("quote_stage") or ""), OPEN),
        lines=lines_of(lines),
        subtotal=money(quote.get("pretax")),
        tax=money(quote.get("total_tax")),
        total=money(quote.get("amount")),
    )


def payments_of(
    client: OneCrmClient, invoice_keys: Mapping[str, str], records: Sequence[Mapping[str, Any]]
) -> list[Payment]:
    """Payments (``records``) with their allocations (the ``invoices_payments`` links, one
    list call)."""
    links: dict[str, list[Allocation]] = defaultdict(list)
    for link in client.search("invoices_payments", fields=["payment_id", "invoice_id", "amount"]):
        invoice = invoice_keys.get(link["invoice_id"], f"1crm:{link['invoice_id']}")
        links[link["payment_id"]].append(Allocation(invoice, money(link.get("amount"))))
    return [
        Payment(
            key=text(payment.get("integrated_id")) or "",
            label=f"{payment.get('prefix') or ''}{payment.get('payment_number') or ''}",
            kind=CREDIT if payment.get("payment_type") == CREDIT_NOTE_TYPE else PAYMENT,
            date=day(payment.get("payment_date")),
            amount=money(payment.get("amount")),
            allocations=tuple(links.get(payment["id"], [])),
        )
        for payment in records
    ]


def unallocated_credits(
    records: Sequence[Mapping[str, Any]],
    payments: Sequence[Payment],
    names: Mapping[str, Any],
    codes: Mapping[str, Any],
) -> list[Credit]:
    """What each credit (a payment of type Credit Note) or payment allocates to no invoice:
    its amount less its allocations, of the payment's kind (``payments`` are ``records``
    read, in the same order); which kinds count is the library's rule (``compare.Rules``)."""
    found = []
    for record, payment in zip(records, payments, strict=True):
        rest = payment.amount - sum((a.amount for a in payment.allocations), Decimal(0))
        if rest > 0:
            found.append(
                Credit(
                    customer=str(names.get(str(record.get("account_id"))) or "").strip(),
                    currency=text(codes.get(str(record.get("currency_id")))),
                    amount=rest,
                    label=payment.label,
                    kind=payment.kind,
                )
            )
    return found
