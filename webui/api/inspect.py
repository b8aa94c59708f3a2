"""Run, watch and debug: live run events (server-sent events), "run this module only",
webhook queues, editing and bulk-retrying incomplete executions, and the dashboard."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask import Response, request

from engine.service.history import ScenarioDay
from engine.store import UNSET, IncompleteExecution, QueueItem, QueueItemStatus
from webui.api.models import (
    BulkRetryIn,
    BulkRetryOut,
    DashboardOut,
    DashboardQuery,
    DayOut,
    IncompleteDetail,
    IncompletePatch,
    ModuleRunIn,
    ModuleRunOut,
    ProcessedOut,
    QueueItemDetail,
    QueueItemOut,
    QueueQuery,
    RunEvent,
    ScenarioDaysOut,
)
from webui.api.problems import ApiError
from webui.api.routing import answer, json_body, no_content, query_args, route
from webui.api.runs import incomplete_out
from webui.api.scenarios import execution_out
from webui.app import current_service

STREAM_SECONDS = 120.0
"""How long one event stream stays open (it holds a server thread); an ``EventSource``
reconnects by itself, sending ``Last-Event-ID`` so it is not sent the same events again."""
KEEPALIVE_SECONDS = 1.0


# -- live run events --------------------------------------------------------------------------


@route(
    "/executions/<execution_id>/events",
    "GET",
    answer=RunEvent,
    media_type="text/event-stream",
)
def execution_events(execution_id: str) -> Response:
    """Server-sent events of a run as it goes, ending with its final status.

    ``module_started``/``module_finished`` while it runs, then ``finished`` (at once when it
    has ended). Honours ``Last-Event-ID``."""
    last = request.headers.get("Last-Event-ID", "")
    events = current_service().follow_execution(
        execution_id,
        wait=STREAM_SECONDS,
        poll=KEEPALIVE_SECONDS,
        after=int(last) if last.isdigit() else 0,
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(_sse(events), mimetype="text/event-stream", headers=headers)


def _sse(events: Iterator[dict[str, Any] | None]) -> Iterator[str]:
    yield "retry: 2000\n\n"
    try:
        for event in events:
            if event is None:
                yield ": keep-alive\n\n"
                continue
            name = event.get("event", "message")
            ident = f"id: {event['seq']}\n" if event.get("seq") else ""
            yield f"event: {name}\n{ident}data: {json.dumps(event, default=str)}\n\n"
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()  # leaves the hub's subscriber list when the client goes away


# -- run this module only ---------------------------------------------------------------------


@route(
    "/scenarios/<int:scenario_id>/modules/<int:module_id>/run",
    "POST",
    body=ModuleRunIn,
    answer=ModuleRunOut,
)
def run_module(scenario_id: int, module_id: int) -> Response:
    """Run one module alone with sample bundles; answers its output bundles or its error.

    The bundles stand in for the modules it maps from; nothing is stored, nothing after it
    runs."""
    given = json_body(ModuleRunIn)
    bundles: dict[int, Any] = {}
    for key, bundle in given.bundles.items():
        if not key.isdigit():
            raise ApiError(422, "invalid", "bundles are keyed by module id", path=f"bundles.{key}")
        bundles[int(key)] = bundle
    ran = current_service().run_module_only(scenario_id, module_id, bundles, version=given.version)
    return answer(
        ModuleRunOut(
            module_id=ran.module_id,
            module=ran.module,
            status=ran.status,
            operations=ran.operations,
            output=ran.output,
            error=ran.error,
            duration_ms=ran.duration_ms,
        )
    )


# -- webhook queues ---------------------------------------------------------------------------


def queue_item_out(item: QueueItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "webhook_id": item.webhook_id,
        "size": item.size_bytes,
        "received_at": item.received_at,
        "status": item.status.value,
        "attempts": item.attempts,
        "execution_id": item.execution_id,
        "finished_at": item.finished_at,
        "error": item.error,
    }


@route("/webhooks/<int:webhook_id>/queue", "GET", query=QueueQuery, answer=list[QueueItemOut])
def list_webhook_queue(webhook_id: int) -> Response:
    """The webhook's received requests, in arrival order.

    ``?status=queued`` by default; ``all`` for every status."""
    query = query_args(QueueQuery)
    status = None if query.status == "all" else QueueItemStatus(query.status)
    items = current_service().webhook_queue(
        webhook_id, status=status, limit=query.limit, offset=query.offset
    )
    return answer([QueueItemOut(**queue_item_out(item)) for item in items])


@route("/webhooks/<int:webhook_id>/queue/<bigid:item_id>", "GET", answer=QueueItemDetail)
def get_webhook_queue_item(webhook_id: int, item_id: int) -> Response:
    """One received request as stored (method, headers, query, body)."""
    item = current_service().webhook_queue_item(webhook_id, item_id)
    return answer(QueueItemDetail(**queue_item_out(item), request=item.request))


@route("/webhooks/<int:webhook_id>/queue/<bigid:item_id>", "DELETE", status=204)
def delete_webhook_queue_item(webhook_id: int, item_id: int) -> Response:
    """Drop a received request (409 while a worker is processing it)."""
    current_service().delete_webhook_queue_item(webhook_id, item_id)
    return no_content()


@route("/webhooks/<int:webhook_id>/queue/process", "POST", answer=ProcessedOut, status=202)
def process_webhook_queue(webhook_id: int) -> Response:
    """Process the queued requests now (409 unless its scenario is active)."""
    dispatched = current_service().process_webhook_queue(webhook_id)
    return answer(ProcessedOut(dispatched=dispatched), 202)


# -- incomplete executions --------------------------------------------------------------------


def incomplete_detail(incomplete: IncompleteExecution) -> IncompleteDetail:
    return IncompleteDetail(**incomplete_out(incomplete).model_dump(), state=incomplete.state)


@route("/incomplete/<int:incomplete_id>", "GET", answer=IncompleteDetail)
def get_incomplete(incomplete_id: int) -> Response:
    """One incomplete execution with its stored state (bundles, the module to run again)."""
    return answer(incomplete_detail(current_service().get_incomplete(incomplete_id)))


@route("/incomplete/<int:incomplete_id>", "PATCH", body=IncompletePatch, answer=IncompleteDetail)
def update_incomplete(incomplete_id: int) -> Response:
    """Edit the stored state or the blueprint version its retry runs with.

    409 once resolved."""
    given = json_body(IncompletePatch)
    fields = given.model_fields_set
    edited = current_service().edit_incomplete(
        incomplete_id,
        state=given.state if "state" in fields and given.state is not None else UNSET,
        blueprint_version=(
            given.blueprint_version
            if "blueprint_version" in fields and given.blueprint_version is not None
            else UNSET
        ),
    )
    return answer(incomplete_detail(edited))


@route("/incomplete/retry", "POST", body=BulkRetryIn, answer=BulkRetryOut, status=202)
def retry_incomplete_many() -> Response:
    """Queue a retry of each given one (or of every pending one of ``scenario_id``)."""
    given = json_body(BulkRetryIn)
    result = current_service().retry_incomplete_many(given.ids, scenario_id=given.scenario_id)
    out = BulkRetryOut(
        queued=[execution_out(execution) for execution in result.queued],
        skipped=result.skipped,
    )
    return answer(out, 202)


# -- dashboard --------------------------------------------------------------------------------


def _day(day: ScenarioDay) -> DayOut:
    return DayOut(day=day.day, runs=day.runs, operations=day.operations, errors=day.errors)


@route("/dashboard", "GET", query=DashboardQuery, answer=DashboardOut)
def dashboard() -> Response:
    """Runs, operations and errors per scenario and day, and what runs and waits now.

    Also: active scenarios, queue depth and workers online."""
    days = query_args(DashboardQuery).days
    service = current_service()
    board = service.dashboard(days)
    names = {scenario.id: scenario.name for scenario in service.list_scenarios()}
    return answer(
        DashboardOut(
            since=board.since,
            until=board.until,
            days=board.days,
            scenarios=[
                ScenarioDaysOut(
                    scenario_id=scenario_id,
                    name=names.get(scenario_id),
                    days=[_day(day) for day in found],
                )
                for scenario_id, found in sorted(board.scenarios.items())
            ],
            totals=[_day(day) for day in board.totals],
            active_scenarios=board.active_scenarios,
            queue_depth=board.queue_depth,
            workers_online=len(board.workers_online),
            workers=board.workers_online,
        )
    )
