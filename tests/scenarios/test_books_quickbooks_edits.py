"""#20: the QuickBooks library keeps the books balanced when invoices change after they were
synced — §3.10 takes a 1CRM edit to QuickBooks (a sparse update at the invoice's SyncToken),
§3.4 takes a QuickBooks edit and a QuickBooks deletion to 1CRM — and when a QuickBooks invoice
carries QuickBooks' one discount of the whole invoice. The whole library runs on fresh
sandboxes (``tests/scenarios/books.py``); reconcile is the judge (``assert_balanced``)."""

from __future__ import annotations

from decimal import Decimal

from modules.reconcile.books import money
from tests.scenarios.books import open_world
from tests.scenarios.users import CrmUser, LineSpec, QuickBooksUser

NAME = "Harakeke Ltd 1"


def qbo_invoice(world, invoice_id):
    (found,) = [i for i in world.library.qbo_records("Invoice") if i["Id"] == invoice_id]
    return found


def test_3_10_an_invoice_edited_in_1crm_updates_the_quickbooks_invoice():
    """1CRM's new lines (a discount, a zero-rated line) and due date reach QuickBooks, to the
    cent and with 1CRM's tax; an invoice that came from QuickBooks tax-inclusive is sent tax
    exclusive, as 1CRM keeps it; the write-back of 3.4 is not sent again (the sync settles)."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        crm.create_customer(NAME, "h@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))
        from_crm = crm.create_invoice(NAME, [line], "NZD", "2026-03-31")
        from_app = app.create_invoice(NAME, [line], "TaxInclusive", "2026-03-31")
        world.assert_balanced()
        tokens = {ref: app.invoice(ref, crm)["SyncToken"] for ref in (from_crm, from_app)}
        lines = [
            LineSpec("Advice", 3, Decimal("37.31"), Decimal(15), Decimal("12.5")),
            LineSpec("Freight", 1, Decimal("10.10"), Decimal(0)),
        ]
        for ref in (from_crm, from_app):
            assert crm.edit_invoice(ref, lines, "2026-04-30")
        world.assert_balanced()
        for ref in (from_crm, from_app):
            invoice, edited = app.invoice(ref, crm), crm.invoice(ref)
            assert money(invoice["TotalAmt"]) == money(edited["amount"]) == Decimal("122.73")
            assert money(invoice["TxnTaxDetail"]["TotalTax"]) == money(edited["total_tax"])
            assert invoice["DueDate"] == "2026-04-30"
            assert invoice["GlobalTaxCalculation"] == "TaxExcluded"
            assert int(invoice["SyncToken"]) > int(tokens[ref])
        assert world.sync() == 1  # nothing left to write


def test_3_4_an_invoice_edited_in_quickbooks_rewrites_the_1crm_invoice():
    """A QuickBooks edit (lines, a discount of the whole invoice, due date) reaches 1CRM as
    QuickBooks computed it, for an invoice from either side; §3.10 does not send it back."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        app.create_customer(NAME, "h@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))
        from_crm = crm.create_invoice(NAME, [line], "USD", "2026-03-31")
        from_app = app.create_invoice(NAME, [line], "TaxInclusive", "2026-03-31")
        world.assert_balanced()
        lines = [
            LineSpec("Advice", 3, Decimal("37.31"), Decimal(15), Decimal(10)),
            LineSpec("Freight", 1, Decimal("10.10"), Decimal(0)),
        ]
        for ref in (from_crm, from_app):
            assert app.edit_invoice(ref, crm, lines, "2026-04-30")
        world.assert_balanced()
        for ref in (from_crm, from_app):
            invoice, edited = app.invoice(ref, crm), crm.invoice(ref)
            assert money(edited["amount"]) == money(invoice["TotalAmt"])
            assert money(edited["amount_due"]) == money(invoice["Balance"])
            assert edited["due_date"][:10] == "2026-04-30"
        assert world.sync() == 1


def test_3_4_an_invoice_deleted_in_quickbooks_is_deleted_in_1crm():
    """QuickBooks Online deletes an invoice (its webhook's Delete, nothing left to read): the
    1CRM invoice goes too, whichever side it came from, and §3.9 finds nothing to void; one
    deleted before it was synced never reaches 1CRM."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        app.create_customer(NAME, "h@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))
        from_crm = crm.create_invoice(NAME, [line], "NZD", "2026-03-31")
        from_app = app.create_invoice(NAME, [line], "TaxExcluded", "2026-03-31")
        kept = app.create_invoice(NAME, [line], "TaxExcluded", "2026-03-31")
        world.assert_balanced()
        never = app.create_invoice(NAME, [line], "NotApplicable", "2026-03-31")
        for ref in (from_crm, from_app, never):
            assert app.delete_invoice(ref, crm)
        world.assert_balanced()
        (left,) = world.library.crm_records("Invoice")
        assert left["integrated_id"] == kept.id
        assert [i["Id"] for i in world.library.qbo_records("Invoice")] == [kept.id]


def test_3_4_a_discount_of_the_whole_quickbooks_invoice_reaches_1crm_to_the_cent():
    """QuickBooks discounts a whole invoice (one ``DiscountLineDetail`` line, a percent or an
    amount, taken off before tax and shared among the lines): 1CRM gets each line's share of
    it and of each rate's tax, and owes what QuickBooks does, in every tax mode."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        app.create_customer(NAME, "h@books.example", "Napier")
        world.assert_balanced()
        percent = [
            LineSpec("Widget", 3, Decimal("3.35"), Decimal(15), Decimal("12.5")),
            LineSpec("Freight", 1, Decimal("10.01"), Decimal(0)),
        ]
        amount = [
            LineSpec("Advice", 2, Decimal("37.31"), Decimal(15), Decimal(10)),
            LineSpec("Widget", 5, Decimal("0.99"), Decimal(15), Decimal("12.5")),
            LineSpec("Freight", 1, Decimal("10.01"), Decimal(0)),
        ]
        refs = [
            app.create_invoice(NAME, lines, mode, "2026-03-31")
            for lines in (percent, amount)
            for mode in ("TaxExcluded", "TaxInclusive", "NotApplicable")
        ]
        world.assert_balanced()
        for ref in refs:
            invoice, synced = app.invoice(ref, crm), crm.invoice(ref)
            (discount,) = [ln for ln in invoice["Line"] if ln["DetailType"] == "DiscountLineDetail"]
            assert money(discount["Amount"]) > 0
            assert money(synced["amount"]) == money(invoice["TotalAmt"])
            assert money(synced["total_tax"]) == money(invoice["TxnTaxDetail"]["TotalTax"])


