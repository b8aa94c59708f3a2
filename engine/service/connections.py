"""Connections: created with their kind's fields, tested and checked against the real account,
and given an app's OAuth grant. Views (the REST API, ``webui.oauth``) call these instead of
reaching into the store."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from engine.connections import StoreConnections
from engine.registry import ModuleRegistry
from engine.service.base import Clock, HttpFactory
from engine.service.errors import InvalidField, InvalidRequest
from engine.spec import AuthType, CheckFinding, ConnectionKind
from engine.store import Connection, Store


class ConnectionOperations:
    """Connections of the installed apps.

    Args:
        http_factory: the session of a connection test or check.
    """

    def __init__(
        self, store: Store, registry: ModuleRegistry, clock: Clock, http_factory: HttpFactory
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.http_factory = http_factory

    def connection_kinds(self) -> Mapping[str, ConnectionKind]:
        """The connection forms of the installed apps, by app id."""
        return self.registry.connection_kinds

    def list_connections(self, *, app: str | None = None) -> list[Connection]:
        return self.store.list_connections(app=app)

    def create_connection(
        self,
        kind_id: str,
        name: str,
        data: Mapping[str, Any],
        secrets: Mapping[str, Any],
    ) -> Connection:
        """Store a connection of an installed kind: its public fields in ``data``, its secret
        ones in ``secrets`` (encrypted at rest); defaults filled in.

        Raises:
            InvalidField: an unknown kind, an unknown field, or a required one missing.
        """
        kind = self.connection_kinds().get(kind_id)
        if kind is None:
            raise InvalidField(f"unknown connection kind '{kind_id}'", "kind")
        public = _fields(kind, data, secret=False)
        hidden = _fields(kind, secrets, secret=True)
        return self.store.create_connection(
            kind.id, kind.auth.value, name, data=public, secrets=hidden
        )

    def delete_connection(self, connection_id: int) -> None:
        self.store.delete_connection(connection_id)

    def test_connection(self, connection_id: int) -> Mapping[str, Any]:
        """Run the app's connection test; what it learnt (organisation, user …).

        Raises:
            NotFound: no such connection. ModuleError: the app refused it (the message says why).
        """
        connection = self.store.get_connection(connection_id)
        with contextlib.closing(self.http_factory()) as session:
            return dict(self.resolver(session).test(connection.id) or {})

    def check_connection(self, connection_id: int) -> list[CheckFinding]:
        """Compare the real account behind a connection with what the app's modules assume,
        using read-only calls (``switchboard connection check``).

        Raises:
            NotFound: no such connection. InvalidConfigurationError: the app has no check.
            ModuleError: the account could not be reached.
        """
        connection = self.store.get_connection(connection_id)
        with contextlib.closing(self.http_factory()) as session:
            return self.resolver(session).check(connection.id)

    def resolver(self, session: Any) -> StoreConnections:
        """Stored connections as a module sees them, on ``session``: secrets decrypted, an
        OAuth 2.0 token refreshed when due (the one way every part reads a connection)."""
        return StoreConnections(self.store, self.registry, self.clock, session)

    def save_grant(
        self,
        kind: ConnectionKind,
        name: str,
        data: Mapping[str, Any],
        secrets: Mapping[str, Any],
        *,
        connection_id: int | None = None,
    ) -> Connection:
        """Store an app's OAuth grant: a new connection, or (reauthorization) connection
        ``connection_id`` given the new grant, its data merged and its secrets replaced.

        Raises:
            NotFound: no such connection. InvalidRequest: it belongs to another app.
        """
        if connection_id is None:
            return self.store.create_connection(
                kind.id, kind.auth.value, name, data=dict(data), secrets=dict(secrets)
            )
        existing = self.store.get_connection(connection_id)
        if existing.app != kind.id:
            raise InvalidRequest(f"connection {existing.id} is not a {kind.label} one")
        updated = self.store.update_connection(existing.id, data={**existing.data, **data})
        return self.store.update_connection_secrets(existing.id, dict(secrets), updated.revision)


def _fields(kind: ConnectionKind, values: Mapping[str, Any], *, secret: bool) -> dict[str, Any]:
    """One side's fields (public or secret) with defaults; refuses unknown or missing ones."""
    where = "secrets" if secret else "data"
    fields = {f.name: f for f in kind.fields if f.secret == secret}
    for name in values:
        if name not in fields:
            raise InvalidField(f"'{name}' is not a {where} field of {kind.id}", f"{where}.{name}")
    result = dict(values)
    for name, field in fields.items():
        if result.get(name) in (None, "") and field.default is not None:
            result[name] = field.default
        missing = result.get(name) in (None, "")
        if field.required and missing and kind.auth is not AuthType.OAUTH2:
            raise InvalidField(f"{field.label} is required", f"{where}.{name}")
    return result
