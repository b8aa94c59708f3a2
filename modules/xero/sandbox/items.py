"""Items (Xero's price list): unique codes, sales and purchase details, tracked inventory.

From the spec's ``Item`` and ``Purchase`` schemas (NOTES §11): ``Code`` is required (at most 30
characters) and unique, ``Name`` at most 50; ``IsSold``/``IsPurchased`` default to true and
setting one false nulls its description and details; a tracked item needs an INVENTORY
``InventoryAssetAccountCode`` and a ``COGSAccountCode``.
"""

from __future__ import annotations

from typing import Any

from .errors import Record, ValidationFailed
from .organisation import ACCOUNTS
from .tenant import WriteContext, find_by_id
from .values import to_decimal

ITEM_FIELDS = (
    "Code",
    "Name",
    "Description",
    "PurchaseDescription",
    "IsSold",
    "IsPurchased",
    "SalesDetails",
    "PurchaseDetails",
    "InventoryAssetAccountCode",
)
MSG_DUPLICATE_CODE = "Price List Item with Code '{code}' already exists"  # the spec's example


def write_item(context: WriteContext, data: Record) -> Record:
    """Create an item, or update the one named by ``ItemID``."""
    tenant = context.tenant
    existing = find_by_id(tenant.items, data.get("ItemID"))
    if data.get("ItemID") and existing is None and not context.seeding:
        raise ValidationFailed(f"The item with ItemID {data['ItemID']} was not found")
    if not context.seeding and not str(data.get("Code") or "").strip():
        raise ValidationFailed("Item code must be specified")  # every element, updates too
    changes = {key: data[key] for key in ITEM_FIELDS if key in data}
    record = {**existing, **changes} if existing else new_item(context, data, changes)
    validate_item(context, record)
    apply_flags(record)
    context.stamp(record, data.get("UpdatedDateUTC"))
    tenant.items[record["ItemID"]] = record
    return record


def new_item(context: WriteContext, data: Record, changes: Record) -> Record:
    return {
        "ItemID": context.new_id(data.get("ItemID")),
        "IsSold": True,
        "IsPurchased": True,
        "IsTrackedAsInventory": False,
        **changes,
    }


def validate_item(context: WriteContext, record: Record) -> None:
    """Every reason Xero would refuse the item, at once."""
    errors = []
    code = str(record.get("Code") or "").strip()
    if not code:
        errors.append("Item code must be specified")
    elif len(code) > 30:
        errors.append("The Item Code must not be more than 30 characters long")
    if len(str(record.get("Name") or "")) > 50:
        errors.append("The Item Name must not be more than 50 characters long")
    for other in context.tenant.items.values():
        if other["ItemID"] != record["ItemID"] and str(other["Code"]).casefold() == code.casefold():
            errors.append(MSG_DUPLICATE_CODE.format(code=code))
    rates = context.state.tax_rates()
    for key in ("SalesDetails", "PurchaseDetails"):
        errors.extend(detail_errors(record.get(key), rates))
    inventory = record.get("InventoryAssetAccountCode")
    if inventory and ACCOUNTS.get(str(inventory), ("", "", "", False))[1] != "INVENTORY":
        errors.append("The inventory asset account must be of type INVENTORY")
    if inventory and not (record.get("PurchaseDetails") or {}).get("COGSAccountCode"):
        errors.append("A COGSAccountCode is required to track an item as inventory")
    if errors:
        raise ValidationFailed(*errors)


def detail_errors(details: Any, rates: Any) -> list[str]:
    """Problems of one ``SalesDetails``/``PurchaseDetails`` (account codes and tax type)."""
    if not isinstance(details, dict):
        return []
    errors = [
        f"Account code '{details[key]}' is not a valid code for this document."
        for key in ("AccountCode", "COGSAccountCode")
        if details.get(key) and str(details[key]) not in ACCOUNTS
    ]
    if details.get("TaxType") and details["TaxType"] not in rates:
        errors.append(f"The TaxType code '{details['TaxType']}' does not exist.")
    return errors


def apply_flags(record: Record) -> None:
    """Xero's rules: not sold → no sales text or details; likewise for purchased; an item is
    tracked when it has an inventory account; unit prices are numbers."""
    if record.get("IsSold") is False:
        record.pop("Description", None)
        record.pop("SalesDetails", None)
    if record.get("IsPurchased") is False:
        record.pop("PurchaseDescription", None)
        record.pop("PurchaseDetails", None)
    record["IsTrackedAsInventory"] = bool(record.get("InventoryAssetAccountCode"))
    for key in ("SalesDetails", "PurchaseDetails"):
        details = record.get(key)
        if isinstance(details, dict) and details.get("UnitPrice") is not None:
            details["UnitPrice"] = to_decimal(details["UnitPrice"])
