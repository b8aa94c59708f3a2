"""Golden tests of the zoho-quickbooks pack through the real service: installed the way
``switchboard pack install`` does it, its polling scenarios run against the Zoho CRM and
QuickBooks Online sandboxes over HTTP."""

from __future__ import annotations

from tests.packs.conftest import ops, succeeded

TO_QBO = "customers-zoho-to-quickbooks.json"
TO_ZOHO = "customers-quickbooks-to-zoho.json"


def by_email(customers):
    return {
        (c.get("PrimaryEmailAddr") or {}).get("Address"): c
        for c in customers
        if c.get("PrimaryEmailAddr")
    }


def test_a_zoho_contact_and_its_account_become_one_quickbooks_customer(zoho_quickbooks):
    world = zoho_quickbooks
    flows = world.install("zoho-quickbooks")
    account = world.zoho_create(
        "Accounts", {"Account_Name": "Pohutukawa Ltd", "Billing_City": "Napier"}
    )
    contact = world.zoho_create(
        "Contacts",
        {
            "First_Name": "Mere",
            "Last_Name": "Tane",
            "Email": "mere@pohutukawa.example",
            "Phone": "+64 6 555 0101",
            "Account_Name": {"id": account},
        },
    )
    run = succeeded(world.run(flows[TO_QBO]))
    assert ops(run, 5) == 1
    customer = by_email(world.qbo_records("Customer"))["mere@pohutukawa.example"]
    assert (customer["CompanyName"], customer["BillAddr"]["City"]) == ("Pohutukawa Ltd", "Napier")
    assert (customer["GivenName"], customer["FamilyName"]) == ("Mere", "Tane")
    (linked,) = [c for c in world.zoho_records("Contacts") if c["id"] == contact]
    assert linked["QuickBooks_Customer_Id"] == customer["Id"]
    assert linked["QuickBooks_Synced_Time"]

    # The echo: QuickBooks → Zoho sees the new customer, finds the same contact, writes nothing.
    echo = succeeded(world.run(flows[TO_ZOHO]))
    assert sum(ops(echo, m) for m in (5, 6, 7)) == 0
    again = succeeded(world.run(flows[TO_QBO]))
    assert sum(ops(again, m) for m in (5, 7, 9)) == 0


def test_no_email_or_a_shared_email_is_not_valid_with_the_reason(zoho_quickbooks):
    world = zoho_quickbooks
    flows = world.install("zoho-quickbooks")
    for name in ("Twin A", "Twin B"):
        world.qbo(
            "POST",
            "customer",
            {"DisplayName": name, "PrimaryEmailAddr": {"Address": "twin@x.example"}},
        )
    world.zoho_create("Contacts", {"Last_Name": "Nomail"})
    world.zoho_create("Contacts", {"Last_Name": "Twin", "Email": "twin@x.example"})
    succeeded(world.run(flows[TO_QBO]))
    log = {e.source_name: e for e in world.service.sync_log(flows[TO_QBO])}
    assert log["Nomail"].status == "Not Valid"
    assert "Has an e-mail" in log["Nomail"].message
    assert log["Twin"].status == "Not Valid"
    assert "One QuickBooks customer with this e-mail" in log["Twin"].message
    assert len(by_email(world.qbo_records("Customer"))) == len(
        {
            c["PrimaryEmailAddr"]["Address"]
            for c in world.qbo_records("Customer")
            if c.get("PrimaryEmailAddr")
        }
    )
    health = {h["flow"]: h for h in world.service.pack_health("zoho-quickbooks")}
    assert health[TO_QBO]["not_valid"] == 2 and health[TO_QBO]["last_status"] == "success"


def test_quickbooks_wins_when_both_sides_changed_between_syncs(zoho_quickbooks):
    world = zoho_quickbooks
    flows = world.install("zoho-quickbooks")
    contact = world.zoho_create(
        "Contacts", {"Last_Name": "Rata", "Email": "rata@x.example", "Phone": "1"}
    )
    succeeded(world.run(flows[TO_QBO]))
    customer = by_email(world.qbo_records("Customer"))["rata@x.example"]
    succeeded(world.run(flows[TO_ZOHO]))  # the echo, nothing to write

    # Both change the phone before the next sync; Zoho→QuickBooks happens to run first.
    world.next_second()
    world.zoho_update("Contacts", contact, {"Phone": "2-zoho"})
    sync_token = world.qbo_records("Customer")[-1]["SyncToken"]
    world.qbo(
        "POST",
        "customer",
        {
            "Id": customer["Id"],
            "SyncToken": sync_token,
            "sparse": True,
            "PrimaryPhone": {"FreeFormNumber": "3-qbo"},
        },
    )
    first = succeeded(world.run(flows[TO_QBO]))
    assert ops(first, 7) == 0  # QuickBooks changed since the last sync: not overwritten
    log = {e.source_key: e for e in world.service.sync_log(flows[TO_QBO])}
    assert "QuickBooks unchanged since the last sync" in log[contact].message
    succeeded(world.run(flows[TO_ZOHO]))
    (zoho,) = [c for c in world.zoho_records("Contacts") if c["id"] == contact]
    assert zoho["Phone"] == "3-qbo"
    final = by_email(world.qbo_records("Customer"))["rata@x.example"]
    assert final["PrimaryPhone"]["FreeFormNumber"] == "3-qbo"
    # And it settles: neither side writes again.
    assert sum(ops(succeeded(world.run(flows[TO_QBO])), m) for m in (5, 7, 9)) == 0
    assert sum(ops(succeeded(world.run(flows[TO_ZOHO])), m) for m in (5, 6, 7)) == 0
