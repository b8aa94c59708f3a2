"""Invoices, quotes and payments as 1CRM keeps them: several records, several calls.

1CRM has no "invoice with lines" call (NOTES §5; ``docs-pages/examples/create-invoice.md``):

- **Writing a document** (``write_document``): the ``Invoice`` (or ``Quote``) with its totals,
  one ``…LineGroup`` (``group_type: products``), an ``…Line`` per line, for each discounted
  line a ``StdPercentDiscount`` (``discount_percentage``) or ``StandardDiscount``
  (``discount_amount``) ``…Adjustment`` of that line (``line_id``), and for each taxed line a
  ``StandardTax`` adjustment with the rate, the amount and the ``TaxRates`` record of that
  rate. 1CRM may not compute totals, so the client does, as the docs' example does: each
  line's discount and tax are rounded half-up to the cent and the totals are their sums. A
  line gives ``tax_percentage`` (taxed at that rate), ``tax_amount`` (a flat tax) or both (the
  rate names the tax, the amount — another system's rounding — is kept); its ``ext_price``
  (net of discount, before tax) as another system rounded it is kept too, the discount being
  the rest.
- **Reading its lines** (``read_lines``, ``lines_from``): ``lines_link``, ``adjustments_link``
  and ``line_groups_link`` of the document, ordered by group then line position. A line's
  discount is its own discount adjustments; its tax is its own ``StandardTax`` adjustments
  plus its group's (an adjustment without ``line_id`` applies to the whole group). Comments,
  shipping and discounts of a whole group are not read.
- **Writing a payment** (``write_payment``): the ``Payment`` (``direction: incoming``,
  ``total_amount`` = what it allocates), an ``invoices_payments`` link per invoice, then each
  invoice's ``amount_due`` lowered by the caller — 1CRM does not do it.
- **Allocating a payment again** (``rewrite_payment``: a payment edited in the other system):
  each old link released — the invoice owes its share again — then the new ones written as
  above, and the payment's ``total_amount``; nothing when it is allocated so already.
- **Reading a payment's invoices** (``read_allocations``): its ``invoices_payments`` links
  (the ``payment_id`` filter) and each invoice's name and Integrated ID.

A failure half-way removes what was written (``Undo``) and reports the original error. Each
call of such a write, and of its undo, is sent again when 1CRM's rate limit refused it
(``resend_refused``): giving up on a refused line would leave the undo to calls the same
limit refuses, and a document half-written (then written again by the retry of the run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from engine.errors import DataError, ModuleError
from modules.onecrm.client import OneCrmClient, to_number
from modules.onecrm.reference import percent, tax_rates

DOCUMENT_MODELS = frozenset({"Invoice", "Quote"})
LINE_FIELDS = [
    "name",
    "position",
    "line_group_id",
    "quantity",
    "unit_price",
    "list_price",
    "net_price",
    "related_type",
    "related_id",
    "mfr_part_no",
    "tax_class_id",
]
ADJUSTMENT_FIELDS = ["line_group_id", "line_id", "type", "rate", "amount", "name", "position"]
GROUP_FIELDS = ["position", "name"]
LINK_FIELDS = ["payment_id", "invoice_id", "amount"]
INVOICE_FIELDS = ["name", "invoice_number", "integrated_id", "amount_due", "billing_account_id"]
TAX = "StandardTax"
PERCENT_DISCOUNT = "StdPercentDiscount"
AMOUNT_DISCOUNT = "StandardDiscount"
DISCOUNTS = frozenset({PERCENT_DISCOUNT, AMOUNT_DISCOUNT})
LINE_PRICING = frozenset(
    {"tax_percentage", "tax_amount", "discount_percentage", "discount_amount", "ext_price"}
)
"""Keys of a line item that become adjustments rather than line fields."""
CENT = Decimal("0.01")
UNIT = Decimal("0.0001")
"""Unit prices keep four decimals (as Xero's ``unitdp=4``); amounts are in cents."""


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def amount(value: Decimal) -> float | int:
    """A Decimal as the JSON number sent to 1CRM (two decimals)."""
    return to_number(str(cents(value)))


# -- undo --------------------------------------------------------------------------------------


@dataclass
class Undo:
    """What to take back if a multi-call write fails half-way (newest first)."""

    steps: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    def add(self, what: str, step: Callable[[], None]) -> None:
        self.steps.append((what, step))

    def run(self, error: ModuleError) -> ModuleError:
        """Take everything back; the error, naming what could not be taken back."""
        left = []
        for what, step in reversed(self.steps):
            try:
                step()
            except ModuleError:
                left.append(what)
        if left:
            error.args = (f"{error} — and 1CRM kept part of the write: {', '.join(left)}",)
        return error


def created(client: OneCrmClient, undo: Undo, model: str, data: Mapping[str, Any]) -> str:
    record_id = client.create(model, data, resend_refused=True)
    undo.add(f"{model} {record_id}", lambda: client.delete(model, record_id, resend_refused=True))
    return record_id


# -- lines -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PricedLine:
    """A line to write: its own fields, prices, discount, tax and tax rate (amounts in cents).

    ``gross`` is quantity times unit price; ``ext`` (the extended price) is ``gross`` less the
    discount; the tax is on ``ext``.
    """

    fields: dict[str, Any]
    quantity: Decimal
    unit_price: Decimal
    gross: Decimal
    discount: Decimal
    discount_rate: Decimal | None
    ext: Decimal
    tax: Decimal
    rate: Decimal
    rate_given: bool


def decimal_of(value: Any, where: str, default: str | None = None) -> Decimal:
    if value in (None, ""):
        if default is None:
            raise DataError(f"1CRM line items: {where} is required")
        return Decimal(default)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise DataError(f"1CRM line items: {where} '{value}' is not a number") from None
    if not number.is_finite():
        raise DataError(f"1CRM line items: {where} '{value}' is not a number")
    return number


def given(item: Mapping[str, Any], name: str) -> bool:
    return item.get(name) not in (None, "")


def priced_lines(items: Any) -> list[PricedLine]:
    """Validated lines with their prices, discounts and taxes.

    Raises:
        DataError: naming ``line_items[N].field`` (1-based) — before anything is written.
    """
    if not isinstance(items, list):
        raise DataError("1CRM line items: must be a list")
    return [priced_line(item, f"line_items[{n}]") for n, item in enumerate(items, start=1)]


def priced_line(item: Any, where: str) -> PricedLine:
    """One line: unit prices keep 4 decimals, amounts are rounded half-up to the cent.

    A tax percentage alone taxes the extended price (rounded per line); a tax amount alone is
    a flat tax (its rate derived); both: the percentage names the tax and the amount is kept
    as given — how another system rounded it.
    """
    if hasattr(item, "model_dump"):
        item = item.model_dump(exclude_none=True)
    if not isinstance(item, Mapping) or not item.get("name"):
        raise DataError(f"1CRM line items: {where}.name is required")
    if given(item, "discount_percentage") and given(item, "discount_amount"):
        raise DataError(
            f"1CRM line items: {where}: discount_percentage or discount_amount, not both"
        )
    quantity = decimal_of(item.get("quantity"), f"{where}.quantity", "1")
    unit_price = decimal_of(item.get("unit_price"), f"{where}.unit_price").quantize(UNIT)
    gross = cents(quantity * unit_price)
    discount_rate = None
    if given(item, "discount_percentage"):
        discount_rate = decimal_of(item["discount_percentage"], f"{where}.discount_percentage")
        discount = cents(gross * discount_rate / 100)
    else:
        discount = cents(decimal_of(item.get("discount_amount"), f"{where}.discount_amount", "0"))
    if given(item, "ext_price"):
        # The net line amount as another system rounded it is kept; the discount is what is
        # left between it and quantity times price (a percentage that rounds otherwise is
        # written as the amount it comes to).
        ext = cents(decimal_of(item["ext_price"], f"{where}.ext_price"))
        if gross - ext != discount:
            discount, discount_rate = gross - ext, None
    ext = gross - discount
    rate_given = given(item, "tax_percentage") or not given(item, "tax_amount")
    rate = decimal_of(item.get("tax_percentage"), f"{where}.tax_percentage", "0")
    if given(item, "tax_amount"):
        tax = cents(decimal_of(item["tax_amount"], f"{where}.tax_amount"))
        if not rate_given:
            rate = cents(tax / ext * 100) if ext else Decimal("0")
    else:
        tax = cents(ext * rate / 100)
    extra = {k: v for k, v in item.items() if k not in LINE_PRICING}
    return PricedLine(
        extra, quantity, unit_price, gross, discount, discount_rate, ext, tax, rate, rate_given
    )


def rates_for(client: OneCrmClient, lines: list[PricedLine]) -> dict[Decimal, dict[str, Any]]:
    """The tax rate record of every percentage the lines give.

    Raises:
        DataError: a percentage 1CRM has no tax rate for (nothing is written).
    """
    needed = {line.rate for line in lines if line.tax and line.rate_given}
    if not needed:
        return {}
    rates = tax_rates(client)
    missing = sorted(needed - set(rates))
    if missing:
        have = ", ".join(percent(r) for r in sorted(rates)) or "none"
        raise DataError(
            f"1CRM has no tax rate of {', '.join(percent(m) for m in missing)} "
            f"(it has {have}): add it in 1CRM (Tax Rates) before syncing these lines"
        )
    return rates


def document_totals(lines: list[PricedLine]) -> dict[str, Any]:
    """The document's totals: the sums of its lines' rounded amounts."""
    gross = sum((line.gross for line in lines), Decimal("0"))
    discount = sum((line.discount for line in lines), Decimal("0"))
    tax = sum((line.tax for line in lines), Decimal("0"))
    return {
        "subtotal": amount(gross),
        "total_discount": amount(discount),
        "pretax": amount(gross - discount),
        "total_tax": amount(tax),
        "amount": amount(gross - discount + tax),
    }


def write_document(
    client: OneCrmClient, model: str, fields: Mapping[str, Any], items: Any
) -> dict[str, Any]:
    """Create an invoice or quote with its lines; returns it as read back, with
    ``line_items`` as written."""
    lines = priced_lines(items)
    rates = rates_for(client, lines)
    totals = document_totals(lines)
    if model == "Invoice":
        totals["amount_due"] = totals["amount"]
    undo = Undo()
    try:
        document_id = created(client, undo, model, {**client.assigned(fields), **totals})
        written = write_lines(client, undo, model, document_id, totals, lines, rates)
    except ModuleError as error:
        raise undo.run(error) from None
    record = client.get(model, document_id)
    record["line_items"] = written
    return record


def rewrite_document(
    client: OneCrmClient, model: str, document_id: str, fields: Mapping[str, Any], items: Any
) -> dict[str, Any]:
    """Replace an invoice's or quote's lines (an edit made in the other system) and update
    its fields; returns it as read back, with ``line_items`` as written.

    The new line group, lines and adjustments are written first (taken back if that fails),
    then the document's totals, then the old parts are deleted: a retry after a failure
    half-way deletes whatever is left of the old ones. An invoice owes the new total less
    what was paid on it (its total less its amount due before the edit), unless ``fields``
    say what it owes (a cancelled invoice: nothing).
    """
    lines = priced_lines(items)
    rates = rates_for(client, lines)
    totals = document_totals(lines)
    current = client.get(model, document_id)
    if model == "Invoice":
        paid = number(current.get("amount")) - number(current.get("amount_due"))
        totals["amount_due"] = amount(number(totals["amount"]) - paid)
    links = (
        ("adjustments_link", "Adjustment"),
        ("lines_link", "Line"),
        ("line_groups_link", "LineGroup"),
    )
    old = [
        (f"{model}{suffix}", str(part["id"]))
        for link, suffix in links
        for part in client.related(model, document_id, link, ["id"])
    ]
    undo = Undo()
    try:
        written = write_lines(client, undo, model, document_id, totals, lines, rates)
        client.update(model, document_id, {**totals, **fields}, resend_refused=True)
    except ModuleError as error:
        raise undo.run(error) from None
    for part_model, part_id in old:
        client.delete(part_model, part_id, resend_refused=True)
    record = client.get(model, document_id)
    record["line_items"] = written
    return record


def write_lines(
    client: OneCrmClient,
    undo: Undo,
    model: str,
    document_id: str,
    totals: Mapping[str, Any],
    lines: list[PricedLine],
    rates: Mapping[Decimal, Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """The document's one line group and its lines (with their adjustments); returns the
    lines as written."""
    group = {
        "parent_id": document_id,
        "name": "",
        "position": 1,
        "status": "Draft",
        "group_type": "products",
        "subtotal": totals["pretax"],
        "total": totals["amount"],
    }
    group_id = created(client, undo, f"{model}LineGroup", group)
    return [
        write_line(client, undo, model, document_id, group_id, position, line, rates)
        for position, line in enumerate(lines, start=1)
    ]


def write_line(
    client: OneCrmClient,
    undo: Undo,
    model: str,
    document_id: str,
    group_id: str,
    position: int,
    line: PricedLine,
    rates: Mapping[Decimal, Mapping[str, Any]],
) -> dict[str, Any]:
    owner = {f"{model.lower()}_id": document_id, "line_group_id": group_id}
    price = to_number(str(line.unit_price.normalize()))
    line_data = {
        **line.fields,
        **owner,
        "position": position,
        "quantity": to_number(str(line.quantity)),
        "unit_price": price,
        "list_price": price,
        "net_price": price,
    }
    line_id = created(client, undo, f"{model}Line", line_data)
    adjustments = []
    if line.discount:
        adjustments.append(discount_adjustment(line))
    if line.tax:
        rate = rates.get(line.rate) or {}
        adjustments.append(
            {
                "name": rate.get("name") or "Tax",
                "related_type": "TaxRates",
                "related_id": rate.get("id"),
                "rate": to_number(str(line.rate)),
                "type": TAX,
                "amount": amount(line.tax),
            }
        )
    for adjustment in adjustments:
        data = {**owner, "line_id": line_id, "position": position, **adjustment}
        created(client, undo, f"{model}Adjustment", data)
    return line_bundle({**line_data, "id": line_id}, line)


def discount_adjustment(line: PricedLine) -> dict[str, Any]:
    """A line's discount: ``StdPercentDiscount`` (a rate) or ``StandardDiscount`` (an amount)."""
    if line.discount_rate is not None:
        return {
            "name": "Discount",
            "related_type": "Discounts",
            "rate": to_number(str(line.discount_rate)),
            "type": PERCENT_DISCOUNT,
            "amount": amount(line.discount),
        }
    return {
        "name": "Discount",
        "related_type": "Discounts",
        "type": AMOUNT_DISCOUNT,
        "amount": amount(line.discount),
    }


def line_bundle(line: Mapping[str, Any], priced: PricedLine) -> dict[str, Any]:
    """A line as the List Line Items module outputs it."""
    bundle = {name: line.get(name) for name in ("id", *LINE_FIELDS)}
    bundle.update(
        quantity=to_number(str(priced.quantity)),
        unit_price=to_number(str(priced.unit_price.normalize())),
        discount_percentage=(
            None
            if priced.discount_rate is None
            else to_number(str(priced.discount_rate.normalize()))
        ),
        discount_amount=amount(priced.discount),
        ext_price=amount(priced.ext),
        tax_percentage=to_number(str(priced.rate.normalize())),
        tax_amount=amount(priced.tax),
        total=amount(priced.ext + priced.tax),
    )
    return bundle


def read_lines(client: OneCrmClient, model: str, document_id: str) -> list[dict[str, Any]]:
    """The document's lines with quantities, prices, discounts and tax, in the order 1CRM
    shows them."""
    return lines_from(
        list(client.related(model, document_id, "line_groups_link", GROUP_FIELDS)),
        list(client.related(model, document_id, "lines_link", LINE_FIELDS)),
        list(client.related(model, document_id, "adjustments_link", ADJUSTMENT_FIELDS)),
    )


def lines_from(
    groups: Sequence[Mapping[str, Any]],
    lines: Sequence[Mapping[str, Any]],
    adjustments: Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """One document's lines from its line groups, lines and adjustments (as read from 1CRM).

    A line's discount is its own discount adjustments; its tax is its own tax adjustments
    (their amounts as stored) plus its group's (an adjustment without ``line_id`` taxes every
    line of the group at its rate).
    """
    positions = {g["id"]: int(g.get("position") or 0) for g in groups}

    def order(line: Mapping[str, Any]) -> tuple[int, int]:
        return (positions.get(line.get("line_group_id"), 0), int(line.get("position") or 0))

    return [
        line_bundle(line, priced_as_read(line, adjustments)) for line in sorted(lines, key=order)
    ]


def priced_as_read(line: Mapping[str, Any], adjustments: Sequence[Mapping[str, Any]]) -> PricedLine:
    quantity = Decimal(str(line.get("quantity") or 0))
    unit_price = Decimal(str(line.get("unit_price") or 0))
    gross = cents(quantity * unit_price)
    own = [a for a in adjustments if a.get("line_id") == line["id"]]
    discounts = [a for a in own if a.get("type") in DISCOUNTS]
    discount = sum((number(a.get("amount")) for a in discounts), Decimal("0"))
    percents = [a for a in discounts if a.get("type") == PERCENT_DISCOUNT]
    discount_rate = (
        number(percents[0].get("rate")) if len(discounts) == len(percents) == 1 else None
    )
    ext = gross - discount
    rate, tax = Decimal("0"), Decimal("0")
    for adjustment in adjustments:
        mine = adjustment.get("line_id") == line["id"]
        group_wide = not adjustment.get("line_id") and (
            adjustment.get("line_group_id") == line.get("line_group_id")
        )
        if adjustment.get("type") != TAX or not (mine or group_wide):
            continue
        adjustment_rate = number(adjustment.get("rate"))
        rate += adjustment_rate
        stored = adjustment.get("amount")
        tax += (
            number(stored)
            if mine and stored not in (None, "")
            else cents(ext * adjustment_rate / 100)
        )
    return PricedLine(
        {}, quantity, unit_price, gross, discount, discount_rate, ext, tax, rate, True
    )


def number(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal("0")


# -- payments ----------------------------------------------------------------------------------


def write_payment(
    client: OneCrmClient, fields: Mapping[str, Any], allocations: Any
) -> dict[str, Any]:
    """Create a payment allocated to invoices; returns it as read back, with
    ``related_invoices`` as allocated."""
    targets = [allocation_target(client, a, n) for n, a in enumerate(allocations or [], 1)]
    total = sum((share for _, share in targets), Decimal("0"))
    data = {"direction": "incoming", **client.assigned(fields), "total_amount": amount(total)}
    billed = targets[0][0].get("billing_account_id") if targets else None
    if not data.get("account_id") and billed:
        # A payment is the customer's who owes the invoice: without a mapped account it is
        # the first invoice's billing account (no name search that may not find it yet).
        data["account_id"] = billed
    undo = Undo()
    try:
        payment_id = created(client, undo, "Payment", data)
        for invoice, share in targets:
            link = {"payment_id": payment_id, "invoice_id": invoice["id"], "amount": amount(share)}
            created(client, undo, "invoices_payments", link)
        for invoice, share in targets:
            lower_amount_due(client, undo, invoice, share)
    except ModuleError as error:
        raise undo.run(error) from None
    record = client.get("Payment", payment_id)
    record["related_invoices"] = [allocation_bundle(i, s) for i, s in targets]
    return record


def allocation_target(
    client: OneCrmClient, allocation: Any, number: int
) -> tuple[dict[str, Any], Decimal]:
    """The invoice of one allocation (by id or Integrated ID) and its share.

    Raises:
        DataError: no such invoice, or more than it still has due.
    """
    allocation, where = as_allocation(allocation, number)
    share = decimal_of(allocation.get("amount"), f"{where}.amount")
    invoice = find_invoice(client, allocation, where)
    due = Decimal(str(invoice.get("amount_due") or 0))
    if share > due:
        raise DataError(
            f"1CRM payment: {where}.amount {share:f} exceeds what invoice "
            f"{invoice.get('name')} still has due ({due:f})"
        )
    return invoice, share


def find_invoice(client: OneCrmClient, allocation: Mapping[str, Any], where: str) -> dict:
    if allocation.get("invoice_id"):
        return client.get("Invoice", str(allocation["invoice_id"]), ["id", *INVOICE_FIELDS])
    integrated_id = allocation.get("integrated_id")
    if not integrated_id:
        raise DataError(f"1CRM payment: {where} needs invoice_id or integrated_id")
    found = next(invoices_with_integrated_id(client, str(integrated_id)), None)
    if found is None:
        raise DataError(f"1CRM payment: {where}: no 1CRM invoice has Integrated ID {integrated_id}")
    return found


def invoices_with_integrated_id(client: OneCrmClient, integrated_id: str) -> Iterator[dict]:
    """Invoices carrying ``integrated_id``: through the ``integrated_id`` filter when the
    instance declares one, else among the most recently changed invoices."""
    declared = "integrated_id" in client.metadata("Invoice")["filters"]
    return client.search(
        "Invoice",
        filters={"integrated_id": integrated_id} if declared else None,
        fields=INVOICE_FIELDS,
        order="date_modified DESC",
        match={"integrated_id": integrated_id},
        limit=1,
    )


def lower_amount_due(
    client: OneCrmClient, undo: Undo, invoice: Mapping[str, Any], share: Decimal
) -> None:
    before = invoice.get("amount_due")
    due = Decimal(str(before or 0)) - share
    client.update("Invoice", invoice["id"], {"amount_due": amount(due)}, resend_refused=True)
    undo.add(
        f"Invoice {invoice['id']} amount due",
        lambda: client.update(
            "Invoice", invoice["id"], {"amount_due": before}, resend_refused=True
        ),
    )


def delete_payment(client: OneCrmClient, payment_id: str) -> dict[str, Any]:
    """Delete a payment (a payment deleted or reversed in the accounting system): its
    ``invoices_payments`` links go and each invoice owes again what the payment paid — 1CRM
    does not do it — unless the invoice is cancelled: a cancelled invoice owes nothing (an
    invoice voided in Xero is cancelled by 2.4, and its payments, deleted first in Xero, may
    reach 1CRM after the void). Returns the payment as it was, with ``related_invoices``."""
    record = client.get("Payment", payment_id)
    allocations = read_allocations(client, payment_id)
    undo = Undo()
    try:
        for allocation in allocations:
            release(client, undo, payment_id, allocation)
        client.delete("Payment", payment_id, resend_refused=True)
    except ModuleError as error:
        raise undo.run(error) from None
    record["related_invoices"] = [{k: v for k, v in a.items() if k != "id"} for a in allocations]
    return record


def release(
    client: OneCrmClient, undo: Undo, payment_id: str, allocation: Mapping[str, Any]
) -> None:
    """Take one allocation off a payment: its link goes and its invoice owes the share again —
    unless the invoice is deleted (only its link goes) or cancelled (it owes nothing)."""
    invoice = live_invoice(client, allocation["invoice_id"])
    if invoice is not None and not truthy(invoice.get("cancelled")):
        lower_amount_due(client, undo, invoice, -Decimal(str(allocation["amount"])))
    client.delete("invoices_payments", allocation["id"], resend_refused=True)
    link = {
        "payment_id": payment_id,
        "invoice_id": allocation["invoice_id"],
        "amount": allocation["amount"],
    }

    def link_again() -> None:
        client.create("invoices_payments", link, resend_refused=True)

    undo.add(f"invoices_payments {allocation['id']}", link_again)


def rewrite_payment(
    client: OneCrmClient, payment_id: str, fields: Mapping[str, Any], allocations: Any
) -> dict[str, Any]:
    """Allocate a payment again as the other system now has it (a payment edited there):
    each allocation is released (``release``), then the new ones are written as
    ``write_payment`` writes them — at most what each invoice then owes — and the payment
    takes ``fields`` and the new ``total_amount``. Nothing is written when the payment is so
    already (an update event of a payment nobody edited). Returns it as read back, with
    ``related_invoices``."""
    record = client.get("Payment", payment_id)
    current = read_allocations(client, payment_id)
    wanted = [wanted_allocation(client, a, n) for n, a in enumerate(allocations or [], 1)]
    if _allocated_as(current, wanted) and _holds(record, fields):
        record["related_invoices"] = [{k: v for k, v in a.items() if k != "id"} for a in current]
        return record
    undo = Undo()
    try:
        for allocation in current:
            release(client, undo, payment_id, allocation)
        targets = [
            allocation_target(client, {"invoice_id": i["id"], "amount": s}, n)
            for n, (i, s) in enumerate(wanted, 1)
        ]
        for invoice, share in targets:
            link = {"payment_id": payment_id, "invoice_id": invoice["id"], "amount": amount(share)}
            created(client, undo, "invoices_payments", link)
            lower_amount_due(client, undo, invoice, share)
        total = sum((share for _, share in targets), Decimal("0"))
        changes = {**fields, "total_amount": amount(total)}
        client.update("Payment", payment_id, changes, resend_refused=True)
    except ModuleError as error:
        raise undo.run(error) from None
    record = client.get("Payment", payment_id)
    record["related_invoices"] = [allocation_bundle(i, s) for i, s in targets]
    return record


def as_allocation(allocation: Any, number: int) -> tuple[Mapping[str, Any], str]:
    """One mapped allocation as a mapping, and where it is (``related_invoices[n]``).

    Raises:
        DataError: it is not ``{invoice_id or integrated_id, amount}``.
    """
    if hasattr(allocation, "model_dump"):
        allocation = allocation.model_dump(exclude_none=True)
    where = f"related_invoices[{number}]"
    if not isinstance(allocation, Mapping):
        raise DataError(f"1CRM payment: {where} must be {{invoice_id or integrated_id, amount}}")
    return allocation, where


def wanted_allocation(
    client: OneCrmClient, allocation: Any, number: int
) -> tuple[dict[str, Any], Decimal]:
    """The invoice of one mapped allocation and its share, not checked against what the
    invoice owes (the payment's own share of it is given back first)."""
    allocation, where = as_allocation(allocation, number)
    share = cents(decimal_of(allocation.get("amount"), f"{where}.amount"))
    return find_invoice(client, allocation, where), share


def _allocated_as(
    current: Sequence[Mapping[str, Any]], wanted: Sequence[tuple[Mapping[str, Any], Decimal]]
) -> bool:
    """Whether the payment's links are the wanted (invoice, share) pairs."""
    have = sorted((str(a["invoice_id"]), cents(number(a["amount"]))) for a in current)
    return have == sorted((str(i["id"]), s) for i, s in wanted)


def _holds(record: Mapping[str, Any], fields: Mapping[str, Any]) -> bool:
    """Whether the record already has each field's value (numbers compared as numbers)."""
    for key, value in fields.items():
        held = record.get(key)
        try:
            if number(held) != number(value):
                return False
        except InvalidOperation:
            if str(held) != str(value):
                return False
    return True


def truthy(value: Any) -> bool:
    """1CRM's booleans as they come: ``1``, ``"1"``, ``true``."""
    return str(value).strip().lower() in ("1", "true", "yes")


def allocation_bundle(invoice: Mapping[str, Any], share: Decimal) -> dict[str, Any]:
    return {
        "invoice_id": invoice["id"],
        "invoice": invoice.get("name"),
        "invoice_number": invoice.get("invoice_number"),
        "integrated_id": invoice.get("integrated_id") or None,
        "amount": amount(share),
    }


def read_allocations(client: OneCrmClient, payment_id: str) -> list[dict[str, Any]]:
    """The invoices a payment pays and how much of each."""
    links = client.search(
        "invoices_payments", filters={"payment_id": payment_id}, fields=LINK_FIELDS
    )
    allocations = []
    for link in links:
        found = live_invoice(client, str(link["invoice_id"]))
        # A link to an invoice deleted since (1CRM keeps it): the invoice's fields are empty.
        invoice = found if found is not None else {"id": str(link["invoice_id"])}
        share = Decimal(str(link.get("amount") or 0))
        allocations.append({"id": link["id"], **allocation_bundle(invoice, share)})
    return allocations


def live_invoice(client: OneCrmClient, invoice_id: str) -> dict[str, Any] | None:
    """The invoice, or ``None`` when 1CRM answers 404: deleted (1CRM leaves the payments'
    links to a deleted invoice in place)."""
    try:
        return client.get("Invoice", invoice_id, ["id", *INVOICE_FIELDS, "cancelled"])
    except DataError as error:
        if isinstance(error.detail, Mapping) and error.detail.get("status") == 404:
            return None
        raise
