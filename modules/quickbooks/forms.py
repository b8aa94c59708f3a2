"""QuickBooks sales forms — invoices, estimates, sales receipts, credit memos — and payments:
the mapped input models and the request bodies built from them.

Every sales form has lines (``SalesItemLineDetail`` with ``ItemRef``, ``Qty``, ``UnitPrice``,
``TaxCodeRef``; a ``DiscountLineDetail``; ``DescriptionOnly``), tax computed from each line's
tax code, and a ``DocNumber`` from the company's one sequence. Updates are sparse: only the
mapped fields change, and a mapped ``Line`` replaces every line (QuickBooks merges no lines,
vendor/quickbooks/NOTES.md §4).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, field_validator

from engine.errors import InvalidConfigurationError
from modules.quickbooks.client import without_empty
from modules.quickbooks.models import (
    LAX,
    PhysicalAddress,
    RecordOutput,
    RecordUpdate,
    as_ref,
    date_text,
    wrapped,
)


def _id_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) else value


class SalesLine(BaseModel):
    """One line of a sales form. ``DetailType`` ``SalesItemLineDetail`` (default):
    ``ItemRef``, ``Qty``, ``UnitPrice``, ``TaxCodeRef``; ``DiscountLineDetail``:
    ``DiscountPercent`` or ``Amount``; ``DescriptionOnly``: ``Description``.

    ``TaxAmount``: the line's tax as another system computed it (to the cent). QuickBooks keeps
    tax per rate, not per line: the module sums these per rate of the lines' tax codes and
    sends them as ``TxnTaxDetail.TaxLine`` — QuickBooks' tax override for non-US companies — so
    the document's tax is the sender's, not QuickBooks' own rounding (``with_line_taxes``)."""

    model_config = LAX

    DetailType: str = "SalesItemLineDetail"
    Description: str | None = None
    Amount: float | None = None
    ItemRef: dict[str, Any] | None = None
    Qty: float | None = None
    UnitPrice: float | None = None
    TaxCodeRef: dict[str, Any] | None = None
    ServiceDate: Any = None
    DiscountPercent: float | None = None
    TaxAmount: float | None = None
    SalesItemLineDetail: dict[str, Any] | None = None
    DiscountLineDetail: dict[str, Any] | None = None

    _refs = field_validator("ItemRef", "TaxCodeRef", mode="before")(as_ref)
    _date = field_validator("ServiceDate", mode="before")(date_text)


class SalesFormFields(BaseModel):
    """Fields every sales form has. ``DiscountPercent`` / ``DiscountAmount`` add a document
    discount line; ``TxnTaxDetail`` (e.g. ``{"TotalTax": …}``) overrides the tax QuickBooks
    computes from the lines' tax codes; ``CustomField`` (``[{"DefinitionId", "Name", "Type":
    "StringType", "StringValue"}]``) passes as mapped."""

    model_config = LAX

    CustomerRef: dict[str, Any] | None = None
    Line: list[SalesLine] = Field(default_factory=list)
    TxnDate: Any = None
    DocNumber: str | None = None
    PrivateNote: str | None = None
    CustomerMemo: dict[str, Any] | None = None
    BillEmail: dict[str, Any] | None = None
    BillAddr: PhysicalAddress | None = None
    ShipAddr: PhysicalAddress | None = None
    GlobalTaxCalculation: str | None = None
    ApplyTaxAfterDiscount: bool | None = None
    TxnTaxDetail: dict[str, Any] | None = None
    DiscountPercent: float | None = None
    DiscountAmount: float | None = None
    SalesTermRef: dict[str, Any] | None = None
    CurrencyRef: dict[str, Any] | None = None
    ExchangeRate: float | None = None
    """Home-currency units per unit of ``CurrencyRef`` (multicurrency companies)."""

    _refs = field_validator("CustomerRef", "SalesTermRef", "CurrencyRef", mode="before")(as_ref)
    _memo = field_validator("CustomerMemo", mode="before")(wrapped("value"))
    _email = field_validator("BillEmail", mode="before")(wrapped("Address"))
    _dates = field_validator("TxnDate", mode="before")(date_text)


