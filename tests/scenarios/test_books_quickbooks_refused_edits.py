"""§3.10 refused, then §3.4 runs (scenarios/README.md, "Paid invoices changed", *A 1CRM edit
waiting for QuickBooks*): a 1CRM edit QuickBooks refused (its total below what is paid and
credited on the invoice: "The invoice total is less than the payments applied to it.") waits
for QuickBooks; a QuickBooks event for that invoice in the meantime — a payment applied or
deleted updates the invoice — must not make §3.4 take QuickBooks' older content for a
QuickBooks edit and write it over the 1CRM edit. 3.10 notes the waiting edit in the data store
`quickbooks-invoice-edits-waiting` and 3.4's *Edited in QuickBooks* route leaves such an
invoice to 3.10, as 2.11 and 2.4 do for Xero (`test_books_xero_refused_edits.py`)."""

from __future__ import annotations

from decimal import Decimal

from engine.store import IncompleteStatus
from modules.reconcile.books import money
from tests.scenarios.books import World, open_world
from tests.scenarios.test_books_quickbooks_paid import paid_and_credited
from tests.scenarios.users import CrmUser, LineSpec, QuickBooksUser, Ref

BELOW_PAID = [LineSpec("Freight", 1, Decimal("12.00"), Decimal(0))]
"""12.00: below the 20.00 paid and credited on the invoice (QuickBooks refuses it), above the
10.00 left once the QuickBooks payment of 10.00 is deleted."""

QUICKBOOKS_EDIT = [LineSpec("Audit", 1, Decimal("40.00"), Decimal(15))]  # 46.00


def refused(world: World) -> None:
    """The 1CRM edit waits: 3.10's update refused by QuickBooks as the vendor does."""
    [(scenario, _, error, _)] = world.waiting()
    assert scenario == "3.10"
    assert "less than the payments applied" in str(error)


def the_quickbooks_payment(world: World) -> str:
    """The QuickBooks payment of money (10.00) on the invoice."""
    payments = world.library.qbo_records("Payment")
    (payment,) = [p["Id"] for p in payments if Decimal(str(p["TotalAmt"])) == Decimal("10.00")]
    return payment


def the_edit_is_in_both(world: World, crm: CrmUser, app: QuickBooksUser, ref: Ref) -> None:
    """Both invoices are the 1CRM edit: 12.00."""
    invoice, twin = crm.invoice(ref), app.invoice(ref, crm)
    assert invoice is not None and twin is not None
    assert money(invoice["amount"]) == money(twin["TotalAmt"]) == Decimal("12.00")


def a_later_quickbooks_edit_reaches_1crm(
    world: World, crm: CrmUser, app: QuickBooksUser, ref: Ref, paid: Decimal
) -> None:
    """Once the 1CRM edit is in QuickBooks its note is gone: 3.4 takes QuickBooks edits again
    (46.00 less what is still ``paid`` and credited)."""
    assert app.edit_invoice(ref, crm, QUICKBOOKS_EDIT, "2026-05-31")
    world.assert_balanced()
    assert crm.due(ref) == app.due(ref, crm) == Decimal("46.00") - paid


def test_golden_a_1crm_edit_refused_survives_the_payment_deleted_in_quickbooks():
    """The person edits a paid invoice in 1CRM below what was paid; QuickBooks refuses it and
    it waits. They delete the QuickBooks payment of 10.00, as the refusal asks: QuickBooks
    updates the invoice (its balance), 3.4 runs. Before: 3.4 found QuickBooks' 46.00 unlike
    1CRM's 10.00 and wrote QuickBooks' old lines over the edit; 3.10's retry then found
    nothing to send (both owed 36.00, the edit lost)."""
    with open_world("quickbooks") as world:
        crm, app, ref = paid_and_credited(world, "crm")
        assert crm.edit_invoice(ref, BELOW_PAID, "2026-04-30")
        world.run_scenarios()
        refused(world)
        app.delete_payment(the_quickbooks_payment(world))
        world.assert_balanced()
        the_edit_is_in_both(world, crm, app, ref)
        assert crm.due(ref) == app.due(ref, crm) == Decimal("2.00")
        a_later_quickbooks_edit_reaches_1crm(world, crm, app, ref, Decimal("10.00"))


