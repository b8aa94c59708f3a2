"""Run history (keyset pages of executions) and incomplete executions."""

from __future__ import annotations

from flask import Response

from engine.store import ExecutionStatus, IncompleteExecution
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


@route("/executions", "GET", query=ExecutionQuery, answer=ExecutionPage)
def list_executions() -> Response:
    """A page of executions, newest first (``next_cursor`` fetches the next page)."""
    query = query_args(ExecutionQuery)
    try:
        page = current_service().list_executions(
            scenario_id=query.scenario_id,
            status=ExecutionStatus(query.status) if query.status else None,
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
