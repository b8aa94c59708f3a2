"""The "done when" scenarios of Connectors I, run with ``run_scenario`` against both sandboxes:

- 1CRM New Event (Account) → Xero Search for Contacts {Ignore} → Router → Create / Update
  Contact (update only when the account's Last Modified is later than the contact's Updated
  date: what stops a two-way sync from looping) — the guide's §2.1;
- Xero Watch Contacts → 1CRM Search for Records {Ignore} → Router → Create / Update a Record
  — the guide's §2.2.

1CRM's webhooks arrive over real HTTP at a local receiver, standing in for the ingress; the
receiver's bodies become trigger bundles through the trigger's ``webhook_bundles`` hook.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from werkzeug.wrappers import Request, Response

from modules.onecrm.modules import attach_webhook, webhook_bundles

from .conftest import node, outputs


class Receiver:
    def __init__(self):
        self.bodies = []
        self.condition = threading.Condition()

    def __call__(self, environ, start_response):
        body = json.loads(Request(environ).get_data() or b"null")
        with self.condition:
            self.bodies.append(body)
            self.condition.notify_all()
        return Response("Accepted")(environ, start_response)

    def next(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        with self.condition:
            while not self.bodies:
                assert self.condition.wait(deadline - time.monotonic()), "no webhook arrived"
            return self.bodies.pop(0)


def ops(record, module_id):
    """Operations of a module in a run (0 when its filter stopped every bundle)."""
    module = record.modules.get(module_id)
    return module.operations if module else 0


def conn(connection, **extra):
    return {"__IMTCONN__": connection.id, **extra}


def crm_to_xero_blueprint(crm, xero):
    search = node(
        2,
        "xero:SearchContacts",
        {
            "searchBy": "field",
            "filter": [[{"field": "Name", "operator": "equals", "value": "{{1.name}}"}]],
        },
        conn(xero, limit=1, continueWhenNoRes=True),
        onerror=[{"id": 6, "module": "builtin:Ignore"}],
    )
    create = node(
        4,
        "xero:CreateContact",
        {
            "Name": "{{1.name}}",
            "EmailAddress": "{{1.email1}}",
            "Addresses": [{"AddressType": "POBOX", "City": "{{1.billing_address_city}}"}],
        },
        conn(xero),
        filter={
            "name": "New Accounts",
            "conditions": [[{"a": "{{2.ContactID}}", "o": "notexist"}]],
        },
    )
    update = node(
        5,
        "xero:UpdateContact",
        {"ContactID": "{{2.ContactID}}", "Name": "{{1.name}}", "EmailAddress": "{{1.email1}}"},
        conn(xero),
        filter={
            "name": "Update Accounts",
            "conditions": [
                [
                    {"a": "{{2.ContactID}}", "o": "exist"},
                    {"a": "{{1.date_modified}}", "o": "date:greater", "b": "{{2.UpdatedDateUTC}}"},
                ]
            ],
        },
    )
    return [
        node(1, "onecrm:NewEvent", parameters=conn(crm, model="Account", event="create_or_update")),
        search,
        {
            "id": 3,
            "module": "builtin:BasicRouter",
            "routes": [{"flow": [create]}, {"flow": [update]}],
        },
    ]


def xero_to_crm_blueprint(xero, crm):
    search = node(
        2,
        "onecrm:SearchRecords",
        {"model": "Account", "filter_text": "{{1.Name}}"},
        conn(crm, limit=1, continueWhenNoRes=True),
        onerror=[{"id": 6, "module": "builtin:Ignore"}],
    )
    create = node(
        4,
        "onecrm:CreateRecord",
        {"model": "Account", "name": "{{1.Name}}", "email1": "{{1.EmailAddress}}"},
        conn(crm),
        filter={"name": "New Accounts", "conditions": [[{"a": "{{2.id}}", "o": "notexist"}]]},
    )
    update = node(
        5,
        "onecrm:UpdateRecord",
        {
            "model": "Account",
            "id": "{{2.id}}",
            "name": "{{1.Name}}",
            "email1": "{{1.EmailAddress}}",
        },
        conn(crm),
        filter={
            "name": "Update Accounts",
            "conditions": [
                [
                    {"a": "{{2.id}}", "o": "exist"},
                    {"a": "{{1.UpdatedDateUTC}}", "o": "date:greater", "b": "{{2.date_modified}}"},
                ]
            ],
        },
    )
    return [
        node(1, "xero:WatchContacts", parameters=conn(xero, start="all", limit=50)),
        search,
        {
            "id": 3,
            "module": "builtin:BasicRouter",
            "routes": [{"flow": [create]}, {"flow": [update]}],
        },
    ]


@pytest.fixture
def receiver(serve):
    hook = Receiver()
    hook.url = serve(hook) + "/hooks/onecrm"
    return hook


def xero_contacts(xero):
    (tenant,) = xero.state()["records"].values()
    return {c["Name"]: c for c in tenant["Contacts"]}


def test_accounts_from_1crm_create_then_update_xero_contacts(
    runner, http, onecrm, xero, onecrm_connection, xero_connection, resolver, receiver
):
    crm = resolver.get(onecrm_connection.id)
    hook_id = attach_webhook(
        crm, http, receiver.url, {"model": "Accounts", "event": "create_or_update"}
    )
    assert hook_id
    flow = crm_to_xero_blueprint(onecrm_connection, xero_connection)
    api = f"{onecrm.url}/api.php/data/Account"
    auth = ("admin", "sandbox-password")

    created = http.post(
        api,
        json={
            "data": {
                "name": "Harakeke Ltd",
                "email1": "a@h.example",
                "billing_address_city": "Napier",
            }
        },
        auth=auth,
    )
    account_id = created.json()["id"]
    first = runner.run(flow, trigger_bundles=webhook_bundles(receiver.next()))
    assert first.status == "success", first.error
    assert ops(first, 4) == 1 and ops(first, 5) == 0
    contact = xero_contacts(xero)["Harakeke Ltd"]
    assert contact["EmailAddress"] == "a@h.example"

    # 1CRM stamps to the second: move its clock so the change is clearly later than Xero's.
    onecrm.control("config", {"clock_offset_seconds": 5})
    http.patch(f"{api}/{account_id}", json={"data": {"email1": "b@h.example"}}, auth=auth)
    second = runner.run(flow, trigger_bundles=webhook_bundles(receiver.next()))
    assert second.status == "success", second.error
    assert ops(second, 5) == 1 and ops(second, 4) == 0
    assert xero_contacts(xero)["Harakeke Ltd"]["EmailAddress"] == "b@h.example"
    assert len(xero_contacts(xero)) == 1

    # An account older than the contact (a change that came from Xero) is not sent back.
    stale = {
        "id": account_id,
        "name": "Harakeke Ltd",
        "email1": "old@h.example",
        "date_modified": "2000-01-01T00:00:00.000Z",
    }
    third = runner.run(flow, trigger_bundles=[stale])
    assert third.status == "success"
    assert ops(third, 5) == 0 and ops(third, 4) == 0
    assert xero_contacts(xero)["Harakeke Ltd"]["EmailAddress"] == "b@h.example"


def test_contacts_from_xero_create_then_update_1crm_accounts(
    runner, http, onecrm, xero, onecrm_connection, xero_connection
):
    for name, email in (("Kowhai Ltd", "k@k.example"), ("Manuka Co", "m@m.example")):
        runner.one(
            "xero:CreateContact", {"Name": name, "EmailAddress": email}, conn(xero_connection)
        )
    flow = xero_to_crm_blueprint(xero_connection, onecrm_connection)
    first = runner.run(flow)
    assert first.status == "success", first.error
    assert ops(first, 4) == 2
    accounts = {a["name"]: a for a in onecrm.state()["records"]["Account"]}
    assert accounts["Kowhai Ltd"]["email1"] == "k@k.example"
    assert accounts["Manuka Co"]["email1"] == "m@m.example"

    assert runner.run(flow).modules[1].bundles_out == 0  # nothing changed since the cursor

    xero.control("config", {"clock_offset_seconds": 5})
    contact = outputs(
        runner.one(
            "xero:SearchContacts", {"searchBy": "term", "term": "Kowhai"}, conn(xero_connection)
        ),
        1,
    )[0]
    runner.one(
        "xero:UpdateContact",
        {"ContactID": contact["ContactID"], "EmailAddress": "new@k.example"},
        conn(xero_connection),
    )
    second = runner.run(flow)
    assert second.status == "success", second.error
    assert second.modules[1].bundles_out == 1
    assert ops(second, 5) == 1 and ops(second, 4) == 0
    accounts = {a["name"]: a for a in onecrm.state()["records"]["Account"]}
    assert accounts["Kowhai Ltd"]["email1"] == "new@k.example"
    assert len(accounts) == 2
