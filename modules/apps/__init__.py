"""Apps defined as data: Make Custom Apps (and Switchboard's own definitions) as modules.

An app is a JSON/YAML definition — base URL and headers, a connection, modules whose requests
are templates in the mapping language, response handling, RPCs, webhooks
(``modules.apps.definition``, docs/app-definitions.md). Apps load from this package's
``library/`` and from the folders ``SWITCHBOARD_APPS_PATH`` names; each becomes module specs,
a connection kind and a catalogue entry like any other module package::

    loader      files → AppDefinition (single files, Make local-development folders)
    build       AppDefinition → CompiledApp (app), every template compiled
    specs       CompiledApp → ModuleSpecs           connection   CompiledApp → ConnectionKind
    compile     request specs checked and compiled      params   parameter specs → models
    communication / http / triggers / webhooks          running them
    sandbox     the generic sandbox that serves an app's ``sandbox.yaml``
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

from engine.registry import ModuleRegistry
from engine.spec import AppInfo
from modules.apps.app import CompiledApp
from modules.apps.build import compile_app
from modules.apps.connection import connection_kind
from modules.apps.definition import AppDefinitionError
from modules.apps.loader import MakeProject, apps_path, discover, load_definition
from modules.apps.specs import module_specs

LIBRARY = Path(__file__).parent / "library"
"""Switchboard's own app definitions, one folder per app (``app.yaml`` and ``sandbox.yaml``)."""


def load_app(source: Path) -> CompiledApp:
    """The app defined at ``source``, checked and compiled.

    Raises:
        AppDefinitionError: the file, JSON path and field of the first problem.
    """
    definition = load_definition(source)
    try:
        return compile_app(definition, source)
    except AppDefinitionError as error:
        if source.is_dir():  # a Make folder: name the code file the problem is in
            raise MakeProject(source).located_after_load(error) from None
        raise


@cache
def library_apps() -> tuple[CompiledApp, ...]:
    """The apps this package ships, loaded once per process."""
    return tuple(load_app(source) for source in discover(LIBRARY))


def folder_apps(folders: Iterable[Path]) -> list[CompiledApp]:
    """The apps in ``folders`` (``SWITCHBOARD_APPS_PATH``), in folder then name order."""
    return [load_app(source) for folder in folders for source in discover(folder)]


def register_apps(registry: ModuleRegistry, environ: Mapping[str, str] | None = None) -> None:
    """Register the library's apps and those of ``SWITCHBOARD_APPS_PATH``.

    Raises:
        AppDefinitionError: a definition is broken, or names an app already installed.
    """
    import os

    extra = folder_apps(apps_path(os.environ if environ is None else environ))
    for app in (*library_apps(), *extra):
        register_app(registry, app)


def register_app(registry: ModuleRegistry, app: CompiledApp) -> None:
    """Register one app's modules, connection kind and catalogue entry."""
    if app.name in registry.apps or any(spec.app == app.name for spec in registry.values()):
        raise AppDefinitionError(app.source, "name", f"an app '{app.name}' is already installed")
    definition = app.definition
    registry.register_app(
        AppInfo(
            id=app.name,
            label=definition.label,
            color=definition.theme,
            icon=definition.icon,
            description=definition.description,
        )
    )
    registry.register_all(module_specs(app))
    kind = connection_kind(app)
    if kind is not None:
        registry.register_connection_kind(kind)


__all__ = [
    "LIBRARY",
    "AppDefinitionError",
    "CompiledApp",
    "connection_kind",
    "folder_apps",
    "library_apps",
    "load_app",
    "module_specs",
    "register_app",
    "register_apps",
]
