"""Zoho Accounts OAuth 2.0 as the sandbox emulates it (one data centre).

- ``GET /oauth/v2/auth?scope&client_id&response_type=code&access_type=offline&redirect_uri
  &state`` auto-approves and redirects to ``redirect_uri?state=…&code=…&location=us
  &accounts-server=<accounts server>`` (Zoho names the data centre on the callback).
- ``POST /oauth/v2/token`` (parameters in the query string or the form, as Zoho accepts):
  ``authorization_code`` → ``{access_token, refresh_token (offline only), api_domain,
  token_type: "Bearer", expires_in: 3600}``; ``refresh_token`` → the same without a new refresh
  token (Zoho refresh tokens do not rotate). Failures answer **200** with ``{"error": …}``
  (``invalid_code``, ``invalid_client``, ``invalid_redirect_uri``), as Zoho does.
- ``POST /oauth/v2/token/revoke?token=<refresh token>`` ends the grant.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import flask

from modules.sandboxing import json_response

if TYPE_CHECKING:
    from .state import ZohoSandboxState


@dataclass
class TokenStore:
    """Codes, refresh tokens (→ scope) and access tokens. Callers hold the sandbox lock."""

    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh: dict[str, dict[str, Any]] = field(default_factory=dict)
    access: dict[str, dict[str, Any]] = field(default_factory=dict)

    def scopes_for(self, access_token: str, now: datetime) -> set[str] | None:
        """The scopes an access token carries; None when unknown, expired or revoked."""
        entry = self.access.get(access_token)
        if entry is None or entry["expires_at"] <= now:
            return None
        grant = self.refresh.get(entry["refresh_token"] or "")
        if entry["refresh_token"] and (grant is None or grant["revoked"]):
            return None
        return set(entry["scope"].replace(",", " ").split())


def _state() -> ZohoSandboxState:
    return flask.current_app.extensions["sandbox_state"]


def _token() -> str:
    return f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"


def accounts_server(state: ZohoSandboxState) -> str:
    return state.config["accounts_server"] or flask.request.host_url.rstrip("/")


def api_domain(state: ZohoSandboxState) -> str:
    return state.config["api_domain"] or flask.request.host_url.rstrip("/")


def authorize() -> flask.Response:
    """Consent is automatic: redirect back with a code."""
    state, args = _state(), flask.request.args
    redirect_uri = args.get("redirect_uri", "")
    if args.get("client_id") != state.config["client_id"] or not redirect_uri:
        return json_response({"error": "invalid_client"}, 400)
    if state.config["redirect_uris"] and redirect_uri not in state.config["redirect_uris"]:
        return json_response({"error": "invalid_redirect_uri"}, 400)
    query = {"state": args.get("state", "")}
    if not args.get("scope"):
        query["error"] = "invalid_scope"
    else:
        code = _token()
        with state.lock:
            state.tokens.codes[code] = {
                "scope": args["scope"],
                "redirect_uri": redirect_uri,
                "offline": args.get("access_type", "online") == "offline",
                "expires_at": state.now() + timedelta(seconds=state.config["auth_code_seconds"]),
            }
        query["code"] = code
    query.update({"location": state.config["location"], "accounts-server": accounts_server(state)})
    separator = "&" if "?" in redirect_uri else "?"
    return flask.redirect(f"{redirect_uri}{separator}{urlencode(query)}", 302)


def token() -> flask.Response:
    """The token endpoint: both grants; errors are 200 with ``{"error"}``."""
    state = _state()
    params = {**flask.request.args.to_dict(), **flask.request.form.to_dict()}
    if (
        params.get("client_id") != state.config["client_id"]
        or params.get("client_secret") != state.config["client_secret"]
    ):
        return json_response({"error": "invalid_client"})
    with state.lock:
        if params.get("grant_type") == "authorization_code":
            body = _exchange(state, params)
        elif params.get("grant_type") == "refresh_token":
            grant = state.tokens.refresh.get(params.get("refresh_token", ""))
            body = (
                _issue(state, params["refresh_token"], grant["scope"])
                if grant and not grant["revoked"]
                else {"error": "invalid_code"}
            )
        else:
            body = {"error": "unsupported_grant_type"}
    return json_response(body)


def _exchange(state: ZohoSandboxState, params: dict[str, str]) -> dict[str, Any]:
    entry = state.tokens.codes.pop(params.get("code", ""), None)
    if entry is None or entry["expires_at"] <= state.now():
        return {"error": "invalid_code"}
    if entry["redirect_uri"] != params.get("redirect_uri"):
        return {"error": "invalid_redirect_uri"}
    refresh = _token() if entry["offline"] else ""
    if refresh:
        state.tokens.refresh[refresh] = {"scope": entry["scope"], "revoked": False}
    body = _issue(state, refresh, entry["scope"])
    if refresh:
        body["refresh_token"] = refresh
    return body


def _issue(state: ZohoSandboxState, refresh: str, scope: str) -> dict[str, Any]:
    access = _token()
    seconds = int(state.config["access_token_seconds"])
    state.tokens.access[access] = {
        "refresh_token": refresh,
        "scope": scope,
        "expires_at": state.now() + timedelta(seconds=seconds),
    }
    return {
        "access_token": access,
        "scope": scope,
        "api_domain": api_domain(state),
        "token_type": "Bearer",
        "expires_in": seconds,
    }


def revoke() -> flask.Response:
    state = _state()
    refresh = flask.request.args.get("token") or flask.request.form.get("token", "")
    with state.lock:
        if refresh in state.tokens.refresh:
            state.tokens.refresh[refresh]["revoked"] = True
    return json_response({"status": "success"})


def register(app: flask.Flask) -> None:
    """Install the Zoho Accounts routes."""
    app.add_url_rule("/oauth/v2/auth", "zoho_authorize", authorize, methods=["GET"])
    app.add_url_rule("/oauth/v2/token", "zoho_token", token, methods=["POST"])
    app.add_url_rule("/oauth/v2/token/revoke", "zoho_revoke", revoke, methods=["POST"])
