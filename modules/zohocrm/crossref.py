"""The cross-reference fields the sync packs keep in Zoho CRM: on each record, the id of the
record it is synced with in the accounting system.

The ZBrains and Zoho QuickBooks Connector seeds keep "QuickBooks Customer Id", "QuickBooks Item
Id" and "QuickBooks Invoice Id" fields in Zoho (``../shared/reference/seeds/``); a custom field
labelled that way gets the API name with underscores. A record whose field is empty is not
synced yet; the packs search by it to find the record a change belongs to (an exact match:
Zoho's search ``equals`` alone would also find ``158`` for ``58``).

``switchboard connection check`` reports the ones an organisation lacks; the Zoho sandbox's
organisation has them unless configured otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping

CROSS_REFERENCE_FIELDS: Mapping[str, Mapping[str, str]] = {
    "QuickBooks": {
        "Accounts": "QuickBooks_Customer_Id",
        "Contacts": "QuickBooks_Customer_Id",
        "Products": "QuickBooks_Item_Id",
        "Quotes": "QuickBooks_Estimate_Id",
        "Invoices": "QuickBooks_Invoice_Id",
        "Vendors": "QuickBooks_Vendor_Id",
    },
    "Xero": {
        "Accounts": "Xero_Contact_Id",
        "Contacts": "Xero_Contact_Id",
        "Products": "Xero_Item_Id",
        "Quotes": "Xero_Quote_Id",
        "Invoices": "Xero_Invoice_Id",
    },
}
"""By accounting system, module → the single-line text field holding that system's id."""

SYNC_TIME_FIELDS: Mapping[str, str] = {
    "QuickBooks": "QuickBooks_Synced_Time",
    "Xero": "Xero_Synced_Time",
}
"""By accounting system, the text field on each of those modules holding when the record was
last synced with it (ISO 8601). The packs compare the accounting record's last change with it:
when both sides changed since, the accounting side wins (the ZBrains seed's rule)."""


def cross_reference_layout() -> dict[str, dict[str, str]]:
    """The custom fields above (ids and sync times) by module (``{module: {api_name: "text"}}``)."""
    layout: dict[str, dict[str, str]] = {}
    for system, fields in CROSS_REFERENCE_FIELDS.items():
        for module, api_name in fields.items():
            layout.setdefault(module, {})[api_name] = "text"
            layout[module][SYNC_TIME_FIELDS[system]] = "text"
    return layout
