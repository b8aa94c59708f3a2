"""Reconciliation: 1CRM's books and an accounting system's, compared record by record, every
difference linked to the sync-log entries of the record it is about.

The comparison itself is ``modules.reconcile``, registered as the registry's ``reconciler``
(each side read through its connector into one vocabulary, then ``compare``); this entry
point decides which connections to read — those the library's scenarios use, or the ones
given — and looks each difference up in those scenarios' sync logs
(``synclog.SyncLogIndex``): a customer by its name, an invoice or a payment by the accounting
system's id (the key on one side of a sync), a quote by its id on the side that has it, a
1CRM record never synced by its number.

For the CLI (``switchboard reconcile xero``) and the REST API
(``GET /api/reconcile/<library>``): ``service.reconcile("xero").to_dict()``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.registry import ModuleRegistry
from engine.service.base import Clock, HttpFactory, log
from engine.service.connections import ConnectionOperations
from engine.service.errors import InvalidRequest
from engine.service.plans import PlanCache
from engine.service.synclog import SyncLogIndex, SyncLogLink, SyncLogOperations
from engine.store import Scenario, Store

CRM_APP = "onecrm"

LOG_DEPTH = 1000
"""Executions of each scenario's sync log read to find the entries differences lead to."""


@dataclass(frozen=True)
class LinkedDifference:
    """One way the two sides disagree (``modules.reconcile.Difference``) and the sync-log
    entries of its record, in every scenario of the library that handled it."""

    kind: str
    key: str
    label: str
    field: str
    crm: Any
    accounting: Any
    sync_log: tuple[SyncLogLink, ...]
    known: str = ""
    """The library's rule that leaves this difference (unallocated credit); ``""``: none."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "label": self.label,
            "field": self.field,
            "crm": json_value(self.crm),
            "accounting": json_value(self.accounting),
            "known": self.known,
            "sync_log": [link.to_dict() for link in self.sync_log],
        }


@dataclass(frozen=True)
class Reconciliation:
    """What a reconciliation read and found.

    Attributes:
        library: ``xero`` or ``quickbooks``.
        connections: the connection read on each side, by app.
        scenarios: the library's scenarios whose sync logs were searched (id → name).
        records: how many customers, invoices, payments and quotes each side holds, by app.
        differences: every difference; the books balance when each is ``known`` (a rule of
            the library leaves it, e.g. unallocated credit).
        checked_at: when both sides were read.
    """

    library: str
    connections: Mapping[str, int]
    scenarios: Mapping[int, str]
    records: Mapping[str, Mapping[str, int]]
    differences: tuple[LinkedDifference, ...]
    checked_at: datetime

    @property
    def balanced(self) -> bool:
        return all(difference.known for difference in self.differences)

    def to_dict(self) -> dict[str, Any]:
        return {
            "library": self.library,
            "balanced": self.balanced,
            "checked_at": self.checked_at.isoformat(),
            "connections": dict(self.connections),
            "scenarios": [{"id": i, "name": name} for i, name in self.scenarios.items()],
            "records": {app: dict(counts) for app, counts in self.records.items()},
            "differences": [difference.to_dict() for difference in self.differences],
        }


class ReconcileOperations:
    """The books of 1CRM and an accounting system compared (the registry's ``reconciler``),
    each difference linked to ``synclog``'s entries."""

    def __init__(
        self,
        store: Store,
        plans: PlanCache,
        registry: ModuleRegistry,
        clock: Clock,
        http_factory: HttpFactory,
        synclog: SyncLogOperations,
        *,
        connections: ConnectionOperations,
    ) -> None:
        self.store = store
        self.plans = plans
        self.registry = registry
        self.clock = clock
        self.http_factory = http_factory
        self.synclog = synclog
        self.connections = connections

    def reconcile(
        self, library: str, *, connections: Mapping[str, int] | None = None
    ) -> Reconciliation:
        """Read 1CRM and ``library``'s accounting system and compare them record by record.

        Args:
            library: ``xero`` or ``quickbooks``.
            connections: the connection to read per app (``{"onecrm": 3, "xero": 5}``); an app
                left out is read with the one the library's scenarios use.

        Raises:
            InvalidRequest: an unknown library, or no single connection to read for an app.
            NotFound: a given connection does not exist.
            ModuleError: a side could not be read.
        """
        # The comparison is a module package's, registered with the modules (no import here).
        reconciler = self.registry.reconciler
        libraries = reconciler.libraries if reconciler is not None else ()
        if reconciler is None or library not in libraries:
            raise InvalidRequest(f"unknown library {library!r}: choose {' or '.join(libraries)}")
        scenarios = self._library_scenarios(library)
        chosen = _chosen_connections(library, scenarios, connections or {})
        for connection_id in chosen.values():
            self.store.get_connection(connection_id)  # NotFound names it
        checked_at = self.clock()
        with contextlib.closing(self.http_factory()) as session:
            resolver = self.connections.resolver(session)
            crm = reconciler.fetch(CRM_APP, resolver.get(chosen[CRM_APP]), session)
            accounting = reconciler.fetch(library, resolver.get(chosen[library]), session)
        index = SyncLogIndex()
        for scenario, _ in scenarios:
            index.add(
                scenario.id, scenario.name, self.synclog.sync_log(scenario.id, limit=LOG_DEPTH)
            )
        differences = tuple(_linked(d, index) for d in reconciler.compare(library, crm, accounting))
        return Reconciliation(
            library=library,
            connections=chosen,
            scenarios={scenario.id: scenario.name for scenario, _ in scenarios},
            records={CRM_APP: _counts(crm), library: _counts(accounting)},
            differences=differences,
            checked_at=checked_at,
        )

    def _library_scenarios(self, library: str) -> list[tuple[Scenario, dict[str, set[int]]]]:
        """Scenarios with modules of both 1CRM and ``library``, with the connections they use
        per app."""
        found = []
        for scenario in self.store.list_scenarios():
            try:
                plan = self.plans.current(scenario)
            except Exception:  # a scenario that does not compile syncs nothing
                log.info("reconcile: scenario %s does not compile; skipped", scenario.id)
                continue
            used: dict[str, set[int]] = {}
            for node in plan.walk():
                app = node.module.partition(":")[0]
                connection = node.parameters.get("__IMTCONN__")
                used.setdefault(app, set())
                if isinstance(connection, int) or str(connection).isdigit():
                    used[app].add(int(str(connection)))
            if CRM_APP in used and library in used:
                found.append((scenario, used))
        return found


def _chosen_connections(
    library: str,
    scenarios: list[tuple[Scenario, dict[str, set[int]]]],
    given: Mapping[str, int],
) -> dict[str, int]:
    chosen: dict[str, int] = {}
    for app in (CRM_APP, library):
        if app in given:
            chosen[app] = int(given[app])
            continue
        used = sorted({c for _, apps in scenarios for c in apps.get(app, set())})
        if len(used) != 1:
            found = (
                f"its scenarios use connections {', '.join(map(str, used))}"
                if used
                else "no imported scenario of it has one"
            )
            raise InvalidRequest(
                f"which {app} connection should the {library} reconciliation read? {found}; "
                f"give one ({app}=ID)"
            )
        chosen[app] = used[0]
    return chosen


def _linked(difference: Any, index: SyncLogIndex) -> LinkedDifference:
    """A difference with the sync-log entries of its record: customers by name, invoices and
    payments by the accounting system's id, a record only 1CRM has by its number."""
    if difference.kind == "customer" or not difference.key:
        links = index.by_name(difference.label)
    else:
        links = index.by_key(difference.key)
    return LinkedDifference(
        difference.kind,
        difference.key,
        difference.label,
        difference.field,
        difference.crm,
        difference.accounting,
        tuple(links),
        getattr(difference, "known", ""),
    )


def _counts(books: Any) -> dict[str, int]:
    return {
        "customers": len(books.customers),
        "invoices": len(books.invoices),
        "payments": len(books.payments),
        "quotes": len(getattr(books, "quotes", ())),
    }


def json_value(value: Any) -> Any:
    """A compared value as JSON: amounts as exact text (``"115.00"``), tuples as lists."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


__all__ = ["LinkedDifference", "ReconcileOperations", "Reconciliation"]
