"""The Flask app factory.

``create_app()`` reads settings from the environment and builds the service (store + queue);
tests and ``switchboard serve`` pass a ready one::

    create_app({"SWITCHBOARD_SERVICE": service})        # the caller owns and closes it
    gunicorn 'webui.app:create_app()'                     # production, see docs/deploy.md

Blueprints: webhook ingress (``webui.hooks``), OAuth2 connections (``webui.oauth``). The REST
API and the editor register here too. Every request but webhook ingress must name an allowed
host (``webui.hosts``: DNS rebinding).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from flask import Flask, Request, Response, current_app, request, send_from_directory
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
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
    app.session_interface = _SessionsOutsideHooks()
    app.config.update(dict(config or {}))
    service = app.config.get("SWITCHBOARD_SERVICE") or _service_from_environment(app)
    app.extensions[SERVICE_KEY] = service
    # Werkzeug refuses longer bodies with 413 before the view reads them.
    app.config["MAX_CONTENT_LENGTH"] = service.settings.webhook_max_payload_bytes
    if not app.config.get("SECRET_KEY") and service.settings.secret_key:
        app.config["SECRET_KEY"] = _derived_key(service.settings.secret_key, "flask-secret-key")
    _register_error_handlers(app)

    from webui.api import register_api
    from webui.hooks import hooks
    from webui.hosts import install_host_check
    from webui.oauth import oauth

    install_host_check(app)

    app.register_blueprint(hooks)
    app.register_blueprint(oauth)
    register_api(app)
    _register_editor(app)
    app.after_request(_security_headers)
    from webui.rawhooks import RawHooks

    # Webhook ingress answered before Flask's request machinery, the same way (webui.rawhooks).
    app.wsgi_app = RawHooks(app, app.wsgi_app)  # type: ignore[method-assign]
    return app


class _SessionsOutsideHooks(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, not opened for webhook ingress: a webhook answers
    anyone, never reads the session, and its answer leaves without cookies
    (``webui.hook_safety``); opening one (a signing serializer per request) was a tenth of
    what Flask spends on a webhook."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith("/hooks/"):
            return None  # Flask's null session: nothing read, nothing saved
        return super().open_session(app, request)


def current_service() -> Service:
    """The service of the app handling the current request."""
    return _unproxied(current_app).extensions[SERVICE_KEY]


def current_request() -> Request:
    """The request being handled, itself rather than Flask's ``request`` proxy.

    Every attribute read through the proxy first misses on the proxy (a formatted
    ``AttributeError``) and then goes to the context: ~17 such reads were a tenth of a
    webhook request's instructions (callgrind). Views and hooks on the webhook path read the
    request once through here."""
    return cast(Request, _unproxied(request))


def _unproxied(proxy: Any) -> Any:
    """The object behind a Werkzeug ``LocalProxy`` (its own slot: no miss)."""
    return proxy._get_current_object()


def error_response(status: int, code: str, message: str, **extra: Any) -> tuple[Response, int]:
    """Every error body: ``{"error": {"code", "message", "path"}}``."""
    return error_answer(_unproxied(current_app), status, code, message, **extra), status


def error_answer(app: Flask, status: int, code: str, message: str, **extra: Any) -> Response:
    """``error_response``'s answer, built without a request context (``app.json`` is what
    ``jsonify`` uses): the raw webhook path (``webui.rawhooks``) answers with it too."""
    body = {"error": {"code": code, "message": message, "path": None, **extra}}
    response = cast(Response, app.json.response(body))  # the app's response_class
    response.status_code = status
    return response


def service_error_answer(app: Flask, error: ServiceError) -> Response:
    """The answer to a service's refusal: its status, code and message, and ``Retry-After``
    when it says when to come back."""
    path = getattr(error, "path", None)
    response = error_answer(app, error.status, error.code, str(error), path=path)
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(max(1, round(retry_after)))
    return response


def http_error_answer(app: Flask, error: HTTPException) -> Response:
    """The JSON answer to an HTTP error outside the API and the editor (413, 405, 500 …)."""
    code = (error.name or "error").lower().replace(" ", "_")
    return error_answer(app, error.code or 500, code, error.description or error.name)


def _derived_key(secret_key: str, purpose: str) -> str:
    """Key material for ``purpose`` derived from ``SWITCHBOARD_SECRET_KEY`` (one secret to
    keep; a leak of a derived key does not reveal the connection-secret key)."""
    return hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).hexdigest()


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
        return service_error_answer(app, error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        if error.code == 404 and request.method == "GET" and _is_editor_path(request.path):
            return _editor_page()
        if request.path.startswith("/api/"):
            from webui.api.problems import http_error_body

            return http_error_body(error)
        return http_error_answer(app, error)


# -- the editor and security headers -----------------------------------------------------------

STATIC_DIR = Path(__file__).resolve().parent / "static"
_NOT_EDITOR = ("/api/", "/hooks/", "/oauth/", "/assets/", "/static/")

NOT_BUILT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Switchboard</title></head>
<body><h1>Switchboard</h1>
<p>The editor is not built. Run <code>make install</code>, then reload this page.</p>
<p>The REST API is at <a href="/api/openapi.json">/api/openapi.json</a>.</p></body></html>
"""

EDITOR_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"
HSTS_SECONDS = 365 * 24 * 3600


def _register_editor(app: Flask) -> None:
    app.add_url_rule("/", "editor", _editor_page)
    app.add_url_rule("/assets/<path:filename>", "editor_assets", _editor_asset)


def _is_editor_path(path: str) -> bool:
    return not (path + "/").startswith(_NOT_EDITOR)


def _editor_page() -> ResponseReturnValue:
    """The built editor (its router reads the path), or how to build it."""
    index = STATIC_DIR / "index.html"
    if index.is_file():
        # Small, and read whole: no file handle outlives the request.
        page = index.read_bytes()
        return Response(page, 200, mimetype="text/html", headers={"Cache-Control": "no-cache"})
    return Response(NOT_BUILT_PAGE, 200, mimetype="text/html")


def _editor_asset(filename: str) -> ResponseReturnValue:
    return send_from_directory(STATIC_DIR / "assets", filename)


def _security_headers(response: Response) -> Response:
    """``after_request``: ``security_headers`` for the request being handled."""
    handled = current_request()
    return security_headers(response, handled.path, handled.is_secure)


def security_headers(response: Response, path: str, secure: bool) -> Response:
    """Headers every answer carries; a view that set its own keeps them."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    html = response.mimetype == "text/html"
    headers.setdefault("Content-Security-Policy", EDITOR_CSP if html else API_CSP)
    if path.startswith("/api/"):
        headers.setdefault("Cache-Control", "no-store")
    if secure:
        # Only over HTTPS (a proxy's X-Forwarded-Proto honoured, docs/deploy.md): browsers
        # ignore it on plain HTTP, and a local `make run` must stay reachable over http.
        headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_SECONDS}")
    return response
