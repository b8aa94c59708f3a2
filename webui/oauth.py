"""OAuth2 connections: the authorize redirect and the callback (``/oauth/callback``).

Both views need a signed-in editor (401 when nobody is signed in, 403 for a viewer); the
callback must come from the same user who started the authorization (403 otherwise), so nobody
can plant a connection in a workspace.

1. ``GET /oauth/<app>/authorize?name=My+Xero[&connection=<id>]`` sends the browser to the
   app's consent page. The ``state`` parameter is signed (the Flask ``SECRET_KEY``) and carries
   the user, the app, the connection's name and, to reauthorize, the connection id; it expires
   after ``STATE_MAX_AGE`` seconds.
2. The provider redirects to ``<base URL>/oauth/callback?code=…&state=…``; the view checks the
   state, exchanges the code for tokens, runs the app's ``on_authorized`` (Xero: tenant
   selection), and creates the connection — or replaces an existing one's tokens — with the
   tokens and the client secret encrypted by the store. The answer is JSON
   ``{"connection": {"id", "app", "name", "data"}}``: no secret is ever returned. A browser
   (``Accept: text/html``, the editor's pop-up) gets a small page instead that hands the
   outcome (``{"connection_id"}`` or ``{"error"}``) to the window that opened it, with
   ``postMessage`` restricted to this origin, and closes itself.

Client credentials come from config ``SWITCHBOARD_OAUTH_CLIENTS`` (``{"xero": {"client_id",
"client_secret", and optionally "base_url", "authorize_url", "token_url"}}``, the URLs point a
deployment at a sandbox) or the environment (``SWITCHBOARD_XERO_CLIENT_ID``,
``SWITCHBOARD_XERO_CLIENT_SECRET``, and ``SWITCHBOARD_XERO_BASE_URL``,
``SWITCHBOARD_XERO_AUTHORIZE_URL``, ``SWITCHBOARD_XERO_TOKEN_URL``). The redirect URI is
``SWITCHBOARD_BASE_URL`` + ``/oauth/callback`` when configured, else this request's host.

Dependencies come from ``app.extensions["switchboard.oauth"]`` (an ``OAuthDependencies``, set
by ``init_oauth``; tests use it) or else from the app's service (its store and registry).
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from flask import Blueprint, Flask, Response, current_app, jsonify, redirect, request
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeTimedSerializer

from engine.connections import authorization_url, exchange_code, token_public_data
from engine.errors import ModuleError
from engine.registry import UnknownConnectionKindError
from engine.service.errors import InvalidRequest
from engine.spec import AuthType, ConnectionKind

EXTENSION_KEY = "switchboard.oauth"
STATE_MAX_AGE = 600
CALLBACK_PATH = "/oauth/callback"
CLIENT_SETTING_KEYS = ("client_id", "client_secret", "base_url", "authorize_url", "token_url")

# The pop-up's page runs no inline script (the CSP forbids it): this file reads the outcome
# from the page and gives it to the editor window that opened the pop-up, on this origin only.
POPUP_SCRIPT = """\
const outcome = JSON.parse(document.getElementById("outcome").textContent);
if (window.opener) {
  window.opener.postMessage({ switchboardOAuth: outcome }, window.location.origin);
  window.close();
}
"""
POPUP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{message}</p>
<script type="application/json" id="outcome">{outcome}</script>
<script src="/oauth/popup.js"></script></body></html>
"""

oauth = Blueprint("oauth", __name__)


def _nobody() -> str | None:
    return None


@dataclass
class OAuthDependencies:
    """What the views need: ``connections`` (the service's part that stores a grant,
    ``engine.service.connections.ConnectionOperations``), the registry (connection kinds), an
    HTTP session for the token endpoint, a clock, and ``editor``: who is asking — an identity
    when the request comes from someone allowed to create connections, else ``None`` (the
    default lets nobody in)."""

    connections: Any
    registry: Any
    session: Any
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    editor: Callable[[], str | None] = _nobody


