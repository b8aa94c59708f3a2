"""A 1CRM account invoiced in two currencies, synced with QuickBooks Online, which gives each
customer one currency (docs/sandboxes.md, "One currency per customer"): the invoice in the
other currency goes to the account's second QuickBooks customer "<account> (<currency>)",
made the first time (§3.3, §3.5a), paid there (§3.6, §3.7), and it maps back to the one 1CRM
account (§3.2 makes no account of it, §3.4 finds the account by its name); reconcile pairs it
with the account. The strict sandbox refused such an invoice from main's §3.3 (a USD invoice
for an NZD customer: 6000), so it waited for ever."""

from __future__ import annotations

from decimal import Decimal

from tests.scenarios.books import open_world
from tests.scenarios.users import CrmUser, LineSpec, QuickBooksUser

NAME = "Rata Ltd 1"


def test_golden_a_usd_invoice_of_an_nzd_account_goes_to_its_usd_customer_and_back():
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        crm.create_customer(NAME, "r@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))
        nzd = crm.create_invoice(NAME, [line], "NZD", "2026-03-31")
        usd = crm.create_invoice(NAME, [line], "USD", "2026-03-31")
        world.assert_balanced()
        customers = {c["DisplayName"]: c for c in world.library.qbo_records("Customer")}
        assert sorted(customers) == [NAME, f"{NAME} (USD)"]
        assert customers[f"{NAME} (USD)"]["CurrencyRef"]["value"] == "USD"
        assert customers[NAME]["CurrencyRef"]["value"] == "NZD"
        by_currency = {
            i["CurrencyRef"]["value"]: i["CustomerRef"]["name"]
            for i in world.library.qbo_records("Invoice")
        }
        assert by_currency == {"NZD": NAME, "USD": f"{NAME} (USD)"}
        # a second USD invoice reuses the USD customer
        again = crm.create_invoice(NAME, [line], "USD", "2026-04-30")
        world.assert_balanced()
        assert len(world.library.qbo_records("Customer")) == 2
        # paid in 1CRM (§3.6: the USD invoice's customer) and in QuickBooks (§3.7: back to
        # the one 1CRM account)
        assert crm.pay(usd, Decimal("10.00"), Decimal("10.00"), "2026-03-05")
        assert app.pay(again, crm, Decimal("12.00"), "2026-03-06", "")
        world.assert_balanced()
        assert app.due(usd, crm) == crm.due(usd) == Decimal("36.00")
        assert app.due(again, crm) == crm.due(again) == Decimal("34.00")
        assert app.due(nzd, crm) == crm.due(nzd) == Decimal("46.00")
        assert [a["name"] for a in world.library.crm_records("Account")] == [NAME]


def test_golden_a_quickbooks_invoice_of_a_currency_customer_reaches_the_one_1crm_account():
    """A QuickBooks person invoices the account's USD customer: §3.2 makes no second account,
    §3.4 creates the 1CRM invoice (USD) on the account."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        app.create_customer(NAME, "r@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Freight", 1, Decimal("50.00"), Decimal(15))
        ref = app.create_invoice(NAME, [line], "TaxExcluded", "2026-03-31", "USD")
        assert ref is not None
        world.assert_balanced()
        assert [a["name"] for a in world.library.crm_records("Account")] == [NAME]
        assert len(world.library.crm_records("Invoice")) == 1  # currency: reconcile compares it
        assert app.due(ref, crm) == crm.due(ref) == Decimal("57.50")


def _customers(world) -> dict[str, dict]:
    return {c["DisplayName"]: c for c in world.library.qbo_records("Customer")}


def test_golden_an_account_renamed_in_1crm_renames_its_currency_customers():
    """§3.1 finds the account's customers by the note it and §3.3 write on them (``1CRM
    account <id>`` and ``1CRM account <id> (<currency>)``), not by the name: on main, the
    renamed account got a second customer, and its next USD invoice a second USD customer."""
    with open_world("quickbooks") as world:
        crm = CrmUser(world.library)
        crm.create_customer(NAME, "r@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))
        crm.create_invoice(NAME, [line], "NZD", "2026-03-31")
        crm.create_invoice(NAME, [line], "USD", "2026-03-31")
        world.assert_balanced()
        renamed = "Rata Holdings 1"
        assert crm.rename_customer(NAME, renamed)
        world.assert_balanced()
        assert sorted(_customers(world)) == [renamed, f"{renamed} (USD)"]
        crm.create_invoice(renamed, [line], "USD", "2026-04-30")
        world.assert_balanced()
        customers = _customers(world)
        assert sorted(customers) == [renamed, f"{renamed} (USD)"]
        assert customers[f"{renamed} (USD)"]["CurrencyRef"]["value"] == "USD"
        assert [a["name"] for a in world.library.crm_records("Account")] == [renamed]


def test_golden_a_currency_customer_has_its_accounts_details_and_follows_them():
    """§3.3 copies the account's e-mail, phone and address to the currency customer it makes,
    and §3.1 follows the account's edits on it; on main it had none of them."""
    with open_world("quickbooks") as world:
        crm = CrmUser(world.library)
        crm.create_customer(NAME, "r@books.example", "Napier", "06 835 1234")
        world.assert_balanced()
        line = LineSpec("Widget", 1, Decimal("20.00"), Decimal(15))
        crm.create_invoice(NAME, [line], "USD", "2026-03-31")
        world.assert_balanced()
        usd = _customers(world)[f"{NAME} (USD)"]
        assert usd["PrimaryEmailAddr"]["Address"] == "r@books.example"
        assert usd["PrimaryPhone"]["FreeFormNumber"] == "06 835 1234"
        assert usd["BillAddr"]["City"] == "Napier"
        assert crm.edit_customer(NAME, "accounts@rata.example", "Hastings", "06 876 5432")
        world.assert_balanced()
        usd = _customers(world)[f"{NAME} (USD)"]
        assert usd["PrimaryEmailAddr"]["Address"] == "accounts@rata.example"
        assert usd["PrimaryPhone"]["FreeFormNumber"] == "06 876 5432"
        assert usd["BillAddr"]["City"] == "Hastings"
        assert len(_customers(world)) == 2


