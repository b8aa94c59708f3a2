"""Running a route of the generic sandbox: its auth, then its steps (find, list, create,
update, delete, check, set, handler, respond) over the state's collections, each template in
the app dialect of the mapping language (``modules.apps.sandbox.definition`` describes them).

Route handlers (``handler: package.module:function``) receive the ``AppSandbox`` and the
``SandboxRequest`` and return a response, or ``None`` to go on with the next step.
"""

from __future__ import annotations

import base64
import copy
import hmac
import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import flask

from engine.errors import DataError
from engine.mapping import CompiledValue
from modules.apps.communication import without_undefined
from modules.apps.iml import compile_value, evaluate
from modules.apps.sandbox.definition import Auth, Collection, Reply, Route, Step
from modules.apps.sandbox.state import AppSandboxState, jsonable
from modules.sandboxing import json_response


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
        return json_response(jsonable(body), status, headers)

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
    value: str | None
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
