"""Webhooks and the durable webhook queue: arrival order, atomic claims, leases."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import event

from engine.store import (
    ExecutionStatus,
    FinishedRun,
    InvalidTransition,
    NotFound,
    QueueFull,
    QueueItemStatus,
    SqlStore,
    TriggerKind,
    request_body,
    webhook_request,
)


def request(n=0):
    return webhook_request(
        "post", {"X-N": str(n)}, {"q": "1"}, f'{{"n": {n}}}'.encode(), "application/json"
    )


@pytest.fixture
def hook(store, scenario):
    return store.create_webhook("orders", scenario_id=scenario.id, settings={"maxResults": 1})


def test_webhook_token_lookup_and_listing(store, scenario, hook):
    assert len(hook.token) >= 43
    assert hook.token not in repr(hook)
    assert store.find_webhook_by_token(hook.token) == hook
    assert store.find_webhook_by_token("nope") is None
    other = store.create_webhook("loose")
    assert other.scenario_id is None and other.token != hook.token
    assert [w.id for w in store.list_webhooks()] == [hook.id, other.id]
    assert [w.id for w in store.list_webhooks(scenario_id=scenario.id)] == [hook.id]


def test_update_and_delete_webhook(store, hook):
    updated = store.update_webhook(hook.id, name="renamed", enabled=False, scenario_id=None)
    assert (updated.name, updated.enabled, updated.scenario_id) == ("renamed", False, None)
    assert updated.settings == {"maxResults": 1}
    assert updated.token == hook.token
    store.enqueue(hook.id, request())
    store.delete_webhook(hook.id)
    with pytest.raises(NotFound):
        store.get_webhook(hook.id)
    with pytest.raises(NotFound):
        store.update_webhook(hook.id, name="x")


def test_request_json_round_trips_text_and_binary():
    text = webhook_request("get", {}, {}, b"plain \xc3\xa9", None)
    assert text["body_text"] == "plain é" and request_body(text) == b"plain \xc3\xa9"
    binary = webhook_request("put", {}, {}, b"\xff\x00\x01", "application/octet-stream")
    assert "body_text" not in binary and request_body(binary) == b"\xff\x00\x01"
    assert binary["method"] == "PUT"


def test_enqueue_is_durable_and_ordered_by_arrival(store, hook, clock, database_url):
    first = store.enqueue(hook.id, request(1))
    second = store.enqueue(hook.id, request(2), received_at=clock.now - timedelta(seconds=5))
    third = store.enqueue(hook.id, request(3))
    assert first.status is QueueItemStatus.QUEUED
    assert first.size_bytes > 0 and first.request == request(1)
    # Another store on the same database sees it at once: it was committed.
    with SqlStore(database_url) as other:
        ids = [item.id for item in other.list_queue(hook.id)]
    assert ids == [second.id, first.id, third.id]
    assert store.count_queue(hook.id) == 3


def test_enqueue_unknown_webhook_and_queue_limit(store, hook):
    with pytest.raises(NotFound):
        store.enqueue(999, request())
    store.enqueue(hook.id, request(1), max_queued=2)
    store.enqueue(hook.id, request(2), max_queued=2)
    with pytest.raises(QueueFull):
        store.enqueue(hook.id, request(3), max_queued=2)
    assert store.count_queue(hook.id) == 2


def test_an_enqueued_request_reads_back_as_enqueue_returned_it(store, hook):
    """``enqueue`` makes its answer from the values it wrote (no read-back)."""
    item = store.enqueue(hook.id, {**request(4), "big": 2**70 + 1, "text": "é"}, max_queued=5)
    assert store.get_queue_item(item.id) == item


def test_enqueue_under_a_limit_is_two_statements_on_the_drivers_cursor(store, hook):
    """The webhook's lock (PostgreSQL) and the INSERT that counts the queue itself; SQLite's
    ``BEGIN IMMEDIATE`` is the lock there."""
    store.enqueue(hook.id, request(0), max_queued=5)  # statements prepared before counting
    core: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: core.append(args[2]))
    sent = _driver_statements(store, lambda: store.enqueue(hook.id, request(1), max_queued=5))
    assert core == [], "nothing through SQLAlchemy's execution path"
    expected = 2 if store.engine.dialect.name == "postgresql" else 1
    assert len(sent) == expected, sent
    assert store.count_queue(hook.id) == 2


def test_concurrent_enqueues_never_pass_the_queue_limit(store, hook):
    limit, callers, each = 7, 6, 4
    barrier = threading.Barrier(callers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def call(n):
        barrier.wait()
        for k in range(each):
            try:
                store.enqueue(hook.id, request(n * each + k), max_queued=limit)
                outcome = "stored"
            except QueueFull:
                outcome = "full"
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("stored") == limit
    assert store.count_queue(hook.id, status=QueueItemStatus.QUEUED) == limit


class _Traced:
    """A DB-API cursor whose statements are noted in ``sent``."""

    def __init__(self, cursor, sent: list[str]) -> None:
        self._cursor, self._sent = cursor, sent

    def execute(self, sql, *args, **kwargs):
        self._sent.append(sql)
        return self._cursor.execute(sql, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._cursor, name)


def _driver_statements(store, work) -> list[str]:
    """The statements ``work`` sends through the pool's DB-API cursors."""
    sent: list[str] = []
    original = store.engine.raw_connection

    def counted():
        raw = original()
        cursor = raw.cursor

        def tracing_cursor(*args, **kwargs):
            return _Traced(cursor(*args, **kwargs), sent)

        raw.cursor = tracing_cursor
        return raw

    store.engine.raw_connection = counted
    try:
        work()
    finally:
        del store.engine.raw_connection
    return [sql for sql in sent if not sql.upper().startswith("BEGIN")]


