"""A 1CRM record deleted between the accounting write and its Integrated-ID write-back
(scenarios/README.md, "Deleted before the write-back"): the record made in Xero or
QuickBooks has no 1CRM twin to link to, and the deletion scenarios (2.8, 2.9, 3.8, 3.9)
cannot find it (the id was never written). The write-back's error route undoes the write,
as those scenarios would have: nothing is left open on one side only.

Each test makes 1CRM refuse the write-back once (500: it waits, Break), then the person
deletes the 1CRM record; the write-back's retry finds it gone (404)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.scenarios.books import World, open_world
from tests.scenarios.users import CrmUser, LineSpec, QuickBooksUser, Ref, XeroUser

LINE = LineSpec("Widget", 2, Decimal("10.00"), Decimal(15))  # 23.00
WRITE_BACK = {"xero": "2.3", "quickbooks": "3.3"}
PAYMENT_WRITE_BACK = {"xero": "2.6", "quickbooks": "3.6"}


def refuse_the_write_back(world: World, model: str) -> None:
    """1CRM answers the next update of a ``model`` record with 500 (it did nothing)."""
    world.library.onecrm.fault(status=500, method="PATCH", path_prefix=f"/api.php/data/{model}/")


def synced_invoice(world: World) -> tuple[CrmUser, Ref]:
    crm = CrmUser(world.library)
    crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
    world.assert_balanced()
    ref = crm.create_invoice("Harakeke Ltd 1", [LINE], "NZD", "2026-03-31")
    assert ref is not None
    return crm, ref


def accounting_invoices(world: World) -> list[dict]:
    if world.name == "xero":
        return world.library.xero_records("Invoices")
    return world.library.qbo_records("Invoice")


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_an_invoice_deleted_in_1crm_before_its_write_back_is_voided_where_it_was_made(library):
    """2.3 / 3.3 create the invoice, the write-back waits, the 1CRM invoice is deleted (2.8 /
    3.9 find no twin to void). Before: the write-back waited on a 404 until it needed
    attention and the invoice stayed open, owing 23.00, with no 1CRM twin."""
    with open_world(library) as world:
        crm, ref = synced_invoice(world)
        refuse_the_write_back(world, "Invoice")
        world.run_scenarios()
        [made] = accounting_invoices(world)
        assert [w[0] for w in world.waiting()] == [WRITE_BACK[library]]
        assert crm.delete_invoice(ref)
        world.assert_balanced()
        [invoice] = accounting_invoices(world)
        if library == "xero":
            assert invoice["Status"] == "VOIDED"
        else:
            assert invoice["Id"] == made["Id"] and invoice["PrivateNote"].startswith("Voided")
            assert Decimal(str(invoice["Balance"])) == 0
        assert world.library.crm_records("Invoice") == []


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_a_payment_deleted_in_1crm_before_its_write_back_is_deleted_where_it_was_made(library):
    """2.6 / 3.6 create the payment, the write-back waits, the 1CRM payment is deleted (2.9 /
    3.8 find no twin). Before: the accounting invoice stayed paid (owing 13.00) while 1CRM's
    owed 23.00."""
    with open_world(library) as world:
        crm, ref = synced_invoice(world)
        world.assert_balanced()
        assert crm.pay(ref, Decimal("10.00"), Decimal("10.00"), "2026-03-05")
        refuse_the_write_back(world, "Payment")
        world.run_scenarios()
        assert [w[0] for w in world.waiting()] == [PAYMENT_WRITE_BACK[library]]
        [payment] = crm.payments_on(ref)
        crm.delete_payment(payment)
        world.assert_balanced()
        app = XeroUser(world.library) if library == "xero" else QuickBooksUser(world.library)
        assert crm.due(ref) == app.due(ref, crm) == Decimal("23.00")


def test_a_credit_deleted_in_1crm_before_its_write_back_is_taken_back_in_xero():
    """2.6's credit route makes a credit note and allocates it; the write-back waits and the
    1CRM credit is deleted. The allocation is deleted and the credit note voided, as 2.9
    does for a synced credit. Before: Xero owed 20.00, 1CRM 23.00."""
    with open_world("xero") as world:
        crm, ref = synced_invoice(world)
        world.assert_balanced()
        assert crm.credit(ref, Decimal("3.00"), "2026-03-08")
        refuse_the_write_back(world, "Payment")
        world.run_scenarios()
        assert [w[0] for w in world.waiting()] == ["2.6"]
        [credit] = crm.payments_on(ref)
        crm.delete_payment(credit)
        world.assert_balanced()
        app = XeroUser(world.library)
        assert crm.due(ref) == app.due(ref, crm) == Decimal("23.00")
        [note] = world.library.xero_records("CreditNotes")
        assert note["Status"] == "VOIDED"