def test_golden_an_account_in_another_currency_gets_its_customer_in_that_currency():
    """§3.1 makes the customer of a 1CRM account whose currency a person chose (not 1CRM's
    base, which every account gets by default) in that currency; an invoice in the home
    currency then goes to ``<account> (NZD)``. On main the customer was made in NZD and the
    USD invoices went to a ``(USD)`` customer."""
    with open_world("quickbooks") as world:
        crm = CrmUser(world.library)
        fields = {"name": NAME, "email1": "r@books.example", "currency_id": crm.currency_id("AUD")}
        world.library.crm("POST", "Account", fields)
        world.assert_balanced()
        assert _customers(world)[NAME]["CurrencyRef"]["value"] == "AUD"
        line = LineSpec("Widget", 1, Decimal("20.00"), Decimal(15))
        crm.create_invoice(NAME, [line], "AUD", "2026-03-31")
        crm.create_invoice(NAME, [line], "NZD", "2026-03-31")
        world.assert_balanced()
        customers = _customers(world)
        assert sorted(customers) == [NAME, f"{NAME} (NZD)"]
        assert customers[f"{NAME} (NZD)"]["CurrencyRef"]["value"] == "NZD"
        by_currency = {
            i["CurrencyRef"]["value"]: i["CustomerRef"]["name"]
            for i in world.library.qbo_records("Invoice")
        }
        assert by_currency == {"AUD": NAME, "NZD": f"{NAME} (NZD)"}


def _rename_in_1crm_and_invoice(world, crm: CrmUser) -> None:
    """Renames the account in 1CRM and invoices it: its one QuickBooks customer follows the
    rename and takes the invoice (nothing waits for a customer of the new name)."""
    renamed = "Rata Ltd 1 Group"
    assert crm.rename_customer(NAME, renamed)
    world.assert_balanced()
    assert sorted(_customers(world)) == [renamed]
    line = LineSpec("Advice", 1, Decimal("12.62"), Decimal(15))
    crm.create_invoice(renamed, [line], "NZD", "2026-03-31")
    world.assert_balanced()
    assert sorted(_customers(world)) == [renamed]
    assert [i["CustomerRef"]["name"] for i in world.library.qbo_records("Invoice")] == [renamed]
    assert [a["name"] for a in world.library.crm_records("Account")] == [renamed]


def test_golden_an_account_from_a_quickbooks_customer_renamed_in_1crm_renames_it():
    """A customer made in QuickBooks reaches 1CRM (§3.2); the 1CRM account is then renamed.
    §3.1 finds the customer by the note ``1CRM account <id>``, which §3.2's customer never got
    (found by the books soak; §3.2 now writes it): the customer kept the old name and the
    account's next quote waited in §3.5a for a customer of the new name that never came."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        app.create_customer(NAME, "r@books.example", "Napier")
        world.assert_balanced()
        _rename_in_1crm_and_invoice(world, crm)


def test_golden_a_customer_renamed_in_quickbooks_renames_its_1crm_account():
    """§3.2 finds the 1CRM account by the customer's note ``1CRM account <id>`` (§3.1 writes
    it; §3.2 writes it on a customer without a note it makes an account of): on main it
    searched 1CRM accounts by name only, so a customer renamed in QuickBooks became a second
    1CRM account."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        crm.create_customer(NAME, "r@books.example", "Napier")
        app.create_customer("Kea Ltd 1", "k@books.example", "Nelson")
        world.assert_balanced()
        for old, new in ((NAME, "Rata Holdings 1"), ("Kea Ltd 1", "Kea Holdings 1")):
            assert app.rename_customer(old, new)
        world.assert_balanced()
        names = sorted(a["name"] for a in world.library.crm_records("Account"))
        assert names == ["Kea Holdings 1", "Rata Holdings 1"]
        assert sorted(_customers(world)) == names


def test_golden_a_customer_made_on_both_sides_gets_the_note_and_follows_a_1crm_rename():
    """The same customer entered in 1CRM and in QuickBooks before a sync: §3.1 finds it by name
    and §3.2 the account (nothing differs), so neither made it and neither wrote the note; §3.1
    now writes it on a note-less customer, and a rename in 1CRM finds the customer by it (on
    main it kept the old name and the account's next invoice waited for a customer of the new
    name)."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        app.create_customer(NAME, "r@books.example", "Napier")
        crm.create_customer(NAME, "r@books.example", "Napier")
        world.assert_balanced()
        _rename_in_1crm_and_invoice(world, crm)
