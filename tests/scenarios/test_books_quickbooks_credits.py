"""Credit both ways between 1CRM and QuickBooks Online (§3.11, §3.12), run by the whole
library against fresh sandboxes: credit given in 1CRM (a payment of type Credit Note) becomes a
QuickBooks credit memo applied to the invoice; a QuickBooks credit memo applied to an invoice
becomes a 1CRM credit; each invoice then owes the same on both sides, to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from modules.reconcile.books import money
from tests.scenarios.books import open_world
from tests.scenarios.test_books_twins import synced_invoice
from tests.scenarios.users import CrmUser, LineSpec, QuickBooksUser


def test_credit_given_in_1crm_becomes_a_quickbooks_credit_memo_applied_to_the_invoice():
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Widget", 3, Decimal("33.37"), Decimal(15))
        ref = crm.create_invoice("Harakeke Ltd 1", [line], "USD", "2026-03-31")
        world.assert_balanced()
        assert crm.credit(ref, Decimal("40.05"), "2026-03-08")
        world.assert_balanced()
        (memo,) = world.library.qbo_records("CreditMemo")
        assert (memo["TotalAmt"], memo["RemainingCredit"]) == (40.05, 0)
        assert memo["CurrencyRef"]["value"] == "USD"
        (payment,) = world.library.qbo_records("Payment")
        assert payment["TotalAmt"] == 0
        assert app.due(ref, crm) == crm.due(ref) == Decimal("115.13") - Decimal("40.05")
        (credit,) = world.library.crm_records("Payment")
        assert credit["integrated_id"] == payment["Id"]


def test_1crm_credit_over_what_the_quickbooks_invoice_owes_writes_nothing_there():
    """The QuickBooks invoice is checked before the credit memo is made: one paid in
    QuickBooks in the meantime gets no credit memo it cannot take; the credit waits (retried
    with backoff, then needing attention: a conflict for a person)."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        crm.create_customer("Kauri & Rimu 1", "k@books.example", "Nelson")
        line = LineSpec("Advice", 1, Decimal("100.00"), Decimal(0))
        ref = crm.create_invoice("Kauri & Rimu 1", [line], "NZD", "2026-03-31")
        world.assert_balanced()
        assert app.pay(ref, crm, Decimal("90.00"), "2026-03-06", "")
        assert crm.credit(ref, Decimal("50.00"), "2026-03-08")
        world.sync()
        assert world.library.qbo_records("CreditMemo") == []
        assert [prefix for prefix, *_ in world.waiting()] == ["3.11", "3.7"]


def test_a_quickbooks_credit_memo_applied_to_an_invoice_becomes_a_1crm_credit():
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        app.create_customer("Tui, Kea Ltd 1", "t@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Freight", 2, Decimal("21.15"), Decimal(15))
        ref = app.create_invoice("Tui, Kea Ltd 1", [line], "TaxInclusive", "2026-03-31")
        assert app.credit(ref, crm, Decimal("12.34"), "2026-03-07")
        world.assert_balanced()
        (credit,) = world.library.crm_records("Payment")
        assert credit["payment_type"] == "Credit Note"
        assert money(credit["amount"]) == Decimal("12.34")
        assert crm.due(ref) == app.due(ref, crm) == Decimal("42.30") - Decimal("12.34")
        # Removed in QuickBooks (the payment applying it deleted): §3.7 removes the 1CRM credit.
        for payment in app.payments():
            app.delete_payment(payment)
        world.assert_balanced()
        assert world.library.crm_records("Payment") == []
        assert crm.due(ref) == Decimal("42.30")


def test_reconcile_reads_a_payment_that_only_applies_credit_as_a_credit():
    from modules.reconcile.books import CREDIT, PAYMENT, Allocation
    from modules.reconcile.quickbooks import payments_of

    def line(txn_id, txn_type, amount):
        return {"Amount": amount, "LinkedTxn": [{"TxnId": txn_id, "TxnType": txn_type}]}

    (credit,) = payments_of(
        {
            "Id": "7",
            "TxnDate": "2026-03-07",
            "TotalAmt": 0,
            "Line": [line("3", "Invoice", 12.34), line("5", "CreditMemo", 12.34)],
        }
    )
    assert (credit.kind, credit.amount) == (CREDIT, Decimal("12.34"))
    assert credit.allocations == (Allocation("3", Decimal("12.34")),)
    mixed, _ = payments_of(
        {"Id": "8", "TotalAmt": 10, "Line": [line("3", "Invoice", 15), line("5", "CreditMemo", 5)]}
    )
    assert (mixed.kind, mixed.amount) == (PAYMENT, Decimal("10.00"))


@pytest.mark.parametrize("money_too", [Decimal(0), Decimal("4.00")])
def test_golden_a_quickbooks_credit_memo_line_edited_is_followed_in_1crm(money_too):
    """A payment that applies 7.00 of a credit memo (alone, or with 4.00 of money) edited in
    QuickBooks to apply 5.00 of it: the invoice owes 2.00 more, the memo has 2.00 free again.
    3.12 follows it as 3.7 follows a line of money edited: the 1CRM credit (a payment of type
    Credit Note) becomes 5.00, allocated again; the money stays 4.00. Before: 3.12's *Payment
    updated* route only deleted a credit taken back, and 1CRM kept 7.00."""
    with open_world("quickbooks") as world:
        crm, ref = synced_invoice(world)  # 23.00
        app = QuickBooksUser(world.library)
        world.assert_balanced()
        assert app.credit(ref, crm, Decimal("7.00"), "2026-03-07", money_too=money_too)
        world.assert_balanced()
        assert crm.due(ref) == Decimal("16.00") - money_too
        (payment,) = app.payments()
        assert app.edit_credit(payment, Decimal("5.00")) == Decimal("7.00")
        world.assert_balanced()
        assert crm.due(ref) == app.due(ref, crm) == Decimal("18.00") - money_too
        credits = [
            p for p in world.library.crm_records("Payment") if p["payment_type"] == "Credit Note"
        ]
        assert [money(c["amount"]) for c in credits] == [Decimal("5.00")]
        (memo,) = world.library.qbo_records("CreditMemo")
        assert money(memo["RemainingCredit"]) == Decimal("2.00")
