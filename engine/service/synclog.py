"""The sync log: "did this invoice sync?" per record, from the facts an execution records.

A sync scenario's first module outputs records (a 1CRM account, a Xero invoice …); each one
ends with one of the statuses the sync guides use:

- **Synced**: a module that writes (its spec's effect is create, update, upsert or delete)
  succeeded for it;
- **Error**: a module failed for it, with the error — unless an Ignore or Resume settled that
  error and a write still succeeded for it (then it is Synced, and the message keeps the error);
  a record a Break kept says when it is retried next, or that it needs attention (its
  incomplete execution has no retry left: ``with_waiting``);
- **Not Valid**: a filter stopped it before any write; the message names the filter and the
  condition that failed, with the values it compared;
- **Not Synced**: it reached no write and no filter stopped it (a search found nothing, or the
  run stopped before it).

Facts, not guesses: the execution record says which of the first module's bundles each
operation and each filter rejection belongs to (its lineage) and which condition of a filter
failed (docs/execution-record.md); each module's spec says whether it writes (``effect``) and
which output fields identify and name a record (``naming``). Nothing here knows an app's
field names. Four rules complete the picture:

- an operation on no single bundle's path (lineage ``null``: after an aggregator over the first
  module's bundles) counts for every record of the run;
- a rejection into an aggregator drops an item from a set (a subtotal line), not the record;
- a rejection at a router's route the record left by another route (``rerouted``) did not
  stop it;
- a record stored before lineage (no ``resumed`` key) with several records cannot tell them
  apart: each of its entries says so; with one record, everything in the run is that record's.

The service reads a page of executions with their records in one query
(``SyncLogOperations.sync_log``); everything else here is pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from engine.filters import describe_failed_condition
from engine.registry import ModuleRegistry, default_registry
from engine.spec import GENERIC_NAMING, Effect, ModuleKind, ModuleSpec, RecordNaming
from engine.store import Execution, IncompleteExecution, IncompleteStatus, Store, TriggerKind

SYNCED, ERROR, NOT_SYNCED, NOT_VALID = "Synced", "Error", "Not Synced", "Not Valid"

SpecLookup = Callable[[str], ModuleSpec | None]
"""A module's spec by its id (``registry.get``); ``None`` for a module not installed."""

SYNC_LOG_PAGE = 100
"""Executions read per query."""

SHOWN_REASONS = 3
"""A Not Valid message names at most this many different failed conditions."""

SETTLED = frozenset({"ignore", "resume"})
"""Directives after which the record went on (or ended quietly): a write after them counts."""

_UNKNOWN = -1
"""Lineage of an operation in an old record with several records: whose it was is not known."""


