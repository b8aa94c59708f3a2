"""The route compiled whole and the general runner give the same record, on varied plans.

Hypothesis draws plans around B1's route (webhook → Iterator → filter → Set variables →
aggregator): filters of every operator class (number against a constant, which the runner
tests in one frame first, and text, dates, booleans, arrays, existence, groups), value
templates that round, coerce, fail (a function's error inside the route) or are ``ignore`` /
``erase``, Set variables of the exported shape and others, error routes with every directive,
an aggregator fed by the Iterator or by a nested one, empty iterations, and small limits.
Each plan runs with ``RunContext(compiled=True)`` (the runner's shortcuts: the inline
module's operation in one frame, the quick number filter, Set variables evaluated directly)
and ``compiled=False`` (the general way everywhere); the records must be identical, counts,
stored bundles, rejections, errors and warnings included.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.filters import compile_filter
from engine.mapping import EvalContext
from engine.runtime import RunLimits
from tests.runtime.test_compiled import NUMBERS, run_both

CONDITIONS = [
    ("{{2.qty}}", "number:greater", "0"),
    ("{{2.qty}}", "number:lessorequal", "2.5"),
    ("{{2.qty}}", "number:equal", "{{2.price}}"),
    ("{{2.sku}}", "text:contain", "a"),
    ("{{2.sku}}", "text:equal:ci", "SKU"),
    ("{{2.sku}}", "text:pattern", "^s"),
    ("{{2.qty}}", "exist", None),
    ("{{2.missing}}", "notexist", None),
    ("{{2.flag}}", "boolean:equal", "true"),
    ("{{2.tags}}", "array:contain", "1"),
    ("{{2.sku}}", "date:less", "2026-01-01"),
    ("{{2.qty}}", "number:greater", "abc"),
]
VALUES = [
    "{{round(2.qty * 2.price * (1 + 2.tax); 2)}}",
    "{{upper(2.sku)}}",
    "{{lower(2.sku)}}",
    "{{round(2.qty; 1)}}",
    "{{2.qty}}",
    "{{2.qty + 1}}",
    "{{parseNumber(2.sku)}}",
    '{{formatDate(2.sku; "YYYY")}}',
    "{{ignore}}",
    "{{erase}}",
    "{{var.a}}-{{2.sku}}",
    "text",
]
ITEMS = [
    {"a": "{{3.a}}", "b": "{{3.b}}", "at": "{{2.`__IMTINDEX__`}}"},
    {"a": "{{3.a}}", "c": "{{3.c}}"},  # the bundle just made alone: its item written inline
    {"b": "{{3.b}}", "a": "{{3.a}}", "b2": "{{3.b}}"},
    {"a": "{{3.a}}", "k": "constant"},
]
"""Aggregator mappers: reading only Set variables' bundle (``generated_bundle_item``) or not."""
DIRECTIVES = [
    None,
    "builtin:Ignore",
    "builtin:Resume",
    "builtin:Break",
    "builtin:Rollback",
    "builtin:Commit",
]
LINE = st.fixed_dictionaries(
    {
        "sku": st.one_of(st.sampled_from(["sku-1", "a", "2026-02-01", ""]), st.integers()),
        "qty": NUMBERS,
    },
    optional={
        "price": NUMBERS,
        "tax": st.sampled_from([0, 0.1, "0.2", None]),
        "flag": st.sampled_from([True, False, "true", None]),
        "tags": st.lists(st.sampled_from([1, "1", "x"]), max_size=3),
    },
)


