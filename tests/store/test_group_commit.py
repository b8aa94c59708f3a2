"""Group commit on SQLite (``engine.store.sql.group``): the webhook hot path's writes of
concurrent threads share a transaction, each thread returns only once its write committed, a
failed commit fails every write of it (nothing stored, each thread told), and a write that
fails fails alone.

Writes are lined up deterministically: the test holds the store's write turn, so the first
thread to arrive leads (its batch of one waits for the turn) while the others queue behind
it; releasing the turn lets the next leader take all of them in one transaction.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from engine.store import (
    ExecutionStatus,
    IntegrityViolation,
    NotFound,
    SqlStore,
    StoreUnavailable,
    webhook_request,
)

THREADS = 12


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template) -> str:
    path = tmp_path / "grouped.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def sqlite_store(sqlite_url) -> Iterator[SqlStore]:
    with SqlStore(sqlite_url) as opened:
        yield opened


@pytest.fixture
def route(sqlite_store) -> tuple[int, int]:
    scenario = sqlite_store.create_scenario("Orders", '{"name": "Orders", "flow": []}')
    sqlite_store.set_scenario_active(scenario.id, True)
    hook = sqlite_store.create_webhook("orders", scenario_id=scenario.id)
    return scenario.id, hook.id


def store_request(store: SqlStore, route: tuple[int, int], execution_id: str) -> Any:
    scenario_id, webhook_id = route
    request = webhook_request("post", {}, {}, b'{"n": 1}', "application/json")
    return store.enqueue_with_execution(
        webhook_id,
        request,
        scenario_id=scenario_id,
        scenario_version=1,
        execution_id=execution_id,
        worker_id="w-1",
    )


def lined_up(store: SqlStore, writes: list[Callable[[], Any]]) -> list[Any]:
    """Run ``writes`` in threads of their own, all queued behind the held write turn before
    any of them may write; each one's result or the exception it raised, in order."""
    outcomes: list[Any] = [None] * len(writes)

    def attempt(n: int) -> None:
        try:
            outcomes[n] = writes[n]()
        except Exception as error:
            outcomes[n] = error

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(len(writes))]
    with store._write_turn:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        # The first is leading (waiting for the turn with its own write); the rest wait.
        while len(store._group._waiting) < len(writes) - 1:
            assert time.monotonic() < deadline, "the writes never lined up"
            time.sleep(0.01)
    for thread in threads:
        thread.join(30)
    return outcomes


def test_concurrent_requests_share_commits_and_every_one_is_durable(
    sqlite_store, sqlite_url, route
):
    ids = [f"e-{n}" for n in range(THREADS)]
    stored = lined_up(
        sqlite_store, [lambda i=i: store_request(sqlite_store, route, i) for i in ids]
    )
    assert all(isinstance(made, tuple) for made in stored), stored
    # The first leader's write alone, then every other in one transaction.
    assert sqlite_store._group.transactions == 2

    finished = lined_up(
        sqlite_store,
        [
            lambda made=made: sqlite_store.finish_execution(
                made[1].id,
                ExecutionStatus.SUCCESS,
                {"answer": made[1].id},
                operations=1,
                data_size=1,
                worker_id="w-1",
                running=made[1],
            )
            for made in stored
        ],
    )
    assert [execution.status for execution in finished] == [ExecutionStatus.SUCCESS] * THREADS
    assert sqlite_store._group.transactions == 4

    with SqlStore(sqlite_url) as other:  # committed: another connection sees every one
        for item, execution in stored:
            assert other.get_queue_item(item.id).execution_id == execution.id
            kept = other.get_execution(execution.id)
            assert (kept.status, kept.record) == (ExecutionStatus.SUCCESS, {"answer": execution.id})


def test_a_failed_group_commit_fails_each_of_its_writes_and_stores_none(
    sqlite_store, sqlite_url, route, monkeypatch
):
    writing = sqlite_store._raw_write

    @contextmanager
    def commit_fails() -> Iterator[Any]:
        with writing() as cursor:
            yield cursor
            raise sqlite3.OperationalError("disk I/O error")  # as the commit would

    monkeypatch.setattr(sqlite_store._group, "_begin", commit_fails)
    ids = [f"e-{n}" for n in range(THREADS)]
    outcomes = lined_up(
        sqlite_store, [lambda i=i: store_request(sqlite_store, route, i) for i in ids]
    )
    assert all(isinstance(error, StoreUnavailable) for error in outcomes), outcomes
    assert all("disk I/O error" in str(error) for error in outcomes)
    assert len({id(error) for error in outcomes}) == THREADS  # each thread its own
    with SqlStore(sqlite_url) as other:  # nothing of them was stored
        for execution_id in ids:
            with pytest.raises(NotFound):
                other.get_execution(execution_id)
        assert other.list_queue(route[1], status=None) == []

    monkeypatch.undo()  # the database works again: the same writes are stored
    retried = lined_up(
        sqlite_store, [lambda i=i: store_request(sqlite_store, route, i) for i in ids]
    )
    assert all(isinstance(made, tuple) for made in retried), retried


def test_a_write_that_fails_fails_alone(sqlite_store, sqlite_url, route):
    # Two requests claim the same execution id: the shared transaction is rolled back and
    # each write is run again alone; only the second of the pair is refused.
    ids = ["e-1", "e-2", "dup", "e-3", "dup", "e-4"]
    outcomes = lined_up(
        sqlite_store, [lambda i=i: store_request(sqlite_store, route, i) for i in ids]
    )
    refused = [n for n, outcome in enumerate(outcomes) if isinstance(outcome, Exception)]
    assert len(refused) == 1 and ids[refused[0]] == "dup", outcomes
    assert isinstance(outcomes[refused[0]], IntegrityViolation)
    with SqlStore(sqlite_url) as other:
        for made in outcomes:
            if isinstance(made, tuple):
                item, execution = made
                assert other.get_execution(execution.id, with_record=False) == execution
                assert other.get_queue_item(item.id) == item
        assert len(other.list_queue(route[1], status=None)) == 5


def test_a_commit_wakes_its_own_writers_and_the_next_leader_only(
    sqlite_store, sqlite_url, route, monkeypatch
):
    """Batches smaller than the line (``MAX_BATCH`` 4 for 12 writes): every write is still
    committed, in 1 + 3 transactions, and the waiting threads woke only to return or to lead
    (a wake-up of every waiting thread at each commit made ~4 times as many)."""
    from engine.store.sql import group

    wakes = [0]
    waiting = group.GroupCommit._wait

    def counted(self: Any, ticket: Any) -> None:
        waiting(self, ticket)
        wakes[0] += 1

    monkeypatch.setattr(group, "MAX_BATCH", 4)
    monkeypatch.setattr(group.GroupCommit, "_wait", counted)
    ids = [f"e-{n}" for n in range(THREADS)]
    stored = lined_up(
        sqlite_store, [lambda i=i: store_request(sqlite_store, route, i) for i in ids]
    )
    assert all(isinstance(made, tuple) for made in stored), stored
    assert sqlite_store._group.transactions == 1 + 3
    # 11 waiting writers each woke to return, plus the hand-overs of the lead (the lead may
    # also go to a thread arriving between two commits, which wakes the one told for nothing).
    assert wakes[0] <= THREADS + 4, wakes[0]
    with SqlStore(sqlite_url) as other:
        for item, execution in stored:
            assert other.get_queue_item(item.id).execution_id == execution.id
