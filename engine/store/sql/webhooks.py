"""Webhooks and the webhook queue on SQL."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Integer, Text, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement, Select

from engine.jsonvalues import dump_compact, load_trusted
from engine.store.errors import InvalidTransition, NotFound, QueueFull
from engine.store.records import (
    UNSET,
    Execution,
    FinishedRun,
    QueueItem,
    Scenario,
    TriggerKind,
    Webhook,
    _Unset,
)
from engine.store.sql.base import SqlBase, changes_routes, fetch_one, given
from engine.store.sql.executions import INSERT_EXECUTION, ended_execution, new_execution
from engine.store.sql.schema import (
    execution_records,
    executions,
    scenarios,
    webhook_queue,
    webhooks,
)
from engine.store.statuses import QUEUE_TRANSITIONS, ExecutionStatus, QueueItemStatus, sources

QUEUED = QueueItemStatus.QUEUED.value
CLAIMED = QueueItemStatus.CLAIMED.value
DONE = QueueItemStatus.DONE.value
# A claim loses a race only if another transaction took the row between our SELECT and UPDATE,
# which the locking below rules out; the loop is a guard, not the mechanism.
_CLAIM_ATTEMPTS = 5


def webhook_from_row(row: Any) -> Webhook:
    return Webhook(
        id=row.id,
        token=row.token,
        name=row.name,
        scenario_id=row.scenario_id,
        settings=row.settings,
        enabled=row.enabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def item_from_row(row: Any) -> QueueItem:
    """A queue item from a row (or anything with its columns as attributes)."""
    return QueueItem(
        id=row.id,
        webhook_id=row.webhook_id,
        received_at=row.received_at,
        request=row.request,
        size_bytes=row.size_bytes,
        status=QueueItemStatus(row.status),
        worker_id=row.worker_id,
        claimed_at=row.claimed_at,
        lease_expires_at=row.lease_expires_at,
        attempts=row.attempts,
        execution_id=row.execution_id,
        finished_at=row.finished_at,
        error=row.error,
    )


class SqlWebhooks(SqlBase):
    @changes_routes
    def create_webhook(
        self,
        name: str,
        *,
        scenario_id: int | None = None,
        settings: Mapping[str, Any] | None = None,
        enabled: bool = True,
    ) -> Webhook:
        now = self._now()
        with self._write() as connection:
            webhook_id = connection.execute(
                insert(webhooks).returning(webhooks.c.id),
                {
                    "token": secrets.token_urlsafe(32),
                    "name": name,
                    "scenario_id": scenario_id,
                    "settings": dict(settings or {}),
                    "enabled": enabled,
                    "created_at": now,
                    "updated_at": now,
                },
            ).scalar_one()
            return self._webhook(connection, webhook_id)

    def get_webhook(self, webhook_id: int) -> Webhook:
        with self._read() as connection:
            return self._webhook(connection, webhook_id)

    def get_webhook_route(self, webhook_id: int) -> tuple[Webhook, Scenario | None]:
        # A prepared statement on the driver's cursor: the Celery worker reads it per request.
        with self._raw_read() as cursor:
            route = self._prepared.get("route", lambda: _ROUTE)
            found = route.fetch(route.run(cursor, {"webhook_id": webhook_id}))
        if found is None:
            raise NotFound("webhook", webhook_id)
        row = SimpleNamespace(**found)
        if row.s_id is None:
            return webhook_from_row(row), None
        scenario = Scenario(**{name: getattr(row, f"s_{name}") for name in _SCENARIO_FIELDS})
        return webhook_from_row(row), scenario

    def find_webhook_by_token(self, token: str) -> Webhook | None:
        with self._read() as connection:
            row = connection.execute(select(webhooks).where(webhooks.c.token == token)).first()
        return None if row is None else webhook_from_row(row)

    def list_webhooks(self, *, scenario_id: int | None = None) -> list[Webhook]:
        query = select(webhooks).order_by(webhooks.c.id)
        if scenario_id is not None:
            query = query.where(webhooks.c.scenario_id == scenario_id)
        with self._read() as connection:
            return [webhook_from_row(row) for row in connection.execute(query)]

    @changes_routes
    def update_webhook(
        self,
        webhook_id: int,
        *,
        name: str | _Unset = UNSET,
        scenario_id: int | _Unset | None = UNSET,
        settings: Mapping[str, Any] | _Unset = UNSET,
        enabled: bool | _Unset = UNSET,
    ) -> Webhook:
        values = given(
            name=name,
            scenario_id=scenario_id,
            settings=settings if settings is UNSET else dict(settings),
            enabled=enabled,
        )
        with self._write() as connection:
            changed = connection.execute(
                update(webhooks)
                .where(webhooks.c.id == webhook_id)
                .values(**values, updated_at=self._now())
            )
            if changed.rowcount == 0:
                raise NotFound("webhook", webhook_id)
            return self._webhook(connection, webhook_id)

    @changes_routes
    def delete_webhook(self, webhook_id: int) -> None:
        with self._write() as connection:
            deleted = connection.execute(delete(webhooks).where(webhooks.c.id == webhook_id))
            if deleted.rowcount == 0:
                raise NotFound("webhook", webhook_id)

    def _webhook(self, connection: Connection, webhook_id: int) -> Webhook:
        row = fetch_one(
            connection, select(webhooks).where(webhooks.c.id == webhook_id), "webhook", webhook_id
        )
        return webhook_from_row(row)


class SqlWebhookQueue(SqlBase):
    def enqueue(
        self,
        webhook_id: int,
        request: Mapping[str, Any],
        *,
        received_at: datetime | None = None,
        max_queued: int | None = None,
    ) -> QueueItem:
        """Store a received request, queued: two statements on the driver's cursor (the
        webhook hot path of a Celery deployment), a third only to tell a missing webhook from
        a full queue. The count and the INSERT are one statement; on PostgreSQL the webhook's
        row lock comes first (in its own statement: only a statement begun after the lock
        was granted sees what the previous holder inserted), which serialises the enqueues
        of one webhook so the limit cannot be raced; SQLite's ``BEGIN IMMEDIATE`` already
        does."""
        received = self._now(received_at)
        encoded = dump_compact(dict(request))  # its length is the stored size
        values: dict[str, Any] = {
            "webhook_id": webhook_id,
            "received_at": received,
            "request": encoded.decode("utf-8"),
            "size_bytes": len(encoded),
            "status": QUEUED,
            "attempts": 0,
            "max_queued": max_queued,
        }
        limited = max_queued is not None
        with self._raw_write() as cursor:
            if limited and self.dialect == "postgresql":
                lock = self._prepared.get("lock_webhook", lambda: _LOCK_WEBHOOK)
                if lock.run(cursor, values).fetchone() is None:
                    raise NotFound("webhook", webhook_id)
            name = "enqueue_within" if limited else "enqueue_any"
            store = self._prepared.get(name, lambda: _enqueue_if(limited=limited))
            stored = store.run(cursor, values).fetchone()
            if stored is None:
                exists = self._prepared.get("webhook_exists", lambda: _WEBHOOK_EXISTS)
                if exists.run(cursor, values).fetchone() is None:
                    raise NotFound("webhook", webhook_id)
                raise QueueFull(webhook_id, max_queued or 0)
        return QueueItem(
            id=stored[0],
            webhook_id=webhook_id,
            received_at=received.astimezone(UTC),  # as the column reads it back
            request=load_trusted(encoded),  # as stored: a copy of its own
            size_bytes=len(encoded),
            status=QueueItemStatus.QUEUED,
            worker_id=None,
            claimed_at=None,
            lease_expires_at=None,
            attempts=0,
            execution_id=None,
            finished_at=None,
            error=None,
        )

    def enqueue_with_execution(
        self,
        webhook_id: int,
        request: Mapping[str, Any],
        *,
        scenario_id: int,
        scenario_version: int,
        execution_id: str,
        worker_id: str | None = None,
        received_at: datetime | None = None,
        finished: FinishedRun | None = None,
    ) -> tuple[QueueItem, Execution] | None:
        if finished is not None and worker_id is None:
            raise ValueError("a finished execution is stored with the worker that ran it")
        if finished is not None and not ExecutionStatus(finished.status).is_terminal:
            raise ValueError(f"{finished.status} does not end a run")
        received = self._now(received_at)
        # Encoded once: its length is the stored size (``json_size`` would encode it again).
        encoded = dump_compact(dict(request))
        values = {
            "webhook_id": webhook_id,
            "received_at": received,
            "request": encoded.decode("utf-8"),
            "size_bytes": len(encoded),
            "status": DONE,
            "attempts": 1,
            "execution_id": execution_id,
            "finished_at": received,
        }

        # Prepared statements on the driver's cursor (the webhook hot path; ``prepared``).
        def store(cursor: Any) -> tuple[int, Execution] | None:
            route_state = self._prepared.get("route_state", lambda: _ROUTE_STATE)
            store_request = self._prepared.get("store_request", _store_request, list(values))
            route = route_state.run(cursor, {"webhook_id": webhook_id}).fetchone()
            if route is None or (route[0], bool(route[1]), route[2]) != (
                scenario_id,
                True,
                scenario_version,
            ):
                return None
            item_id = store_request.run(cursor, values).fetchone()[0]
            execution, row = new_execution(
                execution_id,
                scenario_id,
                scenario_version,
                TriggerKind.WEBHOOK,
                str(item_id),
                received,
                worker_id,
            )
            if finished is None:
                insert_execution = self._prepared.get(
                    "insert_execution", lambda: INSERT_EXECUTION, list(row)
                )
                insert_execution.run(cursor, row)
                return item_id, execution
            # Run before anything was stored: the execution goes in as its run ended, with
            # its record, in this same commit.
            execution, row = ended_execution(execution, row, finished)
            insert_ended = self._prepared.get(
                "insert_ended_execution", lambda: INSERT_EXECUTION, list(row)
            )
            insert_ended.run(cursor, row)
            if finished.record is not None:
                insert_record = self._prepared.get(
                    "insert_record", lambda: insert(execution_records), ["execution_id", "record"]
                )
                insert_record.run(cursor, {"execution_id": execution_id, "record": finished.record})
            return item_id, execution

        # One transaction, on SQLite perhaps shared with other requests' (group commit);
        # returned only once committed.
        stored = self._grouped_write(store)
        if stored is None:
            return None
        item_id, execution = stored
        item = QueueItem(
            id=item_id,
            webhook_id=webhook_id,
            received_at=received.astimezone(UTC),  # as the column reads it back
            request=load_trusted(encoded),  # as stored: a copy of its own
            size_bytes=len(encoded),
            status=QueueItemStatus.DONE,
            worker_id=None,
            claimed_at=None,
            lease_expires_at=None,
            attempts=1,
            execution_id=execution_id,
            finished_at=received.astimezone(UTC),
            error=None,
        )
        return item, execution

    def take_next_with_execution(
        self,
        webhook_id: int,
        *,
        scenario_id: int,
        scenario_version: int,
        execution_id: Callable[[int], str],
        worker_id: str,
        now: datetime | None = None,
    ) -> tuple[QueueItem, Execution | None] | None:
        now = self._now(now)
        # Prepared statements on the driver's cursor (the Celery worker's hot path); inside
        # ``transaction()`` (the worker reads the route first) on that block's connection.
        with self._raw_write() as cursor:
            oldest = self._prepared.get("oldest_of_webhook", self._oldest_of_webhook)
            take = self._prepared.get("take", lambda: _TAKE)
            for _ in range(_CLAIM_ATTEMPTS):
                found = oldest.run(cursor, {"webhook_id": webhook_id}).fetchone()
                if found is None:
                    return None
                made_id = execution_id(found[0])
                values = {"item_id": found[0], "worker_id": worker_id, "now": now, "made": made_id}
                taken = take.fetch(take.run(cursor, values))
                if taken is not None:
                    break
            else:
                return None
            item = item_from_row(SimpleNamespace(**taken))
            execution, row = new_execution(
                made_id,
                scenario_id,
                scenario_version,
                TriggerKind.WEBHOOK,
                str(item.id),
                now,
                worker_id,
            )
            # Created when the request arrived, as ``create_execution(created_at=…)`` made it.
            execution = replace(execution, created_at=item.received_at.astimezone(UTC))
            row["created_at"] = item.received_at
            store_execution = self._prepared.get(
                "insert_new_execution", self._insert_new_execution, list(row)
            )
            inserted = store_execution.run(cursor, row).fetchone()
            return item, execution if inserted is not None else None

    def _oldest_of_webhook(self) -> Any:
        """``_oldest_queued`` of one webhook, built once (its id a bind parameter)."""
        statement = _OLDEST_OF_WEBHOOK.get(self.dialect)
        if statement is None:
            statement = self._oldest_queued(bindparam("webhook_id"), None)
            _OLDEST_OF_WEBHOOK[self.dialect] = statement
        return statement

    def _insert_new_execution(self) -> Any:
        """``INSERT_EXECUTION`` that leaves an existing execution of that id alone."""
        statement = _INSERT_NEW_EXECUTION.get(self.dialect)
        if statement is None:
            module = postgresql if self.dialect == "postgresql" else sqlite
            statement = (
                module.insert(executions)
                .on_conflict_do_nothing(index_elements=[executions.c.id])
                .returning(executions.c.id)  # no row: it existed (rowcount reads -1 on psycopg)
            )
            _INSERT_NEW_EXECUTION[self.dialect] = statement
        return statement

    def claim_next(
        self,
        *,
        worker_id: str,
        lease_seconds: float,
        webhook_id: int | None = None,
        scenario_id: int | None = None,
        now: datetime | None = None,
    ) -> QueueItem | None:
        now = self._now(now)
        oldest = self._oldest_queued(webhook_id, scenario_id)
        claim = {
            "worker_id": worker_id,
            "claimed_at": now,
            "lease_expires_at": now + timedelta(seconds=lease_seconds),
        }
        with self._write() as connection:
            for _ in range(_CLAIM_ATTEMPTS):
                item_id = connection.execute(oldest).scalar_one_or_none()
                if item_id is None:
                    return None
                claimed = connection.execute(_CLAIM, {"item_id": item_id, **claim})
                if claimed.rowcount == 1:
                    return self._item(connection, item_id)
        return None

    def complete(
        self, item_id: int, execution_id: str | None, *, worker_id: str | None = None
    ) -> QueueItem:
        return self._finish_claim(
            item_id,
            QueueItemStatus.DONE,
            worker_id,
            {"execution_id": execution_id, "finished_at": self._now()},
        )

    def fail(
        self, item_id: int, error: Mapping[str, Any], *, worker_id: str | None = None
    ) -> QueueItem:
        return self._finish_claim(
            item_id,
            QueueItemStatus.FAILED,
            worker_id,
            {"error": dict(error), "finished_at": self._now()},
        )

    def release(self, item_id: int, *, worker_id: str | None = None) -> QueueItem:
        return self._finish_claim(item_id, QueueItemStatus.QUEUED, worker_id, _UNCLAIMED)

    def requeue_expired(self, now: datetime | None = None) -> list[int]:
        with self._write() as connection:
            rows = connection.execute(
                update(webhook_queue)
                .where(
                    webhook_queue.c.status == CLAIMED,
                    webhook_queue.c.lease_expires_at < self._now(now),
                )
                .values(status=QUEUED, **_UNCLAIMED)
                .returning(webhook_queue.c.id)
            )
            return sorted(rows.scalars())

    def get_queue_item(self, item_id: int) -> QueueItem:
        with self._read() as connection:
            return self._item(connection, item_id)

    def list_queue(
        self,
        webhook_id: int,
        *,
        status: QueueItemStatus | None = QueueItemStatus.QUEUED,
        limit: int = 100,
        offset: int = 0,
    ) -> list[QueueItem]:
        query = (
            self._filter_queue(select(webhook_queue), webhook_id, status)
            .order_by(webhook_queue.c.received_at, webhook_queue.c.id)
            .limit(limit)
            .offset(offset)
        )
        with self._read() as connection:
            return [item_from_row(row) for row in connection.execute(query)]

    def count_queue(
        self, webhook_id: int, *, status: QueueItemStatus | None = QueueItemStatus.QUEUED
    ) -> int:
        query = self._filter_queue(
            select(func.count()).select_from(webhook_queue), webhook_id, status
        )
        with self._read() as connection:
            return connection.execute(query).scalar_one()

    def delete_queue_item(self, item_id: int) -> None:
        with self._write() as connection:
            deleted = connection.execute(delete(webhook_queue).where(webhook_queue.c.id == item_id))
            if deleted.rowcount == 0:
                raise NotFound("webhook queue item", item_id)

    def clear_queue(
        self, webhook_id: int, *, status: QueueItemStatus | None = QueueItemStatus.QUEUED
    ) -> int:
        with self._write() as connection:
            return connection.execute(
                self._filter_queue(delete(webhook_queue), webhook_id, status)
            ).rowcount

    def _oldest_queued(self, webhook_id: Any, scenario_id: int | None) -> Select[Any]:
        """The oldest queued item of a webhook (its id, or a bind parameter) or a scenario."""
        if (webhook_id is None) == (scenario_id is None):
            raise ValueError("claim_next needs exactly one of webhook_id or scenario_id")
        query = select(webhook_queue.c.id).where(webhook_queue.c.status == QUEUED)
        if webhook_id is not None:
            query = query.where(webhook_queue.c.webhook_id == webhook_id)
        else:
            of_scenario = select(webhooks.c.id).where(webhooks.c.scenario_id == scenario_id)
            query = query.where(webhook_queue.c.webhook_id.in_(of_scenario))
        query = query.order_by(webhook_queue.c.received_at, webhook_queue.c.id).limit(1)
        if self.dialect == "postgresql":
            # Lock the row we take and skip rows other workers are taking right now, so
            # concurrent claims spread over the queue instead of waiting on each other.
            query = query.with_for_update(skip_locked=True, of=webhook_queue)
        return query

    def _finish_claim(
        self,
        item_id: int,
        wanted: QueueItemStatus,
        worker_id: str | None,
        values: Mapping[str, Any],
    ) -> QueueItem:
        conditions = [
            webhook_queue.c.id == item_id,
            webhook_queue.c.status.in_(sources(QUEUE_TRANSITIONS, wanted)),
        ]
        if worker_id is not None:
            conditions.append(webhook_queue.c.worker_id == worker_id)
        with self._write() as connection:
            changed = connection.execute(
                update(webhook_queue).where(*conditions).values(status=wanted.value, **values)
            )
            item = self._item(connection, item_id)
        if changed.rowcount == 0:
            current = item.status.value
            if item.status is QueueItemStatus.CLAIMED:
                current = f"claimed by {item.worker_id}"
            raise InvalidTransition("webhook queue item", item_id, current, wanted.value)
        return item

    @staticmethod
    def _filter_queue(query: Any, webhook_id: int, status: QueueItemStatus | None) -> Any:
        query = query.where(webhook_queue.c.webhook_id == webhook_id)
        if status is not None:
            query = query.where(webhook_queue.c.status == QueueItemStatus(status).value)
        return query

    def _item(self, connection: Connection, item_id: int) -> QueueItem:
        row = connection.execute(_ITEM_BY_ID, {"item_id": item_id}).first()
        if row is None:
            raise NotFound("webhook queue item", item_id)
        return item_from_row(row)


def _store_request() -> Any:
    """``INSERT`` of a received request whose JSON is encoded already (``request`` is its
    text: ``JSONText`` would encode it again), returning its id."""
    return (
        insert(webhook_queue)
        .values(request=bindparam("request", type_=Text()))
        .returning(webhook_queue.c.id)
    )


_RECEIVED_COLUMNS = ("webhook_id", "received_at", "request", "size_bytes", "status", "attempts")
_LOCK_WEBHOOK = (
    select(webhooks.c.id).where(webhooks.c.id == bindparam("webhook_id")).with_for_update()
)
_WEBHOOK_EXISTS = select(webhooks.c.id).where(webhooks.c.id == bindparam("webhook_id"))


def _enqueue_if(*, limited: bool) -> Any:
    """``INSERT … SELECT`` of a received request (its JSON already encoded: ``request`` is
    its text) that inserts nothing when the webhook does not exist or, ``limited``, when
    ``max_queued`` requests already wait for it; returns the new row's id."""
    given = [
        bindparam(name, type_=Text() if name == "request" else webhook_queue.c[name].type)
        for name in _RECEIVED_COLUMNS
    ]
    conditions: list[ColumnElement[bool]] = [
        select(webhooks.c.id).where(webhooks.c.id == bindparam("webhook_id")).exists()
    ]
    if limited:
        queued = (
            select(func.count())
            .select_from(webhook_queue)
            .where(
                webhook_queue.c.webhook_id == bindparam("webhook_id"),
                webhook_queue.c.status == QUEUED,
            )
            .scalar_subquery()
        )
        conditions.append(queued < bindparam("max_queued", type_=Integer()))
    return (
        insert(webhook_queue)
        .from_select(list(_RECEIVED_COLUMNS), select(*given).where(*conditions))
        .returning(webhook_queue.c.id)
    )


