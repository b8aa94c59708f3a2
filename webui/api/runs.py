"""Run history (keyset pages of executions) and incomplete executions."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, request

from engine.store import ExecutionStatus, IncompleteExecution, TriggerKind
from webui.api.models import (
    ExecutionDetail,
    ExecutionOut,
    ExecutionPage,
    ExecutionQuery,
    IncompleteOut,
    IncompleteQuery,
)
from webui.api.problems import ApiError
from webui.api.routing import answer, no_content, query_args, route
from webui.api.scenarios import execution_out
from webui.app import current_service


def incomplete_out(incomplete: IncompleteExecution) -> IncompleteOut:
    return IncompleteOut(
        id=incomplete.id,
        scenario_id=incomplete.scenario_id,
        execution_id=incomplete.execution_id,
        blueprint_version=incomplete.blueprint_version,
        failed_module_id=incomplete.failed_module_id,
        status=incomplete.status.value,
        error=incomplete.error,
        attempts=incomplete.attempts,
        max_attempts=incomplete.max_attempts,
        next_retry_at=incomplete.next_retry_at,
        created_at=incomplete.created_at,
        updated_at=incomplete.updated_at,
    )


def _utc(moment: datetime | None) -> datetime | None:
    """A time without a zone is read as UTC (the API's timestamps are UTC)."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _history_args() -> dict[str, object]:
    """The query string, with ``status``/``trigger_kind`` repeated or comma-separated."""
    args: dict[str, object] = dict(request.args.to_dict(flat=True))
    for name in ("status", "trigger_kind"):
        values = [v.strip() for raw in request.args.getlist(name) for v in raw.split(",")]
        args[name] = [value for value in values if value]
    return args


@route("/executions", "GET", query=ExecutionQuery, answer=ExecutionPage)
def list_executions() -> Response:
    """A page of executions, newest first (``next_cursor`` fetches the next page).

    Filters: ``scenario_id``, ``status`` and ``trigger_kind`` (repeatable), ``since``,
    ``until``."""
    query = ExecutionQuery.model_validate(_history_args())
    since, until = _utc(query.since), _utc(query.until)
    try:
        page = current_service().list_history(
            scenario_id=query.scenario_id,
            statuses=[ExecutionStatus(status) for status in query.status],
            trigger_kinds=[TriggerKind(kind) for kind in query.trigger_kind],
            since=since,
            until=until,
            limit=query.limit,
            cursor=query.cursor,
        )
    except ValueError:
        raise ApiError(
            400, "bad_request", "this cursor was not made by this API", path="cursor"
        ) from None
    items = [execution_out(execution) for execution in page.items]
    return answer(ExecutionPage(items=items, next_cursor=page.next_cursor))


@route("/executions/<execution_id>", "GET", answer=ExecutionDetail)
def get_execution(execution_id: str) -> Response:
    """One execution with its record (docs/execution-record.md)."""
    execution = current_service().get_execution(execution_id)
    summary = execution_out(execution).model_dump()
    return answer(ExecutionDetail(**summary, record=execution.record))


@route("/incomplete", "GET", query=IncompleteQuery, answer=list[IncompleteOut])
def list_incomplete() -> Response:
    """Incomplete executions, oldest first (of one scenario with ``?scenario_id=``)."""
    query = query_args(IncompleteQuery)
    found = current_service().list_incomplete(
        scenario_id=query.scenario_id, limit=query.limit, offset=query.offset
    )
    return answer([incomplete_out(incomplete) for incomplete in found])


@route("/incomplete/<int:incomplete_id>/retry", "POST", answer=ExecutionOut, status=202)
def retry_incomplete(incomplete_id: int) -> Response:
    """Queue a run that resumes it (409 while it is being retried or once resolved)."""
    execution = current_service().retry_incomplete(incomplete_id)
    return answer(execution_out(execution), 202)


@route("/incomplete/<int:incomplete_id>/resolve", "POST", answer=IncompleteOut)
def resolve_incomplete(incomplete_id: int) -> Response:
    """Dismiss it: the user dealt with it."""
    return answer(incomplete_out(current_service().resolve_incomplete(incomplete_id)))


@route("/incomplete/<int:incomplete_id>", "DELETE", status=204)
def delete_incomplete(incomplete_id: int) -> Response:
    """Delete it."""
    current_service().delete_incomplete(incomplete_id)
    return no_content()
