"""1CRM ⇄ Xero: invoices cancelled, deleted, voided or edited and payments deleted, on either
side, keep the books balanced (2.4, 2.8, 2.9; scenarios/README.md, "Accounting rules")."""

from __future__ import annotations

from decimal import Decimal

from tests.scenarios.books import World, open_world
from tests.scenarios.users import CrmUser, LineSpec, Ref, XeroUser

LINE = LineSpec("Widget", 2, Decimal("10.00"), Decimal(15))


def synced_crm_invoice(world: World) -> tuple[CrmUser, Ref]:
    crm = CrmUser(world.library)
    crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
    ref = crm.create_invoice("Harakeke Ltd 1", [LINE], "NZD", "2026-03-31")
    assert ref is not None
    world.assert_balanced()
    return crm, ref


def xero_invoice(world: World, crm: CrmUser, ref: Ref) -> dict:
    invoice = XeroUser(world.library).invoice(ref, crm)
    assert invoice is not None
    return invoice


def test_an_invoice_cancelled_in_1crm_is_voided_in_xero():
    with open_world("xero") as world:
        crm, ref = synced_crm_invoice(world)
        assert crm.cancel_invoice(ref)
        world.assert_balanced()
        assert xero_invoice(world, crm, ref)["Status"] == "VOIDED"


def test_an_invoice_cancelled_in_1crm_before_it_was_synced_is_voided_in_xero():
    with open_world("xero") as world:
        crm = CrmUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        world.assert_balanced()
        ref = crm.create_invoice("Harakeke Ltd 1", [LINE], "NZD", "2026-03-31")
        assert ref is not None and crm.cancel_invoice(ref)
        world.assert_balanced()
        assert xero_invoice(world, crm, ref)["Status"] == "VOIDED"


def test_an_invoice_deleted_in_1crm_is_voided_in_xero():
    with open_world("xero") as world:
        crm, ref = synced_crm_invoice(world)
        invoice_id = crm.invoice(ref)["integrated_id"]
        assert crm.delete_invoice(ref)
        world.assert_balanced()
        (voided,) = [
            i for i in world.library.xero_records("Invoices") if i["InvoiceID"] == invoice_id
        ]
        assert voided["Status"] == "VOIDED"


def test_an_invoice_voided_in_xero_is_cancelled_in_1crm():
    with open_world("xero") as world:
        crm, ref = synced_crm_invoice(world)
        assert XeroUser(world.library).void_invoice(ref, crm)
        world.assert_balanced()
        assert crm.invoice(ref)["cancelled"] in ("1", 1, True)


def test_a_payment_deleted_in_1crm_is_deleted_in_xero():
    with open_world("xero") as world:
        crm, ref = synced_crm_invoice(world)
        assert crm.pay(ref, Decimal("10.00"), Decimal("10.00"), "2026-03-05")
        world.assert_balanced()
        (payment_id,) = crm.synced_payments()
        crm.delete_payment(payment_id)
        world.assert_balanced()
        (payment,) = world.library.xero_records("Payments")
        assert payment["Status"] == "DELETED"
        assert xero_invoice(world, crm, ref)["AmountDue"] == 23.0


def test_a_xero_payment_deleted_in_1crm_is_deleted_in_xero():
    with open_world("xero") as world:
        crm, ref = synced_crm_invoice(world)
        assert XeroUser(world.library).pay(ref, crm, Decimal("5.00"), "2026-03-06", "")
        world.assert_balanced()
        (payment_id,) = crm.synced_payments()
        crm.delete_payment(payment_id)
        world.assert_balanced()
        (payment,) = world.library.xero_records("Payments")
        assert payment["Status"] == "DELETED"


