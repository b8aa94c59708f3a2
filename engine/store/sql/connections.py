"""Connections on SQL: public data in clear, secrets as a Fernet token."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.engine import Connection as SqlConnection

from engine.store.errors import NotFound, StaleRevision
from engine.store.records import UNSET, Connection, _Unset
from engine.store.sql.base import SqlBase, fetch_one, given
from engine.store.sql.schema import connections


class SqlConnections(SqlBase):
    def create_connection(
        self,
        app: str,
        kind: str,
        name: str,
        *,
        data: Mapping[str, Any] | None = None,
        secrets: Mapping[str, Any] | None = None,
    ) -> Connection:
        now = self._now()
        with self._write() as connection:
            connection_id = connection.execute(
                insert(connections).returning(connections.c.id),
                {
                    "app": app,
                    "kind": kind,
                    "name": name,
                    "data": dict(data or {}),
                    "secrets_encrypted": self._box().encrypt_json(secrets or {}),
                    "revision": 1,
                    "created_at": now,
                    "updated_at": now,
                },
            ).scalar_one()
            return self._connection(connection, connection_id)

    def get_connection(self, connection_id: int) -> Connection:
        with self._read() as connection:
            return self._connection(connection, connection_id)

    def list_connections(self, *, app: str | None = None) -> list[Connection]:
        query = select(connections).order_by(connections.c.id)
        if app is not None:
            query = query.where(connections.c.app == app)
        with self._read() as connection:
            return [self._from_row(row) for row in connection.execute(query)]

    def update_connection(
        self,
        connection_id: int,
        *,
        name: str | _Unset = UNSET,
        data: Mapping[str, Any] | _Unset = UNSET,
    ) -> Connection:
        values = given(name=name, data=data if data is UNSET else dict(data))
        with self._write() as connection:
            changed = connection.execute(
                update(connections)
                .where(connections.c.id == connection_id)
                .values(**values, revision=connections.c.revision + 1, updated_at=self._now())
            )
            if changed.rowcount == 0:
                raise NotFound("connection", connection_id)
            return self._connection(connection, connection_id)

    def update_connection_secrets(
        self, connection_id: int, secrets: Mapping[str, Any], expected_revision: int
    ) -> Connection:
        token = self._box().encrypt_json(secrets)
        with self._write() as connection:
            # Compare-and-set in one statement: of two writers holding the same revision, the
            # database lets exactly one match the WHERE clause.
            changed = connection.execute(
                update(connections)
                .where(
                    connections.c.id == connection_id,
                    connections.c.revision == expected_revision,
                )
                .values(
                    secrets_encrypted=token,
                    revision=expected_revision + 1,
                    updated_at=self._now(),
                )
            )
            if changed.rowcount == 1:
                return self._connection(connection, connection_id)
            actual = connection.execute(
                select(connections.c.revision).where(connections.c.id == connection_id)
            ).scalar_one_or_none()
        if actual is None:
            raise NotFound("connection", connection_id)
        raise StaleRevision("connection", connection_id, expected_revision, actual)

    def delete_connection(self, connection_id: int) -> None:
        with self._write() as connection:
            deleted = connection.execute(
                delete(connections).where(connections.c.id == connection_id)
            )
            if deleted.rowcount == 0:
                raise NotFound("connection", connection_id)

    def _connection(self, connection: SqlConnection, connection_id: int) -> Connection:
        row = fetch_one(
            connection,
            select(connections).where(connections.c.id == connection_id),
            "connection",
            connection_id,
        )
        return self._from_row(row)

    def _from_row(self, row: Row[Any]) -> Connection:
        return Connection(
            id=row.id,
            app=row.app,
            kind=row.kind,
            name=row.name,
            data=row.data,
            secrets=self._box().decrypt_secrets(row.secrets_encrypted),
            revision=row.revision,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
