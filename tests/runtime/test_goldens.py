"""Golden scenarios: blueprint + input + expected execution, replayed by the runner.

Each file in ``goldens/`` holds ``blueprint``, ``input`` (the trigger's bundles, or null for a
polling trigger) and ``expect``: any of ``status``, ``operations``, ``order`` (module ids in the
order they started), ``modules`` (per-module counts), ``outputs`` (every bundle a module output),
``directives``, ``incomplete`` (module ids stored for later), ``store`` (the data store after the
run), ``cursor`` (committed trigger cursors), ``error`` (a part of the run's error message).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.blueprint import load_blueprint
from engine.errors import MODULE_ERROR_TYPES
from engine.graph import compile_blueprint
from engine.runtime import RunContext, run_scenario
from engine.spec import ModuleKind
from engine.testing import stub_module

GOLDENS = sorted((Path(__file__).parent / "goldens").glob("*.json"))
NOW = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)


class FakeStore:
    """A key/value store whose writes the runner can undo (like a data store)."""

    def __init__(self, initial=None):
        self.records = dict(initial or {})

    def write(self, call):
        key, value = call.input.key, call.input.value
        had, previous = key in self.records, self.records.get(key)
        self.records[key] = value

        def undo():
            if had:
                self.records[key] = previous
            else:
                self.records.pop(key, None)

        call.context.transaction.on_rollback(undo)
        return [{"key": key, "value": value}]


def failing(call):
    data = call.input.model_dump()
    if data.get("fail") in (True, "true", 1):
        error_type = MODULE_ERROR_TYPES[data.get("type") or "DataError"]
        raise error_type(data.get("message") or "it failed", detail=data.get("detail"))
    return [data]


def polling(call):
    after = call.context.cursor or 0
    items = [item for item in call.parameters.model_dump().get("items", []) if item["id"] > after]
    items = items[: call.parameters.model_dump().get("limit", 100)]
    if items:
        call.context.advance_cursor(items[-1]["id"])
    return items


def make_registry(store):
    from engine.registry import default_registry

    registry = default_registry().copy()
    registry.register(stub_module("test:Trigger", kind=ModuleKind.INSTANT_TRIGGER))
    registry.register(stub_module("test:Poll", kind=ModuleKind.TRIGGER, outputs=polling))
    registry.register(stub_module("test:Echo"))
    registry.register(
        stub_module(
            "test:Many", kind=ModuleKind.SEARCH, outputs=lambda c: c.input.model_dump()["items"]
        )
    )
    registry.register(stub_module("test:Fail", outputs=failing))
    registry.register(stub_module("test:Write", outputs=store.write))
    return registry


def run_golden(golden):
    store = FakeStore(golden.get("store"))
    plan = compile_blueprint(load_blueprint(golden["blueprint"]), make_registry(store))
    events, cursors = [], {}
    context = RunContext(
        clock=lambda: NOW,
        rng=random.Random(7),
        cursors={int(k): v for k, v in golden.get("cursors", {}).items()},
        commit_cursor=cursors.__setitem__,
        on_event=events.append,
        scenario_id=1,
        execution_id="exec-1",
    )
    record = run_scenario(plan, context, trigger_bundles=golden.get("input"))
    return record, events, store, cursors


@pytest.mark.parametrize("path", GOLDENS, ids=[p.stem for p in GOLDENS])
def test_golden(path):
    golden = json.loads(path.read_text())
    record, events, store, cursors = run_golden(golden)
    data = record.to_dict()
    expect = golden["expect"]
    modules = {m["id"]: m for m in data["modules"]}
    if "status" in expect:
        assert data["status"] == expect["status"], data["error"]
    if "operations" in expect:
        assert data["operations"] == expect["operations"]
    if "order" in expect:
        started = [e["module_id"] for e in events if e["event"] == "module_started"]
        assert started == expect["order"]
    for module_id, counts in expect.get("modules", {}).items():
        actual = modules[int(module_id)]
        assert {k: actual[k] for k in counts} == counts, f"module {module_id}"
    for module_id, bundles in expect.get("outputs", {}).items():
        produced = [b for call in modules[int(module_id)]["calls"] for b in call["output"]]
        assert produced == bundles, f"outputs of module {module_id}"
    for module_id, directives in expect.get("directives", {}).items():
        applied = [call["directive"] for call in modules[int(module_id)]["calls"]]
        assert applied == directives, f"directives of module {module_id}"
    if "incomplete" in expect:
        assert [s["module_id"] for s in data["incomplete"]] == expect["incomplete"]
    if "store" in expect:
        assert store.records == expect["store"]
    if "cursor" in expect:
        assert cursors == {int(k): v for k, v in expect["cursor"].items()}
    if "error" in expect:
        assert expect["error"] in data["error"]["message"]
    for module_id, messages in expect.get("errors", {}).items():
        seen = [
            call["error"]["message"] for call in modules[int(module_id)]["calls"] if call["error"]
        ]
        assert seen == messages, f"errors of module {module_id}"
    if "cycles" in expect:
        assert data["cycles"] == expect["cycles"]
    if "warnings" in expect:
        assert len(data["warnings"]) == expect["warnings"]
    json.dumps(data)  # the record is JSON


def test_there_are_goldens_for_every_feature():
    assert len(GOLDENS) >= 25
