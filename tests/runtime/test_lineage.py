"""Lineage in the execution record: every operation and every filter rejection says which of
the first module's bundles it belongs to, and a rejection says which condition failed."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.blueprint import load_blueprint
from engine.errors import DataError
from engine.graph import compile_blueprint
from engine.registry import default_registry
from engine.runtime import IncompleteState, RunContext, run_scenario
from engine.spec import ModuleKind
from engine.testing import stub_module


def node(module_id, module, **extra):
    return {"id": module_id, "module": module, "version": 1, "parameters": {}, **extra}


def fails_for(name):
    def run(call):
        data = call.input.model_dump()
        if data.get("name") == name:
            raise DataError(f"{name} refused")
        return [data]

    return run


def registry():
    found = default_registry().copy()
    found.register(stub_module("test:Trigger", kind=ModuleKind.INSTANT_TRIGGER))
    found.register(stub_module("test:Write", outputs=fails_for("Gamma")))
    found.register(
        stub_module(
            "test:Lines", kind=ModuleKind.SEARCH, outputs=lambda c: c.input.model_dump()["lines"]
        )
    )
    return found


def run(flow, bundles, *, confidential=False, resume=None):
    scenario = {"roundtrips": 1, "confidential": confidential, "dlq": True}
    blueprint = load_blueprint({"name": "t", "flow": flow, "metadata": {"scenario": scenario}})
    plan = compile_blueprint(blueprint, registry())
    context = RunContext(clock=lambda: datetime(2026, 3, 1, tzinfo=UTC))
    record = run_scenario(plan, context, trigger_bundles=bundles, resume=resume)
    return {m["id"]: m for m in record.to_dict()["modules"]}, record.to_dict()


ACCOUNT_EXISTS = {
    "name": "Account exists",
    "conditions": [
        [
            {"a": "{{1.account}}", "o": "exist"},
            {"a": "{{1.type}}", "o": "text:equal", "b": "ACCREC"},
        ]
    ],
}

FLOW = [
    node(1, "test:Trigger"),
    node(
        2,
        "test:Write",
        mapper={"name": "{{1.name}}"},
        filter=ACCOUNT_EXISTS,
        onerror=[node(3, "builtin:Ignore")],
    ),
]


def test_each_operation_and_rejection_names_the_trigger_bundle_it_came_from():
    modules, _ = run(
        FLOW,
        [
            {"name": "Alpha", "account": "a-1", "type": "ACCREC"},
            {"name": "Beta", "account": "a-2", "type": "ACCPAY"},
            {"name": "Gamma", "account": "a-3", "type": "ACCREC"},
            {"name": "Delta", "type": "ACCREC"},
        ],
    )
    assert [call["bundle"] for call in modules[1]["calls"]] == [None]
    writes = modules[2]["calls"]
    assert [(c["bundle"], c["input"]["name"], bool(c["error"])) for c in writes] == [
        (0, "Alpha", False),
        (2, "Gamma", True),
    ]
    assert modules[2]["filtered"] == 2
    beta, delta = modules[2]["rejections"]
    assert (beta["bundle"], beta["filter"]) == (1, "Account exists")
    # The condition that failed, not the label: the account exists, the type does not match.
    assert beta["failed"] == [
        {
            "where": "conditions[0][1]",
            "a": "{{1.type}}",
            "o": "text:equal",
            "b": "ACCREC",
            "a_value": "ACCPAY",
            "b_value": "ACCREC",
        }
    ]
    assert delta["bundle"] == 3
    assert [(f["a"], f["o"], f["a_value"]) for f in delta["failed"]] == [
        ("{{1.account}}", "exist", None)
    ]


def test_an_aggregator_over_the_trigger_belongs_to_no_single_bundle_and_lines_keep_theirs():
    flow = [
        node(1, "test:Trigger"),
        node(2, "test:Lines", mapper={"lines": "{{1.lines}}"}),
        node(
            3,
            "builtin:BasicAggregator",
            parameters={"feeder": 2},
            mapper={"n": "{{2.n}}"},
            filter={
                "name": "Big",
                "conditions": [[{"a": "{{2.n}}", "o": "number:greater", "b": "1"}]],
            },
        ),
        node(4, "test:Write", mapper={"name": "{{1.name}}"}),
        node(5, "builtin:BasicAggregator", parameters={"feeder": 1}, mapper={"x": "{{1.name}}"}),
        node(6, "test:Write", mapper={"name": "all"}),
    ]
    modules, _ = run(
        flow,
        [{"name": "A", "lines": [{"n": 1}, {"n": 2}]}, {"name": "B", "lines": [{"n": 3}]}],
    )
    assert [c["bundle"] for c in modules[2]["calls"]] == [0, 1]
    assert [r["bundle"] for r in modules[3]["rejections"]] == [0]  # line n=1 of A
    assert [c["bundle"] for c in modules[4]["calls"]] == [0, 1]
    assert [c["bundle"] for c in modules[6]["calls"]] == [None]  # A and B together


def test_a_confidential_run_records_which_condition_failed_but_not_the_values():
    modules, _ = run(
        FLOW, [{"name": "Beta", "account": "a-2", "type": "ACCPAY"}], confidential=True
    )
    (rejection,) = modules[2]["rejections"]
    assert rejection["failed"] == [
        {"where": "conditions[0][1]", "a": "{{1.type}}", "o": "text:equal", "b": "ACCREC"}
    ]


def test_a_resumed_run_says_whose_path_it_continues():
    state = IncompleteState(
        module_id=2,
        bundles={1: {"name": "Alpha", "account": "a-1", "type": "ACCREC"}},
        error={"message": "was down"},
    )
    modules, record = run(FLOW, None, resume=state)
    assert record["resumed"] == {
        "module_id": 2,
        "trigger": {
            "id": 1,
            "module": "test:Trigger",
            "bundle": {"name": "Alpha", "account": "a-1", "type": "ACCREC"},
        },
    }
    assert [c["bundle"] for c in modules[2]["calls"]] == [0]


def routed(first_filter, second_filter, fallback=False):
    """A router whose two routes each start with a write behind a filter on ``1.kind``."""

    def route(module_id, condition, is_fallback=False):
        item = node(module_id, "test:Write", mapper={"name": "{{1.name}}"})
        if condition is not None:
            item["filter"] = {"name": f"Route {module_id}", "conditions": [[condition]]}
        return {"flow": [item], **({"fallback": True} if is_fallback else {})}

    def kind_is(value):
        return {"a": "{{1.kind}}", "o": "text:equal", "b": value}

    routes = [route(3, kind_is(first_filter)), route(4, kind_is(second_filter))]
    if fallback:
        routes.append(route(5, None, is_fallback=True))
    router = node(2, "builtin:BasicRouter", routes=routes)
    if fallback:
        router["parameters"] = {"else": 2}
    return [node(1, "test:Trigger"), router]


def test_a_route_refused_while_another_route_took_the_bundle_is_marked_rerouted():
    modules, _ = run(
        routed("new", "old"), [{"name": "A", "kind": "old"}, {"name": "B", "kind": "x"}]
    )
    (took_other,) = [r for r in modules[3]["rejections"] if r["bundle"] == 0]
    assert took_other["rerouted"] is True  # A went down route 4
    stopped = [r for m in (3, 4) for r in modules[m]["rejections"] if r["bundle"] == 1]
    assert [r["rerouted"] for r in stopped] == [False, False]  # B went nowhere

    modules, _ = run(routed("new", "old", fallback=True), [{"name": "C", "kind": "x"}])
    assert [r["rerouted"] for m in (3, 4) for r in modules[m]["rejections"]] == [True, True]
    assert [c["bundle"] for c in modules[5]["calls"]] == [0]  # the fallback took it


def test_a_router_keeps_the_bundles_it_passed_on_and_counts_no_operation():
    flow = [
        node(1, "test:Trigger"),
        node(
            2,
            "builtin:BasicRouter",
            routes=[{"flow": [node(3, "test:Write", mapper={"name": "{{1.name}}"})]}],
        ),
    ]
    bundles = [{"name": "Alpha"}, {"name": "Beta"}]
    modules, record = run(flow, bundles)
    router = modules[2]
    assert router["operations"] == 0 and router["bundles_out"] == 2
    assert [call["output"] for call in router["calls"]] == [[{"name": "Alpha"}], [{"name": "Beta"}]]
    assert [call["bundle"] for call in router["calls"]] == [0, 1]
    assert record["operations"] == 1 + 2  # the trigger once per cycle, the two writes; no router
    hidden, _ = run(flow, bundles, confidential=True)
    assert [call["output"] for call in hidden[2]["calls"]] == [[], []]
