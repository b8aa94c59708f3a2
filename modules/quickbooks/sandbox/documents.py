"""Sales documents (Invoice, Estimate): lines, tax from tax codes, totals. No I/O.

How QuickBooks Online computes them for a non-US ("global") company:

- ``SalesItemLineDetail`` lines: ``Amount = Qty * UnitPrice`` (either may be derived from the
  other two; a mismatch is error 6070); each line must carry a ``TaxCodeRef`` (no default from
  the item or the company: error 6000 otherwise) whose ``SalesTaxRateList`` names the tax
  rates that apply (vendor/quickbooks/NOTES.md §5, non-US tax).
- one ``SubTotalLineDetail`` line (regenerated), an optional ``DiscountLineDetail`` line
  (percent-based or an amount) that reduces the taxable base proportionally.
- ``TxnTaxDetail.TaxLine``: one line per tax rate with ``NetAmountTaxable`` and the rounded tax;
  ``GlobalTaxCalculation`` ``TaxExcluded`` (default) adds tax, ``TaxInclusive`` extracts it from
  the amounts, ``NotApplicable`` has none.
- a tax override (non-US companies): a ``TxnTaxDetail.TaxLine`` sent with the write that names
  a rate (``TaxLineDetail.TaxRateRef``) and an ``Amount`` replaces the tax QuickBooks computes
  for that rate — how an app keeps the tax another system computed (per line, rounded its own
  way). The rate must be one that a line's tax code applies (else error 6000); a rate not named
  is computed; ``TotalTax`` is always the sum of the tax lines (a ``TotalTax`` alone overrides
  nothing). An override holds for the write that sends it: an update without ``TxnTaxDetail``
  computes the tax again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from . import faults

Record = dict[str, Any]
Lookup = Callable[[str, str], Record | None]  # (entity, id) -> record or None
CENT = Decimal("0.01")
SALES_LINE = "SalesItemLineDetail"
LINE_TYPES = frozenset(
    {SALES_LINE, "DescriptionOnly", "DiscountLineDetail", "SubTotalLineDetail", "GroupLineDetail"}
)


def money(value: Decimal) -> float:
    """Round half-up to cents and render as a JSON number."""
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def decimal(value: Any, element: str) -> Decimal | None:
    """A number from the request (None stays None).

    Raises:
        QboFault: 2010 when it is not a number.
    """
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise faults.invalid_property(
            f"{element} must be a number, got {value!r}", element
        ) from exc


def ref_id(ref: Any) -> str | None:
    """The ``value`` of a reference (``{"value": "5"}``); a bare string is accepted too."""
    if isinstance(ref, Mapping):
        value = ref.get("value")
        return None if value in (None, "") else str(value)
    return None if ref in (None, "") else str(ref)


def resolve_ref(lookup: Lookup, entity: str, ref: Any, element: str) -> Record:
    """The record behind a reference, with ``name`` filled in by the caller.

    Raises:
        QboFault: 2500 when it does not exist.
    """
    wanted = ref_id(ref)
    record = lookup(entity, wanted) if wanted else None
    if record is None:
        raise faults.invalid_reference(element, wanted)
    return record


def compute_sales_line(line: Record, lookup: Lookup, tax_word: str | None) -> Decimal:
    """Fill one sales line's ItemRef, Qty, UnitPrice and Amount, check its TaxCodeRef; return
    Amount.

    A non-US company needs a tax code on every sales line (``tax_word`` names the tax in the
    refusal: GST, VAT); QuickBooks takes no default from the item or the company, so a line
    mapped without one is refused rather than taxed at some rate. ``tax_word`` None: the
    document is ``NotApplicable`` and a line needs no code.
    """
    detail = line.setdefault(SALES_LINE, {})
    if not isinstance(detail, dict):
        raise faults.invalid_property(f"{SALES_LINE} must be an object", SALES_LINE)
    item = resolve_ref(lookup, "Item", detail.get("ItemRef") or {"value": "1"}, "ItemRef")
    detail["ItemRef"] = {"value": item["Id"], "name": item.get("Name")}
    qty = decimal(detail.get("Qty"), "Qty")
    price = decimal(detail.get("UnitPrice"), "UnitPrice")
    amount = decimal(line.get("Amount"), "Amount")
    if amount is None:
        qty = Decimal(1) if qty is None else qty
        price = decimal(item.get("UnitPrice", 0), "UnitPrice") if price is None else price
        amount = qty * (price or Decimal(0))
    elif qty is not None and price is not None:
        if abs(qty * price - amount) > Decimal("0.005"):
            raise faults.QboFault(
                "6070",
                "Amount calculation incorrect in the request",
                f"Amount is not equal to UnitPrice * Qty. Supplied value:{money(amount):.2f}",
                element="Amount",
            )
    elif price is not None and price != 0:
        qty = amount / price
    else:
        qty = Decimal(1) if qty is None else qty
        price = amount / qty if qty else amount
    detail["Qty"], detail["UnitPrice"] = float(qty), float(price or 0)
    line["Amount"] = money(amount)
    tax_ref = ref_id(detail.get("TaxCodeRef"))
    if tax_ref is None and tax_word is not None:
        raise faults.business(
            f"Make sure all your transactions have a {tax_word} rate before you save.",
            "TaxCodeRef",
        )
    if tax_ref is not None:
        resolve_ref(lookup, "TaxCode", tax_ref, "TaxCodeRef")
        detail["TaxCodeRef"] = {"value": tax_ref}
    return Decimal(str(line["Amount"]))


def rates_of(lookup: Lookup, tax_code_id: str) -> list[Record]:
    """The sales tax rates a tax code applies."""
    code = lookup("TaxCode", tax_code_id) or {}
    details = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
    rates = (lookup("TaxRate", ref_id(d.get("TaxRateRef")) or "") for d in details)
    return [rate for rate in rates if rate is not None]


def compute_document(doc: Record, lookup: Lookup, tax_word: str = "GST") -> None:
    """Recompute an invoice's or estimate's lines, ``TxnTaxDetail`` and ``TotalAmt`` in place
    (``tax_word``: what the company calls its tax, for the missing-code refusal).

    Raises:
        QboFault: 2020 without lines, 2010 on an unknown line type, 2500 on unknown refs,
            6070 on inconsistent amounts, 6000 when a taxable company line lacks a tax code.
    """
    lines = doc.get("Line")
    if not isinstance(lines, list) or not lines:
        raise faults.required("Line")
    mode = doc.setdefault("GlobalTaxCalculation", "TaxExcluded")
    overrides = _overrides(doc.get("TxnTaxDetail"))
    kept: list[Record] = []
    subtotal, discount_line = Decimal(0), None
    taxable: dict[str, Decimal] = {}
    for line in lines:
        kind = line.get("DetailType") if isinstance(line, dict) else None
        if kind not in LINE_TYPES:
            raise faults.invalid_property(
                f"Line DetailType {kind!r} is not supported", "DetailType"
            )
        if kind == "SubTotalLineDetail":
            continue
        if kind == "DiscountLineDetail":
            discount_line = line
        elif kind == SALES_LINE:
            word = None if mode == "NotApplicable" else tax_word
            amount = compute_sales_line(line, lookup, word)
            subtotal += amount
            code = ref_id(line[SALES_LINE].get("TaxCodeRef"))
            if code is not None:
                taxable[code] = taxable.get(code, Decimal(0)) + amount
        kept.append(line)
    discount = _discount(discount_line, subtotal)
    share = (subtotal - discount) / subtotal if subtotal else Decimal(1)
    tax_lines, total_tax = _tax_lines(taxable, share, mode, lookup, overrides)
    for number, line in enumerate(kept, start=1):
        line["Id"], line["LineNum"] = str(number), number
    kept.append(
        {"Amount": money(subtotal), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
    )
    doc["Line"] = kept
    doc["TxnTaxDetail"] = {"TotalTax": money(total_tax), "TaxLine": tax_lines}
    net = subtotal - discount
    doc["TotalAmt"] = money(net if mode == "TaxInclusive" else net + total_tax)


def _discount(line: Record | None, subtotal: Decimal) -> Decimal:
    if line is None:
        return Decimal(0)
    detail = line.setdefault("DiscountLineDetail", {})
    if detail.get("PercentBased"):
        percent = decimal(detail.get("DiscountPercent"), "DiscountPercent") or Decimal(0)
        amount = subtotal * percent / 100
    else:
        amount = decimal(line.get("Amount"), "Amount") or Decimal(0)
    line["Amount"] = money(amount)
    return Decimal(str(line["Amount"]))


def _overrides(detail: Any) -> dict[str, Decimal]:
    """The tax amounts a write sets per rate id (``TxnTaxDetail.TaxLine`` with an ``Amount``).

    Raises:
        QboFault: 2010 on a tax line without a rate or with an amount that is not a number.
    """
    if not isinstance(detail, Mapping):
        return {}
    found: dict[str, Decimal] = {}
    for line in detail.get("TaxLine") or []:
        if not isinstance(line, Mapping) or line.get("Amount") in (None, ""):
            continue
        rate = ref_id((line.get("TaxLineDetail") or {}).get("TaxRateRef"))
        if rate is None:
            raise faults.invalid_property("TaxLine needs TaxLineDetail.TaxRateRef", "TaxRateRef")
        amount = decimal(line["Amount"], "TaxLine.Amount") or Decimal(0)
        found[rate] = found.get(rate, Decimal(0)) + amount
    return found


def _tax_lines(
    taxable: Mapping[str, Decimal],
    share: Decimal,
    mode: str,
    lookup: Lookup,
    overrides: Mapping[str, Decimal] | None = None,
) -> tuple[list[Record], Decimal]:
    if mode == "NotApplicable":
        return [], Decimal(0)
    overrides = overrides or {}
    by_rate: dict[str, tuple[Record, Decimal]] = {}
    for code, amount in taxable.items():
        for rate in rates_of(lookup, code):
            _, base = by_rate.get(rate["Id"], (rate, Decimal(0)))
            by_rate[rate["Id"]] = (rate, base + amount * share)
    for rate_id in overrides:
        if rate_id not in by_rate:
            raise faults.business(
                f"The tax rate {rate_id} of TxnTaxDetail is not applied by any line's tax code.",
                "TaxRateRef",
            )
    lines, total = [], Decimal(0)
    for rate_id in sorted(by_rate, key=lambda r: (len(r), r)):
        rate, base = by_rate[rate_id]
        percent = Decimal(str(rate.get("RateValue", 0)))
        if rate_id in overrides:
            tax = overrides[rate_id]
        elif mode == "TaxInclusive":
            tax = base * percent / (100 + percent)
        else:
            tax = base * percent / 100
        tax = tax.quantize(CENT, rounding=ROUND_HALF_UP)
        if mode == "TaxInclusive":
            base -= tax
        total += tax
        lines.append(
            {
                "Amount": money(tax),
                "DetailType": "TaxLineDetail",
                "TaxLineDetail": {
                    "TaxRateRef": {"value": rate_id, "name": rate.get("Name")},
                    "PercentBased": True,
                    "TaxPercent": float(percent),
                    "NetAmountTaxable": money(base),
                },
            }
        )
    return lines, total
