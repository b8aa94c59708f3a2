"""The "done when" scenarios of Connectors II, run with ``run_scenario`` against the QuickBooks
and 1CRM sandboxes over real HTTP:

- QuickBooks New Event → Get a Customer [F: object type = Customer] → 1CRM Search for Records
  {Ignore} → Router → Create / Update a Record (update only when the customer's
  ``MetaData.LastUpdatedTime`` is later than the account's Last Modified: what stops a two-way
  sync from looping) — the guide's §3.2 (scenario 3.2);
- 1CRM New Event (Account) → QuickBooks Search for Customers {Ignore} → Router → Create /
  Update a Customer — scenario 3.1.

Intuit's signed deliveries arrive over real HTTP at a receiver that checks ``intuit-signature``
as the ingress must; accepted bodies become trigger bundles through the trigger's
``webhook_bundles`` hook, as ``engine.service.runs`` does.
"""

from __future__ import annotations

from modules.onecrm.modules import attach_webhook
from modules.onecrm.modules import webhook_bundles as onecrm_bundles
from modules.quickbooks.modules import webhook_bundles as qbo_bundles

from . import test_quickbooks_support as support
from .conftest import node
from .test_quickbooks_support import VERIFIER, conn, qbo_records
from .test_sync_scenarios import Receiver, ops

start_quickbooks = support.start_quickbooks
quickbooks = support.quickbooks
qbo_connection = support.qbo_connection
intuit_receiver = support.intuit_receiver


def qbo_to_crm_blueprint(qbo, crm):
    get_customer = node(
        2,
        "quickbooks:GetCustomer",
        {"Id": "{{1.id}}"},
        conn(qbo),
        filter={
            "name": "Customers",
            "conditions": [[{"a": "{{1.name}}", "o": "text:equal", "b": "Customer"}]],
        },
    )
    search = node(
        3,
        "onecrm:SearchRecords",
        {"model": "Account", "filter_text": "{{2.DisplayName}}"},
        {"__IMTCONN__": crm.id, "limit": 1, "continueWhenNoRes": True},
        onerror=[{"id": 7, "module": "builtin:Ignore"}],
    )
    fields = {
        "model": "Account",
        "name": "{{2.DisplayName}}",
        "email1": "{{2.PrimaryEmailAddr.Address}}",
        "billing_address_city": "{{2.BillAddr.City}}",
    }
    create = node(
        5,
        "onecrm:CreateRecord",
        fields,
        {"__IMTCONN__": crm.id},
        filter={"name": "New Accounts", "conditions": [[{"a": "{{3.id}}", "o": "notexist"}]]},
    )
    update = node(
        6,
        "onecrm:UpdateRecord",
        {**fields, "id": "{{3.id}}"},
        {"__IMTCONN__": crm.id},
        filter={
            "name": "Update Accounts",
            "conditions": [
                [
                    {"a": "{{3.id}}", "o": "exist"},
                    {
                        "a": "{{2.MetaData.LastUpdatedTime}}",
                        "o": "date:greater",
                        "b": "{{3.date_modified}}",
                    },
                ]
            ],
        },
    )
    return [
        node(1, "quickbooks:NewEvent", parameters=conn(qbo)),
        get_customer,
        search,
        {
            "id": 4,
            "module": "builtin:BasicRouter",
            "routes": [{"flow": [create]}, {"flow": [update]}],
        },
    ]


def crm_accounts(onecrm):
    return {a["name"]: a for a in onecrm.state()["records"]["Account"]}


