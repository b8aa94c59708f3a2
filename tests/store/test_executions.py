"""Executions: guarded transitions, the atomic claim, heartbeats, the reaper, history pages."""

from __future__ import annotations

import json
import random
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text

from engine.store import ExecutionStatus, InvalidTransition, NotFound, TriggerKind
from engine.store.sql.schema import execution_records

RECORD = {"modules": {"1": {"in": [{"a": 1}], "out": [{"b": 2}]}}}


@pytest.fixture
def queued(store, scenario):
    return store.create_execution(scenario.id, 1, TriggerKind.WEBHOOK, trigger_ref="item-7")


def run_to(store, execution_id, status=ExecutionStatus.SUCCESS, worker="w"):
    assert store.claim_execution(execution_id, worker)
    return store.finish_execution(execution_id, status, RECORD, operations=3, data_size=120)


def test_created_queued(queued, clock, scenario):
    assert queued.status is ExecutionStatus.QUEUED
    assert queued.status == "queued"  # a str enum
    assert len(queued.id) == 36
    assert (queued.scenario_id, queued.scenario_version) == (scenario.id, 1)
    assert (queued.trigger_kind, queued.trigger_ref) == (TriggerKind.WEBHOOK, "item-7")
    assert queued.created_at == clock.now
    assert queued.started_at is None and queued.record is None


def test_create_for_unknown_scenario(store):
    with pytest.raises(NotFound):
        store.create_execution(999, 1, TriggerKind.MANUAL)


def test_full_run_stores_record_separately(store, queued, clock):
    assert store.claim_execution(queued.id, "w1")
    running = store.get_execution(queued.id)
    assert running.status is ExecutionStatus.RUNNING
    assert running.worker_id == "w1" and running.started_at == clock.now
    clock.advance(2.5)
    finished = store.finish_execution(
        queued.id,
        ExecutionStatus.WARNING,
        RECORD,
        operations=7,
        data_size=512,
        error={"type": "DataError", "message": "one bundle failed"},
        worker_id="w1",
    )
    assert finished.status is ExecutionStatus.WARNING
    assert finished.finished_at == clock.now
    assert finished.duration_ms == 2500
    assert (finished.operations, finished.data_size) == (7, 512)
    assert finished.error == {"type": "DataError", "message": "one bundle failed"}
    assert finished.record == RECORD
    assert store.get_execution(queued.id).record == RECORD
    assert store.get_execution(queued.id, with_record=False).record is None
    assert store.list_executions().items[0].record is None


def test_claim_is_atomic_one_of_many_wins(store, queued):
    barrier = threading.Barrier(8)
    results = []

    def claim(worker):
        barrier.wait()
        results.append((store.claim_execution(queued.id, f"w{worker}"), worker))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [worker for won, worker in results if won]
    assert len(winners) == 1 and len(results) == 8
    assert store.get_execution(queued.id).worker_id == f"w{winners[0]}"


def test_redelivered_claim_is_harmless(store, queued):
    run_to(store, queued.id)
    assert store.claim_execution(queued.id, "redelivered") is False
    assert store.get_execution(queued.id).status is ExecutionStatus.SUCCESS
    with pytest.raises(NotFound):
        store.claim_execution("no-such-id", "w")


@pytest.mark.parametrize("status", [ExecutionStatus.QUEUED, ExecutionStatus.RUNNING])
def test_finish_needs_a_terminal_status(store, queued, status):
    store.claim_execution(queued.id, "w")
    with pytest.raises(InvalidTransition):
        store.finish_execution(queued.id, status, None, operations=0, data_size=0)


def test_finish_needs_a_running_execution(store, queued):
    with pytest.raises(InvalidTransition, match="'queued' to 'success'"):
        store.finish_execution(queued.id, ExecutionStatus.SUCCESS, None, operations=0, data_size=0)
    run_to(store, queued.id)
    with pytest.raises(InvalidTransition):
        store.finish_execution(queued.id, ExecutionStatus.ERROR, None, operations=0, data_size=0)
    assert store.get_execution(queued.id).status is ExecutionStatus.SUCCESS


def test_finish_by_a_worker_that_lost_the_claim(store, queued, clock):
    store.claim_execution(queued.id, "old")
    store.reap_stale(clock.now + timedelta(seconds=1))
    store.claim_execution(queued.id, "new")
    with pytest.raises(InvalidTransition, match="by new"):
        store.finish_execution(
            queued.id, ExecutionStatus.SUCCESS, None, operations=0, data_size=0, worker_id="old"
        )
    assert store.heartbeat(queued.id, "old") is False
    assert store.heartbeat(queued.id, "new") is True


