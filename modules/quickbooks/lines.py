"""A QuickBooks sales document's lines as net amounts with their share of discount and tax.

QuickBooks keeps a discount for the whole document (one ``DiscountLineDetail`` line) and tax per
rate (``TxnTaxDetail.TaxLine``), never per line. A system that keeps both per line (1CRM) needs
each line's share; this module is the one place that computes it, for the *List Invoice
Lines* module and for reconciliation:

- the discount is shared among the sales lines in proportion to their amounts;
- each tax rate's amount is shared among the lines whose tax code applies that rate, in
  proportion to their amounts after discount;
- ``TaxInclusive`` documents: a line's amount contains its tax, so its net amount is its
  amount after discount less its tax; ``NotApplicable``: no tax.

Every share is rounded half-up to the cent and the last line of a share takes what rounding
left over, so the shares always add up to QuickBooks' own amounts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
SALES_LINE = "SalesItemLineDetail"


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def number(value: Any, default: str = "0") -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(default)


def spread(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """``total`` shared in proportion to ``weights``: cents, the last share takes the rest."""
    if not weights:
        return []
    whole = sum(weights, Decimal(0))
    shares = [cents(total * w / whole) if whole else Decimal(0) for w in weights[:-1]]
    return [*shares, cents(total) - sum(shares, Decimal(0))]


def rates_by_code(
    tax_codes: Sequence[Mapping[str, Any]], tax_rates: Sequence[Mapping[str, Any]]
) -> dict[str, list[tuple[str, Decimal]]]:
    """``{tax code id: [(sales tax rate id, percent), …]}`` from the company's TaxCode and
    TaxRate records."""
    percents = {str(r["Id"]): number(r.get("RateValue")) for r in tax_rates}
    found: dict[str, list[tuple[str, Decimal]]] = {}
    for code in tax_codes:
        details = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
        rates = [str((d.get("TaxRateRef") or {}).get("value")) for d in details]
        found[str(code["Id"])] = [(rate, percents.get(rate, Decimal(0))) for rate in rates]
    return found


def sales_lines(
    document: Mapping[str, Any], rates_of_code: Mapping[str, list[tuple[str, Decimal]]]
) -> list[dict[str, Any]]:
    """The document's sales lines, in order, each as ``{"Description", "ItemName", "Qty",
    "UnitPrice", "NetUnitPrice", "Amount", "TaxCode", "TaxPercent", "Discount", "NetAmount",
    "TaxAmount"}``
    (amounts as Decimal): ``NetAmount`` excludes tax and includes the line's discount share;
    ``NetUnitPrice`` excludes tax (it is ``UnitPrice`` unless the document is tax-inclusive)."""
    lines = [ln for ln in document.get("Line") or [] if ln.get("DetailType") == SALES_LINE]
    amounts = [number(ln.get("Amount")) for ln in lines]
    discounts = spread(_discount(document), amounts)
    after = [a - d for a, d in zip(amounts, discounts, strict=True)]
    codes = [str((ln[SALES_LINE].get("TaxCodeRef") or {}).get("value") or "") for ln in lines]
    taxes = _taxes(document, codes, after, rates_of_code)
    inclusive = document.get("GlobalTaxCalculation") == "TaxInclusive"
    found = []
    for line, amount, discount, net, code, tax in zip(
        lines, amounts, discounts, after, codes, taxes, strict=True
    ):
        qty = number(line[SALES_LINE].get("Qty"), "1")
        net_amount = net - tax if inclusive else net
        found.append(
            {
                "Description": line.get("Description") or "",
                "ItemName": (line[SALES_LINE].get("ItemRef") or {}).get("name"),
                "Qty": qty,
                "UnitPrice": number(line[SALES_LINE].get("UnitPrice")),
                "NetUnitPrice": _net_unit_price(amount, net, net_amount, qty),
                "Amount": amount,
                "TaxCode": code or None,
                "TaxPercent": sum((p for _, p in rates_of_code.get(code, [])), Decimal(0)),
                "Discount": discount,
                "NetAmount": net_amount,
                "TaxAmount": tax,
            }
        )
    return found


def _net_unit_price(amount: Decimal, after: Decimal, net: Decimal, qty: Decimal) -> Decimal:
    """The unit price without tax and before the discount (a tax-inclusive price less its
    share of tax), to 4 decimals: what a system keeping net prices per line (1CRM) shows."""
    before = net * amount / after if after else amount
    return (before / qty if qty else before).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _discount(document: Mapping[str, Any]) -> Decimal:
    found = [
        ln for ln in document.get("Line") or [] if ln.get("DetailType") == "DiscountLineDetail"
    ]
    return sum((number(ln.get("Amount")) for ln in found), Decimal(0))


def _taxes(
    document: Mapping[str, Any],
    codes: list[str],
    bases: list[Decimal],
    rates_of_code: Mapping[str, list[tuple[str, Decimal]]],
) -> list[Decimal]:
    taxes = [Decimal(0)] * len(codes)
    if document.get("GlobalTaxCalculation") == "NotApplicable":
        return taxes
    tax_lines = (document.get("TxnTaxDetail") or {}).get("TaxLine") or []
    for tax_line in tax_lines:
        rate = str(((tax_line.get("TaxLineDetail") or {}).get("TaxRateRef") or {}).get("value"))
        members = [
            i for i, code in enumerate(codes) if rate in (r for r, _ in rates_of_code.get(code, []))
        ]
        shares = spread(number(tax_line.get("Amount")), [bases[i] for i in members])
        for index, share in zip(members, shares, strict=True):
            taxes[index] += share
    return taxes
