"""Idempotency keys: one per module call, the same when an execution is run again."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.blueprint import load_blueprint
from engine.graph import compile_blueprint
from engine.registry import default_registry
from engine.runtime import RunContext, run_scenario
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
