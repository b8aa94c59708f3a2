"""What a run is given from outside, and what a module is given by the run.

The engine core does no I/O of its own: the clock, randomness, the HTTP session, connections,
data stores, trigger cursors and the webhook responder all come in through ``RunContext``. The
service builds one per run from real adapters; a test builds one from fakes.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from engine.runtime.transaction import Transaction


class DataStores(Protocol):
    """Data store records, as the data store modules need them (the store implements this)."""

    def get_record(self, store_id: int, key: str) -> dict[str, Any] | None: ...

    def put_record(
        self, store_id: int, key: str, data: Mapping[str, Any], *, overwrite: bool = False
    ) -> object: ...  # the store answers the record it wrote; modules do not read it

    def delete_record(self, store_id: int, key: str) -> bool: ...


@dataclass(frozen=True)
class SubscenarioResult:
    """What calling a subscenario gave back.

    Attributes:
        execution_id: the subscenario's execution.
        status: its status when it was waited for (``success``, ``warning``, ``error`` …),
            ``queued`` when it was only started.
        outputs: what its ``scenario-service:ReturnData`` returned (``{}`` when it returned
            nothing or was not waited for).
        error: the error that ended it (``{"type", "message"}``), when it failed.
    """

    execution_id: str | None
    status: str
    outputs: Mapping[str, Any] = field(default_factory=dict)
    error: Mapping[str, Any] | None = None


class Subscenarios(Protocol):
    """Runs another scenario for ``scenario-service:CallSubscenario`` (the service implements
    it; the core only calls it)."""

    def call(self, scenario: Any, inputs: Mapping[str, Any], *, wait: bool) -> SubscenarioResult:
        """Start ``scenario`` (its id) with ``inputs`` as its scenario inputs; with ``wait``,
        run it to its end and return its outputs, else only queue it.

        Raises:
            engine.errors.ModuleError: the scenario cannot be called (unknown, inactive, not
                started by ``scenario-service:StartSubscenario``, calls nested too deep …).
        """
        ...


class Connections(Protocol):
    """Resolves a connection id from ``parameters.__IMTCONN__`` to a usable connection."""

    def get(self, connection_id: Any) -> Any: ...


@dataclass(frozen=True)
class RunLimits:
    """Bounds on one run; exceeding one ends the run with a clear error, never a crash.

    Attributes:
        max_seconds: wall time of the whole run, by the context's clock.
        max_operations: operations in one run (a runaway loop stops here).
        max_bundles: bundles all modules of one run may output together.
        max_output_bytes: JSON size of one module's output bundle.
        stored_bundles: bundles kept per module in the execution record; the rest are counted.
    """

    max_seconds: float = 40 * 60
    max_operations: int = 1_000_000
    max_bundles: int = 5_000_000
    max_output_bytes: int = 5_000_000
    stored_bundles: int = 100


@dataclass
class RunContext:
    """Everything a run needs from outside the pure core.

    Attributes:
        clock: current time, timezone-aware (the core never reads the real clock itself).
        monotonic: seconds for durations (``time.perf_counter`` in production); without it
            durations come from ``clock``.
        rng: randomness for ``random``/``uuid``/``shuffle`` in mappings.
        http: a ``requests.Session``-like object modules use for HTTP.
        connections: resolves connection ids to connections.
        data_stores: data store records.
        cursors: trigger cursors by module id (read at start; new ones given to ``commit_cursor``).
        starts: "choose where to start" of polling triggers that have no cursor yet, by module
            id: ``{"type": "now" | "since" | "all" | "manual", "date"?, "value"?}``.
        commit_cursor: called with (module id, cursor) when a trigger commits.
        respond: answers the webhook that started the run (``gateway:WebhookRespond``).
        subscenarios: runs other scenarios (``scenario-service:CallSubscenario``).
        sleep: pauses the run (``util:FunctionSleep``).
        variables: the ``var.`` namespace (scenario, execution, organization, team, input).
        module_state: values modules keep from run to run of this scenario, by module id (e.g.
            the increment function's counter); the service persists it, a bare run forgets it.
        timezone: IANA zone for dates in mappings.
        allow_private_network: let HTTP modules reach loopback and private addresses.
        scenario_id, execution_id: identify the run in records and variables.
        blueprint_version: the version of the scenario this run uses.
        limits: run limits.
        on_event: receives progress events (module started / finished) as they happen, each
            numbered by the runner: ``seq`` (the run's events so far, left-out ones counted),
            ``operations`` (the run's so far), ``module_operations`` (that module's so far).
        events_unheard: asked before each progress event; while it answers ``True`` (the
            sink says nobody would receive the event) the runner only counts the event in
            ``seq`` and does not call ``on_event``: a run over thousands of items sends two
            events an operation, and the sink (a hub keeping the first 2,000 of a run) would
            only drop them.
        logger: where modules log; secrets never go here.
        compiled: run the plan's compiled paths (built-in modules inline, routes of simple
            modules without the general step machinery); ``False`` runs everything the
            general way — the same record, slower (tests compare both).
    """

    clock: Callable[[], datetime]
    monotonic: Callable[[], float] | None = None
    rng: random.Random = field(default_factory=random.Random)
    http: Any = None
    connections: Connections | None = None
    data_stores: DataStores | None = None
    cursors: Mapping[int, Any] = field(default_factory=dict)
    starts: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    commit_cursor: Callable[[int, Any], None] | None = None
    respond: Callable[[int, Any, Mapping[str, str]], None] | None = None
    subscenarios: Subscenarios | None = None
    sleep: Callable[[float], None] = lambda seconds: None
    variables: Mapping[str, Any] = field(default_factory=dict)
    module_state: MutableMapping[int, Any] = field(default_factory=dict)
    timezone: str = "UTC"
    allow_private_network: bool = False
    scenario_id: Any = None
    execution_id: str | None = None
    blueprint_version: int | None = None
    limits: RunLimits = field(default_factory=RunLimits)
    on_event: Callable[[dict[str, Any]], None] | None = None
    events_unheard: Callable[[], bool] | None = None
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("switchboard.run"))
    compiled: bool = True


class RunVariables:
    """Variables set by ``util:SetVariable2`` and friends: per cycle or per execution."""

    def __init__(self) -> None:
        self._execution: dict[str, Any] = {}
        self._cycle: dict[str, Any] = {}

    def set(self, name: str, value: Any, scope: str = "roundtrip") -> None:
        target = self._execution if scope == "execution" else self._cycle
        target[name] = value

    def scope(self, scope: str = "roundtrip") -> dict[str, Any]:
        """Where ``set`` with ``scope`` writes: for setting several at once."""
        return self._execution if scope == "execution" else self._cycle

    def get(self, name: str) -> Any:
        return self._cycle.get(name, self._execution.get(name))

    def new_cycle(self) -> None:
        self._cycle.clear()


@dataclass
class ModuleContext:
    """What ``ModuleSpec.run`` receives as ``call.context``.

    Attributes:
        run: the run's context (HTTP session, connections, data stores, clock …).
        variables: the run's variables.
        transaction: register undo/commit actions for writes that can be rolled back.
        module_id: the module being run.
        cursor: for triggers, the cursor committed by the last successful run.
        start: for a trigger without a cursor, the user's "choose where to start" (see
            ``RunContext.starts``), else ``None``: the trigger's own parameters decide.
        call_ordinal: which call of this module in the run this is (1, 2, …), counted in the
            order the runner reaches it; see ``idempotency_key``.
        key_execution_id: the execution whose call this one repeats (a retried incomplete
            execution whose call ended without a known outcome); ``None``: this run's.
        returned: the scenario outputs this call returned (``return_output``): the run ends
            once the module's output has gone down its path.
    """

    run: RunContext
    variables: RunVariables
    transaction: Transaction
    module_id: int
    cursor: Any = None
    start: Mapping[str, Any] | None = None
    pending_cursor: Any = None
    call_ordinal: int = 1
    key_execution_id: str | None = None
    returned: dict[str, Any] | None = None

    def idempotency_key(self, suffix: str | int | None = None) -> str | None:
        """A key naming this module call, for APIs that de-duplicate writes by a client key
        (Xero's ``Idempotency-Key`` header, QuickBooks' ``requestid``).

        A run that is interrupted (its worker killed) is reaped and run again under the same
        execution id; with the same trigger bundle it reaches the same calls in the same order,
        so each call gets the same key as before and the API answers a write that already
        reached it with the original response instead of creating a second record.

        Args:
            suffix: tells apart several writes inside one call (``"line-2"``); None for one.

        Returns:
            ``sb-`` and 32 hex digits (plus ``-suffix``) — short enough for QuickBooks' limit
            of 50 characters and Xero's of 128 — or None when the run has no execution id (a
            CLI or test run): nothing is replayed there, so no key should be sent.
        """
        execution_id = self.key_execution_id or self.run.execution_id
        if execution_id is None:
            return None
        return idempotency_key(
            self.run.scenario_id, execution_id, self.module_id, self.call_ordinal, suffix
        )

    @property
    def http(self) -> Any:
        return self.run.http

    @property
    def data_stores(self) -> DataStores | None:
        return self.run.data_stores

    def now(self) -> datetime:
        return self.run.clock()

    def connection(self, connection_id: Any) -> Any:
        """The connection a module's ``__IMTCONN__`` names."""
        if self.run.connections is None:
            from engine.errors import InvalidConfigurationError

            raise InvalidConfigurationError("no connections are available to this run")
        return self.run.connections.get(connection_id)

    def advance_cursor(self, cursor: Any) -> None:
        """A trigger's new cursor; stored only when the run commits."""
        self.pending_cursor = cursor

    def respond(self, status: int, body: Any, headers: Mapping[str, str]) -> None:
        if self.run.respond is not None:
            self.run.respond(status, body, headers)

    def return_output(self, outputs: Mapping[str, Any]) -> None:
        """End the run with ``outputs`` as its scenario outputs (``scenario-service:ReturnData``):
        like a ``return``, no later module or route runs; the run commits."""
        self.returned = dict(outputs)

    @property
    def subscenarios(self) -> Subscenarios:
        """The run's way to call other scenarios; a clear error where there is none."""
        if self.run.subscenarios is None:
            from engine.errors import InvalidConfigurationError

            raise InvalidConfigurationError(
                "this run cannot call other scenarios (it does not run in the service)"
            )
        return self.run.subscenarios


def idempotency_key(
    scenario_id: Any,
    execution_id: str,
    module_id: int,
    call_ordinal: int,
    suffix: str | int | None = None,
) -> str:
    """The key of one module call (see ``ModuleContext.idempotency_key``).

    A digest rather than the ids themselves: it stays within every API's length limit
    whatever the ids look like, and reveals nothing about them.
    """
    name = f"{scenario_id}/{execution_id}/{module_id}/{call_ordinal}"
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:32]
    return f"sb-{digest}" if suffix is None else f"sb-{digest}-{suffix}"
