"""Compiling blueprints: the module graph, references, aggregation scopes, the plan."""

from __future__ import annotations

import pytest

from engine.blueprint import load_blueprint
from engine.errors import BlueprintError
from engine.graph import compile_blueprint, validate_blueprint
from engine.spec import ModuleKind, ModuleSpec


def _stub(module_id, kind=ModuleKind.ACTION):
    return ModuleSpec(id=module_id, kind=kind, label=module_id, run=lambda call: [{}])


@pytest.fixture
def registry(registry):
    for module_id in ("test:Trigger", "test:Action", "test:Search"):
        registry.register(_stub(module_id))
    return registry


def mod(module_id, module="test:Action", **extra):
    return {"id": module_id, "module": module, **extra}


def bp(*flow):
    return load_blueprint({"name": "t", "flow": list(flow), "metadata": {"version": 1}})


def problems(registry, *flow):
    return [str(p) for p in validate_blueprint(bp(*flow), registry).problems]


def test_a_clean_scenario_validates_ok(registry):
    report = validate_blueprint(
        bp(mod(1, "test:Trigger"), mod(2, mapper={"x": "{{1.name}}"})), registry
    )
    assert report.ok
    assert report.lines() == ["ok"]


def test_ids_must_exist_and_be_unique_across_the_tree(registry):
    found = problems(
        registry,
        mod(1, "test:Trigger"),
        mod(2, "builtin:BasicRouter", routes=[{"flow": [mod(3)]}, {"flow": [mod(3)]}]),
        {"id": None, "module": "placeholder:Placeholder"},
    )
    assert found == [
        "flow[1].routes[1].flow[0].id: id 3 is already used by flow[1].routes[0].flow[0]",
        "flow[2].id: module placeholder:Placeholder has no id (an empty placeholder?)",
    ]


def test_references_must_point_to_modules_before_them_on_the_same_path(registry):
    found = problems(
        registry,
        mod(1, "test:Trigger"),
        mod(
            2,
            "builtin:BasicRouter",
            routes=[
                {"flow": [mod(3, mapper={"a": "{{1.x}} {{4.y}}"})]},
                {"flow": [mod(4, mapper={"b": "{{2.z}} {{`3`}}", "c": ["{{9.q}}"]})]},
            ],
        ),
    )
    assert found == [
        "flow[1].routes[0].flow[0].mapper.a: refers to module 4, which does not run before "
        "module 3 on its path",
        "flow[1].routes[1].flow[0].mapper.b: refers to module 3, which does not run before "
        "module 4 on its path",
        "flow[1].routes[1].flow[0].mapper.c[0]: refers to module 9, which is not in this scenario",
    ]


def test_a_filter_cannot_refer_to_its_own_module(registry):
    condition = {"a": "{{2.id}}", "o": "exist"}
    found = problems(
        registry,
        mod(1, "test:Trigger"),
        mod(2, filter={"name": "self", "conditions": [[condition]]}),
    )
    assert found == [
        "flow[1].filter.conditions[0][0].a: refers to module 2 itself, which has not run yet "
        "at this point"
    ]


def test_string_literals_and_numbers_are_not_references(registry):
    mapper = {"a": '{{formatNumber(1.5; 2; ".")}} {{"7.x"}} {{round(2.5 * 1.15; 2)}}'}
    assert problems(registry, mod(1, "test:Trigger"), mod(2, mapper=mapper)) == []


def test_error_routes_see_the_failed_module_and_its_error(registry):
    flow = [
        mod(1, "test:Trigger"),
        mod(
            2,
            onerror=[mod(3, mapper={"m": "{{2.error.message}} {{1.x}}"}), mod(4, "builtin:Ignore")],
        ),
        mod(5, mapper={"x": "{{3.anything}}"}),
    ]
    assert problems(registry, *flow) == [
        "flow[2].mapper.x: refers to module 3, which does not run before module 5 on its path"
    ]


def test_directives_only_end_error_routes(registry):
    found = problems(registry, mod(1, "test:Trigger"), mod(2, "builtin:Rollback"))
    assert found == [
        "flow[1].module: directive builtin:Rollback can only be used in an error route"
    ]


def iterator_aggregator(*, feeder=2, after=None):
    return [
        mod(1, "test:Trigger"),
        mod(2, "builtin:BasicFeeder", mapper={"array": "{{1.items}}"}),
        mod(3, mapper={"v": "{{2.value}}"}),
        mod(4, "builtin:BasicAggregator", parameters={"feeder": feeder}, mapper={"v": "{{3.v}}"}),
        mod(5, mapper=after or {"n": "{{4.__IMTAGGLENGTH__}} {{1.id}}"}),
    ]


def test_modules_inside_a_closed_aggregation_are_out_of_reach(registry):
    assert problems(registry, *iterator_aggregator()) == []
    found = problems(registry, *iterator_aggregator(after={"a": "{{2.value}}", "b": "{{3.v}}"}))
    assert found == [
        "flow[4].mapper.a: refers to module 2, which is inside the aggregation closed by module 4",
        "flow[4].mapper.b: refers to module 3, which is inside the aggregation closed by module 4",
    ]


def test_an_aggregator_feeder_must_be_upstream(registry):
    assert problems(registry, *iterator_aggregator(feeder=5)) == [
        "flow[3].parameters.feeder: source module 5 is not a module before aggregator 4 on its path"
    ]
    flow = iterator_aggregator()
    del flow[3]["parameters"]
    assert problems(registry, *flow) == [
        "flow[3].parameters.feeder: an aggregator needs a source module (feeder)"
    ]


