"""Make's Scenarios app through the service: a scenario calls another (``CallSubscenario``), the
called one starts with its inputs (``StartSubscenario``) and returns outputs (``ReturnData``)."""

from __future__ import annotations

import pytest

from engine.store import ExecutionStatus, TriggerKind
from tests.service.blueprints import blueprint, module


def start(module_id: int = 1) -> dict:
    """As Make exports it (integromat/make-skills' generic API shell): inputs declared in
    the module's ``metadata.interface``."""
    return {
        "id": module_id,
        "module": "scenario-service:StartSubscenario",
        "version": 2,
        "parameters": {},
        "mapper": {},
        "metadata": {
            "interface": [
                {"name": "city", "type": "text", "required": True},
                {"name": "n", "type": "number", "required": False},
            ]
        },
    }


def return_data(module_id: int, **outputs: str) -> dict:
    return {
        "id": module_id,
        "module": "scenario-service:ReturnData",
        "version": 1,
        "parameters": {},
        "mapper": outputs,
    }


def call(module_id: int, scenario, wait: bool = True, **inputs) -> dict:
    return {
        "id": module_id,
        "module": "scenario-service:CallSubscenario",
        "version": 2,
        "parameters": {"scenario": scenario, "shouldWaitForExecutionEnd": wait},
        "mapper": {"data": inputs},
    }


def set_var(module_id: int, name: str, value: str) -> dict:
    mapper = {"name": name, "scope": "roundtrip", "value": value}
    return {**module(module_id, "util:SetVariable2"), "mapper": mapper}


def router(module_id: int, *routes: list[dict]) -> dict:
    return {
        "id": module_id,
        "module": "builtin:BasicRouter",
        "version": 1,
        "mapper": None,
        "routes": [{"flow": flow} for flow in routes],
    }


CHILD = blueprint(
    start(),
    router(
        2,
        [
            return_data(
                3, greeting="Hello {{1.city}}", double="{{1.n * 2}}", seen="{{var.input.city}}"
            )
        ],
        [set_var(4, "after", "ran")],
    ),
    name="Greeter",
)


def parent(scenario, wait: bool = True) -> str:
    return blueprint(
        call(1, scenario, wait, city="Oslo", n=21),
        set_var(2, "got", "{{1.greeting}}/{{1.double}}"),
        name="Caller",
    )


@pytest.fixture
def child(service):
    return service.import_scenario(CHILD, active=True).scenario


def record_of(service, execution):
    return service.get_execution(execution.id).record


def outputs_of(record, module_id):
    found = next(m for m in record["modules"] if m["id"] == module_id)
    return [bundle for call in found["calls"] for bundle in call["output"]]


def test_a_called_scenario_gets_its_inputs_and_its_outputs_come_back(service, child):
    caller = service.import_scenario(parent(child.id)).scenario
    execution = service.run_once(caller.id)
    assert execution.status is ExecutionStatus.SUCCESS, execution.error
    record = record_of(service, execution)
    [called] = outputs_of(record, 1)
    assert called["greeting"] == "Hello Oslo" and called["double"] == 42
    assert called["seen"] == "Oslo"  # var.input is the inputs too
    assert outputs_of(record, 2) == [{"got": "Hello Oslo/42"}]
    child_run = service.get_execution(called["executionId"])
    assert child_run.trigger_kind is TriggerKind.SUBSCENARIO
    assert child_run.status is ExecutionStatus.SUCCESS
    assert child_run.record["outputs"] == {"greeting": "Hello Oslo", "double": 42, "seen": "Oslo"}


def test_return_output_ends_the_run_like_return(service, child):
    caller = service.import_scenario(parent(child.id)).scenario
    [called] = outputs_of(record_of(service, service.run_once(caller.id)), 1)
    modules = {m["id"]: m for m in service.get_execution(called["executionId"]).record["modules"]}
    assert 4 not in modules  # the second route never ran


def test_a_scenario_is_called_by_its_name_too(service, child):
    caller = service.import_scenario(parent("Greeter")).scenario
    execution = service.run_once(caller.id)
    assert execution.status is ExecutionStatus.SUCCESS, execution.error


def test_without_waiting_the_call_queues_the_run_and_outputs_its_id(service, child):
    caller = service.import_scenario(parent(child.id, wait=False)).scenario
    execution = service.run_once(caller.id)
    [called] = outputs_of(record_of(service, execution), 1)
    queued = service.get_execution(called["executionId"])
    assert queued.status is ExecutionStatus.QUEUED
    assert service.execute(queued.id).status is ExecutionStatus.SUCCESS  # a worker takes it


def test_a_called_scenario_needs_no_webhook_and_no_schedule(service, child):
    assert service.store.list_webhooks(scenario_id=child.id) == []
    assert child.scheduling["type"] == "on-demand"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("inactive", "is not active"),
        ("webhook", "does not start with Start scenario"),
        ("missing", "no scenario is called 'Nobody'"),
    ],
)
def test_a_scenario_that_cannot_be_called_is_the_calls_error(service, target, expected):
    if target == "inactive":
        scenario = service.import_scenario(CHILD).scenario.id
    elif target == "webhook":
        hook = blueprint(set_var(1, "x", "1"), name="Plain")
        scenario = service.import_scenario(hook, active=True).scenario.id
    else:
        scenario = "Nobody"
    execution = service.run_once(service.import_scenario(parent(scenario)).scenario.id)
    assert execution.status is ExecutionStatus.ERROR
    assert expected in execution.error["message"]


def test_a_scenario_calling_itself_stops_at_the_depth_limit(service):
    looping = blueprint(start(), call(2, "Loop", city="{{1.city}}"), name="Loop")
    scenario = service.import_scenario(looping, active=True).scenario
    caller = service.import_scenario(parent(scenario.id)).scenario
    execution = service.run_once(caller.id)
    assert execution.status is ExecutionStatus.ERROR
    assert "nest deeper than 10" in execution.error["message"]


def test_a_required_input_without_a_value_is_the_calls_error(service, child):
    without_city = blueprint(call(1, child.id, n=2), name="Caller")
    execution = service.run_once(service.import_scenario(without_city).scenario.id)
    assert execution.status is ExecutionStatus.ERROR
    assert "needs its input(s) city" in execution.error["message"]
    assert service.list_executions(scenario_id=child.id).items == []  # nothing was started
