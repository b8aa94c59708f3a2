"""Zoho CRM modules as data, and the per-record checks and derived fields. No I/O.

Each ``ModuleSpec`` lists the mandatory fields, typed fields (``INVALID_DATA`` with
``expected_data_type`` when a value does not fit), lookups (``{"id"}`` in, ``{"name", "id"}``
out), the upsert's default duplicate-check fields and the fields searched by ``email=`` /
``phone=`` / ``word=``. Quotes and Invoices carry ``Product_Details`` line items:
``total = quantity * list_price``, ``total_after_discount = total - Discount``,
``Tax = sum of line_tax %``, ``net_total = total_after_discount + Tax``; the document's
``Sub_Total = sum of net_total`` and ``Grand_Total = Sub_Total - Discount + Tax + Adjustment``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

Record = dict[str, Any]
Lookup = Callable[[str, str], Record | None]  # (module, id) -> record or None
CENT = Decimal("0.01")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: Fields the server owns: ignored in client data.
SYSTEM_FIELDS = frozenset(
    {
        "id",
        "Created_Time",
        "Modified_Time",
        "Created_By",
        "Modified_By",
        "$approved",
        "$editable",
        "Full_Name",
        "Sub_Total",
        "Grand_Total",
    }
)


class RecordError(Exception):
    """One record's failure: ``{"code", "details", "message", "status": "error"}``."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details

    def body(self) -> Record:
        """The per-record answer."""
        return {
            "code": self.code,
            "details": self.details,
            "message": self.message,
            "status": "error",
        }


def mandatory(api_name: str) -> RecordError:
    return RecordError("MANDATORY_NOT_FOUND", "required field not found", api_name=api_name)


def invalid(api_name: str, expected: str | None = None, **more: Any) -> RecordError:
    details = {"api_name": api_name, **more}
    if expected:
        details["expected_data_type"] = expected
    return RecordError("INVALID_DATA", "invalid data", **details)


@dataclass(frozen=True)
class ModuleSpec:
    """How one module's records are validated and derived."""

    name: str
    name_field: str
    mandatory: tuple[str, ...]
    doubles: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    lookups: Mapping[str, str] = field(default_factory=dict)  # field -> module
    duplicate_check: tuple[str, ...] = ()
    line_items: bool = False
    defaults: Mapping[str, Any] = field(default_factory=dict)


MODULES: dict[str, ModuleSpec] = {
    spec.name: spec
    for spec in (
        ModuleSpec(
            "Accounts",
            "Account_Name",
            ("Account_Name",),
            doubles=("Annual_Revenue",),
            phones=("Phone", "Fax"),
            duplicate_check=("Account_Name",),
        ),
        ModuleSpec(
            "Contacts",
            "Full_Name",
            ("Last_Name",),
            emails=("Email", "Secondary_Email"),
            phones=("Phone", "Mobile", "Other_Phone", "Fax"),
            dates=("Date_of_Birth",),
            lookups={"Account_Name": "Accounts"},
            duplicate_check=("Email",),
        ),
        ModuleSpec(
            "Products",
            "Product_Name",
            ("Product_Name",),
            doubles=("Unit_Price", "Qty_in_Stock"),
            duplicate_check=("Product_Name",),
            defaults={"Product_Active": True, "Taxable": True, "Tax": []},
        ),
        ModuleSpec(
            "Quotes",
            "Subject",
            ("Subject", "Product_Details"),
            doubles=("Discount", "Adjustment", "Tax"),
            dates=("Valid_Till",),
            lookups={"Account_Name": "Accounts", "Contact_Name": "Contacts"},
            duplicate_check=("Subject",),
            line_items=True,
            defaults={"Quote_Stage": "Draft"},
        ),
        ModuleSpec(
            "Invoices",
            "Subject",
            ("Subject", "Product_Details"),
            doubles=("Discount", "Adjustment", "Tax"),
            dates=("Invoice_Date", "Due_Date"),
            lookups={"Account_Name": "Accounts", "Contact_Name": "Contacts"},
            duplicate_check=("Subject",),
            line_items=True,
            defaults={"Status": "Created"},
        ),
    )
}


