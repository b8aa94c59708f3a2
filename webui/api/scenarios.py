"""Scenarios: create, import, read, save (a new version when the blueprint changes), duplicate,
(de)activate, versions and restoring one, export byte-exact, run."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Response, g, request

from engine.service import Service
from engine.store import Execution, Scenario
from webui.api.catalogue import validation_of
from webui.api.models import (
    DuplicateIn,
    ExecutionOut,
    ExportQuery,
    LastRun,
    RunIn,
    ScenarioDetail,
    ScenarioIn,
    ScenarioOut,
    ScenarioPatch,
    SyncEntryOut,
    SyncLogQuery,
    VersionOut,
)
from webui.api.problems import ApiError
from webui.api.routing import BadRequest, answer, json_body, no_content, query_args, route
from webui.app import current_service


def scenario_out(scenario: Scenario, service: Service) -> ScenarioOut:
    return ScenarioOut(**_fields(scenario), last_run=_last_run(scenario, service))


def scenario_detail(scenario: Scenario, service: Service) -> ScenarioDetail:
    text = service.export_scenario(scenario.id)
    return ScenarioDetail(
        **_fields(scenario),
        last_run=_last_run(scenario, service),
        blueprint=json.loads(text),
        validation=validation_of(text, service.registry),
    )


def execution_out(execution: Execution) -> ExecutionOut:
    return ExecutionOut(
        id=execution.id,
        scenario_id=execution.scenario_id,
        scenario_version=execution.scenario_version,
        status=execution.status.value,
        trigger_kind=execution.trigger_kind.value,
        created_at=execution.created_at,
        started_at=execution.started_at,
        finished_at=execution.finished_at,
        duration_ms=execution.duration_ms,
        operations=execution.operations,
        data_size=execution.data_size,
        error=execution.error,
    )


def _fields(scenario: Scenario) -> dict[str, Any]:
    return {
        "id": scenario.id,
        "name": scenario.name,
        "active": scenario.active,
        "scheduling": scenario.scheduling,
        "current_version": scenario.current_version,
        "consecutive_errors": scenario.consecutive_errors,
        "created_at": scenario.created_at,
        "updated_at": scenario.updated_at,
    }


def _last_run(scenario: Scenario, service: Service) -> LastRun | None:
    page = service.list_executions(scenario_id=scenario.id, limit=1)
    if not page.items:
        return None
    newest = page.items[0]
    return LastRun(
        status=newest.status.value, finished_at=newest.finished_at, operations=newest.operations
    )


def _who() -> str | None:
    """The signed-in user's email, kept with each version they save (``None`` outside a
    signed-in request)."""
    principal = g.get("principal")
    return principal.user.email if principal is not None else None


def _blueprint_text(blueprint: Any) -> str:
    """Blueprint JSON given in a body, as the text to store (text is kept as sent)."""
    return (
        blueprint
        if isinstance(blueprint, str)
        else json.dumps(blueprint, indent=4, ensure_ascii=False)
    )


def _empty_blueprint(name: str) -> str:
    return _blueprint_text({"name": name, "flow": [], "metadata": {"version": 1}})


@route("/scenarios", "GET", answer=list[ScenarioOut])
def list_scenarios() -> Response:
    """Every scenario with its last run."""
    service = current_service()
    return answer([scenario_out(s, service) for s in service.list_scenarios()])


@route("/scenarios", "POST", body=ScenarioIn, answer=ScenarioDetail, status=201)
def create_scenario() -> Response:
    """A new scenario from a blueprint, or an empty one."""
    given = json_body(ScenarioIn)
    service = current_service()
    text = (
        _empty_blueprint(given.name)
        if given.blueprint is None
        else _blueprint_text(given.blueprint)
    )
    result = service.import_scenario(text, name=given.name, saved_by=_who())
    return answer(scenario_detail(result.scenario, service), 201)


@route("/scenarios/import", "POST", answer=ScenarioDetail, status=201, multipart=True)
def import_scenario() -> Response:
    """Import a blueprint file (multipart ``file``) or a JSON body, in any accepted wrapper;
    stored byte-exact. ``name`` (form field or query) overrides the blueprint's name."""
    service = current_service()
    upload = request.files.get("file")
    if upload is not None:
        source = upload.read()
    elif request.get_data(cache=True).strip():
        if not request.is_json:
            raise BadRequest(
                "send a multipart 'file' or an application/json body", 415, "unsupported_media_type"
            )
        source = request.get_data(cache=True)
    else:
        raise ApiError(400, "bad_request", "send a blueprint: a multipart 'file' or a JSON body")
    name = request.form.get("name") or request.args.get("name") or None
    result = service.import_scenario(
        source, name=name, connections=connection_bindings(), saved_by=_who()
    )
    return answer(scenario_detail(result.scenario, service), 201)


def connection_bindings() -> dict[str, int] | None:
    """``?connection=onecrm:3&connection=xero:5`` (or the same form fields): which stored
    connection each ``connection:<app>`` placeholder of a prebuilt scenario gets."""
    given = request.form.getlist("connection") or request.args.getlist("connection")
    bindings: dict[str, int] = {}
    for item in given:
        app, _, connection_id = item.partition(":")
        if not app or not connection_id.isdigit():
            raise ApiError(422, "invalid", f"'{item}' is not app:connection_id", path="connection")
        bindings[app] = int(connection_id)
    return bindings or None


@route("/scenarios/<int:scenario_id>", "GET", answer=ScenarioDetail)
def get_scenario(scenario_id: int) -> Response:
    """One scenario with its current blueprint and its validation."""
    service = current_service()
    return answer(scenario_detail(service.get_scenario(scenario_id), service))


