"""Every expression in the shared blueprint corpus compiles (or names the function Make lacks)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.errors import ExpressionError
from engine.filters import compile_conditions, compile_filter
from engine.mapping import compile_mapper, compile_template
from tests.conftest import corpus_files

FUNCTIONS_MAKE_LACKS = {"filter", "multiply", "divide"}
"""Used by the hand-written ``johnrippy1980__god-mode…`` files; Make reports them as unknown."""


def load(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_bytes().decode("utf-8-sig"))
    if "flow" not in document and isinstance(document.get("blueprint"), dict):
        document = document["blueprint"]
    if "flow" not in document and isinstance(document.get("response"), dict):
        document = document["response"]["blueprint"]
    return document


def expression_sites(flow: list[Any], path: str = "flow") -> Iterator[tuple[str, str, Any]]:
    """(kind, where, value) for every mapper, filter, flags and If-else branch in a flow."""
    for index, module in enumerate(flow or []):
        if not isinstance(module, dict):
            continue
        where = f"module {module.get('id')}, {path}[{index}]"
        if module.get("mapper") is not None:
            yield "mapper", f"{where}.mapper", module["mapper"]
        if module.get("filter") is not None:
            yield "filter", f"{where}.filter", module["filter"]
        if module.get("flags") is not None:
            yield "mapper", f"{where}.flags", module["flags"]
        for b, branch in enumerate(module.get("branches") or []):
            yield "conditions", f"{where}.branches[{b}].conditions", branch.get("conditions")
            yield from expression_sites(branch.get("flow"), f"{path}[{index}].branches[{b}].flow")
        for r, route in enumerate(module.get("routes") or []):
            yield from expression_sites(route.get("flow"), f"{path}[{index}].routes[{r}].flow")
        yield from expression_sites(module.get("onerror"), f"{path}[{index}].onerror")


def compile_site(kind: str, where: str, value: Any) -> Any:
    if kind == "filter":
        return compile_filter(value, where=where)
    if kind == "conditions":
        return compile_conditions(value, where=where)
    return compile_mapper(value, where=where)


CORPUS = corpus_files()


@pytest.mark.parametrize("path", CORPUS, ids=[path.stem[:60] for path in CORPUS])
def test_every_corpus_expression_compiles(path: Path):
    blueprint = load(path)
    sites = list(expression_sites(blueprint.get("flow")))
    assert sites or not blueprint.get("flow")
    failures = []
    for kind, where, value in sites:
        try:
            compile_site(kind, where, value)
        except ExpressionError as error:
            failures.append(error)
    if "god-mode" in path.name:
        for error in failures:
            assert error.reason.startswith("unknown function '")
            assert error.reason.split("'")[1] in FUNCTIONS_MAKE_LACKS
    else:
        assert failures == []


def test_corpus_functions_make_lacks_are_reported_by_name():
    named = set()
    for path in CORPUS:
        for kind, where, value in expression_sites(load(path).get("flow")):
            try:
                compile_site(kind, where, value)
            except ExpressionError as error:
                named.add(error.reason)
    assert named, "the god-mode v11 blueprint uses functions Make lacks"
    assert named <= {f"unknown function '{name}'" for name in FUNCTIONS_MAKE_LACKS}


def test_corpus_walk_reaches_every_kind_of_site():
    templates = 0
    places: set[str] = set()
    for path in CORPUS:
        for kind, where, value in expression_sites(load(path).get("flow")):
            places.add(kind)
            places.update(part for part in ("routes", "onerror", "branches") if part in where)
            if kind == "mapper":
                templates += sum(1 for s in _strings(value) if "{{" in s)
    assert templates > 500
    assert places >= {"mapper", "filter", "conditions", "routes", "onerror", "branches"}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_unknown_function_error_names_the_function_and_place():
    with pytest.raises(ExpressionError) as caught:
        compile_template("{{length(filter(3.data; 'x'; '>='; 70))}}", where="module 7, mapper.x")
    assert caught.value.reason == "unknown function 'filter'"
    assert caught.value.where == "module 7, mapper.x"
    assert caught.value.column == 10