@st.composite
def plans(draw: Any) -> dict[str, Any]:
    groups = draw(
        st.lists(
            st.lists(st.sampled_from(CONDITIONS), min_size=1, max_size=2), min_size=0, max_size=2
        )
    )
    variables = [
        {"name": draw(st.sampled_from(["a", "b", "c"])), "value": draw(st.sampled_from(VALUES))}
        for _ in range(draw(st.integers(min_value=0, max_value=4)))
    ]
    mapper: dict[str, Any] = {"variables": variables}
    scope = draw(st.sampled_from(["roundtrip", "execution", None, "bogus"]))
    if scope is not None:
        mapper = {"scope": scope, **mapper} if draw(st.booleans()) else {**mapper, "scope": scope}
    nested = draw(st.booleans())
    feeder = 5 if nested and draw(st.booleans()) else 2
    setter: dict[str, Any] = {
        "id": 3,
        "module": "util:SetVariables",
        "version": 1,
        "mapper": mapper,
    }
    if groups:
        setter["filter"] = {
            "name": "f",
            "conditions": [
                [{"a": a, "o": o, **({"b": b} if b is not None else {})} for a, o, b in group]
                for group in groups
            ],
        }
    directive = draw(st.sampled_from(DIRECTIVES))
    if directive is not None:
        handler: dict[str, Any] = {"id": 9, "module": directive, "version": 1}
        if directive == "builtin:Resume":
            handler["mapper"] = {"a": "resumed"}
        setter["onerror"] = [handler]
    flow: list[dict[str, Any]] = [
        {"id": 1, "module": "gateway:CustomWebHook", "version": 1, "parameters": {"hook": 1}},
        {
            "id": 2,
            "module": "builtin:BasicFeeder",
            "version": 1,
            "mapper": {"array": "{{1.lines}}"},
        },
    ]
    if nested:
        flow.append(
            {
                "id": 5,
                "module": "builtin:BasicFeeder",
                "version": 1,
                "mapper": {"array": "{{2.tags}}"},
            }
        )
    flow.append(setter)
    if draw(st.booleans()):
        aggregator: dict[str, Any] = {
            "id": 4,
            "module": "builtin:BasicAggregator",
            "version": 1,
            "parameters": {"feeder": feeder},
            "mapper": draw(st.sampled_from(ITEMS)),
        }
        if draw(st.booleans()):
            aggregator["filter"] = {"name": "g", "conditions": [[{"a": "{{3.a}}", "o": "exist"}]]}
        flow.append(aggregator)
    return {"flow": flow, "dlq": draw(st.booleans())}


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    plans(),
    st.lists(LINE, max_size=6),
    st.integers(min_value=1, max_value=3),
    st.sampled_from([10_000, 7, 3]),
    st.sampled_from([10_000, 9, 4]),
    st.sampled_from([10**6, 60]),
)
def test_varied_routes_give_the_same_record_compiled_or_not(
    plan, items, stored, operations, bundles, output_bytes
):
    limits = RunLimits(
        stored_bundles=stored,
        max_operations=operations,
        max_bundles=bundles,
        max_output_bytes=output_bytes,
    )
    compiled, general = run_both(
        plan["flow"], [{"lines": items}], scenario={"dlq": plan["dlq"]}, limits=limits
    )
    assert compiled == general


def test_b1_gives_the_same_record_compiled_or_not():
    from tests.benchmarks import bench_engine

    flow = [dict(module, version=1) for module in bench_engine.BLUEPRINT["flow"]]
    for limits in (RunLimits(), RunLimits(stored_bundles=3), RunLimits(max_operations=50)):
        compiled, general = run_both(
            flow, [{"lines": bench_engine.invoice_lines(2_000)}], limits=limits
        )
        assert compiled == general
        modules = {module["id"]: module for module in compiled["modules"]}
        assert modules[3]["operations"] == general["modules"][2]["operations"]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["greater", "less", "equal", "notequal", "greaterorequal", "lessorequal"]),
    st.sampled_from(["0", "2.5", "-1", " 3 ", "1e3", 0, 1.5]),
    st.one_of(NUMBERS, st.text(max_size=3)),
    st.sampled_from([{}, {"other": 1}, None, "text", [1]]),
)
def test_the_quick_number_filter_passes_only_what_the_filter_passes(name, b, a, extra):
    check = compile_filter({"conditions": [[{"a": "{{2.qty}}", "o": f"number:{name}", "b": b}]]})
    quick = check.quick_pass
    assert quick is not None
    bundle: Any = {"qty": a, **extra} if isinstance(extra, dict) else extra
    scope = {2: bundle}
    ctx = EvalContext(bundles=scope)
    if quick(scope):
        assert check.failures(ctx) == []
        assert ctx.warnings == []


def test_only_a_number_condition_on_one_key_has_a_quick_test():
    def quick(condition: dict[str, Any]) -> Any:
        return compile_filter({"conditions": [[condition]]}).quick_pass

    assert quick({"a": "{{2.qty}}", "o": "number:greater", "b": "0"}) is not None
    assert quick({"a": "{{2.qty}}", "o": "number:greater", "b": "{{2.price}}"}) is None
    assert quick({"a": "{{2.a.b}}", "o": "number:greater", "b": "0"}) is None
    assert quick({"a": "{{2.qty}}", "o": "text:equal", "b": "0"}) is None
    assert quick({"a": "{{2.qty}}", "o": "number:greater", "b": "abc"}) is None
    two = compile_filter(
        {"conditions": [[{"a": "{{2.qty}}", "o": "number:greater", "b": "0"}] * 2]}
    )
    assert two.quick_pass is None


