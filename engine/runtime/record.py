"""The execution record: what happened in a run, module by module, bundle by bundle.

The record is plain data (``to_dict`` gives JSON). It keeps, per module and in the order modules
first ran, each operation's input, its output bundles, its error and the directive applied, up
to ``RunLimits.stored_bundles`` operations and bundles per module; beyond that it counts. A
confidential scenario's record keeps statuses and counts but no bundle contents.

Lineage: every operation and every filter rejection carries ``bundle``, the index of the
first module's output bundle (the trigger's record) whose path it was on, so readers such as
the sync log know which record each write, error and rejection belongs to.
See docs/execution-record.md.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

from engine.jsonvalues import COMPACT_OPTIONS, dump_compact, load_trusted


class RunStatus(StrEnum):
    """How a run ended (the execution's terminal status)."""

    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"
    INCOMPLETE = "incomplete"


_SIZE_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str)


def encoded_bundle(value: Any) -> bytes:
    """A bundle as compact UTF-8 JSON: its length is Make's "data size" of what a module
    passed on, and the runner keeps the text of the first bundles of each module (decoded
    when the record is read)."""
    try:  # ``dump_compact``, one frame shorter: once per bundle of every module
        return orjson.dumps(value, default=_json_default, option=COMPACT_OPTIONS)
    except (orjson.JSONEncodeError, TypeError):
        return dump_compact(value, _json_default)


def json_size_over(value: Any, limit: int) -> bool:
    """Whether ``value``'s compact JSON is longer than ``limit`` characters, found out while it
    is written and stopped at the limit: a value whose JSON would be gigabytes (an array of many
    references to one large text) is never built."""
    size = 0
    for chunk in _SIZE_ENCODER.iterencode(value):
        size += len(chunk)
        if size > limit:
            return True
    return False


def to_json_value(value: Any) -> Any:
    """A bundle as JSON values (dates as ISO 8601, bytes as text), for storing in a record."""
    return load_trusted(dump_compact(value, _json_default))


