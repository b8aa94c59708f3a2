"""The service on the SQLite store with an InlineQueue whose threads are not started: each test
drives the work by hand (``process_webhook``, ``execute``, ``tick``) and sees every step."""

from __future__ import annotations

import json

import pytest

from engine.errors import BlueprintError, ConnectionError
from engine.service import (
    InvalidPayload,
    PayloadTooLarge,
    RateLimited,
    WebhookNotFound,
    WebhookQueueFull,
    execution_id_for_item,
)
from engine.store import ExecutionStatus, IncompleteStatus, QueueItemStatus, TriggerKind
from engine.testing import stub_module
from tests.service.blueprints import (
    HOOK_TO_VARIABLE,
    blueprint,
    module,
    set_variable,
    webhook_trigger,
)

JSON = "application/json"


def post(service, token, body: bytes | dict = b"{}", content_type=JSON, method="POST"):
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    return service.accept_webhook(
        token,
        method=method,
        headers={"Content-Type": content_type},
        query={},
        body=data,
        content_type=content_type,
    )


def active_hook(service, text=HOOK_TO_VARIABLE):
    result = service.import_scenario(text, active=True)
    return result.scenario, result.webhooks[0]


def test_import_stores_the_text_byte_exact_and_creates_a_webhook(service):
    text = HOOK_TO_VARIABLE + "\n"
    result = service.import_scenario(text.encode(), name="Mine")
    assert service.export_scenario(result.scenario.id) == text
    assert result.scenario.name == "Mine" and not result.scenario.active
    assert result.scenario.scheduling == {"type": "immediately"}
    assert len(result.webhooks) == 1 and len(result.webhooks[0].token) >= 40


def test_import_reports_unknown_modules_but_keeps_them(service):
    text = blueprint(webhook_trigger(), module(2, "mandrill:sendMessage", text="hi"))
    result = service.import_scenario(text)
    assert result.unsupported == {"mandrill:sendMessage": (2,)}


def test_import_refuses_a_broken_blueprint(service):
    with pytest.raises(BlueprintError):
        service.import_scenario(b'{"name": "x", "flow": [{"module": 5}]}')


def test_webhook_runs_once_and_marks_the_item_done(service, store):
    _, hook = active_hook(service)
    accepted = post(service, hook.token, {"n": 7})
    assert service.process_webhook(hook.id) == [execution_id_for_item(accepted.item_id)]
    execution = service.get_execution(execution_id_for_item(accepted.item_id))
    assert execution.status is ExecutionStatus.SUCCESS
    assert execution.trigger_kind is TriggerKind.WEBHOOK
    assert execution.record["modules"][1]["calls"][0]["output"] == [{"n": 7}]
    assert store.get_queue_item(accepted.item_id).status is QueueItemStatus.DONE


def test_redelivered_work_does_nothing(service, store):
    scenario, hook = active_hook(service)
    accepted = post(service, hook.token, {"n": 1})
    [execution_id] = service.process_webhook(hook.id)
    assert service.process_webhook(hook.id) == []
    assert service.execute(execution_id) is None
    assert store.count_executions(scenario_id=scenario.id) == 1
    assert accepted.item_id


def test_inactive_scenario_keeps_requests_until_activated(service, store):
    result = service.import_scenario(HOOK_TO_VARIABLE)
    hook = result.webhooks[0]
    post(service, hook.token, {"n": 1})
    assert service.process_webhook(hook.id) == []
    assert store.count_queue(hook.id) == 1
    service.activate_scenario(result.scenario.id)
    assert len(service.process_webhook(hook.id)) == 1


def test_ingress_refusals(service, settings):
    _, hook = active_hook(service)
    with pytest.raises(WebhookNotFound):
        post(service, "nope")
    with pytest.raises(InvalidPayload, match="not valid JSON"):
        post(service, hook.token, b"{oops")
    with pytest.raises(PayloadTooLarge):
        post(service, hook.token, b"x" * (settings.webhook_max_payload_bytes + 1), "text/plain")


def test_rate_limit(service, settings):
    _, hook = active_hook(service)
    for _ in range(settings.webhook_rate_limit):
        post(service, hook.token)
    with pytest.raises(RateLimited) as refused:
        post(service, hook.token)
    assert refused.value.retry_after > 0


def test_queue_limit_of_an_inactive_scenario(store, queue, registry, clock, tmp_path):
    from engine.config import Settings
    from engine.service import Service

    settings = Settings.from_env(
        {"SWITCHBOARD_VAR_DIR": str(tmp_path / "v2"), "SWITCHBOARD_WEBHOOK_QUEUE_LIMIT": "2"}
    ).with_secret_key_file()
    service = Service(store, queue, settings, registry, clock)
    hook = service.import_scenario(HOOK_TO_VARIABLE).webhooks[0]
    post(service, hook.token)
    post(service, hook.token)
    with pytest.raises(WebhookQueueFull):
        post(service, hook.token)
    service.close()


