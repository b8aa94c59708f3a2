"""Fuzzing the blueprint importer.

Properties:
* any JSON value, and any bytes, give a ``Blueprint`` or a ``BlueprintError``; every problem
  has a path, and a path names a place that exists in what was imported (or a missing key of an
  object that exists);
* generated valid blueprints (with unknown keys everywhere) export back exactly, key order
  included;
* compiling what imports gives a plan or a user error (``BlueprintError``/``ExpressionError``/
  ``UnknownModuleError``), never another exception.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.blueprint import export_blueprint, load_blueprint, read_document
from engine.errors import BlueprintError, UserError
from engine.filters import OPERATOR_CODES
from engine.graph import compile_blueprint
from engine.registry import default_registry
from tests.fuzz.strategies import DEADLINE, TEMPLATES, examples
from tests.security.guards import time_limit

KEYS = [
    "name",
    "flow",
    "metadata",
    "id",
    "module",
    "version",
    "mapper",
    "parameters",
    "routes",
    "filter",
    "conditions",
    "a",
    "o",
    "b",
    "onerror",
    "branches",
    "type",
    "outputs",
    "mappings",
    "scenario",
    "roundtrips",
    "maxErrors",
    "autoCommit",
    "sequential",
    "designer",
    "blueprint",
    "response",
    "code",
    "scheduling",
    "instant",
    "zone",
    "filters",
    "flags",
    "label",
    "merge",
    "disabled",
    "description",
    "x",
]

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
    | st.sampled_from(
        ["a:b", "builtin:BasicRouter", "text:equal", "exist", "condition", "else", "{{1.x}}"]
    )
)

ANY_JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), children, max_size=6)
    ),
    max_leaves=30,
)

FUZZ = settings(
    max_examples=examples(300),
    deadline=DEADLINE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for name, index in re.findall(r"\.?([^.\[\]]+)|\[(\d+)\]", path):
        steps.append(int(index) if index else name)
    return steps


def _points_into(document: Any, path: str) -> bool:
    """Whether ``path`` leads to a value of ``document``, or names a key missing from an
    object that is there (a required field)."""
    value = document
    steps = _steps(path)
    for position, step in enumerate(steps):
        if isinstance(step, int) and isinstance(value, list) and step < len(value):
            value = value[step]
        elif isinstance(value, dict) and str(step) in value:
            value = value[str(step)]
        else:
            return position == len(steps) - 1 and isinstance(value, dict)
    return True


def _check_problems(error: BlueprintError, document: Any) -> None:
    assert error.problems
    for problem in error.problems:
        assert isinstance(problem.path, str) and problem.message
        if problem.path:
            assert _points_into(document, problem.path), (problem.path, problem.message)


def _import(source: Any, document: Any) -> Any:
    try:
        with time_limit(3):
            return load_blueprint(source)
    except BlueprintError as error:
        _check_problems(error, document)
        return None


@FUZZ
@given(ANY_JSON)
def test_any_json_value_imports_or_names_its_problems(value):
    _import(value if isinstance(value, dict) else json.dumps(value), value)


@FUZZ
@given(ANY_JSON)
def test_any_json_text_imports_like_the_parsed_value(value):
    text = json.dumps(value)
    from_text, from_value = (
        _import(text, value),
        _import(value, value) if isinstance(value, dict) else None,
    )
    if isinstance(value, dict) and from_text is not None:
        assert from_value is not None and export_blueprint(from_text) == export_blueprint(
            from_value
        )


@FUZZ
@given(st.binary(max_size=300) | ANY_JSON.map(lambda v: json.dumps(v).encode("utf-16")))
def test_any_bytes_import_or_fail_as_a_blueprint_error(raw):
    try:
        with time_limit(3):
            load_blueprint(raw)
    except BlueprintError as error:
        assert error.problems and all(isinstance(p.path, str) for p in error.problems)


# -- valid blueprints round-trip ---------------------------------------------------------

EXTRA = st.dictionaries(
    st.sampled_from(["zz", "designer", "restore", "expect", "interface", "x"]), ANY_JSON, max_size=2
)
MODULES = st.sampled_from(
    [
        "gateway:CustomWebHook",
        "util:SetVariable2",
        "json:ParseJSON",
        "http:ActionSendData",
        "builtin:BasicFeeder",
        "unknown:Thing",
    ]
)
CONDITION = st.builds(
    lambda a, o, b, extra: {"a": a, "o": o, "b": b, **extra},
    TEMPLATES,
    st.sampled_from(sorted(OPERATOR_CODES)),
    TEMPLATES,
    EXTRA,
)
FILTER = st.builds(
    lambda name, groups: {"name": name, "conditions": groups},
    st.text(max_size=8),
    st.lists(st.lists(CONDITION, min_size=1, max_size=2), max_size=2),
)


@st.composite
def flow(draw: st.DrawFn, depth: int = 0, start: int = 1) -> list[dict[str, Any]]:
    items = []
    next_id = start
    for _ in range(draw(st.integers(1, 3))):
        item: dict[str, Any] = {
            "id": next_id,
            "module": draw(MODULES),
            "version": 1,
            "parameters": draw(st.dictionaries(st.text(max_size=4), ANY_JSON, max_size=2)),
            "mapper": draw(st.dictionaries(st.text(max_size=4), TEMPLATES, max_size=3)),
            "metadata": {"designer": {"x": 0, "y": 0}},
            **draw(EXTRA),
        }
        next_id += 1
        if draw(st.booleans()):
            item["filter"] = draw(FILTER)
        if depth < 2 and draw(st.integers(0, 4)) == 0:
            item["module"] = "builtin:BasicRouter"
            item["routes"] = []
            for _ in range(draw(st.integers(1, 2))):
                inner = draw(flow(depth + 1, next_id))
                next_id += 100
                item["routes"].append({"flow": inner, **draw(EXTRA)})
        items.append(item)
    return items


BLUEPRINTS = st.builds(
    lambda name, items, scenario, extra: {
        "name": name,
        "flow": items,
        "metadata": {"version": 1, "scenario": scenario},
        **extra,
    },
    st.text(max_size=10),
    flow(),
    st.fixed_dictionaries(
        {
            "roundtrips": st.integers(1, 5),
            "maxErrors": st.integers(0, 5),
            "autoCommit": st.booleans(),
            "sequential": st.booleans(),
        },
        optional={"zz": ANY_JSON},
    ),
    EXTRA.filter(lambda extra: not {"flow", "name", "metadata"} & set(extra)),
)

WRAPPERS = st.sampled_from(
    [
        lambda bp: bp,
        lambda bp: {"code": "OK", "response": {"blueprint": bp, "other": 1}},
        lambda bp: {"blueprint": bp, "scheduling": {"type": "indefinitely", "interval": 900}},
    ]
)


@settings(
    max_examples=examples(100),
    deadline=DEADLINE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(BLUEPRINTS, WRAPPERS)
def test_generated_blueprints_round_trip_exactly(blueprint, wrap):
    original = wrap(blueprint)
    text = json.dumps(original, ensure_ascii=False)
    exported = read_document(text.encode("utf-8")).export()
    assert exported == original
    assert json.dumps(exported, ensure_ascii=False) == text, "key order changed"


@settings(
    max_examples=examples(60),
    deadline=DEADLINE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(BLUEPRINTS | ANY_JSON.filter(lambda v: isinstance(v, dict)))
def test_compiling_what_imports_gives_a_plan_or_a_user_error(value):
    blueprint = _import(value, value)
    if blueprint is None:
        return
    try:
        with time_limit(3):
            compile_blueprint(blueprint, default_registry())
    except UserError:
        pass
