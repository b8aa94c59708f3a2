"""Zoho Accounts OAuth 2.0 as the sandbox emulates it (one data centre), on the shared server
(``modules.sandbox_oauth``).

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
from collections.abc import Mapping
from typing import Any

import flask

from modules.sandbox_oauth import AuthorizationCode, Grant, IssuedToken, OAuthRefusal, OAuthServer
from modules.sandboxing import json_response


def accounts_server(state: Any) -> str:
    return str(state.config["accounts_server"] or flask.request.host_url.rstrip("/"))


def api_domain(state: Any) -> str:
    return str(state.config["api_domain"] or flask.request.host_url.rstrip("/"))


class ZohoAccounts(OAuthServer):
    """accounts.zoho.com: parameters in the query string or the form; refresh tokens for
    offline access only, never rotated; token errors answered 200."""

    name = "zoho"
    authorize_path = "/oauth/v2/auth"
    token_path = "/oauth/v2/token"
    revoke_paths = ("/oauth/v2/token/revoke",)
    refresh_days_key = None  # until revoked
    invalid_grant = "invalid_code"
    redirect_mismatch = "invalid_redirect_uri"
    revoke_needs_client = False

    def check_consent(self, state: Any, args: Mapping[str, str]) -> dict[str, Any] | None:
        self.check_client_and_redirect(state, args)
        return None if args.get("scope") else {"error": "invalid_scope"}

    def code_extra(self, state: Any, args: Mapping[str, str]) -> dict[str, Any]:
        return {"offline": args.get("access_type", "online") == "offline"}

    def callback(self, state: Any, code: str, granted: AuthorizationCode) -> dict[str, Any]:
        return self._data_centre(state, {"code": code})

    def refused_callback(self, state: Any, error: dict[str, Any]) -> dict[str, Any]:
        return self._data_centre(state, error)

    @staticmethod
    def _data_centre(state: Any, query: dict[str, Any]) -> dict[str, Any]:
        """Zoho always sends ``state`` back and names the data centre on the callback."""
        return {
            "state": flask.request.args.get("state", ""),
            **query,
            "location": state.config["location"],
            "accounts-server": accounts_server(state),
        }

    def wants_refresh(self, code: AuthorizationCode) -> bool:
        return bool(code.extra["offline"])

    def kept_refresh(self, token: IssuedToken) -> IssuedToken | None:
        return None  # a refresh answer carries no refresh token

    def new_token(self, kind: str) -> str:
        return f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"

    def client_credentials(self) -> tuple[str | None, str | None]:
        values = flask.request.values
        return values.get("client_id"), values.get("client_secret")

    def answer(
        self, state: Any, grant: Grant, access: IssuedToken, refresh: IssuedToken | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": access.value,
            "scope": grant.scope,
            "api_domain": api_domain(state),
            "token_type": "Bearer",
            "expires_in": self.access_seconds(state),
        }
        if refresh is not None:
            body["refresh_token"] = refresh.value
        return body

    def refuse(self, refusal: OAuthRefusal) -> flask.Response:
        """The consent's refusals are 400s; the token endpoint answers 200 ``{"error"}``."""
        status = 200 if flask.request.path == self.token_path else refusal.status
        return json_response(refusal.body(), status)

    def revoked(self) -> flask.Response:
        return json_response({"status": "success"})


def scopes_for(state: Any, access_token: str) -> set[str] | None:
    """The scopes an access token carries; None when unknown, expired or revoked. Callers
    hold the sandbox's lock."""
    grant = state.oauth.access_grant(access_token, state.now())
    return None if grant is None else set(grant.scope.replace(",", " ").split())


def _state() -> Any:
    return flask.current_app.extensions["sandbox_state"]


def register(app: flask.Flask) -> None:
    """Install the Zoho Accounts routes."""
    ZohoAccounts(_state).register(app)
