"""Every failure of an ``/api`` request as ``{"error": {"code", "message", "path"}}``.

Exceptions map to statuses through one table (``ERRORS``), handled in one place; blueprint
errors add ``problems`` (every problem with its path) and pydantic errors point ``path`` at the
first bad field of the body or query.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from engine.errors import BlueprintError, ExpressionError, UnknownModuleError
from engine.failures import log_failure
from engine.jsonvalues import json_path
from engine.registry import UnknownConnectionKindError
from engine.service import ServiceError
from engine.store import (
    DataStoreFull,
    DuplicateEmail,
    DuplicateKey,
    InvalidTransition,
    NotFound,
    StaleRevision,
    UnstorableText,
)
from webui.api.routing import BadRequest

log = logging.getLogger("switchboard.api")


class ApiError(Exception):
    """A refusal decided in a view: status, code, message, and optionally where."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        path: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.path = path
        self.headers = headers or {}


ERRORS: dict[type[Exception], tuple[int, str]] = {
    NotFound: (404, "not_found"),
    DuplicateEmail: (409, "conflict"),
    DuplicateKey: (409, "conflict"),
    InvalidTransition: (409, "conflict"),
    StaleRevision: (409, "conflict"),
    DataStoreFull: (409, "conflict"),
    UnstorableText: (422, "invalid"),
    ExpressionError: (422, "invalid"),
    UnknownModuleError: (422, "invalid"),
    UnknownConnectionKindError: (422, "invalid"),
}
"""Store and engine errors the API answers with a status (the rest of ``ServiceError`` carries
its own)."""


def error_body(
    status: int, code: str, message: str, path: str | None = None, **extra: Any
) -> Response:
    response = jsonify({"error": {"code": code, "message": message, "path": path, **extra}})
    response.status_code = status
    return response


def install(blueprint: Blueprint) -> None:
    """Register the handlers on the API blueprint."""

    @blueprint.errorhandler(ApiError)
    def api_error(error: ApiError) -> Response:
        response = error_body(error.status, error.code, str(error), error.path)
        response.headers.update(error.headers)
        return response

    @blueprint.errorhandler(BadRequest)
    def bad_request(error: BadRequest) -> Response:
        return error_body(error.status, error.code, str(error), error.path)

    @blueprint.errorhandler(ValidationError)
    def invalid(error: ValidationError) -> Response:
        details = error.errors(include_url=False)
        first = details[0]
        path = json_path(first["loc"]) or None
        message = "; ".join(
            f"{json_path(item['loc']) or 'body'}: {item['msg']}" for item in details[:10]
        )
        return error_body(422, "invalid", message, path)

    @blueprint.errorhandler(BlueprintError)
    def invalid_blueprint(error: BlueprintError) -> Response:
        problems = [
            {"path": p.path, "message": p.message, "module_id": p.module_id} for p in error.problems
        ]
        first = error.problems[0].path if error.problems else None
        summary = str(error).splitlines()[0]
        return error_body(422, "invalid", summary, first or None, problems=problems)

    @blueprint.errorhandler(ServiceError)
    def service_error(error: ServiceError) -> Response:
        response = error_body(error.status, error.code, str(error), getattr(error, "path", None))
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(max(1, round(retry_after)))
        return response

    for kind, (status, code) in ERRORS.items():
        blueprint.register_error_handler(kind, _mapped(status, code))

    @blueprint.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        return http_error_body(error)

    @blueprint.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log_failure(log, "unexpected error in %s %s", request.method, request.path, error=error)
        return error_body(500, "internal", "something went wrong on our side; see the logs")


def _mapped(status: int, code: str) -> Any:
    def handler(error: Exception) -> Response:
        return error_body(status, code, str(error), getattr(error, "path", None))

    return handler


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def http_error_body(error: HTTPException) -> Response:
    """The JSON error for a Werkzeug HTTP error (404, 405, 413 …)."""
    status = error.code or 500
    code = HTTP_CODES.get(status) or (error.name or "error").lower().replace(" ", "_")
    response = error_body(status, code, error.description or error.name)
    if status == 405 and error.get_response().headers.get("Allow"):
        response.headers["Allow"] = error.get_response().headers["Allow"]
    return response
