"""Both directions at once, and syncing history: §2.1 + §2.2 active together settle after a
bounded number of runs and never loop; "choose where to start" with a date syncs older records
once."""

from __future__ import annotations

import pytest

from tests.scenarios.conftest import ops, succeeded

MAX_ROUNDS = 5


def settle(library, crm_to_xero, xero_to_crm):
    """Run both scenarios round after round (every 1CRM webhook delivered, Xero polled) until
    a round writes nothing in either sandbox; returns (rounds, executions)."""
    executions = []
    for round_number in range(1, MAX_ROUNDS + 1):
        before = (library.crm_writes(), library.xero_writes())
        ran = [*library.deliver(crm_to_xero), library.poll(xero_to_crm)]
        executions += [succeeded(execution) for execution in ran]
        if (library.crm_writes(), library.xero_writes()) == before:
            return round_number, executions
    pytest.fail(f"still writing after {MAX_ROUNDS} rounds: the two-way sync loops")


def test_accounts_both_ways_settle_and_never_loop(library):
    crm_to_xero, xero_to_crm = library.load("2.1"), library.load("2.2")

    # A new account in 1CRM: one contact in Xero, nothing written back to 1CRM.
    account = library.crm(
        "POST",
        "Account",
        {"name": "Totara Ltd", "email1": "t@t.example", "billing_address_city": "Rotorua"},
    )
    crm_before, xero_before = library.crm_writes(), library.xero_writes()
    rounds, executions = settle(library, crm_to_xero, xero_to_crm)
    assert rounds <= 2
    assert library.xero_writes() - xero_before == 1  # the contact, once
    assert library.crm_writes() == crm_before  # nothing bounced back
    assert [c["Name"] for c in library.xero_records("Contacts")] == ["Totara Ltd"]

    # Changed in 1CRM: the contact is updated once; Xero's newer contact is not sent back.
    library.onecrm.control("config", {"clock_offset_seconds": 5})
    library.crm("PATCH", f"Account/{account['id']}", {"email1": "new@t.example"})
    crm_before, xero_before = library.crm_writes(), library.xero_writes()
    rounds, _ = settle(library, crm_to_xero, xero_to_crm)
    assert rounds <= 2
    assert (library.crm_writes() - crm_before, library.xero_writes() - xero_before) == (0, 1)
    (contact,) = library.xero_records("Contacts")
    assert contact["EmailAddress"] == "new@t.example"

    # Changed in Xero: the account is updated once; the echo stops at "Update Accounts".
    library.xero.control("config", {"clock_offset_seconds": 10})
    library.xero_api(
        "POST",
        f"Contacts/{contact['ContactID']}",
        {"ContactID": contact["ContactID"], "EmailAddress": "x@t.example"},
    )
    crm_before, xero_before = library.crm_writes(), library.xero_writes() - 1
    rounds, executions = settle(library, crm_to_xero, xero_to_crm)
    assert rounds <= 3
    assert library.crm_writes() - crm_before == 1
    assert library.xero_writes() - xero_before <= 2  # the user's change (+ at most a phone echo)
    (account_now,) = library.crm_records("Account")
    assert account_now["email1"] == "x@t.example"
    assert len(library.xero_records("Contacts")) == 1
    assert sum(ops(e, 4) for e in executions) == 0  # nothing was ever created twice


def test_choose_where_to_start_syncs_older_contacts_once(library):
    library.xero.control(
        "seed",
        {
            "tenants": [
                {
                    "tenantId": "8b5f9a2e-3c1d-4e7f-9a6b-2d4c8e1f0a35",
                    "Contacts": [
                        {"Name": "Old Co", "UpdatedDateUTC": "2023-02-01T10:00:00"},
                        {"Name": "Middle Co", "UpdatedDateUTC": "2024-06-01T10:00:00"},
                        {"Name": "Recent Co", "UpdatedDateUTC": "2025-01-15T10:00:00"},
                    ],
                }
            ]
        },
    )
    scenario = library.load("2.2")
    first = succeeded(library.poll(scenario))  # activated "from now on": history is left alone
    assert ops(first, 4) == 0

    library.service.choose_where_to_start(
        scenario, 1, {"type": "since", "date": "2024-01-01T00:00:00Z"}
    )
    history = succeeded(library.poll(scenario))
    assert ops(history, 4) == 2
    assert sorted(a["name"] for a in library.crm_records("Account")) == ["Middle Co", "Recent Co"]
    again = succeeded(library.poll(scenario))
    assert ops(again, 4) == 0 and len(library.crm_records("Account")) == 2