class SalesDocumentFields(SalesFormFields):
    """A sales form made out to a customer (``CustomerRef`` required)."""

    CustomerRef: dict[str, Any]


class InvoiceFields(BaseModel):
    DueDate: Any = None
    EmailStatus: str | None = None

    _due = field_validator("DueDate", mode="before")(date_text)


class EstimateFields(BaseModel):
    """``TxnStatus``: ``Pending`` (new), ``Accepted``, ``Closed`` or ``Rejected``."""

    ExpirationDate: Any = None
    TxnStatus: str | None = None

    _expiry = field_validator("ExpirationDate", mode="before")(date_text)


class ReceiptFields(BaseModel):
    """Where a sales receipt's money goes (a bank account; Undeposited Funds when not
    mapped) and how it was paid."""

    DepositToAccountRef: dict[str, Any] | None = None
    PaymentMethodRef: dict[str, Any] | None = None
    PaymentRefNum: str | None = None

    _receipt_refs = field_validator("DepositToAccountRef", "PaymentMethodRef", mode="before")(
        as_ref
    )


class CreateInvoiceInput(InvoiceFields, SalesDocumentFields):
    """A new invoice."""


class UpdateInvoiceInput(InvoiceFields, SalesFormFields, RecordUpdate):
    """Sparse update of an invoice."""


class CreateEstimateInput(EstimateFields, SalesDocumentFields):
    """A new estimate (a quote)."""


class UpdateEstimateInput(EstimateFields, SalesFormFields, RecordUpdate):
    """Sparse update of an estimate (e.g. ``TxnStatus`` Accepted)."""


class CreateSalesReceiptInput(ReceiptFields, SalesFormFields):
    """A sale paid at once; the customer is optional."""


class UpdateSalesReceiptInput(ReceiptFields, SalesFormFields, RecordUpdate):
    """Sparse update of a sales receipt."""


class CreateCreditMemoInput(SalesDocumentFields):
    """A credit to a customer (a refund or a return), its lines as an invoice's."""


class UpdateCreditMemoInput(SalesFormFields, RecordUpdate):
    """Sparse update of a credit memo."""


class VoidInput(RecordUpdate):
    """Void an invoice or sales receipt: ``Id`` (``SyncToken`` is read when not mapped)."""


class PaymentLine(BaseModel):
    """Part of a payment applied to one invoice: ``InvoiceId`` and ``Amount``; or credit used:
    ``CreditMemoId`` and ``Amount`` (a credit memo applied to the payment's invoices, in place
    of money); or Intuit's ``LinkedTxn`` list as is."""

    model_config = LAX

    Amount: float
    InvoiceId: str | None = None
    CreditMemoId: str | None = None
    LinkedTxn: list[dict[str, Any]] | None = None

    _id = field_validator("InvoiceId", "CreditMemoId", mode="before")(_id_text)


class CreatePaymentInput(BaseModel):
    """A customer payment. ``Line``: the invoices it pays; or the shortcut ``InvoiceId`` (the
    whole ``TotalAmt`` applied to that invoice). Unapplied remainder stays as credit."""

    model_config = LAX

    CustomerRef: dict[str, Any]
    TotalAmt: float
    Line: list[PaymentLine] = Field(default_factory=list)
    InvoiceId: str | None = None
    TxnDate: Any = None
    PaymentRefNum: str | None = None
    PrivateNote: str | None = None
    PaymentMethodRef: dict[str, Any] | None = None
    DepositToAccountRef: dict[str, Any] | None = None
    CurrencyRef: dict[str, Any] | None = None

    _refs = field_validator(
        "CustomerRef", "PaymentMethodRef", "DepositToAccountRef", "CurrencyRef", mode="before"
    )(as_ref)
    _dates = field_validator("TxnDate", mode="before")(date_text)
    _id = field_validator("InvoiceId", mode="before")(_id_text)


# -- outputs ------------------------------------------------------------------------------------


