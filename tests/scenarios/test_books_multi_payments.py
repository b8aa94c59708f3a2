"""Issue #20: a 1CRM payment allocated to several invoices (§2.6, §3.6), and payments edited
after they were synced, in either direction (§3.7)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from modules.reconcile.books import money
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


def two_synced_invoices(world: World, crm: CrmUser) -> tuple[Ref, Ref]:
    """Two synced 115.00 invoices of one customer."""
    crm.create_customer("Rata Ltd 1", "r@books.example", "Napier")
    line = LineSpec("Advice", 5, Decimal("20.00"), Decimal(15))  # 115.00
    refs = [crm.create_invoice("Rata Ltd 1", [line], "NZD", "2026-03-31") for _ in range(2)]
    first, second = [ref for ref in refs if ref is not None]
    world.assert_balanced()
    return first, second


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
        first, second = two_synced_invoices(world, crm)
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


def two_paid_invoices(world: World, crm: CrmUser, app: QuickBooksUser, paid_in: str) -> list[Ref]:
    """Two synced 115.00 invoices paid by one payment, 20.00 and 30.00 (50.00 received), in
    QuickBooks or in 1CRM, synced."""
    first, second = two_synced_invoices(world, crm)
    if paid_in == "app":
        qbo_pay_invoices(app, crm, [(first, Decimal("20.00")), (second, Decimal("30.00"))])
    else:
        shares = [(first, Decimal("20.00")), (second, Decimal("30.00"))]
        assert crm.pay_invoices(shares, Decimal("50.00"), "2026-03-05")
    world.assert_balanced()
    return [first, second]


def qbo_pay_invoices(app: QuickBooksUser, crm: CrmUser, shares: list[tuple[Ref, Decimal]]) -> None:
    """One QuickBooks payment over several invoices of one customer (a line each)."""
    invoices = [app.invoice(ref, crm) for ref, _ in shares]
    assert None not in invoices
    lines = [
        {"Amount": float(amount), "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
        for invoice, (_, amount) in zip(invoices, shares, strict=True)
        if invoice is not None
    ]
    first = invoices[0]
    assert first is not None
    body = {
        "CustomerRef": first["CustomerRef"],
        "TotalAmt": sum(line["Amount"] for line in lines),
        "TxnDate": "2026-03-06",
        "Line": lines,
    }
    app.library.qbo_api("POST", "payment", body)


@pytest.mark.parametrize("paid_in", ["app", "crm"])
def test_golden_a_quickbooks_payment_over_two_invoices_edited_up_and_down_is_followed(paid_in):
    """A payment over two invoices edited in QuickBooks: its first line up (20.00 → 45.00,
    more money received) and its second down (30.00 → 10.00). §3.7 allocates the 1CRM
    payment again line by line: each invoice owes what QuickBooks says, the payment takes
    QuickBooks' total (55.00)."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        first, second = two_paid_invoices(world, crm, app, paid_in)
        (payment,) = app.edited_payments()
        before = app.edit_payment_lines(payment, [Decimal("45.00"), Decimal("10.00")])
        assert before == [Decimal("20.00"), Decimal("30.00")]
        world.assert_balanced()
        assert crm.due(first) == app.due(first, crm) == Decimal("70.00")
        assert crm.due(second) == app.due(second, crm) == Decimal("105.00")
        (synced,) = world.library.crm_records("Payment")
        assert money(synced["total_amount"]) == Decimal("55.00")


@pytest.mark.parametrize("paid_in", ["app", "crm"])
def test_golden_a_quickbooks_payment_edited_upward_is_followed_in_1crm(paid_in):
    """A synced payment over two invoices whose lines are both raised in QuickBooks (the
    customer paid more than first entered): 20.00 → 60.00 and 30.00 → 115.00 (the second
    invoice paid in full). 1CRM follows, each invoice owing what QuickBooks says."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        first, second = two_paid_invoices(world, crm, app, paid_in)
        (payment,) = app.edited_payments()
        assert app.line_room(payment) == [Decimal("115.00")] * 2
        app.edit_payment_lines(payment, [Decimal("60.00"), Decimal("115.00")])
        world.assert_balanced()
        assert crm.due(first) == app.due(first, crm) == Decimal("55.00")
        assert crm.due(second) == app.due(second, crm) == Decimal("0.00")


def test_golden_one_xero_payment_of_a_1crm_payment_over_two_invoices_deleted_in_xero():
    """A 1CRM payment over two invoices is two Xero payments (§2.6); a person reverses one
    in Xero (deletes it): 1CRM allocates the payment again without that invoice (it owes
    again what it paid) and the Integrated ID lists the other; the other reversed too, the
    1CRM payment goes (§2.7)."""
    with open_world("xero") as world:
        crm, app = CrmUser(world.library), XeroUser(world.library)
        first, second = two_synced_invoices(world, crm)
        shares = [(first, Decimal("20.00")), (second, Decimal("30.00"))]
        assert crm.pay_invoices(shares, Decimal("52.50"), "2026-03-05")  # 2.50 unapplied
        world.assert_balanced()
        (synced,) = world.library.crm_records("Payment")
        ids = synced["integrated_id"].split(",")
        assert sorted(ids) == sorted(app.payments())
        second_id = app.invoice(second, crm)["InvoiceID"]
        (on_second,) = [
            p["PaymentID"]
            for p in world.library.xero_records("Payments")
            if p["Invoice"]["InvoiceID"] == second_id
        ]
        app.delete_payment(on_second)
        world.assert_balanced()
        assert crm.due(first) == app.due(first, crm) == Decimal("95.00")
        assert crm.due(second) == app.due(second, crm) == Decimal("115.00")
        (synced,) = world.library.crm_records("Payment")
        assert synced["integrated_id"] == next(i for i in ids if i != on_second)
        assert money(synced["amount"]) == Decimal("22.50")
        assert money(synced["total_amount"]) == Decimal("20.00")
        (left,) = app.payments()
        app.delete_payment(left)
        world.assert_balanced()
        assert world.library.crm_records("Payment") == []
        assert crm.due(first) == app.due(first, crm) == Decimal("115.00")