GENERATED = [
    "{{round(2.qty * 2.price * (1 + 2.tax); 2)}}",
    "{{round(2.qty; 1)}}",
    "{{round(2.qty; 2)}}",
    "{{round(2.qty; 3)}}",
    "{{round(2.price - 2.qty; 4)}}",
    "{{round(2.qty * 3; 3)}}",
    "{{upper(2.sku)}}",
    "{{lower(2.sku)}}",
    "{{upper(5.sku)}}",
    "{{2.qty}}",
    "{{2.missing}}",
]
"""Value templates of the shapes ``engine/mapping/generated.py`` writes into one function."""
TEXTS = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["ß", "ﬁ", "İ", "ǅ", "x" * 40]),
    st.integers(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
NEAR_TIES = st.builds(
    lambda whole, places, nudge: (whole + 0.5 * 10.0**-places) + nudge * 1e-9,
    st.integers(min_value=-(10**6), max_value=10**6),
    st.integers(min_value=1, max_value=4),
    st.sampled_from([0, 1, -1, 1000, -1000]),
) | st.sampled_from([2.675, 1.005, 3.05, 0.285, 1.0005, 8.325, 0.145, -2.675, 1.5e-5])
"""Floats at or near a tie, where Python's ``round`` and Make's half-up on the digits part."""


def _outcome(evaluate: Any, ctx: EvalContext) -> Any:
    try:
        return ("value", evaluate(ctx))
    except Exception as error:  # the same error, by its type and Make's message
        return ("error", type(error).__name__, str(error))


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(GENERATED), min_size=1, max_size=4),
    st.fixed_dictionaries(
        {"qty": st.one_of(NUMBERS, NEAR_TIES), "sku": TEXTS},
        optional={"price": st.one_of(NUMBERS, NEAR_TIES), "tax": NUMBERS},
    ),
    st.one_of(st.fixed_dictionaries({"sku": TEXTS}), st.none(), st.just("text")),
    st.sampled_from([10_000, 3]),
    st.booleans(),
)
def test_generated_values_give_the_templates_values(sources, line, other, limit, checkpoint):
    """The generated function (guards and all) against each template's tree evaluated."""
    from engine.mapping.generated import generated_values
    from engine.mapping.template import compile_template

    templates = [compile_template(source) for source in sources]
    evaluators = [template.compiled() for template in templates]
    generated = generated_values(templates, lambda ctx: [e(ctx) for e in evaluators])
    assert generated is not None
    ctx = EvalContext(
        bundles={2: line, 5: other},
        max_output=limit,
        checkpoint=(lambda: None) if checkpoint else None,
    )
    expected = _outcome(lambda ctx: [t._single.evaluate(ctx) for t in templates], ctx)
    assert _outcome(generated, ctx) == expected


def test_only_the_written_shapes_are_generated():
    from engine.mapping.generated import generated_values
    from engine.mapping.template import compile_template

    def generated(*sources: str) -> Any:
        return generated_values([compile_template(s) for s in sources], lambda ctx: [])

    assert generated("{{round(2.qty; 2)}}", "{{upper(2.sku)}}") is not None
    for other in (
        "{{round(2.qty; 5)}}",
        "{{round(2.qty)}}",
        "{{upper(2.a.b)}}",
        "{{var.a}}",
        "{{2.qty / 2}}",
        "text",
        "{{ignore}}",
        "x {{2.sku}}",
        "{{trim(2.sku)}}",
    ):
        assert generated("{{2.qty}}", other) is None, other


def test_the_bundle_item_gives_the_mappers_item():
    from engine.mapping import compile_mapper
    from engine.mapping.generated import generated_bundle_item
    from engine.mapping.values import ERASE, IGNORE

    mapper = compile_mapper({"a": "{{3.a}}", "b": "{{3.b}}", "c": "{{3.c}}", "d": "{{3.d}}"})
    item = generated_bundle_item(mapper, 3)
    assert item is not None
    bundle = {"a": IGNORE, "b": ERASE, "c": [1, {"x": 2}]}
    assert item(bundle) == mapper.evaluate(EvalContext(bundles={3: bundle}))
    assert item(bundle) == {"b": None, "c": [1, {"x": 2}], "d": None}
    for other in (
        {"a": "{{3.a}}", "at": "{{2.a}}"},
        {"a": "{{3.a.b}}"},
        {"a": "{{3.a}}", "k": "constant"},
        {"a": "{{upper(3.a)}}"},
        {"a": {"b": "{{3.a}}"}},
        ["{{3.a}}"],
    ):
        assert generated_bundle_item(compile_mapper(other), 3) is None, other


