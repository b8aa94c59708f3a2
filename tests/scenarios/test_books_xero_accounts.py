"""#20: §2.2 (Xero → 1CRM accounts) maps the contact's phone back, on create and on update."""

from __future__ import annotations

from tests.scenarios.conftest import succeeded


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