def test_cancel(store, queued, scenario):
    cancelled = store.cancel_execution(queued.id)
    assert cancelled.status is ExecutionStatus.CANCELLED
    assert store.claim_execution(queued.id, "w") is False
    with pytest.raises(InvalidTransition):
        store.cancel_execution(queued.id)
    running = store.create_execution(scenario.id, 1, TriggerKind.MANUAL)
    store.claim_execution(running.id, "w")
    with pytest.raises(InvalidTransition):
        store.cancel_execution(running.id)
    assert (
        store.finish_execution(
            running.id, ExecutionStatus.CANCELLED, None, operations=0, data_size=0
        ).status
        is ExecutionStatus.CANCELLED
    )


def test_heartbeat_and_reaper(store, scenario, clock):
    alive = store.create_execution(scenario.id, 1, TriggerKind.SCHEDULE)
    dead = store.create_execution(scenario.id, 1, TriggerKind.SCHEDULE)
    waiting = store.create_execution(scenario.id, 1, TriggerKind.SCHEDULE)
    store.claim_execution(alive.id, "a")
    store.claim_execution(dead.id, "d")
    clock.advance(60)
    assert store.heartbeat(alive.id, "a") is True
    assert store.heartbeat(waiting.id, "a") is False  # not running
    assert store.get_execution(alive.id).heartbeat_at == clock.now
    reaped = store.reap_stale(clock.now - timedelta(seconds=30))
    assert reaped == [dead.id]
    requeued = store.get_execution(dead.id)
    assert requeued.status is ExecutionStatus.QUEUED
    assert requeued.worker_id is None and requeued.reaped_count == 1
    assert store.get_execution(alive.id).status is ExecutionStatus.RUNNING
    assert store.get_execution(waiting.id).status is ExecutionStatus.QUEUED
    assert store.claim_execution(dead.id, "second-chance") is True


def test_a_run_reaped_as_often_as_allowed_ends_as_an_error_instead(store, scenario, clock):
    # A run whose worker dies every time (a crash, OOM, an end it cannot store) was requeued
    # without end, repeating its writes each time.
    poison = store.create_execution(scenario.id, 1, TriggerKind.WEBHOOK, trigger_ref="1")
    healthy = store.create_execution(scenario.id, 1, TriggerKind.WEBHOOK, trigger_ref="2")
    error = {"type": "ReapLimitReached", "message": "started 3 times"}
    for attempt in range(2):
        assert store.claim_execution(poison.id, f"w{attempt}")
        clock.advance(60)
        stale = clock.now - timedelta(seconds=30)
        assert store.abandon_stale(stale, reaped_at_least=2, error=error) == []
        assert store.reap_stale(stale) == [poison.id]
    assert store.claim_execution(poison.id, "w2")
    assert store.claim_execution(healthy.id, "w3")
    started = clock.now
    clock.advance(60)
    assert store.heartbeat(healthy.id, "w3")  # alive: neither ended nor requeued
    stale = clock.now - timedelta(seconds=30)
    assert store.abandon_stale(stale, reaped_at_least=2, error=error, now=clock.now) == [poison.id]
    assert store.reap_stale(stale) == []
    ended = store.get_execution(poison.id)
    assert ended.status is ExecutionStatus.ERROR and ended.error == error
    assert ended.reaped_count == 2 and ended.finished_at == clock.now
    assert ended.duration_ms == round((clock.now - started).total_seconds() * 1000)
    assert store.claim_execution(poison.id, "w4") is False  # terminal: never runs again
    assert store.get_execution(healthy.id).status is ExecutionStatus.RUNNING


def make_history(store, scenario_ids, count, clock, same_time_every=3):
    """``count`` executions; every ``same_time_every`` of them share one timestamp."""
    made = []
    for n in range(count):
        if n % same_time_every == 0:
            clock.advance(1)
        made.append(
            store.create_execution(
                scenario_ids[n % len(scenario_ids)], 1, TriggerKind.MANUAL, created_at=clock.now
            )
        )
    return made


def all_pages(store, limit, **filters):
    pages, cursor = [], None
    while True:
        page = store.list_executions(limit=limit, cursor=cursor, **filters)
        pages.append(page.items)
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def newest_first(executions):
    """By start, newest first; one not started by when it was queued (the history's order)."""
    return sorted(executions, key=lambda e: (e.started_at or e.created_at, e.id), reverse=True)