def test_enqueue_with_execution_stores_both_in_one_commit(store, scenario, hook, database_url):
    store.set_scenario_active(scenario.id, True)
    made = store.enqueue_with_execution(
        hook.id, request(1), scenario_id=scenario.id, scenario_version=1, execution_id="e-1"
    )
    assert made is not None
    item, execution = made
    assert (item.status, item.execution_id, item.request) == (
        QueueItemStatus.DONE,
        "e-1",
        request(1),
    )
    assert (execution.status, execution.trigger_kind, execution.trigger_ref) == (
        ExecutionStatus.QUEUED,
        TriggerKind.WEBHOOK,
        str(item.id),
    )
    with SqlStore(database_url) as other:  # committed: another store sees both
        assert other.get_execution("e-1", with_record=False) == execution
        assert other.get_queue_item(item.id) == item
    assert store.count_queue(hook.id) == 0  # it never waits in the queue


def test_enqueue_with_execution_stores_nothing_when_the_route_changed(store, scenario, hook):
    def attempt(scenario_id=scenario.id, version=1, webhook_id=hook.id):
        return store.enqueue_with_execution(
            webhook_id,
            request(),
            scenario_id=scenario_id,
            scenario_version=version,
            execution_id="e-2",
        )

    assert attempt() is None  # the scenario is not active
    store.set_scenario_active(scenario.id, True)
    assert attempt(version=2) is None  # another version is current
    assert attempt(scenario_id=scenario.id + 1) is None  # the webhook moved
    assert attempt(webhook_id=999) is None  # no such webhook
    assert store.list_queue(hook.id, status=None) == []
    with pytest.raises(NotFound):
        store.get_execution("e-2")


def test_claim_complete_lifecycle(store, hook, clock):
    item = store.enqueue(hook.id, request())
    claimed = store.claim_next(webhook_id=hook.id, worker_id="w1", lease_seconds=30)
    assert claimed.id == item.id
    assert claimed.status is QueueItemStatus.CLAIMED
    assert claimed.worker_id == "w1" and claimed.attempts == 1
    assert claimed.lease_expires_at == clock.now + timedelta(seconds=30)
    assert store.claim_next(webhook_id=hook.id, worker_id="w2", lease_seconds=30) is None
    done = store.complete(item.id, "exec-1", worker_id="w1")
    assert done.status is QueueItemStatus.DONE and done.execution_id == "exec-1"
    assert store.count_queue(hook.id) == 0
    assert store.count_queue(hook.id, status=QueueItemStatus.DONE) == 1
    with pytest.raises(InvalidTransition):
        store.complete(item.id, "exec-2")
    with pytest.raises(InvalidTransition):
        store.release(item.id)


