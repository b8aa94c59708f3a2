"""Intuit OAuth 2.0 as the sandbox emulates it, on the shared server (``modules.sandbox_oauth``).

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

import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import flask

from modules.sandbox_oauth import AuthorizationCode, Grant, IssuedToken, OAuthRefusal, OAuthServer

SCOPE = "com.intuit.quickbooks.accounting"
_PREFIXES = {
    "code": "XAB11",
    "grant": "G",
    "access": "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..",
    "refresh": "AB11",
}


class IntuitOAuth(OAuthServer):
    """appcenter.intuit.com's consent and oauth.platform.intuit.com's token endpoint."""

    name = "qbo"
    authorize_path = "/connect/oauth2"
    token_path = "/oauth2/v1/tokens/bearer"
    revoke_paths = ("/v2/oauth2/tokens/revoke", "/oauth2/v1/tokens/revoke")
    invalid_client_status = 401

    def check_consent(self, state: Any, args: Mapping[str, str]) -> dict[str, Any] | None:
        self.check_client_and_redirect(state, args)
        if args.get("response_type") != "code":
            return {"error": "unsupported_response_type"}
        if SCOPE not in args.get("scope", "").split():
            return {"error": "invalid_scope"}
        return None

    def code_extra(self, state: Any, args: Mapping[str, str]) -> dict[str, Any]:
        """The company the consent picked: ``realmId``, else the first."""
        realm_id = args.get("realmId") or next(iter(state.realms))
        if realm_id not in state.realms:
            raise OAuthRefusal("invalid_request")
        return {"realm_id": realm_id}

    def callback(self, state: Any, code: str, granted: AuthorizationCode) -> dict[str, Any]:
        return {"code": code, "realmId": granted.extra["realm_id"]}

    def new_token(self, kind: str) -> str:
        return _PREFIXES[kind] + secrets.token_urlsafe(32)

    def rotate_after(self, state: Any) -> timedelta:
        """Intuit replaces a refresh token about daily (0 here by default: on every use); the
        old one is refused at once."""
        return timedelta(seconds=float(state.config["refresh_rotate_after_seconds"]))

    def answer(
        self, state: Any, grant: Grant, access: IssuedToken, refresh: IssuedToken | None
    ) -> dict[str, Any]:
        assert refresh is not None and refresh.expires_at is not None  # every grant has one
        return {
            "token_type": "bearer",
            "access_token": access.value,
            "expires_in": self.access_seconds(state),
            "refresh_token": refresh.value,
            "x_refresh_token_expires_in": int((refresh.expires_at - state.now()).total_seconds()),
        }


def realm_for(state: Any, access_token: str) -> str | None:
    """The company an access token unlocks; None when unknown, expired or revoked. Callers
    hold the sandbox's lock."""
    grant = state.oauth.access_grant(access_token, state.now())
    return None if grant is None else str(grant.extra["realm_id"])


def _state() -> Any:
    return flask.current_app.extensions["sandbox_state"]


def register(app: flask.Flask) -> None:
    """Install the OAuth routes."""
    IntuitOAuth(_state).register(app)