def test_feeder_below_another_iterator_closes_only_its_own_scope(registry):
    flow = [
        mod(1, "test:Trigger"),
        mod(2, "builtin:BasicFeeder", mapper={"array": "{{1.orders}}"}),
        mod(3, "builtin:BasicFeeder", mapper={"array": "{{2.lines}}"}),
        mod(4, "builtin:BasicAggregator", parameters={"feeder": 3}, mapper={"x": "{{3.sku}}"}),
        mod(5, mapper={"order": "{{2.id}}", "lines": "{{4.array}}", "line": "{{3.sku}}"}),
    ]
    assert problems(registry, *flow) == [
        "flow[4].mapper.line: refers to module 3, which is inside the aggregation closed by "
        "module 4"
    ]


def test_if_else_branches_are_out_of_reach_after_the_merge(registry):
    flow = [
        mod(1, "test:Trigger"),
        mod(
            2,
            "builtin:BasicIfElse",
            branches=[
                {
                    "type": "condition",
                    "conditions": [[{"a": "{{1.x}}", "o": "exist"}]],
                    "merge": True,
                    "flow": [mod(3)],
                },
                {"type": "else", "merge": True, "flow": [mod(4)]},
            ],
        ),
        mod(5, "builtin:BasicMerge", outputs=[{"name": "v", "mappings": ["{{3.a}}", "{{4.b}}"]}]),
        mod(6, mapper={"v": "{{5.v}} {{1.x}}", "bad": "{{3.a}}"}),
    ]
    assert problems(registry, *flow) == [
        "flow[3].mapper.bad: refers to module 3, which does not run before module 6 on its path"
    ]


def test_unsupported_modules_are_listed_not_fatal(registry):
    blueprint = bp(
        mod(1, "test:Trigger"),
        mod(4, "ai-local-agent:RunLocalAIAgent"),
        mod(7, "ai-local-agent:RunLocalAIAgent"),
        mod(9, "mandrill:sendMessage"),
    )
    report = validate_blueprint(blueprint, registry)
    assert report.problems == ()
    assert report.lines() == [
        "uses 2 modules Switchboard does not have: ai-local-agent:RunLocalAIAgent (modules 4, 7), "
        "mandrill:sendMessage (module 9)"
    ]
    plan = compile_blueprint(blueprint, registry)
    assert plan.unsupported == {
        "ai-local-agent:RunLocalAIAgent": (4, 7),
        "mandrill:sendMessage": (9,),
    }
    assert plan.nodes[4].spec is None and not plan.nodes[4].supported


def test_compile_raises_every_problem_at_once(registry):
    blueprint = bp(mod(1, "test:Trigger", mapper={"a": "{{8.x}}"}), mod(2, mapper={"b": "{{9.y}}"}))
    with pytest.raises(BlueprintError) as caught:
        compile_blueprint(blueprint, registry)
    assert [p.module_id for p in caught.value.problems] == [1, 2]
    assert "blueprint 't' cannot run" in str(caught.value)


def test_the_plan_mirrors_the_blueprint(registry):
    route_filter = {"name": "otherwise"}
    blueprint = bp(
        mod(1, "test:Trigger"),
        mod(
            2,
            "builtin:BasicRouter",
            parameters={"else": 1},
            routes=[
                {
                    "flow": [
                        mod(3, filter={"name": "hot", "conditions": [[{"a": "1", "o": "exist"}]]})
                    ]
                },
                {"flow": [mod(4, filter=route_filter)], "disabled": True},
            ],
        ),
    )
    plan = compile_blueprint(blueprint, registry)
    assert [node.id for node in plan.walk()] == [1, 2, 3, 4]
    assert plan.trigger is plan.nodes[1]
    router = plan.nodes[2]
    assert router.kind is ModuleKind.ROUTER
    assert [(r.index, r.disabled, r.fallback) for r in router.routes] == [
        (0, False, False),
        (1, True, True),
    ]
    assert plan.nodes[3].filter.name == "hot"
    assert sorted(plan.graph.edges(data="kind")) == [
        (1, 2, "next"),
        (2, 3, "route"),
        (2, 4, "route"),
    ]


def test_plan_is_immutable(registry):
    plan = compile_blueprint(bp(mod(1, "test:Trigger")), registry)
    with pytest.raises(AttributeError):
        plan.flow = ()
    with pytest.raises(TypeError):
        plan.nodes[2] = plan.nodes[1]
    with pytest.raises(Exception, match="Frozen"):
        plan.graph.add_node(5)


def test_aggregator_plan_carries_its_feeder_and_scope(registry):
    plan = compile_blueprint(bp(*iterator_aggregator()), registry)
    assert plan.nodes[4].feeder == 2
    assert plan.nodes[4].scope == {2, 3}


def test_problems_sort_even_with_non_ascii_digits_in_keys(registry):
    flow = [
        mod(1, "test:Trigger"),
        mod(2, mapper={"x²": "{{9.a}}", "x10": "{{8.b}}", "x9": "{{7.c}}"}),
    ]
    assert [p.split(":")[0] for p in problems(registry, *flow)] == [
        "flow[1].mapper.x9",
        "flow[1].mapper.x10",
        "flow[1].mapper.x²",
    ]