def test_claim_by_scenario_takes_the_oldest_of_its_webhooks(store, scenario, hook, clock):
    second_hook = store.create_webhook("other", scenario_id=scenario.id)
    unrelated = store.create_webhook("unrelated")
    store.enqueue(unrelated.id, request(0), received_at=clock.now - timedelta(minutes=9))
    newer = store.enqueue(hook.id, request(1))
    older = store.enqueue(second_hook.id, request(2), received_at=clock.now - timedelta(minutes=1))
    got = [
        store.claim_next(scenario_id=scenario.id, worker_id="w", lease_seconds=5).id
        for _ in range(2)
    ]
    assert got == [older.id, newer.id]
    assert store.claim_next(scenario_id=scenario.id, worker_id="w", lease_seconds=5) is None


def test_claim_needs_exactly_one_target(store, hook):
    with pytest.raises(ValueError):
        store.claim_next(worker_id="w", lease_seconds=5)
    with pytest.raises(ValueError):
        store.claim_next(webhook_id=hook.id, scenario_id=1, worker_id="w", lease_seconds=5)


def test_fail_and_release(store, hook):
    first, second = store.enqueue(hook.id, request(1)), store.enqueue(hook.id, request(2))
    claimed = store.claim_next(webhook_id=hook.id, worker_id="w", lease_seconds=5)
    released = store.release(claimed.id, worker_id="w")
    assert released.status is QueueItemStatus.QUEUED and released.worker_id is None
    again = store.claim_next(webhook_id=hook.id, worker_id="w", lease_seconds=5)
    assert again.id == first.id and again.attempts == 2  # kept its place in line
    failed = store.fail(again.id, {"type": "DataError", "message": "bad"})
    assert failed.status is QueueItemStatus.FAILED and failed.error["type"] == "DataError"
    assert store.claim_next(webhook_id=hook.id, worker_id="w", lease_seconds=5).id == second.id


def test_expired_lease_goes_back_to_the_queue(store, hook, clock):
    item = store.enqueue(hook.id, request())
    store.claim_next(webhook_id=hook.id, worker_id="dead", lease_seconds=10)
    assert store.requeue_expired(clock.now + timedelta(seconds=5)) == []
    assert store.requeue_expired(clock.now + timedelta(seconds=11)) == [item.id]
    retaken = store.claim_next(webhook_id=hook.id, worker_id="alive", lease_seconds=10)
    assert retaken.id == item.id and retaken.attempts == 2
    # The dead worker wakes up late: its lease is gone, it cannot complete the item.
    with pytest.raises(InvalidTransition, match="claimed by alive"):
        store.complete(item.id, "late", worker_id="dead")
    assert store.complete(item.id, "ok", worker_id="alive").execution_id == "ok"


