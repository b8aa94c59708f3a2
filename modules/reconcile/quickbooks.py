"""QuickBooks Online's books, read through the QuickBooks connector: customers, invoices and
payments (queries only).

A line's net amount and tax are its share of the document's discount and of each tax rate's
amount (``modules/quickbooks/lines.py``, the same shares the *List Invoice Lines* module gives
1CRM). An invoice is ``void`` when QuickBooks voided it (every amount zero, the memo
"Voided"), ``paid`` when its balance is zero, else ``open``. A payment keeps what
was received (``TotalAmt``; more than its lines on an over-payment) and the invoices its lines
pay; a payment of 0.00 that applies credit memos to invoices is a ``credit note`` of the credit
it uses (what 1CRM records as a payment of type Credit Note), and one of money and credit
together is both (``payments_of``). What a credit memo applies to no invoice
(``RemainingCredit``) and what a payment applies to no invoice (``UnappliedAmt``) are the
customer's free ``Credit`` (reconcile compares it per customer and currency). An estimate
is a quote keyed by its origin: its private note ``1CRM <number>`` when §3.5a made it, else
``QuickBooks estimate <number>`` (§3.5b's subject in 1CRM); ``TxnStatus`` Pending is ``open``,
Accepted ``accepted``, Rejected ``declined``, Closed ``invoiced`` (QuickBooks closes an estimate
once invoiced).

QuickBooks gives a customer one currency, so a 1CRM account invoiced in another currency is a
second customer named ``<account> (<currency>)`` in that currency (§3.3, docs/sandboxes.md):
it pairs with the account — its documents and free credit are the account's, and it is not a
customer of its own (``account_names``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any, TypeVar

from modules.connections import ApiClient
from modules.quickbooks.client import QuickBooksClient, qbo_settings
from modules.quickbooks.lines import rates_by_code, sales_lines
from modules.reconcile.books import (
    ACCEPTED,
    CREDIT,
    DECLINED,
    FROM_CRM,
    FROM_QUICKBOOKS,
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


def fetch_quickbooks(
    connection: Mapping[str, Any], session: Any, sleep: Callable[[float], None] = time.sleep
) -> Books:
    """The company's customers, invoices and payments over ``connection``.

    Raises:
        ModuleError: QuickBooks could not be read (the connector's errors).
    """
    client = QuickBooksClient(ApiClient(qbo_settings(connection), session, sleep))
    codes = rates_by_code(
        list(client.query_all("SELECT * FROM TaxCode")),
        list(client.query_all("SELECT * FROM TaxRate")),
    )
    customers = list(client.query_all("SELECT * FROM Customer WHERE Active = true"))
    invoices = list(client.query_all("SELECT * FROM Invoice"))
    payments = list(client.query_all("SELECT * FROM Payment"))
    estimates = list(client.query_all("SELECT * FROM Estimate"))
    memos = list(client.query_all("SELECT * FROM CreditMemo"))
    accounts = account_names(customers)
    return Books(
        customers=[customer_of(c) for c in customers if accounts[str(c["Id"])] == display(c)],
        invoices=[of_account(invoice_of(i, codes), i, accounts) for i in invoices],
        payments=[part for p in payments for part in payments_of(p)],
        quotes=[of_account(quote_of(e, codes), e, accounts) for e in estimates],
        credits=[
            of_account(credit, raw, accounts)
            for credit, raw in (
                *((remaining_of(m), m) for m in memos),
                *((unapplied_of(p), p) for p in payments),
            )
            if credit is not None
        ],
    )


def display(customer: Mapping[str, Any]) -> str:
    return str(customer.get("DisplayName") or "").strip()


def account_names(customers: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Each customer's Id → the name of the 1CRM account it stands for: its own name, or for
    ``<name> (<currency>)`` in that currency, when a customer ``<name>`` exists, ``<name>``."""
    listed = list(customers)
    names = {display(c).casefold() for c in listed}
    found: dict[str, str] = {}
    for customer in listed:
        name = display(customer)
        currency = str((customer.get("CurrencyRef") or {}).get("value") or "")
        base = name.removesuffix(f" ({currency})") if currency else name
        found[str(customer["Id"])] = base if base.casefold() in names else name
    return found


Document = TypeVar("Document", Invoice, Quote, Credit)


def of_account(document: Document, raw: Mapping[str, Any], accounts: Mapping[str, str]) -> Document:
    """The document (or free credit) with the account's name as its customer (a currency's
    customer's too)."""
    customer_id = str((raw.get("CustomerRef") or {}).get("value") or "")
    return replace(document, customer=accounts.get(customer_id, document.customer))


def customer_of(customer: Mapping[str, Any]) -> Customer:
    address = customer.get("BillAddr") or {}
    return Customer(
        name=str(customer.get("DisplayName") or "").strip(),
        email=text((customer.get("PrimaryEmailAddr") or {}).get("Address")),
        phone=text((customer.get("PrimaryPhone") or {}).get("FreeFormNumber")),
        website=text((customer.get("WebAddr") or {}).get("URI")),
        street=text(address.get("Line1")),
        city=text(address.get("City")),
        region=text(address.get("CountrySubDivisionCode")),
        postcode=text(address.get("PostalCode")),
        country=text(address.get("Country")),
    )


def voided(invoice: Mapping[str, Any]) -> bool:
    """QuickBooks keeps a voided invoice with every amount zero and "Voided" as its memo."""
    note = str(invoice.get("PrivateNote") or "")
    return money(invoice.get("TotalAmt")) == 0 and note.startswith("Voided")


ESTIMATE_STATUSES = {
    "Pending": OPEN,
    "Accepted": ACCEPTED,
    "Rejected": DECLINED,
    "Closed": INVOICED,
}


def invoice_of(invoice: Mapping[str, Any], codes: Mapping[str, Any]) -> Invoice:
    lines = sales_lines(invoice, codes)
    balance = money(invoice.get("Balance"))
    return Invoice(
        key=str(invoice["Id"]),
        label=text(invoice.get("DocNumber")) or str(invoice["Id"]),
        customer=text((invoice.get("CustomerRef") or {}).get("name")),
        date=day(invoice.get("TxnDate")),
        due_date=day(invoice.get("DueDate")),
        currency=text((invoice.get("CurrencyRef") or {}).get("value")),
        rate=quantity(invoice.get("ExchangeRate")),
        status=VOID if voided(invoice) else PAID if balance <= 0 else OPEN,
        lines=lines_of(lines),
        subtotal=money(sum((line["NetAmount"] for line in lines), Decimal(0))),
        tax=money((invoice.get("TxnTaxDetail") or {}).get("TotalTax")),
        total=money(invoice.get("TotalAmt")),
        amount_due=balance,
    )


def lines_of(lines: list[dict[str, Any]]) -> tuple[Line, ...]:
    return tuple(
        Line(
            text(line["Description"]),
            quantity(line["Qty"]),
            money(line["NetAmount"]),
            money(line["TaxAmount"]),
        )
        for line in lines
    )


def quote_of(estimate: Mapping[str, Any], codes: Mapping[str, Any]) -> Quote:
    lines = sales_lines(estimate, codes)
    note = text(estimate.get("PrivateNote")) or ""
    number = text(estimate.get("DocNumber")) or str(estimate["Id"])
    return Quote(
        key=note if note.startswith(FROM_CRM) else f"{FROM_QUICKBOOKS}{number}",
        id=str(estimate["Id"]),
        label=number,
        customer=text((estimate.get("CustomerRef") or {}).get("name")),
        date=day(estimate.get("TxnDate")),
        expiry=day(estimate.get("ExpirationDate")),
        currency=text((estimate.get("CurrencyRef") or {}).get("value")),
        rate=quantity(estimate.get("ExchangeRate")),
        status=ESTIMATE_STATUSES.get(str(estimate.get("TxnStatus") or "Pending"), OPEN),
        lines=lines_of(lines),
        subtotal=money(sum((line["NetAmount"] for line in lines), Decimal(0))),
        tax=money((estimate.get("TxnTaxDetail") or {}).get("TotalTax")),
        total=money(estimate.get("TotalAmt")),
    )


CREDIT_SUFFIX = ":credit"
"""The key of the credit a payment of money and credit together applies (1CRM: the Integrated
ID of its payment of type Credit Note); its money keeps the payment's id."""


def payments_of(payment: Mapping[str, Any]) -> list[Payment]:
    """A payment as what 1CRM records of it: its money (a payment) and the credit memos' credit
    it applies (a credit of the credit it uses). A payment of 0.00 that only applies credit is
    that credit alone (how QuickBooks applies a credit memo to invoices), keyed by its id; one
    of money and credit together is both, its credit keyed ``<id>:credit``. The credit pays
    the payment's invoices first, in line order, the money the rest (``credit_shares``). A
    payment of 0.00 left applying nothing (the invoice or credit memo it linked voided or
    deleted) is nothing."""
    credit = money(
        sum(
            (
                Decimal(str(line.get("Amount") or 0))
                for line in payment.get("Line") or []
                for link in line.get("LinkedTxn") or []
                if link.get("TxnType") == "CreditMemo"
            ),
            Decimal(0),
        )
    )
    key, label = str(payment["Id"]), text(payment.get("PaymentRefNum")) or str(payment["Id"])
    date, total = day(payment.get("TxnDate")), money(payment.get("TotalAmt"))
    shares = credit_shares(payment, credit)
    if total == 0 and not shares:
        return []  # nothing received, nothing applied: credit taken back (its memo deleted)
    if credit > 0 and total == 0:
        return [Payment(key, label, CREDIT, date, credit, allocations(shares, 1))]
    paid = Payment(key, label, PAYMENT, date, total, allocations(shares, 0))
    if credit == 0:
        return [paid]
    used = Payment(key + CREDIT_SUFFIX, label, CREDIT, date, credit, allocations(shares, 1))
    return [paid, used]


def credit_shares(
    payment: Mapping[str, Any], credit: Decimal
) -> list[tuple[str, Decimal, Decimal]]:
    """Each invoice line's invoice, money and credit: the credit goes to the lines in order
    until it is used (what 3.7 and 3.12 allocate in 1CRM, by the same rule)."""
    shares = []
    before = Decimal(0)
    for line in payment.get("Line") or []:
        for link in line.get("LinkedTxn") or []:
            if link.get("TxnType") != "Invoice":
                continue
            amount = money(line.get("Amount"))
            paid = max(Decimal(0), min(amount, before + amount - credit))
            shares.append((str(link["TxnId"]), money(paid), money(amount - paid)))
            before += amount
    return shares


def allocations(shares: list[tuple[str, Decimal, Decimal]], part: int) -> tuple[Allocation, ...]:
    """The money (``part`` 0) or credit (1) of each invoice line, those of nothing left out."""
    return tuple(
        Allocation(invoice, amounts[part]) for invoice, *amounts in shares if amounts[part] > 0
    )


def remaining_of(memo: Mapping[str, Any]) -> Credit | None:
    """What of a credit memo is applied to no invoice (``RemainingCredit``; a voided memo
    has none)."""
    return free(memo, memo.get("RemainingCredit"), CREDIT)


def unapplied_of(payment: Mapping[str, Any]) -> Credit | None:
    """Money a payment received and applied to no invoice (``UnappliedAmt``: an
    over-payment, or a payment whose invoice was voided or deleted)."""
    return free(payment, payment.get("UnappliedAmt"), PAYMENT)


def free(record: Mapping[str, Any], amount: Any, kind: str) -> Credit | None:
    """The customer's free credit of ``amount`` on ``record`` (none for 0.00)."""
    rest = money(amount)
    if rest <= 0:
        return None
    label = text(record.get("DocNumber")) or text(record.get("PaymentRefNum")) or record["Id"]
    return Credit(
        customer=str((record.get("CustomerRef") or {}).get("name") or "").strip(),
        currency=text((record.get("CurrencyRef") or {}).get("value")),
        amount=rest,
        label=str(label),
        kind=kind,
    )
