"""Sync packs: the setup page's API — the packs, one pack's manifest with its current choices
and health, install (generate or update its scenarios), the live tax lists, and "sync
historical data from DATE" with progress (``service.install_pack`` …)."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from pydantic import BaseModel, Field

from engine.errors import ModuleError
from webui.api.models import Answer
from webui.api.problems import ApiError
from webui.api.routing import answer, json_body, route
from webui.app import current_service


class PackSummaryOut(Answer):
    name: str
    title: str
    description: str
    apps: dict[str, str]
    labels: dict[str, str]
    installed: bool


class PackOut(Answer):
    """The manifest, the choices in force (the defaults before an install), the connections
    the installed scenarios use, their health and the historical sync's progress."""

    pack: dict[str, Any]
    installed: bool
    settings: dict[str, Any]
    connections: dict[str, int]
    health: list[dict[str, Any]]
    historical: dict[str, Any] | None = None


class PackInstallIn(BaseModel):
    connections: dict[str, int] = Field(description="the stored connection per app")
    settings: dict[str, Any] = Field(default_factory=dict, description="what the page chose")


class PackInstallOut(Answer):
    scenarios: list[dict[str, Any]]


class HistoricalIn(BaseModel):
    since: str = Field(description="YYYY-MM-DD: records changed since then are synced")


class HistoricalOut(Answer):
    """Where a historical sync is: scenarios done of all, records read, errors."""

    pack: str
    since: str
    total: int
    done: int
    records: int
    current: str | None = None
    finished: bool
    errors: list[str]


class TaxListsOut(Answer):
    crm: list[dict[str, Any]]
    accounting: list[dict[str, Any]]
    table: dict[str, str]
    rates: dict[str, Any]


@route("/packs", "GET", answer=list[PackSummaryOut])
def list_packs() -> Response:
    """The sync packs (``scenarios/<pack>/pack.json``) and whether each is installed."""
    service = current_service()
    found = []
    for pack in service.list_packs():
        found.append(
            PackSummaryOut(
                name=pack.name,
                title=pack.title,
                description=pack.description,
                apps={"crm": pack.crm, "accounting": pack.accounting},
                labels=dict(pack.labels),
                installed=bool(service.pack_health(pack.name)),
            )
        )
    return answer(found)


@route("/packs/<name>", "GET", answer=PackOut)
def get_pack(name: str) -> Response:
    """One pack: what the setup page shows."""
    service = current_service()
    pack = service.pack(name)
    current = service.pack_settings(name)
    health = service.pack_health(name)
    from engine.packs import settings_for

    settings = (current or settings_for(pack, {})).to_dict()
    running = service.historical_syncs().get(name)
    return answer(
        PackOut(
            pack=pack.to_dict(),
            installed=bool(health),
            settings=settings,
            connections=_connections_in_use(service, health),
            health=health,
            historical=running.to_dict() if running else None,
        )
    )


@route("/packs/<name>/install", "POST", body=PackInstallIn, answer=PackInstallOut)
def install_pack(name: str) -> Response:
    """Generate the pack's scenarios with these choices (or update the installed ones)."""
    data = json_body(PackInstallIn)
    service = current_service()
    made = service.install_pack(name, data.connections, data.settings)
    return answer(PackInstallOut(scenarios=[m.to_dict() for m in made]))


@route("/packs/<name>/taxes", "GET", answer=TaxListsOut)
def pack_taxes(name: str) -> Response:
    """The tax table's lists, read live from both systems (``?zohocrm=3&quickbooks=5``)."""
    connections = {app: int(value) for app, value in request.args.items() if str(value).isdigit()}
    try:
        lists = current_service().pack_taxes(name, connections)
    except ModuleError as error:
        raise ApiError(502, "upstream_error", f"the taxes could not be read: {error}") from None
    return answer(TaxListsOut(**lists))


@route("/packs/<name>/historical", "POST", body=HistoricalIn, answer=HistoricalOut, status=202)
def sync_historical(name: str) -> Response:
    """Start syncing records changed since a date; ``GET /packs/<name>`` shows the progress."""
    data = json_body(HistoricalIn)
    state = current_service().start_historical_sync(name, data.since)
    return answer(HistoricalOut(**state.to_dict()), 202)


def _connections_in_use(service: Any, health: list[dict[str, Any]]) -> dict[str, int]:
    """The connection each app's modules use in the installed scenarios."""
    found: dict[str, int] = {}
    for row in health:
        plan = service.current_plan(service.get_scenario(row["id"]))
        for node in plan.nodes.values():
            connection = (node.parameters or {}).get("__IMTCONN__")
            app = node.module.split(":")[0]
            if isinstance(connection, int) and app not in found:
                found[app] = connection
    return found
