"""The runner: a compiled scenario executed exactly as Make executes it.

Depth first, one bundle at a time: a module runs once per incoming bundle, and each bundle it
outputs travels the rest of its path before the next one starts. Routers try their routes in
order; iterators split; aggregators collect what their feeder produced for one input bundle and
emit once; error routes catch a module's error and their directive is applied here, at one
boundary (``_handle_error``). Control that must unwind the whole run (Commit, Rollback, a fatal
error) travels as ``_StopRun`` and is settled in ``_run_cycle``.

The runner does no I/O of its own: everything comes through the ``RunContext``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from orjson import JSONEncodeError
from pydantic import BaseModel, ValidationError

from engine.errors import (
    BundleValidationError,
    InvalidConfigurationError,
    ModuleError,
    RuntimeError,
    UnknownModuleError,
)
from engine.graph.plan import Plan, PlanNode
from engine.mapping import EvalContext
from engine.mapping.generated import BundleItem, generated_bundle_item
from engine.runtime.aggregation import NO_GROUP, Accumulator
from engine.runtime.context import ModuleContext, RunContext, RunVariables
from engine.runtime.inline import (
    Inline,
    PreparedSetVariables,
    inline_of,
    prepared_set_variables,
    set_variables,
)
from engine.runtime.record import (
    BUNDLE_ENCODING,
    ExecutionRecord,
    IncompleteState,
    ModuleRecord,
    OperationRecord,
    Rejection,
    RunStatus,
    encoded_bundle,
    to_json_value,
)
from engine.runtime.transaction import Transaction
from engine.spec import ModuleCall, ModuleKind

Scope = Mapping[int, Any]
OnEnd = Callable[[Scope], None] | None

_ROUTER, _IF_ELSE, _MERGE = "builtin:BasicRouter", "builtin:BasicIfElse", "builtin:BasicMerge"
_TRIGGER_KINDS = frozenset({ModuleKind.TRIGGER, ModuleKind.INSTANT_TRIGGER})
_UNKNOWN_OUTCOME = frozenset({"ConnectionError", "ModuleTimeoutError"})
"""Errors after which a write may or may not have reached the API."""


class RunLimitExceeded(RuntimeError):
    """A run went past one of its limits (time, operations, output size)."""


class _StopRun(Exception):
    """Unwinds the run: ``commit`` (Commit directive) or ``rollback`` (Rollback, fatal error)."""

    def __init__(
        self,
        outcome: str,
        error: dict[str, Any] | None = None,
        stopped: IncompleteState | None = None,
    ) -> None:
        super().__init__(outcome)
        self.outcome = outcome
        self.error = error
        self.stopped = stopped  # the bundle's remainder from the module that rolled back


class _Directive(Exception):
    """A directive module was reached at the end of an error route."""

    def __init__(self, node: PlanNode, scope: Scope) -> None:
        super().__init__(node.module)
        self.node = node
        self.scope = scope


@dataclass(slots=True)
class _Step:
    """A bundle arriving at a module: the module, where it sits, and the path's bundles so far.
    Never changed once made (not frozen only because a frozen one is slower to make, and one
    is made per bundle per module)."""

    node: PlanNode
    flow: tuple[PlanNode, ...]
    index: int
    scope: Scope
    on_end: OnEnd

    def then(self, output: Any) -> Scope:
        """The path's bundles once this module has output ``output``."""
        return {**self.scope, self.node.id: output}


@dataclass(frozen=True)
class _Position:
    """Where a node sits: its flow and its index there, to continue after it."""

    flow: tuple[PlanNode, ...]
    index: int


def run_scenario(
    plan: Plan,
    context: RunContext,
    *,
    trigger_bundles: Iterable[Mapping[str, Any]] | None = None,
    resume: IncompleteState | None = None,
) -> ExecutionRecord:
    """Run ``plan`` once and return its execution record.

    Args:
        plan: the compiled scenario.
        context: clock, HTTP session, connections, data stores … for this run.
        trigger_bundles: the trigger's output (a webhook's bundles, or a bundle given by
            "run once"); without it a polling trigger is asked for bundles, cycle by cycle.
        resume: an incomplete execution to finish: the failed module runs again with the
            stored bundles and the rest of its path follows.
    """
    return _Run(plan, context).execute(trigger_bundles, resume)