class SalesDocumentOutput(RecordOutput):
    CustomerRef: dict[str, Any] | None = None
    Line: list[dict[str, Any]] | None = None
    TxnDate: str | None = None
    DocNumber: str | None = None
    PrivateNote: str | None = None
    CustomerMemo: dict[str, Any] | None = None
    BillEmail: dict[str, Any] | None = None
    GlobalTaxCalculation: str | None = None
    TxnTaxDetail: dict[str, Any] | None = None
    TotalAmt: float | None = None


class InvoiceOutput(SalesDocumentOutput):
    DueDate: str | None = None
    Balance: float | None = None
    LinkedTxn: list[dict[str, Any]] | None = None
    EmailStatus: str | None = None


class EstimateOutput(SalesDocumentOutput):
    ExpirationDate: str | None = None
    TxnStatus: str | None = None


class SalesReceiptOutput(SalesDocumentOutput):
    Balance: float | None = None
    DepositToAccountRef: dict[str, Any] | None = None
    PaymentMethodRef: dict[str, Any] | None = None
    PaymentRefNum: str | None = None


class CreditMemoOutput(SalesDocumentOutput):
    Balance: float | None = None
    RemainingCredit: float | None = None


class PaymentOutput(RecordOutput):
    CustomerRef: dict[str, Any] | None = None
    TotalAmt: float | None = None
    UnappliedAmt: float | None = None
    TxnDate: str | None = None
    PaymentRefNum: str | None = None
    PrivateNote: str | None = None
    Line: list[dict[str, Any]] | None = None


# -- request bodies -----------------------------------------------------------------------------

_NOT_BODY = frozenset({"Line", "DiscountPercent", "DiscountAmount", "Id", "SyncToken"})


def sales_document(data: SalesFormFields, *, lines_required: bool = True) -> dict[str, Any]:
    """The request body of a sales form: lines in Intuit's shape, the document discount as a
    ``DiscountLineDetail`` line. An update (``lines_required`` False) sends ``Line`` only when
    lines are mapped — they then replace every line.

    Raises:
        InvalidConfigurationError: no line where one is needed, a discount without the lines
            it goes with, or both a discount percent and amount.
    """
    discount = document_discount(data.DiscountPercent, data.DiscountAmount)
    if not data.Line and (lines_required or discount):
        raise InvalidConfigurationError(
            "add at least one line"
            if lines_required
            else "map the lines with the discount: an update replaces every line"
        )
    fields = data.model_dump(exclude=set(_NOT_BODY))
    if data.Line:
        fields["Line"] = [sales_line(line) for line in data.Line] + ([discount] if discount else [])
    return without_empty(fields)


def sales_line(line: SalesLine) -> dict[str, Any]:
    """One line in Intuit's shape; flat ``ItemRef``/``Qty``/``UnitPrice``/``TaxCodeRef`` go
    into the line's detail object (explicit detail fields win)."""
    if line.DetailType == "DiscountLineDetail":
        return document_discount(line.DiscountPercent, line.Amount, line.DiscountLineDetail) or {}
    if line.DetailType == "DescriptionOnly":
        return {"DetailType": "DescriptionOnly", "Description": line.Description}
    detail = {
        "ItemRef": line.ItemRef,
        "Qty": line.Qty,
        "UnitPrice": line.UnitPrice,
        "TaxCodeRef": line.TaxCodeRef,
        "ServiceDate": line.ServiceDate,
        **(line.SalesItemLineDetail or {}),
    }
    amount = line.Amount
    if amount is None and line.Qty is not None and line.UnitPrice is not None:
        amount = round(line.Qty * line.UnitPrice, 2)  # QuickBooks requires Amount = Qty * price
    return {
        "DetailType": "SalesItemLineDetail",
        "Description": line.Description,
        "Amount": amount,
        "SalesItemLineDetail": detail,
        **({LINE_TAX: line.TaxAmount} if line.TaxAmount is not None else {}),
    }


LINE_TAX = "TaxAmount"
"""A body line's tax as mapped (not Intuit's: ``with_line_taxes`` turns it into tax lines)."""


