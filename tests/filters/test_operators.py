"""Every filter operator, with Make's coercions: a table of (a, operator, b, expected)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.filters import OPERATORS, compile_conditions
from engine.filters.codes import OPERATOR_CODES
from tests.mapping.world import make_context

DATE = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)


def row(a, o, b, expected, **context):
    return pytest.param(a, o, b, expected, context, id=f"{o}|{a!r}|{b!r}")


TEXT = [
    row("Membership", "text:equal", "Membership", True),
    row("Membership", "text:equal", "membership", False),
    row("Membership", "text:equal:ci", "membership", True),
    row("Membership", "text:notequal", "Other", True),
    row("Membership", "text:notequal", "Membership", False),
    row("Membership", "text:notequal:ci", "MEMBERSHIP", False),
    row("Membership fee", "text:contain", "ship", True),
    row("Membership fee", "text:contain", "SHIP", False),
    row("Membership fee", "text:contain:ci", "SHIP", True),
    row("Membership fee", "text:notcontain", "xyz", True),
    row("Membership fee", "text:notcontain:ci", "FEE", False),
    row("Membership", "text:startwith", "Mem", True),
    row("Membership", "text:startwith:ci", "mem", True),
    row("Membership", "text:notstartwith", "ship", True),
    row("Membership", "text:notstartwith:ci", "MEM", False),
    row("Membership", "text:endwith", "ship", True),
    row("Membership", "text:endwith:ci", "SHIP", True),
    row("Membership", "text:notendwith", "Mem", True),
    row("Membership", "text:notendwith:ci", "SHIP", False),
    row("order-123", "text:pattern", r"^order-\d+$", True),
    row("ORDER-123", "text:pattern", r"^order-\d+$", False),
    row("ORDER-123", "text:pattern:ci", r"^order-\d+$", True),
    row("ORDER-123", "text:pattern", r"/^order-\d+$/i", True),
    row("order-x", "text:notpattern", r"^order-\d+$", True),
    row("ORDER-1", "text:notpattern:ci", r"^order-\d+$", False),
    row(42, "text:equal", "42", True),
    row(True, "text:equal", "true", True),
    row(None, "text:equal", "", True),
    row(DATE, "text:equal", "2024-03-10T12:00:00.000Z", True),
    row(["a", "b"], "text:contain", "a, b", True),
    row("x", "text:pattern", "(", False),
]

NUMBERS = [
    row(5, "number:equal", 5, True),
    row("5", "number:equal", 5.0, True),
    row(" 5 ", "number:equal", "5", True),
    row(5, "number:notequal", 6, True),
    row(5, "number:notequal", "5", False),
    row(10, "number:greater", 9, True),
    row("10", "number:greater", "9", True),
    row(9, "number:greater", 9, False),
    row(1, "number:less", 2, True),
    row(2, "number:less", 2, False),
    row(2, "number:greaterorequal", 2, True),
    row(1.5, "number:greaterorequal", 2, False),
    row(2, "number:lessorequal", 2, True),
    row(3, "number:lessorequal", 2, False),
    row("abc", "number:equal", 1, False),
    row("abc", "number:notequal", 1, False),
    row(None, "number:greater", 0, False),
    row("", "number:less", 5, False),
    row(True, "number:equal", 1, False),
    row("1e3", "number:equal", 1000, True),
]

DATES = [
    row(DATE, "date:equal", "2024-03-10T12:00:00Z", True),
    row(DATE, "date:equal", 1710072000000, True),
    row("2024-03-10T13:00:00+01:00", "date:equal", DATE, True),
    row(DATE, "date:notequal", "2024-03-11", True),
    row(DATE, "date:greater", "2024-03-10", True),
    row(DATE, "date:greater", "2024-03-11", False),
    row(DATE, "date:less", "2024-03-11", True),
    row(DATE, "date:greaterorequal", DATE, True),
    row(DATE, "date:lessorequal", "2024-03-10T11:59:59Z", False),
    row("2024-03-10", "date:equal", "2024-03-09T23:00:00Z", True, timezone="Europe/Prague"),
    row("2024-03-10", "date:equal", "2024-03-10T00:00:00Z", True),
    row("soon", "date:less", DATE, False),
    row(None, "date:less", DATE, False),
    row("Sun, 10 Mar 2024 12:00:00 GMT", "date:equal", DATE, True),
]

TIMES = [
    row("09:30", "time:less", "10:00", True),
    row("09:30", "time:greater", "10:00", False),
    row("10:00", "time:equal", "10:00:00", True),
    row("10:00", "time:notequal", "10:01", True),
    row("12:00", "time:greaterorequal", DATE, True),
    row(DATE, "time:equal", "13:00", True, timezone="Europe/Prague"),
    row("1:30 pm", "time:equal", "13:30", True),
    row("12:15 am", "time:lessorequal", "00:15", True),
    row("noon", "time:equal", "12:00", False),
]

SEMVER = [
    row("1.2.3", "semver:equal", "1.2.3", True),
    row("v1.2.3", "semver:equal", "1.2.3", True),
    row("1.2", "semver:equal", "1.2.0", True),
    row("1.2.3", "semver:notequal", "1.2.4", True),
    row("1.10.0", "semver:greater", "1.9.9", True),
    row("1.0.0-alpha", "semver:less", "1.0.0", True),
    row("1.0.0-alpha.1", "semver:less", "1.0.0-alpha.beta", True),
    row("1.0.0-2", "semver:less", "1.0.0-10", True),
    row("2.0.0", "semver:greaterorequal", "2.0.0+build.5", True),
    row("2.0.1", "semver:lessorequal", "2.0.0", False),
    row("banana", "semver:equal", "1.0.0", False),
]

ARRAYS = [
    row(["vip", "beta"], "array:contain", "vip", True),
    row(["vip", "beta"], "array:contain", "VIP", False),
    row(["vip", "beta"], "array:contain:ci", "VIP", True),
    row(["vip", "beta"], "array:notcontain", "gold", True),
    row(["vip", "beta"], "array:notcontain:ci", "BETA", False),
    row([1, 2, 3], "array:contain", "2", True),
    row("vip", "array:contain", "vip", True),
    row(None, "array:contain", "vip", False),
    row(None, "array:notcontain", "vip", True),
    row([1, 2, 3], "array:equal", 3, True),
    row([1, 2, 3], "array:notequal", "3", False),
    row([1, 2, 3], "array:greater", 0, True),
    row([], "array:greater", 0, False),
    row([1], "array:less", 2, True),
    row([1, 2], "array:greaterorequal", 2, True),
    row([1, 2], "array:lessorequal", 1, False),
    row(None, "array:equal", 0, True),
    row([1], "array:equal", "many", False),
]

BOOLEANS = [
    row(True, "boolean:equal", True, True),
    row(True, "boolean:equal", "true", True),
    row("false", "boolean:equal", False, True),
    row("", "boolean:equal", False, True),
    row(None, "boolean:equal", False, True),
    row(0, "boolean:equal", True, True),
    row("yes", "boolean:equal", True, True),
    row(True, "boolean:notequal", False, True),
    row(False, "boolean:notequal", "false", False),
]

EXIST = [
    row("x", "exist", None, True),
    row("", "exist", None, True),
    row(0, "exist", None, True),
    row([], "exist", None, True),
    row(None, "exist", None, False),
    row(None, "notexist", None, True),
    row("x", "notexist", None, False),
]

ALL = TEXT + NUMBERS + DATES + TIMES + SEMVER + ARRAYS + BOOLEANS + EXIST


@pytest.mark.parametrize(("a", "o", "b", "expected", "context"), ALL)
def test_operator(a, o, b, expected, context):
    assert OPERATORS[o] is not None
    bundles = {1: {"a": a, "b": b}}
    check = compile_conditions([[{"a": "{{1.a}}", "o": o, "b": "{{1.b}}"}]], where="t")
    assert check.passes(make_context(bundles=bundles, **context)) is expected


def test_operator_table_keys_are_make_codes():
    assert set(OPERATORS) == OPERATOR_CODES


def test_every_operator_has_a_case():
    assert {param.values[1] for param in ALL} == OPERATOR_CODES


@pytest.mark.parametrize(
    ("a", "o", "b", "warning"),
    [
        (
            "abc",
            "number:equal",
            1,
            "operator 'number:equal' is false because text 'abc' is not a number",
        ),
        (None, "number:greater", 1, "an empty value cannot be compared as a number"),
        ("soon", "date:less", "2024-01-01", "text 'soon' is not a date"),
        ("noon", "time:less", "10:00", "text 'noon' is not a date"),
        ("banana", "semver:equal", "1.0.0", "text 'banana' is not a semantic version"),
        ("x", "text:pattern", "(", "invalid regular expression '('"),
        (
            "aaa",
            "text:pattern",
            "(a{500}){500}",
            "the regular expression '(a{500}){500}' repeats too much",
        ),
        ([1], "array:equal", "many", "text 'many' is not a number"),
    ],
)
def test_uncoercible_values_are_false_with_a_warning(a, o, b, warning):
    context = make_context(bundles={1: {"a": a, "b": b}})
    check = compile_conditions(
        [[{"a": "{{1.a}}", "o": o, "b": "{{1.b}}"}]], where="module 4, branches[0]"
    )
    assert check.passes(context) is False
    assert len(context.warnings) == 1
    assert context.warnings[0].startswith("module 4, branches[0].conditions[0][0]: ")
    assert warning in context.warnings[0]


def test_catastrophic_pattern_is_false_with_a_warning():
    context = make_context(bundles={1: {"a": "x" * 5000}})
    check = compile_conditions([[{"a": "{{1.a}}", "o": "text:pattern", "b": "(x+x+)+y"}]])
    assert check.passes(context) is False
    assert "'(x+x+)+y' took longer than 0.25 s to match" in context.warnings[0]
