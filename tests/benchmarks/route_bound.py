"""How fast B1's route could be with the runner out of the way: a bound, not an engine.

``python -m tests.benchmarks.route_bound``: B1's per-line work (the Iterator's copy, the filter
through its compiled ``failures``, the compiled Set variables mapper, ``set_variables``, an
``OperationRecord``, both bundles' data size, the aggregator's compiled mapper and its item)
done in one Python loop, without the runner's limits, clock, lineage, events, transaction,
dispatch or frames per module, next to the engine's run and the plain loop (CPU time, best of
9). Also without the operation records, and without the data sizes as well. Not semantics-
complete (no errors, limits or stored bundles): it measures what a generated route could reach.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

from engine.blueprint import load_blueprint
from engine.graph import compile_blueprint
from engine.mapping import EvalContext
from engine.registry import default_registry
from engine.runtime.context import RunVariables
from engine.runtime.inline import set_variables
from engine.runtime.record import OperationRecord, encoded_bundle
from tests.benchmarks import bench_engine


def fused(lines: list[dict[str, Any]], *, records: bool = True, sizes: bool = True) -> Any:
    plan = compile_blueprint(load_blueprint(bench_engine.BLUEPRINT), default_registry())
    check, mapper = plan.nodes[3].expressions.filter, plan.nodes[3].expressions.mapper
    aggregate = plan.nodes[4].expressions.mapper
    assert check is not None and mapper is not None and aggregate is not None
    evaluation, variables = EvalContext(bundles={}), RunVariables()
    trigger, length = {"lines": lines}, len(lines)
    items: list[Any] = []
    operations: list[OperationRecord] = []
    size = 0
    for position, line in enumerate(lines, 1):
        bundle = {**line, "__IMTINDEX__": position, "__IMTLENGTH__": length}
        if sizes:
            size += len(encoded_bundle(bundle))
        scope = {1: trigger, 2: bundle}
        evaluation.bundles = scope
        if check.failures(evaluation):
            continue
        mapped = mapper.evaluate(evaluation)
        outputs = set_variables(mapped, variables)
        assert outputs is not None
        output = outputs[0]
        if records:
            operation = OperationRecord(bundle=position - 1, input=mapped, output_count=1)
            operations.append(operation)
        if sizes:
            size += len(encoded_bundle(output))
        evaluation.bundles = {**scope, 3: output}
        items.append(aggregate.evaluate(evaluation))
    return items, size


def best(work: Callable[[], Any], repeats: int = 9) -> float:
    timings = []
    for _ in range(repeats):
        gc.collect()
        started = time.process_time()
        work()
        timings.append(time.process_time() - started)
    return min(timings)


def main() -> None:
    lines = bench_engine.invoice_lines(10_000)
    floor = best(lambda: bench_engine.plain_loop(lines))
    figures = {
        "engine": best(lambda: bench_engine.run_engine(lines)),
        "fused loop": best(lambda: fused(lines)),
        "fused, no operation records": best(lambda: fused(lines, records=False)),
        "fused, no records or sizes": best(lambda: fused(lines, records=False, sizes=False)),
    }
    print(f"plain loop {floor * 1e3:.1f} ms")
    for name, seconds in figures.items():
        print(f"{name}: {seconds * 1e3:.1f} ms, {seconds / floor:.1f} x the loop")


if __name__ == "__main__":
    main()
