"""Fuzzing the expression language: parser, evaluator and filters.

Properties:
* any text compiles to a template or raises ``ExpressionError`` (with a sane column);
* a compiled template evaluated on any bundles gives a value or a ``DataError``, within a time
  limit (SIGALRM interrupts a hang), never another exception;
* a filter compiles or raises ``ExpressionError``; ``passes`` is a bool or a ``DataError``.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import DataError, ExpressionError
from engine.filters import compile_conditions, compile_filter
from engine.mapping import EvalContext, compile_mapper, compile_template
from tests.fuzz.strategies import (
    DATA,
    DEADLINE,
    EXPRESSIONS,
    FILTERS,
    TEMPLATES,
    bundles,
    examples,
)
from tests.security.guards import time_limit

BOUNDED = settings(
    max_examples=examples(300),
    deadline=DEADLINE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Small enough that blow-ups hit the limit fast; the default limit is exercised elsewhere.
MAX_OUTPUT = 200_000


def context(data) -> EvalContext:
    return EvalContext(
        bundles=data,
        variables={"scenario": {"id": 1}, "input": {"x": [1]}},
        timezone="Europe/Prague",
        max_output=MAX_OUTPUT,
    )


@BOUNDED
@given(st.text(max_size=200) | TEMPLATES)
def test_any_text_compiles_or_is_an_expression_error(source):
    try:
        with time_limit(2):
            compile_template(source, where="fuzz")
    except ExpressionError as error:
        assert error.where == "fuzz"
        assert error.column is None or 1 <= error.column <= len(source) + 1


@BOUNDED
@given(TEMPLATES, bundles())
def test_evaluation_gives_a_value_or_a_data_error(source, data):
    try:
        template = compile_template(source, where="fuzz")
    except ExpressionError:
        return
    try:
        with time_limit(3):
            template.evaluate(context(data))
    except DataError:
        pass


@settings(
    max_examples=examples(150),
    deadline=DEADLINE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(EXPRESSIONS, min_size=1, max_size=3), bundles())
def test_text_templates_with_several_expressions_give_text_or_a_data_error(parts, data):
    source = "<" + "|".join("{{" + part + "}}" for part in parts) + ">"
    try:
        template = compile_template(source, where="fuzz")
    except ExpressionError:
        return
    try:
        with time_limit(3):
            result = template.evaluate(context(data))
    except DataError:
        return
    assert isinstance(result, str) and result.startswith("<") and result.endswith(">")


@settings(
    max_examples=examples(150), deadline=DEADLINE, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.recursive(
        TEMPLATES | DATA,
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3),
        max_leaves=8,
    ),
    bundles(),
)
def test_mappers_compile_and_evaluate_or_raise_user_errors(value, data):
    try:
        mapper = compile_mapper(value, where="fuzz")
    except ExpressionError:
        return
    try:
        with time_limit(3):
            mapper.evaluate(context(data))
    except DataError:
        pass


@BOUNDED
@given(FILTERS, bundles())
def test_filters_compile_and_pass_or_raise_user_errors(filter_json, data):
    for compile_one in (compile_filter, compile_conditions):
        argument = (
            filter_json
            if compile_one is compile_filter
            else (filter_json.get("conditions") if isinstance(filter_json, dict) else filter_json)
        )
        try:
            compiled = compile_one(argument, where="fuzz")
        except ExpressionError as error:
            assert "fuzz" in str(error)
            continue
        ctx = context(data)
        try:
            with time_limit(3):
                assert compiled.passes(ctx) in (True, False)
        except DataError:
            pass
        assert all(isinstance(warning, str) for warning in ctx.warnings)
