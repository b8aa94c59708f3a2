"""Idempotency keys: one per module call, the same when an execution is run again."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.blueprint import load_blueprint
from engine.errors import ConnectionError, DataError
from engine.graph import compile_blueprint
from engine.registry import default_registry
from engine.runtime import IncompleteState, RunContext, run_scenario
from engine.runtime.context import idempotency_key
from engine.spec import ModuleKind
from engine.testing import stub_module


def _keys_of(call):
    return [{"key": call.context.idempotency_key(), "line": call.context.idempotency_key(2)}]


def _node(module_id, module, **mapper):
    return {"id": module_id, "module": module, "version": 1, "parameters": {}, "mapper": mapper}


def _plan():
    """Webhook → iterator over ``items`` → write (module 3) → write (module 4)."""
    registry = default_registry().copy()
    registry.replace(stub_module("gateway:CustomWebHook", kind=ModuleKind.INSTANT_TRIGGER))
    registry.replace(stub_module("test:WriteA", outputs=_keys_of))
    registry.replace(stub_module("test:WriteB", outputs=_keys_of))
    flow = [
        _node(1, "gateway:CustomWebHook"),
        _node(2, "builtin:BasicFeeder", array="{{1.items}}"),
        _node(3, "test:WriteA", value="{{2.value}}"),
        _node(4, "test:WriteB", value="{{2.value}}"),
    ]
    blueprint = load_blueprint({"name": "keys", "flow": flow, "metadata": {"version": 1}})
    return compile_blueprint(blueprint, registry)


def _keys(execution_id, scenario_id=7):
    context = RunContext(
        clock=lambda: datetime(2026, 3, 1, tzinfo=UTC),
        scenario_id=scenario_id,
        execution_id=execution_id,
    )
    bundles = [{"items": [{"value": "a"}, {"value": "b"}]}]
    record = run_scenario(_plan(), context, trigger_bundles=bundles)
    assert record.status == "success", record.error
    return {
        module_id: [out for call in record.modules[module_id].calls for out in call.output]
        for module_id in (3, 4)
    }


def test_keys_are_the_same_when_the_same_execution_runs_again():
    assert _keys("exec-1") == _keys("exec-1")


def test_keys_differ_between_calls_modules_executions_and_scenarios():
    first = _keys("exec-1")
    keys = [out["key"] for module_id in (3, 4) for out in first[module_id]]
    assert len(set(keys)) == 4, "two calls of each of two modules: four keys"
    other_execution = {out["key"] for outs in _keys("exec-2").values() for out in outs}
    assert not other_execution & set(keys)
    other_scenario = {out["key"] for outs in _keys("exec-1", 8).values() for out in outs}
    assert not other_scenario & set(keys)


def test_key_fits_quickbooks_and_xero_limits_and_takes_a_suffix():
    call = _keys("exec-1")[3][0]
    assert call["key"].startswith("sb-") and len(call["key"]) <= 50
    assert call["line"] == call["key"] + "-2"


def test_no_key_without_an_execution_id():
    assert _keys(None)[3] == [{"key": None, "line": None}] * 2


def _flaky_plan(error):
    """Webhook → iterator → a write that fails on "b" with ``error`` while it is set; incomplete
    executions on (dlq), so the failure is stored for a retry."""
    registry = default_registry().copy()
    registry.replace(stub_module("gateway:CustomWebHook", kind=ModuleKind.INSTANT_TRIGGER))

    def write(call):
        if call.input.model_dump().get("value") == "b" and failing:
            raise failing[0]
        return _keys_of(call)

    failing = [error]
    registry.replace(stub_module("test:Write", outputs=write))
    flow = [
        _node(1, "gateway:CustomWebHook"),
        _node(2, "builtin:BasicFeeder", array="{{1.items}}"),
        _node(3, "test:Write", value="{{2.value}}"),
    ]
    metadata = {"version": 1, "scenario": {"dlq": True}}
    blueprint = load_blueprint({"name": "flaky", "flow": flow, "metadata": metadata})
    return compile_blueprint(blueprint, registry), failing


def _context(execution_id):
    return RunContext(
        clock=lambda: datetime(2026, 3, 1, tzinfo=UTC), scenario_id=7, execution_id=execution_id
    )


def _retry_key(error):
    plan, failing = _flaky_plan(error)
    items = [{"items": [{"value": "a"}, {"value": "b"}]}]
    first = run_scenario(plan, _context("exec-1"), trigger_bundles=items)
    assert first.status == "incomplete", first.error
    [state] = first.incomplete
    failing.clear()  # the API answers again
    # The retry is its own execution, run from the stored state.
    retried = run_scenario(
        plan, _context("exec-2"), resume=IncompleteState.from_dict(state.to_dict())
    )
    assert retried.status == "success", retried.error
    [output] = [out for call in retried.modules[3].calls for out in call.output]
    return state, output["key"]


def test_a_retry_after_an_unknown_outcome_repeats_the_failed_calls_key():
    state, key = _retry_key(ConnectionError("the API did not answer"))
    assert state.call == {"execution_id": "exec-1", "ordinal": 2}  # "b" was the second call
    assert key == idempotency_key(7, "exec-1", 3, 2)


def test_a_retry_after_a_refusal_sends_a_new_key():
    state, key = _retry_key(DataError("Name is required"))
    assert state.call is None
    assert key == idempotency_key(7, "exec-2", 3, 1)