def test_many_workers_never_claim_the_same_item(store, hook):
    total = 60
    for n in range(total):
        store.enqueue(hook.id, request(n))
    claimed: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def work(worker):
        barrier.wait()
        while (
            item := store.claim_next(webhook_id=hook.id, worker_id=f"w{worker}", lease_seconds=60)
        ) is not None:
            with lock:
                claimed.append(item.id)
            store.complete(item.id, None, worker_id=f"w{worker}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == total
    assert len(set(claimed)) == total
    assert store.count_queue(hook.id, status=QueueItemStatus.DONE) == total


def test_get_list_delete_and_clear(store, hook):
    items = [store.enqueue(hook.id, request(n)) for n in range(4)]
    assert store.get_queue_item(items[0].id) == items[0]
    assert [i.id for i in store.list_queue(hook.id, limit=2, offset=1)] == [
        items[1].id,
        items[2].id,
    ]
    store.delete_queue_item(items[0].id)
    with pytest.raises(NotFound):
        store.get_queue_item(items[0].id)
    with pytest.raises(NotFound):
        store.delete_queue_item(items[0].id)
    store.claim_next(webhook_id=hook.id, worker_id="w", lease_seconds=5)
    assert store.clear_queue(hook.id) == 2
    assert store.count_queue(hook.id, status=None) == 1
    assert len(store.list_queue(hook.id, status=None)) == 1
    assert store.clear_queue(hook.id, status=None) == 1


def test_an_execution_made_claimed_at_ingress_finishes_without_being_read(
    store, scenario, hook, database_url
):
    # The webhook hot path: stored claimed, then finished by its claimer from what it holds
    # (prepared statements on the driver's cursor, on either database).
    store.set_scenario_active(scenario.id, True)
    item, running = store.enqueue_with_execution(
        hook.id,
        request(1),
        scenario_id=scenario.id,
        scenario_version=1,
        execution_id="e-3",
        worker_id="w-1",
    )
    assert (running.status, running.worker_id) == (ExecutionStatus.RUNNING, "w-1")
    with pytest.raises(InvalidTransition):  # not its claimer: nothing is written
        store.finish_execution(
            "e-3",
            ExecutionStatus.SUCCESS,
            {"x": 1},
            operations=1,
            data_size=2,
            worker_id="w-2",
            running=running,
        )
    with pytest.raises(RuntimeError), store.transaction():  # rolled back with its block
        store.finish_execution(
            "e-3",
            ExecutionStatus.SUCCESS,
            {"x": 1},
            operations=1,
            data_size=2,
            worker_id="w-1",
            running=running,
        )
        raise RuntimeError("the block fails")
    assert store.get_execution("e-3").status is ExecutionStatus.RUNNING
    finished = store.finish_execution(
        "e-3",
        ExecutionStatus.SUCCESS,
        {"modules": [{"id": 1, "output": [{"n": 2**70 + 1, "s": "é\x00"}]}]},
        operations=3,
        data_size=40,
        error=None,
        worker_id="w-1",
        running=running,
    )
    with SqlStore(database_url) as other:  # committed, and read back as it was written
        assert other.get_execution("e-3") == finished
        assert other.get_queue_item(item.id) == item


def test_enqueue_with_execution_stores_a_run_that_ended_with_its_request_in_one_commit(
    store, scenario, hook, database_url, clock
):
    # A run made before anything was stored (``run_first``): the request, the execution as
    # its worker's finish would leave it, and its record, in one transaction.
    store.set_scenario_active(scenario.id, True)
    received = clock()
    record = {"modules": [{"id": 1, "output": [{"n": 2**70 + 1, "s": "é\x00"}]}]}
    ended = FinishedRun(
        status=ExecutionStatus.WARNING,
        record=record,
        operations=3,
        data_size=40,
        error={"type": "DataError", "message": "a warning"},
        finished_at=received + timedelta(milliseconds=250),
    )
    item, finished = store.enqueue_with_execution(
        hook.id,
        request(1),
        scenario_id=scenario.id,
        scenario_version=1,
        execution_id="e-4",
        worker_id="w-1",
        received_at=received,
        finished=ended,
    )
    assert (item.status, item.execution_id) == (QueueItemStatus.DONE, "e-4")
    assert (finished.status, finished.worker_id, finished.trigger_ref) == (
        ExecutionStatus.WARNING,
        "w-1",
        str(item.id),
    )
    assert (finished.operations, finished.data_size, finished.duration_ms) == (3, 40, 250)
    assert finished.error == {"type": "DataError", "message": "a warning"}
    with SqlStore(database_url) as other:  # committed, and read back as it was written
        assert other.get_execution("e-4") == finished
        assert other.get_execution("e-4").record == record
        assert other.get_queue_item(item.id) == item
        page = other.list_executions(scenario_id=scenario.id, status=ExecutionStatus.WARNING)
        assert [execution.id for execution in page.items] == ["e-4"]  # listed as it ended


def test_enqueue_with_execution_refuses_an_end_that_is_no_end(store, scenario, hook, clock):
    store.set_scenario_active(scenario.id, True)
    running = FinishedRun(ExecutionStatus.RUNNING, None, 0, 0, None, clock())
    with pytest.raises(ValueError):
        store.enqueue_with_execution(
            hook.id,
            request(1),
            scenario_id=scenario.id,
            scenario_version=1,
            execution_id="e-5",
            worker_id="w-1",
            finished=running,
        )
    assert store.list_queue(hook.id, status=None) == []  # rolled back: nothing stored
    with pytest.raises(NotFound):
        store.get_execution("e-5")


def test_writing_a_scenario_or_webhook_moves_the_route_version(store, scenario, hook):
    seen = [store.route_version]

    def moved() -> bool:
        seen.append(store.route_version)
        return seen[-1] != seen[-2]

    store.get_scenario(scenario.id)
    assert not moved()
    store.set_scenario_active(scenario.id, True)
    assert moved()
    store.save_scenario(scenario.id, store.get_scenario_version(scenario.id).blueprint)
    assert moved()
    store.update_webhook(hook.id, enabled=False)
    assert moved()
    with store.transaction():
        store.update_scenario(scenario.id, name="Renamed")
    assert moved()
    store.enqueue(hook.id, request(2))
    assert not moved()


def test_reads_inside_a_transaction_see_its_writes(store, scenario):
    """A read in a ``transaction()`` block uses the block's own connection (no transaction of
    its own: a BEGIN and a ROLLBACK round trip saved on PostgreSQL), so it sees what the block
    wrote; once the block fails, nothing of it is left."""
    with store.transaction():
        made = store.create_webhook("Inside", scenario_id=scenario.id)
        assert store.get_webhook(made.id).name == "Inside"
        assert store.find_webhook_by_token(made.token) is not None
    assert store.get_webhook(made.id).name == "Inside"

    with pytest.raises(RuntimeError), store.transaction():
        gone = store.create_webhook("Rolled back", scenario_id=scenario.id)
        assert store.get_webhook(gone.id).name == "Rolled back"
        raise RuntimeError("the block fails")
    with pytest.raises(NotFound):
        store.get_webhook(gone.id)


def made_id(item_id):
    return f"run-of-{item_id}"


def test_take_next_with_execution_makes_the_oldest_requests_running_execution(
    store, scenario, hook, clock
):
    first = store.enqueue(hook.id, request(1))
    clock.advance(seconds=1)
    second = store.enqueue(hook.id, request(2))
    clock.advance(seconds=5)

    taken = store.take_next_with_execution(
        hook.id,
        scenario_id=scenario.id,
        scenario_version=scenario.current_version,
        execution_id=made_id,
        worker_id="w-1",
    )

    assert taken is not None
    item, execution = taken
    assert (item.id, item.status, item.execution_id) == (first.id, QueueItemStatus.DONE, "run-of-1")
    assert (item.attempts, item.worker_id) == (1, "w-1")
    stored = store.get_execution(made_id(first.id), with_record=False)
    assert execution == stored  # as stored, not read back
    assert (stored.status, stored.worker_id) == (ExecutionStatus.RUNNING, "w-1")
    assert (stored.trigger_kind, stored.trigger_ref) == (TriggerKind.WEBHOOK, str(first.id))
    assert stored.created_at == first.received_at  # queued since the request arrived
    assert stored.started_at == stored.heartbeat_at == clock.now  # claimed now: beats from now
    assert store.get_queue_item(second.id).status is QueueItemStatus.QUEUED

    take = {
        "scenario_id": scenario.id,
        "scenario_version": scenario.current_version,
        "execution_id": made_id,
        "worker_id": "w-2",
    }
    assert store.take_next_with_execution(hook.id, **take)[0].id == second.id
    assert store.take_next_with_execution(hook.id, **take) is None


def test_take_next_with_execution_leaves_an_execution_made_before_alone(store, scenario, hook):
    item = store.enqueue(hook.id, request(1))
    earlier = store.create_execution(
        scenario.id, scenario.current_version, TriggerKind.WEBHOOK, str(item.id),
        execution_id=made_id(item.id),
    )  # fmt: skip

    taken = store.take_next_with_execution(
        hook.id,
        scenario_id=scenario.id,
        scenario_version=scenario.current_version,
        execution_id=made_id,
        worker_id="w-1",
    )

    assert taken is not None and taken[1] is None  # the caller claims the queued one
    assert taken[0].status is QueueItemStatus.DONE
    assert store.get_execution(earlier.id, with_record=False) == earlier


def test_concurrent_takers_never_take_the_same_request(store, scenario, hook):
    items = {store.enqueue(hook.id, request(n)).id for n in range(20)}
    taken: list[int] = []
    guard = threading.Lock()

    def take(worker):
        while True:
            got = store.take_next_with_execution(
                hook.id,
                scenario_id=scenario.id,
                scenario_version=scenario.current_version,
                execution_id=made_id,
                worker_id=worker,
            )
            if got is None:
                return
            assert got[1] is not None
            with guard:
                taken.append(got[0].id)

    threads = [threading.Thread(target=take, args=(f"w-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == sorted(items)


def test_a_webhooks_route_is_read_in_one_statement(store, scenario, hook):
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    sent = _driver_statements(store, lambda: store.get_webhook_route(hook.id))
    assert len(sent) == 1 and statements == []  # on the driver's cursor
    assert store.get_webhook_route(hook.id) == (hook, store.get_scenario(scenario.id))
    with store.transaction():  # the worker reads it in the take's transaction
        assert store.get_webhook_route(hook.id) == (hook, store.get_scenario(scenario.id))

    loose = store.create_webhook("loose")
    assert store.get_webhook_route(loose.id) == (loose, None)
    with pytest.raises(NotFound):
        store.get_webhook_route(loose.id + 100)
