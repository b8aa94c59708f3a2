"""The public contract of templates and compiled mappers."""

from __future__ import annotations

from datetime import datetime

import pytest

from engine.mapping import (
    ERASE,
    IGNORE,
    CompiledValue,
    EvalContext,
    Template,
    compile_mapper,
    compile_template,
)
from tests.mapping.world import make_context


@pytest.mark.parametrize(
    ("source", "references"),
    [
        ("{{1.a}}", {1}),
        ("{{1.a}} {{contains(2.b; x)}}", {1, 2}),
        ("{{`7`}}", {7}),
        ("{{3.`Contact ID`}}", {3}),
        ("{{var.scenario.id}}", set()),
        ("{{get(4.items; 5.index)}}", {4, 5}),
        ("{{4.items[5.index]}}", {4, 5}),
        ('{{"1.a"}}', set()),
        ("{{formatDate(now; DD.MM.YYYY)}}", set()),
        ("{{if(1.a > 2; 10.x; 11.y)}}", {1, 10, 11}),
        ("plain", set()),
        (42, set()),
    ],
)
def test_references(source, references):
    assert compile_template(source).references == frozenset(references)


def test_constant_templates():
    assert compile_template("plain text").is_constant
    assert compile_template(None).is_constant
    assert compile_template({"a": [1]}).is_constant
    assert not compile_template("{{1.a}}").is_constant
    assert not compile_template("{{now}}").is_constant
    context = make_context()
    assert compile_template(None).evaluate(context) is None
    assert compile_template(3.5).evaluate(context) == 3.5
    value = {"a": [1]}
    result = compile_template(value).evaluate(context)
    assert result == value and result is not value


def test_template_is_parsed_once_and_evaluated_many_times():
    template = compile_template("{{1.n * 2}}")
    assert isinstance(template, Template)
    assert [template.evaluate(EvalContext(bundles={1: {"n": n}})) for n in range(4)] == [0, 2, 4, 6]


def test_eval_context_defaults():
    context = EvalContext(bundles={})
    assert context.timezone == "UTC"
    assert context.max_output == 10_000_000
    assert context.variables == {} and context.warnings == []
    assert context.now().tzinfo is not None
    assert compile_template("{{1.a}}").evaluate(context) is None


def test_injected_randomness_is_reproducible():
    import random

    first = compile_template("{{uuid}} {{random}} {{shuffle(1.numbers)}}")
    a = first.evaluate(make_context(rng=random.Random(1)))
    b = first.evaluate(make_context(rng=random.Random(1)))
    assert a == b


def test_compile_mapper_evaluates_structure():
    mapper = compile_mapper(
        {
            "url": "https://api.test/{{1.email}}",
            "count": "{{1.age}}",
            "headers": [{"name": "X-Id", "value": "{{1.`Contact ID`}}"}],
            "skip": "{{ignore}}",
            "clear": "{{erase}}",
            "maybe": "{{if(1.active; ignore; 1)}}",
            "list": ["{{1.tags[1]}}", "{{ignore}}", "{{erase}}", 3, None, True],
            "raw": 7,
            "nothing": None,
        },
        where="module 3, mapper",
    )
    assert isinstance(mapper, CompiledValue)
    assert mapper.references == frozenset({1})
    assert not mapper.is_constant
    assert mapper.evaluate(make_context()) == {
        "url": "https://api.test/ada@example.com",
        "count": 36,
        "headers": [{"name": "X-Id", "value": 42}],
        "clear": None,
        "list": ["vip", None, 3, None, True],
        "raw": 7,
        "nothing": None,
    }


def test_compile_mapper_top_level_values():
    context = make_context()
    assert compile_mapper("{{ignore}}").evaluate(context) is None
    assert compile_mapper("{{erase}}").evaluate(context) is None
    assert compile_mapper(None).evaluate(context) is None
    assert compile_mapper([]).evaluate(context) == []
    assert compile_mapper({}).is_constant
    assert compile_mapper({"a": "{{2.x}}", "b": ["{{3.y}}"]}).references == {2, 3}


def test_compile_mapper_where_names_nested_templates():
    mapper = compile_mapper({"a": [{"b": "{{1.x}}"}]}, where="module 9, mapper")
    leaf = mapper._root.items[0][1].items[0].items[0][1].template
    assert leaf.where == "module 9, mapper.a[0].b"


def test_dates_in_mapper_stay_dates():
    value = compile_mapper({"when": "{{3.date}}", "text": "at {{3.date}}"}).evaluate(make_context())
    assert isinstance(value["when"], datetime)
    assert value["text"] == "at 2024-03-31T01:30:00.000Z"


def test_directives_are_distinct_and_falsy():
    assert IGNORE is not ERASE
    assert not IGNORE and not ERASE
    assert repr(IGNORE) == "IGNORE"
