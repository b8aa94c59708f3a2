"""Paid and credited invoices taken back or changed, and credit memos deleted, between 1CRM and
QuickBooks Online, run by the whole library against fresh sandboxes (scenarios/README.md,
"Paid invoices").

QuickBooks keeps a payment whose invoice is voided or deleted — "the payment stays on your
books … but the payment no longer has an offsetting invoice" — with its money unapplied, and a
credit memo applied to that invoice has its credit free again; a credit memo deleted takes its
credit off the invoice. 1CRM follows: its payment stays, unapplied (3.7 removes its link to the
invoice), and its credit goes (3.12). A paid 1CRM invoice cancelled or deleted is voided in
QuickBooks by 3.9, and the same follows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest

from modules.reconcile.books import money
from tests.scenarios.books import World, open_world
from tests.scenarios.users import CrmUser, LineSpec, QuickBooksUser

LINE = LineSpec("Advice", 2, Decimal("20.00"), Decimal(15))
"""An invoice of 46.00."""


def paid_and_credited(world, side: str):
    """An invoice of 46.00 made on ``side``, paid 10.00 in QuickBooks and 5.00 in 1CRM and
    credited 3.00 in QuickBooks and 2.00 in 1CRM, synced."""
    crm, app = CrmUser(world.library), QuickBooksUser(world.library)
    app.create_customer("Tui, Kea Ltd 1", "t@books.example", "Napier")
    if side == "app":
        ref = app.create_invoice("Tui, Kea Ltd 1", [LINE], "TaxExcluded", "2026-03-31")
    else:
        world.assert_balanced()
        ref = crm.create_invoice("Tui, Kea Ltd 1", [LINE], "NZD", "2026-03-31")
    world.assert_balanced()
    assert app.pay(ref, crm, Decimal("10.00"), "2026-03-06", "")
    assert crm.pay(ref, Decimal("5.00"), Decimal("5.00"), "2026-03-05")
    assert app.credit(ref, crm, Decimal("3.00"), "2026-03-07")
    assert crm.credit(ref, Decimal("2.00"), "2026-03-08")
    world.assert_balanced()
    assert crm.due(ref) == app.due(ref, crm) == Decimal("26.00")
    return crm, app, ref


def kept_unapplied(world) -> None:
    """Both payments stay, with their money and nothing applied; no credit is left."""
    payments = world.library.crm_records("Payment")
    assert sorted(money(p["amount"]) for p in payments) == [Decimal("5.00"), Decimal("10.00")]
    assert "Credit Note" not in {p["payment_type"] for p in payments}
    assert world.library.crm_records("invoices_payments") == []
    unapplied = sorted(
        (money(p["TotalAmt"]), money(p["UnappliedAmt"]))
        for p in world.library.qbo_records("Payment")
        if p["TotalAmt"]
    )
    assert unapplied == [(Decimal("5.00"), Decimal("5.00")), (Decimal("10.00"), Decimal("10.00"))]
    assert {money(m["RemainingCredit"]) for m in world.library.qbo_records("CreditMemo")} == {
        Decimal("3.00"),
        Decimal("2.00"),
    }


@pytest.mark.parametrize("operation", ["void", "delete"])
def test_a_paid_and_credited_quickbooks_invoice_voided_or_deleted(operation):
    """On main 1CRM kept both payments allocated to the cancelled (or deleted) invoice and its
    credits ("payment 1: allocations: 1CRM [('1', Decimal('10.00'))] ≠ []")."""
    with open_world("quickbooks") as world:
        crm, app, ref = paid_and_credited(world, "app")
        if operation == "void":
            assert app.void_invoice(ref, crm)
        else:
            assert app.delete_invoice(ref, crm)
        world.assert_balanced()
        kept_unapplied(world)


@pytest.mark.parametrize("operation", ["cancel", "delete"])
def test_a_paid_and_credited_1crm_invoice_cancelled_or_deleted(operation):
    """The accountant's rule for 1CRM: a paid invoice cancelled or deleted is voided in
    QuickBooks (3.9); the money received stays the customer's, unapplied, on both sides, and
    credit given on it is taken back."""
    with open_world("quickbooks") as world:
        crm, _, ref = paid_and_credited(world, "crm")
        if operation == "cancel":
            assert crm.cancel_invoice(ref)
        else:
            assert crm.delete_invoice(ref)
        world.assert_balanced()
        kept_unapplied(world)
        (invoice,) = world.library.qbo_records("Invoice")
        assert str(invoice["PrivateNote"]).startswith("Voided")


def test_a_quickbooks_credit_memo_deleted_takes_its_credit_back_in_1crm():
    """On main the sandbox kept the deleted memo's applications, so the invoice stayed
    credited; once QuickBooks takes the credit back, 1CRM kept it (3.12 took only new
    payments)."""
    with credit_taken_back(QuickBooksUser.delete_credit_memo):
        pass  # what is checked is the credit taken back: credit_taken_back's own asserts


def test_golden_a_quickbooks_credit_memo_voided_in_its_screens_takes_its_credit_back_in_1crm():
    """QuickBooks voids a credit memo in its screens only (the API has no void for one):
    the memo stays with every amount zero and "Voided" before its memo, the payments that
    applied it apply it no more. 3.12 takes the credit back in 1CRM, as for a deleted memo;
    the voided memos hold no free credit. On main the sandbox could not void a credit memo."""
    with credit_taken_back(QuickBooksUser.void_credit_memo) as world:
        memos = world.library.qbo_records("CreditMemo")
        assert [(m["TotalAmt"], m["RemainingCredit"]) for m in memos] == [(0.0, 0.0)] * 3
        assert all(str(m["PrivateNote"]).startswith("Voided") for m in memos)
        assert world.differences() == []


@pytest.mark.parametrize("side", ["crm", "app"])
def test_a_paid_invoice_edited_still_owes_its_new_total_less_what_was_paid(side):
    """Edited on either side to a total that still covers what was paid and credited on it:
    both owe the new total less that (QuickBooks refuses a total below the payments)."""
    with open_world("quickbooks") as world:
        crm, app, ref = paid_and_credited(world, "app" if side == "crm" else "crm")
        lines = [LineSpec("Freight", 3, Decimal("10.00"), Decimal(0))]
        if side == "crm":
            assert crm.edit_invoice(ref, lines, "2026-04-30")
        else:
            assert app.edit_invoice(ref, crm, lines, "2026-04-30")
        world.assert_balanced()
        assert crm.due(ref) == app.due(ref, crm) == Decimal("10.00")


@contextmanager
def credit_taken_back(take_back: Callable[[QuickBooksUser, str], bool]) -> Iterator[World]:
    """An invoice credited twice in QuickBooks (once with money too) and once in 1CRM, then
    every credit memo taken back with ``take_back``: both sides owe the whole 42.00 again and
    the money stays a 1CRM receipt of 4.00."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        ref = crm.create_invoice("Harakeke Ltd 1", [LINE], "NZD", "2026-03-31")
        world.assert_balanced()
        assert app.credit(ref, crm, Decimal("7.00"), "2026-03-07")
        assert app.credit(ref, crm, Decimal("2.50"), "2026-03-07", money_too=Decimal("4.00"))
        assert crm.credit(ref, Decimal("5.00"), "2026-03-08")
        world.assert_balanced()
        assert crm.due(ref) == Decimal("27.50")
        for memo in world.library.qbo_records("CreditMemo"):
            assert take_back(app, memo["Id"])
        world.assert_balanced()
        assert crm.due(ref) == app.due(ref, crm) == Decimal("42.00")
        (payment,) = world.library.crm_records("Payment")
        assert (payment["payment_type"], money(payment["amount"])) == ("Receipt", Decimal("4.00"))
        yield world


