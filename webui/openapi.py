"""``/api/openapi.json``: an OpenAPI 3.1 document built from the routes' declared models.

Nothing here is written by hand but the frame: each ``/api`` rule of the app's URL map is
looked up in ``webui.api.routing.ENDPOINTS`` (body, query, answer models) and in
``webui.api.access.ACCESS`` (the least role), and the JSON Schemas come from pydantic.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any, Literal

from flask import Flask, Response, current_app
from pydantic import BaseModel, TypeAdapter

from webui.api.access import ACCESS, SESSION_ONLY
from webui.api.converters import CONVERTERS
from webui.api.models import ErrorBody
from webui.api.routing import ENDPOINTS, Endpoint, answer, route
from webui.auth import SESSION_COOKIE, Role

REF = "#/components/schemas/{model}"
_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


class _Schemas:
    """Collects component schemas while operations refer to them."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def of(self, kind: Any, mode: Literal["validation", "serialization"]) -> dict[str, Any]:
        """A schema for ``kind`` (a model, ``list[Model]`` …); models become ``$ref``s."""
        schema = TypeAdapter(kind).json_schema(ref_template=REF, mode=mode)
        self.components.update(schema.pop("$defs", {}))
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            self.components[kind.__name__] = schema
            return {"$ref": REF.format(model=kind.__name__)}
        return schema


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every ``/api`` route of ``app``."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    error = schemas.of(ErrorBody, "serialization")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        endpoint = ENDPOINTS.get(rule.endpoint)
        if not rule.rule.startswith("/api/") or endpoint is None:
            continue
        path = _CONVERTER.sub(r"{\2}", rule.rule)
        operation = _operation(rule.endpoint, rule.rule, endpoint, schemas, error)
        paths.setdefault(path, {})[endpoint.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Switchboard API",
            "version": "1",
            "description": "The REST API of Switchboard; see docs/api.md.",
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.components.items())),
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
                "token": {"type": "http", "scheme": "bearer"},
            },
        },
    }


def _operation(
    name: str, rule: str, endpoint: Endpoint, schemas: _Schemas, error: dict[str, Any]
) -> dict[str, Any]:
    role = ACCESS.get(name, Role.OWNER)
    operation: dict[str, Any] = {
        "operationId": name.removeprefix("api."),
        "summary": endpoint.summary,
        "parameters": _path_parameters(rule) + _query_parameters(endpoint, schemas),
        "responses": {str(endpoint.status): _response(endpoint, schemas), **_errors(error)},
        "security": _security(name, role),
        "x-min-role": role.label,
    }
    body = _request_body(endpoint, schemas)
    if body is not None:
        operation["requestBody"] = body
    return operation


def _security(name: str, role: Role) -> list[dict[str, list[str]]]:
    if role is Role.PUBLIC:
        return []
    if name in SESSION_ONLY:
        return [{"session": []}]  # an API token is refused
    return [{"session": []}, {"token": []}]


def _errors(error: dict[str, Any]) -> dict[str, Any]:
    """The refusals every operation may answer. No ``default``: any other status (a 500) is
    outside the contract, which is what the schemathesis run checks."""
    body = {"application/json": {"schema": error}}
    return {
        "4XX": {
            "description": "refused; the body says why (400 not JSON, 401 not signed in, 403 "
            "role or CSRF token, 404, 405, 409 conflict, 413 too large, 415 not JSON, 422 "
            "invalid with the path of the first bad field, 429 throttled with Retry-After)",
            "content": body,
        },
        "503": {"description": "the database is unavailable; try again", "content": body},
    }


def _path_parameters(rule: str) -> list[dict[str, Any]]:
    return [
        {
            "name": match.group(2),
            "in": "path",
            "required": True,
            "schema": _converter_schema(match.group(1) or ""),
        }
        for match in _CONVERTER.finditer(rule)
    ]


def _converter_schema(converter: str) -> dict[str, Any]:
    """What a path converter matches (``int``/``bigid``: bounded ids, else any text)."""
    kind = CONVERTERS.get(converter)
    return kind.schema() if kind is not None else {"type": "string"}


def _query_parameters(endpoint: Endpoint, schemas: _Schemas) -> list[dict[str, Any]]:
    if endpoint.query is None:
        return []
    schema = endpoint.query.model_json_schema(ref_template=REF)
    schemas.components.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _request_body(endpoint: Endpoint, schemas: _Schemas) -> dict[str, Any] | None:
    if endpoint.multipart:
        file_form = {
            "type": "object",
            "properties": {
                "file": {"type": "string", "contentMediaType": "application/json"},
                "name": {"type": "string"},
            },
            "required": ["file"],
        }
        return {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": file_form},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    if endpoint.body is None:
        return None
    return {
        "required": True,
        "content": {"application/json": {"schema": schemas.of(endpoint.body, "validation")}},
    }


def _response(endpoint: Endpoint, schemas: _Schemas) -> dict[str, Any]:
    if endpoint.answer is None:
        return {"description": "done, no content"}
    schema = schemas.of(endpoint.answer, "serialization")
    return {"description": endpoint.summary, "content": {endpoint.media_type: {"schema": schema}}}


@route("/openapi.json", "GET", answer=dict[str, Any])
def openapi_document() -> Response:
    """This OpenAPI 3.1 document."""
    return answer(build_document(current_app))


def standalone_document() -> dict[str, Any]:
    """The same document without a configured service: an app holding only the API's routes
    (what ``make api-types`` generates the front end's types from)."""
    from webui.api import register_api

    app = Flask("switchboard-openapi")
    register_api(app)
    return build_document(app)


if __name__ == "__main__":  # python -m webui.openapi > openapi.json
    json.dump(standalone_document(), sys.stdout, indent=2)
    sys.stdout.write("\n")
