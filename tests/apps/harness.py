"""Running apps defined as data against their sandboxes, over real HTTP on loopback.

``AppSandboxes(["slack"])`` serves the library sandboxes of the apps named (and what they
include) on one generic server; ``AppSandboxes(custom=[folder])`` also installs the app and
sandbox defined in a folder of the tests. ``get`` resolves one connection per app, reaching the
sandbox as the sandbox definition says; ``run`` runs a blueprint with every module of those apps
bound to its app's connection (what a user does after an import).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from engine.blueprint import load_blueprint
from engine.connections import ResolvedConnection
from engine.graph import compile_blueprint
from engine.registry import default_registry
from engine.runtime import RunContext, run_scenario
from engine.testing import stub_module
from modules.apps import load_app, register_app
from modules.apps.sandbox import create_app_from, run_sandbox_in_thread
from modules.apps.sandbox.server import library_sandboxes, load_sandbox
from tests.conftest import CORPUS_DIR
from tests.modules.test_corpus_e2e import ToLocalServer

_IDS = itertools.count(7000)
"""Connection ids unique in the test process: rate limits count per connection."""


class AppSandboxes:
    """A running generic sandbox for ``apps``; a context manager that stops it."""

    def __init__(
        self,
        apps: Iterable[str] = (),
        config: Mapping[str, Any] | None = None,
        *,
        custom: Iterable[Path] = (),
    ) -> None:
        self.registry = default_registry().copy()
        sandboxes = library_sandboxes(list(apps))
        for folder in custom:
            name = folder.name
            if (folder / "app.yaml").is_file():
                app = load_app(folder / "app.yaml")
                register_app(self.registry, app)
                name = app.name
            sandboxes.append((name, load_sandbox(folder / "sandbox.yaml")))
        self.definitions = dict(sandboxes)
        self.app = create_app_from(sandboxes, config)
        self.base_url, self._stop = run_sandbox_in_thread(self.app)
        self.ids = {app: next(_IDS) for app in self.definitions}
        self.http = requests.Session()

    def __enter__(self) -> AppSandboxes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()
        self._stop()

    # -- control ----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        with self.http.get(f"{self.base_url}/_sandbox/state") as response:
            return response.json()

    def records(self, collection: str) -> list[dict[str, Any]]:
        return self.state()["records"][collection]

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """The API requests received (paths without the ``/_app/<app>`` prefix)."""
        found = []
        for request in self.state()["requests"]:
            request = {**request, "path": _api_path(request["path"])}
            if path is None or request["path"] == path:
                found.append(request)
        return found

    def seed(self, fixture: Mapping[str, Any]) -> None:
        with self.http.post(f"{self.base_url}/_sandbox/seed", json=fixture) as response:
            response.raise_for_status()

    def fault(self, **spec: Any) -> None:
        with self.http.post(f"{self.base_url}/_sandbox/faults", json=spec) as response:
            response.raise_for_status()

    # -- connections ------------------------------------------------------------------------

    def connection(self, app: str, **changes: Any) -> ResolvedConnection:
        kind = self.registry.connection_kinds[app]
        values = {
            **self.definitions[app].connection_values(f"{self.base_url}/_app/{app}"),
            **changes,
        }
        data, secrets = kind.split_values(values)
        if "access_token" in values:
            secrets["access_token"] = values["access_token"]
        return ResolvedConnection(
            id=self.ids[app],
            app=app,
            auth=kind.auth.value,
            name=f"{app} sandbox",
            data=data,
            secrets=secrets,
            revision=1,
        )

    def get(self, connection_id: Any) -> ResolvedConnection:
        """``RunContext.connections``: the connection of the app with this id."""
        for app, identifier in self.ids.items():
            if identifier == connection_id and app in self.registry.connection_kinds:
                return self.connection(app)
        # Another app's connection (the HTTP modules' keychains): an API key the fake APIs take.
        return {"name": "x-api-key", "key": f"key-{connection_id}", "placement": "header"}

    # -- runs -------------------------------------------------------------------------------

    def run(
        self,
        blueprint: Any,
        *,
        trigger_bundles: list[dict[str, Any]] | None = None,
        stubs: Iterable[str] = (),
        edit: Callable[[Any], None] | None = None,
        **context: Any,
    ) -> dict[str, Any]:
        """Run ``blueprint`` (a corpus file name, or a blueprint dict) and return its record."""
        registry = self.registry.copy()
        for module in stubs:
            stub = stub_module(module)
            (registry.replace if module in registry else registry.register)(stub)
        if isinstance(blueprint, str):
            blueprint = (CORPUS_DIR / blueprint).read_bytes()
        loaded = load_blueprint(blueprint)
        self.bind(loaded)
        if edit is not None:
            edit(loaded)
        plan = compile_blueprint(loaded, registry)
        session = requests.Session()
        adapter = ToLocalServer(self.base_url)  # any host: what a module calls by URL too
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        context.setdefault("clock", lambda: datetime(2026, 4, 1, 8, 0, tzinfo=UTC))
        run_context = RunContext(
            http=session,
            connections=self,
            allow_private_network=True,  # the sandbox listens on loopback
            **context,
        )
        try:
            record = run_scenario(plan, run_context, trigger_bundles=trigger_bundles)
        finally:
            session.close()
        return record.to_dict()

    def bind(self, blueprint: Any) -> None:
        """Point every module of a sandboxed app at its app's connection."""
        for module in _modules(blueprint.flow):
            app = module.module.partition(":")[0]
            if app not in self.ids:
                continue
            if module.parameters is None:
                module.parameters = {}
            module.parameters[_connection_parameter(self.registry[module.module])] = self.ids[app]


def _connection_parameter(spec: Any) -> str:
    for field in spec.parameters.model_fields.values():
        extra = field.json_schema_extra or {}
        if isinstance(extra, dict) and str(extra.get("x-make-type", "")).startswith("account"):
            return str(field.alias)
    return "__IMTCONN__"


def _modules(flow: Any) -> Iterable[Any]:
    for module in flow or []:
        yield module
        for route in getattr(module, "routes", None) or []:
            yield from _modules(route.flow)
        yield from _modules(getattr(module, "onerror", None))
        for branch in getattr(module, "branches", None) or []:
            yield from _modules(getattr(branch, "flow", None))


def _api_path(path: str) -> str:
    if path.startswith("/_app/"):
        return "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
    return path


def module_records(record: Mapping[str, Any], module_id: int) -> Mapping[str, Any]:
    return record["modules"][str(module_id)]
