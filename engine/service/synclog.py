"""The sync log: "did this invoice sync?" per record, derived from execution records.

A sync scenario's trigger outputs records (a 1CRM account, a Xero invoice …); each one ends as

- **Synced**: a write (a ``Create…``/``Update…`` module) succeeded for it;
- **Error**: a module failed for it (handled by Ignore or not), with the error's message;
- **Not Valid**: a filter stopped it before any write (its label says which, e.g. "Contact
  exists": the invoice's customer is not in the accounting system);
- **Not Synced**: it reached no write and no filter stopped it (e.g. a search found nothing and
  does not continue, or the run stopped before).

Everything here is pure over stored execution records (``docs/execution-record.md``), except
``SyncLogOperations.sync_log`` which reads them from the store. Which write belongs to which
trigger record is exact when a run had one trigger record (every webhook run); when a polling
run had several, a write or error is attributed to the record whose values its mapped input
shares most (ids first), as the scenarios map keys from the trigger into what they write.

For the REST API (``GET /api/scenarios/<id>/sync-log``): call
``service.sync_log(scenario_id, limit=…, latest=True)`` and return
``[entry.to_dict() for entry in …]``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from engine.service.base import ServiceBase

SYNCED, ERROR, NOT_SYNCED, NOT_VALID = "Synced", "Error", "Not Synced", "Not Valid"

KEY_FIELDS = ("id", "ContactID", "InvoiceID", "QuoteID", "PaymentID", "CreditNoteID", "Id")
"""Fields that identify a record, in the order they are tried (1CRM, Xero, QuickBooks)."""

NAME_FIELDS = (
    "name",
    "Name",
    "DisplayName",
    "InvoiceNumber",
    "invoice_number",
    "QuoteNumber",
    "DocNumber",
    "Reference",
    "customer_reference",
    "payment_number",
)
"""Fields that name a record for people, in the order they are tried."""


@dataclass(frozen=True)
class SyncEntry:
    """What became of one trigger record in one execution.

    Attributes:
        status: ``Synced``, ``Error``, ``Not Valid`` or ``Not Synced``.
        source_key: the record's key in the app the trigger watches (1CRM id, Xero ContactID …).
        source_name: its name, number or reference, for people.
        target_key: the key of what was written on the other side (the first write's output).
        message: the error message (Error), or the filters that stopped it (Not Valid).
        at: when the execution ran (ISO 8601).
        execution_id: the execution, to open its full record.
        writes: how many writes succeeded for it.
    """

    status: str
    source_key: str | None
    source_name: str | None
    target_key: str | None
    message: str | None
    at: str | None
    execution_id: str | None
    writes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Outcome:
    bundle: Mapping[str, Any]
    values: set[str] = field(default_factory=set)
    writes: list[Mapping[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def is_write(module: str) -> bool:
    """``Create…``/``Update…`` modules of apps write to the other side."""
    app, _, name = module.partition(":")
    return app not in ("builtin", "util", "gateway") and name.startswith(("Create", "Update"))


def record_key(bundle: Mapping[str, Any] | None) -> str | None:
    return _first(bundle, KEY_FIELDS)


def record_name(bundle: Mapping[str, Any] | None) -> str | None:
    return _first(bundle, NAME_FIELDS)


def sync_entries(
    record: Mapping[str, Any],
    *,
    execution_id: str | None = None,
    at: str | None = None,
    filter_labels: Mapping[int, str] | None = None,
) -> list[SyncEntry]:
    """One entry per record the trigger output in this execution record.

    Args:
        record: a stored execution record (``ExecutionRecord.to_dict()``).
        filter_labels: module id → the label of the filter into it (from the blueprint), used
            to say why a record was Not Valid.
    """
    modules = list(record.get("modules") or [])
    if not modules:
        return []
    trigger, rest = modules[0], modules[1:]
    bundles = [b for call in trigger.get("calls") or [] for b in call.get("output") or []]
    if not bundles:
        return [_run_level_entry(record, execution_id, at)] if record.get("error") else []
    outcomes = [_Outcome(bundle, _scalars(bundle)) for bundle in bundles]
    stopped_by: list[str] = []
    for module in rest:
        writes = is_write(str(module.get("module", "")))
        if module.get("filtered"):
            label = (filter_labels or {}).get(int(module.get("id", 0)))
            stopped_by.append(label or f"the filter into module {module.get('id')}")
        for call in module.get("calls") or []:
            error = call.get("error")
            if not error and not writes:
                continue
            owner = _owner(outcomes, call.get("input"))
            if owner is None:
                continue
            if error:
                owner.errors.append(_message(error, module))
            else:
                owner.writes.append(call)
    if len(outcomes) == 1:
        fetched = _fetched_record(rest)
        if fetched is not None:  # an event trigger (ids only) read the record with Get…
            outcomes[0].bundle = fetched
    run_error = record.get("error")
    if run_error and len(outcomes) == 1 and not outcomes[0].errors:
        outcomes[0].errors.append(_message(run_error, None))
    reason = "; ".join(dict.fromkeys(stopped_by)) or None
    return [_entry(o, reason, execution_id, at) for o in outcomes]


def latest_by_record(entries: Iterable[SyncEntry]) -> list[SyncEntry]:
    """The newest entry of each record (entries given newest first), in that order."""
    seen: dict[str, SyncEntry] = {}
    for entry in entries:
        key = entry.source_key or entry.execution_id or ""
        seen.setdefault(key, entry)
    return list(seen.values())


def filter_labels(blueprint: Mapping[str, Any]) -> dict[int, str]:
    """Module id → the label of its incoming filter, everywhere in a blueprint (routes, error
    routes, If-else branches)."""
    labels: dict[int, str] = {}

    def walk(flow: Sequence[Any]) -> None:
        for node in flow or []:
            if not isinstance(node, Mapping):
                continue
            name = (node.get("filter") or {}).get("name")
            if name and isinstance(node.get("id"), int):
                labels[node["id"]] = str(name)
            for route in node.get("routes") or []:
                walk((route or {}).get("flow") or [])
            for branch in node.get("branches") or []:
                walk((branch or {}).get("flow") or [])
            walk(node.get("onerror") or [])

    walk(blueprint.get("flow") or [])
    return labels


def format_table(entries: Sequence[SyncEntry]) -> str:
    """The entries as a plain-text table (``switchboard log``)."""
    header = ("time", "status", "record", "key", "other side", "message")
    rows = [
        (
            (e.at or "")[:19].replace("T", " "),
            e.status,
            e.source_name or "",
            e.source_key or "",
            e.target_key or "",
            e.message or "",
        )
        for e in entries
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [str(c).ljust(w) for c, w in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, str(row[-1])]).rstrip())
    return "\n".join(lines)


class SyncLogOperations(ServiceBase):
    def sync_log(
        self, scenario_id: int, *, limit: int = 100, latest: bool = True
    ) -> list[SyncEntry]:
        """The sync log of a scenario from its newest ``limit`` executions, newest first;
        with ``latest`` one entry per record (its last outcome). Raises ``NotFound``."""
        self.store.get_scenario(scenario_id)
        page = self.store.list_executions(scenario_id=scenario_id, limit=limit)
        labels_by_version: dict[int, dict[int, str]] = {}
        entries: list[SyncEntry] = []
        for item in page.items:
            execution = self.store.get_execution(item.id)
            version = execution.scenario_version
            if version not in labels_by_version:
                labels_by_version[version] = _labels_of(self, scenario_id, version)
            at = (execution.finished_at or execution.created_at).isoformat()
            if execution.record is None:
                if execution.error:
                    entries.append(_broken_entry(execution.error, execution.id, at))
                continue
            entries.extend(
                sync_entries(
                    execution.record,
                    execution_id=execution.id,
                    at=at,
                    filter_labels=labels_by_version[version],
                )
            )
        return latest_by_record(entries) if latest else entries


# -- helpers --------------------------------------------------------------------------------


def _labels_of(service: ServiceBase, scenario_id: int, version: int) -> dict[int, str]:
    try:
        text = service.store.get_scenario_version(scenario_id, version).blueprint
        document = json.loads(text)
    except Exception:  # an unreadable old version only loses the labels
        return {}
    if isinstance(document, Mapping) and isinstance(document.get("blueprint"), Mapping):
        document = document["blueprint"]
    return filter_labels(document) if isinstance(document, Mapping) else {}


def _first(bundle: Mapping[str, Any] | None, names: Sequence[str]) -> str | None:
    if not isinstance(bundle, Mapping):
        return None
    for name in names:
        value = bundle.get(name)
        if value not in (None, "", [], {}):
            return str(value)
    return None


def _scalars(value: Any, depth: int = 0) -> set[str]:
    """Every non-trivial scalar inside a bundle, as text (for attributing calls to records)."""
    found: set[str] = set()
    if depth > 4:
        return found
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not str(key).startswith("__IMT"):
                found |= _scalars(item, depth + 1)
    elif isinstance(value, list):
        for item in value[:50]:
            found |= _scalars(item, depth + 1)
    elif isinstance(value, str) and len(value) >= 3:
        found.add(value)
    return found


def _owner(outcomes: list[_Outcome], call_input: Any) -> _Outcome | None:
    if len(outcomes) == 1:
        return outcomes[0]
    values = _scalars(call_input)
    if not values:
        return None
    keys = {id(o): record_key(o.bundle) for o in outcomes}
    best, best_score = None, 0
    for outcome in outcomes:
        key = keys[id(outcome)]
        key_hit = key is not None and any(key in v for v in values)
        score = len(values & outcome.values) + (100 if key_hit else 0)
        if score > best_score:
            best, best_score = outcome, score
    return best


def _fetched_record(modules: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The record a ``Get…`` module read right after an event trigger (QuickBooks' New Event
    carries only the entity's type and id)."""
    if not modules or ":Get" not in str(modules[0].get("module", "")):
        return None
    outputs = [b for call in modules[0].get("calls") or [] for b in call.get("output") or []]
    return outputs[0] if len(outputs) == 1 and isinstance(outputs[0], Mapping) else None


def _message(error: Mapping[str, Any], module: Mapping[str, Any] | None) -> str:
    text = str(error.get("message") or error.get("type") or "error")
    if module is not None:
        return f"[{module.get('id')}] {module.get('module')}: {text}"
    return text


def _entry(
    outcome: _Outcome, reason: str | None, execution_id: str | None, at: str | None
) -> SyncEntry:
    key, name = record_key(outcome.bundle), record_name(outcome.bundle)
    target = None
    for call in outcome.writes:
        target = target or record_key((call.get("output") or [None])[0])
    if outcome.errors:
        status, message = ERROR, "; ".join(outcome.errors)
    elif outcome.writes:
        status, message = SYNCED, None
    elif reason:
        status, message = NOT_VALID, f"stopped by: {reason}"
    else:
        status, message = NOT_SYNCED, None
    return SyncEntry(status, key, name, target, message, at, execution_id, len(outcome.writes))


def _run_level_entry(
    record: Mapping[str, Any], execution_id: str | None, at: str | None
) -> SyncEntry:
    return _broken_entry(record.get("error") or {}, execution_id, at)


def _broken_entry(error: Mapping[str, Any], execution_id: str | None, at: str | None) -> SyncEntry:
    return SyncEntry(ERROR, None, None, None, _message(error, None), at, execution_id)


__all__ = [
    "ERROR",
    "NOT_SYNCED",
    "NOT_VALID",
    "SYNCED",
    "SyncEntry",
    "SyncLogOperations",
    "filter_labels",
    "format_table",
    "latest_by_record",
    "sync_entries",
]
