"""Running a corpus blueprint against a local server, with stand-ins for apps Switchboard lacks.

Every HTTP request of the run goes to one Flask app on loopback (its host is rewritten, path and
query kept); modules this installation lacks are replaced by recording stubs, so a test sees
what the scenario would have sent them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from flask import Flask, request

from engine.blueprint import load_blueprint
from engine.graph import compile_blueprint
from engine.registry import default_registry
from engine.runtime import RunContext, run_scenario
from engine.testing import stub_module
from modules.sandboxing import run_sandbox_in_thread
from tests.conftest import CORPUS_DIR
from tests.modules.test_corpus_e2e import ToLocalServer

Answer = tuple[str | bytes, int, dict[str, str]]


@dataclass
class LocalServer:
    """Answers by path from ``routes``; remembers every request (host, path, query, body)."""

    routes: Mapping[str, Callable[[], Answer]]
    seen: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> Flask:
        app = Flask("corpus-server")

        @app.route("/<path:path>", methods=["GET", "POST", "PUT"])
        def answer(path: str) -> Answer:
            self.seen.append(
                {
                    "host": request.headers.get("x-original-host"),
                    "path": "/" + path,
                    "query": request.query_string.decode(),
                    "body": request.get_data(as_text=True),
                }
            )
            route = self.routes.get("/" + path)
            return route() if route else ("not here", 404, {})

        return app


@dataclass
class CorpusRun:
    record: dict[str, Any]
    stub_calls: dict[str, list[dict[str, Any]]]
    server: LocalServer


def run_corpus_blueprint(
    name: str,
    server: LocalServer,
    *,
    trigger_bundles: list[dict[str, Any]] | None = None,
    stubs: tuple[str, ...] = (),
    context: Mapping[str, Any] | None = None,
    edit: Callable[[Any], None] | None = None,
) -> CorpusRun:
    """Run corpus file ``name``; ``stubs`` are module ids to replace by recording stand-ins,
    ``edit`` changes the imported blueprint first (what a user does after an import)."""
    calls: dict[str, list[dict[str, Any]]] = {module: [] for module in stubs}
    registry = default_registry().copy()
    for module in stubs:
        recorder = _recorder(calls[module])
        stub = stub_module(module, outputs=recorder)
        (registry.replace if module in registry else registry.register)(stub)
    blueprint = load_blueprint((CORPUS_DIR / name).read_bytes())
    if edit is not None:
        edit(blueprint)
    plan = compile_blueprint(blueprint, registry)
    base_url, stop = run_sandbox_in_thread(server.app())
    session = requests.Session()
    adapter = ToLocalServer(base_url)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    run_context = RunContext(
        clock=lambda: datetime(2026, 4, 1, 8, 0, tzinfo=UTC),
        http=session,
        allow_private_network=True,  # every request goes to the loopback test server
        **(context or {}),
    )
    try:
        record = run_scenario(plan, run_context, trigger_bundles=trigger_bundles)
    finally:
        session.close()
        stop()
    return CorpusRun(record.to_dict(), calls, server)


def _recorder(calls: list[dict[str, Any]]) -> Callable[[Any], list[dict[str, Any]]]:
    def record(call: Any) -> list[dict[str, Any]]:
        mapped = call.input.model_dump()
        calls.append(mapped)
        return [mapped]

    return record
