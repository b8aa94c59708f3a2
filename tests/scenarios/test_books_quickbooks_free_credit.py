"""QuickBooks free credit (issue #20): what a credit memo or a payment applies to no invoice.

Reconcile compares each customer's free credit per currency on both sides — a credit memo's
``RemainingCredit`` and a payment's ``UnappliedAmt`` against 1CRM credit and payments on no
invoice — and lists a difference as *known*: the library syncs credit as it is applied to an
invoice, not the customer's free credit (scenarios/README.md, *Unallocated credit*).
"""

from __future__ import annotations

from decimal import Decimal

from modules.reconcile.books import CREDIT, PAYMENT, Books, Credit, Payment
from modules.reconcile.compare import compare, unexplained
from tests.scenarios.books import open_world
from tests.scenarios.users import CrmUser, LineSpec, QuickBooksUser

LINE = LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))


def test_quickbooks_free_credit_and_unapplied_money_are_compared_and_known():
    """Pure: credit memos' remaining credit and payments' unapplied money, summed per customer
    and currency, against 1CRM's; a 1CRM credit is what it allocates."""
    half = Payment("5", "PMT-2", CREDIT, "2026-03-08", Decimal("4.00"), ())
    crm = Books(
        payments=[half],  # 1CRM credit of 4.00 on no invoice: free credit alone
        credits=[
            Credit("Harakeke Ltd", "NZD", Decimal("4.00"), "PMT-2"),
            Credit("Harakeke Ltd", "NZD", Decimal("3.00"), "PMT-1", PAYMENT),
        ],
    )
    quickbooks = Books(
        credits=[
            Credit("Harakeke Ltd", "NZD", Decimal("3.00"), "1001"),
            Credit("Harakeke Ltd", "NZD", Decimal("3.00"), "7", PAYMENT),
        ]
    )
    found = compare("quickbooks", crm, quickbooks)
    assert [(d.kind, d.field, d.crm, d.accounting) for d in found] == [
        ("credit", "unallocated NZD", Decimal("7.00"), Decimal("6.00"))
    ]
    assert all(d.known for d in found) and unexplained(found) == []


def test_golden_credit_applied_in_part_on_both_sides_leaves_free_credit_known():
    """A QuickBooks credit memo of 6.00 applied 2.50 to the invoice and a 1CRM credit of 4.00
    allocating 2.00 to it: the invoice owes 41.50 on both sides, and each side's free credit
    (QuickBooks 3.50, 1CRM 2.00) is a known difference. Before, reconcile read no QuickBooks
    credit memo and compared the 1CRM credit's 4.00 with the 2.00 §3.11 applied: an
    unexplained payment difference."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        world.assert_balanced()
        ref = crm.create_invoice("Harakeke Ltd 1", [LINE], "NZD", "2026-03-31")
        world.assert_balanced()
        assert app.credit(ref, crm, Decimal("6.00"), "2026-03-07", Decimal("2.50"))
        assert crm.credit(ref, Decimal("4.00"), "2026-03-08", Decimal("2.00"))
        world.assert_balanced()
        assert crm.due(ref) == app.due(ref, crm) == Decimal("41.50")
        found = [(d.kind, d.field, d.crm, d.accounting, bool(d.known)) for d in world.differences()]
        assert found == [("credit", "unallocated NZD", Decimal("2.00"), Decimal("3.50"), True)]


def test_golden_money_left_unapplied_by_a_voided_invoice_balances():
    """A QuickBooks payment whose invoice is voided keeps its money unapplied (``UnappliedAmt``)
    and 1CRM keeps the payment on no invoice (§3.7 unlinks it): the same free money on both
    sides, no difference; a credit memo applied to that invoice is free credit again in
    QuickBooks and taken back in 1CRM (§3.12): a known difference."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        world.assert_balanced()
        ref = crm.create_invoice("Harakeke Ltd 1", [LINE], "NZD", "2026-03-31")
        world.assert_balanced()
        assert app.pay(ref, crm, Decimal("10.00"), "2026-03-06", "")
        assert app.credit(ref, crm, Decimal("5.00"), "2026-03-07")
        world.assert_balanced()
        assert app.void_invoice(ref, crm)
        world.assert_balanced()
        found = [(d.kind, d.field, d.crm, d.accounting, bool(d.known)) for d in world.differences()]
        assert found == [("credit", "unallocated NZD", Decimal("10.00"), Decimal("15.00"), True)]


def test_golden_a_1crm_over_payment_in_usd_stays_usd_in_quickbooks():
    """A 1CRM payment of 30.00 USD of which 20.00 pays a USD invoice: §3.6 sent no currency,
    so QuickBooks kept the payment in its home currency (NZD) and its 10.00 unapplied showed
    as NZD free money against 1CRM's USD. It now sends the payment's currency."""
    with open_world("quickbooks") as world:
        crm = CrmUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        world.assert_balanced()
        ref = crm.create_invoice("Harakeke Ltd 1", [LINE], "USD", "2026-03-31")
        world.assert_balanced()
        assert crm.pay(ref, Decimal("20.00"), Decimal("30.00"), "2026-03-05")
        world.assert_balanced()
        (payment,) = world.library.qbo_records("Payment")
        assert (payment["CurrencyRef"]["value"], payment["UnappliedAmt"]) == ("USD", 10.0)
        assert world.differences() == []