def test_an_invoice_edited_in_xero_is_edited_in_1crm():
    with open_world("xero") as world:
        crm, ref = synced_crm_invoice(world)
        xero = XeroUser(world.library)
        lines = [
            LineSpec("Advice", 3, Decimal("12.50"), Decimal(15), Decimal(10)),
            LineSpec("Freight", 1, Decimal("7.00"), Decimal(0)),
        ]
        assert xero.edit_invoice(ref, crm, lines, "2026-04-30")
        world.assert_balanced()
        invoice = crm.invoice(ref)
        assert invoice["due_date"] == "2026-04-30"
        assert crm.due(ref) == Decimal("45.81")
        assert len(world.library.crm_lines("Invoice", invoice["id"])) == 2


def test_a_xero_invoice_edited_after_a_1crm_payment_still_owes_the_rest():
    """1CRM's payment of the old amount is kept: the invoice owes the new total less it."""
    with open_world("xero") as world:
        crm = CrmUser(world.library)
        xero = XeroUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        world.assert_balanced()
        ref = xero.create_invoice("Harakeke Ltd 1", [LINE], "Exclusive", "2026-03-31")
        assert ref is not None
        world.assert_balanced()
        assert xero.edit_invoice(
            ref, crm, [LineSpec("Widget", 3, Decimal("10.00"), Decimal(15))], "2026-03-31"
        )
        assert crm.pay(ref, Decimal("5.00"), Decimal("5.00"), "2026-03-05")
        world.assert_balanced()
        assert crm.due(ref) == Decimal("29.50")


def test_a_xero_credit_note_allocated_to_an_invoice_reaches_1crm_as_a_credit():
    with open_world("xero") as world:
        crm, ref = synced_crm_invoice(world)
        assert XeroUser(world.library).credit(ref, crm, Decimal("8.00"), "2026-03-07")
        world.assert_balanced()
        (credit,) = world.library.crm_records("Payment")
        assert (credit["payment_type"], credit["payment_date"]) == ("Credit Note", "2026-03-07")
        assert crm.due(ref) == Decimal("15.00")
        assert world.sync() == 1  # nothing more to write: the credit is not taken twice


def test_an_invoice_edited_in_1crm_is_edited_in_xero():
    with open_world("xero") as world:
        crm, ref = synced_crm_invoice(world)
        lines = [LineSpec("Advice", 3, Decimal("12.50"), Decimal(15), Decimal(10))]
        assert crm.edit_invoice(ref, lines, "2026-04-30")
        world.assert_balanced()
        assert xero_invoice(world, crm, ref)["Total"] == 38.81  # reconcile: the due dates too
        assert world.sync() == 1  # the edit is not sent back and forth


def test_credit_given_in_1crm_reaches_xero_as_an_allocated_credit_note():
    with open_world("xero") as world:
        crm, ref = synced_crm_invoice(world)
        assert crm.credit(ref, Decimal("3.00"), "2026-03-08")
        world.assert_balanced()
        (note,) = world.library.xero_records("CreditNotes")
        assert (note["Type"], note["Total"], note["Reference"][:5]) == ("ACCRECCREDIT", 3, "1CRM ")
        assert xero_invoice(world, crm, ref)["AmountDue"] == 20
        assert world.sync() == 1  # 2.10 does not bring it back


def test_an_invoice_edited_then_voided_in_xero_is_cancelled_in_1crm_as_voided():
    """Between two polls: the lines of the edit reach 1CRM with the void."""
    with open_world("xero") as world:
        crm, ref = synced_crm_invoice(world)
        xero = XeroUser(world.library)
        lines = [LineSpec("Freight", 1, Decimal("7.00"), Decimal(0))]
        assert xero.edit_invoice(ref, crm, lines, "2026-03-31")
        assert xero.void_invoice(ref, crm)
        world.assert_balanced()
        assert crm.invoice(ref)["amount"] == "7"


def test_an_invoice_edited_then_cancelled_in_1crm_is_voided_in_xero_as_edited():
    with open_world("xero") as world:
        crm, ref = synced_crm_invoice(world)
        assert crm.edit_invoice(
            ref, [LineSpec("Freight", 1, Decimal("7.00"), Decimal(0))], "2026-03-31"
        )
        assert crm.cancel_invoice(ref)
        world.assert_balanced()
        assert xero_invoice(world, crm, ref)["Total"] == 7