def init_oauth(app: Flask, dependencies: OAuthDependencies | None = None) -> None:
    """Register the blueprint on ``app`` (with explicit dependencies, when given)."""
    if dependencies is not None:
        app.extensions[EXTENSION_KEY] = dependencies
    app.register_blueprint(oauth)


class OAuthProblem(Exception):
    """A request the OAuth views refuse; answered as ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@oauth.errorhandler(OAuthProblem)
def _problem(error: OAuthProblem) -> ResponseReturnValue:
    if _wants_page():
        outcome = {"error": error.message, "code": error.code}
        return _popup_page("Not connected", error.message, outcome, error.status)
    return jsonify({"error": {"code": error.code, "message": error.message}}), error.status


def _wants_page() -> bool:
    """A browser navigating (the editor's pop-up) rather than an API client."""
    accepted = request.accept_mimetypes
    return accepted.best_match(["application/json", "text/html"]) == "text/html"


def _popup_page(title: str, message: str, outcome: dict[str, Any], status: int) -> Response:
    # "</" cannot close the JSON's script element early: the outcome may echo provider text.
    data = json.dumps(outcome).replace("</", "<\\/")
    page = POPUP_PAGE.format(title=html.escape(title), message=html.escape(message), outcome=data)
    return Response(page, status, mimetype="text/html")


@oauth.get("/oauth/popup.js")
def popup_script() -> ResponseReturnValue:
    return Response(POPUP_SCRIPT, 200, mimetype="text/javascript")


@oauth.get("/oauth/<app_id>/authorize")
def authorize(app_id: str) -> ResponseReturnValue:
    """Redirect to the app's consent page (only for editors; the grant is bound to them)."""
    editor = _signed_in_editor()
    kind = _oauth_kind(app_id)
    client = client_settings(app_id)
    state = _serializer().dumps(
        {
            "by": editor,
            "app": app_id,
            "name": request.args.get("name") or f"My {kind.label} connection",
            "connection": request.args.get("connection"),
            "tenant_id": request.args.get("tenant_id"),
        }
    )
    url = authorization_url(kind, client, redirect_uri=redirect_uri(), state=state)
    return redirect(url, code=302)


@oauth.get(CALLBACK_PATH)
def callback() -> ResponseReturnValue:
    """Finish the grant: exchange the code, select the tenant, store the connection."""
    editor = _signed_in_editor()
    if request.args.get("error"):
        raise OAuthProblem(400, "authorization_refused", str(request.args["error"]))
    pending = _read_state(request.args.get("state", ""))
    if pending.get("by") != editor:
        raise OAuthProblem(403, "forbidden", "this authorization was started by someone else")
    kind = _oauth_kind(pending["app"])
    client = client_settings(kind.id)
    deps = dependencies()
    data = {k: v for k, v in client.items() if k != "client_secret"}
    if pending.get("tenant_id"):
        data["tenant_id"] = pending["tenant_id"]
    if kind.callback_data is not None:
        data.update(kind.callback_data(request.args))
    try:
        secrets = exchange_code(
            kind,
            data,
            str(client.get("client_secret", "")),
            code=request.args.get("code", ""),
            redirect_uri=redirect_uri(),
            session=deps.session,
            now=deps.clock(),
        )
        data.update(token_public_data(kind, secrets))
        if kind.on_authorized is not None:
            data.update(kind.on_authorized(data, secrets["access_token"], deps.session))
    except ModuleError as error:
        raise OAuthProblem(502, "token_exchange_failed", error.message) from None
    connection = _save(deps.connections, kind, pending, data, secrets)
    public = {"id": connection.id, "app": connection.app, "name": connection.name}
    if _wants_page():
        message = f"{connection.name} is connected. You can close this window."
        return _popup_page("Connected", message, {"connection_id": connection.id}, 200)
    return jsonify({"connection": {**public, "data": connection.data}})


def _save(
    connections: Any,
    kind: ConnectionKind,
    pending: Mapping[str, Any],
    data: dict[str, Any],
    secrets: dict[str, Any],
) -> Any:
    """Create the connection, or give an existing one (reauthorization) the new grant."""
    reauthorized = int(pending["connection"]) if pending.get("connection") else None
    try:
        return connections.save_grant(
            kind, pending.get("name", ""), data, secrets, connection_id=reauthorized
        )
    except InvalidRequest as error:
        raise OAuthProblem(400, "wrong_app", str(error)) from None


# -- settings ---------------------------------------------------------------------------------


def client_settings(app_id: str) -> dict[str, Any]:
    """The deployment's OAuth client for ``app_id`` (config, then environment).

    Raises:
        OAuthProblem: no client id is configured.
    """
    configured = dict((current_app.config.get("SWITCHBOARD_OAUTH_CLIENTS") or {}).get(app_id, {}))
    prefix = f"SWITCHBOARD_{app_id.upper()}_"
    for key in CLIENT_SETTING_KEYS:
        configured.setdefault(key, os.environ.get(prefix + key.upper()))
    if not configured.get("client_id"):
        raise OAuthProblem(
            500, "oauth_client_missing", f"set {prefix}CLIENT_ID and {prefix}CLIENT_SECRET"
        )
    return {k: v for k, v in configured.items() if v is not None}


def redirect_uri() -> str:
    """``<base URL>/oauth/callback``: what the app registration must list."""
    base = current_app.config.get("SWITCHBOARD_BASE_URL") or os.environ.get("SWITCHBOARD_BASE_URL")
    return (str(base).rstrip("/") if base else request.host_url.rstrip("/")) + CALLBACK_PATH


def _signed_in_editor() -> str:
    """Who is connecting an app; refuses anyone who may not create connections."""
    editor = dependencies().editor()
    if editor is None:
        raise OAuthProblem(401, "unauthorized", "sign in as an editor to connect an app")
    return editor


def _service_editor() -> Callable[[], str | None]:
    """The app's own rule: a signed-in user (session or API token) with the editor role."""
    from webui.auth import Role, authenticate

    def editor() -> str | None:
        principal = authenticate()
        if principal is None:
            return None
        if principal.role < Role.EDITOR:
            raise OAuthProblem(403, "forbidden", "only editors and owners can connect apps")
        return str(principal.user.id)

    return editor


def dependencies() -> OAuthDependencies:
    """The explicit dependencies, or ones built from the app's service."""
    given = current_app.extensions.get(EXTENSION_KEY)
    if given is not None:
        return given
    from webui.app import current_service

    service = current_service()
    built = OAuthDependencies(
        service.connections, service.registry, requests.Session(), editor=_service_editor()
    )
    current_app.extensions[EXTENSION_KEY] = built
    return built


def _oauth_kind(app_id: str) -> ConnectionKind:
    try:
        kind = dependencies().registry.connection_kind(app_id)
    except UnknownConnectionKindError as error:
        raise OAuthProblem(404, "unknown_app", str(error)) from None
    if kind.auth is not AuthType.OAUTH2:
        raise OAuthProblem(400, "not_oauth", f"{kind.label} connections do not use OAuth2")
    return kind


def _serializer() -> URLSafeTimedSerializer:
    secret = current_app.secret_key
    if not secret:
        raise OAuthProblem(500, "secret_key_missing", "set SECRET_KEY to sign OAuth states")
    return URLSafeTimedSerializer(secret, salt="switchboard-oauth-state")


def _read_state(state: str) -> dict[str, Any]:
    try:
        return _serializer().loads(state, max_age=STATE_MAX_AGE)
    except BadSignature:
        raise OAuthProblem(
            400, "invalid_state", "the authorization state is invalid or expired"
        ) from None
