"""Items and the accounts they post to: the rules QuickBooks Online checks on an ``Item``. No I/O.

An item is ``Inventory``, ``NonInventory`` or ``Service`` (vendor/quickbooks/NOTES.md §5: Name,
Type, UnitPrice, IncomeAccountRef, ExpenseAccountRef, AssetAccountRef, TrackQtyOnHand,
QtyOnHand, InvStartDate, Sku, SalesTaxCodeRef). Intuit's Item reference, as the sandbox keeps
it:

- ``Name`` is required, at most 100 characters and unique among items (6240);
- an **inventory** item needs ``IncomeAccountRef`` (an Income account), ``ExpenseAccountRef``
  (Cost of Goods Sold), ``AssetAccountRef`` (an Other Current Asset, the inventory asset),
  ``TrackQtyOnHand: true``, ``QtyOnHand`` and ``InvStartDate``; the company must track
  quantities on hand (``Preferences.ProductAndServicesPrefs.QuantityOnHand``: QuickBooks
  Online Plus and Advanced); an inventory item cannot become another type;
- a **non-inventory** or **service** item needs an income account (sold) or an expense account
  (purchased) and tracks no quantity.

Which account types each reference takes (``ACCOUNT_TYPES``) follows the account lists of
QuickBooks' item form; the refusal's wording is the sandbox's own (Intuit's exact text for a
wrong account type was not in the sources).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from . import faults
from .documents import decimal, ref_id, resolve_ref

Record = dict[str, Any]
Lookup = Callable[[str, str], Record | None]

ITEM_TYPES = frozenset({"Inventory", "NonInventory", "Service"})
MAX_NAME = 100
ACCOUNT_TYPES: Mapping[str, frozenset[str]] = {
    "IncomeAccountRef": frozenset({"Income", "Other Income"}),
    "ExpenseAccountRef": frozenset({"Cost of Goods Sold", "Expense", "Other Expense"}),
    "AssetAccountRef": frozenset({"Other Current Asset"}),
}
INVENTORY_ACCOUNT_TYPES: Mapping[str, frozenset[str]] = {
    **ACCOUNT_TYPES,
    "ExpenseAccountRef": frozenset({"Cost of Goods Sold"}),
}
INVENTORY_REQUIRED = ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef")


def check_item(
    record: Record, existing: Record | None, lookup: Lookup, tracks_quantities: bool
) -> None:
    """Validate an item about to be stored and fill its references' names (in place).

    Raises:
        QboFault: 2020 a required field, 2170 an unknown type, 2500 an unknown account or
            tax code, 6000 a rule of the type (accounts, quantities, a type change).
    """
    name = str(record.get("Name") or "").strip()
    if not name:
        raise faults.required("Name")
    if len(name) > MAX_NAME:
        raise faults.invalid_property(f"Name must be at most {MAX_NAME} characters", "Name")
    kind = str(record.get("Type") or "")
    if kind not in ITEM_TYPES:
        raise faults.invalid_enumeration(kind, "Type")
    if existing is not None and existing.get("Type") == "Inventory" and kind != "Inventory":
        raise faults.business("An inventory item cannot be changed to another type.", "Type")
    if kind == "Inventory":
        _check_inventory(record, tracks_quantities)
    else:
        _check_untracked(record)
    types = INVENTORY_ACCOUNT_TYPES if kind == "Inventory" else ACCOUNT_TYPES
    for field, allowed in types.items():
        if ref_id(record.get(field)):
            record[field] = account_ref(lookup, record[field], field, allowed)
    if record.get("SalesTaxCodeRef"):
        resolve_ref(lookup, "TaxCode", record["SalesTaxCodeRef"], "SalesTaxCodeRef")
    for field in ("UnitPrice", "PurchaseCost"):
        if record.get(field) is not None:
            record[field] = float(decimal(record[field], field) or 0)


def _check_inventory(record: Record, tracks_quantities: bool) -> None:
    if not tracks_quantities:
        raise faults.business(
            "Inventory items need quantity-on-hand tracking, which this company does not have "
            "(QuickBooks Online Plus or Advanced).",
            "Type",
        )
    for field in INVENTORY_REQUIRED:
        if not ref_id(record.get(field)):
            raise faults.required(field)
    if record.get("TrackQtyOnHand") is not True:
        raise faults.business(
            "An inventory item must track its quantity on hand.", "TrackQtyOnHand"
        )
    quantity = decimal(record.get("QtyOnHand"), "QtyOnHand")
    if quantity is None:
        raise faults.required("QtyOnHand")
    record["QtyOnHand"] = float(quantity)
    start = record.get("InvStartDate")
    if start in (None, ""):
        raise faults.required("InvStartDate")
    try:
        record["InvStartDate"] = date.fromisoformat(str(start)[:10]).isoformat()
    except ValueError as exc:
        raise faults.invalid_property(
            f"InvStartDate {start!r} is not a date", "InvStartDate"
        ) from exc


def _check_untracked(record: Record) -> None:
    if record.get("TrackQtyOnHand") is True:
        raise faults.business("Only inventory items track a quantity on hand.", "TrackQtyOnHand")
    if not (ref_id(record.get("IncomeAccountRef")) or ref_id(record.get("ExpenseAccountRef"))):
        raise faults.required("IncomeAccountRef")
    record["TrackQtyOnHand"] = False
    for field in ("QtyOnHand", "InvStartDate", "AssetAccountRef"):
        record.pop(field, None)


def account_ref(lookup: Lookup, ref: Any, field: str, allowed: frozenset[str]) -> Record:
    """``{"value", "name"}`` of an active account of an allowed type.

    Raises:
        QboFault: 2500 no such (or an inactive) account, 6000 an account of another type.
    """
    account = resolve_ref(lookup, "Account", ref, field)
    if account.get("Active") is False:
        raise faults.invalid_reference(field, account["Id"])
    if account.get("AccountType") not in allowed:
        raise faults.business(
            f"{field} must be an account of type {' or '.join(sorted(allowed))}; "
            f"{account.get('Name')} is {account.get('AccountType')}.",
            field,
        )
    return {"value": account["Id"], "name": account.get("Name")}