def test_each_aggregator_item_gives_the_same_record_compiled_or_not():
    """The aggregator's item written inline (``ITEMS`` reading Set variables' bundle alone)
    and evaluated: the same record, with the Iterator's index and a missing key among them."""
    lines = [{"qty": 1, "sku": "a"}, {"qty": 2.5, "sku": "b"}, {"qty": 0, "sku": ""}]
    for mapper in ITEMS:
        flow = [
            {"id": 1, "module": "gateway:CustomWebHook", "version": 1, "parameters": {"hook": 1}},
            {
                "id": 2,
                "module": "builtin:BasicFeeder",
                "version": 1,
                "mapper": {"array": "{{1.lines}}"},
            },
            {
                "id": 3,
                "module": "util:SetVariables",
                "version": 1,
                "mapper": {
                    "variables": [
                        {"name": "a", "value": "{{2.qty}}"},
                        {"name": "b", "value": "{{upper(2.sku)}}"},
                    ]
                },
            },
            {
                "id": 4,
                "module": "builtin:BasicAggregator",
                "version": 1,
                "parameters": {"feeder": 2},
                "mapper": mapper,
            },
        ]
        compiled, general = run_both(flow, [{"lines": lines}])
        assert compiled == general, mapper


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "c"]), max_size=4),
    st.data(),
    st.sampled_from(["roundtrip", "execution"]),
)
def test_the_generated_apply_sets_what_the_loop_sets(names, data, scope):
    from engine.mapping.values import ERASE, IGNORE
    from engine.runtime.context import RunVariables
    from engine.runtime.inline import PreparedSetVariables

    values = data.draw(
        st.lists(
            st.sampled_from([1, "x", None, IGNORE, ERASE, [1]]),
            min_size=len(names),
            max_size=len(names),
        )
    )
    prepared = PreparedSetVariables({}, scope, names, [], [])
    generated, looped = RunVariables(), RunVariables()
    output = prepared.apply(values, generated)
    assert output == prepared.apply_general(values, looped)
    assert [list(o) for o in output] == [list(o) for o in prepared.apply_general(values, looped)]
    assert generated.scope(scope) == looped.scope(scope)


@pytest.mark.parametrize(
    "line",
    [
        {"qty": 3, "price": 12.35, "tax": 0.1},  # 40.755: a tie, half-up on the digits
        {"qty": 1, "price": 2.675, "tax": 0},  # Python's ``round`` gives 2.67, Make 2.68
        {"qty": 1, "price": 1.005, "tax": 0},
        {"qty": -1, "price": 8.325, "tax": 0},
        {"qty": 2, "price": 22.5, "tax": 0},  # 45.0: a whole result, an ``int``
        {"qty": 3, "price": 0, "tax": 0.2},
        {"qty": 1, "price": 999_999.995, "tax": 0},
        {"qty": 1, "price": 1.5e-5, "tax": 0},  # ``repr`` with an exponent: ``general``
        {"qty": 1000, "price": 1000, "tax": 0},  # an ``int`` of 10^6: ``general``
    ],
)
def test_generated_round_of_a_tie_or_a_whole_number_gives_the_templates_value(line):
    """The generated ``round`` where it takes ``_half_up`` (near a tie) or keeps the
    arithmetic's ``int``: the template's value, of the same type (``45`` is not ``45.0``)."""
    from engine.mapping.generated import generated_values
    from engine.mapping.template import compile_template

    sources = ["{{round(2.qty * 2.price * (1 + 2.tax); 2)}}", "{{round(2.price; 1)}}"]
    templates = [compile_template(source) for source in sources]
    evaluators = [template.compiled() for template in templates]
    generated = generated_values(templates, lambda ctx: [e(ctx) for e in evaluators])
    assert generated is not None
    ctx = EvalContext(bundles={2: line})
    expected = [t._single.evaluate(ctx) for t in templates]
    got = generated(ctx)
    assert [(type(value), value) for value in got] == [(type(value), value) for value in expected]


def test_b1_operations_time_their_own_work_compiled_or_not():
    """Timings are left out of the records compared above: each Set variables operation lasts
    what its clock readings say, the one that fails included (its start is kept in the
    operation until ``_end_operation``), compiled as the general way: one tick of a clock a
    second a reading, not the time since the clock's zero."""
    from engine.blueprint import load_blueprint
    from engine.graph import compile_blueprint
    from engine.registry import default_registry
    from engine.runtime import RunContext, run_scenario
    from tests.benchmarks import bench_engine

    plan = compile_blueprint(load_blueprint(bench_engine.BLUEPRINT), default_registry())
    for compiled in (True, False):
        ticks = iter(range(10**9))
        context = RunContext(
            clock=lambda: datetime(2026, 3, 1, tzinfo=UTC),
            monotonic=lambda ticks=ticks: float(next(ticks)),
            compiled=compiled,
        )
        lines = bench_engine.invoice_lines(40)
        lines[30]["qty"], lines[30]["unit_price"] = 2, "abc"  # the operation's error
        record = run_scenario(plan, context, trigger_bundles=[{"lines": lines}])
        calls = record.modules[3].calls
        assert calls[-1].error is not None and next(ticks) > 40
        assert [call.duration_ms for call in calls] == [1000.0] * len(calls), compiled
