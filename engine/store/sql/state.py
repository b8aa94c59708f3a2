"""Trigger cursors, organization variables and the app deliveries seen, on SQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from engine.store.sql.base import SqlBase
from engine.store.sql.schema import delivery_digests as digests
from engine.store.sql.schema import organization_variables as variables
from engine.store.sql.schema import trigger_cursors as cursors


class SqlCursors(SqlBase):
    def get_cursor(self, scenario_id: int, module_id: int) -> Any | None:
        query = select(cursors.c.cursor).where(
            cursors.c.scenario_id == scenario_id, cursors.c.module_id == module_id
        )
        with self._read() as connection:
            return connection.execute(query).scalar_one_or_none()

    def set_cursor(self, scenario_id: int, module_id: int, cursor: Any) -> None:
        if cursor is None:
            raise ValueError("a cursor cannot be None; use clear_cursor to forget it")
        values = {"cursor": cursor, "updated_at": self._now()}
        statement = self._upsert(cursors).values(
            scenario_id=scenario_id, module_id=module_id, **values
        )
        statement = statement.on_conflict_do_update(
            index_elements=[cursors.c.scenario_id, cursors.c.module_id], set_=values
        )
        with self._write() as connection:
            connection.execute(statement)

    def clear_cursor(self, scenario_id: int, module_id: int | None = None) -> int:
        statement = delete(cursors).where(cursors.c.scenario_id == scenario_id)
        if module_id is not None:
            statement = statement.where(cursors.c.module_id == module_id)
        with self._write() as connection:
            return connection.execute(statement).rowcount


class SqlVariables(SqlBase):
    def get_variable(self, name: str) -> Any | None:
        with self._read() as connection:
            return connection.execute(
                select(variables.c.value).where(variables.c.name == name)
            ).scalar_one_or_none()

    def set_variable(self, name: str, value: Any) -> None:
        values = {"value": value, "updated_at": self._now()}
        statement = self._upsert(variables).values(name=name, **values)
        statement = statement.on_conflict_do_update(index_elements=[variables.c.name], set_=values)
        with self._write() as connection:
            connection.execute(statement)

    def delete_variable(self, name: str) -> bool:
        with self._write() as connection:
            return (
                connection.execute(delete(variables).where(variables.c.name == name)).rowcount == 1
            )

    def list_variables(self) -> dict[str, Any]:
        with self._read() as connection:
            rows = connection.execute(select(variables.c.name, variables.c.value))
            return {row.name: row.value for row in rows}


class SqlDeliveryMemory(SqlBase):
    def remember_delivery(
        self, digest: str, window_seconds: float, now: datetime | None = None
    ) -> bool:
        seen_at = self._now(now)
        cutoff = seen_at - timedelta(seconds=window_seconds)
        # Insert, or take over a sighting older than the window; a recent one wins the
        # conflict and nothing comes back. PostgreSQL makes a concurrent twin wait for the
        # first one's transaction, SQLite's write lock does the same.
        statement = (
            self._upsert(digests)
            .values(digest=digest, seen_at=seen_at)
            .on_conflict_do_update(
                index_elements=[digests.c.digest],
                set_={"seen_at": seen_at},
                where=digests.c.seen_at <= cutoff,
            )
            .returning(digests.c.digest)
        )
        with self._write() as connection:
            connection.execute(delete(digests).where(digests.c.seen_at <= cutoff))
            return connection.execute(statement).first() is not None
