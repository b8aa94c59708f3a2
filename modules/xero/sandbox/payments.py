"""Payments against invoices: applying, settling (PAID) and deleting (re-opening)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from .errors import Record, ValidationFailed
from .organisation import accepts_payments, find_account
from .tenant import Tenant, WriteContext, find_by_id
from .values import parse_date, to_decimal

MSG_NOT_AUTHORISED = "Payments can only be made against Authorised documents"
MSG_OVERPAYMENT = "Payment amount exceeds the amount outstanding on this document"


def find_invoice(tenant: Tenant, ref: Any) -> Record | None:
    """An invoice by ``InvoiceID`` or ``InvoiceNumber`` (Xero accepts either on payments)."""
    if not isinstance(ref, Mapping):
        return None
    if ref.get("InvoiceID"):
        return find_by_id(tenant.invoices, ref["InvoiceID"])
    number = ref.get("InvoiceNumber")
    return next(
        (i for i in tenant.invoices.values() if number and i["InvoiceNumber"] == number), None
    )


def write_payment(context: WriteContext, data: Record) -> Record:
    """Apply a payment to one invoice (or delete one with ``Status: DELETED``).

    Raises:
        ValidationFailed: missing invoice/account, invoice not AUTHORISED, amount over due.
    """
    existing = find_by_id(context.tenant.payments, data.get("PaymentID"))
    if existing is not None:
        return delete_payment(context, existing, data)
    invoice = find_invoice(context.tenant, data.get("Invoice"))
    account = find_account(data.get("Account"))
    amount = to_decimal(data.get("Amount"))
    errors = payment_errors(invoice, account, amount, data)
    if errors:
        raise ValidationFailed(*errors)
    assert invoice is not None and account is not None  # payment_errors guarantees both
    record = {
        "PaymentID": context.new_id(data.get("PaymentID")),
        "Date": parse_date(data.get("Date")) or context.state.now().date(),
        "Amount": amount,
        "BankAmount": amount,
        "Reference": data.get("Reference", ""),
        "CurrencyRate": to_decimal(data.get("CurrencyRate"), "1"),
        "PaymentType": "ACCRECPAYMENT" if invoice["Type"] == "ACCREC" else "ACCPAYPAYMENT",
        "Status": "AUTHORISED",
        "IsReconciled": bool(data.get("IsReconciled", False)),
        "HasAccount": True,
        "HasValidationErrors": False,
        "Account": account[1],
        "Invoice": invoice_summary(invoice),
    }
    context.stamp(record, data.get("UpdatedDateUTC"))
    context.tenant.payments[record["PaymentID"]] = record
    settle_invoice(context, invoice, record, amount)
    return record


def payment_errors(
    invoice: Record | None, account: tuple[str, Record] | None, amount: Decimal, data: Record
) -> list[str]:
    """Every reason Xero would refuse this payment, in Xero's words where known."""
    errors = []
    if invoice is None:
        errors.append(
            "Invoice could not be found"
            if data.get("Invoice")
            else "You must specify an Invoice, CreditNote, Prepayment or Overpayment"
        )
    if account is None:
        errors.append(
            "Account could not be found"
            if data.get("Account")
            else "You must specify an Account or an Account Code"
        )
    elif not accepts_payments(account[0]):
        errors.append("Account type is invalid for making a payment to/from")
    if amount <= 0:
        errors.append("Payment amount must be greater than zero")
    if invoice is not None and invoice["Status"] != "AUTHORISED":
        errors.append(MSG_NOT_AUTHORISED)
    if invoice is not None and amount > invoice["AmountDue"]:
        errors.append(MSG_OVERPAYMENT)
    return errors


def invoice_summary(invoice: Record) -> Record:
    """The invoice as embedded in a payment."""
    keys = ("InvoiceID", "InvoiceNumber", "Type", "Contact", "CurrencyCode")
    return {key: copy.deepcopy(invoice.get(key)) for key in keys}


def settle_invoice(
    context: WriteContext, invoice: Record, payment: Record, amount: Decimal
) -> None:
    """Book ``amount`` against ``invoice``; a settled invoice becomes PAID."""
    invoice["Payments"] = [
        *invoice["Payments"],
        {key: payment[key] for key in ("PaymentID", "Date", "Amount", "Reference", "CurrencyRate")},
    ]
    rebalance_invoice(context, invoice, invoice["AmountPaid"] + amount, payment["Date"])


def rebalance_invoice(
    context: WriteContext, invoice: Record, amount_paid: Decimal, paid_on: date
) -> None:
    """Set ``AmountPaid``/``AmountDue`` and move between AUTHORISED and PAID accordingly."""
    invoice["AmountPaid"] = amount_paid
    invoice["AmountDue"] = invoice["Total"] - amount_paid - invoice["AmountCredited"]
    if invoice["AmountDue"] <= 0:
        invoice["Status"] = "PAID"
        invoice["FullyPaidOnDate"] = paid_on
    elif invoice["Status"] == "PAID":
        invoice["Status"] = "AUTHORISED"
        invoice.pop("FullyPaidOnDate", None)
    context.stamp(invoice)
    context.event("INVOICE", "UPDATE", invoice["InvoiceID"])


def delete_payment(context: WriteContext, payment: Record, data: Record) -> Record:
    """Xero deletes payments by POSTing ``{"Status": "DELETED"}``; the invoice is re-opened."""
    if str(data.get("Status", "")).upper() != "DELETED" or payment["Status"] == "DELETED":
        raise ValidationFailed("Payment not of valid status for modification")
    payment["Status"] = "DELETED"
    context.stamp(payment)
    invoice = find_by_id(context.tenant.invoices, payment["Invoice"]["InvoiceID"])
    if invoice is not None:
        invoice["Payments"] = [
            p for p in invoice["Payments"] if p["PaymentID"] != payment["PaymentID"]
        ]
        rebalance_invoice(
            context, invoice, invoice["AmountPaid"] - payment["Amount"], payment["Date"]
        )
    return payment