class _Run:
    """The state of one run. Not reusable, not shared between threads."""

    def __init__(self, plan: Plan, context: RunContext) -> None:
        self.plan = plan
        self.context = context
        self.settings = plan.settings
        self.record = ExecutionRecord(
            confidential=self.settings.confidential,
            scenario_id=context.scenario_id,
            execution_id=context.execution_id,
            blueprint_version=context.blueprint_version,
        )
        self.variables = RunVariables()
        self.transaction = Transaction(auto_commit=self.settings.auto_commit)
        layout = _layout(plan, bool(context.compiled))
        self.positions = layout.positions
        self.feeds = layout.feeds
        self.first = layout.first
        self.limits = context.limits
        monotonic = context.monotonic
        self.seconds: Callable[[], float] = (
            monotonic if monotonic is not None else lambda: context.clock().timestamp()
        )
        self.handlers = layout.handlers
        self.inline = layout.inline
        self.next_inline = layout.next_inline
        self.into_accumulator = layout.into_accumulator
        # Set variables whose mapper has the exported shape: its values evaluated directly.
        self.prepared = layout.prepared
        self.bundle_items = layout.bundle_items
        self.accumulators: dict[int, Accumulator] = {}
        self.cursors: dict[int, Any] = dict(context.cursors)
        self.pending_cursors: dict[int, Any] = {}
        self.trigger_contexts: dict[int, ModuleContext] = {}
        self.parameters: dict[int, BaseModel] = {}
        self.call_counts: dict[int, int] = {}
        self.last_contexts: dict[int, ModuleContext] = {}
        # A retried call whose first attempt may have reached the API: (module, identity).
        self.repeated_call: tuple[int, dict[str, Any]] | None = None
        self.resumed_retry: Mapping[str, Any] = {}  # Break's settings of the state resumed
        self.started = self.seconds()
        self.bundles = 0
        self.events_numbered = 0  # progress events so far, those left out unheard included
        # Lineage: which bundle of the first module is travelling now (depth first, so one at a
        # time), and how many it has output so far.
        self.lineage: int | None = None
        self.first_bundles = 0
        self.last_rejection: Rejection | None = None  # the one a router may find rerouted
        self.evaluation = self._new_evaluation()

    # -- the run and its cycles ---------------------------------------------------------------

    def execute(
        self,
        trigger_bundles: Iterable[Mapping[str, Any]] | None,
        resume: IncompleteState | None,
    ) -> ExecutionRecord:
        self.record.started_at = self.context.clock()
        self.execution_variables["startedAt"] = self.record.started_at
        if resume is not None:
            self._run_cycle(lambda: self._resume(resume))
        elif trigger_bundles is not None:
            bundles = list(trigger_bundles)
            self._run_cycle(lambda: self._process_trigger(bundles))
        else:
            self._run_polling_cycles()
        return self._finish()

    def _run_polling_cycles(self) -> None:
        for cycle in range(max(1, self.settings.roundtrips)):
            if cycle:
                self.variables.new_cycle()
            if not self._run_cycle(lambda: self._process_trigger(None)):
                return
            trigger = self.plan.trigger
            produced = trigger and self.record.modules.get(trigger.id)
            if not produced or not produced.bundles_out or self.record.status is RunStatus.ERROR:
                return

    def _run_cycle(self, operation: Callable[[], None]) -> bool:
        """One cycle: operation, then commit or rollback. False when the run must stop."""
        self.record.cycles += 1
        try:
            operation()
        except _StopRun as stop:
            if stop.outcome == "commit":
                self._commit()
                return False
            self._rollback(stop.error, stop.stopped)
            return False
        self._commit()
        return True

    def _commit(self) -> None:
        trigger_last = self.settings.auto_commit_trigger_last
        if not trigger_last:
            self._commit_cursors()
        self.transaction.commit()
        if trigger_last:
            self._commit_cursors()
        self.record.committed = True

    def _commit_cursors(self) -> None:
        for module_id, cursor in self.pending_cursors.items():
            self.cursors[module_id] = cursor
            if self.context.commit_cursor is not None:
                self.context.commit_cursor(module_id, cursor)
        self.pending_cursors.clear()

    def _rollback(self, error: dict[str, Any] | None, stopped: IncompleteState | None) -> None:
        if self.settings.auto_commit:
            self.transaction.rollback_operation()
            # A resumed run's modules before the one that rolled back have committed their
            # writes: the incomplete execution must go on from there, not redo them.
            if self.record.resumed is not None and stopped is not None:
                self.record.stopped_at = stopped
        self.transaction.rollback()
        self.pending_cursors.clear()
        self.record.status = RunStatus.ERROR
        self.record.error = error

    def _finish(self) -> ExecutionRecord:
        record = self.record
        record.finished_at = self.context.clock()
        record.duration_ms = (self.seconds() - self.started) * 1000
        if record.status is RunStatus.SUCCESS and record.incomplete:
            record.status = RunStatus.WARNING
        return record

    # -- depth-first processing ---------------------------------------------------------------

    def _process_trigger(self, bundles: list[Mapping[str, Any]] | None) -> None:
        if not self.plan.flow:
            return
        first = self.plan.flow[0]
        if bundles is None and first.kind not in _TRIGGER_KINDS:
            self._process_flow(self.plan.flow, 0, {}, None)
            return
        self._run_node(_Step(first, self.plan.flow, 0, {}, None), given=bundles)

    def _resume(self, state: IncompleteState) -> None:
        node = self.plan.nodes.get(state.module_id)
        if node is None:
            raise _StopRun(
                "rollback",
                _error_dict(RuntimeError(f"module {state.module_id} is no longer in the scenario")),
            )
        position = self.positions[node.id]
        if state.call is not None:
            self.repeated_call = (node.id, dict(state.call))
        self.resumed_retry = state.retry
        self._note_resumed(state)
        self._process_node(_Step(node, position.flow, position.index, dict(state.bundles), None))

    def _note_resumed(self, state: IncompleteState) -> None:
        """A resumed run continues the path of one bundle of the first module: lineage 0."""
        first = self.first
        trigger = None
        if first is not None:
            bundle = state.bundles.get(first.id)
            trigger = {
                "id": first.id,
                "module": first.module,
                "bundle": None if self.record.confidential else bundle,
            }
        self.record.resumed = {"module_id": state.module_id, "trigger": trigger}
        self.lineage, self.first_bundles = 0, 1

    def _process_flow(
        self, flow: tuple[PlanNode, ...], index: int, scope: Scope, on_end: OnEnd
    ) -> bool:
        """Send one bundle into ``flow[index]``. False when that module's filter stops it."""
        if index >= len(flow):
            if on_end is not None:
                on_end(scope)
            return True
        node = flow[index]
        check = node.expressions.filter
        if check is not None:
            quick = check.quick_pass if self.context.compiled else None
            if (quick is None or not quick(scope)) and not self._filter_passes(node, scope):
                return False
        handler = self.handlers[node.id]
        if handler is _RUN_INLINE:  # neither needs a step but on the way to an error
            self._run_inline_bundle(node, flow, index, scope, on_end)
        elif handler is _ACCUMULATE:
            self._accumulate_bundle(node, scope, on_end)
        else:
            handler(self, _Step(node, flow, index, scope, on_end))
        return True

    def _continue(self, step: _Step, output: Any) -> None:
        """Send ``output`` of ``step``'s module on to the next module of its flow."""
        self._process_flow(step.flow, step.index + 1, step.then(output), step.on_end)

    def _process_node(self, step: _Step) -> None:
        self.handlers[step.node.id](self, step)

    def _reach_directive(self, step: _Step) -> None:
        raise _Directive(step.node, step.scope)

    def _run_node(self, step: _Step, given: list[Mapping[str, Any]] | None = None) -> None:
        """Run a computing module for one input bundle, then each output down the path."""
        aggregators = self.feeds.get(step.node.id)
        if not aggregators:
            self._run_outputs(step, given)
            return
        saved = {a.id: self.accumulators.get(a.id) for a in aggregators}
        for aggregator in aggregators:
            self.accumulators[aggregator.id] = self._new_accumulator(aggregator, step.on_end)
        try:
            self._run_outputs(step, given)
            finished = {a.id: self.accumulators[a.id] for a in aggregators}
        finally:
            for aggregator_id, accumulator in saved.items():
                if accumulator is None:
                    self.accumulators.pop(aggregator_id, None)
                else:
                    self.accumulators[aggregator_id] = accumulator
        for aggregator in aggregators:
            self._emit_aggregate(aggregator, finished[aggregator.id], step.scope)

    def _run_outputs(self, step: _Step, given: list[Mapping[str, Any]] | None) -> None:
        node = step.node
        first = node is self.first
        operation = self._begin_operation(node)
        try:
            outputs = (
                iter(given) if given is not None else self._call_module(node, step.scope, operation)
            )
            flow, after, on_end = step.flow, step.index + 1, step.on_end
            following = self.next_inline.get(node.id)
            passing = self._passing(node, operation, outputs, step.scope, following)
            if following is None:  # ``_continue``, inline
                process_flow = self._process_flow
                for next_scope in passing:
                    process_flow(flow, after, next_scope, on_end)
            else:  # the route into an inline module, in one loop
                self._run_inline_route(following, flow, after, passing, on_end)
        except ModuleError as error:
            if first:  # the trigger's own error is on no bundle's path
                self.lineage = None
            self._end_operation(node, operation, error)
            self._handle_error(step, error, operation)
            return
        finally:
            if first:  # what runs after (an aggregator fed by it) combines its bundles
                self.lineage = None
        self._end_operation(node, operation, None)
        if not operation.output_count and self._continues_without_results(node):
            self._continue(step, {})
        self._stop_if_returned(node)

    def _passing(
        self,
        node: PlanNode,
        operation: OperationRecord,
        outputs: Iterator[Mapping[str, Any]],
        scope: Scope,
        following: PlanNode | None,
    ) -> Iterator[Scope]:
        """Each output of ``node``'s operation recorded (``_record_output``, inline: once per
        bundle of every module), as the path's bundles; with ``following`` (the inline module
        next), only those its filter lets through. Lazily: each one travels its whole path
        before the next output is asked for."""
        first, node_id, transaction = node is self.first, node.id, self.transaction
        check = following.expressions.filter if following is not None else None
        quick = check.quick_pass if check is not None else None
        passes, into = self._filter_passes, following if following is not None else node
        run_record, limits = self.record, self.limits
        record = run_record.modules.get(node_id) or self._module_record(node)
        kept, confidential = operation.encoded_output, run_record.confidential
        # What stays the same for the whole run, read once, not once per output.
        auto_commit = transaction.auto_commit
        max_output_bytes, max_bundles = limits.max_output_bytes, limits.max_bundles
        stored_bundles = limits.stored_bundles
        dumps, json_default, options = BUNDLE_ENCODING
        for output in outputs:
            if type(output) is not dict:
                output = self._check_output(node, output)
            if auto_commit and transaction.pending:
                transaction.commit()  # this module's operation is done with its writes
            record.bundles_out += 1
            operation.output_count += 1
            try:  # ``encoded_bundle``
                encoded = dumps(output, json_default, options)
            except (JSONEncodeError, TypeError):
                encoded = encoded_bundle(output)
            size = len(encoded)
            run_record.data_size += size
            self.bundles += 1
            if size > max_output_bytes or self.bundles > max_bundles:
                self._over_output_limits(node, size)
            if operation.stored and not confidential and len(kept) < stored_bundles:
                kept.append(encoded)
            if first:
                self.lineage, self.first_bundles = self.first_bundles, self.first_bundles + 1
            next_scope = {**scope, node_id: output}
            if (
                check is None
                or (quick is not None and quick(next_scope))
                or passes(into, next_scope)
            ):
                yield next_scope

    def _run_inline(self, step: _Step) -> None:
        """``_run_node`` for a built-in module run inline (``engine/runtime/inline.py``) that
        feeds no aggregator and is not the run's first module: the same operation, records
        and errors as ``_run_outputs`` and ``_call_module``, in one frame."""
        self._run_inline_bundle(step.node, step.flow, step.index, step.scope, step.on_end)

    def _run_inline_bundle(
        self,
        node: PlanNode,
        flow: tuple[PlanNode, ...],
        index: int,
        scope: Scope,
        on_end: OnEnd,
    ) -> None:
        """One bundle through an inline module: ``_run_inline_route`` of one."""
        self._run_inline_route(node, flow, index, (scope,), on_end)

    def _run_inline_route(
        self,
        node: PlanNode,
        flow: tuple[PlanNode, ...],
        index: int,
        scopes: Iterable[Scope],
        on_end: OnEnd,
    ) -> None:
        """Each bundle of ``scopes`` through an inline module and, when it feeds an aggregator
        directly, into it: the route from a module's outputs to the aggregator in one loop.
        ``_begin_operation``, ``_call_module``, ``_record_output``, ``_accumulate_bundle`` and
        ``_end_operation`` are written out here, and what they read is read once for the
        route, not once per bundle (the frames and lookups were a third of a B1 line). The
        same operations, records, order and errors as the general way, bundle by bundle:
        ``tests/runtime/test_route_equivalence.py``."""
        node_id, run_record, limits = node.id, self.record, self.limits
        max_operations, max_seconds, stored_bundles = (
            limits.max_operations,
            limits.max_seconds,
            limits.stored_bundles,
        )
        max_output_bytes, max_bundles = limits.max_output_bytes, limits.max_bundles
        seconds, run_started, transaction = self.seconds, self.started, self.transaction
        on_event, confidential = self.context.on_event, run_record.confidential
        unheard = self.context.events_unheard
        mapper, prepared = node.expressions.mapper, self.prepared.get(node_id)
        evaluation, consumed = self.evaluation, self.execution_variables  # ``_eval``
        inline, variables, counts = self.inline[node_id], self.variables, self.call_counts
        after, process_flow = index + 1, self._process_flow
        aggregator = self.into_accumulator.get(node_id)
        if aggregator is not None:
            item_mapper = aggregator.expressions.mapper
            group = aggregator.expressions.group_by
            bundle_item = self.bundle_items.get(aggregator.id)
        accumulators, modules = self.accumulators, run_record.modules
        dumps, json_default, options = BUNDLE_ENCODING
        record: ModuleRecord | None = None
        # The operation of every bundle past the stored ones: nothing reads an operation not
        # ``stored`` (no duration, no output kept, its input, error and directive dropped).
        unstored = OperationRecord(None, [], False, 0, None, None, 0.0, None)
        for scope in scopes:
            # ``_begin_operation`` and ``_check_limits``, inline.
            if run_record.operations >= max_operations:
                self._check_limits()  # raises: the same stop, with its message
            started = seconds()
            if started - run_started > max_seconds:
                self._over_time()
            run_record.operations += 1
            if record is None:  # made by the first operation (or rejection) of the run
                record = modules.get(node_id) or self._module_record(node)
            record.operations += 1
            # ``OperationRecord(bundle=…)`` by position, its start in ``duration_ms``: a call
            # with keywords costs a dict of them on each operation.
            calls = record.calls
            if len(calls) < stored_bundles:
                operation = OperationRecord(None, [], True, 0, None, None, started, self.lineage)
                calls.append(operation)
            else:  # past the stored ones: written to, never read, so one serves them all
                operation = unstored
                record.calls_omitted += 1
            transaction.begin_operation()
            if on_event is not None:  # ``_event``, inline while nobody would receive it
                self.events_numbered += 1
                if unheard is None or not unheard():
                    self._send_event("module_started", node)
            produced = 0
            try:
                if mapper is not None:
                    evaluation.bundles = scope
                    consumed["operationsConsumed"] = run_record.operations
                    consumed["dataConsumed"] = run_record.data_size
                outputs: Iterable[Mapping[str, Any]] | None = None
                repeated = self.repeated_call
                if prepared is not None:
                    values = prepared.values(evaluation)
                    keep = operation.stored and not confidential
                    mapped = prepared.mapped_input(values) if keep or repeated else None
                    operation.input = mapped if keep else None
                    if repeated is None:
                        if node_id not in self.parameters:
                            self._parameters(node)  # a set-up error is the same either way
                        outputs = prepared.apply(values, variables)
                else:
                    mapped = mapper.evaluate(evaluation) if mapper is not None else None
                    operation.input = mapped if not confidential else None
                    if repeated is None:
                        if node_id not in self.parameters:
                            self._parameters(node)  # a set-up error is the same either way
                        outputs = inline(mapped, variables)
                if outputs is None:
                    outputs = self._general_call(node, mapped)
                else:  # ``_next_call_ordinal``, inline
                    counts[node_id] = counts.get(node_id, 0) + 1
                kept = operation.encoded_output
                for output in outputs:
                    if type(output) is not dict:
                        output = self._check_output(node, output)
                    if transaction.auto_commit and transaction.pending:
                        transaction.commit()
                    produced += 1
                    # ``_record_output``, inline.
                    record.bundles_out += 1
                    operation.output_count += 1
                    try:  # ``encoded_bundle``
                        encoded = dumps(output, json_default, options)
                    except (JSONEncodeError, TypeError):
                        encoded = encoded_bundle(output)
                    size = len(encoded)
                    run_record.data_size += size
                    self.bundles += 1
                    if size > max_output_bytes or self.bundles > max_bundles:
                        self._over_output_limits(node, size)
                    if operation.stored and not confidential and len(kept) < stored_bundles:
                        kept.append(encoded)
                    if aggregator is None:
                        process_flow(flow, after, {**scope, node_id: output}, on_end)
                        continue
                    # ``_process_flow`` into an aggregator without a filter, and
                    # ``_accumulate_bundle``, inline.
                    accumulator = accumulators.get(aggregator.id)
                    if (  # the item of this bundle alone: no scope, no evaluation
                        bundle_item is not None and accumulator is not None and type(output) is dict
                    ):
                        accumulator.continuation = on_end
                        # ``Accumulator.add`` without a group key, inline.
                        made = bundle_item(output)
                        items = accumulator.groups.get(NO_GROUP)
                        if items is None:
                            items = accumulator.groups[NO_GROUP] = []
                        items.append(made)
                        accumulator.count += 1
                        continue
                    next_scope = {**scope, node_id: output}
                    if accumulator is None:
                        self._accumulate_bundle(aggregator, next_scope, on_end)
                        continue
                    evaluation.bundles = next_scope
                    consumed["operationsConsumed"] = run_record.operations
                    consumed["dataConsumed"] = run_record.data_size
                    item = item_mapper.evaluate(evaluation) if item_mapper is not None else None
                    if item is None:
                        item = {}
                    accumulator.continuation = on_end
                    if group is None:
                        accumulator.add(item)
                    else:
                        accumulator.add(item, group.evaluate(evaluation))
            except ModuleError as error:
                self._end_operation(node, operation, error)
                self._handle_error(_Step(node, flow, index, scope, on_end), error, operation)
                continue
            # ``_end_operation`` of an operation without error, inline.
            if operation.stored:  # an operation past the stored ones keeps no duration
                operation.duration_ms = (seconds() - started) * 1000
            if transaction.auto_commit and transaction.pending:
                transaction.end_operation()
            # ``_operation_ended``, inline.
            if on_event is not None:
                self.events_numbered += 1
                if unheard is None or not unheard():
                    self._send_event("module_finished", node, error=None)
            if self.trigger_contexts:
                self._collect_trigger_cursor(node)
            if not produced and self._continues_without_results(node):
                self._continue(_Step(node, flow, index, scope, on_end), {})
            if node_id in self.last_contexts:  # only a general call leaves a context
                self._stop_if_returned(node)

    def _stop_if_returned(self, node: PlanNode) -> None:
        """A module that returned the scenario's outputs ends the run, committed, like
        ``return``: no later bundle, route or module runs."""
        context = self.last_contexts.get(node.id)
        if context is None or context.returned is None:
            return
        self.record.outputs = context.returned
        raise _StopRun("commit")

    # -- routers, If-else, Merge --------------------------------------------------------------

    def _route(self, step: _Step) -> None:
        node, scope, on_end = step.node, step.scope, step.on_end
        record = self._module_record(node)
        record.bundles_out += 1
        self._record_passing(record, scope)
        passed_any = False
        refused: list[Rejection] = []
        for route in node.routes:
            if route.disabled or route.fallback:
                continue
            entered = self._process_flow(route.flow, 0, scope, on_end)
            passed_any |= entered
            if not entered and self.last_rejection is not None:
                refused.append(self.last_rejection)
        if not passed_any:
            for route in node.routes:
                if route.fallback and not route.disabled:
                    passed_any |= self._process_flow(route.flow, 0, scope, on_end)
        if passed_any:  # the bundle went on by another route: those filters did not stop it
            for rejection in refused:
                rejection.rerouted = True

    def _record_passing(self, record: ModuleRecord, scope: Scope) -> None:
        """A router uses no operation, yet its inspector shows the bundles that went through
        it: each is kept as a call whose output is that bundle (the newest of its path)."""
        passing = self._new_call(record)
        passing.output_count = 1
        if passing.stored and scope and not self.record.confidential:
            passing.encoded_output.append(encoded_bundle(list(scope.values())[-1]))

    def _if_else(self, step: _Step) -> None:
        operation = self._begin_operation(step.node)
        self._end_operation(step.node, operation, None)
        chosen = self._chosen_branch(step.node, step.scope)
        if chosen is None:
            return
        after = step.index + 1
        merge = step.flow[after] if after < len(step.flow) else None
        if merge is None or merge.module != _MERGE or not chosen.merge:
            self._process_flow(chosen.flow, 0, step.scope, None)
            return
        merge_step = _Step(merge, step.flow, after, step.scope, step.on_end)

        def into_merge(branch_scope: Scope) -> None:
            self._merge(merge_step, chosen.index, branch_scope)

        self._process_flow(chosen.flow, 0, step.scope, into_merge)

    def _chosen_branch(self, node: PlanNode, scope: Scope) -> Any:
        expressions = node.expressions
        for branch in node.branches:
            if branch.disabled:
                continue
            if branch.is_else or expressions.branches[branch.index].passes(self._eval(scope)):
                return branch
        return None

    def _merge(self, step: _Step, branch_index: int, branch_scope: Scope) -> None:
        """A bundle that finished branch ``branch_index`` passes the Merge (``step.node``)."""
        merge = step.node
        operation = self._begin_operation(merge)
        values = merge.expressions.merge_outputs
        output = {
            name: mappings[branch_index].evaluate(self._eval(branch_scope))
            if branch_index < len(mappings)
            else None
            for name, mappings in values
        }
        self._record_output(merge, operation, output)
        self._end_operation(merge, operation, None)
        self._continue(step, output)

    # -- aggregation --------------------------------------------------------------------------

    def _new_accumulator(self, aggregator: PlanNode, on_end: OnEnd) -> Accumulator:
        shape = aggregator.spec.aggregate if aggregator.spec is not None else None
        if shape is None:
            return Accumulator(aggregator.module, aggregator.parameters, continuation=on_end)
        return Accumulator(
            aggregator.module, aggregator.parameters, shape=shape, continuation=on_end
        )

    def _accumulate(self, step: _Step) -> None:
        self._accumulate_bundle(step.node, step.scope, step.on_end)

    def _accumulate_bundle(self, node: PlanNode, scope: Scope, on_end: OnEnd) -> None:
        accumulator = self.accumulators.get(node.id)
        evaluation = self._eval(scope)
        mapper = node.expressions.mapper
        mapped = mapper.evaluate(evaluation) if mapper is not None else None
        item = mapped if mapped is not None else {}  # what one bundle adds (``{}`` for no mapper)
        group = node.expressions.group_by
        key = group.evaluate(evaluation) if group is not None else None
        if accumulator is None:
            # The feeder is not running (a resumed incomplete execution): a set of one.
            accumulator = self._new_accumulator(node, on_end)
            accumulator.add(item) if group is None else accumulator.add(item, key)
            self._emit_aggregate(node, accumulator, scope)
            return
        accumulator.continuation = on_end
        accumulator.add(item) if group is None else accumulator.add(item, key)

    def _emit_aggregate(self, node: PlanNode, accumulator: Accumulator, scope: Scope) -> None:
        feeder_scope = {k: v for k, v in scope.items() if k not in node.scope}
        operation = self._begin_operation(node)
        try:
            outputs = accumulator.outputs(stop_on_empty=_stops_on_empty(node))
        except ModuleError as error:
            self._end_operation(node, operation, error)
            raise _StopRun("rollback", _error_dict(error, node)) from None
        for output in outputs:
            self._record_output(node, operation, output)
        self._end_operation(node, operation, None)
        position = self.positions[node.id]
        for output in outputs:
            next_scope = {**feeder_scope, node.id: output}
            self._process_flow(
                position.flow, position.index + 1, next_scope, accumulator.continuation
            )

    # -- errors and directives ----------------------------------------------------------------

    def _handle_error(self, step: _Step, error: ModuleError, operation: OperationRecord) -> None:
        """The one place where a module's error meets its handler and its directive."""
        node = step.node
        if isinstance(error, _Fatal):
            raise _StopRun("rollback", _error_dict(error, node))
        error_scope = step.then({"error": error.as_bundle()})
        if node.onerror and error.handleable:
            try:
                entered = self._process_flow(node.onerror, 0, error_scope, None)
            except _Directive as directive:
                self._apply_directive(step, directive, error, operation)
                return
            except ModuleError as inner:
                raise _StopRun("rollback", _error_dict(inner)) from None
            if entered:
                operation.directive = "ignore"  # an error route without a directive ignores
                return
        self._default_handling(step, error)

    def _apply_directive(
        self, step: _Step, directive: _Directive, error: ModuleError, operation: OperationRecord
    ) -> None:
        node = step.node
        name = directive.node.module.partition(":")[2].lower()
        operation.directive = name
        self._module_record(directive.node).bundles_out += 1
        if name == "resume":
            substitute = self._map(directive.node, self._eval(directive.scope)) or {}
            self._record_output(node, operation, substitute)
            self._continue(step, substitute)
        elif name == "commit":
            raise _StopRun("commit")
        elif name == "rollback":
            raise _StopRun("rollback", _error_dict(error, node), self._remainder(step, error))
        elif name == "break":
            retry = self._map(directive.node, self._eval(directive.scope)) or {}
            self._store_incomplete(step, error, retry)

    def _default_handling(self, step: _Step, error: ModuleError) -> None:
        """No handler (or its filter refused the error): Make's default behaviour."""
        node = step.node
        if self.settings.dlq and node is not self.first and error.handleable:
            self._store_incomplete(step, error, {})
            self.record.status = RunStatus.INCOMPLETE
            return
        raise _StopRun("rollback", _error_dict(error, node), self._remainder(step, error))

    def _store_incomplete(self, step: _Step, error: ModuleError, retry: Mapping[str, Any]) -> None:
        self.record.incomplete.append(self._remainder(step, error, retry))

    def _remainder(
        self, step: _Step, error: ModuleError, retry: Mapping[str, Any] | None = None
    ) -> IncompleteState:
        """What is left of the bundle's path from the failed module, to run later. A rolled
        back resumed run (``retry`` None) keeps the retry settings of the state it resumed."""
        call = self._call_identity(step.node) if error.type in _UNKNOWN_OUTCOME else None
        if retry is None:
            retry = self.resumed_retry
        return IncompleteState(step.node.id, dict(step.scope), error.as_bundle(), dict(retry), call)

    def _call_identity(self, node: PlanNode) -> dict[str, Any] | None:
        """Which call just failed: its execution and ordinal (those of the call it repeated,
        when it was itself the repeat of an earlier one)."""
        context = self.last_contexts.get(node.id)
        if context is None:
            return None
        execution_id = context.key_execution_id or self.context.execution_id
        if execution_id is None:
            return None
        return {"execution_id": execution_id, "ordinal": context.call_ordinal}

    # -- one operation ------------------------------------------------------------------------

    def _call_module(
        self, node: PlanNode, scope: Scope, operation: OperationRecord
    ) -> Iterator[Mapping[str, Any]]:
        spec = node.spec
        if spec is None:
            raise _Fatal(str(UnknownModuleError(node.module, f"id {node.id}")))
        if spec.run is None:
            raise _Fatal(f"module {node.module} (id {node.id}) cannot run on its own")
        mapped = self._map(node, self._eval(scope))
        operation.input = mapped if not self.record.confidential else None
        inline = self.inline.get(node.id)
        if inline is not None and self.repeated_call is None:
            self._parameters(node)  # a set-up error is the same either way
            outputs = inline(mapped, self.variables)
            if outputs is not None:
                self._next_call_ordinal(node)
                return iter(outputs)
        return self._general_call(node, mapped)

    def _general_call(self, node: PlanNode, mapped: Any) -> Iterator[Mapping[str, Any]]:
        """The module's own ``run`` with its validated parameters and input."""
        spec = node.spec
        assert spec is not None and spec.run is not None
        call = ModuleCall(
            module_id=node.id,
            parameters=self._parameters(node),
            input=self._validated_input(node, mapped),
            context=self._module_context(node),
        )
        return iter(spec.run(call))

    def _module_context(self, node: PlanNode) -> ModuleContext:
        ordinal, key_execution_id = self._next_call_ordinal(node), None
        if self.repeated_call is not None and self.repeated_call[0] == node.id:
            # The first call of a retried module repeats the call that failed: same key.
            repeated = self.repeated_call[1]
            ordinal, key_execution_id = int(repeated["ordinal"]), str(repeated["execution_id"])
            self.repeated_call = None
        context = ModuleContext(
            call_ordinal=ordinal,
            key_execution_id=key_execution_id,
            run=self.context,
            variables=self.variables,
            transaction=self.transaction,
            module_id=node.id,
            cursor=self.cursors.get(node.id),
            start=None if node.id in self.cursors else self.context.starts.get(node.id),
        )
        if node.kind in _TRIGGER_KINDS:
            self.trigger_contexts[node.id] = context
        self.last_contexts[node.id] = context
        return context

    def _next_call_ordinal(self, node: PlanNode) -> int:
        """Count the module's calls: a re-run of the same execution reaches them in the same
        order, so (execution, module, ordinal) names one call across runs (idempotency keys)."""
        self.call_counts[node.id] = self.call_counts.get(node.id, 0) + 1
        return self.call_counts[node.id]

    def _parameters(self, node: PlanNode) -> BaseModel:
        if node.id not in self.parameters:
            assert node.spec is not None
            try:
                self.parameters[node.id] = node.spec.parameters.model_validate(node.parameters)
            except ValidationError as error:
                raise InvalidConfigurationError(
                    f"module {node.id} ({node.module}) is not set up right: "
                    + _validation_summary(error)
                ) from None
        return self.parameters[node.id]

    def _validated_input(self, node: PlanNode, mapped: Any) -> BaseModel:
        assert node.spec is not None
        try:
            return node.spec.input.model_validate(mapped if mapped is not None else {})
        except ValidationError as error:
            raise BundleValidationError(
                f"invalid input for module {node.id} ({node.module}): "
                + _validation_summary(error),
                detail=error.errors(include_url=False, include_context=False),
            ) from None

    def _begin_operation(self, node: PlanNode) -> OperationRecord:
        started = self._check_limits()
        run_record = self.record
        run_record.operations += 1
        record = run_record.modules.get(node.id) or self._module_record(node)
        record.operations += 1
        # ``_new_call``, inline: once per operation.
        operation = OperationRecord(bundle=self.lineage)
        if len(record.calls) < self.limits.stored_bundles:
            record.calls.append(operation)
        else:
            operation.stored = False
            record.calls_omitted += 1
        operation.duration_ms = started
        self.transaction.begin_operation()
        if self.context.on_event is not None:  # no frame a call for a run nobody follows
            self._event("module_started", node)
        return operation

    def _new_call(self, record: ModuleRecord) -> OperationRecord:
        """A call of ``record``'s module on the current bundle's path: kept in its ``calls``
        up to ``stored_bundles``, counted in ``calls_omitted`` beyond (not ``stored``)."""
        call = OperationRecord(bundle=self.lineage)
        if len(record.calls) < self.limits.stored_bundles:
            record.calls.append(call)
        else:
            call.stored = False
            record.calls_omitted += 1
        return call

    def _end_operation(
        self, node: PlanNode, operation: OperationRecord, error: ModuleError | None
    ) -> None:
        if operation.stored:  # an operation past the stored ones keeps no duration
            operation.duration_ms = (self.seconds() - operation.duration_ms) * 1000
        if error is not None:
            operation.error = _error_dict(error)
            self._module_record(node).errors += 1
        elif self.transaction.auto_commit and self.transaction.pending:
            self.transaction.end_operation()
        self._operation_ended(node, operation)

    def _operation_ended(self, node: PlanNode, operation: OperationRecord) -> None:
        """The end of ``_end_operation``: the event, and a trigger's cursor."""
        if self.context.on_event is not None:
            self._event("module_finished", node, error=operation.error)
        if self.trigger_contexts:  # only a trigger's call leaves its context there
            self._collect_trigger_cursor(node)

    def _collect_trigger_cursor(self, node: PlanNode) -> None:
        """What the trigger advanced its cursor to waits for the cycle to commit."""
        context = self.trigger_contexts.pop(node.id, None)
        if context is not None and context.pending_cursor is not None:
            self.pending_cursors[node.id] = context.pending_cursor

    def _record_output(self, node: PlanNode, operation: OperationRecord, output: Any) -> None:
        run_record = self.record
        record = run_record.modules.get(node.id) or self._module_record(node)
        record.bundles_out += 1
        operation.output_count += 1
        encoded = encoded_bundle(output)
        size = len(encoded)
        run_record.data_size += size
        self.bundles += 1
        limits = self.limits
        if size > limits.max_output_bytes or self.bundles > limits.max_bundles:
            self._over_output_limits(node, size)
        kept = operation.encoded_output
        if operation.stored and not self.record.confidential and len(kept) < limits.stored_bundles:
            kept.append(encoded)

    def _over_output_limits(self, node: PlanNode, size: int) -> None:
        """Stop the run: ``node`` output a bundle of ``size`` bytes, over the size limit, or
        the run's bundles went past their limit."""
        limits = self.limits
        if size > limits.max_output_bytes:
            raise _Fatal(
                f"module {node.id} ({node.module}) output a bundle of {size} bytes, over the "
                f"limit of {limits.max_output_bytes}"
            )
        raise _Fatal(f"the run reached its limit of {limits.max_bundles} bundles")

    def _check_output(self, node: PlanNode, output: Any) -> Mapping[str, Any]:
        if type(output) is dict:  # the usual bundle, without the abstract class's check
            return output
        if not isinstance(output, Mapping):
            raise _Fatal(f"module {node.module} (id {node.id}) returned {type(output).__name__}")
        return output

    def _check_limits(self) -> float:
        """Stop the run at its operations or time limit; the clock's reading otherwise."""
        limits = self.limits
        if self.record.operations >= limits.max_operations:
            raise _StopRun(
                "rollback",
                _error_dict(
                    RunLimitExceeded(
                        f"the run reached its limit of {limits.max_operations} operations"
                    )
                ),
            )
        now = self.seconds()
        if now - self.started > limits.max_seconds:
            self._over_time()
        return now

    def _over_time(self) -> None:
        """Stop the run: it took longer than its time limit."""
        message = f"the run took longer than its limit of {self.limits.max_seconds:g} seconds"
        raise _StopRun("rollback", _error_dict(RunLimitExceeded(message)))

    def _module_record(self, node: PlanNode) -> ModuleRecord:
        found = self.record.modules.get(node.id)
        return found or self.record.module(node.id, node.module, node.item.label)

    def _event(self, kind: str, node: PlanNode, **extra: Any) -> None:
        """A progress event to ``on_event``, numbered here: the run's records already count
        its operations, and an event left out while ``events_unheard`` says nobody would
        receive it still takes its number, so a listener arriving later reads the same
        ``seq`` and counts as if every event had been sent."""
        on_event = self.context.on_event
        if on_event is None:
            return
        self.events_numbered += 1
        unheard = self.context.events_unheard
        if unheard is None or not unheard():
            self._send_event(kind, node, **extra)

    def _send_event(self, kind: str, node: PlanNode, **extra: Any) -> None:
        """The event numbered ``events_numbered``, to ``on_event`` (which is set)."""
        on_event = self.context.on_event
        assert on_event is not None
        on_event(
            {
                "event": kind,
                "module_id": node.id,
                "seq": self.events_numbered,
                "operations": self.record.operations,
                "module_operations": self._module_record(node).operations,
                **extra,
            }
        )

    # -- expressions --------------------------------------------------------------------------

    def _eval(self, scope: Scope) -> EvalContext:
        """The run's one evaluation context, pointed at ``scope`` (evaluations never overlap)."""
        self.evaluation.bundles = scope
        self.execution_variables["operationsConsumed"] = self.record.operations
        self.execution_variables["dataConsumed"] = self.record.data_size
        return self.evaluation

    def _new_evaluation(self) -> EvalContext:
        context = self.context
        scenario = {
            **context.variables.get("scenario", {}),
            "id": context.scenario_id,
            "name": self.plan.blueprint.name,
            "executionId": context.execution_id,
        }
        self.execution_variables: dict[str, Any] = {
            "id": context.execution_id,
            "operationsConsumed": 0,
            "dataConsumed": 0,
            "startedAt": self.record.started_at,
        }
        return EvalContext(
            bundles={},
            variables={
                **context.variables,
                "scenario": scenario,
                "execution": self.execution_variables,
            },
            timezone=self.settings.timezone or context.timezone,
            now=context.clock,
            rng=context.rng,
            warnings=self.record.warnings,
        )

    def _filter_passes(self, node: PlanNode, scope: Scope) -> bool:
        """Whether the filter into ``node`` lets the bundle through; a rejection is recorded
        with the condition that failed in each group."""
        check = node.expressions.filter
        if check is None:
            return True
        evaluation, consumed = self.evaluation, self.execution_variables  # ``_eval``, inline
        evaluation.bundles = scope
        consumed["operationsConsumed"] = self.record.operations
        consumed["dataConsumed"] = self.record.data_size
        failed = check.failures(evaluation)
        if not failed:
            return True
        record = self._module_record(node)
        record.filtered += 1
        self.last_rejection = None
        if len(record.rejections) < self.limits.stored_bundles:
            with_values = not self.record.confidential
            conditions = [condition.to_dict(with_values=with_values) for condition in failed]
            self.last_rejection = Rejection(self.lineage, check.name, conditions)
            record.rejections.append(self.last_rejection)
        return False

    def _map(self, node: PlanNode, evaluation: EvalContext) -> Any:
        mapper = node.expressions.mapper
        return mapper.evaluate(evaluation) if mapper is not None else None

    def _continues_without_results(self, node: PlanNode) -> bool:
        flag = node.parameters.get("continueWhenNoRes", node.mapper.get("continueWhenNoRes"))
        return flag is True or flag == "true"


