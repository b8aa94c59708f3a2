"""Issue #20: a 1CRM payment allocated to several invoices (§2.6, §3.6), and payments edited
after they were synced, in either direction (§3.7)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.scenarios.books import World, open_world
from tests.scenarios.users import CrmUser, LineSpec, QuickBooksUser, Ref, XeroUser

PAYMENT_SCENARIO = {"xero": "2.6", "quickbooks": "3.6"}
LINE = LineSpec("Advice", 2, Decimal("20.00"), Decimal(15))  # 46.00


def user_of(world: World) -> XeroUser | QuickBooksUser:
    if world.name == "xero":
        return XeroUser(world.library)
    return QuickBooksUser(world.library)


def synced_invoice_and_a_new_one(world: World, crm: CrmUser) -> tuple[Ref, Ref]:
    """Two 46.00 invoices of one customer: the first synced, the second only made in 1CRM
    (no scenario has seen it yet)."""
    crm.create_customer("Rata Ltd 1", "r@books.example", "Napier")
    synced = crm.create_invoice("Rata Ltd 1", [LINE], "NZD", "2026-03-31")
    assert synced is not None
    world.assert_balanced()
    new = crm.create_invoice("Rata Ltd 1", [LINE], "NZD", "2026-03-31")
    assert new is not None
    return synced, new


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_golden_a_1crm_payment_over_two_invoices_waits_for_the_second(library):
    """One 1CRM payment of 50.00: 20.00 to a synced invoice, 30.00 to one whose own sync has
    not written its Integrated ID back yet (the payment's webhook handled first). §3.6 waited
    only for the first invoice and sent the second line without its QuickBooks invoice:
    QuickBooks refused the payment, it needed attention and 1CRM owed 26.00 and 16.00 while
    QuickBooks owed 46.00 twice. Each allocation now waits until its invoice is synced and
    goes as its own line (§3.6) or its own Xero payment (§2.6)."""
    with open_world(library) as world:
        crm, app = CrmUser(world.library), user_of(world)
        first, second = synced_invoice_and_a_new_one(world, crm)
        shares = [(first, Decimal("20.00")), (second, Decimal("30.00"))]
        assert crm.pay_invoices(shares, Decimal("50.00"), "2026-03-05")
        world.run_scenarios(first=(PAYMENT_SCENARIO[library],))  # the invoice's webhook late
        assert [w[0] for w in world.waiting()] == [PAYMENT_SCENARIO[library]]
        world.assert_balanced()
        assert crm.due(first) == app.due(first, crm) == Decimal("26.00")
        assert crm.due(second) == app.due(second, crm) == Decimal("16.00")


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_golden_a_1crm_payment_over_two_synced_invoices_pays_each_its_share(library):
    """One 1CRM payment of 50.00 over two synced 115.00 invoices, 20.00 and 30.00. §2.6 ran
    once per invoice and paid each the whole 50.00 in Xero (Xero owed 65.00 and 65.00, 1CRM
    95.00 and 85.00), writing the second Xero payment's id over the first. Each invoice now
    gets its own Xero payment of its share, and the 1CRM payment's Integrated ID names both
    (§2.7 brings neither back; deleting the 1CRM payment deletes both: §2.9)."""
    with open_world(library) as world:
        crm, app = CrmUser(world.library), user_of(world)
        crm.create_customer("Rata Ltd 1", "r@books.example", "Napier")
        line = LineSpec("Advice", 5, Decimal("20.00"), Decimal(15))  # 115.00
        refs = [crm.create_invoice("Rata Ltd 1", [line], "NZD", "2026-03-31") for _ in range(2)]
        first, second = [ref for ref in refs if ref is not None]
        world.assert_balanced()
        shares = [(first, Decimal("20.00")), (second, Decimal("30.00"))]
        payment = crm.pay_invoices(shares, Decimal("50.00"), "2026-03-05")
        assert payment is not None
        world.assert_balanced()
        assert crm.due(first) == app.due(first, crm) == Decimal("95.00")
        assert crm.due(second) == app.due(second, crm) == Decimal("85.00")
        crm.delete_payment(payment)
        world.assert_balanced()
        assert crm.due(first) == app.due(first, crm) == Decimal("115.00")
        assert crm.due(second) == app.due(second, crm) == Decimal("115.00")
