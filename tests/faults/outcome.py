"""What a fault test measures: from what the sender was told and what the store holds, the
counts of the reliability promise (sent, accepted, executed, incomplete, duplicated, lost,
still running)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from engine.store import (
    Execution,
    ExecutionStatus,
    QueueItem,
    QueueItemStatus,
    SqlStore,
    TriggerKind,
    request_body,
)

UNFINISHED = (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING)


@dataclass
class FaultCounts:
    """One fault test's figures.

    Attributes:
        sent: requests posted (one attempt each: the sender does not retry).
        accepted: answered 2xx; the promise is about these.
        refused: answered otherwise, or not at all (connection refused or dropped).
        executed: requests that ended in a terminal execution (accepted or not: a request
            stored just before its answer was lost also runs, once).
        incomplete: of those, the ones whose run left an incomplete execution.
        duplicated: requests that got more than one queue item, execution or external write.
        lost: accepted requests without a terminal execution.
        running: executions still queued or running at the end.
        notes: figures particular to the fault (503s, reaped runs, sandbox writes …).
    """

    fault: str
    sent: int = 0
    accepted: int = 0
    refused: int = 0
    executed: int = 0
    incomplete: int = 0
    duplicated: int = 0
    lost: int = 0
    running: int = 0
    notes: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def answered(statuses: Mapping[int, int]) -> tuple[set[int], set[int]]:
    """The request numbers answered 2xx, and the rest."""
    accepted = {n for n, status in statuses.items() if 200 <= status < 300}
    return accepted, set(statuses) - accepted


def webhook_executions(store: SqlStore) -> list[Execution]:
    """Every webhook-triggered execution (all pages)."""
    found: list[Execution] = []
    cursor = None
    while True:
        page = store.list_executions(trigger_kind=TriggerKind.WEBHOOK, limit=1000, cursor=cursor)
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def number_of(item: QueueItem) -> int:
    return json.loads(request_body(item.request))["n"]


def measure(
    fault: str,
    store: SqlStore,
    webhook_id: int,
    statuses: Mapping[int, int],
    *,
    writes: Iterable[int] = (),
) -> FaultCounts:
    """The counts for requests numbered by ``statuses`` (n → HTTP status, 0 for no answer)
    against the store; ``writes`` lists the request number of each external write the run
    made (a sandbox's log), to count duplicated side effects too."""
    accepted, refused = answered(statuses)
    items = store.list_queue(webhook_id, status=None, limit=1_000_000)
    items_per_n = Counter(number_of(item) for item in items)
    executions = webhook_executions(store)
    runs_per_item = Counter(execution.trigger_ref for execution in executions)
    ended = {e.trigger_ref for e in executions if e.status.is_terminal}
    runs_per_n: Counter[int] = Counter()
    for item in items:
        runs_per_n[number_of(item)] += runs_per_item[str(item.id)]
    terminal = {number_of(item) for item in items if str(item.id) in ended}
    written = Counter(writes)
    duplicated = {n for n, k in items_per_n.items() if k > 1}
    duplicated |= {n for n, k in runs_per_n.items() if k > 1}
    duplicated |= {n for n, k in written.items() if k > 1}
    left_incomplete = {
        incomplete.execution_id for incomplete in store.list_incomplete(limit=100_000)
    }
    return FaultCounts(
        fault=fault,
        sent=len(statuses),
        accepted=len(accepted),
        refused=len(refused),
        executed=len(terminal),
        incomplete=sum(e.id in left_incomplete for e in executions),
        duplicated=len(duplicated),
        lost=len(accepted - terminal),
        running=sum(store.count_executions(status=status) for status in UNFINISHED),
        notes={
            "stored_but_not_acknowledged": len(set(items_per_n) - accepted),
            "claimed_again_after_lease": sum(item.attempts > 1 for item in items),
            "reaped_and_rerun": sum(e.reaped_count > 0 for e in executions),
        },
    )


def pause_every(nth: int, seconds: float) -> Callable[[int], dict[str, Any]]:
    """A payload for ``SOMETIMES_SLOW``: every ``nth`` run pauses, so runs are in flight when
    the fault lands."""
    return lambda n: {"n": n, "pause": seconds} if n % nth == nth // 2 else {"n": n}


def settled(store: SqlStore, webhook_id: int) -> bool:
    """Every stored request has its execution, nothing is queued or running, and every run
    that ended incomplete has its incomplete execution stored (written just after the run's
    status, in a transaction of its own)."""
    if any(store.count_executions(status=status) for status in UNFINISHED):
        return False
    stored = store.count_queue(webhook_id, status=None)
    if store.count_queue(webhook_id, status=QueueItemStatus.DONE) != stored:
        return False
    executions = webhook_executions(store)
    ended_incomplete = {e.id for e in executions if e.status is ExecutionStatus.INCOMPLETE}
    kept = {incomplete.execution_id for incomplete in store.list_incomplete(limit=1_000_000)}
    return len(executions) >= stored and ended_incomplete <= kept


def unresolved(store: SqlStore) -> int:
    """Incomplete executions not resolved yet, over every scenario."""
    return sum(store.count_unresolved(scenario.id) for scenario in store.list_scenarios())


def assert_promise_kept(counts: FaultCounts) -> None:
    """Nothing accepted lost, nothing run or written twice, nothing left running."""
    assert (counts.lost, counts.duplicated, counts.running) == (0, 0, 0), counts
    assert counts.executed >= counts.accepted, counts
