"""Zoho CRM modules as data, and the per-record checks and derived fields. No I/O.

Each ``ModuleSpec`` lists the mandatory fields, typed fields (``INVALID_DATA`` with
``expected_data_type`` when a value does not fit), lookups (``{"id"}`` in, ``{"name", "id"}``
out), the upsert's default duplicate-check fields and the fields searched by ``email=`` /
``phone=`` / ``word=``. Quotes and Invoices carry their line items in the v8 subforms
``Quoted_Items`` / ``Invoiced_Items`` (vendor/zoho/NOTES.md §3 and §9; v2's
``Product_Details`` is gone): each item ``{"Product_Name": {"id"}, "Quantity", "ListPrice",
"Discount", "Description", "Line_Tax": [{"name", "percentage"}]}`` (``ListPrice`` as Zoho's
SDK 8.0 writes it). ``Total = Quantity * ListPrice``, ``Total_After_Discount = Total -
Discount``, ``Tax = sum of Line_Tax %``, ``Net_Total = Total_After_Discount + Tax``; the
document's ``Sub_Total = sum of Net_Total`` and ``Grand_Total = Sub_Total - Discount + Tax +
Adjustment``. ``field_list`` is what ``GET /settings/fields`` lists per module — the layout a
write is kept to (``store.Org``: fields outside it are not stored) — with the organisation's
custom fields.
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
    line_items: str | None = None  # the subform of line items (Quoted_Items, Invoiced_Items)
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
            "Vendors",
            "Vendor_Name",
            ("Vendor_Name",),
            emails=("Email",),
            phones=("Phone",),
            duplicate_check=("Vendor_Name",),
        ),
        ModuleSpec(
            "Products",
            "Product_Name",
            ("Product_Name",),
            doubles=("Unit_Price", "Qty_in_Stock", "Qty_Ordered", "Reorder_Level"),
            lookups={"Vendor_Name": "Vendors"},
            duplicate_check=("Product_Name",),
            defaults={"Product_Active": True, "Taxable": True, "Tax": []},
        ),
        ModuleSpec(
            "Quotes",
            "Subject",
            ("Subject", "Quoted_Items"),
            doubles=("Discount", "Adjustment", "Tax"),
            dates=("Valid_Till",),
            lookups={"Account_Name": "Accounts", "Contact_Name": "Contacts"},
            duplicate_check=("Subject",),
            line_items="Quoted_Items",
            defaults={"Quote_Stage": "Draft"},
        ),
        ModuleSpec(
            "Invoices",
            "Subject",
            ("Subject", "Invoiced_Items"),
            doubles=("Discount", "Adjustment", "Tax"),
            dates=("Invoice_Date", "Due_Date"),
            lookups={"Account_Name": "Accounts", "Contact_Name": "Contacts"},
            duplicate_check=("Subject",),
            line_items="Invoiced_Items",
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
        compute_totals(record, spec.line_items, lookup)


def compute_totals(record: Record, subform: str, lookup: Lookup) -> None:
    """Fill each line item of ``subform`` and the document totals."""
    items = record.get(subform)
    if not isinstance(items, list):
        raise invalid(subform, "jsonarray")
    sub_total = Decimal(0)
    for index, item in enumerate(items, start=1):
        sub_total += _line(item, subform, index, lookup)
    discount = number(record.get("Discount"), "Discount")
    tax = number(record.get("Tax"), "Tax")
    adjustment = number(record.get("Adjustment"), "Adjustment")
    record["Discount"], record["Tax"] = money(discount), money(tax)
    record["Adjustment"], record["Sub_Total"] = money(adjustment), money(sub_total)
    record["Grand_Total"] = money(sub_total - discount + tax + adjustment)


def _line(item: Any, subform: str, index: int, lookup: Lookup) -> Decimal:
    if not isinstance(item, dict):
        raise invalid(subform, "jsonobject", index=index)
    product = lookup("Products", _lookup_id(item.get("Product_Name")) or "")
    if product is None:
        raise invalid("Product_Name", "lookup", index=index)
    quantity = number(item.get("Quantity"), "Quantity", "1")
    price = number(item.get("ListPrice"), "ListPrice", str(product.get("Unit_Price") or 0))
    total = quantity * price
    after_discount = total - number(item.get("Discount"), "Discount")
    taxes, tax = [], Decimal(0)
    for line_tax in item.get("Line_Tax") or []:
        percentage = number(line_tax.get("percentage"), "percentage")
        value = (after_discount * percentage / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        taxes.append(
            {"name": line_tax.get("name"), "percentage": float(percentage), "value": money(value)}
        )
        tax += value
    item.update(
        {
            "Product_Name": {
                "name": product.get("Product_Name"),
                "id": product["id"],
                "Product_Code": product.get("Product_Code"),
            },
            "Quantity": float(quantity),
            "ListPrice": money(price),
            "Total": money(total),
            "Discount": money(total - after_discount),
            "Total_After_Discount": money(after_discount),
            "Line_Tax": taxes,
            "Tax": money(tax),
            "Net_Total": money(after_discount + tax),
        }
    )
    return after_discount + tax


# -- field metadata (GET /settings/fields) ------------------------------------------------------

COMMON_FIELDS: tuple[tuple[str, str], ...] = (
    ("Owner", "ownerlookup"),
    ("Created_By", "userlookup"),
    ("Modified_By", "userlookup"),
    ("Created_Time", "datetime"),
    ("Modified_Time", "datetime"),
)
"""Fields every module has."""

_ADDRESSES: tuple[tuple[str, str], ...] = tuple(
    (f"{side}_{part}", "text")
    for side in ("Billing", "Shipping")
    for part in ("Street", "City", "State", "Code", "Country")
)
_DOCUMENT: tuple[tuple[str, str], ...] = (
    ("Sub_Total", "currency"),
    ("Grand_Total", "currency"),
    ("Currency", "picklist"),
    ("Exchange_Rate", "double"),
    *_ADDRESSES,
    ("Terms_and_Conditions", "textarea"),
    ("Description", "textarea"),
)
OTHER_FIELDS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "Accounts": (
        ("Account_Number", "bigint"),
        ("Account_Type", "picklist"),
        ("Account_Site", "text"),
        ("Industry", "picklist"),
        ("Ownership", "picklist"),
        ("Rating", "picklist"),
        ("Employees", "integer"),
        ("Ticker_Symbol", "text"),
        ("Website", "website"),
        *_ADDRESSES,
        ("Description", "textarea"),
    ),
    "Contacts": (
        ("First_Name", "text"),
        ("Last_Name", "text"),
        ("Full_Name", "text"),
        ("Salutation", "picklist"),
        ("Title", "text"),
        ("Department", "text"),
        ("Lead_Source", "picklist"),
        ("Home_Phone", "phone"),
        ("Skype_ID", "text"),
        *((f"Mailing_{part}", "text") for part in ("Street", "City", "State", "Zip", "Country")),
        *((f"Other_{part}", "text") for part in ("Street", "City", "State", "Zip", "Country")),
        ("Description", "textarea"),
    ),
    "Vendors": (
        ("Website", "website"),
        ("GL_Account", "picklist"),
        ("Category", "text"),
        *((part, "text") for part in ("Street", "City", "State", "Zip_Code", "Country")),
        ("Description", "textarea"),
    ),
    "Products": (
        ("Product_Code", "text"),
        ("Product_Active", "boolean"),
        ("Product_Category", "picklist"),
        ("Manufacturer", "picklist"),
        ("Usage_Unit", "picklist"),
        ("Taxable", "boolean"),
        ("Tax", "multiselectpicklist"),
        ("Description", "textarea"),
    ),
    "Quotes": (
        ("Quote_Number", "autonumber"),
        ("Quote_Stage", "picklist"),
        ("Carrier", "picklist"),
        *_DOCUMENT,
    ),
    "Invoices": (
        ("Invoice_Number", "autonumber"),
        ("Status", "picklist"),
        ("Purchase_Order", "text"),
        *_DOCUMENT,
    ),
}
TEXT_LENGTH = 255
"""The longest value of a single-line text field (Zoho: ``INVALID_DATA`` with
``maximum_length`` beyond a field's length)."""


def field_list(spec: ModuleSpec, custom: Mapping[str, str] | None = None) -> list[Record]:
    """The module's fields as ``GET /settings/fields?module=`` lists them (api_name,
    data_type, whether the system requires it, single-line text's ``length``), with the
    organisation's ``custom`` fields (``{api_name: data_type}``) marked ``custom_field``."""
    typed: dict[str, str] = {spec.name_field: "text"}
    typed.update(OTHER_FIELDS.get(spec.name, ()))
    typed.update(dict.fromkeys(spec.mandatory, "text"))
    typed.update(dict.fromkeys(spec.doubles, "double"))
    typed.update(dict.fromkeys(spec.dates, "date"))
    typed.update(dict.fromkeys(spec.emails, "email"))
    typed.update(dict.fromkeys(spec.phones, "phone"))
    typed.update(dict.fromkeys(spec.lookups, "lookup"))
    if spec.line_items:
        typed[spec.line_items] = "subform"
    typed.update(COMMON_FIELDS)
    own = set(typed)
    typed.update({k: v for k, v in (custom or {}).items() if k not in own})
    return [
        {
            "api_name": name,
            "data_type": data_type,
            "system_mandatory": name in spec.mandatory,
            "field_label": name.replace("_", " "),
            "custom_field": name not in own,
            **({"length": TEXT_LENGTH} if data_type == "text" else {}),
        }
        for name, data_type in typed.items()
    ]


def check_lengths(record: Record, fields: list[Record]) -> None:
    """Raises ``INVALID_DATA`` (with ``maximum_length``) for a text value longer than its
    field's length."""
    for field_meta in fields:
        value, length = record.get(field_meta["api_name"]), field_meta.get("length")
        if length and isinstance(value, str) and len(value) > length:
            raise invalid(field_meta["api_name"], maximum_length=length)