def with_line_taxes(
    body: dict[str, Any], rates_of_code: Callable[[], Mapping[str, list[tuple[str, Any]]]]
) -> dict[str, Any]:
    """``body`` with its lines' mapped ``TaxAmount`` summed per tax rate into
    ``TxnTaxDetail.TaxLine`` (QuickBooks' tax override); unchanged when no line has one.
    ``rates_of_code`` gives ``{tax code id: [(rate id, percent), …]}`` (read only when needed).

    A line without a tax code (or with one the company does not have) keeps none: QuickBooks
    refuses it with its own message.

    Raises:
        InvalidConfigurationError: a line whose code applies several rates (one amount cannot
            be split among them).
    """
    lines = body.get("Line") or []
    if not any(LINE_TAX in line for line in lines):
        return body
    codes = rates_of_code()
    by_rate: dict[str, Decimal] = {}
    for line in lines:
        if LINE_TAX not in line:
            continue
        amount = Decimal(str(line.pop(LINE_TAX) or 0))
        code = ((line.get("SalesItemLineDetail") or {}).get("TaxCodeRef") or {}).get("value")
        rates = codes.get(str(code), []) if code else []
        if not rates:
            continue  # no code, or one QuickBooks does not know: QuickBooks refuses the line
        if len(rates) > 1:
            raise InvalidConfigurationError(
                f"a line's tax amount needs a tax code of one rate; code {code} has {len(rates)}"
            )
        rate = str(rates[0][0])
        by_rate[rate] = by_rate.get(rate, Decimal(0)) + amount
    if not by_rate:
        return body
    detail = dict(body.get("TxnTaxDetail") or {})
    detail["TaxLine"] = [
        {
            "Amount": float(amount),
            "DetailType": "TaxLineDetail",
            "TaxLineDetail": {"TaxRateRef": {"value": rate}},
        }
        for rate, amount in by_rate.items()
    ]
    detail["TotalTax"] = float(sum(by_rate.values(), Decimal(0)))
    return {**body, "TxnTaxDetail": detail}


def document_discount(
    percent: float | None, amount: float | None, detail: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """A ``DiscountLineDetail`` line for a percent or an amount (None when neither).

    Raises:
        InvalidConfigurationError: both a percent and an amount.
    """
    if percent is not None and amount is not None:
        raise InvalidConfigurationError("give the discount as a percent or an amount, not both")
    if percent is not None:
        return {
            "DetailType": "DiscountLineDetail",
            "DiscountLineDetail": {
                **(detail or {}),
                "PercentBased": True,
                "DiscountPercent": percent,
            },
        }
    if amount is not None:
        return {
            "DetailType": "DiscountLineDetail",
            "Amount": amount,
            "DiscountLineDetail": {**(detail or {}), "PercentBased": False},
        }
    return None


def payment_body(data: CreatePaymentInput) -> dict[str, Any]:
    """The request body of a payment: each line linked to its invoice (``LinkedTxn``)."""
    fields = data.model_dump(exclude={"Line", "InvoiceId"})
    lines = [{"Amount": line.Amount, "LinkedTxn": _line_link(line)} for line in data.Line]
    if not lines and data.InvoiceId:
        lines = [{"Amount": data.TotalAmt, "LinkedTxn": _invoice_link(data.InvoiceId)}]
    fields["Line"] = lines
    return without_empty(fields)


def _line_link(line: PaymentLine) -> list[dict[str, Any]]:
    """What a payment line links: as given, a credit memo, else an invoice."""
    if line.LinkedTxn:
        return line.LinkedTxn
    if line.CreditMemoId:
        return [{"TxnId": line.CreditMemoId, "TxnType": "CreditMemo"}]
    return _invoice_link(line.InvoiceId)


def _invoice_link(invoice_id: str | None) -> list[dict[str, Any]]:
    if not invoice_id:
        raise InvalidConfigurationError("map the invoice each payment line pays")
    return [{"TxnId": invoice_id, "TxnType": "Invoice"}]
