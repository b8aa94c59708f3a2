"""Reconciliation: 1CRM's books and an accounting system's, compared record by record.

Two steps, kept apart so that each can be used alone:

1. **Fetch** one side through its connector into ``Books`` (``books.py``): customers, invoices
   with their lines and totals, payments with their allocations, in one vocabulary —
   ``fetch_onecrm``, ``fetch_xero``, ``fetch_quickbooks``, each ``(connection, session,
   sleep)`` where ``connection`` is the stored connection's data (as modules receive it),
   ``session`` a ``requests.Session`` and ``sleep`` how the client waits out a rate limit
   (``time.sleep``; a test's clock skips the wait).
2. **Compare** them: ``compare(library, crm_side, accounting_side)`` → every ``Difference``
   (record, field, both values), ``library`` being ``xero`` or ``quickbooks``. Pure: no I/O.

The randomized end-to-end test (``tests/scenarios/test_books_balance.py``) and
``switchboard reconcile`` both call these. ``fetch`` reads one side for a library::

    crm = fetch("onecrm", onecrm_connection, session)
    accounting = fetch("xero", xero_connection, session)
    for difference in compare("xero", crm, accounting):
        print(difference)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from modules.reconcile.books import Books
from modules.reconcile.compare import RULES, Difference, compare
from modules.reconcile.onecrm import fetch_onecrm
from modules.reconcile.quickbooks import fetch_quickbooks
from modules.reconcile.xero import fetch_xero

FETCHERS: dict[str, Callable[[Mapping[str, Any], Any, Callable[[float], None]], Books]] = {
    "onecrm": fetch_onecrm,
    "xero": fetch_xero,
    "quickbooks": fetch_quickbooks,
}
LIBRARIES = tuple(RULES)
"""The library pairs that can be compared: 1CRM with each of these."""


def fetch(
    app: str,
    connection: Mapping[str, Any],
    session: Any,
    sleep: Callable[[float], None] = time.sleep,
) -> Books:
    """One side's books (``app``: ``onecrm``, ``xero`` or ``quickbooks``); ``sleep`` is how
    its client waits out a rate limit.

    Raises:
        KeyError: an unknown app.
        ModuleError: the app could not be read.
    """
    return FETCHERS[app](connection, session, sleep)


class BooksReconciler:
    """``fetch`` and ``compare`` as the registry's ``Reconciler`` (``engine.registry``), which
    the service's ``reconcile`` uses without importing this package."""

    libraries = LIBRARIES

    def fetch(self, app: str, connection: Mapping[str, Any], session: Any) -> Books:
        return fetch(app, connection, session)

    def compare(self, library: str, crm: Books, accounting: Books) -> list[Difference]:
        return list(compare(library, crm, accounting))


__all__ = ["LIBRARIES", "Books", "BooksReconciler", "Difference", "compare", "fetch"]
