"""Hypothesis strategies: IML expressions built from the grammar, hostile Make data, filters.

Expressions are generated from the real function table with legal argument counts, so most
examples compile and exercise the evaluator rather than the parser's error path; junk text is
mixed in to exercise the parser.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from hypothesis import strategies as st

from engine.filters import OPERATOR_CODES
from engine.mapping.functions import FUNCTIONS

# Values that broke things before, or that sit on a coercion edge.
EDGE_TEXT = [
    "",
    " ",
    "0",
    "-0",
    "1",
    " 12 ",
    "1e3",
    "1e400",
    "-1e400",
    "NaN",
    "Infinity",
    "0x10",
    "9" * 400,
    "9" * 5000,
    "²",
    "١٢",
    "true",
    "false",
    "null",
    "2024-02-30",
    "2024-01-15T10:30:00Z",
    "Tue, 1 Jul 2003 10:52:37 +0200",
    "24:61",
    "/(a+)+$/",
    "/x/gi",
    "$&$1$`$'",
    "{0.__class__}",
    "%s%n",
    "__class__",
    "a,b,,c",
    "\x00",
    "\ud7ff",
    "😀",
    "\u202e",
    "Europe/Prague",
    "+99:99",
    "YYYY-MM-DD",
    "asc ci",
    "base64",
    "hex",
    "aGk=",
    "zz",
    "%ff",
    "<b>x</b>",
    '"',
    "'",
    "`",
]

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(EDGE_TEXT),
    st.binary(max_size=16),
    st.datetimes(timezones=st.just(UTC)),
)

DATA = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(["a", "b", "sku", "name", "0", "1", "__class__", ""])
            | st.text(max_size=6),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


def _deep(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = [value, {"a": value}] if levels < 30 else [value]
    return value


@st.composite
def bundles(draw: st.DrawFn) -> dict[int, Any]:
    """Bundles for modules 1 and 2 with the field names the expression strategy reads."""
    fields = {name: draw(DATA) for name in ("a", "b", "list", "obj", "text", "num")}
    fields["deep"] = _deep(draw(st.sampled_from([0, 5, 200])))
    return {1: fields, 2: draw(DATA)}


QUOTED = st.text(max_size=12).map(lambda text: '"' + text.replace('"', '""') + '"')

ATOMS = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(
        [
            "0",
            "1",
            "2.5",
            "99999999999999999999",
            "9" * 400,
            "null",
            "true",
            "false",
            "now",
            "emptyarray",
            "emptystring",
            "space",
            "newline",
            "timestamp",
            "uuid",
            "random",
            "pi",
            "ignore",
            "erase",
            "executionId",
            "var.scenario.id",
            "var.input",
            "`1`",
            "`2`",
            "1.a",
            "1.b",
            "1.list",
            "1.list[]",
            "1.list[2]",
            "1.list[].a",
            "1.obj.a.b",
            "1.text",
            "1.num",
            "1.deep",
            "1.deep[1][1]",
            "2.a",
            "2",
            "9.x",
            "YYYY-MM-DD",
            "asc",
            "desc ci",
            "base64",
            "hex",
            "X",
            "x",
            "HH:mm",
            "Europe/Prague",
        ]
    ),
    QUOTED,
    st.sampled_from(EDGE_TEXT).map(lambda text: '"' + text.replace('"', '""') + '"'),
)

OPERATORS = ["+", "-", "*", "/", "%", "=", "!=", "<", ">", "<=", ">=", "&", "|", "&&", "||"]
SPECS = sorted(FUNCTIONS.values(), key=lambda spec: spec.name)


def _call(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    def build(spec: Any) -> st.SearchStrategy[str]:
        most = spec.max_args if spec.max_args is not None else spec.min_args + 3
        return st.lists(inner, min_size=spec.min_args, max_size=min(most, spec.min_args + 3)).map(
            lambda args: f"{spec.name}({'; '.join(args)})"
        )

    return st.sampled_from(SPECS).flatmap(build)


EXPRESSIONS = st.recursive(
    ATOMS,
    lambda inner: st.one_of(
        _call(inner),
        st.tuples(inner, st.sampled_from(OPERATORS), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(inner, inner).map(lambda t: f"({t[0]})[{t[1]}]"),
        inner.map(lambda text: f"-{text}"),
    ),
    max_leaves=10,
)

JUNK = st.sampled_from(
    [
        "{{",
        "}}",
        "(",
        ")",
        ";",
        "[",
        "]",
        ".",
        "`",
        '"',
        "'",
        "\\",
        "{",
        "}",
        "$",
        "#",
        "@",
        "~",
        "^",
        "?",
        ":",
        ",",
        "1.",
        "var.",
        "ä",
    ]
)

TEMPLATES = st.one_of(
    EXPRESSIONS.map(lambda expression: "{{" + expression + "}}"),
    st.lists(EXPRESSIONS.map(lambda e: "{{" + e + "}}") | st.text(max_size=8), max_size=4).map(
        "".join
    ),
    st.lists(JUNK | EXPRESSIONS, max_size=12).map(lambda parts: "{{" + "".join(parts) + "}}"),
    st.text(max_size=40),
)

OPERAND = st.one_of(TEMPLATES, DATA)

CONDITIONS = st.fixed_dictionaries(
    {"a": OPERAND, "o": st.sampled_from(sorted(OPERATOR_CODES)) | st.text(max_size=12)},
    optional={"b": OPERAND, "extra": DATA},
)

FILTERS = st.one_of(
    st.fixed_dictionaries(
        {
            "name": st.text(max_size=8) | st.none(),
            "conditions": st.lists(st.lists(CONDITIONS, max_size=3), max_size=3),
        }
    ),
    DATA,
    st.fixed_dictionaries({"conditions": DATA}),
    st.fixed_dictionaries({"conditions": st.lists(DATA, max_size=3)}),
)


def examples(count: int) -> int:
    """``count`` scaled by ``SWITCHBOARD_FUZZ_SCALE`` (default 1): ``=50`` for a long hunt."""
    import os

    return count * max(1, int(os.environ.get("SWITCHBOARD_FUZZ_SCALE", "1")))


DEADLINE = None
"""No Hypothesis deadline: it is wall time, which a loaded machine stretches without bound (a
10 s deadline failed the ingress fuzz under load). Each example runs under ``time_limit``
(CPU seconds) instead, which only the example's own work uses up."""
