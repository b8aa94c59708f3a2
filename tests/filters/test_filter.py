"""Filters as Make stores them: OR of AND groups, labels, empty filters, errors with paths."""

from __future__ import annotations

import pytest

from engine.errors import DataError, ExpressionError
from engine.filters import (
    OPERATOR_CODES,
    OPERATOR_LABELS,
    SHOWN_CHARACTERS,
    Filter,
    compile_conditions,
    compile_filter,
    describe_failed_condition,
)
from tests.mapping.world import make_context

NEWPATH = {
    "name": "Limit to Order Detail Mapping match",
    "conditions": [
        [
            {"a": "{{55.OrderType}}", "b": "Membership", "o": "text:startwith:ci"},
            {
                "a": "{{55.OrderDetails[].Notes}}",
                "b": "{{176.OrderDetailFilter}}",
                "o": "text:endwith:ci",
            },
        ],
        [
            {"a": "{{55.OrderType}}", "b": "EventRegistration", "o": "text:equal"},
            {
                "a": "{{contains(174.Tags; lower(176.OrderDetailFilter))}}",
                "b": "{{true}}",
                "o": "boolean:equal",
            },
        ],
    ],
}


def bundles(order_type, notes, tags, wanted="gala"):
    return {
        55: {"OrderType": order_type, "OrderDetails": [{"Notes": notes}, {"Notes": "other"}]},
        174: {"Tags": tags},
        176: {"OrderDetailFilter": wanted},
    }


@pytest.mark.parametrize(
    ("order_type", "notes", "tags", "passes"),
    [
        ("membership renewal", "Spring GALA", [], True),
        ("Membership", "nothing", [], False),
        ("EventRegistration", "x", ["gala"], True),
        ("EventRegistration", "x", ["other"], False),
        ("eventregistration", "x", ["gala"], False),
    ],
)
def test_or_of_and_groups(order_type, notes, tags, passes):
    compiled = compile_filter(NEWPATH, where="module 81, filter")
    assert compiled.name == "Limit to Order Detail Mapping match"
    assert compiled.references == frozenset({55, 174, 176})
    assert compiled.passes(make_context(bundles=bundles(order_type, notes, tags))) is passes


@pytest.mark.parametrize(
    "filter_json",
    [
        None,
        {"name": "Just a label"},
        {"name": "x", "conditions": []},
        {"conditions": None},
        {"name": "x", "conditions": [[]]},
    ],
)
def test_empty_filters_pass(filter_json):
    compiled = compile_filter(filter_json, where="module 1, filter")
    assert isinstance(compiled, Filter)
    assert compiled.references == frozenset()
    assert compiled.passes(make_context(bundles={})) is True


def test_name_only_filter_keeps_its_label():
    assert compile_filter({"name": "Label"}).name == "Label"
    assert compile_filter(None).name is None


def test_and_stops_at_the_first_false_condition():
    check = compile_conditions(
        [[{"a": "{{1.x}}", "o": "exist"}, {"a": "{{abs(1.x)}}", "o": "number:greater", "b": 0}]]
    )
    assert check.passes(make_context(bundles={1: {}})) is False


def test_function_failures_inside_conditions_propagate():
    check = compile_conditions([[{"a": "{{abs(1.x)}}", "o": "number:greater", "b": 0}]])
    with pytest.raises(DataError, match="Function 'abs' finished with error!"):
        check.passes(make_context(bundles={1: {"x": "abc"}}))


def test_literal_operands_as_forman_allows():
    check = compile_conditions(
        [
            [
                {"a": 5, "o": "number:greater", "b": 3},
                {"a": True, "o": "boolean:equal", "b": "true"},
                {"a": None, "o": "notexist"},
            ]
        ]
    )
    assert check.passes(make_context(bundles={})) is True


def test_unary_operators_ignore_b():
    check = compile_conditions([[{"a": "{{1.x}}", "o": "exist", "b": "{{unknown(1)"}]])
    assert check.passes(make_context(bundles={1: {"x": 0}})) is True


def test_error_route_filter_on_error_type():
    check = compile_filter(
        {
            "conditions": [
                [{"a": "{{173.error.type}}", "o": "text:equal", "b": "BundleValidationError"}]
            ]
        }
    )
    context = make_context(bundles={173: {"error": {"type": "BundleValidationError"}}})
    assert check.passes(context)


def test_if_else_branch_conditions():
    branches = [
        compile_conditions(
            [[{"a": "{{1.n}}", "o": "number:greater", "b": "10"}]],
            where="module 3, branches[0].conditions",
        ),
        compile_conditions(
            [[{"a": "{{1.n}}", "o": "number:greater", "b": "5"}]],
            where="module 3, branches[1].conditions",
        ),
    ]
    context = make_context(bundles={1: {"n": 7}})
    assert [branch.passes(context) for branch in branches] == [False, True]
    assert all(branch.name is None for branch in branches)


