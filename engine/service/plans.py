"""Compiled plans, one per scenario version, compiled once and shared by every run."""

from __future__ import annotations

import functools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable

from engine.blueprint import load_blueprint
from engine.graph import Plan, PlanNode, compile_blueprint
from engine.registry import ModuleRegistry
from engine.spec import Effect, ModuleKind
from engine.store import Scenario, Store

_RESPONDER = "gateway:WebhookRespond"


class PlanCache:
    """Plans by ``(scenario id, version)``; versions never change, so entries never go stale.

    Thread-safe; at most ``size`` plans are kept (least recently used go first).
    """

    def __init__(self, store: Store, registry: ModuleRegistry, size: int = 256) -> None:
        self._store = store
        self._registry = registry
        self._size = size
        self._plans: OrderedDict[tuple[int, int], Plan] = OrderedDict()
        self._guard = threading.Lock()

    def get(self, scenario_id: int, version: int) -> Plan:
        """The plan of that version. Raises ``NotFound`` and ``BlueprintError``."""
        key = (scenario_id, version)
        with self._guard:
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
                return plan
        text = self._store.get_scenario_version(scenario_id, version).blueprint
        plan = compile_blueprint(load_blueprint(text), self._registry)
        self.put(scenario_id, version, plan)
        return plan

    def current(self, scenario: Scenario) -> Plan:
        """The plan of the scenario's current version."""
        return self.get(scenario.id, scenario.current_version)

    def put(self, scenario_id: int, version: int, plan: Plan) -> None:
        with self._guard:
            self._plans[(scenario_id, version)] = plan
            self._plans.move_to_end((scenario_id, version))
            while len(self._plans) > self._size:
                self._plans.popitem(last=False)


def _once_per_plan(answer: Callable[[Plan], bool]) -> Callable[[Plan], bool]:
    """``answer`` worked out once per plan (a plan never changes) and forgotten with it: each
    webhook request asks these of its plan, and walking it was ~60 calls a request."""
    kept: weakref.WeakKeyDictionary[Plan, bool] = weakref.WeakKeyDictionary()

    @functools.wraps(answer)
    def once(plan: Plan) -> bool:
        found = kept.get(plan)
        if found is None:
            found = kept[plan] = answer(plan)
        return found

    return once


@_once_per_plan
def has_responder(plan: Plan) -> bool:
    """Whether some path of the plan answers the webhook itself."""
    return any(node.module == _RESPONDER for node in plan.walk())


@_once_per_plan
def answers_at_its_end(plan: Plan) -> bool:
    """Whether the caller of a webhook waits for the whole run anyway, and not for long: a
    straight flow from the trigger (one bundle per request) through modules that compute on
    their input alone (one bundle each, no request to anywhere, no pause) to a Webhook
    response, its last module. Nothing runs after the answer but the run's own bookkeeping,
    and nothing before it can outlast the response timeout the way a call to a slow service
    would, so the accepting thread may run it (``RunOperations.run_here``). Error routes may
    hang off the modules: a run that fails before it answers ends without an answer, as any
    run does."""
    flow = plan.flow
    if len(flow) < 2 or flow[-1].kind is not ModuleKind.RESPONDER:
        return False
    trigger = flow[0]
    if trigger.kind is not ModuleKind.INSTANT_TRIGGER or trigger.spec is None:
        return False
    if "webhook_bundles" in trigger.spec.hooks:  # an app's envelope may hold many
        return False
    return all(_computes_at_once(node) for node in flow[1:-1])


_PAUSES = frozenset({"util:FunctionSleep"})
"""Modules that compute nothing but take their time."""


def _computes_at_once(node: PlanNode) -> bool:
    return (
        node.kind is ModuleKind.ACTION
        and node.spec is not None
        and node.spec.effect is Effect.COMPUTE
        and node.module not in _PAUSES
        and not node.routes
        and not node.branches
    )


def is_instant(plan: Plan) -> bool:
    """Whether the plan starts with an instant trigger (a webhook)."""
    trigger = plan.trigger
    return trigger is not None and trigger.kind is ModuleKind.INSTANT_TRIGGER
