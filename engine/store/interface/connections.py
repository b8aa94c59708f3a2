"""Connections: an account on an app, with secrets encrypted at rest."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from engine.store.records import UNSET, Connection, _Unset


class ConnectionStore(ABC):
    """Connections. Secrets are encrypted with the store's ``SecretBox`` before they reach the
    database and decrypted on read; without a box, reading or writing secrets raises
    ``SecretKeyError``."""

    @abstractmethod
    def create_connection(
        self,
        app: str,
        kind: str,
        name: str,
        *,
        data: Mapping[str, Any] | None = None,
        secrets: Mapping[str, Any] | None = None,
    ) -> Connection:
        """Create a connection at ``revision == 1``.

        Args:
            app: the app it belongs to (``xero``, ``quickbooks`` …).
            kind: how it authenticates (``oauth2``, ``api-key``, ``basic`` …).
            name: shown in the UI.
            data: public JSON (account name, tenant id, scopes …), stored in clear.
            secrets: tokens, passwords, keys: stored encrypted.
        """

    @abstractmethod
    def get_connection(self, connection_id: int) -> Connection:
        """The connection with its secrets decrypted. Raises ``NotFound``,
        ``SecretDecryptionError`` when the key changed."""

    @abstractmethod
    def list_connections(self, *, app: str | None = None) -> list[Connection]:
        """All connections (of one app when given), by id, secrets decrypted."""

    @abstractmethod
    def update_connection(
        self,
        connection_id: int,
        *,
        name: str | _Unset = UNSET,
        data: Mapping[str, Any] | _Unset = UNSET,
    ) -> Connection:
        """Change the name and/or public data; bumps ``revision``. Raises ``NotFound``."""

    @abstractmethod
    def update_connection_secrets(
        self, connection_id: int, secrets: Mapping[str, Any], expected_revision: int
    ) -> Connection:
        """Replace the secrets if the stored revision is still ``expected_revision``.

        This is compare-and-set: when two workers refresh an OAuth token at once, exactly one
        write succeeds; the other gets ``StaleRevision`` and should re-read the connection
        (whose fresh token the winner just stored) instead of refreshing again.

        Returns:
            The updated connection, at ``expected_revision + 1``.

        Raises:
            StaleRevision: someone else changed the connection since it was read.
            NotFound: no such connection.
        """

    @abstractmethod
    def delete_connection(self, connection_id: int) -> None:
        """Delete the connection. Raises ``NotFound``."""
