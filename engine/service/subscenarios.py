"""Subscenarios: the service's side of ``scenario-service:CallSubscenario``.

The engine core asks ``RunContext.subscenarios.call(scenario, inputs, wait=…)``; this file
answers it. A call creates an execution of the called scenario with trigger kind
``subscenario`` whose ``trigger_ref`` holds the caller's execution, the nesting depth and the
inputs (JSON), so a worker, the reaper's re-run and the history all see the same inputs. With
``wait`` the execution runs at once in the caller's thread and its outputs come back; without,
it is queued for a worker.

The called scenario must be active and start with ``scenario-service:StartSubscenario`` (Make
asks the same). Calls nest at most ``MAX_DEPTH`` deep, so a scenario calling itself ends with a
clear error instead of exhausting the worker.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from engine.errors import DataError, InvalidConfigurationError, RuntimeError
from engine.graph import Plan
from engine.jsonvalues import dumps
from engine.runtime import ExecutionRecord, SubscenarioResult
from engine.runtime.record import to_json_value
from engine.store import Execution, NotFound, Scenario, TriggerKind

if TYPE_CHECKING:
    from engine.service.runs import RunOperations

MAX_DEPTH = 10
START_MODULE = "scenario-service:StartSubscenario"

_outputs: ContextVar[dict[str, Any] | None] = ContextVar("subscenario_outputs", default=None)
"""Outputs of the executions a waiting caller runs in this thread, by execution id: a
confidential scenario's record does not keep them, so they are handed over in memory."""


class ServiceSubscenarios:
    """``engine.runtime.Subscenarios`` for one running execution (the caller)."""

    def __init__(self, service: RunOperations, caller: Execution) -> None:
        self._service = service
        self._caller = caller

    def call(self, scenario: Any, inputs: Mapping[str, Any], *, wait: bool) -> SubscenarioResult:
        called = self._called_scenario(scenario)
        _check_required(called, self._service.plans.current(called), inputs)
        depth = call_depth(self._caller) + 1
        if depth > MAX_DEPTH:
            raise RuntimeError(
                f"subscenario calls nest deeper than {MAX_DEPTH} (scenario {called.id} "
                "calls itself, directly or through others?)"
            )
        reference = {"caller": self._caller.id, "depth": depth, "inputs": to_json_value(inputs)}
        execution = self._service.store.create_execution(
            called.id, called.current_version, TriggerKind.SUBSCENARIO, dumps(reference)
        )
        if not wait:
            self._service.queue.dispatch_execution(execution.id)
            return SubscenarioResult(execution.id, "queued")
        return self._run(execution)

    def _run(self, execution: Execution) -> SubscenarioResult:
        with _capturing() as captured:
            finished = self._service.execute(execution.id)
        if finished is None:  # a sequential scenario busy elsewhere: a worker runs it later
            self._service.queue.dispatch_execution(execution.id)
            raise RuntimeError(
                f"scenario {execution.scenario_id} is running another execution (it is "
                f"sequential); execution {execution.id} was queued instead of waited for"
            )
        return SubscenarioResult(
            finished.id,
            str(finished.status),
            captured.get(finished.id) or {},
            dict(finished.error) if finished.error else None,
        )

    def _called_scenario(self, scenario: Any) -> Scenario:
        found = self._find(scenario)
        if not found.active:
            raise InvalidConfigurationError(
                f"scenario {found.id} ({found.name}) is not active; activate it to call it"
            )
        plan = self._service.plans.current(found)
        if plan.trigger is None or plan.trigger.module != START_MODULE:
            raise InvalidConfigurationError(
                f"scenario {found.id} ({found.name}) does not start with Start scenario "
                f"({START_MODULE}), so it cannot receive inputs"
            )
        return found

    def _find(self, scenario: Any) -> Scenario:
        """By id, else by name (a blueprint from Make names a scenario id of Make's)."""
        text = str(scenario).strip()
        if text.isdigit():
            try:
                return self._service.store.get_scenario(int(text))
            except NotFound:
                pass
        named = [s for s in self._service.store.list_scenarios() if s.name == text]
        if len(named) == 1:
            return named[0]
        problem = "several scenarios are" if named else "no scenario is"
        raise DataError(f"{problem} called {text!r} (parameters.scenario: an id or a name)")


def declared_inputs(plan: Plan) -> list[dict[str, Any]]:
    """The scenario inputs Start scenario declares (Make keeps them in its
    ``metadata.interface``: ``[{name, type, required}]``)."""
    trigger = plan.trigger
    interface = ((trigger.item.metadata or {}) if trigger else {}).get("interface")
    return [
        dict(spec) for spec in interface or [] if isinstance(spec, Mapping) and spec.get("name")
    ]


def _check_required(scenario: Scenario, plan: Plan, inputs: Mapping[str, Any]) -> None:
    """Make runs a scenario only when its required inputs have values."""
    missing = [
        str(spec["name"])
        for spec in declared_inputs(plan)
        if spec.get("required") and inputs.get(str(spec["name"])) in (None, "")
    ]
    if missing:
        raise DataError(
            f"scenario {scenario.id} ({scenario.name}) needs its input(s) "
            + ", ".join(missing)
            + " (mapper.data)"
        )


def call_depth(execution: Execution) -> int:
    """How deep in subscenario calls ``execution`` runs (0: not called by a scenario)."""
    return int(_reference(execution).get("depth", 0))


def scenario_inputs(execution: Execution) -> dict[str, Any] | None:
    """The inputs a called execution was given; ``None`` for any other execution."""
    if execution.trigger_kind is not TriggerKind.SUBSCENARIO:
        return None
    inputs = _reference(execution).get("inputs")
    return dict(inputs) if isinstance(inputs, Mapping) else {}


def keep_outputs(execution: Execution, record: ExecutionRecord) -> None:
    """Hand a called execution's outputs to the caller waiting in this thread."""
    captured = _outputs.get()
    if captured is not None and record.outputs is not None:
        captured[execution.id] = dict(record.outputs)


def _reference(execution: Execution) -> dict[str, Any]:
    if execution.trigger_kind is not TriggerKind.SUBSCENARIO or not execution.trigger_ref:
        return {}
    try:
        value = json.loads(execution.trigger_ref)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@contextmanager
def _capturing() -> Iterator[dict[str, Any]]:
    captured: dict[str, Any] = {}
    token = _outputs.set(captured)
    try:
        yield captured
    finally:
        _outputs.reset(token)
