"""Sync pack operations: install (generate or update the pack's scenarios), their health, and
"sync historical data from DATE" with progress. The pack files themselves: ``engine.packs``."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from engine.packs import (
    Pack,
    PackError,
    PackSettings,
    enabled,
    find_pack,
    generate,
    list_packs,
    settings_for,
    settings_of,
    tax_table,
)
from engine.registry import ModuleRegistry
from engine.service.base import HttpFactory
from engine.service.connections import ConnectionOperations
from engine.service.errors import InvalidRequest
from engine.service.plans import PlanCache
from engine.service.runs import RunOperations
from engine.service.scenarios import ScenarioOperations, bind_connections
from engine.service.synclog import SyncLogOperations
from engine.spec import ModuleKind
from engine.store import ExecutionStatus, Scenario, Store


@dataclass(frozen=True)
class PackScenario:
    """One generated scenario: which flow, whether the install made or updated it."""

    id: int
    name: str
    flow: str
    pair: str
    direction: str
    active: bool
    change: str  # "created", "updated" or "unchanged"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "flow": self.flow,
            "pair": self.pair,
            "direction": self.direction,
            "active": self.active,
            "change": self.change,
        }


@dataclass
class HistoricalSync:
    """Progress of one "sync historical data from DATE": flows done of all, records read."""

    pack: str
    since: str
    total: int
    done: int = 0
    records: int = 0
    current: str | None = None
    finished: bool = False
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "since": self.since,
            "total": self.total,
            "done": self.done,
            "records": self.records,
            "current": self.current,
            "finished": self.finished,
            "errors": list(self.errors),
        }


class PackOperations:
    """Sync packs: install their scenarios with the user's choices, their health, the
    historical sync, the tax table read live from both systems."""

    def __init__(
        self,
        store: Store,
        registry: ModuleRegistry,
        plans: PlanCache,
        http_factory: HttpFactory,
        *,
        connections: ConnectionOperations,
        scenarios: ScenarioOperations,
        runs: RunOperations,
        sync_logs: SyncLogOperations,
    ) -> None:
        self.store = store
        self.registry = registry
        self.plans = plans
        self.http_factory = http_factory
        self.connections = connections
        self.scenarios = scenarios
        self.runs = runs
        self.sync_logs = sync_logs
        self._historical: dict[str, HistoricalSync] = {}

    def list_packs(self) -> list[Pack]:
        return list_packs()

    def pack(self, name: str) -> Pack:
        try:
            return find_pack(name)
        except PackError as error:
            raise InvalidRequest(str(error)) from None

    def install_pack(
        self,
        name: str,
        connections: Mapping[str, int],
        settings: Mapping[str, Any] | None = None,
        *,
        saved_by: str | None = None,
    ) -> list[PackScenario]:
        """Generate the pack's scenarios with these choices, or save them as new versions of
        the ones installed before (their cursors, history and sync logs stay); activate the
        flows the chosen directions run, deactivate the others; poll every interval.

        Raises:
            InvalidRequest: an unknown pack, a choice the pack refuses (the message names it),
                or a connection missing for one of its two apps.
        """
        pack = self.pack(name)
        for app in pack.connection_apps:
            if app not in connections:
                raise InvalidRequest(f"choose the {pack.labels.get(app, app)} connection ({app})")
            connection = self.store.get_connection(int(connections[app]))
            if connection.app != app:
                raise InvalidRequest(f"connection {connection.id} is a {connection.app} connection")
        try:
            chosen = settings_for(pack, settings)
        except PackError as error:
            raise InvalidRequest(str(error)) from None
        interval = (chosen.interval_minutes or pack.interval_minutes) * 60
        installed = self._pack_scenarios(pack)
        made = []
        for pair, flow in pack.flows():
            try:
                text = bind_connections(generate(pack, flow, chosen), connections)
            except PackError as error:
                raise InvalidRequest(str(error)) from None
            scenario = installed.get(flow.file)
            if scenario is None:
                scenario_id = self.scenarios.import_scenario(text, saved_by=saved_by).scenario.id
                change = "created"
            elif self.scenarios.export_scenario(scenario.id) != text:
                self.scenarios.save_scenario(scenario.id, text, saved_by=saved_by)
                scenario_id, change = scenario.id, "updated"
            else:
                scenario_id, change = scenario.id, "unchanged"
            trigger = self.plans.current(self.scenarios.get_scenario(scenario_id)).trigger
            if trigger is not None and trigger.kind is ModuleKind.INSTANT_TRIGGER:
                self.scenarios.set_scheduling(scenario_id, {"type": "immediately"})
            else:
                every = flow.interval_minutes * 60 if flow.interval_minutes else interval
                self.scenarios.set_scheduling(
                    scenario_id, {"type": "indefinitely", "interval": every}
                )
            active = enabled(pair, flow, chosen)
            current = self.scenarios.get_scenario(scenario_id)
            if active and not current.active:
                current = self.scenarios.activate_scenario(scenario_id)
            elif not active and current.active:
                current = self.scenarios.deactivate_scenario(scenario_id)
            made.append(
                PackScenario(
                    scenario_id, current.name, flow.file, pair.key, flow.direction, active, change
                )
            )
        return made

    def pack_settings(self, name: str) -> PackSettings | None:
        """The choices the installed scenarios were generated with (``None``: not installed)."""
        pack = self.pack(name)
        for scenario in self._pack_scenarios(pack).values():
            found = settings_of(self.scenarios.export_scenario(scenario.id))
            if found:
                return settings_for(pack, found.get("settings"))
        return None

    def pack_health(self, name: str) -> list[dict[str, Any]]:
        """Per installed scenario: active, its last run (when, status), the failed runs among
        the recent ones, and the records its sync log has as Error or Not Valid now."""
        pack = self.pack(name)
        installed = self._pack_scenarios(pack)
        health = []
        for pair, flow in pack.flows():
            scenario = installed.get(flow.file)
            if scenario is None:
                continue
            runs = self.store.list_executions(scenario_id=scenario.id, limit=50).items
            last = runs[0] if runs else None
            entries = self.sync_logs.sync_log(scenario.id, limit=50)
            hooks = self.store.list_webhooks(scenario_id=scenario.id)
            health.append(
                {
                    "webhook_url": self.scenarios.webhook_url(hooks[0]) if hooks else None,
                    "id": scenario.id,
                    "name": scenario.name,
                    "pair": pair.key,
                    "flow": flow.file,
                    "direction": flow.direction,
                    "active": scenario.active,
                    "last_sync": last.started_at.isoformat() if last and last.started_at else None,
                    "last_status": last.status.value if last else None,
                    "failed_runs": sum(r.status is ExecutionStatus.ERROR for r in runs),
                    "errors": sum(e.status == "Error" for e in entries),
                    "not_valid": sum(e.status == "Not Valid" for e in entries),
                    "not_valid_records": [
                        e.to_dict() for e in entries if e.status in ("Not Valid", "Error")
                    ][:20],
                }
            )
        return health

    def sync_historical(
        self,
        name: str,
        since: str,
        *,
        progress: Callable[[HistoricalSync], None] | None = None,
        rounds: int = 50,
    ) -> HistoricalSync:
        """Every active flow of the pack reads its records changed since ``since`` (a date),
        pair by pair in the manifest's order (customers and products before the documents that
        need them): its polling trigger is told to start there, and the flow runs until a run
        reads nothing more (at most ``rounds`` runs). ``progress`` is called after each run.

        Raises:
            InvalidRequest: not a date, or the pack has no active scenario.
        """
        try:
            day = date.fromisoformat(str(since)[:10])
        except ValueError:
            raise InvalidRequest(f"since: {since!r} is not a date (YYYY-MM-DD)") from None
        pack = self.pack(name)
        installed = self._pack_scenarios(pack)
        flows = [installed[f.file] for _, f in pack.flows() if f.file in installed]
        active = [s for s in flows if self.scenarios.get_scenario(s.id).active]
        if not active:
            raise InvalidRequest(f"install {name} first: it has no active scenario")
        state = HistoricalSync(name, day.isoformat(), len(active))
        self.historical_syncs()[name] = state
        start = datetime.combine(day, datetime.min.time()).isoformat() + "Z"
        for scenario in active:
            state.current = scenario.name
            trigger = self.plans.current(scenario).trigger
            if trigger is None or trigger.kind is not ModuleKind.TRIGGER:
                state.done += 1
                continue
            self.scenarios.choose_where_to_start(
                scenario.id, trigger.id, {"type": "since", "date": start}
            )
            for _ in range(rounds):
                execution = self.runs.run_once(scenario.id)
                read = _bundles_read(execution.record, trigger.id)
                state.records += read
                if execution.status is ExecutionStatus.ERROR:
                    state.errors.append(f"{scenario.name}: {execution.error}")
                if progress:
                    progress(state)
                if read == 0 or execution.status is ExecutionStatus.ERROR:
                    break
            state.done += 1
        state.current, state.finished = None, True
        if progress:
            progress(state)
        return state

    def start_historical_sync(self, name: str, since: str) -> HistoricalSync:
        """``sync_historical`` in a thread of its own; ``historical_syncs()[name]`` shows
        where it is. Raises ``InvalidRequest`` as ``sync_historical`` does, before starting."""
        date_text = str(since)[:10]
        try:
            date.fromisoformat(date_text)
        except ValueError:
            raise InvalidRequest(f"since: {since!r} is not a date (YYYY-MM-DD)") from None
        running = self.historical_syncs().get(name)
        if running and not running.finished:
            raise InvalidRequest(f"a historical sync of {name} is running")
        pack = self.pack(name)
        flows = self._pack_scenarios(pack)
        placeholder = HistoricalSync(name, date_text, len(flows))
        self.historical_syncs()[name] = placeholder

        def work() -> None:
            try:
                self.sync_historical(name, date_text)
            except Exception as error:  # the page shows it; the thread has no one to raise to
                placeholder.errors.append(str(error))
                placeholder.finished = True

        threading.Thread(target=work, name=f"historical-{name}", daemon=True).start()
        return placeholder

    def pack_taxes(self, name: str, connections: Mapping[str, int]) -> dict[str, Any]:
        """The tax table's two lists, read live through the given connections: the CRM's
        taxes (``crm``) and the accounting system's codes (``accounting``), each
        ``[{"code", "name", "rate"}]``, with the table's current rows (``table``).

        Raises:
            InvalidRequest: the pack maps no taxes, or a connection is missing.
            ModuleError: a system could not be read.
        """
        pack = self.pack(name)
        if not pack.taxes:
            raise InvalidRequest(f"{name} maps no taxes")
        lists: dict[str, Any] = {}
        with contextlib.closing(self.http_factory()) as session:
            resolver = self.connections.resolver(session)
            for side, app in (("crm", pack.crm), ("accounting", pack.accounting)):
                reader = self.registry.tax_readers.get(app)
                if reader is None or app not in pack.connection_apps:
                    lists[side] = []
                    continue
                if app not in connections:
                    raise InvalidRequest(f"choose the {pack.labels.get(app, app)} connection")
                lists[side] = reader(resolver.get(int(connections[app])), session)
        current = self.pack_settings(name)
        lists["table"] = tax_table(pack, current or settings_for(pack, {}))
        lists["rates"] = dict(pack.taxes.get("rates", {}))
        return lists

    def historical_syncs(self) -> dict[str, HistoricalSync]:
        return self._historical

    def _pack_scenarios(self, pack: Pack) -> dict[str, Scenario]:
        """The pack's installed scenarios by flow file: those generated from it (their
        ``metadata.pack``), else one named like the flow's blueprint."""
        names = {pack.flow_name(flow): flow.file for _, flow in pack.flows()}
        found: dict[str, Scenario] = {}
        for scenario in self.store.list_scenarios():
            marker = settings_of(self.scenarios.export_scenario(scenario.id))
            if marker and marker.get("name") == pack.name and marker.get("flow") in names.values():
                found.setdefault(marker["flow"], scenario)
            elif scenario.name in names:
                found.setdefault(names[scenario.name], scenario)
        return found


def _bundles_read(record: Mapping[str, Any] | None, trigger_id: int) -> int:
    """How many bundles the trigger output in a run (its execution record)."""
    for entry in (record or {}).get("modules", []):
        if entry.get("id") == trigger_id:
            return sum(len(call.get("output") or []) for call in entry.get("calls", []))
    return 0
