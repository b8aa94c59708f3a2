"""Issue #20, item 2: a 1CRM invoice, quote or payment whose customer is not in the accounting
system yet waits for it (the customer search errs when nothing is found; Break retries it with
backoff) instead of being dropped by the "Contact exists" / "Customer exists" filter; one whose
customer never comes needs attention after the last attempt."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.scenarios.books import World, open_world
from tests.scenarios.users import (
    CrmUser,
    LineSpec,
    QuickBooksUser,
    Ref,
    XeroUser,
    crm_create_quote,
)

INVOICE_SCENARIO = {"xero": "2.3", "quickbooks": "3.3"}
"""The scenario that sends 1CRM invoices to each library."""
QUOTE_SCENARIO = {"xero": "2.5", "quickbooks": "3.5a"}
PAYMENT_SCENARIO = {"xero": "2.6", "quickbooks": "3.6"}


def invoice_of_a_new_customer(crm: CrmUser) -> Ref:
    """A new 1CRM customer and its invoice (96.14), made before any scenario has seen either."""
    crm.create_customer("Kowhai Ltd 1", "k@books.example", "Napier")
    line = LineSpec("Advice", 4, Decimal("20.90"), Decimal(15))
    ref = crm.create_invoice("Kowhai Ltd 1", [line], "NZD", "2026-03-31")
    assert ref is not None
    return ref


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_golden_a_1crm_invoice_made_before_its_customer_is_synced_waits_for_it(library):
    """The invoice's webhook handled before its account's (§2.3 / §3.3 before §2.1 / §3.1):
    the contact was not in Xero (customer not in QuickBooks), "Contact exists" stopped the
    invoice and the sync log said "Not Valid" — 1CRM owed 96.14, the accounting system had
    nothing, and nothing waited. The search now waits (Break, with backoff) until §2.1 / §3.1
    has made the customer, and the invoice is written then."""
    with open_world(library) as world:
        crm = CrmUser(world.library)
        app = XeroUser(world.library) if library == "xero" else QuickBooksUser(world.library)
        ref = invoice_of_a_new_customer(crm)
        world.run_scenarios(first=(INVOICE_SCENARIO[library],))  # the account's webhook late
        assert [w[0] for w in world.waiting()] == [INVOICE_SCENARIO[library]]
        world.assert_balanced()
        assert crm.due(ref) == app.due(ref, crm) == Decimal("96.14")


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_golden_a_1crm_invoice_whose_customer_never_comes_needs_attention(library):
    """The invoice's customer never reaches the accounting system (its scenario never takes
    it): the invoice was dropped without a word. It waits, and after the last attempt the
    sync log shows it as needing attention."""
    with open_world(library) as world:
        invoice_of_a_new_customer(CrmUser(world.library))
        waits_until_it_needs_attention(world, INVOICE_SCENARIO[library])


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_golden_a_1crm_quote_made_before_its_customer_is_synced_waits_for_it(library):
    """As for invoices, §2.5 / §3.5a dropped a quote whose customer was not there yet."""
    with open_world(library) as world:
        crm = CrmUser(world.library)
        crm.create_customer("Kowhai Ltd 1", "k@books.example", "Napier")
        line = LineSpec("Advice", 4, Decimal("20.90"), Decimal(15))
        assert crm_create_quote(crm, "Kowhai Ltd 1", [line], "NZD", "2026-03-31")
        prefix = QUOTE_SCENARIO[library]
        world.run_scenarios(first=(prefix,))  # the account's webhook late
        assert [w[0] for w in world.waiting()] == [prefix]
        world.assert_balanced()
        if library == "xero":
            sent = [q for q in world.library.xero_records("Quotes") if q["Reference"]]
        else:
            sent = [e for e in world.library.qbo_records("Estimate") if e.get("PrivateNote")]
        assert len(sent) == 1 and Decimal(
            str(sent[0]["Total" if library == "xero" else "TotalAmt"])
        ) == Decimal("96.14")


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_golden_a_1crm_payment_made_before_its_customer_is_synced_waits_for_it(library):
    """A new customer's invoice paid before any scenario ran, the payment's webhook handled
    first: §3.6's "Customer exists" dropped the payment (1CRM owed 75.95, QuickBooks
    96.14). It waits now; §2.6 already waited (on the invoice's Integrated ID)."""
    with open_world(library) as world:
        crm = CrmUser(world.library)
        app = XeroUser(world.library) if library == "xero" else QuickBooksUser(world.library)
        ref = invoice_of_a_new_customer(crm)
        assert crm.pay(ref, Decimal("20.19"), Decimal("20.19"), "2026-03-05")
        world.run_scenarios(first=(PAYMENT_SCENARIO[library],))
        world.assert_balanced()
        assert crm.due(ref) == app.due(ref, crm) == Decimal("75.95")


def waits_until_it_needs_attention(world: World, prefix: str) -> None:
    """Only ``prefix``'s webhook is handled, then the scheduler's ticks until it gives up."""
    library = world.library
    library.onecrm.flush_webhooks()
    world.drain(library.hook(world.scenarios[prefix]).id)
    for _ in range(10):
        world.retry_waiting()
    entries = library.service.sync_log(world.scenarios[prefix])
    assert len(entries) == 1, [(e.status, e.message) for e in entries]
    message = entries[0].message or ""
    assert entries[0].status == "Error", message
    assert "needs attention: after 8 retries" in message and "(yet)" in message
    assert len(world.waiting()) == 1


def test_golden_a_1crm_invoice_and_quote_waiting_for_their_contact_find_it_renamed():
    """An invoice and a quote wait for their contact (their webhooks handled before the
    account's), and the account is renamed before the retry: §2.3 and §2.5 searched the
    contact by the account's name as their events had it, which no contact has any more,
    and waited until they needed attention. They now search by the contact's
    ``ContactNumber`` (the account's id, which never changes) or that name."""
    with open_world("xero") as world:
        crm, app = CrmUser(world.library), XeroUser(world.library)
        ref = invoice_of_a_new_customer(crm)
        line = LineSpec("Advice", 4, Decimal("20.90"), Decimal(15))
        assert crm_create_quote(crm, "Kowhai Ltd 1", [line], "NZD", "2026-03-31")
        world.run_scenarios(first=("2.3", "2.5"))  # the account's webhook late
        assert sorted(w[0] for w in world.waiting()) == ["2.3", "2.5"]
        assert crm.rename_customer("Kowhai Ltd 1", "Kowhai Holdings 1")
        world.assert_balanced()
        assert crm.due(ref) == app.due(ref, crm) == Decimal("96.14")
        (quote,) = [q for q in world.library.xero_records("Quotes") if q["Reference"]]
        (contact,) = world.library.xero_records("Contacts")[-1:]
        assert contact["Name"] == "Kowhai Holdings 1"
        assert quote["Contact"]["ContactID"] == contact["ContactID"]
