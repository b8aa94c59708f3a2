"""The generic sandbox server: one Flask app serving the sandbox definitions of one or more apps
defined as data, on the shared sandbox machinery (``modules.sandboxing``: control routes under
``/_sandbox/``, request log, fault injection, rate limits, ``run_sandbox_in_thread``).

``create_app(["slack", "google-sheets"], config)`` serves the library's ``sandbox.yaml`` of each
app; ``create_app_from([definition, …])`` serves definitions given as objects. Several apps in
one server share collections of the same name (Google Docs' documents are Google Drive's files)
and must not define the same route twice.
"""

from __future__ import annotations

import base64
import copy
import hmac
import importlib
import itertools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import flask
from werkzeug.exceptions import NotFound as WerkzeugNotFound

from engine.errors import DataError, ExpressionError
from engine.mapping import CompiledValue
from modules.apps.communication import without_undefined
from modules.apps.definition import AppDefinitionError, definition_error
from modules.apps.iml import compile_value, evaluate
from modules.apps.loader import read_document
from modules.apps.sandbox.definition import (
    Auth,
    Collection,
    Reply,
    Route,
    SandboxDefinition,
    Step,
)
from modules.sandboxing import BaseSandboxState, Fault, json_response, register_control_routes

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


# -- state ------------------------------------------------------------------------------------


class AppSandboxState(BaseSandboxState):
    """Records of every collection by key, in the order they were made."""

    def __init__(
        self, collections: Mapping[str, Collection], defaults: Mapping[str, Any], config: Any
    ) -> None:
        self.collections = dict(collections)
        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        self.counters: dict[str, itertools.count[int]] = {}
        self.make_key: Callable[[str, Collection, dict[str, Any]], str] | None = None
        super().__init__(defaults, config)

    def clear_records(self) -> None:
        self.records = {name: {} for name in self.collections}
        self.counters = {name: itertools.count(1) for name in self.collections}
        for name, collection in self.collections.items():
            self.seed({name: collection.seed})

    def seed(self, fixture: Mapping[str, Any]) -> dict[str, int]:
        loaded: dict[str, int] = {}
        for name, records in fixture.items():
            collection = self.collection(name)
            for record in records:
                self.store(name, dict(record), collection)
            loaded[name] = len(records)
        return loaded

    def records_snapshot(self) -> dict[str, Any]:
        return _jsonable({name: list(records.values()) for name, records in self.records.items()})

    def collection(self, name: str) -> Collection:
        if name not in self.collections:
            raise DataError(f"the sandbox has no collection '{name}'")
        return self.collections[name]

    def next_number(self, name: str) -> int:
        return next(self.counters[name])

    def store(self, name: str, record: dict[str, Any], collection: Collection) -> dict[str, Any]:
        """Keep ``record`` under its key, making one (the collection's ``generate``) if it has
        none."""
        key = record.get(collection.key)
        if key in (None, ""):
            maker = self.make_key or (lambda n, c, r: str(self.next_number(n)))
            key = maker(name, collection, record)
            record[collection.key] = key
        self.records[name][str(key)] = record
        return record


# -- serving ----------------------------------------------------------------------------------


@dataclass
class SandboxRequest:
    """What a route's templates and handler see of one request."""

    method: str
    path: dict[str, Any]
    query: dict[str, Any]
    headers: dict[str, str]
    body: Any
    raw: bytes
    files: dict[str, Any] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)

    def scopes(self, **extra: Any) -> dict[str, Any]:
        return {
            "body": self.body,
            "query": self.query,
            "headers": self.headers,
            "path": self.path,
            "request": {"method": self.method, "raw": self.raw, "files": self.files},
            "vars": self.vars,
            **extra,
        }


class Answer(Exception):
    """A step's answer ends the route (a refusal, a miss, or ``respond``)."""

    def __init__(self, response: flask.Response) -> None:
        super().__init__("answer")
        self.response = response


@dataclass
class _Compiled:
    """Templates compiled once per place and value."""

    cache: dict[tuple[str, str], CompiledValue] = field(default_factory=dict)

    def __call__(self, value: Any, where: str) -> CompiledValue:
        key = (where, json.dumps(value, sort_keys=True, default=str))
        if key not in self.cache:
            self.cache[key] = compile_value(value, where)
        return self.cache[key]


