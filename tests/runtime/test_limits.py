"""Run limits end a run with a clear error, never a crash, and records stay bounded."""

from __future__ import annotations

import gc
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from engine.blueprint import load_blueprint
from engine.graph import compile_blueprint
from engine.registry import default_registry
from engine.runtime import RunContext, RunLimits, run_scenario
from engine.spec import ModuleKind
from engine.testing import stub_module


def plan_of(*flow, registry=None):
    blueprint = {"name": "limits", "flow": list(flow), "metadata": {"version": 1}}
    return compile_blueprint(load_blueprint(blueprint), registry or default_registry())


def context(**limits):
    return RunContext(clock=lambda: datetime(2026, 1, 1, tzinfo=UTC), limits=RunLimits(**limits))


REPEAT = {"id": 1, "module": "builtin:BasicRepeater", "mapper": {"repeats": "1000"}}
COMPOSE = {"id": 2, "module": "util:ComposeTransformer", "mapper": {"value": "{{1.i}}"}}


def test_operation_limit_stops_the_run():
    record = run_scenario(plan_of(REPEAT, COMPOSE), context(max_operations=50))
    assert record.status == "error"
    assert record.error["message"] == "the run reached its limit of 50 operations"
    assert record.operations == 50


def test_bundle_limit_stops_the_run():
    record = run_scenario(plan_of(REPEAT, COMPOSE), context(max_bundles=20))
    assert record.status == "error"
    assert record.error["message"] == "the run reached its limit of 20 bundles"


def test_output_size_limit_names_the_module():
    big = {"id": 2, "module": "util:ComposeTransformer", "mapper": {"value": "{{1.text}}"}}
    record = run_scenario(
        plan_of(
            {
                "id": 1,
                "module": "util:SetVariable2",
                "mapper": {"name": "text", "value": "x" * 5000},
            },
            big,
        ),
        context(max_output_bytes=1000),
    )
    assert record.status == "error"
    assert record.error["message"].startswith("module 1 (util:SetVariable2) output a bundle of")
    assert "over the limit of 1000" in record.error["message"]


def test_time_limit_uses_the_run_clock():
    ticks = itertools.count()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    clock = RunContext(
        clock=lambda: start + timedelta(seconds=next(ticks)), limits=RunLimits(max_seconds=10)
    )
    record = run_scenario(plan_of(REPEAT, COMPOSE), clock)
    assert record.status == "error"
    assert record.error["message"] == "the run took longer than its limit of 10 seconds"


def test_records_keep_the_first_bundles_and_count_the_rest():
    record = run_scenario(plan_of(REPEAT, COMPOSE), context(stored_bundles=5)).to_dict()
    repeater, composer = record["modules"]
    assert len(repeater["calls"][0]["output"]) == 5
    assert repeater["calls"][0]["output_count"] == 1000
    assert len(composer["calls"]) == 5
    assert composer["calls_omitted"] == 995
    assert composer["operations"] == 1000


def test_a_module_returning_garbage_fails_the_run_clearly():
    registry = default_registry().copy()
    registry.register(stub_module("test:Bad", outputs=lambda call: ["not a bundle"]))
    plan = plan_of({"id": 1, "module": "test:Bad"}, registry=registry)
    record = run_scenario(plan, context())
    assert record.status == "error"
    assert record.error["message"] == "module test:Bad (id 1) returned str"


def test_a_hundred_thousand_items_stream_through_without_piling_up():
    registry = default_registry().copy()
    registry.register(
        stub_module(
            "test:Lines",
            kind=ModuleKind.SEARCH,
            outputs=lambda call: ({"n": i} for i in range(100_000)),
        )
    )
    plan = plan_of(
        {"id": 1, "module": "test:Lines"},
        {"id": 2, "module": "util:ComposeTransformer", "mapper": {"value": "{{1.n}}"}},
        registry=registry,
    )
    record = run_scenario(plan, context()).to_dict()
    assert record["status"] == "success"
    assert record["operations"] == 100_001
    assert sum(len(call["output"]) for m in record["modules"] for call in m["calls"]) <= 200


def test_system_variables_are_mapped():
    blueprint = {
        "id": 1,
        "module": "util:ComposeTransformer",
        "mapper": {
            "value": "{{var.scenario.name}}|{{var.scenario.id}}|{{var.execution.id}}|"
            "{{var.execution.operationsConsumed}}|{{var.organization.region}}"
        },
    }
    run = RunContext(
        clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
        scenario_id=12,
        execution_id="e-9",
        variables={"organization": {"region": "eu"}},
    )
    record = run_scenario(plan_of(blueprint), run).to_dict()
    assert record["modules"][0]["calls"][0]["output"] == [{"value": "limits|12|e-9|1|eu"}]


def _live_runs() -> int:
    from engine.runtime.runner import _Run

    return sum(1 for item in gc.get_objects() if type(item) is _Run)


@pytest.mark.parametrize(("limits", "status"), [({}, "success"), ({"max_operations": 50}, "error")])
def test_a_finished_run_is_freed_at_once(limits, status):
    """A run holds every bundle it is working on: it must not be a reference cycle, which
    only the cyclic collector frees (a server's memory grew run by run while it waited)."""
    gc.collect()
    gc.disable()
    try:
        before = _live_runs()
        record = run_scenario(plan_of(REPEAT, COMPOSE), context(**limits))
        assert record.status == status
        assert _live_runs() == before
    finally:
        gc.enable()