def test_customers_from_quickbooks_create_then_update_1crm_accounts(
    runner, http, quickbooks, onecrm, qbo_connection, onecrm_connection, intuit_receiver
):
    quickbooks.control("config", {"webhook_url": intuit_receiver.url, "webhook_key": VERIFIER})
    flow = qbo_to_crm_blueprint(qbo_connection, onecrm_connection)
    before = len(crm_accounts(onecrm))

    created = runner.one(
        "quickbooks:CreateCustomer",
        {
            "DisplayName": "O'Brien & Sons",
            "PrimaryEmailAddr": "ob@obrien.example",
            "BillAddr": {"City": "Dunedin"},
        },
        conn(qbo_connection),
    )
    assert created.status == "success", created.error
    first = runner.run(flow, trigger_bundles=qbo_bundles(intuit_receiver.next()))
    assert first.status == "success", first.error
    assert ops(first, 5) == 1 and ops(first, 6) == 0
    account = crm_accounts(onecrm)["O'Brien & Sons"]
    assert account["email1"] == "ob@obrien.example"
    assert account["billing_address_city"] == "Dunedin"

    # QuickBooks and 1CRM stamp to the second: move QuickBooks' clock so its change is later.
    quickbooks.control("config", {"clock_offset_seconds": 5})
    customer_id = next(
        c["Id"] for c in qbo_records(quickbooks, "Customer") if c["DisplayName"] == "O'Brien & Sons"
    )
    runner.one(
        "quickbooks:UpdateCustomer",
        {"Id": customer_id, "PrimaryEmailAddr": "new@obrien.example"},
        conn(qbo_connection),
    )
    second = runner.run(flow, trigger_bundles=qbo_bundles(intuit_receiver.next()))
    assert second.status == "success", second.error
    assert ops(second, 6) == 1 and ops(second, 5) == 0
    accounts = crm_accounts(onecrm)
    assert accounts["O'Brien & Sons"]["email1"] == "new@obrien.example"
    assert len(accounts) == before + 1

    # A change older than the account (one that came from 1CRM) is not sent back.
    onecrm.control("config", {"clock_offset_seconds": 60})
    http.patch(
        f"{onecrm.url}/api.php/data/Account/{account['id']}",
        json={"data": {"phone_office": "+64 3 555 0100"}},
        auth=("admin", "sandbox-password"),
    )
    stale = [
        {"realmId": support.REALM, "name": "Customer", "id": customer_id, "operation": "Update"}
    ]
    third = runner.run(flow, trigger_bundles=stale)
    assert third.status == "success", third.error
    assert ops(third, 5) == 0 and ops(third, 6) == 0

    # Other entities' events pass the trigger but stop at the object-type filter.
    other = [{"realmId": support.REALM, "name": "Invoice", "id": "1", "operation": "Update"}]
    fourth = runner.run(flow, trigger_bundles=other)
    assert fourth.status == "success" and ops(fourth, 2) == 0


def crm_to_qbo_blueprint(crm, qbo):
    search = node(
        2,
        "quickbooks:SearchForCustomers",
        {"DisplayName": "{{1.name}}"},
        conn(qbo, limit=1, continueWhenNoRes=True),
        onerror=[{"id": 6, "module": "builtin:Ignore"}],
    )
    create = node(
        4,
        "quickbooks:CreateCustomer",
        {"DisplayName": "{{1.name}}", "PrimaryEmailAddr": "{{1.email1}}"},
        conn(qbo),
        filter={"name": "New Accounts Only", "conditions": [[{"a": "{{2.Id}}", "o": "notexist"}]]},
    )
    update = node(
        5,
        "quickbooks:UpdateCustomer",
        {"Id": "{{2.Id}}", "SyncToken": "{{2.SyncToken}}", "PrimaryEmailAddr": "{{1.email1}}"},
        conn(qbo),
        filter={
            "name": "Update Accounts",
            "conditions": [
                [
                    {"a": "{{2.Id}}", "o": "exist"},
                    {
                        "a": "{{1.date_modified}}",
                        "o": "date:greater",
                        "b": "{{2.MetaData.LastUpdatedTime}}",
                    },
                ]
            ],
        },
    )
    return [
        node(1, "onecrm:NewEvent", parameters={"__IMTCONN__": crm.id, "model": "Account"}),
        search,
        {
            "id": 3,
            "module": "builtin:BasicRouter",
            "routes": [{"flow": [create]}, {"flow": [update]}],
        },
    ]


def test_accounts_from_1crm_create_then_update_quickbooks_customers(
    runner, http, serve, quickbooks, onecrm, qbo_connection, onecrm_connection, resolver
):
    receiver = Receiver()
    receiver.url = serve(receiver) + "/hooks/onecrm"
    crm = resolver.get(onecrm_connection.id)
    attach_webhook(crm, http, receiver.url, {"model": "Accounts", "event": "create_or_update"})
    flow = crm_to_qbo_blueprint(onecrm_connection, qbo_connection)
    api = f"{onecrm.url}/api.php/data/Account"
    auth = ("admin", "sandbox-password")

    created = http.post(
        api, json={"data": {"name": "Pūkeko & Co", "email1": "p@p.example"}}, auth=auth
    )
    first = runner.run(flow, trigger_bundles=onecrm_bundles(receiver.next()))
    assert first.status == "success", first.error
    assert ops(first, 4) == 1 and ops(first, 5) == 0
    customers = {c["DisplayName"]: c for c in qbo_records(quickbooks, "Customer")}
    assert customers["Pūkeko & Co"]["PrimaryEmailAddr"]["Address"] == "p@p.example"

    onecrm.control("config", {"clock_offset_seconds": 5})
    account_id = created.json()["id"]
    http.patch(f"{api}/{account_id}", json={"data": {"email1": "q@p.example"}}, auth=auth)
    second = runner.run(flow, trigger_bundles=onecrm_bundles(receiver.next()))
    assert second.status == "success", second.error
    assert ops(second, 5) == 1 and ops(second, 4) == 0
    customers = {c["DisplayName"]: c for c in qbo_records(quickbooks, "Customer")}
    assert customers["Pūkeko & Co"]["PrimaryEmailAddr"]["Address"] == "q@p.example"
    assert customers["Pūkeko & Co"]["SyncToken"] == "1"