@pytest.mark.parametrize("limit", [1, 4, 7, 50])
def test_keyset_pages_have_no_duplicates_or_holes(store, scenario, clock, limit):
    made = make_history(store, [scenario.id], 23, clock, same_time_every=5)
    pages = all_pages(store, limit)
    flat = [e.id for page in pages for e in page]
    assert flat == [e.id for e in newest_first(made)]
    assert all(len(page) <= limit for page in pages)
    assert len(pages) == -(-23 // limit)


def test_pages_stay_stable_when_new_runs_arrive(store, scenario, clock):
    made = make_history(store, [scenario.id], 10, clock)
    first = store.list_executions(limit=4)
    make_history(store, [scenario.id], 5, clock)  # newer ones arrive between page loads
    second = store.list_executions(limit=4, cursor=first.next_cursor)
    assert [e.id for e in first.items + second.items] == [e.id for e in newest_first(made)][:8]


def test_filters_by_scenario_status_and_time(store, scenario, clock):
    other = store.create_scenario("Other", "{}")
    made = make_history(store, [scenario.id, other.id], 12, clock, same_time_every=2)
    for execution in made[:4]:
        run_to(store, execution.id, ExecutionStatus.ERROR)
    mine = [store.get_execution(e.id) for e in made if e.scenario_id == scenario.id]
    flat = [e.id for page in all_pages(store, 2, scenario_id=scenario.id) for e in page]
    assert flat == [e.id for e in newest_first(mine)]
    errors = store.list_executions(status=ExecutionStatus.ERROR).items
    assert {e.id for e in errors} == {e.id for e in made[:4]}
    both = store.list_executions(status=[ExecutionStatus.ERROR, ExecutionStatus.QUEUED])
    assert len(both.items) == 12
    mine_errors = store.list_executions(scenario_id=scenario.id, status=ExecutionStatus.ERROR)
    assert {e.id for e in mine_errors.items} == {e.id for e in made[:4:2]}
    since, until = made[4].created_at, made[8].created_at
    window = store.list_executions(since=since, until=until).items
    assert {e.id for e in window} == {e.id for e in made[4:8]}
    assert store.count_executions() == 12
    assert store.count_executions(scenario_id=scenario.id, status=ExecutionStatus.ERROR) == 2


@pytest.mark.parametrize("limit", [1, 3, 50])
def test_history_is_ordered_by_start_not_by_creation(store, scenario, clock, limit):
    """Runs start in another order than they were queued (a retry, a busy worker): the history
    lists them by start; a run not started (queued, or cancelled in the queue) by when it was
    queued. Pages neither repeat nor skip rows, filtered or not."""
    made = make_history(store, [scenario.id], 8, clock, same_time_every=1)
    for execution in [made[5], made[0], made[3], made[1]]:  # started in this order, later
        clock.advance(1)
        store.claim_execution(execution.id, "w", now=clock.now)
    store.finish_execution(made[3].id, ExecutionStatus.SUCCESS, RECORD, operations=1, data_size=1)
    store.cancel_execution(made[7].id)
    clock.advance(1)
    newest = store.create_execution(scenario.id, 1, TriggerKind.MANUAL, created_at=clock.now)
    expected = [newest.id, made[1].id, made[3].id, made[0].id, made[5].id]
    expected += [made[7].id, made[6].id, made[4].id, made[2].id]
    flat = [e.id for page in all_pages(store, limit) for e in page]
    assert flat == expected
    mine = [e.id for page in all_pages(store, limit, scenario_id=scenario.id) for e in page]
    assert mine == expected
    again = [store.get_execution(execution_id) for execution_id in expected]
    assert [e.id for e in newest_first(again)] == expected
    queued_or_running = [ExecutionStatus.QUEUED, ExecutionStatus.RUNNING]
    statuses = all_pages(store, limit, status=queued_or_running)
    assert [e.id for page in statuses for e in page] == [
        execution_id for execution_id in expected if execution_id not in (made[3].id, made[7].id)
    ]
    # since/until select on the same time: the runs started in the last three seconds.
    window = store.list_executions(since=clock.now - timedelta(seconds=3), until=clock.now)
    assert [e.id for e in window.items] == [made[1].id, made[3].id, made[0].id]


def test_bad_cursor_and_limit(store):
    with pytest.raises(ValueError, match="cursor"):
        store.list_executions(cursor="definitely-not-a-cursor")
    with pytest.raises(ValueError):
        store.list_executions(limit=0)


def test_purge_keeps_unfinished_runs(store, scenario, clock):
    old_done = store.create_execution(scenario.id, 1, TriggerKind.MANUAL)
    run_to(store, old_done.id)
    old_queued = store.create_execution(scenario.id, 1, TriggerKind.MANUAL)
    clock.advance(3600)
    recent = store.create_execution(scenario.id, 1, TriggerKind.MANUAL)
    run_to(store, recent.id)
    assert store.purge_executions(clock.now - timedelta(minutes=30)) == 1
    remaining = {e.id for e in store.list_executions().items}
    assert remaining == {old_queued.id, recent.id}


def test_timestamps_come_back_aware_utc(store, scenario):
    from datetime import datetime, timezone

    oslo_evening = datetime(2026, 3, 1, 23, 30, 0, 123456, tzinfo=timezone(timedelta(hours=5)))
    made = store.create_execution(scenario.id, 1, TriggerKind.MANUAL, created_at=oslo_evening)
    read = store.get_execution(made.id)
    assert read.created_at == oslo_evening
    assert read.created_at.utcoffset() == timedelta(0)
    assert read.created_at.microsecond == 123456
    with pytest.raises(Exception, match="naive"):
        store.create_execution(scenario.id, 1, TriggerKind.MANUAL, created_at=datetime(2026, 1, 1))


def test_execution_stats_group_by_scenario_and_utc_day(store, scenario, clock):
    """The dashboard's numbers, the same on SQLite and PostgreSQL."""
    first_day = clock()
    for status in (ExecutionStatus.SUCCESS, ExecutionStatus.ERROR):
        execution = store.create_execution(scenario.id, 1, TriggerKind.MANUAL)
        run_to(store, execution.id, status)
    clock.advance(24 * 3600)
    execution = store.create_execution(scenario.id, 1, TriggerKind.MANUAL)
    run_to(store, execution.id)
    stats = store.execution_stats(first_day - timedelta(hours=1))
    day_one = first_day.date().isoformat()
    day_two = (first_day + timedelta(days=1)).date().isoformat()
    assert stats == [(scenario.id, day_one, 2, 6, 1), (scenario.id, day_two, 1, 3, 0)]
    assert store.execution_stats(first_day + timedelta(days=1)) == [(scenario.id, day_two, 1, 3, 0)]


def test_running_workers_are_those_with_a_recent_heartbeat(store, queued, clock):
    assert store.claim_execution(queued.id, "worker-a")
    assert store.running_workers(clock() - timedelta(seconds=30)) == ["worker-a"]
    clock.advance(120)
    assert store.running_workers(clock() - timedelta(seconds=30)) == []


def test_a_page_with_records_reads_them_in_the_same_query(store, scenario, clock):
    """The sync log reads a page of executions with their records: one query, not one per row."""
    made = make_history(store, [scenario.id], 3, clock, same_time_every=1)
    for execution in made:
        clock.advance(1)
        run_to(store, execution.id)
    made += make_history(store, [scenario.id], 2, clock, same_time_every=1)
    page = store.list_executions(scenario_id=scenario.id, limit=4, with_records=True)
    by_id = {e.id: e.record for e in page.items}
    assert [e.id for e in page.items] == [e.id for e in reversed(made)][:4]
    assert [by_id[e.id] for e in made[1:3]] == [RECORD, RECORD]
    assert by_id[made[4].id] is None  # still queued: no record yet
    rest = store.list_executions(limit=4, cursor=page.next_cursor, with_records=True).items
    assert [(e.id, e.record) for e in rest] == [(made[0].id, RECORD)]
    statements: list[str] = []

    def count(connection, cursor, statement, *rest):
        statements.append(statement)

    event.listen(store._engine, "before_cursor_execute", count)  # what the database is asked
    try:
        store.list_executions(scenario_id=scenario.id, limit=5, with_records=True)
    finally:
        event.remove(store._engine, "before_cursor_execute", count)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


def test_a_large_record_is_stored_compressed_and_reads_back_whole(store, queued):
    # A run over 10,000 items keeps the same items in several modules' bundles.
    rng = random.Random(7)
    items = [
        {"sku": f"ab-{i:05d}", "qty": rng.randint(0, 9), "unit_price": rng.uniform(1, 200)}
        for i in range(10_000)
    ]
    record = {"modules": [{"id": n, "calls": [{"output": [{"array": items}]}]} for n in (1, 2)]}
    raw = len(json.dumps(record, separators=(",", ":")))
    run_to_with(store, queued.id, record)
    with store.engine.connect() as connection:
        stored = connection.execute(
            select(func.length(execution_records.c.record)).where(
                execution_records.c.execution_id == queued.id
            )
        ).scalar_one()
    assert stored < raw / 4, (stored, raw)
    assert store.get_execution(queued.id).record == record


def test_a_small_record_is_stored_as_plain_json(store, queued):
    run_to_with(store, queued.id, RECORD)
    with store.engine.connect() as connection:
        stored = connection.execute(
            text("SELECT record FROM execution_records WHERE execution_id = :id"),
            {"id": queued.id},
        ).scalar_one()
    assert json.loads(bytes(stored)) == RECORD  # bytes as written, not a compressed frame


def run_to_with(store, execution_id, record):
    assert store.claim_execution(execution_id, "w")
    store.finish_execution(execution_id, ExecutionStatus.SUCCESS, record, operations=1, data_size=1)
