"""The generic sandbox server: one Flask app serving the sandbox definitions of one or more apps
defined as data, on the shared sandbox machinery (``modules.sandboxing``: control routes under
``/_sandbox/``, request log, fault injection, rate limits, ``run_sandbox_in_thread``).

``create_app(["slack", "google-sheets"], config)`` serves the library's ``sandbox.yaml`` of each
app; ``create_app_from([(name, definition), …])`` serves definitions given as objects. Several
apps in one server share collections of the same name (Google Docs' documents are Google Drive's
files); each app's routes are served under ``/_app/<app>`` and at the API's own paths (see
``create_app_from``). A route's steps run in ``modules.apps.sandbox.routes``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask
from werkzeug.exceptions import NotFound as WerkzeugNotFound

from engine.errors import DataError, ExpressionError
from modules.apps.definition import AppDefinitionError, definition_error
from modules.apps.iml import compile_value
from modules.apps.loader import read_document
from modules.apps.sandbox.definition import Auth, Collection, Route, SandboxDefinition
from modules.apps.sandbox.routes import AppSandbox, SandboxRequest
from modules.apps.sandbox.state import AppSandboxState
from modules.sandboxing import Fault, json_response, register_control_routes

SANDBOX_FILE = "sandbox.yaml"
_PARAMETER = re.compile(r"\{(\w+)(?::path)?\}")


# -- loading ----------------------------------------------------------------------------------


def sandbox_file(app: str) -> Path:
    from modules.apps import LIBRARY

    return LIBRARY / app / SANDBOX_FILE


def load_sandbox(path: Path) -> SandboxDefinition:
    """The sandbox defined in ``path``.

    Raises:
        AppDefinitionError: the file, JSON path and field of the first problem.
    """
    from pydantic import ValidationError

    document = read_document(path)
    try:
        return SandboxDefinition.model_validate(document or {})
    except ValidationError as error:
        raise definition_error(path, error) from None


def library_sandboxes(apps: Sequence[str]) -> list[tuple[str, SandboxDefinition]]:
    """The library sandboxes of ``apps`` and those they include, each once."""
    found: dict[str, SandboxDefinition] = {}
    pending = list(apps)
    while pending:
        app = pending.pop(0)
        if app in found:
            continue
        path = sandbox_file(app)
        if not path.is_file():
            raise AppDefinitionError(path, "", f"the {app} app has no sandbox")
        found[app] = load_sandbox(path)
        pending.extend(found[app].include)
    return list(found.items())


# -- the Flask app ----------------------------------------------------------------------------


def create_app(apps: Sequence[str], config: Mapping[str, Any] | None = None) -> flask.Flask:
    """A sandbox serving the library sandboxes of ``apps`` (and what they include)."""
    return create_app_from(library_sandboxes(apps), config)


def create_app_from(
    sandboxes: Sequence[tuple[str, SandboxDefinition]], config: Mapping[str, Any] | None = None
) -> flask.Flask:
    """A sandbox serving ``sandboxes`` (name, definition) on one state.

    Each app's routes (with those of the sandboxes it includes) are served under
    ``/_app/<name>`` — where its connection points — and at the API's own paths for clients
    that call the real host (rewritten to the sandbox, the host kept in ``X-Original-Host``):
    two apps with the same path there are told apart by the sandboxes' ``hosts``.

    Raises:
        AppDefinitionError: an app's routes (with its includes') serve one path twice.
    """
    collections: dict[str, Collection] = {}
    defaults: dict[str, Any] = {}
    for _, definition in sandboxes:
        for name, collection in definition.collections.items():
            collections.setdefault(name, collection)
        defaults.update(definition.config)
    state = AppSandboxState(collections, defaults, config)
    sandbox = AppSandbox(state)
    app = flask.Flask("app-sandbox")
    app.url_map.strict_slashes = False
    register_control_routes(app, state, _fault_response)
    definitions = dict(sandboxes)
    for name, definition in definitions.items():
        _precompile(name, definition)
    shared: dict[tuple[str, str], list[_Served]] = {}
    for name in definitions:
        served: set[tuple[str, str]] = set()
        for owner, method, path, route in _route_set(name, definitions):
            if (method, path) in served:
                raise AppDefinitionError(
                    sandbox_file(owner), f"routes.{method} {path}", "is served twice"
                )
            served.add((method, path))
            auth = definitions[owner].auth
            _add_route(
                app,
                sandbox,
                f"{APP_PREFIX}/{name}",
                method,
                path,
                [_Served(owner, definitions[owner].hosts, auth, route)],
            )
            if owner == name:
                shared.setdefault((method, path), []).append(
                    _Served(owner, definitions[owner].hosts, auth, route)
                )
    for (method, path), candidates in shared.items():
        _add_route(app, sandbox, "", method, path, candidates)

    @app.errorhandler(WerkzeugNotFound)
    def not_found(_error: Exception) -> flask.Response:
        return json_response({"error": "no such endpoint in the sandbox"}, 404)

    @app.errorhandler(DataError)
    def bad_data(error: DataError) -> flask.Response:
        return json_response({"error": error.message}, 400)

    return app


APP_PREFIX = "/_app"


def _precompile(name: str, definition: SandboxDefinition) -> None:
    """Compile every template of a sandbox once, so a broken one fails at start with its
    place (``slack sandbox: routes.POST /api/chat.postMessage[1].find.where``)."""
    for collection, spec in definition.collections.items():
        _templates(spec.generate, f"{name} sandbox: collections.{collection}.generate")
    for method, path, route in definition.route_list():
        for index, step in enumerate(route.steps):
            where = f"{name} sandbox: routes.{method} {path}[{index}]"
            _templates(step.model_dump(by_alias=True, exclude_none=True), where)


def _templates(value: Any, where: str) -> None:
    try:
        compile_value(value, where)
    except ExpressionError as error:
        raise AppDefinitionError(
            where.partition(":")[0], where.partition(": ")[2], error.reason
        ) from None


@dataclass(frozen=True)
class _Served:
    """A route as one sandbox serves it."""

    owner: str
    hosts: list[str]
    auth: Auth
    route: Route


def _route_set(
    name: str, definitions: Mapping[str, SandboxDefinition]
) -> list[tuple[str, str, str, Route]]:
    """``(owner, method, path, route)`` of an app's routes and its includes', recursively."""
    found: list[tuple[str, str, str, Route]] = []
    pending, visited = [name], set()
    while pending:
        current = pending.pop(0)
        if current in visited or current not in definitions:
            continue
        visited.add(current)
        definition = definitions[current]
        found += [(current, m, p, r) for m, p, r in definition.route_list()]
        pending += definition.include
    return found


def _add_route(
    app: flask.Flask,
    sandbox: AppSandbox,
    prefix: str,
    method: str,
    path: str,
    candidates: list[_Served],
) -> None:
    rule = prefix + _PARAMETER.sub(
        lambda m: f"<{'path:' if ':path' in m.group() else ''}{m.group(1)}>", path
    )

    def view(**path_values: Any) -> flask.Response:
        served = _chosen(candidates)
        where = f"{served.owner} sandbox: routes.{method} {path}"
        return sandbox.run(served.route, served.auth, _request(path_values), where)

    app.add_url_rule(rule, f"{prefix}:{method}:{path}", view, methods=[method])


def _chosen(candidates: list[_Served]) -> _Served:
    """The candidate whose hosts include the host the client meant (else the first)."""
    if len(candidates) > 1:
        headers = flask.request.headers
        host = (headers.get("X-Original-Host") or headers.get("Host") or "").partition(":")[0]
        for served in candidates:
            if host in served.hosts:
                return served
    return candidates[0]


def _request(path_values: Mapping[str, Any]) -> SandboxRequest:
    request = flask.request
    raw = request.get_data(cache=True)
    files = {
        key: {"filename": f.filename, "contentType": f.mimetype, "data": f.read()}
        for key, f in request.files.items()
    }
    return SandboxRequest(
        method=request.method,
        path=dict(path_values),
        query=request.args.to_dict(),
        headers=dict(request.headers),
        body=_body(request, raw),
        raw=raw,
        files=files,
    )


def _body(request: flask.Request, raw: bytes) -> Any:
    if request.is_json:
        return request.get_json(silent=True)
    if request.form:
        return request.form.to_dict()
    try:
        return raw.decode("utf-8") if raw else None
    except UnicodeDecodeError:
        return raw


def _fault_response(fault: Fault) -> flask.Response:
    headers = {"Retry-After": str(fault.retry_after)} if fault.status in (429, 503) else {}
    return json_response({"error": "injected fault"}, fault.status or 500, headers)
