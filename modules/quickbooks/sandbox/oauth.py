"""Intuit OAuth 2.0 as the sandbox emulates it.

- ``GET /connect/oauth2`` (appcenter.intuit.com) auto-approves and redirects to
  ``redirect_uri?code=…&state=…&realmId=…`` (the first company, or ``realmId=`` when given).
- ``POST /oauth2/v1/tokens/bearer`` (oauth.platform.intuit.com), client via HTTP Basic (or form
  fields): ``authorization_code`` and ``refresh_token`` grants →
  ``{token_type: "bearer", access_token, expires_in: 3600, refresh_token,
  x_refresh_token_expires_in}``.
- Refresh tokens rotate once older than ``refresh_rotate_after_seconds`` (0: on every use;
  Intuit rotates about daily). A superseded, revoked, expired or unknown refresh token →
  ``400 {"error": "invalid_grant"}``; two racing refreshes: one wins.
- ``POST /v2/oauth2/tokens/revoke`` (developer.api.intuit.com; also under
  ``/oauth2/v1/tokens/revoke``) ``{"token": …}`` ends the grant.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import flask

from modules.sandboxing import json_response

if TYPE_CHECKING:
    from .state import QboSandboxState

SCOPE = "com.intuit.quickbooks.accounting"


class OAuthError(Exception):
    """``{"error": code}`` with an HTTP status."""

    def __init__(self, code: str, status: int = 400) -> None:
        super().__init__(code)
        self.code, self.status = code, status


@dataclass
class Grant:
    """One consent: a realm, the current refresh token and when it was issued."""

    id: str
    realm_id: str
    scope: str
    refresh_token: str
    refresh_issued_at: datetime
    refresh_expires_at: datetime
    revoked: bool = False


@dataclass
class TokenStore:
    """Authorization codes, grants and tokens. Callers hold the sandbox lock."""

    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    access: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    refresh: dict[str, str] = field(default_factory=dict)  # every refresh token → grant id

    def realm_for(self, access_token: str, now: datetime) -> str | None:
        """The realm an access token unlocks, None when unknown, expired or revoked."""
        entry = self.access.get(access_token)
        if entry is None or entry[1] <= now:
            return None
        grant = self.grants[entry[0]]
        return None if grant.revoked else grant.realm_id


def _new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def _state() -> QboSandboxState:
    return flask.current_app.extensions["sandbox_state"]


def authorize() -> flask.Response:
    """Auto-approve and redirect back with ``code``, ``state`` and ``realmId``."""
    state, args = _state(), flask.request.args
    config = state.config
    redirect_uri = args.get("redirect_uri", "")
    if args.get("client_id") != config["client_id"] or not redirect_uri:
        return json_response({"error": "invalid_client"}, 400)
    if config["redirect_uris"] and redirect_uri not in config["redirect_uris"]:
        return json_response({"error": "invalid_redirect_uri"}, 400)
    query: dict[str, str] = {}
    if SCOPE not in args.get("scope", "").split() or args.get("response_type") != "code":
        query = {
            "error": "invalid_scope"
            if args.get("response_type") == "code"
            else "unsupported_response_type"
        }
    else:
        with state.lock:
            realm_id = args.get("realmId") or next(iter(state.realms))
            if realm_id not in state.realms:
                return json_response({"error": "invalid_request"}, 400)
            code = _new_token("XAB11")
            state.tokens.codes[code] = {
                "realm_id": realm_id,
                "redirect_uri": redirect_uri,
                "scope": args["scope"],
                "expires_at": state.now() + timedelta(seconds=config["auth_code_seconds"]),
            }
        query = {"code": code, "realmId": realm_id}
    if "state" in args:
        query["state"] = args["state"]
    separator = "&" if "?" in redirect_uri else "?"
    return flask.redirect(f"{redirect_uri}{separator}{urlencode(query)}", 302)


def _check_client(config: dict[str, Any]) -> None:
    auth = flask.request.authorization
    form = flask.request.form
    client_id = auth.username if auth else form.get("client_id")
    secret = auth.password if auth else form.get("client_secret")
    ok = hmac.compare_digest(str(client_id), str(config["client_id"])) and hmac.compare_digest(
        str(secret), str(config["client_secret"])
    )
    if not ok:
        raise OAuthError("invalid_client", 401)


def token() -> flask.Response:
    """The token endpoint (both grants)."""
    state, form = _state(), flask.request.form
    try:
        _check_client(state.config)
        with state.lock:
            if form.get("grant_type") == "authorization_code":
                grant = _exchange_code(state, form.get("code", ""), form.get("redirect_uri"))
            elif form.get("grant_type") == "refresh_token":
                grant = _refresh(state, form.get("refresh_token", ""))
            else:
                raise OAuthError("unsupported_grant_type")
            body = _issue(state, grant)
    except OAuthError as error:
        return json_response({"error": error.code}, error.status)
    return json_response(body, headers={"Cache-Control": "no-store"})


def _exchange_code(state: QboSandboxState, code: str, redirect_uri: str | None) -> Grant:
    entry = state.tokens.codes.pop(code, None)
    now = state.now()
    if entry is None or entry["expires_at"] <= now or entry["redirect_uri"] != redirect_uri:
        raise OAuthError("invalid_grant")
    days = float(state.config["refresh_token_days"])
    grant = Grant(
        _new_token("G"), entry["realm_id"], entry["scope"], "", now, now + timedelta(days=days)
    )
    state.tokens.grants[grant.id] = grant
    _rotate(state, grant, now)
    return grant


def _rotate(state: QboSandboxState, grant: Grant, now: datetime) -> None:
    grant.refresh_token = _new_token("AB11")
    grant.refresh_issued_at = now
    grant.refresh_expires_at = now + timedelta(days=float(state.config["refresh_token_days"]))
    state.tokens.refresh[grant.refresh_token] = grant.id


def _refresh(state: QboSandboxState, refresh_token: str) -> Grant:
    grant = state.tokens.grants.get(state.tokens.refresh.get(refresh_token, ""))
    now = state.now()
    if (
        grant is None
        or grant.revoked
        or grant.refresh_token != refresh_token
        or grant.refresh_expires_at <= now
    ):
        raise OAuthError("invalid_grant")
    age = (now - grant.refresh_issued_at).total_seconds()
    if age >= float(state.config["refresh_rotate_after_seconds"]):
        _rotate(state, grant, now)
    return grant


def _issue(state: QboSandboxState, grant: Grant) -> dict[str, Any]:
    now = state.now()
    seconds = int(state.config["access_token_seconds"])
    access = _new_token("eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..")
    state.tokens.access[access] = (grant.id, now + timedelta(seconds=seconds))
    return {
        "token_type": "bearer",
        "access_token": access,
        "expires_in": seconds,
        "refresh_token": grant.refresh_token,
        "x_refresh_token_expires_in": int((grant.refresh_expires_at - now).total_seconds()),
    }


def revoke() -> flask.Response:
    """End the grant behind a refresh or access token (unknown tokens are fine too)."""
    state = _state()
    try:
        _check_client(state.config)
    except OAuthError as error:
        return json_response({"error": error.code}, error.status)
    body = flask.request.get_json(silent=True) or {}
    token_value = str(body.get("token") or flask.request.form.get("token", ""))
    with state.lock:
        grant_id = (
            state.tokens.refresh.get(token_value) or state.tokens.access.get(token_value, ("",))[0]
        )
        if grant_id in state.tokens.grants:
            state.tokens.grants[grant_id].revoked = True
    return flask.Response(status=200)


def register(app: flask.Flask) -> None:
    """Install the OAuth routes."""
    app.add_url_rule("/connect/oauth2", "qbo_authorize", authorize, methods=["GET"])
    app.add_url_rule("/oauth2/v1/tokens/bearer", "qbo_token", token, methods=["POST"])
    app.add_url_rule("/v2/oauth2/tokens/revoke", "qbo_revoke", revoke, methods=["POST"])
    app.add_url_rule("/oauth2/v1/tokens/revoke", "qbo_revoke_v1", revoke, methods=["POST"])
