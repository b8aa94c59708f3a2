"""Executions on SQL: guarded status moves, heartbeats, the reaper and keyset pagination."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Row,
    String,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection

from engine.store.errors import InvalidTransition, NotFound
from engine.store.records import Execution, ExecutionPage, FinishedRun, TriggerKind
from engine.store.sql.base import SqlBase, fetch_one
from engine.store.sql.schema import execution_records, executions, scenarios
from engine.store.sql.types import UTCDateTime
from engine.store.statuses import (
    EXECUTION_TRANSITIONS,
    TERMINAL_EXECUTION_STATUSES,
    ExecutionStatus,
    check_transition,
)

QUEUED = ExecutionStatus.QUEUED.value
RUNNING = ExecutionStatus.RUNNING.value
ERROR = ExecutionStatus.ERROR.value
MAX_PAGE = 1000


_LISTED_AT = executions.c.started_or_queued_at
# The columns an ``Execution`` is made of (the history's ordering column is the store's).
_COLUMNS = [column for column in executions.c if column is not _LISTED_AT]
# History pages convert many rows, so rows are unpacked by position (attribute access on a Row
# costs a lookup per column); this pins the column order to the dataclass's field order.
assert [column.name for column in _COLUMNS] == [
    item.name for item in fields(Execution) if item.name != "record"
], "executions columns and Execution fields must stay in the same order"
_KINDS = {kind.value: kind for kind in TriggerKind}
_STATUSES = {status.value: status for status in ExecutionStatus}


def execution_from_row(row: Sequence[Any], record: dict[str, Any] | None = None) -> Execution:
    ident, scenario_id, version, kind, ref, status, *rest = row
    execution = Execution(ident, scenario_id, version, _KINDS[kind], ref, _STATUSES[status], *rest)
    # Not a keyword beside ``*rest`` (a checker cannot tell ``rest`` stops before ``record``).
    return execution if record is None else replace(execution, record=record)


def listed_at(execution: Execution) -> datetime:
    """Where the history lists ``execution``: when it started, or, not started (yet), when it
    was queued (the ``started_or_queued_at`` column)."""
    return execution.started_at or execution.created_at


def encode_cursor(execution: Execution) -> str:
    """The opaque position after ``execution`` in newest-first order."""
    text = json.dumps([listed_at(execution).isoformat(), execution.id])
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """``(started_or_queued_at, id)`` from ``encode_cursor``; ``ValueError`` for anything
    else."""
    try:
        listed, ident = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        moment = datetime.fromisoformat(listed)
    except (ValueError, TypeError, binascii.Error, UnicodeError) as error:
        raise ValueError(f"not an execution history cursor: {cursor!r}") from error
    if moment.tzinfo is None or not isinstance(ident, str):
        raise ValueError(f"not an execution history cursor: {cursor!r}")
    return moment, ident


def _milliseconds(started: datetime, finished: datetime) -> int:
    return max(0, round((finished - started).total_seconds() * 1000))


def _kinds(kind: TriggerKind | Sequence[TriggerKind]) -> list[str]:
    if isinstance(kind, str):
        return [TriggerKind(kind).value]
    return [TriggerKind(item).value for item in kind]


def _statuses(status: ExecutionStatus | str | Sequence[ExecutionStatus | str]) -> list[str]:
    if isinstance(status, str):
        return [ExecutionStatus(status).value]
    return [ExecutionStatus(item).value for item in status]


_INSERTED = (
    "started_at",
    "worker_id",
    "heartbeat_at",
    "id",
    "scenario_id",
    "scenario_version",
    "trigger_kind",
    "trigger_ref",
    "status",
    "created_at",
    "operations",
    "data_size",
    "reaped_count",
)


def new_execution(
    execution_id: str,
    scenario_id: int,
    scenario_version: int,
    trigger_kind: TriggerKind,
    trigger_ref: str | None,
    created: datetime,
    worker_id: str | None = None,
) -> tuple[Execution, dict[str, Any]]:
    """A queued execution (running, claimed by ``worker_id`` at ``created``, when given) as
    its row reads back (not read back: made from the values written) and the row to insert
    (``INSERT_EXECUTION``)."""
    at = created.astimezone(UTC)  # as the columns read it back
    claimed = worker_id is not None
    made = Execution(
        id=execution_id,
        scenario_id=scenario_id,
        scenario_version=scenario_version,
        trigger_kind=trigger_kind,
        trigger_ref=trigger_ref,
        status=ExecutionStatus.RUNNING if claimed else ExecutionStatus.QUEUED,
        created_at=at,
        started_at=at if claimed else None,
        finished_at=None,
        duration_ms=None,
        operations=0,
        data_size=0,
        worker_id=worker_id,
        heartbeat_at=at if claimed else None,
        reaped_count=0,
        error=None,
    )
    row = {name: getattr(made, name) for name in _INSERTED}
    row.update(
        created_at=created,  # as given: a naive one is refused when written
        trigger_kind=trigger_kind.value,
        status=made.status.value,
        started_or_queued_at=listed_at(made),
    )
    return made, row


def ended_execution(
    made: Execution, row: dict[str, Any], finished: FinishedRun
) -> tuple[Execution, dict[str, Any]]:
    """``new_execution``'s running execution and row as its worker's finish leaves them
    (``finish_execution``), for inserting it finished. Raises ``ValueError``: ``finished``
    does not end a run."""
    status = ExecutionStatus(finished.status)
    if not status.is_terminal:
        raise ValueError(f"{status.value} does not end a run")
    check_transition(EXECUTION_TRANSITIONS, "execution", made.id, made.status, status)
    duration = _milliseconds(made.started_at or made.created_at, finished.finished_at)
    error = None if finished.error is None else dict(finished.error)
    ended = replace(
        made,
        status=status,
        finished_at=finished.finished_at.astimezone(UTC),  # as the column reads it
        duration_ms=duration,
        operations=finished.operations,
        data_size=finished.data_size,
        error=error,
        # A record given encoded (``orjson.Fragment``) is not decoded for the caller.
        record=dict(finished.record) if isinstance(finished.record, Mapping) else None,
    )
    values = {
        **row,
        "status": status.value,
        "finished_at": finished.finished_at,
        "duration_ms": duration,
        "operations": finished.operations,
        "data_size": finished.data_size,
        "error": error,
    }
    return ended, values


class SqlExecutions(SqlBase):
    def create_execution(
        self,
        scenario_id: int,
        scenario_version: int,
        trigger_kind: TriggerKind,
        trigger_ref: str | None = None,
        *,
        execution_id: str | None = None,
        created_at: datetime | None = None,
    ) -> Execution:
        execution_id = execution_id or str(uuid.uuid4())
        with self._write() as connection:
            fetch_one(
                connection,
                select(scenarios.c.id).where(scenarios.c.id == scenario_id),
                "scenario",
                scenario_id,
            )
            made, row = new_execution(
                execution_id,
                scenario_id,
                scenario_version,
                TriggerKind(trigger_kind),
                trigger_ref,
                self._now(created_at),
            )
            connection.execute(INSERT_EXECUTION, row)
            return made

    def claim_execution(
        self, execution_id: str, worker_id: str, now: datetime | None = None
    ) -> bool:
        now = self._now(now)
        with self._write() as connection:
            claimed = connection.execute(
                _CLAIM_EXECUTION,
                {"execution_id": execution_id, "worker_id": worker_id, "now": now},
            )
            if claimed.rowcount == 1:
                return True
            self._execution(connection, execution_id)  # NotFound for an unknown id
            return False

    def heartbeat(self, execution_id: str, worker_id: str, now: datetime | None = None) -> bool:
        with self._write() as connection:
            beat = connection.execute(
                update(executions)
                .where(
                    executions.c.id == execution_id,
                    executions.c.status == RUNNING,
                    executions.c.worker_id == worker_id,
                )
                .values(heartbeat_at=self._now(now))
            )
            return beat.rowcount == 1

    def finish_execution(
        self,
        execution_id: str,
        status: ExecutionStatus,
        record: Mapping[str, Any] | None,
        *,
        operations: int,
        data_size: int,
        error: Mapping[str, Any] | None = None,
        worker_id: str | None = None,
        finished_at: datetime | None = None,
        running: Execution | None = None,
    ) -> Execution:
        status = ExecutionStatus(status)
        finished = self._now(finished_at)
        if running is not None and (running.id != execution_id or worker_id is None):
            running = None  # only the claimer's own view of its claim stands in for a read
        if running is not None and worker_id is not None:
            return self._finish_running(
                running, status, record, finished, operations, data_size, error, worker_id
            )
        with self._write() as connection:
            current = running or self._execution(connection, execution_id)
            if not status.is_terminal:  # running → queued is the reaper's move, not a finish
                raise InvalidTransition(
                    "execution", execution_id, current.status.value, status.value
                )
            check_transition(
                EXECUTION_TRANSITIONS, "execution", execution_id, current.status, status
            )
            started = current.started_at or finished
            values = {
                "b_execution_id": execution_id,
                "b_status": status.value,
                "b_finished_at": finished,
                "b_duration_ms": _milliseconds(started, finished),
                "b_operations": operations,
                "b_data_size": data_size,
                "b_error": None if error is None else dict(error),
            }
            if worker_id is None:
                changed = connection.execute(_FINISH_EXECUTION, values)
            else:
                changed = connection.execute(
                    _FINISH_EXECUTION_OF, {**values, "b_worker_id": worker_id}
                )
            if changed.rowcount == 0:
                owner = self._execution(connection, execution_id)
                raise InvalidTransition(
                    "execution",
                    execution_id,
                    f"{owner.status.value} by {owner.worker_id}",
                    status.value,
                )
            self._store_record(connection, execution_id, record)
            # The row and record just written are the caller's: not read back (nor the record
            # decompressed) again.
            return replace(
                current,
                status=status,
                finished_at=finished.astimezone(UTC),  # as the column reads it
                duration_ms=_milliseconds(started, finished),
                operations=operations,
                data_size=data_size,
                error=None if error is None else dict(error),
                record=None if record is None else dict(record),
            )

    def _finish_running(
        self,
        running: Execution,
        status: ExecutionStatus,
        record: Mapping[str, Any] | None,
        finished: datetime,
        operations: int,
        data_size: int,
        error: Mapping[str, Any] | None,
        worker_id: str,
    ) -> Execution:
        """``finish_execution`` by the worker that claimed ``running``: nothing read first,
        the move and the record two prepared statements in one transaction (every webhook
        run ends here)."""
        if not status.is_terminal:  # running → queued is the reaper's move, not a finish
            raise InvalidTransition("execution", running.id, running.status.value, status.value)
        check_transition(EXECUTION_TRANSITIONS, "execution", running.id, running.status, status)
        started = running.started_at or finished
        duration = _milliseconds(started, finished)
        values = {
            "b_execution_id": running.id,
            "b_status": status.value,
            "b_finished_at": finished,
            "b_duration_ms": duration,
            "b_operations": operations,
            "b_data_size": data_size,
            "b_error": None if error is None else dict(error),
            "b_worker_id": worker_id,
        }

        def finish(cursor: Any) -> bool:
            move = self._prepared.get("finish_execution_of", lambda: _FINISH_EXECUTION_OF)
            moved = move.run(cursor, values).rowcount == 1
            if moved and record is not None:
                store = self._prepared.get(
                    "store_record", self._record_upsert, ["execution_id", "record"]
                )
                store.run(cursor, {"execution_id": running.id, "record": record})
            return moved

        moved = self._grouped_write(finish)  # perhaps with other threads' (group commit)
        if not moved:  # nothing was written: say who has it now
            owner = self.get_execution(running.id, with_record=False)
            raise InvalidTransition(
                "execution",
                running.id,
                f"{owner.status.value} by {owner.worker_id}",
                status.value,
            )
        return replace(
            running,
            status=status,
            finished_at=finished.astimezone(UTC),  # as the column reads it
            duration_ms=duration,
            operations=operations,
            data_size=data_size,
            error=None if error is None else dict(error),
            record=None if record is None else dict(record),
        )

    def cancel_execution(self, execution_id: str) -> Execution:
        with self._write() as connection:
            cancelled = connection.execute(
                update(executions)
                .where(executions.c.id == execution_id, executions.c.status == QUEUED)
                .values(status=ExecutionStatus.CANCELLED.value, finished_at=self._now())
            )
            execution = self._execution(connection, execution_id)
        if cancelled.rowcount == 0:
            raise InvalidTransition(
                "execution", execution_id, execution.status.value, ExecutionStatus.CANCELLED.value
            )
        return execution

    def reap_stale(self, older_than: datetime) -> list[str]:
        with self._write() as connection:
            reaped = connection.execute(
                update(executions)
                .where(executions.c.status == RUNNING, executions.c.heartbeat_at < older_than)
                .values(
                    status=QUEUED,
                    worker_id=None,
                    heartbeat_at=None,
                    reaped_count=executions.c.reaped_count + 1,
                )
                .returning(executions.c.id)
            )
            return sorted(reaped.scalars())

    def abandon_stale(
        self,
        older_than: datetime,
        *,
        reaped_at_least: int,
        error: Mapping[str, Any],
        now: datetime | None = None,
    ) -> list[str]:
        finished = self._now(now)
        stale = (
            executions.c.status == RUNNING,
            executions.c.heartbeat_at < older_than,
            executions.c.reaped_count >= reaped_at_least,
        )
        ended: list[str] = []
        with self._write() as connection:
            found = connection.execute(
                select(executions.c.id, executions.c.started_at).where(*stale)
            ).all()
            for execution_id, started in found:
                # One by one, each still conditional: a beat since the select keeps its run.
                changed = connection.execute(
                    update(executions)
                    .where(executions.c.id == execution_id, *stale)
                    .values(
                        status=ERROR,
                        finished_at=finished,
                        duration_ms=_milliseconds(started or finished, finished),
                        error=dict(error),
                    )
                )
                if changed.rowcount == 1:
                    ended.append(execution_id)
        return sorted(ended)

    def get_execution(self, execution_id: str, *, with_record: bool = True) -> Execution:
        with self._read() as connection:
            return self._execution(connection, execution_id, with_record=with_record)

    def list_executions(
        self,
        *,
        scenario_id: int | None = None,
        status: ExecutionStatus | Sequence[ExecutionStatus] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
        trigger_kind: TriggerKind | Sequence[TriggerKind] | None = None,
        with_records: bool = False,
    ) -> ExecutionPage:
        if not 0 < limit <= MAX_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
        position = None
        if cursor is not None:
            listed, ident = decode_cursor(cursor)
            position = tuple_(literal(listed, UTCDateTime()), literal(ident, String()))
        # Several statuses or kinds: one index-ordered query per combination, merged here, so
        # no query sorts every matching row (an ``IN`` would make the database do that).
        statuses = [None] if status is None else _statuses(status)
        kinds = [None] if trigger_kind is None else _kinds(trigger_kind)
        rows: list[Row[Any]] = []
        with self._read() as connection:
            for one_status in statuses:
                for one_kind in kinds:
                    query = self._filtered(
                        _with_records() if with_records else select(*_COLUMNS),
                        scenario_id,
                        one_status,
                        since,
                        until,
                    )
                    if one_kind is not None:
                        query = query.where(executions.c.trigger_kind == one_kind)
                    if position is not None:
                        query = query.where(tuple_(_LISTED_AT, executions.c.id) < position)
                    query = query.order_by(_LISTED_AT.desc(), executions.c.id.desc())
                    rows += connection.execute(query.limit(limit + 1)).all()
        if len(statuses) * len(kinds) > 1:
            rows.sort(key=lambda row: (row.started_at or row.created_at, row.id), reverse=True)
        if with_records:  # the record is the last column
            items = [execution_from_row(row[:-1], row[-1]) for row in rows[:limit]]
        else:
            items = [execution_from_row(row) for row in rows[:limit]]
        more = len(rows) > limit
        return ExecutionPage(items, encode_cursor(items[-1]) if more else None)

    def count_executions(
        self, *, scenario_id: int | None = None, status: ExecutionStatus | None = None
    ) -> int:
        query = self._filtered(
            select(func.count()).select_from(executions), scenario_id, status, None, None
        )
        with self._read() as connection:
            return connection.execute(query).scalar_one()

    def purge_executions(self, before: datetime, *, limit: int | None = None) -> int:
        terminal = [status.value for status in TERMINAL_EXECUTION_STATUSES]
        condition = (executions.c.created_at < before, executions.c.status.in_(terminal))
        with self._write() as connection:
            if limit is None:
                return connection.execute(delete(executions).where(*condition)).rowcount
            # One batch, oldest first (the ``created_at, id`` index): short write transactions.
            oldest = (
                select(executions.c.id)
                .where(*condition)
                .order_by(executions.c.created_at, executions.c.id)
                .limit(limit)
            )
            ids = list(connection.execute(oldest).scalars())
            if not ids:
                return 0
            return connection.execute(delete(executions).where(executions.c.id.in_(ids))).rowcount

    def execution_stats(
        self, since: datetime, until: datetime | None = None
    ) -> list[tuple[int, str, int, int, int]]:
        day: Any
        if self._engine.dialect.name == "sqlite":
            day = func.substr(executions.c.created_at, 1, 10)
        else:
            day = func.to_char(func.timezone("UTC", executions.c.created_at), "YYYY-MM-DD")
        errored = func.sum(case((executions.c.status == ERROR, 1), else_=0))
        query = select(
            executions.c.scenario_id,
            day.label("day"),
            func.count(),
            func.coalesce(func.sum(executions.c.operations), 0),
            func.coalesce(errored, 0),
        ).where(executions.c.created_at >= since)
        if until is not None:
            query = query.where(executions.c.created_at < until)
        query = query.group_by(executions.c.scenario_id, day).order_by(
            executions.c.scenario_id, day
        )
        with self._read() as connection:
            rows = connection.execute(query).all()
        return [(int(a), str(b), int(c), int(d), int(e)) for a, b, c, d, e in rows]

    def running_workers(self, since: datetime) -> list[str]:
        query = (
            select(executions.c.worker_id)
            .where(
                executions.c.status == RUNNING,
                executions.c.heartbeat_at >= since,
                executions.c.worker_id.is_not(None),
            )
            .distinct()
        )
        with self._read() as connection:
            return sorted(str(worker) for worker in connection.execute(query).scalars())

    @staticmethod
    def _filtered(
        query: Any,
        scenario_id: int | None,
        status: ExecutionStatus | str | Sequence[ExecutionStatus | str] | None,
        since: datetime | None,
        until: datetime | None,
    ) -> Any:
        if scenario_id is not None:
            query = query.where(executions.c.scenario_id == scenario_id)
        if status is not None:
            wanted = _statuses(status)
            column = executions.c.status
            query = query.where(column == wanted[0] if len(wanted) == 1 else column.in_(wanted))
        if since is not None:
            query = query.where(executions.c.started_or_queued_at >= since)
        if until is not None:
            query = query.where(executions.c.started_or_queued_at < until)
        return query

    def _store_record(
        self, connection: Connection, execution_id: str, record: Mapping[str, Any] | None
    ) -> None:
        if record is None:
            return
        statement = _STORE_RECORD.get(self.dialect)
        if statement is None:
            statement = _STORE_RECORD[self.dialect] = self._record_upsert()
        connection.execute(statement, {"execution_id": execution_id, "record": dict(record)})

    def _record_upsert(self) -> Any:
        """Insert an execution's record, or replace the one it has."""
        upsert = self._upsert(execution_records)
        return upsert.on_conflict_do_update(
            index_elements=[execution_records.c.execution_id],
            set_={"record": upsert.excluded.record},
        )

    def _execution(
        self, connection: Connection, execution_id: str, *, with_record: bool = False
    ) -> Execution:
        row = connection.execute(_EXECUTION_BY_ID, {"execution_id": execution_id}).first()
        if row is None:
            raise NotFound("execution", execution_id)
        record = None
        if with_record:
            record = connection.execute(
                _RECORD_BY_ID, {"execution_id": execution_id}
            ).scalar_one_or_none()
        return execution_from_row(row, record)


