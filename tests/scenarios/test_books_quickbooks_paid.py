"""Paid invoices and applied credit taken back in QuickBooks Online, run by the whole library
against fresh sandboxes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.scenarios.books import open_world
from tests.scenarios.users import CrmUser, LineSpec, QuickBooksUser


@pytest.mark.parametrize("operation", ["void", "delete"])
def test_a_paid_quickbooks_invoice_voided_or_deleted(operation):
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        app.create_customer("Tui, Kea Ltd 1", "t@books.example", "Napier")
        line = LineSpec("Advice", 2, Decimal("20.00"), Decimal(15))
        ref = app.create_invoice("Tui, Kea Ltd 1", [line], "TaxExcluded", "2026-03-31")
        world.assert_balanced()
        assert app.pay(ref, crm, Decimal("10.00"), "2026-03-06", "")
        assert crm.pay(ref, Decimal("5.00"), Decimal("5.00"), "2026-03-05")
        assert app.credit(ref, crm, Decimal("3.00"), "2026-03-07")
        world.assert_balanced()
        if operation == "void":
            assert app.void_invoice(ref, crm)
        else:
            assert app.delete_invoice(ref, crm)
        world.assert_balanced()


def test_a_quickbooks_credit_memo_deleted():
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        line = LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))
        ref = crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "2026-03-31")
        world.assert_balanced()
        assert app.credit(ref, crm, Decimal("7.00"), "2026-03-07")
        assert app.credit(ref, crm, Decimal("2.50"), "2026-03-07", money_too=Decimal("4.00"))
        assert crm.credit(ref, Decimal("5.00"), "2026-03-08")
        world.assert_balanced()
        for memo in world.library.qbo_records("CreditMemo"):
            world.library.qbo_api(
                "POST", "creditmemo?operation=delete", {"Id": memo["Id"], "SyncToken": memo["SyncToken"]}
            )
        world.assert_balanced()
        assert crm.due(ref) == app.due(ref, crm) == Decimal("42.00")
