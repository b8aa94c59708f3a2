"""The tax lists the setup page's tax table is filled from, read live from each system:

- **QuickBooks Online**: the company's tax codes, each with its sales rate (the sum of its sales
  tax rates, as ``connection check`` computes it);
- **Xero**: the organisation's tax rates (``TaxType`` is the code an invoice line takes);
- **Zoho CRM**: the taxes in use — each line tax name with its percentage on the organisation's
  quotes and invoices, and the products' tax names (v8 has no tax list a CRM token can read in
  every edition, so what the records carry is what a sync has to map).

Each entry: ``{"code", "name", "rate"}`` (``code`` is what the other side's line takes; for
Zoho the name itself).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from modules.connections import ApiClient

TaxList = list[dict[str, Any]]


def quickbooks_taxes(connection: Mapping[str, Any], session: Any) -> TaxList:
    from modules.quickbooks.check import sales_rate
    from modules.quickbooks.connection import company_client

    client = company_client(connection, session)
    rates = {r["Id"]: r for r in client.query_all("SELECT * FROM TaxRate")}
    found = []
    for code in client.query_all("SELECT * FROM TaxCode"):
        rate = sales_rate(code, rates)
        found.append({"code": str(code["Id"]), "name": code.get("Name"), "rate": _number(rate)})
    return found


def xero_taxes(connection: Mapping[str, Any], session: Any) -> TaxList:
    from modules.xero.client import xero_settings

    api = ApiClient(xero_settings(connection, max_retries=1), session, time.sleep)
    body = api.get("TaxRates") or {}
    return [
        {
            "code": rate.get("TaxType"),
            "name": rate.get("Name"),
            "rate": _number(rate.get("EffectiveRate", rate.get("DisplayTaxRate"))),
        }
        for rate in body.get("TaxRates") or []
        if rate.get("Status", "ACTIVE") == "ACTIVE"
    ]


def zoho_taxes(connection: Mapping[str, Any], session: Any) -> TaxList:
    from modules.zohocrm.client import ZohoClient, zoho_settings

    client = ZohoClient(ApiClient(zoho_settings(connection, max_retries=1), session, time.sleep))
    seen: dict[str, Any] = {}
    for module, subform in (("Invoices", "Invoiced_Items"), ("Quotes", "Quoted_Items")):
        for record in client.modified_since(module, None, [subform, "Modified_Time"]):
            for line in record.get(subform) or []:
                for tax in line.get("Line_Tax") or []:
                    if tax.get("name"):
                        seen.setdefault(tax["name"], _number(tax.get("percentage")))
    for record in client.modified_since("Products", None, ["Tax", "Modified_Time"]):
        for name in record.get("Tax") or []:
            label = name.get("name") if isinstance(name, Mapping) else name
            if label:
                seen.setdefault(str(label), None)
    return [{"code": name, "name": name, "rate": rate} for name, rate in sorted(seen.items())]


def _number(value: Any) -> float | None:
    if value in (None, ""):
        return None
    return float(Decimal(str(value)))


READERS: dict[str, Callable[[Mapping[str, Any], Any], TaxList]] = {
    "quickbooks": quickbooks_taxes,
    "xero": xero_taxes,
    "zohocrm": zoho_taxes,
}


def tax_list(app: str, connection: Mapping[str, Any], session: Any) -> TaxList:
    """``app``'s taxes (see the module docstring). Raises ``KeyError`` for an app without a
    reader, ``ModuleError`` when the system cannot be read."""
    return READERS[app](connection, session)
