"""Incomplete executions: stored remainder, edits, retries, resolution."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from engine.store import (
    ExecutionStatus,
    IncompleteStatus,
    InvalidTransition,
    NotFound,
    TriggerKind,
)

STATE = {"bundles": [{"id": 1}], "remaining": [4, 5]}
ERROR = {"type": "ConnectionError", "message": "timeout"}


@pytest.fixture
def incomplete(store, scenario, clock):
    execution = store.create_execution(scenario.id, 1, TriggerKind.WEBHOOK)
    return store.create_incomplete(
        scenario.id,
        1,
        STATE,
        ERROR,
        execution_id=execution.id,
        failed_module_id=4,
        max_attempts=3,
        next_retry_at=clock.now + timedelta(minutes=1),
    )


def test_create_and_get(store, incomplete, scenario, clock):
    assert incomplete.status is IncompleteStatus.PENDING
    assert incomplete.attempts == 0 and incomplete.max_attempts == 3
    assert incomplete.state == STATE and incomplete.error == ERROR
    assert incomplete.failed_module_id == 4 and incomplete.blueprint_version == 1
    assert incomplete.created_at == clock.now
    assert store.get_incomplete(incomplete.id) == incomplete
    with pytest.raises(NotFound):
        store.get_incomplete(999)


def test_list_and_count_unresolved(store, incomplete, scenario):
    second = store.create_incomplete(scenario.id, 1, None, ERROR)
    other = store.create_scenario("x", "{}")
    store.create_incomplete(other.id, 1, [], ERROR)
    assert [i.id for i in store.list_incomplete(scenario_id=scenario.id)] == [
        incomplete.id,
        second.id,
    ]
    assert len(store.list_incomplete()) == 3
    assert [i.id for i in store.list_incomplete(limit=1, offset=1)] == [second.id]
    assert store.count_unresolved(scenario.id) == 2
    store.resolve_incomplete(second.id)
    assert store.count_unresolved(scenario.id) == 1
    assert [i.id for i in store.list_incomplete(status=IncompleteStatus.RESOLVED)] == [second.id]


def test_edit_state_and_version(store, incomplete, scenario, clock):
    store.save_scenario(scenario.id, '{"fixed": true}')
    clock.advance(5)
    edited = store.update_incomplete(incomplete.id, state={"bundles": []}, blueprint_version=2)
    assert edited.state == {"bundles": []} and edited.blueprint_version == 2
    assert edited.updated_at == clock.now and edited.error == ERROR
    cleared = store.update_incomplete(incomplete.id, next_retry_at=None)
    assert cleared.next_retry_at is None and cleared.blueprint_version == 2
    store.resolve_incomplete(incomplete.id)
    with pytest.raises(InvalidTransition):
        store.update_incomplete(incomplete.id, state={})


def test_retry_cycle(store, incomplete, clock):
    assert store.due_for_retry(clock.now) == []
    later = clock.now + timedelta(minutes=2)
    assert [i.id for i in store.due_for_retry(later)] == [incomplete.id]
    assert store.start_retry(incomplete.id, later) is True
    assert store.start_retry(incomplete.id, later) is False  # someone is already on it
    retrying = store.get_incomplete(incomplete.id)
    assert retrying.status is IncompleteStatus.RETRYING and retrying.attempts == 1
    assert store.due_for_retry(later) == []
    again_at = later + timedelta(minutes=10)
    failed = store.retry_failed(
        incomplete.id, {"type": "ConnectionError", "message": "again"}, again_at
    )
    assert failed.status is IncompleteStatus.PENDING and failed.next_retry_at == again_at
    assert failed.error["message"] == "again"
    with pytest.raises(InvalidTransition):
        store.retry_failed(incomplete.id, ERROR, None)
    store.start_retry(incomplete.id)
    assert store.resolve_incomplete(incomplete.id).status is IncompleteStatus.RESOLVED
    with pytest.raises(InvalidTransition):
        store.resolve_incomplete(incomplete.id)
    assert store.start_retry(incomplete.id) is False


def test_a_retry_that_failed_further_on_moves_the_state_and_keeps_the_attempts(
    store, incomplete, clock
):
    store.start_retry(incomplete.id)
    later = {"module_id": 6, "bundles": {"4": {"id": 9}}, "error": ERROR, "retry": {}}
    again_at = clock.now + timedelta(minutes=10)
    moved = store.retry_failed(
        incomplete.id, ERROR, again_at, state=later, failed_module_id=6, max_attempts=8
    )
    assert moved.status is IncompleteStatus.PENDING and moved.next_retry_at == again_at
    assert moved.state == later and moved.failed_module_id == 6
    assert moved.attempts == 1 and moved.max_attempts == 8
    store.start_retry(incomplete.id)
    kept = store.retry_failed(incomplete.id, {"type": "DataError", "message": "no"}, None)
    assert kept.state == later and kept.failed_module_id == 6 and kept.max_attempts == 8
    assert kept.attempts == 2 and kept.error["type"] == "DataError"


def test_attempts_cap_retries(store, incomplete, clock):
    later = clock.now + timedelta(hours=1)
    for _ in range(3):
        assert [i.id for i in store.due_for_retry(later)] == [incomplete.id]
        store.start_retry(incomplete.id)
        store.retry_failed(incomplete.id, ERROR, later - timedelta(minutes=1))
    assert store.due_for_retry(later) == []  # 3 of 3 attempts used


def test_manual_only_is_never_due(store, scenario, clock):
    store.create_incomplete(scenario.id, 1, STATE, ERROR)
    assert store.due_for_retry(clock.now + timedelta(days=365)) == []


def test_concurrent_retry_starts_one_wins(store, incomplete):
    barrier = threading.Barrier(6)
    results = []

    def start():
        barrier.wait()
        results.append(store.start_retry(incomplete.id))

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 5 + [True]
    assert store.get_incomplete(incomplete.id).attempts == 1


def test_delete(store, incomplete):
    store.delete_incomplete(incomplete.id)
    with pytest.raises(NotFound):
        store.delete_incomplete(incomplete.id)
    with pytest.raises(NotFound):
        store.start_retry(incomplete.id)


def test_purged_execution_leaves_the_incomplete_execution(store, incomplete, clock):
    store.claim_execution(incomplete.execution_id, "w")
    store.finish_execution(incomplete.execution_id, "incomplete", None, operations=1, data_size=1)
    assert store.purge_executions(clock.now + timedelta(days=1)) == 1
    assert store.get_incomplete(incomplete.id).execution_id is None


def _finish_incomplete(store, execution_id):
    store.finish_execution(
        execution_id, ExecutionStatus.INCOMPLETE, {"modules": []}, operations=1, data_size=0
    )


def test_writes_in_a_transaction_commit_together(store, scenario):
    execution = store.create_execution(scenario.id, 1, TriggerKind.WEBHOOK)
    assert store.claim_execution(execution.id, "w1")
    with store.transaction():
        _finish_incomplete(store, execution.id)
        with store.transaction():  # nested blocks join the outer one
            store.create_incomplete(scenario.id, 1, STATE, ERROR, execution_id=execution.id)
    assert store.get_execution(execution.id).status is ExecutionStatus.INCOMPLETE
    assert [i.execution_id for i in store.list_incomplete()] == [execution.id]


def test_a_failed_transaction_writes_nothing(store, scenario):
    execution = store.create_execution(scenario.id, 1, TriggerKind.WEBHOOK)
    assert store.claim_execution(execution.id, "w1")
    with pytest.raises(RuntimeError), store.transaction():
        _finish_incomplete(store, execution.id)
        store.create_incomplete(scenario.id, 1, STATE, ERROR, execution_id=execution.id)
        raise RuntimeError("the worker died here")
    assert store.get_execution(execution.id).status is ExecutionStatus.RUNNING
    assert store.list_incomplete() == []
    # The store stays usable, and other threads were never blocked for good.
    done = threading.Event()

    def elsewhere():
        store.create_incomplete(scenario.id, 1, STATE, ERROR)
        done.set()

    threading.Thread(target=elsewhere).start()
    assert done.wait(10)
