"""The Flask app factory.

``create_app()`` reads settings from the environment and builds the service (store + queue);
tests and ``switchboard serve`` pass a ready one::

    create_app({"SWITCHBOARD_SERVICE": service})        # the caller owns and closes it
    gunicorn 'webui.app:create_app()'                     # production, see docs/deploy.md

Blueprints: webhook ingress (``webui.hooks``), OAuth2 connections (``webui.oauth``). The REST
API and the editor register here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from engine.service import Service, ServiceError

SERVICE_KEY = "switchboard.service"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """A configured app.

    Config keys (besides Flask's own): ``SWITCHBOARD_SERVICE``, a ready ``Service`` to use;
    without it one is built from ``SWITCHBOARD_SETTINGS`` (a ``Settings``) or the environment,
    and its queue is started.
    """
    app = Flask(__name__)
    app.config.update(dict(config or {}))
    service = app.config.get("SWITCHBOARD_SERVICE") or _service_from_environment(app)
    app.extensions[SERVICE_KEY] = service
    # Werkzeug refuses longer bodies with 413 before the view reads them.
    app.config["MAX_CONTENT_LENGTH"] = service.settings.webhook_max_payload_bytes
    _register_error_handlers(app)

    from webui.hooks import hooks
    from webui.oauth import oauth

    app.register_blueprint(hooks)
    app.register_blueprint(oauth)
    return app


def current_service() -> Service:
    """The service of the app handling the current request."""
    return current_app.extensions[SERVICE_KEY]


def error_response(status: int, code: str, message: str, **extra: Any) -> ResponseReturnValue:
    """Every error body: ``{"error": {"code", "message"}}``."""
    return jsonify({"error": {"code": code, "message": message, **extra}}), status


def _service_from_environment(app: Flask) -> Service:
    from engine.config import Settings
    from engine.service import build_service

    settings = app.config.get("SWITCHBOARD_SETTINGS") or Settings.from_env()
    service = build_service(settings)
    service.queue.start()
    return service


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError) -> ResponseReturnValue:
        body, status = error_response(error.status, error.code, str(error))  # type: ignore[misc]
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return body, status, {"Retry-After": str(max(1, round(retry_after)))}
        return body, status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        code = (error.name or "error").lower().replace(" ", "_")
        return error_response(error.code or 500, code, error.description or error.name)
