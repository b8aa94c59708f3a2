"""QuickBooks Online's books, read through the QuickBooks connector: customers, invoices and
payments (queries only).

A line's net amount and tax are its share of the document's discount and of each tax rate's
amount (``modules/quickbooks/lines.py``, the same shares the *List Invoice Lines* module gives
1CRM). An invoice is ``void`` when QuickBooks voided it (every amount zero, the memo
"Voided"), ``paid`` when its balance is zero, else ``open``. A payment keeps what
was received (``TotalAmt``; more than its lines on an over-payment) and the invoices its lines
pay; a payment of 0.00 that applies credit memos to invoices is a ``credit note`` of the credit
it uses (what 1CRM records as a payment of type Credit Note). An estimate is a quote keyed by
its origin: its private note ``1CRM <number>`` when §3.5a made it, else ``QuickBooks estimate
<number>`` (§3.5b's subject in 1CRM); ``TxnStatus`` Pending is ``open``, Accepted ``accepted``,
Rejected ``declined``, Closed ``invoiced`` (QuickBooks closes an estimate once invoiced).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

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
    return Books(
        customers=[customer_of(c) for c in customers],
        invoices=[invoice_of(i, codes) for i in invoices],
        payments=[payment_of(p) for p in payments],
        quotes=[quote_of(e, codes) for e in estimates],
    )


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


def payment_of(payment: Mapping[str, Any]) -> Payment:
    """A payment; one that only applies credit (``TotalAmt`` 0, lines linking credit memos:
    how QuickBooks applies a credit memo to invoices) is a credit of the credit it uses."""
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
    only_credit = credit > 0 and money(payment.get("TotalAmt")) == 0
    return Payment(
        key=str(payment["Id"]),
        label=text(payment.get("PaymentRefNum")) or str(payment["Id"]),
        kind=CREDIT if only_credit else PAYMENT,
        date=day(payment.get("TxnDate")),
        amount=credit if only_credit else money(payment.get("TotalAmt")),
        allocations=tuple(
            Allocation(str(link["TxnId"]), money(line.get("Amount")))
            for line in payment.get("Line") or []
            for link in line.get("LinkedTxn") or []
            if link.get("TxnType") == "Invoice"
        ),
    )
