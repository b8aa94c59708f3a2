"""One OAuth 2.0 authorization server for the sandboxes that emulate an app's identity service
(Xero, QuickBooks Online, Zoho CRM); ``modules/sandboxing.py`` holds the rest they share.

``OAuthServer`` runs the authorization code grant the same way for all of them: a consent that
approves itself and redirects back with a one-time code (PKCE checked when the client sent a
challenge), the token endpoint's ``authorization_code`` and ``refresh_token`` grants, refresh
tokens that rotate (or not) by the vendor's rule, revocation, and the lookup the API routes use
to authenticate a bearer token. Everything it keeps is in ``OAuthStore``, held by the sandbox's
state (``state.oauth``) and guarded by its lock.

A vendor is a subclass naming its routes, lifetimes and rotation rule, and overriding the hooks
where the vendor's answers differ: what the consent checks and puts on the callback, what a
token looks like, the token answer's fields, and how a refusal is answered (Xero and Intuit:
``400 {"error"}``; Zoho: ``200 {"error"}``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import flask

from modules.sandboxing import BaseSandboxState, json_response

Record = dict[str, Any]


@dataclass
class AuthorizationCode:
    """A one-time code handed out by the consent."""

    client_id: str
    redirect_uri: str
    scope: str
    expires_at: datetime
    challenge: str | None = None
    challenge_method: str | None = None
    extra: Record = field(default_factory=dict)  # the vendor's: a company, offline access …


@dataclass
class Grant:
    """One consent: the client, what it may do, and the vendor's own facts (``extra``)."""

    id: str
    client_id: str
    scope: str
    created: datetime
    extra: Record = field(default_factory=dict)
    revoked: bool = False


@dataclass
class IssuedToken:
    """An access or refresh token. A rotated refresh token remembers when it was used
    (``rotated_at``) and the answer that use gave (``successor``), for a grace period."""

    value: str
    grant_id: str
    issued_at: datetime
    expires_at: datetime | None  # None: until revoked
    rotated_at: datetime | None = None
    successor: Record | None = None


@dataclass
class OAuthStore:
    """Codes, grants and tokens. Callers hold the sandbox's lock."""

    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    access: dict[str, IssuedToken] = field(default_factory=dict)
    refresh: dict[str, IssuedToken] = field(default_factory=dict)

    def grant_of(self, token: IssuedToken | None) -> Grant | None:
        """The grant behind a token, None when there is none or it was revoked."""
        grant = self.grants.get(token.grant_id) if token is not None else None
        return None if grant is None or grant.revoked else grant

    def access_grant(self, access_token: str, now: datetime) -> Grant | None:
        """The live grant an access token unlocks: None when unknown, expired or revoked."""
        token = self.access.get(access_token)
        if token is None or _expired(token, now):
            return None
        return self.grant_of(token)


class OAuthRefusal(Exception):
    """An OAuth error answer: ``{"error": code}`` (with a description when there is one)."""

    def __init__(self, code: str, status: int = 400, description: str | None = None) -> None:
        super().__init__(code)
        self.code, self.status, self.description = code, status, description

    def body(self) -> Record:
        described = {"error_description": self.description} if self.description else {}
        return {"error": self.code, **described}


