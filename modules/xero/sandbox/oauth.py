"""Xero's OAuth2 identity service: authorize, token (rotating refresh tokens), revocation,
``/connections``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

import flask

from modules.sandboxing import json_response

from .errors import Record, XeroHttpError, problem
from .state import AuthorizationCode, Grant, IssuedToken, XeroSandboxState, sandbox_state


def authenticate(state: XeroSandboxState) -> Grant:
    """The grant behind the request's bearer token.

    Raises:
        XeroHttpError: 401 when the token is missing, unknown, revoked or expired.
    """
    header = flask.request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    token = state.access_tokens.get(value.strip()) if scheme.lower() == "bearer" else None
    grant = state.grants.get(token.grant_id) if token else None
    if token is None or grant is None or grant.revoked:
        raise problem(401, "Unauthorized", "AuthenticationUnsuccessful")
    if token.expires_at <= state.now():
        expired = token.expires_at.strftime("%m/%d/%Y %H:%M:%S")
        raise problem(401, "Unauthorized", f"TokenExpired: token expired at {expired}")
    return grant


def oauth_error(error: str, description: str | None = None, status: int = 400) -> XeroHttpError:
    """RFC 6749 error body, as Xero's identity server answers."""
    body = {"error": error, **({"error_description": description} if description else {})}
    return XeroHttpError(status, body)


def authorize() -> flask.Response:
    """Auto-approve the consent and redirect back with ``code``, ``scope`` and ``state``."""
    state = sandbox_state()
    args = flask.request.args
    redirect_uri = args.get("redirect_uri", "")
    if args.get("client_id") != state.config["client_id"]:
        raise oauth_error("unauthorized_client", "Unknown client_id")
    allowed = state.config["redirect_uris"]
    if not redirect_uri or (allowed and redirect_uri not in allowed):
        raise oauth_error("invalid_request", "Invalid redirect_uri")
    if args.get("response_type") != "code":
        raise oauth_error("unsupported_response_type")
    refused = broad_scopes_refused(state, args.get("scope", "").split())
    if refused:
        return redirect_back(redirect_uri, {"error": "invalid_scope", **refused}, args)
    code = AuthorizationCode(
        code=secrets.token_urlsafe(32),
        client_id=args["client_id"],
        redirect_uri=redirect_uri,
        scopes=args.get("scope", "").split(),
        expires_at=state.now() + timedelta(seconds=int(state.config["authorization_code_seconds"])),
        code_challenge=args.get("code_challenge"),
        code_challenge_method=args.get("code_challenge_method"),
    )
    with state.lock:
        state.codes[code.code] = code
    query = {"code": code.code, "scope": " ".join(code.scopes), "session_state": uuid.uuid4().hex}
    return redirect_back(redirect_uri, query, args)


def redirect_back(redirect_uri: str, query: Record, args: Mapping[str, str]) -> flask.Response:
    """The consent screen's answer: back to the client with ``query`` (and its ``state``)."""
    if "state" in args:
        query = {**query, "state": args["state"]}
    separator = "&" if "?" in redirect_uri else "?"
    return flask.redirect(f"{redirect_uri}{separator}{urlencode(query)}", code=302)


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


def client_credentials() -> tuple[str | None, str | None]:
    """Client id/secret from HTTP Basic auth or from the form body."""
    auth = flask.request.authorization
    if auth and auth.type == "basic":
        return auth.username, auth.password
    form = flask.request.form
    return form.get("client_id"), form.get("client_secret")


