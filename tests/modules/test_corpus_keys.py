"""Every setting a corpus export gives a module Switchboard has is understood or knowingly ignored.

For each module of each corpus blueprint whose id this installation has, every key of its
``parameters`` and ``mapper`` must be a field of the module's models (or an alias), a key the
runner interprets for every module of its kind, or listed in the spec's ``ignored_keys`` with
the reason; sections a spec declares ``free_form`` (an aggregator's fields, Create JSON's
structure) hold the user's own names and are not checked. Aggregators' ``flags`` likewise.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from pydantic import BaseModel

from engine.registry import default_registry
from engine.runtime.runner import STOP_IF_EMPTY_KEYS
from engine.spec import ModuleKind, ModuleSpec
from tests.conftest import CORPUS_DIR

REGISTRY = default_registry()

RUNNER_KEYS: Mapping[ModuleKind, frozenset[str]] = {
    # the runner's "continue the execution of the route even if the module returns no results"
    ModuleKind.SEARCH: frozenset({"continueWhenNoRes"}),
    # the router's fallback route (engine/graph/compile.py), its routes are in the flow
    ModuleKind.ROUTER: frozenset({"else"}),
}
AGGREGATOR_FLAGS = frozenset({"groupBy", *STOP_IF_EMPTY_KEYS})


def _blueprint(path) -> Mapping[str, Any]:
    document = json.loads(path.read_text(encoding="utf-8-sig"))
    if isinstance(document.get("response"), Mapping):
        document = document["response"]
    blueprint = document.get("blueprint", document)
    return json.loads(blueprint) if isinstance(blueprint, str) else blueprint


def _modules(flow: Any) -> Iterator[Mapping[str, Any]]:
    for item in flow or []:
        if not isinstance(item, Mapping):
            continue
        yield item
        for route in item.get("routes") or []:
            yield from _modules(route.get("flow"))
        yield from _modules(item.get("onerror"))
        for branch in item.get("branches") or []:
            yield from _modules(branch.get("flow"))


def _field_names(model: type[BaseModel]) -> set[str]:
    names = set()
    for name, field in model.model_fields.items():
        names.add(field.alias or name)
        names.add(name)
    return names


def _unknown(spec: ModuleSpec, section: str, values: Any) -> set[str]:
    if section in spec.free_form or not isinstance(values, Mapping):
        return set()
    model = spec.parameters if section == "parameters" else spec.input
    known = _field_names(model) | set(spec.ignored_keys) | RUNNER_KEYS.get(spec.kind, set())
    return set(values) - known


def _findings() -> list[str]:
    found = []
    for path in sorted(CORPUS_DIR.glob("*.json")):
        for item in _modules(_blueprint(path).get("flow")):
            module = item.get("module")
            if module not in REGISTRY:
                continue
            spec = REGISTRY[module]
            for section in ("parameters", "mapper"):
                for key in sorted(_unknown(spec, section, item.get(section))):
                    found.append(f"{path.name}: module {item.get('id')} {module} {section}.{key}")
            if spec.kind is ModuleKind.AGGREGATOR:
                for key in sorted(set(item.get("flags") or {}) - AGGREGATOR_FLAGS):
                    found.append(f"{path.name}: module {item.get('id')} {module} flags.{key}")
    return found


def test_every_exported_key_of_a_supported_module_is_understood_or_ignored_on_purpose():
    assert _findings() == []


def test_ignored_keys_say_why():
    for spec in REGISTRY.values():
        for key, reason in spec.ignored_keys.items():
            assert len(reason) > 20, f"{spec.id}: ignored key {key} needs a reason"


@pytest.mark.parametrize(
    ("module", "section", "values", "unknown"),
    [
        ("regexp:Parser", "parameters", {"pattern": "x", "surprise": 1}, {"surprise"}),
        ("regexp:Parser", "parameters", {"continueWhenNoRes": True, "global": True}, set()),
        ("builtin:BasicAggregator", "mapper", {"anything": 1}, set()),
    ],
)
def test_the_audit_itself_tells_known_from_unknown(module, section, values, unknown):
    assert _unknown(REGISTRY[module], section, values) == unknown
