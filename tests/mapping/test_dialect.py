"""The app dialect of the mapping language: named roots, comma arguments, ``===``, spread keys
and functions of its own — and the scenario dialect untouched by them."""

from __future__ import annotations

import pytest

from engine.errors import DataError, ExpressionError
from engine.mapping import SCENARIO, Dialect, EvalContext, compile_mapper, compile_template
from engine.mapping.functions import FUNCTIONS
from engine.mapping.functions.registry import FunctionSpec


def _shout(ctx, text):
    return f"{text}!"


APP = Dialect(
    roots=frozenset({"parameters", "body", "item"}),
    comma_arguments=True,
    functions=FUNCTIONS.extended([FunctionSpec("shout", _shout, 1, 1, False, "app")]),
    spread_key="{{...}}",
)


def _eval(source, scopes, dialect=APP):
    return compile_template(source, "t", dialect).evaluate(EvalContext(bundles={}, scopes=scopes))


def test_roots_read_the_scopes_and_keep_their_type():
    scopes = {"body": {"data": [{"id": 7}, {"id": 8}]}, "parameters": {"limit": 2}}
    assert _eval("{{body.data}}", scopes) == [{"id": 7}, {"id": 8}]
    assert _eval("{{body.data[2].id}}", scopes) == 8
    assert _eval("/items/{{parameters.limit}}", scopes) == "/items/2"
    assert _eval("{{item}}", scopes) is None  # a root without a value reads as empty


def test_comma_arguments_and_javascript_equality():
    scopes = {"parameters": {"name": ""}}
    assert _eval("{{ifempty(parameters.name, 'anonymous')}}", scopes) == "anonymous"
    assert _eval("{{if(parameters.name === '', 1, 2)}}", scopes) == 1
    assert _eval("{{parameters.name !== ''}}", scopes) is False
    assert _eval("{{ifempty(parameters.name; 'both')}}", scopes) == "both"


def test_functions_of_the_dialect_are_its_own():
    assert _eval("{{shout(parameters.name)}}", {"parameters": {"name": "hey"}}) == "hey!"
    with pytest.raises(ExpressionError, match="unknown function 'shout'"):
        compile_template("{{shout(1.name)}}", "t")


def test_spread_key_merges_a_collection():
    value = compile_mapper(
        {"a": 1, "{{...}}": "{{parameters.extra}}", "z": "{{body.z}}"}, "qs", APP
    )
    ctx = EvalContext(bundles={}, scopes={"parameters": {"extra": {"b": 2}}, "body": {"z": 3}})
    assert value.evaluate(ctx) == {"a": 1, "b": 2, "z": 3}
    ctx = EvalContext(bundles={}, scopes={"parameters": {"extra": "text"}})
    with pytest.raises(DataError, match="needs a collection"):
        value.evaluate(ctx)


def test_the_scenario_dialect_is_unchanged():
    # A root name is bare text in a scenario, and a comma is not a separator there.
    assert _eval("{{body.data}}", {"body": {"data": 1}}, SCENARIO) is None
    assert _eval("{{upper(body)}}", {"body": "x"}, SCENARIO) == "BODY"
    with pytest.raises(ExpressionError):
        compile_template("{{ifempty(1.a, 'b')}}", "t")
    assert compile_mapper({"{{...}}": "x"}).evaluate(EvalContext(bundles={})) == {"{{...}}": "x"}
