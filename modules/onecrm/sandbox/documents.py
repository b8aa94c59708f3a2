"""What a person's save in 1CRM's own screens stores: an invoice or quote with its lines, a
payment with its invoices — for fixtures and for tests that play that person.

The REST API takes none of this in one call: an invoice is an ``Invoice`` record, one or more
``InvoiceLineGroup`` records, an ``InvoiceLine`` per line and ``InvoiceAdjustment`` records for
taxes; a payment is a ``Payment`` linked to invoices by ``invoices_payments`` records, and the
invoices' ``amount_due`` is updated by whoever records the payment (NOTES §5,
``docs-pages/examples/create-invoice.md``). Here a document given as
``{"line_items": [{"name", "quantity", "unit_price", "discount_percentage" |
"discount_amount", "tax_percentage" | "tax_amount"}]}`` or ``{"related_invoices":
[{"invoice_id", "amount"}]}`` is stored in those records, in one go: one line group, one line
per item and, for each discounted line, a ``StdPercentDiscount`` or ``StandardDiscount``
adjustment, for each taxed line a ``StandardTax`` adjustment of that line (rate and amount;
the tax is on the price after the discount). Each line's discount and tax are rounded to the
cent; the document's totals are their sums. The API never accepts these two keys.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from modules.onecrm.sandbox.errors import InvalidRecord
from modules.onecrm.sandbox.records import Change, Record, save_record
from modules.onecrm.sandbox.schema import MODELS
from modules.onecrm.sandbox.values import as_decimal, cents, decimal_text

if TYPE_CHECKING:
    from modules.onecrm.sandbox.state import OneCrmSandboxState

DOCUMENT_MODELS = frozenset({"Invoice", "Quote"})


def save_as_person(
    state: OneCrmSandboxState, model: str, data: Mapping[str, Any], *, seeding: bool = False
) -> tuple[Record, list[Change]]:
    """Store ``data`` as 1CRM's screens would; returns the main record and what changed
    (the main record, and for a payment the invoices whose ``amount_due`` dropped).

    Raises:
        InvalidRecord: nothing of the document is stored then.
    """
    before = copy.deepcopy(state.records)
    try:
        return _save_as_person(state, model, dict(data), seeding)
    except InvalidRecord:
        state.records = before
        raise


def _save_as_person(
    state: OneCrmSandboxState, model: str, fields: dict[str, Any], seeding: bool
) -> tuple[Record, list[Change]]:
    if model in DOCUMENT_MODELS and "line_items" in fields:
        return save_document(state, model, fields, seeding)
    if model == "Payment" and "related_invoices" in fields:
        return save_payment(state, fields, seeding)
    record, change = save_record(state, model, fields, None, seeding=seeding)
    return record, [change]


def save_document(
    state: OneCrmSandboxState, model: str, fields: dict[str, Any], seeding: bool
) -> tuple[Record, list[Change]]:
    lines = priced_lines(fields.pop("line_items") or [])
    totals = document_totals(lines)
    if model == "Invoice":
        totals["amount_due"] = totals["amount"]
    for name, value in totals.items():
        fields.setdefault(name, decimal_text(cents(value)))
    record, change = save_record(state, model, fields, None, seeding=seeding)
    save_lines(state, model, record["id"], totals, lines, seeding)
    return record, [change]


def document_totals(lines: list[dict[str, Any]]) -> dict[str, Decimal]:
    """A document's totals: the sums of its lines' rounded amounts."""
    gross = sum((line["gross"] for line in lines), Decimal("0"))
    discount = sum((line["discount"] for line in lines), Decimal("0"))
    tax = sum((line["tax"] for line in lines), Decimal("0"))
    net = gross - discount
    return {
        "subtotal": gross,
        "total_discount": discount,
        "pretax": net,
        "total_tax": tax,
        "amount": net + tax,
    }


def save_lines(
    state: OneCrmSandboxState,
    model: str,
    document_id: str,
    totals: Mapping[str, Decimal],
    lines: list[dict[str, Any]],
    seeding: bool,
) -> None:
    """The document's one line group and its lines (with their adjustments)."""
    group_fields = {
        "parent_id": document_id,
        "name": "",
        "position": 1,
        "status": "Draft",
        "group_type": "products",
        "subtotal": decimal_text(cents(totals["pretax"])),
        "total": decimal_text(cents(totals["amount"])),
    }
    group, _ = save_record(state, f"{model}LineGroup", group_fields, None, seeding=seeding)
    for position, line in enumerate(lines, start=1):
        save_line(state, model, document_id, group["id"], position, line, seeding)


def edit_as_person(
    state: OneCrmSandboxState, model: str, record_id: str, data: Mapping[str, Any]
) -> tuple[Record, list[Change]]:
    """An invoice or quote edited in 1CRM's screens: its fields changed and, given
    ``line_items``, its lines replaced (the old line groups, lines and adjustments go) and its
    totals recomputed; an invoice still owes the new total less what was paid on it.

    Raises:
        InvalidRecord: no such document, or a wrong field or line; nothing is changed then.
    """
    existing = state.records[model].get(record_id) if model in DOCUMENT_MODELS else None
    if existing is None:
        raise InvalidRecord({"id": f"no {model} {record_id}"})
    before = copy.deepcopy(state.records)
    try:
        return _edit_document(state, model, existing, dict(data))
    except InvalidRecord:
        state.records = before
        raise


