"""Property tests: arbitrary input never makes the parser raise anything but ExpressionError,
and what compiles evaluates to a value or a DataError."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import DataError, ExpressionError
from engine.mapping import compile_mapper, compile_template
from engine.mapping.functions import FUNCTIONS
from tests.mapping.world import make_context

PIECES = st.sampled_from(
    [
        "{{",
        "}}",
        "(",
        ")",
        ";",
        "[",
        "]",
        "[]",
        ".",
        "`",
        '"',
        "'",
        " ",
        "1",
        "2.5",
        "1.",
        "1.a",
        "`1`",
        "var.",
        "var.scenario.id",
        "now",
        "null",
        "ignore",
        "+",
        "-",
        "*",
        "/",
        "%",
        "=",
        "!=",
        "<",
        ">=",
        "&",
        "|",
        "YYYY-MM-DD",
        "a b",
        "\n",
        "{",
        "}",
        "é",
        "\\",
        *(f"{name}(" for name in sorted(FUNCTIONS)),
    ]
)
TEMPLATES = st.one_of(
    st.text(max_size=80),
    st.lists(PIECES, max_size=30).map("".join),
    st.lists(PIECES, max_size=30).map(lambda parts: "{{" + "".join(parts) + "}}"),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEMPLATES)
def test_parser_raises_only_expression_errors(source):
    try:
        template = compile_template(source, where="fuzz")
    except ExpressionError as error:
        assert error.where == "fuzz"
        assert error.column is None or 1 <= error.column <= len(source) + 1
        return
    with contextlib.suppress(DataError):
        template.evaluate(make_context(max_output=100_000))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEMPLATES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_mapper_compiles_or_raises_expression_error(value):
    with contextlib.suppress(ExpressionError):
        compile_mapper(value, where="fuzz")


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_a_lone_reference_keeps_the_value_and_its_type(value):
    result = compile_template("{{1.value}}").evaluate(make_context(bundles={1: {"value": value}}))
    assert result == value
    assert type(result) is type(value)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60).filter(lambda text: "{{" not in text))
def test_text_without_expressions_is_itself(text):
    template = compile_template(text)
    assert template.is_constant
    assert template.evaluate(make_context()) == text