@route("/scenarios/<int:scenario_id>", "PUT", body=ScenarioPatch, answer=ScenarioDetail)
def update_scenario(scenario_id: int) -> Response:
    """Rename, save a new blueprint version, and/or change the scheduling."""
    given = json_body(ScenarioPatch)
    service = current_service()
    scenario = service.get_scenario(scenario_id)  # 404 before any change
    if given.blueprint is not None:
        text = _blueprint_text(given.blueprint)
        if text != service.export_scenario(scenario_id):
            service.save_scenario(scenario_id, text, saved_by=_who())
    if given.scheduling is not None and _changed(scenario, given.scheduling):
        service.set_scheduling(scenario_id, given.scheduling)
    if given.name is not None:
        service.rename_scenario(scenario_id, given.name)
    return answer(scenario_detail(service.get_scenario(scenario_id), service))


def _changed(scenario: Scenario, scheduling: dict[str, Any]) -> bool:
    """Whether ``scheduling`` differs from the stored one (start choices are not compared):
    the editor sends it with every save, and an unchanged one must not move the next run."""
    current = {k: v for k, v in scenario.scheduling.items() if k != "start"}
    return current != {k: v for k, v in scheduling.items() if k != "start"}


@route("/scenarios/<int:scenario_id>", "DELETE", status=204)
def delete_scenario(scenario_id: int) -> Response:
    """Delete a scenario with its versions and history (its webhooks stay, detached)."""
    current_service().delete_scenario(scenario_id)
    return no_content()


@route(
    "/scenarios/<int:scenario_id>/duplicate",
    "POST",
    body=DuplicateIn,
    answer=ScenarioDetail,
    status=201,
)
def duplicate_scenario(scenario_id: int) -> Response:
    """A copy of the current version as a new, inactive scenario."""
    given = json_body(DuplicateIn)
    service = current_service()
    original = service.get_scenario(scenario_id)
    scheduling = {k: v for k, v in original.scheduling.items() if k != "start"}
    result = service.import_scenario(
        service.export_scenario(scenario_id),
        name=given.name or f"{original.name} (copy)",
        scheduling=scheduling,
        saved_by=_who(),
    )
    return answer(scenario_detail(result.scenario, service), 201)


@route("/scenarios/<int:scenario_id>/activate", "POST", answer=ScenarioOut)
def activate_scenario(scenario_id: int) -> Response:
    """Turn scheduling on."""
    service = current_service()
    return answer(scenario_out(service.activate_scenario(scenario_id), service))


@route("/scenarios/<int:scenario_id>/deactivate", "POST", answer=ScenarioOut)
def deactivate_scenario(scenario_id: int) -> Response:
    """Turn scheduling off."""
    service = current_service()
    return answer(scenario_out(service.deactivate_scenario(scenario_id), service))


@route(
    "/scenarios/<int:scenario_id>/sync-log", "GET", query=SyncLogQuery, answer=list[SyncEntryOut]
)
def sync_log(scenario_id: int) -> Response:
    """Did each record sync? Synced / Error / Not Valid / Not Synced per record, newest first
    (``?all=true``: every outcome, not just each record's latest)."""
    query = query_args(SyncLogQuery)
    entries = current_service().sync_log(scenario_id, limit=query.limit, latest=not query.all)
    return answer([SyncEntryOut(**entry.to_dict()) for entry in entries])


@route("/scenarios/<int:scenario_id>/versions", "GET", answer=list[VersionOut])
def list_versions(scenario_id: int) -> Response:
    """Every saved version, newest first, with who saved it (an email; ``null`` when unknown:
    saved from the command line, or before Switchboard kept it)."""
    versions = current_service().list_versions(scenario_id)
    return answer(
        [
            VersionOut(
                version=v.version,
                created_at=v.created_at,
                size_bytes=v.size_bytes,
                saved_by=v.saved_by,
            )
            for v in versions
        ]
    )


@route(
    "/scenarios/<int:scenario_id>/versions/<int:version>/restore",
    "POST",
    answer=ScenarioDetail,
)
def restore_version(scenario_id: int, version: int) -> Response:
    """Make an earlier version current again: its blueprint is saved as a new version (the
    history keeps every version; restoring the current one changes nothing)."""
    service = current_service()
    result = service.restore_version(scenario_id, version, saved_by=_who())
    return answer(scenario_detail(result.scenario, service))


@route("/scenarios/<int:scenario_id>/export", "GET", query=ExportQuery, answer=dict[str, Any])
def export_scenario(scenario_id: int) -> Response:
    """The blueprint file exactly as imported or saved (``?version=`` for an older one)."""
    version = query_args(ExportQuery).version
    service = current_service()
    scenario = service.get_scenario(scenario_id)
    text = service.export_scenario(scenario_id, version)
    filename = re.sub(r"[^A-Za-z0-9._-]+", "_", scenario.name).strip("_") or "scenario"
    return Response(
        text.encode("utf-8"),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}.blueprint.json"'},
    )


@route("/scenarios/<int:scenario_id>/run", "POST", body=RunIn, answer=ExecutionOut, status=202)
def run_scenario(scenario_id: int) -> Response:
    """Run the current version: queued (202); with a ``bundle``, run now with it as the
    trigger's output and answer the finished execution (200)."""
    given = json_body(RunIn)
    service = current_service()
    if given.bundle is not None:
        return answer(execution_out(service.run_once(scenario_id, [given.bundle])), 200)
    return answer(execution_out(service.enqueue_run(scenario_id)), 202)