def _edit_document(
    state: OneCrmSandboxState, model: str, existing: Record, fields: dict[str, Any]
) -> tuple[Record, list[Change]]:
    if "line_items" not in fields:
        record, change = save_record(state, model, fields, existing)
        return record, [change]
    lines = priced_lines(fields.pop("line_items") or [])
    totals = document_totals(lines)
    if model == "Invoice":
        paid = as_decimal(existing.get("amount")) - as_decimal(existing.get("amount_due"))
        totals["amount_due"] = totals["amount"] - paid
    document_id, key = existing["id"], f"{model.lower()}_id"
    parts = ((f"{model}Line", key), (f"{model}Adjustment", key), (f"{model}LineGroup", "parent_id"))
    for part, owner in parts:
        records = state.records[part]
        for part_id in [r["id"] for r in records.values() if r.get(owner) == document_id]:
            del records[part_id]
    for name, value in totals.items():
        fields[name] = decimal_text(cents(value))
    record, change = save_record(state, model, fields, existing)
    save_lines(state, model, document_id, totals, lines, False)
    return record, [change]


def priced_lines(items: Any) -> list[dict[str, Any]]:
    """Each item with its gross and extended price, discount and tax, each rounded half-up to
    the cent as 1CRM's screens show them (totals are their sums).

    Raises:
        InvalidRecord: naming ``line_items[N].field`` (1-based).
    """
    if not isinstance(items, list):
        raise InvalidRecord({"line_items": "must be a list"})
    lines = []
    for position, item in enumerate(items, start=1):
        where = f"line_items[{position}]"
        if not isinstance(item, Mapping) or not item.get("name"):
            raise InvalidRecord({f"{where}.name": "required"})
        quantity = as_decimal(item.get("quantity") if item.get("quantity") is not None else 1)
        gross = cents(quantity * as_decimal(item.get("unit_price")))
        if item.get("discount_percentage") not in (None, ""):
            discount = cents(gross * as_decimal(item["discount_percentage"]) / 100)
        else:
            discount = cents(as_decimal(item.get("discount_amount")))
        ext = gross - discount
        if item.get("tax_amount") not in (None, ""):
            tax = cents(as_decimal(item["tax_amount"]))
            rate = cents(tax / ext * 100) if ext else Decimal("0")
        else:
            rate = as_decimal(item.get("tax_percentage"))
            tax = cents(ext * rate / 100)
        lines.append(
            {
                **item,
                "quantity": quantity,
                "gross": gross,
                "discount": discount,
                "ext": ext,
                "tax": tax,
                "rate": rate,
            }
        )
    return lines


def save_line(
    state: OneCrmSandboxState,
    model: str,
    document_id: str,
    group_id: str,
    position: int,
    line: Mapping[str, Any],
    seeding: bool,
) -> None:
    key = f"{model.lower()}_id"
    line_model = f"{model}Line"
    extra = {k: v for k, v in line.items() if k in MODELS[line_model].fields}
    price = line.get("unit_price")
    line_fields = {
        **extra,
        key: document_id,
        "line_group_id": group_id,
        "position": position,
        "quantity": decimal_text(line["quantity"]),
        "list_price": price,
        "net_price": price,
    }
    saved, _ = save_record(state, line_model, line_fields, None, seeding=seeding)
    owner = {key: document_id, "line_group_id": group_id, "line_id": saved["id"]}
    if line["discount"]:
        percentage = line.get("discount_percentage") not in (None, "")
        discount = {
            **owner,
            "name": "Discount",
            "position": position,
            "related_type": "Discounts",
            "rate": line["discount_percentage"] if percentage else None,
            "type": "StdPercentDiscount" if percentage else "StandardDiscount",
            "amount": decimal_text(line["discount"]),
        }
        save_record(state, f"{model}Adjustment", discount, None, seeding=seeding)
    if not line["tax"]:
        return
    rate = tax_rate(state, line["rate"])
    adjustment = {
        **owner,
        "name": rate["name"] if rate else "Tax",
        "position": position,
        "related_type": "TaxRates",
        "related_id": rate["id"] if rate else None,
        "rate": decimal_text(line["rate"]),
        "type": "StandardTax",
        "amount": decimal_text(cents(line["tax"])),
    }
    save_record(state, f"{model}Adjustment", adjustment, None, seeding=seeding)


def tax_rate(state: OneCrmSandboxState, rate: Decimal) -> Record | None:
    """The tax rate record of this percentage, if there is one."""
    for record in state.records["TaxRate"].values():
        if as_decimal(record.get("rate")) == rate:
            return record
    return None


def save_payment(
    state: OneCrmSandboxState, fields: dict[str, Any], seeding: bool
) -> tuple[Record, list[Change]]:
    """The payment, a link per invoice, and each invoice's ``amount_due`` reduced."""
    allocations = fields.pop("related_invoices") or []
    total = sum((as_decimal(a.get("amount")) for a in allocations), Decimal("0"))
    fields.setdefault("direction", "incoming")
    fields.setdefault("total_amount", decimal_text(cents(total)))
    payment, change = save_record(state, "Payment", fields, None, seeding=seeding)
    changes = [change]
    for allocation in allocations:
        invoice = state.records["Invoice"].get(allocation.get("invoice_id"))
        if invoice is None:
            raise InvalidRecord({"related_invoices": f"no Invoice {allocation.get('invoice_id')}"})
        link = {"payment_id": payment["id"], "invoice_id": invoice["id"], **allocation}
        save_record(state, "invoices_payments", link, None, seeding=seeding)
        due = as_decimal(invoice.get("amount_due")) - as_decimal(allocation.get("amount"))
        update = {"amount_due": decimal_text(cents(due))}
        if seeding:
            update["date_modified"] = invoice["date_modified"]
        _, invoice_change = save_record(state, "Invoice", update, invoice, seeding=seeding)
        changes.append(invoice_change)
    return payment, changes
