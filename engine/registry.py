"""The module registry: every module id Switchboard can run, and nothing else.

Like Celery's task registry it fails loudly: asking for an unknown id raises
``UnknownModuleError`` naming it, and registering an id twice raises ``DuplicateModuleError``.
Module packages register through the ``switchboard.modules`` entry point group: each entry point
is a callable taking the registry (ours is ``modules:register_all``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib.metadata import entry_points

from engine.errors import SwitchboardError, UnknownModuleError
from engine.spec import ModuleSpec

ENTRY_POINT_GROUP = "switchboard.modules"


class DuplicateModuleError(SwitchboardError):
    """Two module packages (or one, twice) declared the same module id."""


class ModuleRegistry(Mapping[str, ModuleSpec]):
    """Module specs by their Make-compatible id (``builtin:BasicRouter``)."""

    def __init__(self, specs: Iterable[ModuleSpec] = ()) -> None:
        self._specs: dict[str, ModuleSpec] = {}
        for spec in specs:
            self.register(spec)

    def register(self, spec: ModuleSpec) -> ModuleSpec:
        if spec.id in self._specs:
            raise DuplicateModuleError(f"module {spec.id} is registered twice")
        self._specs[spec.id] = spec
        return spec

    def replace(self, spec: ModuleSpec) -> ModuleSpec:
        """Put ``spec`` in place of the module with the same id (tests register stubs so)."""
        self._specs[spec.id] = spec
        return spec

    def register_all(self, specs: Iterable[ModuleSpec]) -> None:
        for spec in specs:
            self.register(spec)

    def __getitem__(self, module_id: str) -> ModuleSpec:
        try:
            return self._specs[module_id]
        except KeyError:
            raise UnknownModuleError(module_id) from None

    def __contains__(self, module_id: object) -> bool:
        return module_id in self._specs

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def copy(self) -> ModuleRegistry:
        """A registry with the same modules, to extend (e.g. with stubs in tests)."""
        return ModuleRegistry(self._specs.values())


def load_registry(group: str = ENTRY_POINT_GROUP) -> ModuleRegistry:
    """A new registry filled by every installed module package."""
    registry = ModuleRegistry()
    for entry_point in sorted(entry_points(group=group), key=lambda ep: ep.name):
        entry_point.load()(registry)
    return registry


@cache
def default_registry() -> ModuleRegistry:
    """The installed modules, loaded once per process. Copy it before changing it."""
    return load_registry()
