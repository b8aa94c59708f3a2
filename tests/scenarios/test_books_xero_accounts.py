"""#20: §2.2 (Xero → 1CRM accounts) maps the contact's phone back, on create and on update."""

from __future__ import annotations

from decimal import Decimal

from tests.scenarios.books import open_world
from tests.scenarios.conftest import succeeded
from tests.scenarios.users import CrmUser, LineSpec, XeroUser

NAME = "Weka Ltd 1"


def customer_differences(library):
    return [d for d in library.differences("xero") if d.kind == "customer"]


def test_2_2_the_contact_s_phone_reaches_1crm_and_its_change_too(library):
    scenario = library.load("2.2")
    library.service.choose_where_to_start(scenario, 1, {"type": "all"})
    contact = {
        "Name": "Tōtara Ltd",
        "EmailAddress": "t@t.example",
        "Phones": [
            {"PhoneType": "MOBILE", "PhoneNumber": "021 555 0199"},
            {"PhoneType": "DEFAULT", "PhoneNumber": "+64 9 555 0101"},
        ],
    }
    (created,) = library.xero_api("PUT", "Contacts", contact)["Contacts"]
    succeeded(library.poll(scenario))
    (account,) = library.crm_records("Account")
    assert account["phone_office"] == "+64 9 555 0101"
    assert customer_differences(library) == []

    library.xero.control("config", {"clock_offset_seconds": 5})
    phones = [{"PhoneType": "DEFAULT", "PhoneNumber": "+64 9 555 0202"}]
    library.xero_api("POST", f"Contacts/{created['ContactID']}", {"Contacts": [{"Phones": phones}]})
    succeeded(library.poll(scenario))
    (account,) = library.crm_records("Account")
    assert account["phone_office"] == "+64 9 555 0202"
    assert customer_differences(library) == []


def _contact_names(world) -> list[str]:
    return sorted(c["Name"] for c in world.library.xero_records("Contacts"))


def test_golden_an_account_renamed_in_1crm_renames_its_xero_contact():
    """§2.1 writes the 1CRM account's id to the contact's ``ContactNumber`` and finds the
    contact by it first: on main it searched by name only, so the renamed account got a
    second Xero contact and its next invoice went to it."""
    with open_world("xero") as world:
        crm = CrmUser(world.library)
        crm.create_customer(NAME, "w@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))
        crm.create_invoice(NAME, [line], "NZD", "2026-03-31")
        world.assert_balanced()
        renamed = "Weka Holdings 1"
        assert crm.rename_customer(NAME, renamed)
        world.assert_balanced()
        assert _contact_names(world) == [renamed]
        crm.create_invoice(renamed, [line], "NZD", "2026-04-30")
        world.assert_balanced()
        assert _contact_names(world) == [renamed]
        (contact,) = world.library.xero_records("Contacts")
        assert {i["Contact"]["ContactID"] for i in world.library.xero_records("Invoices")} == {
            contact["ContactID"]
        }
        assert [a["name"] for a in world.library.crm_records("Account")] == [renamed]


def test_golden_a_contact_renamed_in_xero_renames_its_1crm_account():
    """§2.2 finds the 1CRM account by the contact's ``ContactNumber`` (the account's id, which
    §2.1 writes, and §2.2 writes back on a contact it made an account of): on main it searched
    1CRM accounts by name only, so a contact renamed in Xero became a second 1CRM account."""
    with open_world("xero") as world:
        crm, app = CrmUser(world.library), XeroUser(world.library)
        crm.create_customer(NAME, "w@books.example", "Napier")
        app.create_customer("Kiwi Ltd 1", "k@books.example", "Nelson")
        world.assert_balanced()
        for old, new in ((NAME, "Weka Holdings 1"), ("Kiwi Ltd 1", "Kiwi Holdings 1")):
            assert app.rename_customer(old, new)
        world.assert_balanced()
        names = sorted(a["name"] for a in world.library.crm_records("Account"))
        assert names == ["Kiwi Holdings 1", "Weka Holdings 1"]
        assert _contact_names(world) == names
