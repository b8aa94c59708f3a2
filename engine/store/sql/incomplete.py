"""Incomplete executions on SQL."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from engine.store.errors import InvalidTransition, NotFound
from engine.store.records import UNSET, IncompleteExecution, _Unset
from engine.store.sql.base import SqlBase, fetch_one, given
from engine.store.sql.schema import incomplete_executions as incomplete
from engine.store.statuses import INCOMPLETE_TRANSITIONS, IncompleteStatus, sources

PENDING = IncompleteStatus.PENDING.value
RETRYING = IncompleteStatus.RETRYING.value
RESOLVED = IncompleteStatus.RESOLVED.value
KIND = "incomplete execution"


def incomplete_from_row(row: Row[Any]) -> IncompleteExecution:
    return IncompleteExecution(
        id=row.id,
        scenario_id=row.scenario_id,
        execution_id=row.execution_id,
        blueprint_version=row.blueprint_version,
        failed_module_id=row.failed_module_id,
        state=row.state,
        error=row.error,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        next_retry_at=row.next_retry_at,
        status=IncompleteStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlIncompleteExecutions(SqlBase):
    def create_incomplete(
        self,
        scenario_id: int,
        blueprint_version: int,
        state: Any,
        error: Mapping[str, Any],
        *,
        execution_id: str | None = None,
        failed_module_id: int | None = None,
        max_attempts: int = 0,
        next_retry_at: datetime | None = None,
    ) -> IncompleteExecution:
        now = self._now()
        with self._write() as connection:
            incomplete_id = connection.execute(
                insert(incomplete).returning(incomplete.c.id),
                {
                    "scenario_id": scenario_id,
                    "execution_id": execution_id,
                    "blueprint_version": blueprint_version,
                    "failed_module_id": failed_module_id,
                    "state": state,
                    "error": dict(error),
                    "attempts": 0,
                    "max_attempts": max_attempts,
                    "next_retry_at": next_retry_at,
                    "status": PENDING,
                    "created_at": now,
                    "updated_at": now,
                },
            ).scalar_one()
            return self._incomplete(connection, incomplete_id)

    def get_incomplete(self, incomplete_id: int) -> IncompleteExecution:
        with self._read() as connection:
            return self._incomplete(connection, incomplete_id)

    def list_incomplete(
        self,
        *,
        scenario_id: int | None = None,
        status: IncompleteStatus | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[IncompleteExecution]:
        query = select(incomplete).order_by(incomplete.c.id).limit(limit).offset(offset)
        if scenario_id is not None:
            query = query.where(incomplete.c.scenario_id == scenario_id)
        if status is not None:
            query = query.where(incomplete.c.status == IncompleteStatus(status).value)
        with self._read() as connection:
            return [incomplete_from_row(row) for row in connection.execute(query)]

    def count_unresolved(self, scenario_id: int) -> int:
        query = select(func.count()).where(
            incomplete.c.scenario_id == scenario_id, incomplete.c.status != RESOLVED
        )
        with self._read() as connection:
            return connection.execute(query).scalar_one()

    def update_incomplete(
        self,
        incomplete_id: int,
        *,
        state: Any | _Unset = UNSET,
        blueprint_version: int | _Unset = UNSET,
        next_retry_at: datetime | _Unset | None = UNSET,
        max_attempts: int | _Unset = UNSET,
        failed_module_id: int | _Unset | None = UNSET,
    ) -> IncompleteExecution:
        values = given(
            state=state,
            blueprint_version=blueprint_version,
            next_retry_at=next_retry_at,
            max_attempts=max_attempts,
            failed_module_id=failed_module_id,
        )
        # An edit is not a move: allowed while unresolved, and the status stays.
        return self._move(incomplete_id, None, values)

    def start_retry(self, incomplete_id: int, now: datetime | None = None) -> bool:
        with self._write() as connection:
            started = connection.execute(
                update(incomplete)
                .where(
                    incomplete.c.id == incomplete_id,
                    incomplete.c.status.in_(
                        sources(INCOMPLETE_TRANSITIONS, IncompleteStatus.RETRYING)
                    ),
                )
                .values(
                    status=RETRYING,
                    attempts=incomplete.c.attempts + 1,
                    updated_at=self._now(now),
                )
            )
            if started.rowcount == 1:
                return True
            self._incomplete(connection, incomplete_id)  # NotFound for an unknown id
            return False

    def retry_failed(
        self,
        incomplete_id: int,
        error: Mapping[str, Any],
        next_retry_at: datetime | None,
        *,
        state: Any | _Unset = UNSET,
        failed_module_id: int | _Unset | None = UNSET,
        max_attempts: int | _Unset = UNSET,
    ) -> IncompleteExecution:
        values = {
            "error": dict(error),
            "next_retry_at": next_retry_at,
            **given(state=state, failed_module_id=failed_module_id, max_attempts=max_attempts),
        }
        return self._move(incomplete_id, IncompleteStatus.PENDING, values)

    def resolve_incomplete(self, incomplete_id: int) -> IncompleteExecution:
        return self._move(incomplete_id, IncompleteStatus.RESOLVED, {})

    def delete_incomplete(self, incomplete_id: int) -> None:
        with self._write() as connection:
            deleted = connection.execute(delete(incomplete).where(incomplete.c.id == incomplete_id))
            if deleted.rowcount == 0:
                raise NotFound(KIND, incomplete_id)

    def due_for_retry(
        self, now: datetime | None = None, limit: int = 100
    ) -> list[IncompleteExecution]:
        query = (
            select(incomplete)
            .where(
                incomplete.c.status == PENDING,
                incomplete.c.next_retry_at <= self._now(now),
                incomplete.c.attempts < incomplete.c.max_attempts,
            )
            .order_by(incomplete.c.next_retry_at, incomplete.c.id)
            .limit(limit)
        )
        with self._read() as connection:
            return [incomplete_from_row(row) for row in connection.execute(query)]

    def _move(
        self, incomplete_id: int, wanted: IncompleteStatus | None, values: dict[str, Any]
    ) -> IncompleteExecution:
        """Set ``values`` (and status ``wanted``) if the transition table allows the move from
        the current status (``None``: any unresolved status), as one conditional statement;
        otherwise ``InvalidTransition``."""
        allowed_from: tuple[str, ...] = (PENDING, RETRYING)
        if wanted is not None:
            allowed_from = sources(INCOMPLETE_TRANSITIONS, wanted)
            values = {**values, "status": wanted.value}
        with self._write() as connection:
            changed = connection.execute(
                update(incomplete)
                .where(incomplete.c.id == incomplete_id, incomplete.c.status.in_(allowed_from))
                .values(**values, updated_at=self._now())
            )
            current = self._incomplete(connection, incomplete_id)
        if changed.rowcount == 0:
            target = wanted.value if wanted is not None else "edited"
            raise InvalidTransition(KIND, incomplete_id, current.status.value, target)
        return current

    def _incomplete(self, connection: Connection, incomplete_id: int) -> IncompleteExecution:
        row = fetch_one(
            connection,
            select(incomplete).where(incomplete.c.id == incomplete_id),
            KIND,
            incomplete_id,
        )
        return incomplete_from_row(row)
