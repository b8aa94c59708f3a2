"""What a finished run's record keeps: every bundle by default (Make's way), or for successful
runs only statuses, counts and timings when the installation or the scenario says so (n8n's
"do not save successful executions"); a run that did not succeed keeps its bundles always."""

from __future__ import annotations

import dataclasses
import json

import pytest

from engine.service import Service, ServiceOptions
from engine.store import ExecutionStatus
from tests.service.blueprints import blueprint, module, set_variable, webhook_trigger

JSON = "application/json"


def run(service, text, body):
    scenario = service.import_scenario(text, active=True)
    token = scenario.webhooks[0].token
    service.accept_webhook(
        token,
        method="POST",
        headers={"Content-Type": JSON},
        query={},
        body=json.dumps(body).encode(),
        content_type=JSON,
    )
    (execution_id,) = service.process_webhook(scenario.webhooks[0].id)
    return service.get_execution(execution_id)


def calls(record, module_id):
    (found,) = [m for m in record["modules"] if m["id"] == module_id]
    return found["calls"]


@pytest.fixture
def lean_service(store, queue, settings, registry, clock):
    lean = dataclasses.replace(settings, keep_successful_bundles=False)
    service = Service(store, queue, lean, registry, clock, options=ServiceOptions())
    yield service
    service.close()


def test_by_default_a_successful_run_keeps_every_bundle(service):
    execution = run(service, blueprint(webhook_trigger(), set_variable()), {"n": 7})
    assert execution.status is ExecutionStatus.SUCCESS
    assert calls(execution.record, 2)[0]["output"] == [{"n": 7}]
    assert execution.record.get("bundles_kept", True) is True


def test_without_successful_bundles_a_successful_run_keeps_counts_not_data(lean_service):
    execution = run(lean_service, blueprint(webhook_trigger(), set_variable()), {"n": 7})
    assert execution.status is ExecutionStatus.SUCCESS
    record = execution.record
    assert record["bundles_kept"] is False
    assert record["operations"] == 2 and record["data_size"] > 0
    (call,) = calls(record, 2)
    assert call["input"] is None and call["output"] == [] and call["output_count"] == 1
    assert lean_service.get_execution(execution.id).record == record  # as stored


def test_a_failed_run_keeps_its_bundles_whatever_the_policy(lean_service):
    broken = blueprint(
        webhook_trigger(), module(2, "json:ParseJSON", json="{{1.text}}"), name="Broken"
    )
    execution = run(lean_service, broken, {"text": "not json"})
    assert execution.status is ExecutionStatus.ERROR
    assert execution.record.get("bundles_kept", True) is True
    assert calls(execution.record, 2)[0]["input"] == {"json": "not json"}


def test_a_scenario_setting_wins_over_the_installation(lean_service):
    text = blueprint(webhook_trigger(), set_variable(), keepSuccessfulBundles=True)
    execution = run(lean_service, text, {"n": 3})
    assert calls(execution.record, 2)[0]["output"] == [{"n": 3}]
