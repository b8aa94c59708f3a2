"""Xero's OAuth2 identity service on the shared sandbox server (``modules.sandbox_oauth``):
the consent refuses broad scopes to new apps, access tokens are JWTs, refresh tokens rotate on
every use with a grace period; plus ``/connections``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import flask

from modules.sandbox_oauth import (
    AuthorizationCode,
    Grant,
    IssuedToken,
    OAuthRefusal,
    OAuthServer,
)
from modules.sandboxing import json_response

from .errors import Record, problem
from .state import XeroSandboxState, sandbox_state


def authenticate(state: XeroSandboxState) -> Grant:
    """The grant behind the request's bearer token.

    Raises:
        XeroHttpError: 401 when the token is missing, unknown, revoked or expired.
    """
    header = flask.request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    token = state.oauth.access.get(value.strip()) if scheme.lower() == "bearer" else None
    grant = state.oauth.grant_of(token)
    if token is None or grant is None:
        raise problem(401, "Unauthorized", "AuthenticationUnsuccessful")
    if token.expires_at is not None and token.expires_at <= state.now():
        expired = token.expires_at.strftime("%m/%d/%Y %H:%M:%S")
        raise problem(401, "Unauthorized", f"TokenExpired: token expired at {expired}")
    return grant


#: Broad scopes Xero stopped granting to apps created on or after 2 March 2026 (NOTES §2).
BROAD_SCOPES = frozenset(
    {"accounting.transactions", "accounting.transactions.read", "accounting.reports.read"}
)
GRANULAR_FROM = date(2026, 3, 2)


def broad_scopes_refused(state: XeroSandboxState, scopes: list[str]) -> Record:
    """An ``error_description`` when a new app (``config["app_created"]`` on or after 2 March
    2026) asks for a broad scope, as Xero refuses it with ``invalid_scope``; else empty."""
    created = date.fromisoformat(str(state.config["app_created"]))
    broad = sorted(BROAD_SCOPES.intersection(scopes))
    if created < GRANULAR_FROM or not broad:
        return {}
    return {
        "error_description": f"{', '.join(broad)} is not available to apps created from "
        "2 March 2026: request the granular scopes (accounting.invoices, accounting.payments, ...)"
    }


class XeroIdentity(OAuthServer):
    """identity.xero.com: ``/identity/connect/authorize``, ``/connect/token``,
    ``/connect/revocation``; a grant covers every tenant of the sandbox."""

    name = "xero"
    authorize_path = "/identity/connect/authorize"
    token_path = "/connect/token"
    revoke_paths = ("/connect/revocation",)
    code_seconds_key = "authorization_code_seconds"

    def check_consent(self, state: Any, args: Mapping[str, str]) -> Record | None:
        self.check_client_and_redirect(
            state,
            args,
            unknown_client=OAuthRefusal("unauthorized_client", description="Unknown client_id"),
            bad_redirect=OAuthRefusal("invalid_request", description="Invalid redirect_uri"),
        )
        if args.get("response_type") != "code":
            raise OAuthRefusal("unsupported_response_type")
        refused = broad_scopes_refused(state, args.get("scope", "").split())
        return {"error": "invalid_scope", **refused} if refused else None

    def callback(self, state: Any, code: str, granted: AuthorizationCode) -> Record:
        scope = " ".join(granted.scope.split())
        return {"code": code, "scope": scope, "session_state": uuid.uuid4().hex}

    def grant_extra(self, state: Any, code: AuthorizationCode) -> Record:
        return {"tenant_ids": list(state.tenants), "user_id": str(uuid.uuid4())}

    def new_token(self, kind: str) -> str:
        return str(uuid.uuid4()) if kind == "grant" else super().new_token(kind)

    def rotate_after(self, state: Any) -> timedelta:
        return timedelta(0)  # every use

    def grace(self, state: Any) -> timedelta:
        return timedelta(seconds=float(state.config["refresh_grace_seconds"]))

    def new_access_token(self, state: Any, grant: Grant, expires_at: datetime) -> str:
        return make_jwt(state, grant, expires_at)

    def answer(
        self, state: Any, grant: Grant, access: IssuedToken, refresh: IssuedToken | None
    ) -> Record:
        """A 30-minute JWT access token and a refresh token (60 days unused); an ``id_token``
        too when ``openid`` was granted."""
        scopes = grant.scope.split()
        body: Record = {
            "access_token": access.value,
            "expires_in": self.access_seconds(state),
            "token_type": "Bearer",
            "refresh_token": refresh.value if refresh is not None else None,
            "scope": " ".join(scopes),
        }
        if "openid" in scopes and access.expires_at is not None:
            body["id_token"] = make_jwt(state, grant, access.expires_at, id_token=True)
        return body


def make_jwt(
    state: XeroSandboxState, grant: Grant, expiry: datetime, id_token: bool = False
) -> str:
    """A JWT with Xero's claims, HS256-signed with a per-sandbox secret. Clients that decode it
    (for ``authentication_event_id`` or ``exp``) see what they expect; the sandbox itself
    validates tokens by lookup, so it can revoke them."""
    now = int(state.now().timestamp())
    claims: Record = {
        "nbf": now,
        "exp": int(expiry.timestamp()),
        "iss": "https://identity.xero.com",
        "aud": state.config["client_id"] if id_token else "https://identity.xero.com/resources",
        "client_id": grant.client_id,
        "sub": grant.extra["user_id"],
        "auth_time": now,
        "xero_userid": grant.extra["user_id"],
        "authentication_event_id": grant.id,
        "jti": uuid.uuid4().hex,
        "scope": grant.scope.split(),
    }
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps(claims).encode())
    signature = hmac.new(state.signing_secret, f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{_b64url(signature.digest())}"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def connection_id_for(grant: Grant, tenant_id: str) -> str:
    """Stable connection id for a (grant, tenant) pair."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{grant.id}/{tenant_id}"))


def list_connections() -> flask.Response:
    """``GET /connections``: the tenants this token's grant may access."""
    state = sandbox_state()
    with state.lock:
        grant = authenticate(state)
        items = [
            {
                "id": connection_id_for(grant, tenant_id),
                "authEventId": grant.id,
                "tenantId": tenant_id,
                "tenantType": "ORGANISATION",
                "tenantName": state.tenants[tenant_id].name,
                "createdDateUtc": grant.created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
                "updatedDateUtc": grant.created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
            }
            for tenant_id in grant.extra["tenant_ids"]
            if tenant_id in state.tenants
        ]
    return json_response(items)


def delete_connection(connection_id: str) -> flask.Response:
    """``DELETE /connections/{id}``: disconnect one tenant from the grant."""
    state = sandbox_state()
    with state.lock:
        grant = authenticate(state)
        for tenant_id in list(grant.extra["tenant_ids"]):
            if connection_id_for(grant, tenant_id) == connection_id:
                grant.extra["tenant_ids"].remove(tenant_id)
                return flask.Response(status=204)
    raise problem(404, "NotFound", "The resource you're looking for cannot be found")


def register(app: flask.Flask) -> None:
    """The identity service's routes."""
    XeroIdentity(sandbox_state).register(app)
    app.add_url_rule("/connections", "connections", list_connections, methods=["GET"])
    app.add_url_rule(
        "/connections/<connection_id>", "delete_connection", delete_connection, methods=["DELETE"]
    )
