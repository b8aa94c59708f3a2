"""What the service hands a run: data stores, module state kept between runs, app triggers'
webhook bodies unwrapped, connections resolved through the connector framework."""

from __future__ import annotations

import json

from engine.store import ExecutionStatus
from tests.service.test_service import active_hook, post


def blueprint(*flow):
    return json.dumps({"name": "wiring", "flow": list(flow), "metadata": {"version": 1}})


def test_data_store_modules_reach_the_store(service, store):
    seen = store.create_data_store("seen", max_size_bytes=100_000).id
    text = blueprint(
        {"id": 1, "module": "gateway:CustomWebHook", "parameters": {"hook": 1}},
        {
            "id": 2,
            "module": "datastore:AddRecord",
            "parameters": {"datastore": seen},
            "mapper": {"key": "{{1.id}}", "data": {"email": "{{1.email}}"}},
        },
        {
            "id": 3,
            "module": "datastore:SearchRecord",
            "parameters": {"datastore": seen},
            "mapper": {"filter": [[{"a": "email", "o": "text:contain", "b": "@"}]]},
        },
    )
    _, hook = active_hook(service, text)
    post(service, hook.token, {"id": "k1", "email": "a@b.c"})
    [execution_id] = service.process_webhook(hook.id)
    execution = service.get_execution(execution_id)
    assert execution.status is ExecutionStatus.SUCCESS, execution.error
    assert store.get_record(seen, "k1") == {"email": "a@b.c"}
    found = execution.record["modules"][2]["calls"][0]["output"]
    assert [bundle["key"] for bundle in found] == ["k1"]


def test_increment_keeps_counting_across_runs(service):
    text = blueprint(
        {"id": 1, "module": "gateway:CustomWebHook", "parameters": {"hook": 1}},
        {"id": 2, "module": "util:FunctionIncrement", "parameters": {"reset": "scenario"}},
    )
    _, hook = active_hook(service, text)
    counts = []
    for _ in range(3):
        post(service, hook.token, {})
        [execution_id] = service.process_webhook(hook.id)
        record = service.get_execution(execution_id).record
        counts.append(record["modules"][1]["calls"][0]["output"][0]["i"])
    assert counts == [1, 2, 3]


def test_onecrm_new_event_unwraps_the_record_from_the_webhook_body(service):
    text = blueprint(
        {
            "id": 1,
            "module": "onecrm:NewEvent",
            "parameters": {"__IMTCONN__": 1, "model": "Account", "event": "create_or_update"},
        },
        {"id": 2, "module": "util:ComposeTransformer", "mapper": {"value": "{{1.name}}"}},
    )
    _, hook = active_hook(service, text)
    body = {
        "webhook_id": "w1",
        "model": "Account",
        "event": "update",
        "record": {"id": "a-1", "name": "ACME Ltd", "date_modified": "2026-03-02 09:00:00"},
    }
    post(service, hook.token, body)
    [execution_id] = service.process_webhook(hook.id)
    execution = service.get_execution(execution_id)
    assert execution.status is ExecutionStatus.SUCCESS, execution.error
    assert execution.record["modules"][1]["calls"][0]["output"] == [{"value": "ACME Ltd"}]


def test_http_keychains_resolve_through_the_connection_store(service, store, settings):
    connection = store.create_connection(
        "http",
        "api_key",
        "my key",
        data={"name": "x-key", "placement": "header"},
        secrets={"key": "s3cret"},
    )
    text = blueprint(
        {"id": 1, "module": "gateway:CustomWebHook", "parameters": {"hook": 1}},
        {
            "id": 2,
            "module": "http:MakeRequest",
            "parameters": {"authenticationType": "apiKey", "apiKeyKeychain": connection.id},
            "mapper": {"url": "http://127.0.0.1:9/none"},
        },
    )
    _, hook = active_hook(service, text)
    post(service, hook.token, {})
    [execution_id] = service.process_webhook(hook.id)
    execution = service.get_execution(execution_id)
    # The key resolves (no configuration error); the guard then refuses loopback, as it should.
    assert execution.status is ExecutionStatus.ERROR
    assert "private, loopback or link-local" in execution.error["message"]


def test_expiring_app_subscriptions_are_renewed_by_the_tick(
    store, queue, settings, registry, clock
):
    from engine.service import Service, ServiceOptions
    from engine.spec import ModuleKind
    from engine.testing import stub_module

    calls = []

    def attach(connection, http, url, parameters):
        calls.append(("attach", url))
        return f"channel-{len(calls)}"

    def detach(connection, http, hook_id):
        calls.append(("detach", hook_id))

    trigger = stub_module("test:Notifications", kind=ModuleKind.INSTANT_TRIGGER)
    hooks = {
        "attach_webhook": attach,
        "detach_webhook": detach,
        "renew_webhook_after": lambda: 12 * 3600,
    }
    registry.register(type(trigger)(**{**trigger.__dict__, "hooks": hooks}))
    options = ServiceOptions(base_url="https://switchboard.test", dispatch_grace_seconds=1)
    service = Service(store, queue, settings, registry, clock, options=options)
    try:
        connection = store.create_connection("test", "basic", "c", data={}, secrets={})
        text = blueprint(
            {"id": 1, "module": "test:Notifications", "parameters": {"__IMTCONN__": connection.id}}
        )
        webhook = service.import_scenario(text, active=True).webhooks[0]
        assert calls == [("attach", f"https://switchboard.test/hooks/{webhook.token}")]
        clock.advance(hours=1)
        service.tick()
        assert len(calls) == 1
        clock.advance(hours=12)
        service.tick()
        assert calls[1:] == [("detach", "channel-1"), calls[2]] and calls[2][0] == "attach"
        assert store.get_webhook(webhook.id).settings["app_hook_id"] == "channel-3"
    finally:
        service.close()