# Built once (the ingress path runs them per request): no statement construction per call.
_ITEM_BY_ID = select(webhook_queue).where(webhook_queue.c.id == bindparam("item_id"))
_CLAIM = (
    update(webhook_queue)
    .where(webhook_queue.c.id == bindparam("item_id"), webhook_queue.c.status == QUEUED)
    .values(
        status=CLAIMED,
        worker_id=bindparam("worker_id"),
        claimed_at=bindparam("claimed_at"),
        lease_expires_at=bindparam("lease_expires_at"),
        attempts=webhook_queue.c.attempts + 1,
    )
)
_SCENARIO_FIELDS = (
    "id",
    "name",
    "current_version",
    "active",
    "scheduling",
    "consecutive_errors",
    "created_at",
    "updated_at",
)
_ROUTE = (
    select(webhooks, *(scenarios.c[name].label(f"s_{name}") for name in _SCENARIO_FIELDS))
    .select_from(webhooks.outerjoin(scenarios, scenarios.c.id == webhooks.c.scenario_id))
    .where(webhooks.c.id == bindparam("webhook_id"))
)
_TAKE = (
    update(webhook_queue)
    .where(webhook_queue.c.id == bindparam("item_id"), webhook_queue.c.status == QUEUED)
    .values(
        status=DONE,
        worker_id=bindparam("worker_id"),
        claimed_at=bindparam("now"),
        finished_at=bindparam("now"),
        execution_id=bindparam("made"),
        attempts=webhook_queue.c.attempts + 1,
    )
    .returning(*webhook_queue.c)
)
_INSERT_NEW_EXECUTION: dict[str, Any] = {}  # by dialect, built on first use
_OLDEST_OF_WEBHOOK: dict[str, Any] = {}
# Whether a webhook still belongs to the scenario at the version its ingress is about to run.
_ROUTE_STATE = (
    select(webhooks.c.scenario_id, scenarios.c.active, scenarios.c.current_version)
    .select_from(webhooks.join(scenarios, scenarios.c.id == webhooks.c.scenario_id))
    .where(webhooks.c.id == bindparam("webhook_id"))
)

_UNCLAIMED: dict[str, Any] = {"worker_id": None, "claimed_at": None, "lease_expires_at": None}
