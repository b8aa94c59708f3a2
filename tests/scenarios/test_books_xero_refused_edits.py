"""§2.11 refused, then §2.4 polls (scenarios/README.md, "Paid invoices changed"): a 1CRM edit
Xero refused (a payment or credit still allocated to the invoice) waits for Xero; 2.4 must not
take the Xero invoice's other changes (its payments cleared) for a Xero edit and write Xero's
old lines over it. 2.11 notes the waiting edit in the data store `xero-invoice-edits-waiting`
and 2.4's *Edited in Xero* route leaves such an invoice to 2.11."""

from __future__ import annotations

from decimal import Decimal

from engine.store import IncompleteStatus
from tests.scenarios.books import World, open_world
from tests.scenarios.test_books_xero_paid import EDIT, paid_invoice
from tests.scenarios.users import CrmUser, LineSpec, Ref, XeroUser

EDITED = Decimal("38.81")
XERO_EDIT = [LineSpec("Audit", 1, Decimal("40.00"), Decimal(15))]  # 46.00


def a_later_xero_edit_reaches_1crm(world: World, crm: CrmUser, app: XeroUser, ref: Ref) -> None:
    """Once the 1CRM edit is in Xero its note is gone: 2.4 takes Xero edits again."""
    assert app.edit_invoice(ref, crm, XERO_EDIT, "2026-05-31")
    world.assert_balanced()
    assert crm.due(ref) == app.due(ref, crm) == Decimal("46.00")


def test_a_1crm_edit_refused_until_its_retries_run_out_survives_the_payments_cleared_in_xero():
    """The person edits a paid invoice in 1CRM; Xero refuses it at every retry (needs
    attention). They then clear the payments and credit in Xero, as the refusal asks. Before:
    2.4 saw the Xero invoice change, found it different from 1CRM's and wrote Xero's old
    lines over the 1CRM edit (both 23.00; the edit only in a spent incomplete execution).
    Once 2.11's later run has sent the edit, the spent retry is superseded: nothing needs
    attention any more (it stayed pending until a person resolved it)."""
    with open_world("xero") as world:
        crm, app, ref = paid_invoice(world, side="app")
        assert crm.edit_invoice(ref, EDIT, "2026-04-30")
        world.run_scenarios()
        for _ in range(9):  # every attempt the Break allows, refused
            world.retry_waiting()
        [(scenario, _, error, attempts)] = world.waiting()
        assert scenario == "2.11" and "payment or credit note allocated" in str(error)
        assert attempts == 8  # spent: it needs attention
        assert app.clear_invoice(ref, crm) == 4
        world.sync()
        assert crm.due(ref) == app.due(ref, crm) == EDITED
        assert world.library.crm_records("Payment") == []
        # 2.11's later run sent the edit: it supersedes the spent retry, which no longer says
        # the invoice needs attention (it stayed pending, and a person had to resolve it).
        service = world.library.service
        assert service.list_incomplete(status=IncompleteStatus.PENDING) == []
        assert world.waiting() == []
        a_later_xero_edit_reaches_1crm(world, crm, app, ref)


def test_a_1crm_edit_refused_before_2_9_clears_xero_is_not_undone_by_2_4():
    """The person clears the paid invoice in 1CRM and edits it; 2.11 runs before 2.9 (its
    webhook first), so Xero refuses the edit and it waits; 2.9 then deletes the Xero payments
    and 2.4's poll sees the invoice changed. Before: 2.4 wrote Xero's old lines over the 1CRM
    edit (1CRM owed 23.00) until 2.11's retry sent the edit again."""
    with open_world("xero") as world:
        crm, app, ref = paid_invoice(world, side="app")
        assert crm.clear_invoice(ref) == 4
        assert crm.edit_invoice(ref, EDIT, "2026-04-30")
        world.run_scenarios(first=("2.11",))
        assert crm.due(ref) == EDITED
        world.assert_balanced()
        assert crm.due(ref) == app.due(ref, crm) == EDITED
        a_later_xero_edit_reaches_1crm(world, crm, app, ref)


NEWER = [LineSpec("Advice", 2, Decimal("20.00"), Decimal(15))]  # 46.00


def test_golden_a_stale_retry_of_a_refused_edit_never_overwrites_a_newer_1crm_edit():
    """Edit A is refused (payments allocated) and waits to retry; the person clears the
    payments in 1CRM (2.9 deletes them in Xero) and edits the invoice again, B, which Xero
    takes. Then A's retry runs. Before: it resumed at the update with A's stored lines and
    wrote them over B in Xero, and 2.4 brought A back to 1CRM; now the retried part reads
    1CRM again and Xero ends with 1CRM's B."""
    with open_world("xero") as world:
        crm, app, ref = paid_invoice(world, side="app")
        assert crm.edit_invoice(ref, EDIT, "2026-04-30")
        world.run_scenarios()
        [(scenario, _, error, _)] = world.waiting()
        assert scenario == "2.11" and "payment or credit note allocated" in str(error)
        assert crm.clear_invoice(ref) == 4
        world.run_scenarios()
        assert crm.edit_invoice(ref, NEWER, "2026-05-15")
        world.run_scenarios()
        world.assert_balanced()
        assert crm.due(ref) == app.due(ref, crm) == Decimal("46.00")


def test_golden_a_note_of_an_edit_1crm_no_longer_holds_leaves_xero_edits_to_2_4():
    """2.11's note protects only while 1CRM still holds the noted edit, as 3.10's does. The
    note an older edit's retry left (its refusal noted after the person had put the invoice
    back as it was, so nothing waits) is met by a Xero edit. Before: 2.4 asked only whether a
    note exists and left the invoice alone, so 1CRM kept 23.00 while Xero owed 46.00."""
    with open_world("xero") as world:
        crm, app, ref = paid_invoice(world, side="app")
        assert app.clear_invoice(ref, crm) == 4
        world.assert_balanced()
        twin = app.invoice(ref, crm)
        assert twin is not None and crm.due(ref) == Decimal("23.00")
        service = world.library.service
        [store] = [s for s in service.list_data_stores() if s.name == "xero-invoice-edits-waiting"]
        older = {"amount": "38.81", "total_tax": "5.06", "due_date": "2026-04-30"}
        refusal = "A validation exception occurred: payment or credit note allocated"
        data = {"invoice": crm.invoice(ref)["id"], "refused": refusal, **older}  # type: ignore[index]
        service.put_record(store.id, twin["InvoiceID"], data)
        a_later_xero_edit_reaches_1crm(world, crm, app, ref)