class OAuthServer:
    """The shared server; a vendor subclasses it (see the module docstring).

    Class attributes a vendor sets: ``name`` (endpoint prefix), the paths, the config keys of
    its lifetimes (``refresh_days_key`` None: refresh tokens last until revoked), the status
    of ``invalid_client`` and the error codes of a bad code or refresh token. Its rotation rule
    is two hooks: ``rotate_after`` and ``grace``.
    """

    name = "oauth"
    authorize_path = "/oauth/authorize"
    token_path = "/oauth/token"
    revoke_paths: tuple[str, ...] = ("/oauth/revoke",)
    code_seconds_key = "auth_code_seconds"
    refresh_days_key: str | None = "refresh_token_days"
    invalid_client_status = 400
    invalid_grant = "invalid_grant"  # the error of a bad code or refresh token
    redirect_mismatch = "invalid_grant"  # the error of a code used with another redirect URI
    revoke_needs_client = True

    def __init__(self, state_of: Callable[[], BaseSandboxState]) -> None:
        self.state_of = state_of

    def register(self, app: flask.Flask) -> None:
        """Install the consent, token and revocation routes."""
        app.add_url_rule(self.authorize_path, f"{self.name}_authorize", self.authorize)
        app.add_url_rule(self.token_path, f"{self.name}_token", self.token, methods=["POST"])
        for index, path in enumerate(self.revoke_paths):
            app.add_url_rule(path, f"{self.name}_revoke_{index}", self.revoke, methods=["POST"])

    # -- hooks a vendor overrides ----------------------------------------------------------

    def check_consent(self, state: Any, args: Mapping[str, str]) -> Record | None:
        """Refuse a consent request: raise ``OAuthRefusal`` for an answer on the spot, return
        an error query to redirect back with; None to approve. By default: the client and its
        redirect URI must be known, the response type ``code``."""
        self.check_client_and_redirect(state, args)
        if args.get("response_type") != "code":
            return {"error": "unsupported_response_type"}
        return None

    def code_extra(self, state: Any, args: Mapping[str, str]) -> Record:
        """The vendor's facts a code carries into its grant (a company, offline access …)."""
        return {}

    def callback(self, state: Any, code: str, granted: AuthorizationCode) -> Record:
        """The callback's query besides ``state``: by default just the code."""
        return {"code": code}

    def refused_callback(self, state: Any, error: Record) -> Record:
        """The callback's query when the consent refused (besides ``state``)."""
        return error

    def grant_extra(self, state: Any, code: AuthorizationCode) -> Record:
        """The grant's own facts, from its code (by default the code's ``extra``)."""
        return dict(code.extra)

    def rotate_after(self, state: Any) -> timedelta | None:
        """Age at which a used refresh token is replaced by a new one (None: never)."""
        return None

    def grace(self, state: Any) -> timedelta | None:
        """How long a replaced refresh token still gives its successor's answer (None: not
        at all: it is refused at once)."""
        return None

    def wants_refresh(self, code: AuthorizationCode) -> bool:
        """Whether a code's grant gets a refresh token (Zoho: offline access only)."""
        return True

    def kept_refresh(self, token: IssuedToken) -> IssuedToken | None:
        """The refresh token a refresh answer carries when it did not rotate (Zoho: none)."""
        return token

    def new_token(self, kind: str) -> str:
        """A fresh ``code``, ``grant``, ``access`` or ``refresh`` token."""
        return secrets.token_urlsafe(32)

    def new_access_token(self, state: Any, grant: Grant, expires_at: datetime) -> str:
        return self.new_token("access")

    def answer(
        self, state: Any, grant: Grant, access: IssuedToken, refresh: IssuedToken | None
    ) -> Record:
        """The token answer; ``refresh`` is the refresh token to hand out (None: none)."""
        body: Record = {
            "access_token": access.value,
            "token_type": "Bearer",
            "expires_in": self.access_seconds(state),
            "scope": grant.scope,
        }
        if refresh is not None:
            body["refresh_token"] = refresh.value
        return body

    def refuse(self, refusal: OAuthRefusal) -> flask.Response:
        return json_response(refusal.body(), refusal.status)

    def client_credentials(self) -> tuple[str | None, str | None]:
        """Client id and secret from HTTP Basic auth, else from the form."""
        auth = flask.request.authorization
        if auth and auth.type == "basic":
            return auth.username, auth.password
        form = flask.request.form
        return form.get("client_id"), form.get("client_secret")

    def revoked(self) -> flask.Response:
        """The answer to a revocation."""
        return flask.Response(status=200)

    # -- the consent -------------------------------------------------------------------------

    def authorize(self) -> flask.Response:
        """Approve at once and redirect back with a code (or with the consent's refusal)."""
        state, args = self.state_of(), flask.request.args
        redirect_uri = args.get("redirect_uri", "")
        try:
            error = self.check_consent(state, args)
        except OAuthRefusal as refusal:
            return self.refuse(refusal)
        if error is not None:
            return self._back(redirect_uri, self.refused_callback(state, error), args)
        code = AuthorizationCode(
            client_id=args.get("client_id", ""),
            redirect_uri=redirect_uri,
            scope=args.get("scope", ""),
            expires_at=state.now() + timedelta(seconds=float(state.config[self.code_seconds_key])),
            challenge=args.get("code_challenge"),
            challenge_method=args.get("code_challenge_method"),
        )
        value = self.new_token("code")
        with state.lock:
            try:
                code.extra = self.code_extra(state, args)
            except OAuthRefusal as refusal:
                return self.refuse(refusal)
            self.store(state).codes[value] = code
        return self._back(redirect_uri, self.callback(state, value, code), args)

    def check_client_and_redirect(
        self,
        state: Any,
        args: Mapping[str, str],
        unknown_client: OAuthRefusal | None = None,
        bad_redirect: OAuthRefusal | None = None,
    ) -> None:
        """The client must be the sandbox's and its redirect URI one of ``redirect_uris``
        (any, when that list is empty). Refused with ``invalid_client`` (also for a missing
        redirect URI) and ``invalid_redirect_uri`` unless the vendor names its own."""
        unknown_client = unknown_client or OAuthRefusal("invalid_client")
        redirect_uri = args.get("redirect_uri", "")
        if args.get("client_id") != state.config["client_id"]:
            raise unknown_client
        allowed = state.config["redirect_uris"]
        if not redirect_uri and bad_redirect is None:
            raise unknown_client
        if not redirect_uri or (allowed and redirect_uri not in allowed):
            raise bad_redirect or OAuthRefusal("invalid_redirect_uri")

    @staticmethod
    def _back(redirect_uri: str, query: Record, args: Mapping[str, str]) -> flask.Response:
        if "state" in args:
            query = {**query, "state": args["state"]}
        separator = "&" if "?" in redirect_uri else "?"
        location = f"{redirect_uri}{separator}{urlencode(query)}"
        return flask.Response(status=302, headers={"Location": location})

    # -- the token endpoint ------------------------------------------------------------------

    def token(self) -> flask.Response:
        """``authorization_code`` and ``refresh_token`` grants."""
        state = self.state_of()
        try:
            client_id = self._client(state)
            grant_type = flask.request.values.get("grant_type")
            with state.lock:
                if grant_type == "authorization_code":
                    body = self._exchange(state, client_id)
                elif grant_type == "refresh_token":
                    body = self._refresh(state, client_id)
                else:
                    raise OAuthRefusal("unsupported_grant_type")
        except OAuthRefusal as refusal:
            return self.refuse(refusal)
        return json_response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _client(self, state: Any) -> str:
        client_id, secret = self.client_credentials()
        known = hmac.compare_digest(str(client_id), str(state.config["client_id"]))
        if not (known and hmac.compare_digest(str(secret), str(state.config["client_secret"]))):
            raise OAuthRefusal("invalid_client", self.invalid_client_status)
        return str(client_id)

    def _exchange(self, state: Any, client_id: str) -> Record:
        """Trade a code (once) for a new grant's tokens."""
        params = flask.request.values
        store = self.store(state)
        code = store.codes.pop(params.get("code", ""), None)
        if code is None or code.expires_at <= state.now() or code.client_id != client_id:
            raise OAuthRefusal(self.invalid_grant)
        if params.get("redirect_uri") != code.redirect_uri:
            raise OAuthRefusal(self.redirect_mismatch)
        if not pkce_ok(code, params.get("code_verifier", "")):
            raise OAuthRefusal(self.invalid_grant)
        grant = Grant(
            id=self.new_token("grant"),
            client_id=client_id,
            scope=code.scope,
            created=state.now(),
            extra=self.grant_extra(state, code),
        )
        store.grants[grant.id] = grant
        refresh = self._new_refresh(state, grant) if self.wants_refresh(code) else None
        return self.issue(state, grant, refresh)

    def _refresh(self, state: Any, client_id: str) -> Record:
        """Use a refresh token: it rotates by the vendor's rule; a rotated one still gives its
        successor's answer within the grace period (two racing refreshes end with one new
        token), and is refused after it."""
        store, now = self.store(state), state.now()
        token = store.refresh.get(flask.request.values.get("refresh_token", ""))
        grant = store.grant_of(token)
        if token is None or grant is None or grant.client_id != client_id or _expired(token, now):
            raise OAuthRefusal(self.invalid_grant)
        if token.rotated_at is not None:
            grace = self.grace(state)
            if grace is None or token.successor is None or now - token.rotated_at > grace:
                raise OAuthRefusal(self.invalid_grant)
            return token.successor
        rotate_after = self.rotate_after(state)
        if rotate_after is None or now - token.issued_at < rotate_after:
            return self.issue(state, grant, self.kept_refresh(token))
        answer = self.issue(state, grant, self._new_refresh(state, grant))
        token.rotated_at, token.successor = now, answer
        return answer

    def issue(self, state: Any, grant: Grant, refresh: IssuedToken | None) -> Record:
        """A fresh access token for ``grant``, answered with ``refresh``."""
        now = state.now()
        expires_at = now + timedelta(seconds=self.access_seconds(state))
        value = self.new_access_token(state, grant, expires_at)
        access = IssuedToken(value, grant.id, now, expires_at)
        self.store(state).access[value] = access
        return self.answer(state, grant, access, refresh)

    def _new_refresh(self, state: Any, grant: Grant) -> IssuedToken:
        now = state.now()
        days = state.config[self.refresh_days_key] if self.refresh_days_key else None
        expires_at = now + timedelta(days=float(days)) if days is not None else None
        token = IssuedToken(self.new_token("refresh"), grant.id, now, expires_at)
        self.store(state).refresh[token.value] = token
        return token

    # -- revocation --------------------------------------------------------------------------

    def revoke(self) -> flask.Response:
        """End the grant behind a refresh or access token (an unknown token is fine too)."""
        state = self.state_of()
        try:
            if self.revoke_needs_client:
                self._client(state)
        except OAuthRefusal as refusal:
            return self.refuse(refusal)
        body = flask.request.get_json(silent=True)
        value = str((body or {}).get("token") or flask.request.values.get("token", ""))
        with state.lock:
            store = self.store(state)
            grant = store.grant_of(store.refresh.get(value) or store.access.get(value))
            if grant is not None:
                grant.revoked = True
        return self.revoked()

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def store(state: Any) -> OAuthStore:
        oauth: OAuthStore = state.oauth
        return oauth

    @staticmethod
    def access_seconds(state: Any) -> int:
        return int(state.config["access_token_seconds"])


def _expired(token: IssuedToken, now: datetime) -> bool:
    return token.expires_at is not None and token.expires_at <= now


def pkce_ok(code: AuthorizationCode, verifier: str) -> bool:
    """``code_verifier`` against the consent's challenge (RFC 7636), when it sent one."""
    if not code.challenge:
        return True
    if code.challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        verifier = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
    return hmac.compare_digest(verifier, code.challenge)