def test_responder_answer_reaches_the_waiting_caller(service):
    from tests.service.blueprints import HOOK_WITH_RESPONSE

    _, hook = active_hook(service, HOOK_WITH_RESPONSE)
    accepted = post(service, hook.token, {"n": 3})
    assert accepted.responds
    service.process_webhook(hook.id)
    answer = service.wait_for_response(accepted, timeout=1)
    assert (answer.status, answer.body, answer.headers) == (201, "got 3", {"X-Answer": "yes"})


def test_run_once_with_a_bundle(service):
    scenario = service.import_scenario(HOOK_TO_VARIABLE).scenario
    execution = service.run_once(scenario.id, [{"n": 9}])
    assert execution.status is ExecutionStatus.SUCCESS
    assert execution.trigger_kind is TriggerKind.MANUAL


def test_data_structure_from_the_newest_request(service):
    _, hook = active_hook(service)
    post(
        service,
        hook.token,
        {"name": "A", "count": 2, "when": "2026-01-02", "lines": [{"sku": "x"}], "ok": True},
    )
    structure = service.determine_data_structure(hook.id)
    assert structure == [
        {"name": "name", "type": "text"},
        {"name": "count", "type": "number"},
        {"name": "when", "type": "date"},
        {
            "name": "lines",
            "type": "array",
            "spec": {"type": "collection", "spec": [{"name": "sku", "type": "text"}]},
        },
        {"name": "ok", "type": "boolean"},
    ]
    assert service.store.get_webhook(hook.id).settings["structure"] == structure


def failing_registry(registry, error):
    registry.register(stub_module("test:Flaky", error=error))
    return registry


def test_instant_scenario_deactivates_on_first_error(service, registry):
    failing_registry(registry, ConnectionError("down"))
    text = blueprint(webhook_trigger(), module(2, "test:Flaky"))
    scenario, hook = active_hook(service, text)
    post(service, hook.token)
    [execution_id] = service.process_webhook(hook.id)
    assert service.get_execution(execution_id).status is ExecutionStatus.ERROR
    assert not service.get_scenario(scenario.id).active


def test_incomplete_execution_is_stored_retried_on_backoff_and_resolved(service, registry, clock):
    calls = {"n": 0}

    def flaky(call):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("down")
        return [{"ok": True}]

    registry.register(stub_module("test:Flaky", outputs=flaky))
    text = blueprint(webhook_trigger(), set_variable(), module(3, "test:Flaky"), dlq=True)
    scenario, hook = active_hook(service, text)
    post(service, hook.token, {"n": 1})
    [execution_id] = service.process_webhook(hook.id)
    assert service.get_execution(execution_id).status is ExecutionStatus.INCOMPLETE
    [incomplete] = service.list_incomplete(scenario_id=scenario.id)
    assert incomplete.failed_module_id == 3 and incomplete.blueprint_version == 1
    assert incomplete.next_retry_at == clock.now + __import__("datetime").timedelta(minutes=1)
    service.save_scenario(scenario.id, text.replace('"Test"', '"Test v2"'))
    clock.advance(minutes=1)
    report = service.tick()
    assert report.retried == [incomplete.id]
    retry = service.list_executions(scenario_id=scenario.id).items[0]
    assert retry.trigger_kind is TriggerKind.RETRY and retry.scenario_version == 1
    assert service.execute(retry.id).status is ExecutionStatus.SUCCESS
    assert service.get_incomplete(incomplete.id).status is IncompleteStatus.RESOLVED


def test_reaper_requeues_a_run_whose_worker_died(service, store, clock):
    scenario, hook = active_hook(service)
    accepted = post(service, hook.token, {"n": 1})
    item = store.claim_next(worker_id="dead", lease_seconds=5, webhook_id=hook.id)
    assert item.id == accepted.item_id
    clock.advance(seconds=10)
    report = service.tick()
    assert report.requeued_items == [item.id]
    assert len(service.process_webhook(hook.id)) == 1
    execution = store.create_execution(scenario.id, 1, TriggerKind.MANUAL)
    assert store.claim_execution(execution.id, "dead")
    clock.advance(seconds=service.settings.stale_after_seconds + 1)
    assert service.tick().reaped == [execution.id]
    assert service.execute(execution.id).status is ExecutionStatus.SUCCESS


def test_sweep_dispatches_requests_that_were_never_handed_over(service, store, queue, clock):
    _, hook = active_hook(service)
    store.enqueue(hook.id, {"method": "POST", "headers": {}, "query": {}, "body_text": ""})
    assert queue.pending() == 0
    clock.advance(seconds=5)
    assert service.tick().dispatched_items == 1
    assert queue.pending() == 1


