"""Reconciliation of a sync pack's two systems by the pack's own match keys (the CRM ⇄ books
comparison of ``compare.py`` matches 1CRM accounts by name; the Zoho packs match people by
e-mail and products by name). Same vocabulary: ``Difference`` records, text stripped and
case-folded where the systems fold it, money to the cent (``books.money``).

``compare_zoho_quickbooks(zoho, quickbooks)`` takes the records as each system's API gives
them (Zoho ``Contacts`` / ``Products``, QuickBooks ``Customer`` / ``Item``) and returns every
difference: a record on one side only (``exists``), a match key on one side twice (``count``),
a field that differs. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from modules.reconcile.books import money, text
from modules.reconcile.compare import Difference

Record = Mapping[str, Any]


def _email(value: Any) -> str | None:
    found = text(value)
    return found.casefold() if found else None


def _nested(record: Record, *path: str) -> Any:
    value: Any = record
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


CUSTOMER_FIELDS: tuple[tuple[str, Callable[[Record], Any], Callable[[Record], Any]], ...] = (
    ("first name", lambda z: text(z.get("First_Name")), lambda q: text(q.get("GivenName"))),
    (
        "last name",
        lambda z: text(z.get("Last_Name")),
        lambda q: text(q.get("FamilyName") or q.get("DisplayName")),
    ),
    (
        "phone",
        lambda z: text(z.get("Phone")),
        lambda q: text(_nested(q, "PrimaryPhone", "FreeFormNumber")),
    ),
)
ITEM_FIELDS: tuple[tuple[str, Callable[[Record], Any], Callable[[Record], Any]], ...] = (
    ("code", lambda z: text(z.get("Product_Code")), lambda q: text(q.get("Sku"))),
    ("unit price", lambda z: money(z.get("Unit_Price")), lambda q: money(q.get("UnitPrice"))),
)


def compare_zoho_quickbooks(
    zoho: Mapping[str, Iterable[Record]], quickbooks: Mapping[str, Iterable[Record]]
) -> list[Difference]:
    """Contacts ⇄ customers by e-mail (those with one), products ⇄ items by name."""
    found = _compare(
        "customer",
        [c for c in zoho.get("Contacts", []) if _email(c.get("Email"))],
        [
            c
            for c in quickbooks.get("Customer", [])
            if _email(_nested(c, "PrimaryEmailAddr", "Address"))
        ],
        lambda z: _email(z.get("Email")),
        lambda q: _email(_nested(q, "PrimaryEmailAddr", "Address")),
        CUSTOMER_FIELDS,
    )
    found += _compare(
        "item",
        list(zoho.get("Products", [])),
        list(quickbooks.get("Item", [])),
        lambda z: (text(z.get("Product_Name")) or "").casefold(),
        lambda q: (text(q.get("Name")) or "").casefold(),
        ITEM_FIELDS,
    )
    return found


def _compare(
    kind: str,
    crm: list[Record],
    books: list[Record],
    crm_key: Callable[[Record], Any],
    books_key: Callable[[Record], Any],
    fields: tuple[tuple[str, Callable[[Record], Any], Callable[[Record], Any]], ...],
) -> list[Difference]:
    left: dict[Any, list[Record]] = {}
    right: dict[Any, list[Record]] = {}
    for record in crm:
        left.setdefault(crm_key(record), []).append(record)
    for record in books:
        right.setdefault(books_key(record), []).append(record)
    found = []
    for key in sorted(set(left) | set(right), key=str):
        ours, theirs = left.get(key, []), right.get(key, [])
        label = str(key)
        if not ours or not theirs:
            found.append(Difference(kind, label, label, "exists", bool(ours), bool(theirs)))
            continue
        if len(ours) > 1 or len(theirs) > 1:
            found.append(Difference(kind, label, label, "count", len(ours), len(theirs)))
            continue
        for name, read_crm, read_books in fields:
            a, b = read_crm(ours[0]), read_books(theirs[0])
            if a != b:
                found.append(Difference(kind, label, label, name, a, b))
    return found


def compare_zoho_xero(
    zoho: Mapping[str, Iterable[Record]], xero: Mapping[str, Iterable[Record]]
) -> list[Difference]:
    """Invoices by the Xero invoice id (a Zoho invoice keeps it as ``Xero_Invoice_Id``; one
    never sent has ``""``): every sales invoice once on each side, the same total to the cent."""
    return _compare(
        "invoice",
        list(zoho.get("Invoices", [])),
        [i for i in xero.get("Invoices", []) if i.get("Type", "ACCREC") == "ACCREC"],
        lambda z: text(z.get("Xero_Invoice_Id")) or "",
        lambda x: text(x.get("InvoiceID")) or "",
        (("total", lambda z: money(z.get("Grand_Total")), lambda x: money(x.get("Total"))),),
    )