class _Fatal(ModuleError):
    """An error no handler may catch: it ends the run (e.g. a module this install lacks)."""

    type = "RuntimeError"
    handleable = False


STOP_IF_EMPTY_KEYS = ("stopIfEmpty", "stopOnEmpty")
"""Where an aggregator's "Stop processing after an empty aggregation" is kept: Make exports
``flags.stopIfEmpty``; ``stopOnEmpty`` is the name Switchboard read before, still honoured."""


def _stops_on_empty(node: PlanNode) -> bool:
    flags = node.item.flags or {}
    sources = (flags, node.parameters)
    return any(_truthy(source.get(key)) for source in sources for key in STOP_IF_EMPTY_KEYS)


def _truthy(value: Any) -> bool:
    return value is True or value == "true"


def _error_dict(error: BaseException, node: PlanNode | None = None) -> dict[str, Any]:
    bundle = (
        error.as_bundle()
        if isinstance(error, ModuleError)
        else {"message": str(error), "type": "RuntimeError", "detail": None}
    )
    if node is not None:
        bundle = {**bundle, "module_id": node.id, "module": node.module}
    as_json: dict[str, Any] = to_json_value(bundle)
    return as_json


def _validation_summary(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "input"
        parts.append(f"{where}: {item['msg'][:1].lower()}{item['msg'][1:]}")
    return "; ".join(parts)


_ACCUMULATE = _Run._accumulate
_RUN_INLINE = _Run._run_inline


@dataclass(frozen=True)
class _Layout:
    """What a run needs of its plan's shape, worked out once per plan (``_layout``): where
    each node sits, the aggregators by feeder, how each module takes a bundle, the modules
    run inline, and the straight routes compiled whole. Read only by the runs that share it.
    """

    positions: dict[int, _Position]
    feeds: dict[int, tuple[PlanNode, ...]]
    first: PlanNode | None
    """The run's first module (lineage)."""
    handlers: dict[int, Callable[[_Run, _Step], None]]
    """Functions of the class, not bound methods, which would make the run a reference
    cycle that only the cyclic collector frees (a run holds all its bundles)."""
    inline: dict[int, Inline]
    next_inline: dict[int, PlanNode]
    """A module whose next one is run inline calls it from its own loop (no
    ``_process_flow``)."""
    into_accumulator: dict[int, PlanNode]
    """An inline module whose next one is an aggregator collecting from an upstream feeder
    adds its item there directly."""
    prepared: dict[int, PreparedSetVariables]
    """Set variables whose mapper has the exported shape: its values evaluated directly."""
    bundle_items: dict[int, BundleItem]
    """An aggregator's item read from the bundle just made alone (``{"sku": "{{3.sku}}"}``),
    as a function of that bundle: no scope built, no evaluation (``generated.py``)."""


_LAYOUTS: weakref.WeakKeyDictionary[Plan, dict[bool, _Layout]] = weakref.WeakKeyDictionary()
"""Layouts by plan (plans never change) and by whether the run is compiled: working one out
walked the plan four times, ~5 % of a short webhook run."""


def _layout(plan: Plan, compiled: bool) -> _Layout:
    kept = _LAYOUTS.get(plan)
    if kept is None:
        kept = _LAYOUTS.setdefault(plan, {})
    layout = kept.get(compiled)
    if layout is None:
        layout = kept[compiled] = _make_layout(plan, compiled)
    return layout


def _make_layout(plan: Plan, compiled: bool) -> _Layout:
    positions = _positions(plan.flow)
    feeds = _feeds(plan)
    first = plan.flow[0] if plan.flow else None
    handlers = {node.id: _handler(node) for node in plan.walk()}
    inline: dict[int, Inline] = {}
    next_inline: dict[int, PlanNode] = {}
    into_accumulator: dict[int, PlanNode] = {}
    prepared: dict[int, PreparedSetVariables] = {}
    bundle_items: dict[int, BundleItem] = {}
    if compiled:
        for node in plan.walk():
            made = inline_of(node.spec)
            if made is not None:
                inline[node.id] = made
                if made is set_variables:
                    setter = prepared_set_variables(node.expressions.mapper)
                    if setter is not None:
                        prepared[node.id] = setter
                if node.id not in feeds and node is not first:
                    handlers[node.id] = _RUN_INLINE
        for node in plan.walk():
            following = _following(positions, node)
            if following is None:
                continue
            handler = handlers[following.id]
            if handler is _RUN_INLINE:
                next_inline[node.id] = following
            elif (
                handler is _ACCUMULATE
                and following.expressions.filter is None
                and handlers[node.id] is _RUN_INLINE
            ):
                into_accumulator[node.id] = following
                item = generated_bundle_item(following.expressions.mapper, node.id)
                if item is not None and following.expressions.group_by is None:
                    bundle_items[following.id] = item
    return _Layout(
        positions,
        feeds,
        first,
        handlers,
        inline,
        next_inline,
        into_accumulator,
        prepared,
        bundle_items,
    )


def _following(positions: dict[int, _Position], node: PlanNode) -> PlanNode | None:
    """The module right after ``node`` in its flow, if any."""
    position = positions.get(node.id)
    if position is None or position.index + 1 >= len(position.flow):
        return None
    return position.flow[position.index + 1]


def _handler(node: PlanNode) -> Callable[[_Run, _Step], None]:
    """What a bundle arriving at ``node`` goes through."""
    if node.kind is ModuleKind.DIRECTIVE:
        return _Run._reach_directive
    if node.module == _ROUTER:
        return _Run._route
    if node.module == _IF_ELSE:
        return _Run._if_else
    if node.kind is ModuleKind.AGGREGATOR:
        return _Run._accumulate
    return _Run._run_node


def _positions(flow: tuple[PlanNode, ...]) -> dict[int, _Position]:
    positions: dict[int, _Position] = {}

    def visit(nodes: tuple[PlanNode, ...]) -> None:
        for index, node in enumerate(nodes):
            positions[node.id] = _Position(nodes, index)
            for route in node.routes:
                visit(route.flow)
            for branch in node.branches:
                visit(branch.flow)
            visit(node.onerror)

    visit(flow)
    return positions


def _feeds(plan: Plan) -> dict[int, tuple[PlanNode, ...]]:
    """Aggregators by the id of their feeder."""
    feeds: dict[int, list[PlanNode]] = {}
    for node in plan.walk():
        if node.feeder is not None and node.kind is ModuleKind.AGGREGATOR:
            feeds.setdefault(node.feeder, []).append(node)
    return {feeder: tuple(nodes) for feeder, nodes in feeds.items()}