def test_golden_a_1crm_edit_refused_until_its_retries_run_out_survives_a_quickbooks_payment():
    """The same edit refused at every retry (needs attention). Meanwhile a payment of 1.00 is
    applied in QuickBooks (the invoice is updated: 3.4 runs), then the person deletes the
    payment of 10.00 there. Before: 3.4 wrote QuickBooks' old lines over the 1CRM edit at the
    first of those QuickBooks events."""
    with open_world("quickbooks") as world:
        crm, app, ref = paid_and_credited(world, "crm")
        assert crm.edit_invoice(ref, BELOW_PAID, "2026-04-30")
        world.run_scenarios()
        for _ in range(9):  # every attempt the Break allows, refused
            world.retry_waiting()
        refused(world)
        [(_, _, _, attempts)] = world.waiting()
        assert attempts == 8  # spent: it needs attention
        received = the_quickbooks_payment(world)
        assert app.pay(ref, crm, Decimal("1.00"), "2026-04-02", "")
        world.run_scenarios()
        still = crm.invoice(ref)
        assert still is not None and money(still["amount"]) == Decimal("12.00")
        app.delete_payment(received)
        world.sync()
        # 3.7's deletion of the 1CRM payment changed the invoice: 3.10's next run sent the
        # edit. The spent retry still asks for attention; the person resolves it.
        service = world.library.service
        for waiting in service.list_incomplete(status=IncompleteStatus.PENDING):
            service.resolve_incomplete(waiting.id)
        world.assert_balanced()
        the_edit_is_in_both(world, crm, app, ref)
        assert crm.due(ref) == app.due(ref, crm) == Decimal("1.00")
        a_later_quickbooks_edit_reaches_1crm(world, crm, app, ref, Decimal("11.00"))


def test_golden_a_1crm_edit_with_a_rate_quickbooks_lacks_survives_a_quickbooks_payment():
    """Any refusal of 3.10's update keeps the edit waiting, not only a total below the
    payments: a 1CRM line taxed at 12.5 %, a rate the company has no tax code for, is refused
    ("Make sure all your transactions have a GST rate before you save."). A payment applied in
    QuickBooks meanwhile updates the invoice there. Before: 3.4 wrote QuickBooks' old lines over
    the 1CRM edit; now 1CRM keeps it until the person gives the line a rate QuickBooks has."""
    with open_world("quickbooks") as world:
        crm, app, ref = paid_and_credited(world, "crm")
        odd = [LineSpec("Freight", 2, Decimal("20.00"), Decimal("12.5"))]  # 45.00
        assert crm.edit_invoice(ref, odd, "2026-04-30")
        world.run_scenarios()
        [(scenario, _, error, _)] = world.waiting()
        assert scenario == "3.10" and "rate before you save" in str(error)
        assert app.pay(ref, crm, Decimal("1.00"), "2026-04-02", "")
        world.run_scenarios()
        world.run_scenarios()
        invoice = crm.invoice(ref)
        assert invoice is not None and money(invoice["amount"]) == Decimal("45.00")
        fixed = [LineSpec("Freight", 2, Decimal("20.00"), Decimal(15))]  # 46.00
        assert crm.edit_invoice(ref, fixed, "2026-04-30")
        world.sync()
        service = world.library.service  # the first, refused edit asks for attention
        for waiting in service.list_incomplete(status=IncompleteStatus.PENDING):
            service.resolve_incomplete(waiting.id)
        world.assert_balanced()
        assert crm.due(ref) == app.due(ref, crm) == Decimal("25.00")
        a_later_quickbooks_edit_reaches_1crm(world, crm, app, ref, Decimal("21.00"))
