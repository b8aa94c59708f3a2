"""The module registry: every module id Switchboard can run, and nothing else.

Like Celery's task registry it fails loudly: asking for an unknown id raises
``UnknownModuleError`` naming it, and registering an id twice raises ``DuplicateModuleError``.
Module packages register through the ``switchboard.modules`` entry point group: each entry point
is a callable taking the registry (ours is ``modules:register_all``).

The registry also holds the apps' connection kinds (``ConnectionKind``, by app id such as
``xero``), registered the same way and failing the same way (``UnknownConnectionKindError``,
``DuplicateModuleError``), so the service can resolve connections without importing modules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib.metadata import entry_points
from typing import Any, Protocol

from engine.errors import SwitchboardError, UnknownModuleError, UserError
from engine.spec import AppInfo, ConnectionKind, ModuleSpec

ENTRY_POINT_GROUP = "switchboard.modules"


class DuplicateModuleError(SwitchboardError):
    """Two module packages (or one, twice) declared the same module id."""


class UnknownConnectionKindError(UserError, KeyError):
    """A connection whose app no installed module package provides a connection kind for."""

    def __init__(self, kind_id: str) -> None:
        self.kind_id = kind_id
        super().__init__(f"connections of app '{kind_id}' are not available in this installation")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Reconciler(Protocol):
    """Reads two apps' books and compares them (``modules.reconcile``); registered by the
    module package, so the service reaches it without importing a module."""

    libraries: tuple[str, ...]

    def fetch(self, app: str, connection: Mapping[str, Any], session: Any) -> Any: ...

    def compare(self, library: str, crm: Any, accounting: Any) -> Iterable[Any]: ...


class TaxReader(Protocol):
    """Reads an app's tax codes through a connection (``modules.packs.taxes``), for the sync
    packs' tax table: ``[{"code", "name", "rate"}]``; ``ModuleError`` when it cannot."""

    def __call__(self, connection: Mapping[str, Any], session: Any, /) -> list[dict[str, Any]]: ...


class ModuleRegistry(Mapping[str, ModuleSpec]):
    """Module specs by their Make-compatible id (``builtin:BasicRouter``), and the apps'
    connection kinds by app id (``xero``)."""

    def __init__(
        self, specs: Iterable[ModuleSpec] = (), kinds: Iterable[ConnectionKind] = ()
    ) -> None:
        self._specs: dict[str, ModuleSpec] = {}
        self._kinds: dict[str, ConnectionKind] = {}
        self._apps: dict[str, AppInfo] = {}
        self.reconciler: Reconciler | None = None
        self.tax_readers: dict[str, TaxReader] = {}
        for spec in specs:
            self.register(spec)
        for kind in kinds:
            self.register_connection_kind(kind)

    def register_reconciler(self, reconciler: Reconciler) -> Reconciler:
        """The comparison of books the service's ``reconcile`` runs (one per installation)."""
        if self.reconciler is not None:
            raise DuplicateModuleError("a reconciler is registered twice")
        self.reconciler = reconciler
        return reconciler

    def register_tax_reader(self, app: str, reader: TaxReader) -> TaxReader:
        """How the sync packs' tax table reads ``app``'s taxes through a connection:
        ``reader(connection, session) -> [{"code", "name", "rate"}]``."""
        if app in self.tax_readers:
            raise DuplicateModuleError(f"a tax reader of {app} is registered twice")
        self.tax_readers[app] = reader
        return reader

    def register_connection_kind(self, kind: ConnectionKind) -> ConnectionKind:
        if kind.id in self._kinds:
            raise DuplicateModuleError(f"connection kind {kind.id} is registered twice")
        self._kinds[kind.id] = kind
        return kind

    def connection_kind(self, kind_id: str) -> ConnectionKind:
        """The connection kind of app ``kind_id``; ``UnknownConnectionKindError`` if none."""
        try:
            return self._kinds[kind_id]
        except KeyError:
            raise UnknownConnectionKindError(kind_id) from None

    @property
    def connection_kinds(self) -> Mapping[str, ConnectionKind]:
        """Every registered connection kind by app id (read-only view)."""
        return dict(self._kinds)

    def register_app(self, info: AppInfo) -> AppInfo:
        """Declare how the catalogue shows app ``info.id`` (its label, colour and icon)."""
        if info.id in self._apps:
            raise DuplicateModuleError(f"app {info.id} is registered twice")
        self._apps[info.id] = info
        return info

    @property
    def apps(self) -> Mapping[str, AppInfo]:
        """The apps packages described, by app id (read-only view)."""
        return dict(self._apps)

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
        copied = ModuleRegistry(self._specs.values(), self._kinds.values())
        copied._apps = dict(self._apps)
        copied.reconciler = self.reconciler
        copied.tax_readers = dict(self.tax_readers)
        return copied


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
