"""The module registry fails loudly and loads module packages from entry points."""

from __future__ import annotations

import pytest

from engine.errors import UnknownModuleError
from engine.registry import DuplicateModuleError, ModuleRegistry, default_registry
from engine.spec import ModuleKind, ModuleSpec


def spec(module_id="test:Thing", **extra):
    return ModuleSpec(
        id=module_id, kind=ModuleKind.ACTION, label="Thing", run=lambda c: [], **extra
    )


def test_unknown_module_id_raises_naming_it():
    with pytest.raises(UnknownModuleError) as caught:
        ModuleRegistry()["google-sheets:addRow"]
    assert str(caught.value) == "module google-sheets:addRow is not available in this installation"


def test_duplicate_ids_are_refused():
    registry = ModuleRegistry([spec()])
    with pytest.raises(DuplicateModuleError, match="test:Thing is registered twice"):
        registry.register(spec())


def test_get_and_contains_do_not_raise():
    registry = ModuleRegistry([spec()])
    assert "test:Thing" in registry
    assert registry.get("test:Other") is None


def test_builtin_modules_arrive_through_the_entry_point():
    registry = default_registry()
    assert registry["builtin:BasicRouter"].kind is ModuleKind.ROUTER
    assert registry["builtin:BasicAggregator"].kind is ModuleKind.AGGREGATOR
    assert registry["builtin:Break"].kind is ModuleKind.DIRECTIVE


def test_copies_are_independent():
    original = ModuleRegistry([spec()])
    copy = original.copy()
    copy.register(spec("test:Other"))
    assert "test:Other" not in original


@pytest.mark.parametrize("bad_id", ["nocolon", ":Name", "app:"])
def test_spec_ids_must_look_like_makes(bad_id):
    with pytest.raises(ValueError, match="must look like app:ModuleName"):
        spec(bad_id)


def test_a_computing_module_needs_a_run_function():
    with pytest.raises(ValueError, match="needs a run function"):
        ModuleSpec(id="test:Lazy", kind=ModuleKind.ACTION, label="Lazy")
