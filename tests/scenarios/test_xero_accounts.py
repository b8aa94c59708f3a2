"""Golden tests of §2.1 (1CRM → Xero accounts) and §2.2 (Xero → 1CRM accounts), through the
real service: 1CRM's webhooks reach the served ingress, the worker path runs them; Xero's
Watch Contacts is polled."""

from __future__ import annotations

from tests.scenarios.conftest import CRM_AUTH, filtered, ops, succeeded


def contacts(library):
    return {c["Name"]: c for c in library.xero_records("Contacts")}


def accounts(library):
    return {a["name"]: a for a in library.crm_records("Account")}


def test_activation_subscribes_the_webhook_in_1crm_and_deactivation_removes_it(library):
    scenario = library.load("2.1", active=False)
    assert library.onecrm.state()["records"].get("webhooks", []) == []
    library.service.activate_scenario(scenario)
    hook = library.hook(scenario)
    subscriptions = library.http.get(
        f"{library.onecrm.url}/api.php/webhooks", auth=("admin", "sandbox-password")
    ).json()["records"]
    assert [(s["url"], s["model"], s["type"]) for s in subscriptions] == [
        (library.service.webhook_url(hook), "Account", "create_update")
    ]
    assert subscriptions[0]["filters"]["conditions"][0]["field"] == "deleted"
    assert hook.settings["app_hook_id"] == subscriptions[0]["id"]

    library.service.activate_scenario(scenario)  # again: no second subscription
    assert (
        len(
            library.http.get(
                f"{library.onecrm.url}/api.php/webhooks", auth=("admin", "sandbox-password")
            ).json()["records"]
        )
        == 1
    )

    library.service.deactivate_scenario(scenario)
    assert (
        library.http.get(
            f"{library.onecrm.url}/api.php/webhooks", auth=("admin", "sandbox-password")
        ).json()["records"]
        == []
    )
    assert "app_hook_id" not in library.hook(scenario).settings

    library.service.activate_scenario(scenario)
    library.service.delete_scenario(scenario)  # deleting an active one unsubscribes too
    assert (
        library.http.get(f"{library.onecrm.url}/api.php/webhooks", auth=CRM_AUTH).json()["records"]
        == []
    )


def test_2_1_account_created_then_updated_in_1crm_reaches_xero(library):
    scenario = library.load("2.1")
    created = library.crm(
        "POST",
        "Account",
        {
            "name": "Harakeke Ltd",
            "email1": "a@h.example",
            "phone_office": "+64 6 555 0101",
            "billing_address_street": "1 Marine Parade",
            "billing_address_city": "Napier",
            "billing_address_country": "New Zealand",
        },
    )
    (first,) = library.deliver(scenario)
    succeeded(first)
    assert ops(first, 4) == 1 and ops(first, 5) == 0
    contact = contacts(library)["Harakeke Ltd"]
    assert contact["EmailAddress"] == "a@h.example"
    assert contact["Addresses"][0]["City"] == "Napier"
    assert contact["Phones"][0]["PhoneNumber"] == "+64 6 555 0101"

    library.onecrm.control("config", {"clock_offset_seconds": 5})  # 1CRM stamps to the second
    library.crm("PATCH", f"Account/{created['id']}", {"email1": "b@h.example"})
    (second,) = library.deliver(scenario)
    succeeded(second)
    assert ops(second, 5) == 1 and ops(second, 4) == 0
    assert contacts(library)["Harakeke Ltd"]["EmailAddress"] == "b@h.example"
    assert len(contacts(library)) == 1

    # A change that leaves the account as the contact already is ("Update Accounts" blocks).
    library.onecrm.control("config", {"clock_offset_seconds": 10})
    library.crm("PATCH", f"Account/{created['id']}", {"email1": "B@h.example"})
    (third,) = library.deliver(scenario)
    succeeded(third)
    assert ops(third, 5) == 0 and filtered(third, 5) == 1 and filtered(third, 4) == 1


def test_2_2_contact_created_then_updated_in_xero_reaches_1crm(library):
    scenario = library.load("2.2")
    library.service.choose_where_to_start(scenario, 1, {"type": "all"})
    library.xero_api(
        "PUT",
        "Contacts",
        {
            "Contacts": [
                {
                    "Name": "Kowhai Ltd",
                    "EmailAddress": "k@k.example",
                    "Addresses": [
                        {"AddressType": "POBOX", "City": "Nelson", "Country": "New Zealand"}
                    ],
                },
                {"Name": "Manuka Co", "EmailAddress": "m@m.example"},
            ]
        },
    )
    first = succeeded(library.poll(scenario))
    assert ops(first, 4) == 2 and ops(first, 5) == 0
    assert accounts(library)["Kowhai Ltd"]["billing_address_city"] == "Nelson"
    assert accounts(library)["Manuka Co"]["email1"] == "m@m.example"

    # 2.2 wrote each account's id to its contact's ContactNumber: the watch sees the two
    # contacts again, finds their accounts by it and the same, and writes nothing to 1CRM
    numbered = succeeded(library.poll(scenario))
    assert ops(numbered, 4) == 0 and ops(numbered, 5) == 0 and ops(numbered, 15) == 0
    assert {c["ContactNumber"] for c in library.xero_records("Contacts")} == {
        a["id"] for a in library.crm_records("Account")
    }
    nothing = succeeded(library.poll(scenario))
    assert module_count(nothing) == 1  # nothing changed since the cursor: only the trigger ran

    library.xero.control("config", {"clock_offset_seconds": 5})
    kowhai = next(c for c in library.xero_records("Contacts") if c["Name"] == "Kowhai Ltd")
    library.xero_api(
        "POST",
        f"Contacts/{kowhai['ContactID']}",
        {"ContactID": kowhai["ContactID"], "EmailAddress": "new@k.example"},
    )
    second = succeeded(library.poll(scenario))
    assert ops(second, 5) == 1 and ops(second, 4) == 0
    assert accounts(library)["Kowhai Ltd"]["email1"] == "new@k.example"
    assert len(accounts(library)) == 2


def module_count(execution):
    return len([m for m in execution.record["modules"] if m["operations"]])