class AppSandbox:
    """Runs the routes of the sandbox definitions on one state."""

    def __init__(self, state: AppSandboxState) -> None:
        self.state = state
        self.compiled = _Compiled()
        state.make_key = self._new_key
        state.reset()

    def _new_key(self, name: str, collection: Collection, record: dict[str, Any]) -> str:
        request = SandboxRequest("SEED", {}, {}, {}, None, b"")
        request.vars["next"] = self.state.next_number(name)
        key = self.value(collection.generate, request, f"collections.{name}.generate", item=record)
        return str(key)

    def value(self, template: Any, request: SandboxRequest, where: str, **extra: Any) -> Any:
        if template is None:
            return None
        compiled = self.compiled(template, where)
        value = evaluate(compiled, request.scopes(**extra), self.state.now)
        return without_undefined(template, value)

    def run(self, route: Route, auth: Auth, request: SandboxRequest, where: str) -> flask.Response:
        try:
            if route.auth:
                self._check_auth(auth, request, where)
            for index, step in enumerate(route.steps):
                with self.state.lock:
                    self._step(step, request, f"{where}[{index}]")
        except Answer as answer:
            return answer.response
        return json_response({})

    def reply(self, reply: Reply, request: SandboxRequest, where: str) -> flask.Response:
        status = int(self.value(reply.status, request, f"{where}.status") or 200)
        headers = {k: str(v) for k, v in (self.value(reply.headers, request, where) or {}).items()}
        body = self.value(reply.body, request, f"{where}.body")
        if reply.type == "binary" or isinstance(body, bytes):
            data = body if isinstance(body, bytes) else str(body or "").encode()
            mimetype = headers.pop("Content-Type", "application/octet-stream")
            return flask.Response(data, status=status, headers=headers, mimetype=mimetype)
        if reply.type == "text":
            return flask.Response(
                str(body or ""), status=status, headers=headers, mimetype="text/plain"
            )
        return json_response(_jsonable(body), status, headers)

    # -- steps --------------------------------------------------------------------------------

    def _step(self, step: Step, request: SandboxRequest, where: str) -> None:
        if step.respond is not None:
            raise Answer(self.reply(step.respond, request, f"{where}.respond"))
        if step.set is not None:
            for name, template in step.set.items():
                request.vars[name] = self.value(template, request, f"{where}.set.{name}")
        elif step.check is not None:
            if not _truthy(self.value(step.check.condition, request, f"{where}.check")):
                raise Answer(self.reply(step.check.reply, request, f"{where}.check.else"))
        elif step.find is not None:
            found = self._find(step.find.collection, step.find.key, step.find.where, request, where)
            if found is None:
                raise Answer(self._missing(step, request, where))
            request.vars[step.find.as_] = found
        elif step.list_ is not None:
            request.vars[step.list_.as_] = self._list(step, request, where)
        elif step.create is not None:
            request.vars[step.create.as_] = self._create(step, request, where)
        elif step.update is not None:
            update = step.update
            record = self._find(update.collection, update.key, None, request, where)
            if record is None:
                raise Answer(self._missing(step, request, where))
            changes = self.value(update.merge, request, f"{where}.update.merge", **{})
            record.update(changes or {})
            request.vars[update.as_] = record
        elif step.delete is not None:
            key = str(self.value(step.delete.key, request, f"{where}.delete.key"))
            if self.state.records[step.delete.collection].pop(key, None) is None:
                raise Answer(self._missing(step, request, where))
        elif step.handler is not None:
            answer = _handler(step.handler)(self, request)
            if answer is not None:
                raise Answer(answer)

    def _find(
        self, collection: str, key: Any, where_: Any, request: SandboxRequest, where: str
    ) -> dict[str, Any] | None:
        records = self.state.records[collection]
        self.state.collection(collection)
        if key is not None:
            return records.get(str(self.value(key, request, f"{where}.key")))
        for record in records.values():
            if _truthy(self.value(where_, request, f"{where}.where", item=record)):
                return record
        return None

    def _list(self, step: Step, request: SandboxRequest, where: str) -> list[dict[str, Any]]:
        spec = step.list_
        assert spec is not None
        records = list(self.state.records[spec.collection].values())
        if spec.where is not None:
            records = [
                r
                for r in records
                if _truthy(self.value(spec.where, request, f"{where}.where", item=r))
            ]
        if spec.sort is not None:
            records.sort(
                key=lambda r: str(self.value(spec.sort, request, f"{where}.sort", item=r)),
                reverse=spec.descending,
            )
        limit = self.value(spec.limit, request, f"{where}.limit")
        return records[: int(limit)] if limit not in (None, "") else records

    def _create(self, step: Step, request: SandboxRequest, where: str) -> dict[str, Any]:
        spec = step.create
        assert spec is not None
        collection = self.state.collection(spec.collection)
        record = copy.deepcopy(self.value(spec.record, request, f"{where}.create.record"))
        if not isinstance(record, dict):
            raise DataError(f"{where}: a created record is a collection")
        return self.state.store(spec.collection, record, collection)

    def _missing(self, step: Step, request: SandboxRequest, where: str) -> flask.Response:
        reply = step.missing or Reply(status=404, body={"error": "not found"})
        return self.reply(reply, request, f"{where}.missing")

    def _check_auth(self, auth: Auth, request: SandboxRequest, where: str) -> None:
        given = _credential(auth, request)
        if auth.type == "none" or any(
            hmac.compare_digest(given, token) for token in auth.tokens if given is not None
        ):
            return
        raise Answer(self.reply(auth.refuse, request, f"{where}.auth.refuse"))


def _credential(auth: Auth, request: SandboxRequest) -> str | None:
    headers = {k.lower(): v for k, v in request.headers.items()}
    if auth.type == "bearer":
        value = headers.get("authorization", "")
        return value[7:].strip() if value.lower().startswith("bearer ") else None
    if auth.type == "header":
        value = headers.get(auth.name.lower())
        return (
            value[len(auth.prefix) :].strip() if value and value.startswith(auth.prefix) else None
        )
    if auth.type == "query":
        value = request.query.get(auth.name)
        return str(value) if value is not None else None
    if auth.type == "path":
        value = request.path.get(auth.name)
        return str(value) if value is not None else None
    if auth.type == "basic":
        value = headers.get("authorization", "")
        if not value.lower().startswith("basic "):
            return None
        try:
            return base64.b64decode(value[6:]).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
    return None


def _handler(name: str) -> Callable[[AppSandbox, SandboxRequest], flask.Response | None]:
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)


def _truthy(value: Any) -> bool:
    from engine.mapping.values import to_bool

    return to_bool(value)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if hasattr(value, "isoformat"):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"cannot answer with {type(value).__name__}")


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