def test_an_invoice_edited_on_both_sides_between_syncs_keeps_1crms_version():
    """The conflict rule (scenarios/README.md, edits on both sides): 3.10 runs before 3.4 in a
    round, so 1CRM's edit overwrites QuickBooks' and 3.4 then finds the two the same."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        crm.create_customer(NAME, "h@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))
        ref = crm.create_invoice(NAME, [line], "NZD", "2026-03-31")
        world.assert_balanced()
        in_app = LineSpec("Advice", 1, Decimal("99.00"), Decimal(15), Decimal(10))
        assert app.edit_invoice(ref, crm, [in_app, line], "2026-04-30")
        assert crm.edit_invoice(ref, [LineSpec("Freight", 1, Decimal("10.00"), Decimal(0))], "")
        world.assert_balanced()
        invoice = app.invoice(ref, crm)
        assert money(invoice["TotalAmt"]) == money(crm.invoice(ref)["amount"]) == Decimal("10.00")


def synced_invoice_with_its_due_date_cleared(world, crm: CrmUser):
    """A 1CRM invoice (33.33 less 12.5 %, due 2026-03-31) synced, then its due date cleared in
    1CRM; its ref."""
    crm.create_customer(NAME, "h@books.example", "Napier")
    line = LineSpec("Advice", 3, Decimal("33.33"), Decimal(15), Decimal("12.5"))
    ref = crm.create_invoice(NAME, [line], "NZD", "2026-03-31")
    world.assert_balanced()
    invoice = crm.invoice(ref)
    assert invoice is not None
    world.library.crm_edit("Invoice", invoice["id"], {"due_date": ""})
    return ref


def test_golden_a_1crm_due_date_cleared_after_the_first_sync_takes_quickbooks_and_keeps_lines():
    """A synced 1CRM invoice (a price less its discount) whose due date the person clears in
    1CRM; later a payment in QuickBooks updates the invoice there. QuickBooks always has a due
    date (vendor NOTES §5: without one given, its date or what the terms give), so an empty
    1CRM due date is no edit to send: 1CRM takes QuickBooks' back (3.10), as §3.3 does for an
    invoice created without one. Before: 3.10 sent nothing and 3.4, at the payment's update,
    found 1CRM's empty due date unlike QuickBooks', took it for a QuickBooks edit and rewrote
    the 1CRM lines as QuickBooks computed them (33.33 less 12.5 % became a net unit price)."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        ref = synced_invoice_with_its_due_date_cleared(world, crm)
        world.assert_balanced()
        assert app.pay(ref, crm, Decimal("10.00"), "2026-03-06", "")
        world.assert_balanced()
        invoice, twin = crm.invoice(ref), app.invoice(ref, crm)
        assert invoice is not None and twin is not None
        assert str(invoice["due_date"])[:10] == twin["DueDate"] == "2026-03-31"
        (kept,) = world.library.crm_records("InvoiceLine")
        assert money(kept["unit_price"]) == money("33.33")


def test_golden_a_1crm_due_date_cleared_keeps_its_lines_when_3_4_runs_first():
    """The due date cleared in 1CRM and, before the next sync, a payment in QuickBooks; 3.4's
    webhook is handled before 3.10's (instant scenarios run side by side). 3.4 takes an empty
    1CRM due date for no QuickBooks edit, so the lines stay; 3.10 then gives 1CRM QuickBooks'
    due date."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        ref = synced_invoice_with_its_due_date_cleared(world, crm)
        assert app.pay(ref, crm, Decimal("10.00"), "2026-03-06", "")
        world.run_scenarios(first=("3.4",))
        world.assert_balanced()
        invoice, twin = crm.invoice(ref), app.invoice(ref, crm)
        assert invoice is not None and twin is not None
        assert str(invoice["due_date"])[:10] == twin["DueDate"] == "2026-03-31"
        (kept,) = world.library.crm_records("InvoiceLine")
        assert money(kept["unit_price"]) == money("33.33")