def _with_records() -> Any:
    """Executions with their records (``NULL`` for one that has none yet) as the last column."""
    joined = executions.outerjoin(
        execution_records, execution_records.c.execution_id == executions.c.id
    )
    return select(*_COLUMNS, execution_records.c.record).select_from(joined)


# Built once: every run reads its execution several times (no statement construction per call).
_EXECUTION_BY_ID = select(*_COLUMNS).where(executions.c.id == bindparam("execution_id"))
_RECORD_BY_ID = select(execution_records.c.record).where(
    execution_records.c.execution_id == bindparam("execution_id")
)
INSERT_EXECUTION = insert(executions)
_CLAIM_EXECUTION = (
    update(executions)
    .where(executions.c.id == bindparam("execution_id"), executions.c.status == QUEUED)
    .values(
        status=RUNNING,
        worker_id=bindparam("worker_id"),
        started_at=bindparam("now"),
        started_or_queued_at=bindparam("now"),
        heartbeat_at=bindparam("now"),
    )
)
_FINISH_EXECUTION = (
    update(executions)
    .where(executions.c.id == bindparam("b_execution_id"), executions.c.status == RUNNING)
    .values(
        status=bindparam("b_status"),
        finished_at=bindparam("b_finished_at"),
        duration_ms=bindparam("b_duration_ms"),
        operations=bindparam("b_operations"),
        data_size=bindparam("b_data_size"),
        error=bindparam("b_error", type_=executions.c.error.type),
    )
)
_FINISH_EXECUTION_OF = _FINISH_EXECUTION.where(executions.c.worker_id == bindparam("b_worker_id"))
_STORE_RECORD: dict[str, Any] = {}
"""The record's upsert per dialect, built on first use."""