def money(value: Decimal) -> float:
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def number(value: Any, api_name: str, default: str = "0") -> Decimal:
    """A double field's value (None → ``default``)."""
    if value is None or value == "":
        return Decimal(default)
    if isinstance(value, bool):
        raise invalid(api_name, "double")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise invalid(api_name, "double") from exc


def _lookup_id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return None if value in (None, "") else str(value)


def resolve_lookup(value: Any, module: str, api_name: str, lookup: Lookup) -> Record | None:
    """``{"id": …}`` or an id → ``{"name", "id"}`` (None clears the lookup)."""
    if value is None:
        return None
    record_id = _lookup_id(value)
    target = lookup(module, record_id) if record_id else None
    if target is None:
        raise invalid(api_name, "lookup", id=record_id)
    return {"name": display_name(MODULES[module], target), "id": target["id"]}


def display_name(spec: ModuleSpec, record: Mapping[str, Any]) -> str:
    return str(record.get(spec.name_field) or "")


def check_fields(spec: ModuleSpec, record: Record, lookup: Lookup) -> None:
    """Validate typed fields, resolve lookups, derive names and line items (in place).

    Raises:
        RecordError: the first problem found, as Zoho reports one per record.
    """
    for name in spec.mandatory:
        if record.get(name) in (None, "", []):
            raise mandatory(name)
    for name in spec.doubles:
        if record.get(name) is not None:
            record[name] = float(number(record[name], name))
    for name in spec.emails:
        if record.get(name) and not EMAIL.match(str(record[name])):
            raise invalid(name, "email")
    for name in spec.dates:
        if record.get(name):
            try:
                date.fromisoformat(str(record[name]))
            except ValueError as exc:
                raise invalid(name, "date") from exc
    for name, module in spec.lookups.items():
        if name in record:
            record[name] = resolve_lookup(record[name], module, name, lookup)
    if spec.name == "Contacts":
        parts = (record.get("First_Name"), record.get("Last_Name"))
        record["Full_Name"] = " ".join(str(p) for p in parts if p)
    if spec.line_items:
        compute_totals(record, lookup)


def compute_totals(record: Record, lookup: Lookup) -> None:
    """Fill each ``Product_Details`` item and the document totals."""
    items = record.get("Product_Details")
    if not isinstance(items, list):
        raise invalid("Product_Details", "jsonarray")
    sub_total = Decimal(0)
    for index, item in enumerate(items, start=1):
        sub_total += _line(item, index, lookup)
    discount = number(record.get("Discount"), "Discount")
    tax = number(record.get("Tax"), "Tax")
    adjustment = number(record.get("Adjustment"), "Adjustment")
    record["Discount"], record["Tax"] = money(discount), money(tax)
    record["Adjustment"], record["Sub_Total"] = money(adjustment), money(sub_total)
    record["Grand_Total"] = money(sub_total - discount + tax + adjustment)


def _line(item: Any, index: int, lookup: Lookup) -> Decimal:
    if not isinstance(item, dict):
        raise invalid("Product_Details", "jsonobject", index=index)
    product = lookup("Products", _lookup_id(item.get("product")) or "")
    if product is None:
        raise invalid("product", "lookup", index=index)
    quantity = number(item.get("quantity"), "quantity", "1")
    price = number(item.get("list_price"), "list_price", str(product.get("Unit_Price") or 0))
    total = quantity * price
    after_discount = total - number(item.get("Discount"), "Discount")
    taxes, tax = [], Decimal(0)
    for line_tax in item.get("line_tax") or []:
        percentage = number(line_tax.get("percentage"), "percentage")
        value = (after_discount * percentage / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        taxes.append(
            {"name": line_tax.get("name"), "percentage": float(percentage), "value": money(value)}
        )
        tax += value
    item.update(
        {
            "product": {
                "name": product.get("Product_Name"),
                "id": product["id"],
                "Product_Code": product.get("Product_Code"),
            },
            "quantity": float(quantity),
            "list_price": money(price),
            "total": money(total),
            "Discount": money(total - after_discount),
            "total_after_discount": money(after_discount),
            "line_tax": taxes,
            "Tax": money(tax),
            "net_total": money(after_discount + tax),
        }
    )
    return after_discount + tax
