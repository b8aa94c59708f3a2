"""How API views are declared, read their input and answer.

``@route("/scenarios/<int:scenario_id>", "PUT", body=ScenarioPatch, answer=ScenarioDetail)``
registers the view on the ``api`` blueprint and records what it takes and answers, so the
OpenAPI document (``webui.openapi``) is built from the same declarations the views use.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Blueprint, Response, request
from pydantic import BaseModel
from pydantic_core import PydanticSerializationError

from engine.errors import InvalidJSON
from engine.jsonvalues import load_json

api = Blueprint("api", __name__, url_prefix="/api")

M = TypeVar("M", bound=BaseModel)
ViewFunction = Callable[..., Response]


class BadRequest(Exception):
    """The body is not JSON or holds a value Switchboard does not take (400, ``path`` names
    it), or is not of a media type the route takes (415)."""

    def __init__(
        self, message: str, status: int = 400, code: str = "bad_json", path: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.path = path


@dataclass(frozen=True)
class Endpoint:
    """What one route takes and answers, for the OpenAPI document."""

    rule: str
    method: str
    summary: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    answer: Any
    status: int
    multipart: bool = False
    media_type: str = "application/json"


ENDPOINTS: dict[str, Endpoint] = {}
"""Declared routes by endpoint name (``api.list_scenarios``)."""


def route(
    rule: str,
    method: str,
    *,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    answer: Any = None,
    status: int = 200,
    multipart: bool = False,
    media_type: str = "application/json",
) -> Callable[[ViewFunction], ViewFunction]:
    """Register a view for ``method rule`` (under ``/api``) and declare its models."""

    def register(view: ViewFunction) -> ViewFunction:
        summary = (view.__doc__ or view.__name__).strip().splitlines()[0]
        ENDPOINTS[f"api.{view.__name__}"] = Endpoint(
            rule, method, summary, body, query, answer, status, multipart, media_type
        )
        api.add_url_rule(rule, view_func=view, methods=[method])
        return view

    return register


def json_body(model: type[M]) -> M:
    """The request's JSON body validated by ``model`` (an absent body is ``{}``).

    Raises:
        BadRequest: not JSON, or sent with another media type.
        pydantic.ValidationError: the JSON does not fit (answered 422 with its path).
    """
    return model.model_validate(raw_json())


def raw_json() -> Any:
    """The request's JSON value (``{}`` when there is no body), read by the one rule for JSON
    from outside (``engine.jsonvalues.load_json``: no lone surrogates, no ``NaN``/``1e999``)."""
    data = request.get_data(cache=True)
    if not data.strip():
        return {}
    if not request.is_json:
        raise BadRequest("send the body as application/json", 415, "unsupported_media_type")
    try:
        return load_json(data)
    except InvalidJSON as error:
        message = f"{error.path or 'the body'} {error.reason}"
        raise BadRequest(message, path=error.path or None) from None


def query_args(model: type[M]) -> M:
    """The query string validated by ``model``."""
    return model.model_validate(request.args.to_dict(flat=True))


def answer(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response of a model, a list of models, or plain JSON."""
    try:
        text = _json_text(value)
    except PydanticSerializationError:
        # A lone surrogate a run put into a stored value (pydantic cannot write it as UTF-8):
        # the standard library writes it as its \\udXXX escape, which browsers read back.
        text = json.dumps(_plain(value))
    return Response(text, status, headers, mimetype="application/json")


def _json_text(value: Any) -> str:
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        return "[" + ",".join(item.model_dump_json() for item in value) + "]"
    return json.dumps(value)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return [_plain(item) for item in value]


def no_content() -> Response:
    return Response(status=204)
