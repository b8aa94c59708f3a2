"""QuickBooks Online against the vendor pack (``vendor/quickbooks``): the connector and the
sandbox are held to each fact and example of ``NOTES.md``, every test citing the line it checks
(``notes_line`` verifies the citation). Where the pack documents a rule, the sandbox is never
more lenient than Intuit."""

from __future__ import annotations

import json
from types import SimpleNamespace

from modules.quickbooks.modules import webhook_bundles
from modules.quickbooks.webhooks import (
    change_events,
    intuit_signature,
    intuit_webhook_status,
    route_delivery,
)
from tests.connectors.pack_citations import example, example_bytes, notes_line

APP = "quickbooks"
CLOUDEVENTS = "webhook-cloudevents.json"
LEGACY = "webhook-legacy-eventNotifications.json"


def stored(realm, verifier="verifier"):
    """A stored QuickBooks connection as the ingress hands it to ``route_delivery``."""
    return SimpleNamespace(data={"realm_id": realm}, secrets={"verifier_token": verifier})


# -- §8 webhooks --------------------------------------------------------------------------------


def test_the_cloudevents_example_becomes_the_change_it_describes():
    notes_line(APP, 141, "**CloudEvents payload** (array)")
    notes_line(APP, 145, "`intuitentityid` replaces `entities[].id`, `time` replaces `lastUpdated`")
    (bundle,) = change_events(example_bytes(APP, CLOUDEVENTS))
    assert bundle == {
        "realmId": "310687",
        "name": "Account",
        "id": "1234",
        "operation": "Create",
        "lastUpdated": "2025-09-10T21:31:25.179851517Z",
        "type": "qbo.account.created.v1",
        "eventId": "88cd52aa-33b6-4351-9aa4-47572edbd068",
    }


def test_both_example_payloads_describe_the_same_change():
    notes_line(APP, 157, "Support both shapes")
    notes_line(APP, 157, "object with `eventNotifications` ⇒ legacy")
    keys = ("realmId", "name", "id", "operation")
    (new,) = change_events(example(APP, CLOUDEVENTS))
    (old,) = change_events(example(APP, LEGACY))
    assert (
        [new[k] for k in keys] == [old[k] for k in keys] == ["310687", "Account", "1234", "Create"]
    )


def test_the_new_event_trigger_reads_cloudevents_as_the_ingress_hands_them_over():
    """A webhook makes ``{"value": [...]}`` of an array body (``engine.webhooks``); scenario
    3.2 filters on ``{{1.name}}`` and reads ``{{1.id}}``."""
    notes_line(APP, 144, "`type` = `qbo.<entity>.<operation>.v1`")
    events = [
        {**example(APP, CLOUDEVENTS)[0], "type": f"qbo.{kind}.v1", "intuitentityid": entity}
        for kind, entity in (
            ("customer.created", "7"),
            ("invoice.updated", "9"),
            ("customer.deleted", "8"),
        )
    ]
    chosen = webhook_bundles(
        {"value": events}, {"entities": "Customer", "operations": "Create,Update"}
    )
    assert [(b["name"], b["id"], b["operation"]) for b in chosen] == [("Customer", "7", "Create")]
    every = webhook_bundles(events)
    assert [(b["name"], b["operation"]) for b in every] == [
        ("Customer", "Create"),
        ("Invoice", "Update"),
        ("Customer", "Delete"),
    ]


def test_the_signature_check_is_the_same_for_both_payloads():
    notes_line(APP, 159, "**Signature** (unchanged by the migration)")
    notes_line(APP, 160, "base64(HMAC-SHA256(verifier token, raw request body))")
    for name in (CLOUDEVENTS, LEGACY):
        raw = example_bytes(APP, name)
        signature = intuit_signature("verifier", raw)
        assert intuit_webhook_status("verifier", raw, signature) == 200
        assert intuit_webhook_status("verifier", raw.replace(b"1234", b"1235"), signature) == 401


def test_one_cloudevents_delivery_for_several_companies_is_routed_per_event():
    notes_line(APP, 148, "One delivery can carry events for several companies")
    template = example(APP, CLOUDEVENTS)[0]
    events = [
        {**template, "id": f"e{n}", "intuitaccountid": realm, "intuitentityid": str(n)}
        for n, realm in enumerate(("111", "222", "111"), start=1)
    ]
    raw = json.dumps(events).encode()
    headers = {"intuit-signature": intuit_signature("verifier", raw)}
    companies = {"a": stored("111"), "b": stored("222"), "c": stored("333")}
    status, parts = route_delivery(raw, headers, companies)
    assert status == 200 and set(parts) == {"a", "b"}
    assert [e["intuitentityid"] for e in json.loads(parts["a"])] == ["1", "3"]
    assert [e["intuitentityid"] for e in json.loads(parts["b"])] == ["2"]
    assert [b["id"] for b in webhook_bundles(json.loads(parts["a"]))] == ["1", "3"]


def test_a_forged_cloudevents_delivery_is_refused():
    raw = example_bytes(APP, CLOUDEVENTS)
    headers = {"intuit-signature": intuit_signature("forged", raw)}
    assert route_delivery(raw, headers, {"a": stored("310687")}) == (401, {})