@pytest.mark.parametrize(
    ("filter_json", "message"),
    [
        (
            {"conditions": [[{"a": "x", "o": "text:equal"}, {"a": "x", "o": "text:equl"}]]},
            "module 5, filter.conditions[0][1].o: unknown operator 'text:equl'",
        ),
        (
            {"conditions": [[{"a": "x", "o": "text:startswith"}]]},
            "module 5, filter.conditions[0][0].o: unknown operator 'text:startswith'",
        ),
        (
            {"conditions": [[{"a": "x", "o": "date:before"}]]},
            "module 5, filter.conditions[0][0].o: unknown operator 'date:before'",
        ),
        (
            {"conditions": [[{"a": "x"}]]},
            "module 5, filter.conditions[0][0].o: the condition has no operator",
        ),
        (
            {"conditions": [[{"a": "{{nope(1)}}", "o": "exist"}]]},
            "module 5, filter.conditions[0][0].a, column 3: unknown function 'nope'",
        ),
        (
            {"conditions": [[], [{"a": "x", "o": "text:equal", "b": "{{1.}}"}]]},
            "module 5, filter.conditions[1][0].b, column 4: unexpected '.'",
        ),
        ({"conditions": {"a": 1}}, "module 5, filter.conditions: conditions must be a list"),
        ({"conditions": [{"a": 1}]}, "module 5, filter.conditions[0]: a condition group must"),
        ({"conditions": [["x"]]}, "module 5, filter.conditions[0][0]: a condition must be"),
        ("nonsense", "module 5, filter: a filter must be an object"),
    ],
)
def test_malformed_filters_name_the_path(filter_json, message):
    with pytest.raises(ExpressionError) as caught:
        compile_filter(filter_json, where="module 5, filter")
    assert str(caught.value).startswith(message)


def test_branch_condition_errors_name_the_branch():
    with pytest.raises(ExpressionError) as caught:
        compile_conditions([[{"a": "x", "o": "nope"}]], where="module 3, branches[1]")
    assert str(caught.value) == "module 3, branches[1].conditions[0][0].o: unknown operator 'nope'"


ACCOUNT_EXISTS = {
    "name": "Account exists",
    "conditions": [
        [
            {"a": "{{4.id}}", "o": "exist"},
            {"a": "{{5.id}}", "o": "notexist"},
            {"a": "{{1.Type}}", "o": "text:equal", "b": "ACCREC"},
            {"a": "{{1.Reference}}", "o": "text:notstartwith", "b": "1CRM "},
        ],
        [{"a": "{{1.Date}}", "o": "date:greater", "b": "{{4.date_modified}}"}],
    ],
}


def test_failures_name_the_first_false_condition_of_each_group_with_its_values():
    check = compile_filter(ACCOUNT_EXISTS, where="module 6, flow[5].filter")
    bundles = {
        1: {"Type": "ACCPAY", "Reference": "1CRM INV-1", "Date": "2026-03-01"},
        4: {"id": "a-1", "date_modified": "2026-03-02"},
        5: {},
    }
    failed = check.failures(make_context(bundles=bundles))
    assert [(f.where, f.a, f.operator, f.a_value, f.b_value) for f in failed] == [
        ("conditions[0][2]", "{{1.Type}}", "text:equal", "ACCPAY", "ACCREC"),
        ("conditions[1][0]", "{{1.Date}}", "date:greater", "2026-03-01", "2026-03-02"),
    ]
    assert [describe_failed_condition(f.to_dict()) for f in failed] == [
        '{{1.Type}} equal to ACCREC (it was "ACCPAY")',
        '{{1.Date}} later than {{4.date_modified}} (it was "2026-03-01"; '
        '{{4.date_modified}} was "2026-03-02")',
    ]
    assert describe_failed_condition(failed[0].to_dict(with_values=False)) == (
        "{{1.Type}} equal to ACCREC"
    )
    bundles[1]["Type"] = "ACCREC"
    bundles[1]["Reference"] = "PO-7"
    assert check.failures(make_context(bundles=bundles)) == []


def test_failures_cut_long_values_and_every_operator_has_a_label():
    check = compile_filter({"conditions": [[{"a": "{{1.text}}", "o": "notexist"}]]})
    (failed,) = check.failures(make_context(bundles={1: {"text": "x" * 500}}))
    assert failed.to_dict()["a_value"] == "x" * SHOWN_CHARACTERS + "…"
    assert set(OPERATOR_LABELS) == set(OPERATOR_CODES)
