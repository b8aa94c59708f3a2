"""Malformed blueprints get one error listing every problem with its JSON path."""

from __future__ import annotations

import pytest

from engine.blueprint import load_blueprint
from engine.errors import BlueprintError

GOOD_MODULE = {"id": 1, "module": "gateway:CustomWebHook", "mapper": {}}


def blueprint(*flow, **top):
    return {"name": "broken", "flow": list(flow), "metadata": {"version": 1}, **top}


def router(module_id, *routes):
    return {
        "id": module_id,
        "module": "builtin:BasicRouter",
        "routes": [{"flow": r} for r in routes],
    }


def condition(a, o, b=None):
    return {"a": a, "o": o, "b": b}


BROKEN = [
    pytest.param(
        blueprint(
            GOOD_MODULE,
            {"id": 2, "module": "x:y"},
            {"id": 3, "module": "x:y"},
            router(
                4,
                [{"id": 5, "module": "x:y"}],
                [
                    {
                        "id": 6,
                        "module": "x:y",
                        "filter": {
                            "name": "f",
                            "conditions": [
                                [condition("{{1.a}}", "exist"), condition("a", "text:equl", "b")]
                            ],
                        },
                    }
                ],
            ),
        ),
        ["flow[3].routes[1].flow[0].filter.conditions[0][1].o: unknown operator 'text:equl'"],
        id="unknown-operator-deep-in-a-route",
    ),
    pytest.param(
        {"flow": [GOOD_MODULE], "metadata": {}},
        ["name: field required"],
        id="missing-name",
    ),
    pytest.param(
        {"name": "x", "metadata": {}},
        ["flow: field required"],
        id="missing-flow",
    ),
    pytest.param(
        blueprint({"id": "2", "module": "x:y"}),
        ["flow[0].id: input should be a valid integer"],
        id="id-as-text",
    ),
    pytest.param(
        blueprint({"id": 1}),
        ["flow[0].module: field required"],
        id="missing-module",
    ),
    pytest.param(
        blueprint({"id": 1, "module": "http MakeRequest"}),
        ["flow[0].module: module id 'http MakeRequest' must look like app:ModuleName"],
        id="module-without-app",
    ),
    pytest.param(
        blueprint({"id": 1, "module": "x:y", "mapper": "text"}),
        ["flow[0].mapper: input should be a valid dictionary"],
        id="mapper-not-an-object",
    ),
    pytest.param(
        blueprint({"id": 1, "module": "x:y", "filter": {"conditions": [[{"a": "{{1.a}}"}]]}}),
        ["flow[0].filter.conditions[0][0].o: field required"],
        id="condition-without-operator",
    ),
    pytest.param(
        blueprint(
            {"id": 1, "module": "x:y", "filter": {"conditions": [[condition({"x": 1}, "exist")]]}}
        ),
        [
            "flow[0].filter.conditions[0][0].a: must be text, a number, a boolean or null, "
            "not a collection or array"
        ],
        id="condition-operand-object",
    ),
    pytest.param(
        blueprint({"id": 1, "module": "builtin:BasicRouter", "routes": [{"flow": {}}]}),
        ["flow[0].routes[0].flow: input should be a valid list"],
        id="route-flow-not-a-list",
    ),
    pytest.param(
        blueprint(
            {"id": 1, "module": "builtin:BasicIfElse", "branches": [{"type": "maybe", "flow": []}]}
        ),
        ["flow[0].branches[0].type: input should be 'condition' or 'else'"],
        id="bad-branch-type",
    ),
    pytest.param(
        blueprint(GOOD_MODULE, metadata={"scenario": {"roundtrips": "1", "dlq": "yes"}}),
        [
            "metadata.scenario.roundtrips: input should be a valid integer",
            "metadata.scenario.dlq: input should be a valid boolean",
        ],
        id="settings-of-the-wrong-type",
    ),
    pytest.param(
        blueprint({"id": 1, "module": "x:y", "onerror": [{"id": 2, "module": "bad"}]}),
        ["flow[0].onerror[0].module: module id 'bad' must look like app:ModuleName"],
        id="error-route-module",
    ),
]


@pytest.mark.parametrize(("source", "expected"), BROKEN)
def test_every_problem_is_listed_with_its_path(source, expected):
    with pytest.raises(BlueprintError) as caught:
        load_blueprint(source)
    assert [str(problem) for problem in caught.value.problems] == expected
    for line in expected:
        assert line in str(caught.value)


def test_all_problems_come_in_one_error():
    source = blueprint({"id": "1", "module": "nocolon"}, {"id": 2, "module": "x:y", "version": "v"})
    with pytest.raises(BlueprintError) as caught:
        load_blueprint(source)
    assert len(caught.value.problems) == 3
    assert str(caught.value).startswith("blueprint has 3 problem(s)")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"name": "x",', "line 1, column 14: Expecting property name enclosed in double quotes"),
        ("", "line 1, column 1: Expecting value"),
        ("[1, 2]", "expected a JSON object, got list"),
        ('"flow"', "expected a JSON object, got str"),
    ],
)
def test_not_a_blueprint_at_all(text, message):
    with pytest.raises(BlueprintError) as caught:
        load_blueprint(text)
    assert [p.message for p in caught.value.problems] == [message]


def test_invalid_utf8_is_a_clear_error():
    with pytest.raises(BlueprintError) as caught:
        load_blueprint(b'{"name": "\xff"}')
    assert "not UTF-8" in str(caught.value)