def test_a_restart_dispatches_every_waiting_request_however_many(service, store, queue):
    _, hook = active_hook(service)
    for _ in range(600):  # more than one sweep page (500)
        store.enqueue(hook.id, {"method": "POST", "headers": {}, "query": {}, "body_text": ""})
    assert service.recover_abandoned_work().dispatched_items == 600
    assert queue.pending() == 600


def test_sequential_scenario_pauses_while_incomplete_executions_wait(service, registry, store):
    registry.register(stub_module("test:Flaky", error=ConnectionError("down")))
    text = blueprint(
        webhook_trigger(), set_variable(), module(3, "test:Flaky"), dlq=True, sequential=True
    )
    scenario, hook = active_hook(service, text)
    post(service, hook.token, {"n": 1})
    post(service, hook.token, {"n": 2})
    assert len(service.process_webhook(hook.id)) == 1  # the first one went incomplete
    assert store.count_queue(hook.id) == 1
    [incomplete] = service.list_incomplete(scenario_id=scenario.id)
    service.resolve_incomplete(incomplete.id)
    assert len(service.process_webhook(hook.id)) == 1


def test_scheduled_polling_scenario_runs_when_due(service, registry, store, clock):
    seen = []

    def poll(call):
        seen.append(call.context.cursor or call.context.start)
        call.context.advance_cursor({"last": len(seen)})
        return [{"i": len(seen)}]

    from engine.spec import ModuleKind

    registry.register(stub_module("test:Watch", kind=ModuleKind.TRIGGER, outputs=poll))
    text = blueprint(module(1, "test:Watch"), set_variable(value="{{1.i}}"))
    result = service.import_scenario(text, scheduling={"type": "indefinitely", "interval": 60})
    service.activate_scenario(result.scenario.id)
    assert service.tick().scheduled == [result.scenario.id]
    [run] = service.list_executions(scenario_id=result.scenario.id).items
    service.execute(run.id)
    assert seen[0]["type"] == "now"  # no cursor yet: the activation's start choice
    assert service.tick().scheduled == []
    clock.advance(seconds=61)
    assert service.tick().scheduled == [result.scenario.id]
    run = service.list_executions(scenario_id=result.scenario.id).items[0]
    service.execute(run.id)
    assert seen[1] == {"last": 1}


def test_a_crash_while_storing_an_incomplete_run_leaves_it_to_the_reaper(
    service, store, registry, clock, monkeypatch
):
    registry.register(stub_module("test:Down", error=ConnectionError("down")))
    text = blueprint(webhook_trigger(), module(2, "test:Down"), dlq=True)
    scenario, hook = active_hook(service, text)
    post(service, hook.token, {"n": 1})
    real = store.create_incomplete

    def dies(*args, **kwargs):
        raise OSError("the worker's database connection broke")

    monkeypatch.setattr(store, "create_incomplete", dies)
    with pytest.raises(OSError):
        service.process_webhook(hook.id)
    [execution] = service.list_executions(scenario_id=scenario.id).items
    # Not "incomplete" without the state a retry needs: still running, for the reaper.
    assert execution.status is ExecutionStatus.RUNNING
    assert service.list_incomplete(scenario_id=scenario.id) == []
    monkeypatch.setattr(store, "create_incomplete", real)
    clock.advance(seconds=service.settings.stale_after_seconds + 1)
    assert service.tick().reaped == [execution.id]
    assert service.execute(execution.id).status is ExecutionStatus.INCOMPLETE
    [incomplete] = service.list_incomplete(scenario_id=scenario.id)
    assert incomplete.execution_id == execution.id and incomplete.failed_module_id == 2


def test_editing_a_stored_bundle_drops_the_repeated_calls_key(service, registry):
    registry.register(stub_module("test:Unanswered", error=ConnectionError("no answer")))
    text = blueprint(webhook_trigger(), module(2, "test:Unanswered"), dlq=True)
    scenario, hook = active_hook(service, text)
    post(service, hook.token, {"n": 1})
    service.process_webhook(hook.id)
    [incomplete] = service.list_incomplete(scenario_id=scenario.id)
    assert incomplete.state["call"]["ordinal"] == 1  # the retry would repeat the call's key
    same = service.edit_incomplete(incomplete.id, state=dict(incomplete.state))
    assert same.state["call"] == incomplete.state["call"]
    edited = {**incomplete.state, "bundles": {"1": {"n": 2}}}
    changed = service.edit_incomplete(incomplete.id, state=edited)
    assert "call" not in changed.state  # new data: a new request, with a new key
