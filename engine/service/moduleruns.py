""" "Run this module only": one module's operation with sample bundles, on the same runner as
every run (a one-module plan resumed at that module), stored nowhere."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.runtime import IncompleteState, run_scenario
from engine.service.base import HttpFactory
from engine.service.errors import InvalidField
from engine.service.plans import PlanCache
from engine.service.runs import RunOperations
from engine.spec import ModuleKind
from engine.store import Execution, ExecutionStatus, Store, TriggerKind

_TRIGGERS = {ModuleKind.TRIGGER, ModuleKind.INSTANT_TRIGGER}


@dataclass
class ModuleRun:
    """What the module did: its output bundles or its error."""

    module_id: int
    module: str
    status: str
    operations: int
    output: list[Any]
    error: dict[str, Any] | None
    duration_ms: float


class ModuleRunOperations:
    """ "Run this module only", on the runner every run uses (``runs.run_context``)."""

    def __init__(
        self, store: Store, plans: PlanCache, http_factory: HttpFactory, runs: RunOperations
    ) -> None:
        self.store = store
        self.plans = plans
        self.http_factory = http_factory
        self.runs = runs

    def run_module_only(
        self,
        scenario_id: int,
        module_id: int,
        bundles: Mapping[int, Any],
        *,
        version: int | None = None,
    ) -> ModuleRun:
        """Run module ``module_id`` of the scenario's current (or given) version once, with
        ``bundles`` as the output of the modules it maps from (``{1: {...}}``), and nothing
        after it: no routes, no error handlers, no execution stored.

        Raises:
            NotFound: no such scenario or version. InvalidField: no such module, or a trigger
                (triggers run with "Run once").
        """
        scenario = self.store.get_scenario(scenario_id)
        version = version or scenario.current_version
        plan = self.plans.get(scenario_id, version)
        node = plan.nodes.get(module_id)
        if node is None:
            raise InvalidField(f"the scenario has no module {module_id}", path="module_id")
        if node.kind in _TRIGGERS or node.kind is None:
            what = "a trigger" if node.kind else "a module this installation lacks"
            raise InvalidField(f"module {module_id} is {what}; it cannot run alone")
        alone = dataclasses.replace(node, routes=(), branches=(), onerror=())
        single = dataclasses.replace(plan, flow=(alone,), nodes={module_id: alone})
        probe = _probe(scenario_id, version)
        state = IncompleteState(module_id, {int(k): v for k, v in bundles.items()}, {})
        with contextlib.closing(self.http_factory()) as http:
            context = self.runs.run_context(scenario, single, probe, http, None)
            context = dataclasses.replace(context, on_event=None, commit_cursor=None)
            record = run_scenario(single, context, resume=state)
        module = record.modules.get(module_id)
        output: list[Any] = []
        error = record.error
        if module is not None:
            for call in module.calls:
                output.extend(call.output)
                error = call.error or error
        return ModuleRun(
            module_id=module_id,
            module=node.module,
            status=str(record.status),
            operations=record.operations,
            output=output,
            error=error,
            duration_ms=round(record.duration_ms, 3),
        )


def _probe(scenario_id: int, version: int) -> Execution:
    """A stand-in execution for the run's context (never stored)."""
    fields: dict[str, Any] = {item.name: None for item in dataclasses.fields(Execution)}
    fields.update(
        id=f"probe-{uuid.uuid4()}",
        scenario_id=scenario_id,
        scenario_version=version,
        trigger_kind=TriggerKind.MANUAL,
        status=ExecutionStatus.RUNNING,
        operations=0,
        data_size=0,
        reaped_count=0,
    )
    return Execution(**fields)
