"""The QuickBooks searches, declared as data: which mapped fields each entity's search turns
into WHERE conditions, and the query they build.

Intuit's query language compares text with ``=`` exactly (case-insensitively), so a search by
a match key — a customer's e-mail, an item's name, a document number — finds that record and
no other; ``contains`` / ``startsWith`` widen a text field on purpose (``LIKE``). Every
literal is escaped (``client.condition``); there is no ``OR`` (vendor/quickbooks/NOTES.md §3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.errors import InvalidConfigurationError
from modules.quickbooks.client import condition
from modules.quickbooks.models import SearchInput

MATCHES = ("equals", "contains", "startsWith")


@dataclass(frozen=True)
class SearchSpec:
    """One entity's search: the text fields compared as ``match`` says, the fields compared
    exactly, fields compared as bounds (``field: (from key, to key)``) and the default order."""

    entity: str
    text_fields: tuple[str, ...]
    exact_fields: tuple[str, ...] = ()
    ranges: Mapping[str, tuple[str, str]] | None = None
    order: str = "Id"


_NAMES = ("DisplayName", "CompanyName", "GivenName", "FamilyName")
_TXN_DATES = {"TxnDate": ("TxnDateFrom", "TxnDateTo")}

SEARCHES: Mapping[str, SearchSpec] = {
    spec.entity: spec
    for spec in (
        SearchSpec("Customer", _NAMES, ("PrimaryEmailAddr", "Active"), order="DisplayName"),
        SearchSpec("Vendor", _NAMES, ("PrimaryEmailAddr", "Active"), order="DisplayName"),
        SearchSpec("Item", ("Name",), ("Sku", "Type", "Active"), order="Name"),
        SearchSpec("Invoice", ("DocNumber",), ("CustomerRef",), _TXN_DATES),
        SearchSpec("Estimate", ("DocNumber",), ("CustomerRef", "TxnStatus"), _TXN_DATES),
        SearchSpec("SalesReceipt", ("DocNumber",), ("CustomerRef",), _TXN_DATES),
        SearchSpec("CreditMemo", ("DocNumber",), ("CustomerRef",), _TXN_DATES),
        SearchSpec("Payment", ("PaymentRefNum",), ("Id", "CustomerRef"), _TXN_DATES),
        SearchSpec("Account", ("Name",), ("AccountType", "AccountSubType", "Active"), order="Name"),
        SearchSpec("TaxCode", ("Name",), ("Active",), order="Name"),
    )
}


def conditions(spec: SearchSpec, data: SearchInput) -> list[str]:
    """The WHERE conditions of a search, every literal escaped.

    Raises:
        InvalidConfigurationError: ``match`` is not equals, contains or startsWith.
    """
    if data.match not in MATCHES:
        raise InvalidConfigurationError(f"unknown match '{data.match}' ({', '.join(MATCHES)})")
    found = [
        condition(name, data.match, value)
        for name in spec.text_fields
        if (value := getattr(data, name, None)) not in (None, "")
    ]
    found += [
        condition(name, "equals", value)
        for name in spec.exact_fields
        if (value := getattr(data, name, None)) not in (None, "")
    ]
    for field, (low, high) in (spec.ranges or {}).items():
        for key, operator in ((low, "greaterOrEqual"), (high, "lessOrEqual")):
            if (value := getattr(data, key, None)) not in (None, ""):
                found.append(condition(field, operator, value))
    found += [condition(rule.field, rule.operator, rule.value) for rule in data.filter]
    if data.where:
        found.append(data.where)
    return found


def statement(spec: SearchSpec, data: SearchInput) -> str:
    """``SELECT * FROM <Entity> [WHERE … AND …] ORDERBY …`` for a search."""
    where = conditions(spec, data)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return f"SELECT * FROM {spec.entity}{clause} ORDERBY {data.orderBy or spec.order}"