def iso_8601(moment: datetime) -> str:
    """A date as Make writes it in text: UTC with milliseconds (``2026-03-01T12:00:00.000Z``)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_8601(value)
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", "replace")
    return str(value)


BUNDLE_ENCODING = (orjson.dumps, _json_default, COMPACT_OPTIONS)
"""``encoded_bundle`` without its fallback or its frame: the runner's loops over every bundle
call ``dumps(bundle, default, options)`` (positional arguments: a partial with keywords, or
keywords, cost orjson a dict of them on each call) and ``encoded_bundle`` when it raises
(``orjson.JSONEncodeError``, a ``TypeError``)."""


@dataclass(slots=True)
class OperationRecord:
    """One operation of a module (one input bundle).

    ``bundle`` is its lineage: the index (from 0, in the order output, across cycles) of the
    bundle of the run's first module whose path it is on; ``None`` for the first module's own
    operations and for what combines several of its bundles (an aggregator fed by it).

    The runner's route (``_run_inline_route``) makes one per bundle by position, in this
    order of fields.
    """

    input: Any = None
    encoded_output: list[bytes] = field(default_factory=list, repr=False)
    stored: bool = field(default=True, repr=False, compare=False)
    output_count: int = 0
    error: dict[str, Any] | None = None
    directive: str | None = None
    duration_ms: float = 0.0
    bundle: int | None = None

    @property
    def output(self) -> list[Any]:
        """The output bundles kept, as JSON values (decoded afresh on each read: kept as
        their compact JSON, a 10,000-item bundle is ~6 times smaller than as Python values)."""
        return [load_trusted(encoded) for encoded in self.encoded_output]


@dataclass
class Rejection:
    """One bundle the filter into a module stopped: whose path it was on (``bundle``, as for
    ``OperationRecord``), the filter's label and, per condition group, the condition that
    failed (``engine.filters.FailedCondition.to_dict``). ``rerouted``: the filter opened a
    router's route and the bundle went on by another route of that router (or its fallback),
    so this filter did not stop it."""

    bundle: int | None
    filter: str | None
    failed: list[dict[str, Any]]
    rerouted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "bundle": self.bundle,
            "filter": self.filter,
            "failed": self.failed,
            "rerouted": self.rerouted,
        }


@dataclass
class ModuleRecord:
    """Everything one module did in a run."""

    id: int
    module: str
    label: str | None = None
    operations: int = 0
    bundles_out: int = 0
    filtered: int = 0
    errors: int = 0
    calls: list[OperationRecord] = field(default_factory=list)
    calls_omitted: int = 0
    rejections: list[Rejection] = field(default_factory=list)


@dataclass
class IncompleteState:
    """What Break (or default handling with incomplete executions on) stores to run later.

    Attributes:
        module_id: the module that failed; a retry runs it again with ``bundles``.
        bundles: the bundles of the modules before it on its path, by module id.
        error: the error, as ``{{N.error}}`` shows it.
        retry: Break's automatic retry settings (``retry``, ``count``, ``interval`` minutes).
        call: the failed call's identity (``{"execution_id", "ordinal"}``) when its outcome is
            unknown (a timeout or a connection failure: the write may have reached the API);
            the retry sends that call's idempotency key again, so the API answers a write it
            already made instead of making it twice. ``None`` after a definite refusal.
    """

    module_id: int
    bundles: dict[int, Any]
    error: dict[str, Any]
    retry: dict[str, Any] = field(default_factory=dict)
    call: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["bundles"] = {str(key): to_json_value(value) for key, value in self.bundles.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IncompleteState:
        bundles = {int(key): value for key, value in data["bundles"].items()}
        return cls(
            data["module_id"], bundles, data["error"], data.get("retry", {}), data.get("call")
        )


@dataclass
class ExecutionRecord:
    """One run of a scenario.

    ``resumed`` is set on a run that finished an incomplete execution: ``{"module_id"`` (where
    it resumed), ``"trigger": {"id", "module", "bundle"}}`` (the first module's bundle whose
    path it continues, ``None`` when confidential). That run's lineage ``bundle`` 0 is it.
    ``outputs`` are the scenario outputs ``scenario-service:ReturnData`` returned (``None``:
    the run returned none); a confidential record does not store them.
    ``stopped_at``: a resumed run that rolled back with auto-commit on, where it stopped (the
    modules before had committed): the incomplete execution it retried goes on from there.
    """

    status: RunStatus = RunStatus.SUCCESS
    operations: int = 0
    data_size: int = 0
    cycles: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_ms: float = 0.0
    modules: dict[int, ModuleRecord] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    incomplete: list[IncompleteState] = field(default_factory=list)
    committed: bool = False
    confidential: bool = False
    scenario_id: Any = None
    execution_id: str | None = None
    blueprint_version: int | None = None
    resumed: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    stopped_at: IncompleteState | None = None

    def module(self, module_id: int, module: str, label: str | None) -> ModuleRecord:
        if module_id not in self.modules:
            self.modules[module_id] = ModuleRecord(module_id, module, label)
        return self.modules[module_id]

    @property
    def _stores_outputs(self) -> bool:
        return self.outputs is not None and not self.confidential

    def to_dict(self, *, bundles: bool = True, encoded: bool = False) -> dict[str, Any]:
        """The record as JSON values (see docs/execution-record.md); without ``bundles``,
        statuses, counts, errors and timings only (``bundles_kept`` false), as a confidential
        scenario's record. With ``encoded``, each call's input and output bundles are their
        compact JSON as ``orjson.Fragment``s, for encoding the record whole at once
        (``dump_compact`` takes them as they are): the runner's encodings are not decoded
        only to be encoded again."""
        record = self._as_dict(bundles, encoded)
        if not bundles:
            record["bundles_kept"] = False
            for module in record["modules"]:
                for rejection in module["rejections"]:
                    for failed in rejection["failed"]:
                        failed.pop("a_value", None)
                        failed.pop("b_value", None)
        return record

    def _as_dict(self, bundles: bool, encoded: bool = False) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "operations": self.operations,
            "data_size": self.data_size,
            "cycles": self.cycles,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "duration_ms": round(self.duration_ms, 3),
            "scenario_id": self.scenario_id,
            "execution_id": self.execution_id,
            "blueprint_version": self.blueprint_version,
            "committed": self.committed,
            "confidential": self.confidential,
            "error": self.error,
            "warnings": list(self.warnings),
            "incomplete": [state.to_dict() for state in self.incomplete],
            "resumed": to_json_value(self.resumed) if self.resumed is not None else None,
            "modules": [_module_dict(m, bundles, encoded) for m in self.modules.values()],
            # Only a run that returned outputs has the key (older records stay as they were);
            # a confidential one keeps them out of its record, as every bundle.
            **({"outputs": to_json_value(self.outputs)} if self._stores_outputs else {}),
        }


def _module_dict(module: ModuleRecord, bundles: bool, encoded: bool = False) -> dict[str, Any]:
    # Field by field, not ``asdict``: that deep-copies every stored bundle only for
    # ``to_json_value`` to copy it once more (it was a tenth of a webhook run's time).
    return {
        "id": module.id,
        "module": module.module,
        "label": module.label,
        "operations": module.operations,
        "bundles_out": module.bundles_out,
        "filtered": module.filtered,
        "errors": module.errors,
        "calls": [
            _encoded_call_dict(call, bundles) if encoded else _call_dict(call, bundles)
            for call in module.calls
        ],
        "calls_omitted": module.calls_omitted,
        "rejections": [to_json_value(rejection.to_dict()) for rejection in module.rejections],
    }


def _encoded_call_dict(call: OperationRecord, bundles: bool) -> dict[str, Any]:
    """``_call_dict`` with the bundles as their compact JSON (``orjson.Fragment``)."""
    return {
        "input": orjson.Fragment(encoded_bundle(call.input)) if bundles else None,
        "output": [orjson.Fragment(each) for each in call.encoded_output] if bundles else [],
        "output_count": call.output_count,
        "error": None if call.error is None else to_json_value(call.error),
        "directive": call.directive,
        "duration_ms": call.duration_ms,
        "bundle": call.bundle,
    }


def _call_dict(call: OperationRecord, bundles: bool) -> dict[str, Any]:
    """A call as JSON values; without ``bundles``, no input and no output (not decoded)."""
    return {
        "input": to_json_value(call.input) if bundles else None,
        "output": call.output if bundles else [],  # JSON values already, decoded afresh
        "output_count": call.output_count,
        "error": to_json_value(call.error),
        "directive": call.directive,
        "duration_ms": call.duration_ms,
        "bundle": call.bundle,
    }