def test_golden_a_link_unapplied_already_when_3_7_retries_is_done():
    """QuickBooks voids a paid invoice and unapplies its payment; 3.7's *Payment updated*
    route deletes the 1CRM link, but 1CRM fails that call (500) and the record waits to
    retry. Before the retry the link is gone (another run, or a person, unapplied it). Before:
    the retry got '1CRM: Not found' and Broke again at every attempt, until the record needed
    attention; a link gone is what the module was there to do (Ignore on 404)."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        app.create_customer("Tui, Kea Ltd 1", "t@books.example", "Napier")
        world.assert_balanced()
        ref = crm.create_invoice("Tui, Kea Ltd 1", [LINE], "NZD", "2026-03-31")
        world.assert_balanced()
        assert app.pay(ref, crm, Decimal("10.00"), "2026-03-06", "")
        world.assert_balanced()
        onecrm = world.library.onecrm
        onecrm.fault(status=500, method="DELETE", path_prefix="/api.php/data/invoices_payments")
        assert app.void_invoice(ref, crm)
        world.run_scenarios()
        assert [w[0] for w in world.waiting()] == ["3.7"]
        onecrm.control("faults", method="DELETE")
        # The sandbox's 500 came after the link was gone (1CRM's answer lost, as under load);
        # a link still there is unapplied by a person, as another run would.
        for link in world.library.crm_records("invoices_payments"):
            world.library.crm("DELETE", f"invoices_payments/{link['id']}")
        world.assert_balanced()
        assert world.library.crm_records("invoices_payments") == []
        (payment,) = world.library.crm_records("Payment")
        assert money(payment["amount"]) == Decimal("10.00")
