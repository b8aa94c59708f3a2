"""Resolving stored connections for runs: public data, secrets, and fresh OAuth2 access tokens.

``StoreConnections(store, registry, clock, session)`` is what a run's ``RunContext.connections``
should be: ``get(connection_id)`` reads the connection from the store, looks up its app's
``ConnectionKind`` in the registry (the engine never imports ``modules/``), and for OAuth2
connections returns an access token that is valid for at least ``refresh_margin`` more.

One refresh at a time. Providers such as Xero rotate the refresh token on every use, so two
workers refreshing with the same token can lose the grant. Two guards keep refreshes single:

1. an in-process lock per connection (``PROCESS_LOCKS``, shared by every resolver of the
   process), so threads of one worker never refresh the same connection together;
2. the store's compare-and-set (``update_connection_secrets(expected_revision=…)``) across
   processes: the worker whose write is stale re-reads the connection and uses the token the
   winner stored. A loser whose own refresh was refused (``invalid_grant``: the winner used the
   token first) waits a few seconds for the winner's token to reach the store and uses it.

Errors are ``engine.errors`` module errors, so a run shows them like any API failure::

    InvalidConfigurationError   no such connection, or its app has no connection kind
    AccountValidationError      the provider refused the refresh or the code: re-authorize
    ConnectionError             the token endpoint could not be reached or answered 5xx

Secrets never appear in messages, logs or ``repr``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from engine.errors import (
    AccountValidationError,
    ConnectionError,
    InvalidConfigurationError,
)
from engine.spec import AuthType, CheckFinding, ConnectionKind
from engine.store.errors import NotFound, StaleRevision
from engine.store.records import Connection

log = logging.getLogger("switchboard.connections")

TOKEN_TIMEOUT_SECONDS = 30.0
DEFAULT_REFRESH_MARGIN = timedelta(minutes=1)
DEFAULT_WINNER_WAIT_SECONDS = 5.0
WINNER_POLL_SECONDS = 0.05


@dataclass(frozen=True, eq=False)
class ResolvedConnection(Mapping[str, Any]):
    """A connection ready for a module: public data, secrets and (OAuth2) a fresh token.

    As a mapping it reads like a keychain: public fields first, secrets over them (so the
    generic HTTP modules can read ``username``/``password`` or ``key``). ``repr`` shows no
    secret.

    Attributes:
        id, app, name, revision: as stored.
        auth: the stored kind (``oauth2``, ``basic`` …).
        data: public JSON (base URLs, tenant id …).
        secrets: decrypted secrets (tokens, passwords).
    """

    id: int
    app: str
    auth: str
    name: str
    data: Mapping[str, Any]
    secrets: Mapping[str, Any] = field(repr=False)
    revision: int

    @property
    def access_token(self) -> str | None:
        """The OAuth2 access token (valid for at least the resolver's margin when resolved)."""
        token = self.secrets.get("access_token")
        return str(token) if token else None

    def __getitem__(self, key: str) -> Any:
        if key in self.secrets:
            return self.secrets[key]
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter({**self.data, **self.secrets})

    def __len__(self) -> int:
        return len({**self.data, **self.secrets})

    @classmethod
    def from_stored(cls, stored: Connection) -> ResolvedConnection:
        return cls(
            id=stored.id,
            app=stored.app,
            auth=stored.kind,
            name=stored.name,
            data=dict(stored.data),
            secrets=dict(stored.secrets or {}),
            revision=stored.revision,
        )


class KeyedLocks:
    """One ``threading.Lock`` per key, created on first use."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Any, threading.Lock] = {}

    def __call__(self, key: Any) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


PROCESS_LOCKS = KeyedLocks()
"""Refresh locks shared by every resolver in this process (the service may build one per run)."""


class StoreConnections:
    """``RunContext.connections`` backed by the store and the registry's connection kinds.

    Args:
        store: any ``ConnectionStore`` (the SQL store encrypts secrets at rest).
        registry: a ``ModuleRegistry`` (its ``connection_kinds``) or a mapping app id → kind.
        clock: aware "now"; token expiry is judged by it.
        session: a ``requests.Session``-like object for the token endpoint and tests.
        refresh_margin: refresh when the token expires within this.
        locks: the in-process refresh locks (``PROCESS_LOCKS`` unless a test isolates them).
        winner_wait: when the provider refuses our refresh token, how long to wait for another
            process's fresh token to appear in the store before asking for reauthorization.
        sleep, monotonic: for that wait (injected by tests).

    Connections of apps without a registered kind (the HTTP modules' keychains) resolve to
    their stored fields, never refreshed.
    """

    def __init__(
        self,
        store: Any,
        registry: Any,
        clock: Callable[[], datetime],
        session: Any,
        *,
        refresh_margin: timedelta = DEFAULT_REFRESH_MARGIN,
        locks: KeyedLocks = PROCESS_LOCKS,
        winner_wait: float = DEFAULT_WINNER_WAIT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._kinds: Mapping[str, ConnectionKind] = getattr(registry, "connection_kinds", registry)
        self._clock = clock
        self._session = session
        self._margin = refresh_margin
        self._locks = locks
        self._winner_wait = winner_wait
        self._sleep = sleep
        self._monotonic = monotonic

    def get(self, connection_id: Any) -> ResolvedConnection:
        """The connection ``connection_id`` names, with a fresh access token for OAuth2.

        Raises:
            InvalidConfigurationError: no connection has that id.
            AccountValidationError: the provider refused to refresh the token.
            ConnectionError: the token endpoint could not be reached.
        """
        stored = self._read(connection_id)
        kind = self._kinds.get(stored.app)
        if kind is None or kind.auth is not AuthType.OAUTH2 or not self._expiring(stored):
            return ResolvedConnection.from_stored(stored)
        return ResolvedConnection.from_stored(self._refreshed(stored, kind))

    def test(self, connection_id: Any) -> Mapping[str, Any]:
        """Run the app's "Test connection" call; returns what it reports (account name …).

        Raises:
            InvalidConfigurationError: unknown connection, or its app declares no test.
            ModuleError: the test failed (``AccountValidationError`` for refused credentials).
        """
        connection = self.get(connection_id)
        kind = self._kinds.get(connection.app)
        if kind is None or kind.test is None:
            raise InvalidConfigurationError(f"connections of app '{connection.app}' have no test")
        return kind.test(connection, self._session)

    def check(self, connection_id: Any) -> list[CheckFinding]:
        """Run the app's read-only account check; its findings, in the app's order.

        Raises:
            InvalidConfigurationError: unknown connection, or its app declares no check.
            ModuleError: the account could not be reached (the message says why).
        """
        connection = self.get(connection_id)
        kind = self._kinds.get(connection.app)
        if kind is None or kind.check is None:
            raise InvalidConfigurationError(f"connections of app '{connection.app}' have no check")
        return list(kind.check(connection, self._session))

    def refresh(self, connection_id: Any) -> ResolvedConnection:
        """Refresh now, whatever the expiry (the UI's "reauthorize silently"); same locking."""
        stored = self._read(connection_id)
        kind = self._oauth_kind(stored)
        return ResolvedConnection.from_stored(self._refreshed(stored, kind, force=True))

    # -- internals ----------------------------------------------------------------------------

    def _read(self, connection_id: Any) -> Connection:
        try:
            return self._store.get_connection(int(connection_id))
        except (TypeError, ValueError):
            raise InvalidConfigurationError(
                f"'{connection_id}' is not a connection id; choose a connection"
            ) from None
        except NotFound:
            raise InvalidConfigurationError(f"connection {connection_id} does not exist") from None

    def _oauth_kind(self, stored: Connection) -> ConnectionKind:
        kind = self._kinds.get(stored.app)
        if kind is None or kind.oauth2 is None:
            raise InvalidConfigurationError(f"connection {stored.id} does not use OAuth2")
        return kind

    def _expiring(self, stored: Connection) -> bool:
        secrets: Mapping[str, Any] = stored.secrets or {}
        expires_at = _parse_time(secrets.get("expires_at"))
        if not secrets.get("access_token") or expires_at is None:
            return True
        return expires_at <= self._clock() + self._margin

    def _refreshed(
        self, stored: Connection, kind: ConnectionKind, force: bool = False
    ) -> Connection:
        with self._locks(stored.id):
            current = self._read(stored.id)  # another thread may have refreshed while we waited
            if current.revision != stored.revision and not self._expiring(current):
                return current
            if not force and not self._expiring(current):
                return current
            try:
                answer = refresh_access_token(kind, current, self._session)
            except AccountValidationError:
                # Another process may have used this refresh token a moment ago: its token
                # answer is on the way to the store. Wait for it before giving up.
                return self._winner_or_raise(current, wait=self._winner_wait)
            secrets = token_secrets(current.secrets or {}, answer, self._clock())
            try:
                updated = self._store.update_connection_secrets(
                    current.id, secrets, expected_revision=current.revision
                )
            except StaleRevision:
                # Another process refreshed and stored first; its token is the one to use.
                return self._winner_or_raise(current)
            log.info("refreshed the access token of connection %s", current.id)
            return updated

    def _winner_or_raise(self, refused: Connection, wait: float = 0.0) -> Connection:
        deadline = self._monotonic() + wait
        while True:
            latest = self._read(refused.id)
            if latest.revision != refused.revision and not self._expiring(latest):
                return latest
            if self._monotonic() >= deadline:
                break
            self._sleep(WINNER_POLL_SECONDS)
        raise AccountValidationError(
            f"the {refused.app} connection '{refused.name}' could not be refreshed; reauthorize it"
        )


# -- the OAuth2 authorization code grant --------------------------------------------------------


def authorization_url(
    kind: ConnectionKind, data: Mapping[str, Any], *, redirect_uri: str, state: str
) -> str:
    """Where to send the user's browser to consent (``data`` carries ``client_id``)."""
    settings = _settings(kind)
    authorize, _ = settings.endpoints(data)
    query = {
        "response_type": "code",
        "client_id": str(data.get("client_id", "")),
        "redirect_uri": redirect_uri,
        "scope": " ".join(settings.requested_scopes(data)),
        "state": state,
        **settings.extra_authorize_params,
    }
    separator = "&" if "?" in authorize else "?"
    return f"{authorize}{separator}{urlencode(query)}"


def exchange_code(
    kind: ConnectionKind,
    data: Mapping[str, Any],
    client_secret: str,
    *,
    code: str,
    redirect_uri: str,
    session: Any,
    now: datetime,
) -> dict[str, Any]:
    """Trade an authorization code for tokens; returns the secrets to store.

    Raises:
        AccountValidationError: the code or the client was refused.
        ConnectionError: the token endpoint could not be reached.
    """
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    answer = post_token_request(kind, data, client_secret, form, session)
    public = {k: answer[k] for k in _settings(kind).token_data_keys if answer.get(k)}
    return {**token_secrets({"client_secret": client_secret}, answer, now), **public}


def token_public_data(kind: ConnectionKind, secrets: dict[str, Any]) -> dict[str, Any]:
    """Move the token answer's public keys (``OAuth2Settings.token_data_keys``) out of
    ``secrets`` (as ``exchange_code`` returned them) into the connection's data."""
    return {key: secrets.pop(key) for key in _settings(kind).token_data_keys if key in secrets}


def refresh_access_token(kind: ConnectionKind, stored: Connection, session: Any) -> dict[str, Any]:
    """Use the stored refresh token once; returns the provider's token answer."""
    secrets: Mapping[str, Any] = stored.secrets or {}
    refresh_token = secrets.get("refresh_token")
    if not refresh_token:
        raise AccountValidationError(
            f"the {stored.app} connection '{stored.name}' has no refresh token; reauthorize it"
        )
    form = {"grant_type": "refresh_token", "refresh_token": str(refresh_token)}
    return post_token_request(
        kind, stored.data, str(secrets.get("client_secret", "")), form, session
    )


def post_token_request(
    kind: ConnectionKind,
    data: Mapping[str, Any],
    client_secret: str,
    form: Mapping[str, str],
    session: Any,
) -> dict[str, Any]:
    """POST ``form`` to the token endpoint, the client sent as ``OAuth2Settings.client_auth``.

    Raises:
        AccountValidationError: 4xx (``invalid_grant``, ``invalid_client`` …), named only.
        ConnectionError: unreachable, timed out, 5xx, or not a token answer.
    """
    settings = _settings(kind)
    _, token_url = settings.endpoints(data)
    client = (str(data.get("client_id", "")), client_secret)
    body = dict(form)
    basic: tuple[str, str] | None = client
    if settings.client_auth == "form":
        body.update(client_id=client[0], client_secret=client[1])
        basic = None
    try:
        with session.post(
            token_url,
            data=body,
            auth=basic,
            headers={"Accept": "application/json"},
            timeout=TOKEN_TIMEOUT_SECONDS,
        ) as response:
            return _token_answer(kind, response)
    except OSError as error:  # requests' exceptions are OSErrors; the engine imports no requests
        raise ConnectionError(
            f"{kind.label} token endpoint unreachable: {type(error).__name__}"
        ) from None


def _token_answer(kind: ConnectionKind, response: Any) -> dict[str, Any]:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    refused = isinstance(body, dict) and body.get("error") and not body.get("access_token")
    if 400 <= status < 500 or (status < 300 and refused):  # Zoho refuses with HTTP 200
        reason = body.get("error", f"HTTP {status}") if isinstance(body, dict) else status
        raise AccountValidationError(f"{kind.label} refused the token request: {reason}")
    if status >= 300 or not isinstance(body, dict) or not body.get("access_token"):
        raise ConnectionError(f"{kind.label} token endpoint answered HTTP {status}")
    return body


def token_secrets(
    current: Mapping[str, Any], answer: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """The secrets after a token answer: new tokens in, a refresh token kept if none came."""
    expires_in = float(answer.get("expires_in") or 1800)
    return {
        **current,
        "access_token": answer["access_token"],
        "refresh_token": answer.get("refresh_token") or current.get("refresh_token"),
        "expires_at": (now + timedelta(seconds=expires_in)).isoformat(),
        "token_type": answer.get("token_type", "Bearer"),
        "scope": answer.get("scope", current.get("scope", "")),
    }


def resolved_from_values(
    kind: ConnectionKind, data: Mapping[str, Any], secrets: Mapping[str, Any]
) -> ResolvedConnection:
    """An unsaved connection (for "Test connection" before saving, and in tests)."""
    return ResolvedConnection(
        id=0,
        app=kind.id,
        auth=kind.auth.value,
        name="",
        data=dict(data),
        secrets=dict(secrets),
        revision=0,
    )


def with_secrets(connection: ResolvedConnection, secrets: Mapping[str, Any]) -> ResolvedConnection:
    """``connection`` with other secrets (e.g. a token just obtained), unsaved."""
    return replace(connection, secrets=dict(secrets))


def _settings(kind: ConnectionKind) -> Any:
    if kind.oauth2 is None:
        raise InvalidConfigurationError(f"{kind.label} connections do not use OAuth2")
    return kind.oauth2


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # naive means UTC


__all__ = [
    "PROCESS_LOCKS",
    "KeyedLocks",
    "ResolvedConnection",
    "StoreConnections",
    "authorization_url",
    "exchange_code",
    "post_token_request",
    "refresh_access_token",
    "resolved_from_values",
    "token_secrets",
    "with_secrets",
]
