"""docs/expressions.md documents every function (with an example) and every operator family."""

from __future__ import annotations

import re

from engine.filters.codes import OPERATOR_CODES
from engine.mapping.functions import FUNCTIONS
from tests.conftest import REPO_ROOT

DOCS = (REPO_ROOT / "docs" / "expressions.md").read_text(encoding="utf-8")
ROWS = {
    match.group(1): match.group(0)
    for match in re.finditer(r"^\| `(\w+)\(.*$", DOCS, flags=re.MULTILINE)
}


def test_every_function_has_a_documented_row_with_an_example():
    missing = [name for name in FUNCTIONS if name not in ROWS]
    assert missing == []
    without_example = [
        name for name, row in ROWS.items() if name in FUNCTIONS and row.count(f"{name}(") < 2
    ]
    assert without_example == []


def test_every_documented_function_exists():
    assert set(ROWS) <= set(FUNCTIONS)


def test_every_function_has_a_docstring_with_an_example():
    assert [
        name
        for name, spec in FUNCTIONS.items()
        if f"{name}(" not in spec.summary and f"{name}(" not in (spec.impl.__doc__ or "")
    ] == []


def test_every_operator_family_is_documented():
    families = {code.split(":")[0] for code in OPERATOR_CODES}
    assert all(
        f"`{family}:" in DOCS or f"`{family}`" in DOCS
        for family in families - {"exist", "notexist"}
    )
    assert "`exist`" in DOCS and "`notexist`" in DOCS