def token_endpoint() -> flask.Response:
    """``POST /connect/token`` for the authorization_code and refresh_token grants."""
    state = sandbox_state()
    client_id, client_secret = client_credentials()
    if client_id != state.config["client_id"] or client_secret != state.config["client_secret"]:
        raise oauth_error("invalid_client")
    grant_type = flask.request.form.get("grant_type")
    with state.lock:
        if grant_type == "authorization_code":
            answer = exchange_code(state, client_id)
        elif grant_type == "refresh_token":
            answer = rotate_refresh_token(state, client_id)
        else:
            raise oauth_error("unsupported_grant_type")
    return json_response(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def exchange_code(state: XeroSandboxState, client_id: str) -> Record:
    """Trade a one-time code for tokens; the grant covers every tenant of the sandbox."""
    form = flask.request.form
    code = state.codes.get(form.get("code", ""))
    if code is None or code.used or code.expires_at <= state.now() or code.client_id != client_id:
        raise oauth_error("invalid_grant")
    if form.get("redirect_uri") != code.redirect_uri or not pkce_ok(code, form):
        raise oauth_error("invalid_grant")
    code.used = True
    grant = Grant(
        grant_id=str(uuid.uuid4()),
        client_id=client_id,
        scopes=code.scopes,
        tenant_ids=list(state.tenants),
        user_id=str(uuid.uuid4()),
        created=state.now(),
    )
    state.grants[grant.grant_id] = grant
    return issue_tokens(state, grant)


def pkce_ok(code: AuthorizationCode, form: Mapping[str, str]) -> bool:
    """Check ``code_verifier`` against the challenge, when the authorize call sent one."""
    if not code.code_challenge:
        return True
    verifier = form.get("code_verifier", "")
    if code.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        verifier = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
    return hmac.compare_digest(verifier, code.code_challenge)


def rotate_refresh_token(state: XeroSandboxState, client_id: str) -> Record:
    """Use a refresh token once: it rotates. Within the grace period a repeat use of the old
    token returns the same successor answer (so two racing refreshes end with one new token);
    after it, the old token is ``invalid_grant``."""
    token = state.refresh_tokens.get(flask.request.form.get("refresh_token", ""))
    now = state.now()
    grant = state.grants.get(token.grant_id) if token else None
    if token is None or grant is None or grant.revoked or grant.client_id != client_id:
        raise oauth_error("invalid_grant")
    if token.expires_at <= now:
        raise oauth_error("invalid_grant")
    if token.rotated_at is not None:
        grace = timedelta(seconds=float(state.config["refresh_grace_seconds"]))
        if now - token.rotated_at > grace or token.successor is None:
            raise oauth_error("invalid_grant")
        return token.successor
    answer = issue_tokens(state, grant)
    token.rotated_at, token.successor = now, answer
    return answer


def issue_tokens(state: XeroSandboxState, grant: Grant) -> Record:
    """A fresh access token (JWT-shaped, 30 min) and refresh token (60 days unused)."""
    now = state.now()
    access_expiry = now + timedelta(seconds=int(state.config["access_token_seconds"]))
    access = make_jwt(state, grant, access_expiry)
    refresh = secrets.token_hex(32)
    state.access_tokens[access] = IssuedToken(access, grant.grant_id, access_expiry)
    refresh_expiry = now + timedelta(days=int(state.config["refresh_token_days"]))
    state.refresh_tokens[refresh] = IssuedToken(refresh, grant.grant_id, refresh_expiry)
    answer: Record = {
        "access_token": access,
        "expires_in": int(state.config["access_token_seconds"]),
        "token_type": "Bearer",
        "refresh_token": refresh,
        "scope": " ".join(grant.scopes),
    }
    if "openid" in grant.scopes:
        answer["id_token"] = make_jwt(state, grant, access_expiry, id_token=True)
    return answer


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
        "sub": grant.user_id,
        "auth_time": now,
        "xero_userid": grant.user_id,
        "authentication_event_id": grant.grant_id,
        "jti": uuid.uuid4().hex,
        "scope": grant.scopes,
    }
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps(claims).encode())
    signature = hmac.new(state.signing_secret, f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{_b64url(signature.digest())}"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def revoke_token() -> flask.Response:
    """``POST /connect/revocation``: revoking a refresh token ends its whole grant."""
    state = sandbox_state()
    client_id, client_secret = client_credentials()
    if client_id != state.config["client_id"] or client_secret != state.config["client_secret"]:
        raise oauth_error("invalid_client")
    with state.lock:
        token = state.refresh_tokens.get(flask.request.form.get("token", ""))
        if token is not None and token.grant_id in state.grants:
            state.grants[token.grant_id].revoked = True
    return flask.Response(status=200)


def connection_id_for(grant: Grant, tenant_id: str) -> str:
    """Stable connection id for a (grant, tenant) pair."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{grant.grant_id}/{tenant_id}"))


def list_connections() -> flask.Response:
    """``GET /connections``: the tenants this token's grant may access."""
    state = sandbox_state()
    with state.lock:
        grant = authenticate(state)
        items = [
            {
                "id": connection_id_for(grant, tenant_id),
                "authEventId": grant.grant_id,
                "tenantId": tenant_id,
                "tenantType": "ORGANISATION",
                "tenantName": state.tenants[tenant_id].name,
                "createdDateUtc": grant.created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
                "updatedDateUtc": grant.created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
            }
            for tenant_id in grant.tenant_ids
            if tenant_id in state.tenants
        ]
    return json_response(items)


def delete_connection(connection_id: str) -> flask.Response:
    """``DELETE /connections/{id}``: disconnect one tenant from the grant."""
    state = sandbox_state()
    with state.lock:
        grant = authenticate(state)
        for tenant_id in list(grant.tenant_ids):
            if connection_id_for(grant, tenant_id) == connection_id:
                grant.tenant_ids.remove(tenant_id)
                return flask.Response(status=204)
    raise problem(404, "NotFound", "The resource you're looking for cannot be found")


def register(app: flask.Flask) -> None:
    """The identity service's routes."""
    app.add_url_rule("/identity/connect/authorize", "authorize", authorize, methods=["GET"])
    app.add_url_rule("/connect/token", "token", token_endpoint, methods=["POST"])
    app.add_url_rule("/connect/revocation", "revocation", revoke_token, methods=["POST"])
    app.add_url_rule("/connections", "connections", list_connections, methods=["GET"])
    app.add_url_rule(
        "/connections/<connection_id>", "delete_connection", delete_connection, methods=["DELETE"]
    )