@dataclass(frozen=True)
class SyncEntry:
    """What became of one record in one execution.

    Attributes:
        status: ``Synced``, ``Error``, ``Not Valid`` or ``Not Synced``.
        source_key: the record's key in the app its scenario watches (1CRM id, Xero ContactID …).
        source_name: its name, number or reference, for people.
        target_key: the key of what was written on the other side (the first write there).
        message: the error (Error), the filter and the condition that failed (Not Valid), or
            where it ended (Not Synced).
        at: when the execution ran (ISO 8601).
        execution_id: the execution, to open its full record.
        writes: how many writes succeeded for it.
        bundle: which of the execution's first-module bundles it was (its lineage index).
    """

    status: str
    source_key: str | None
    source_name: str | None
    target_key: str | None
    message: str | None
    at: str | None
    execution_id: str | None
    writes: int = 0
    bundle: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Outcome:
    """What the execution did for one record, collected module by module."""

    index: int
    bundle: Any
    reached: bool = False
    writes: list[tuple[ModuleSpec, Mapping[str, Any]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    handled: list[str] = field(default_factory=list)  # errors an Ignore or Resume settled
    stops: list[str] = field(default_factory=list)
    found_nothing: list[str] = field(default_factory=list)
    read_name: str | None = None


def sync_entries(
    record: Mapping[str, Any],
    *,
    specs: SpecLookup | None = None,
    execution_id: str | None = None,
    at: str | None = None,
) -> list[SyncEntry]:
    """One entry per record the execution's first module output (or the one record a resumed
    execution continued), in the order output.

    Args:
        record: a stored execution record (``ExecutionRecord.to_dict()``).
        specs: module specs by id (the installed modules by default).
    """
    lookup = specs or default_registry().get
    source_module, bundles, count, later = _sources(record)
    if not count:
        return [_broken_entry(record["error"], execution_id, at)] if record.get("error") else []
    outcomes = [_Outcome(i, bundles[i] if i < len(bundles) else None) for i in range(count)]
    lineage_known = "resumed" in record
    for module in later:
        _collect(module, lookup(str(module.get("module", ""))), outcomes, lineage_known)
    _apply_run_error(record.get("error"), outcomes)
    naming = _naming(lookup, source_module)
    source_app = source_module.partition(":")[0]
    unknown = not lineage_known and count > 1
    return [_entry(outcome, naming, source_app, execution_id, at, unknown) for outcome in outcomes]


def entries_of_execution(execution: Execution, specs: SpecLookup | None = None) -> list[SyncEntry]:
    """The entries of one stored execution (read with its record); a run that broke before
    it had a record is one Error entry."""
    at = (execution.finished_at or execution.created_at).isoformat()
    if execution.record is None:
        return [_broken_entry(execution.error, execution.id, at)] if execution.error else []
    return sync_entries(execution.record, specs=specs, execution_id=execution.id, at=at)


def latest_by_record(entries: Iterable[SyncEntry]) -> list[SyncEntry]:
    """The newest entry of each record (entries given newest first), in that order."""
    seen: dict[str, SyncEntry] = {}
    for entry in entries:
        key = entry.source_key or f"{entry.execution_id}#{entry.bundle}"
        seen.setdefault(key, entry)
    return list(seen.values())


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
    return text_table(header, rows)


def text_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table: every column padded to its widest cell but the last, left free."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [str(c).ljust(w) for c, w in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, str(row[-1])]).rstrip())
    return "\n".join(lines)


@dataclass(frozen=True)
class SyncLogLink:
    """A scenario's sync-log entry, as a reconciliation difference points at it.

    Attributes:
        scenario_id, scenario: the scenario (id and name) whose log it is in.
        entry: the record's latest entry there.
    """

    scenario_id: int
    scenario: str
    entry: SyncEntry

    def to_dict(self) -> dict[str, Any]:
        return {"scenario_id": self.scenario_id, "scenario": self.scenario, **self.entry.to_dict()}


class SyncLogIndex:
    """The latest entries of several scenarios' sync logs, found by the records they are about:
    by a key on either side (what the trigger read, what was written) or by the record's name.
    """

    def __init__(self) -> None:
        self._by_key: dict[str, list[SyncLogLink]] = {}
        self._by_name: dict[str, list[SyncLogLink]] = {}

    def add(self, scenario_id: int, scenario: str, entries: Iterable[SyncEntry]) -> None:
        for entry in entries:
            link = SyncLogLink(scenario_id, scenario, entry)
            for key in {entry.source_key, entry.target_key} - {None, ""}:
                self._by_key.setdefault(str(key), []).append(link)
            if entry.source_name:
                self._by_name.setdefault(entry.source_name.strip().casefold(), []).append(link)

    def by_key(self, key: str) -> list[SyncLogLink]:
        """Entries whose record, or the record written for it, has ``key``."""
        return list(self._by_key.get(key, [])) if key else []

    def by_name(self, name: str) -> list[SyncLogLink]:
        """Entries whose record is named ``name`` (case and outer spaces aside)."""
        return list(self._by_name.get(name.strip().casefold(), [])) if name else []


class SyncLogOperations:
    """Per-record sync status of sync scenarios."""

    def __init__(self, store: Store, registry: ModuleRegistry) -> None:
        self.store = store
        self.registry = registry

    def sync_log(
        self, scenario_id: int, *, limit: int = 100, latest: bool = True
    ) -> list[SyncEntry]:
        """The sync log of a scenario from its newest ``limit`` executions, newest first;
        with ``latest`` one entry per record (its last outcome). One query per
        ``SYNC_LOG_PAGE`` executions. Raises ``NotFound``."""
        self.store.get_scenario(scenario_id)
        entries: list[SyncEntry] = []
        retried: dict[str, int] = {}  # a retry run's id → the incomplete execution it retried
        for execution in self._executions_with_records(scenario_id, limit):
            if execution.trigger_kind is TriggerKind.RETRY and execution.trigger_ref:
                retried[execution.id] = int(execution.trigger_ref)
            entries.extend(entries_of_execution(execution, self.registry.get))
        if any(e.status == ERROR and (e.message or "").endswith(KEPT) for e in entries):
            entries = with_waiting(entries, self._unresolved(scenario_id), retried)
        return latest_by_record(entries) if latest else entries

    def _unresolved(self, scenario_id: int) -> list[IncompleteExecution]:
        """The scenario's incomplete executions still waiting (one query, only when a record
        was kept to retry)."""
        found = self.store.list_incomplete(scenario_id=scenario_id, limit=UNRESOLVED_SHOWN)
        return [i for i in found if i.status is not IncompleteStatus.RESOLVED]

    def _executions_with_records(self, scenario_id: int, limit: int) -> Iterator[Execution]:
        cursor = None
        while limit > 0:
            page = self.store.list_executions(
                scenario_id=scenario_id,
                limit=min(limit, SYNC_LOG_PAGE),
                cursor=cursor,
                with_records=True,
            )
            yield from page.items
            limit -= len(page.items)
            if page.next_cursor is None:
                return
            cursor = page.next_cursor


# -- records that wait ------------------------------------------------------------------------

KEPT = " (kept as an incomplete execution to retry)"
UNRESOLVED_SHOWN = 1000
"""Incomplete executions read to say which records wait."""


def with_waiting(
    entries: list[SyncEntry],
    unresolved: Sequence[IncompleteExecution],
    retried: Mapping[str, int],
) -> list[SyncEntry]:
    """Errors whose record waits in an unresolved incomplete execution say how: the next
    automatic retry, or — retries used up, or none planned — that it needs attention."""
    by_id = {incomplete.id: incomplete for incomplete in unresolved}
    by_execution = {i.execution_id: i for i in unresolved if i.execution_id}
    by_execution.update({run: by_id[ref] for run, ref in retried.items() if ref in by_id})
    found = []
    for entry in entries:
        incomplete = by_execution.get(entry.execution_id or "")
        if entry.status == ERROR and incomplete is not None:
            text = (entry.message or "").removesuffix(KEPT)
            entry = replace(entry, message=f"{text} — {waiting_text(incomplete)}")
        found.append(entry)
    return found


def waiting_text(incomplete: IncompleteExecution) -> str:
    if incomplete.status is IncompleteStatus.RETRYING:
        return f"being retried (incomplete execution {incomplete.id})"
    if incomplete.next_retry_at is not None:
        return (
            f"waiting: retry {incomplete.attempts + 1} of {incomplete.max_attempts} at "
            f"{incomplete.next_retry_at.isoformat(timespec='minutes')} "
            f"(incomplete execution {incomplete.id})"
        )
    tried = f"after {incomplete.attempts} retries" if incomplete.attempts else "no retry planned"
    return f"needs attention: {tried} (incomplete execution {incomplete.id})"


# -- records a later run handled ----------------------------------------------------------------


def handled_keys(record: Mapping[str, Any], specs: SpecLookup | None = None) -> set[str]:
    """The keys of the records an execution handled without an error (Synced, Not Synced, Not
    Valid): it saw each as it was then and did, or decided, what it needed."""
    entries = sync_entries(record, specs=specs)
    return {e.source_key for e in entries if e.status != ERROR and e.source_key is not None}


def incomplete_key(
    incomplete: IncompleteExecution, record: Mapping[str, Any], specs: SpecLookup | None = None
) -> str | None:
    """The key of the record ``incomplete`` waits with, read from its stored first-module
    bundle with the naming of ``record``'s first module (a run of the same scenario)."""
    first = _first_module(record)
    state = incomplete.state if isinstance(incomplete.state, Mapping) else {}
    bundles = state.get("bundles")
    if first is None or not isinstance(bundles, Mapping):
        return None
    module_id, module = first
    return _naming(specs or default_registry().get, module).key_of(bundles.get(str(module_id)))


def _first_module(record: Mapping[str, Any]) -> tuple[Any, str] | None:
    """``(id, module)`` of the record's first module (the trigger a resumed run continued)."""
    resumed = record.get("resumed")
    if isinstance(resumed, Mapping) and isinstance(resumed.get("trigger"), Mapping):
        trigger = resumed["trigger"]
        return trigger.get("id"), str(trigger.get("module") or "")
    modules = [m for m in record.get("modules") or [] if isinstance(m, Mapping)]
    if not modules:
        return None
    return modules[0].get("id"), str(modules[0].get("module") or "")


# -- reading a record -----------------------------------------------------------------------


def _sources(
    record: Mapping[str, Any],
) -> tuple[str, list[Any], int, list[Mapping[str, Any]]]:
    """``(first module's id, its stored bundles, how many it output, the modules after it)``;
    a resumed run continues the one bundle it names."""
    modules = [m for m in record.get("modules") or [] if isinstance(m, Mapping)]
    resumed = record.get("resumed")
    if isinstance(resumed, Mapping):
        trigger = resumed.get("trigger") or {}
        return str(trigger.get("module") or ""), [trigger.get("bundle")], 1, modules
    if not modules:
        return "", [], 0, []
    first = modules[0]
    bundles = [b for call in first.get("calls") or [] for b in call.get("output") or []]
    count = max(len(bundles), int(first.get("bundles_out") or 0))
    return str(first.get("module", "")), bundles, count, modules[1:]


def _collect(
    module: Mapping[str, Any],
    spec: ModuleSpec | None,
    outcomes: list[_Outcome],
    lineage_known: bool,
) -> None:
    """Add what one module did (its operations and rejections) to the records they were for."""
    for call in module.get("calls") or []:
        targets = _owners(call.get("bundle"), outcomes, lineage_known)
        for outcome in targets:
            outcome.reached = outcome.reached or len(targets) == 1
            _note_call(outcome, module, spec, call)
    into_aggregator = spec is not None and spec.kind is ModuleKind.AGGREGATOR
    if into_aggregator:
        return  # a rejected item leaves the set; the record goes on
    rejections = module.get("rejections")
    if rejections is None and module.get("filtered"):  # recorded before rejections were kept
        rejections = [{"bundle": None, "filter": None, "failed": []}] * int(module["filtered"])
    for rejection in rejections or []:
        if rejection.get("rerouted"):
            continue  # the router sent the record down another route
        for outcome in _owners(rejection.get("bundle"), outcomes, lineage_known):
            outcome.reached = True
            outcome.stops.append(_rejection_text(rejection, module))


def _owners(index: Any, outcomes: list[_Outcome], lineage_known: bool) -> list[_Outcome]:
    """The records an operation or rejection with lineage ``index`` was for."""
    if not lineage_known:
        index = None if len(outcomes) == 1 else _UNKNOWN
    if index is None:
        return outcomes
    if isinstance(index, int) and 0 <= index < len(outcomes):
        return [outcomes[index]]
    return []


def _note_call(
    outcome: _Outcome,
    module: Mapping[str, Any],
    spec: ModuleSpec | None,
    call: Mapping[str, Any],
) -> None:
    error = call.get("error")
    if error:
        directive = call.get("directive")
        errors = outcome.handled if directive in SETTLED else outcome.errors
        errors.append(_error_text(error, module, directive))
        return
    if spec is None:
        return
    if spec.writes:
        outcome.writes.append((spec, call))
    elif spec.effect is Effect.READ and outcome.read_name is None:
        outputs = call.get("output") or [None]
        outcome.read_name = spec.record_naming.name_of(outputs[0])
    elif spec.effect is Effect.SEARCH and not call.get("output_count"):
        outcome.found_nothing.append(f"{_module_name(module)} found nothing")


def _apply_run_error(error: Any, outcomes: list[_Outcome]) -> None:
    """The error that ended the run: the error of a run's only record (unless an operation of
    it already carries it); in a run of several, what stopped the records not reached yet."""
    if not isinstance(error, Mapping):
        return
    if len(outcomes) == 1:
        if not outcomes[0].errors:
            outcomes[0].errors.append(_error_text(error, None, None))
        return
    _note_not_reached(error, outcomes)


def _note_not_reached(error: Mapping[str, Any], outcomes: list[_Outcome]) -> None:
    for outcome in outcomes:
        if not outcome.reached and not outcome.writes and not outcome.errors:
            outcome.found_nothing.append(
                f"the run stopped before it: {_error_text(error, None, None)}"
            )


# -- writing an entry -----------------------------------------------------------------------


def _entry(
    outcome: _Outcome,
    naming: RecordNaming,
    source_app: str,
    execution_id: str | None,
    at: str | None,
    unknown: bool,
) -> SyncEntry:
    key = naming.key_of(outcome.bundle)
    name = naming.name_of(outcome.bundle) or outcome.read_name
    if unknown:  # recorded before lineage, with several records: no honest answer
        unsure = "recorded before the sync log could tell this run's records apart"
        return SyncEntry(NOT_SYNCED, key, name, None, unsure, at, execution_id, 0, outcome.index)
    status, message = _status(outcome)
    target = _target_key(outcome.writes, source_app)
    writes = len(outcome.writes)
    return SyncEntry(status, key, name, target, message, at, execution_id, writes, outcome.index)


def _status(outcome: _Outcome) -> tuple[str, str | None]:
    if outcome.errors:
        return ERROR, "; ".join(dict.fromkeys(outcome.errors))
    if outcome.writes:
        settled = "; ".join(dict.fromkeys(outcome.handled))
        return SYNCED, f"after an error its route settled: {settled}" if settled else None
    if outcome.handled:
        return ERROR, "; ".join(dict.fromkeys(outcome.handled))
    if outcome.stops:
        reasons = list(dict.fromkeys(outcome.stops))
        shown = "; ".join(reasons[:SHOWN_REASONS])
        more = len(reasons) - SHOWN_REASONS
        return NOT_VALID, f"stopped by {shown}" + (f" (and {more} more)" if more > 0 else "")
    if outcome.found_nothing:
        return NOT_SYNCED, outcome.found_nothing[0]
    return NOT_SYNCED, "it reached no module that writes"


def _target_key(writes: list[tuple[ModuleSpec, Mapping[str, Any]]], source_app: str) -> str | None:
    """The key of the first record written in another app (the other side), else of the first
    record written at all (a scenario within one app)."""
    ordered = [w for w in writes if w[0].app != source_app] + writes
    for spec, call in ordered:
        outputs = call.get("output") or [None]
        key = spec.record_naming.key_of(outputs[0])
        if key is not None:
            return key
    return None


def _rejection_text(rejection: Mapping[str, Any], module: Mapping[str, Any]) -> str:
    label = rejection.get("filter") or f"the filter into {_module_name(module)}"
    failed = [describe_failed_condition(c) for c in rejection.get("failed") or []]
    return f"{label}: {'; '.join(failed)}" if failed else str(label)


def _error_text(error: Any, module: Mapping[str, Any] | None, directive: Any) -> str:
    text = str(error.get("message") or error.get("type") or "error")
    if module is not None:
        text = f"{_module_name(module)}: {text}"
    if directive == "break":
        text += KEPT
    return text


def _module_name(module: Mapping[str, Any]) -> str:
    return f"[{module.get('id')}] {module.get('module')}"


def _naming(lookup: SpecLookup, module_id: str) -> RecordNaming:
    spec = lookup(module_id) if module_id else None
    return spec.record_naming if spec is not None else GENERIC_NAMING


def _broken_entry(error: Any, execution_id: str | None, at: str | None) -> SyncEntry:
    message = _error_text(error if isinstance(error, Mapping) else {}, None, None)
    return SyncEntry(ERROR, None, None, None, message, at, execution_id)


__all__ = [
    "ERROR",
    "NOT_SYNCED",
    "NOT_VALID",
    "SYNCED",
    "SyncEntry",
    "SyncLogIndex",
    "SyncLogLink",
    "SyncLogOperations",
    "entries_of_execution",
    "format_table",
    "latest_by_record",
    "sync_entries",
    "text_table",
]
