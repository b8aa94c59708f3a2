"""Embedded ingress stores a request together with its execution (``runs_at_ingress``): one
commit, and the run reads none of it back. A scenario whose answer is its last step runs in the
accepting thread (``run_here``); others are handed to a queue thread. The queue's threads are
not started: each test hands a dispatched id over by hand, as a started thread would."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from engine.queue import InlineQueue
from engine.service import Service, ServiceOptions, WebhookDisabled
from engine.service.plans import answers_at_its_end
from engine.store import ExecutionStatus, QueueItemStatus, SqlStore, TriggerKind
from tests.service.blueprints import (
    SLOW_RESPONDER,
    blueprint,
    module,
    respond,
    set_variable,
    webhook_trigger,
)
from tests.service.statements import counted

ANSWERING = blueprint(webhook_trigger(), respond(2), name="Answering")
# Answers, then goes on: its caller need not wait for the rest, so a queue thread runs it.
ANSWERING_FIRST = blueprint(
    webhook_trigger(), respond(2), set_variable(3), name="Answers, then goes on"
)


class ProcessDied(BaseException):
    """Stands for the process ending mid-run (nothing after it runs, nothing catches it)."""


@pytest.fixture
def working_queue(queue, monkeypatch):
    monkeypatch.setattr(queue, "works_here", lambda: True)  # as if its threads ran
    return queue


def post(service, token, n):
    return service.accept_webhook(
        token,
        method="POST",
        headers={"Content-Type": "application/json"},
        query={},
        body=json.dumps({"n": n}).encode(),
        content_type="application/json",
    )


def deliver(queue: InlineQueue, service: Service) -> list[str]:
    """Run what was dispatched, in this thread; the ids delivered."""
    delivered = []
    while queue.pending():
        kind, ident = queue._items.get_nowait()
        if kind == "execution":
            service.execute(ident)
        else:
            service.process_webhook(int(ident))
        delivered.append(ident)
    return delivered


def refuse_the_commit_with_its_run(store, monkeypatch, error):
    """``error`` from every store of a request with its ended execution (``run_first``)."""
    storing = store.enqueue_with_execution

    def refusing(*args, **kwargs):
        if kwargs.get("finished") is not None:
            raise error
        return storing(*args, **kwargs)

    monkeypatch.setattr(store, "enqueue_with_execution", refusing)


def selects(statements):
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def test_a_scenario_that_answers_at_its_end_runs_in_the_accepting_thread(
    service, store, working_queue
):
    hook = service.import_scenario(ANSWERING, active=True).webhooks[0]
    post(service, hook.token, 0)  # reads the route once
    statements = counted(store)

    accepted = post(service, hook.token, 7)
    made = list(statements)
    assert accepted.ran_here and accepted.execution_id is not None
    assert working_queue.pending() == 0  # nothing handed to a thread
    answer = service.wait_for_response(accepted, 0)
    assert answer is not None and (answer.status, answer.body) == (201, "got 7")
    finished = store.get_execution(accepted.execution_id)
    assert finished.status is ExecutionStatus.SUCCESS and finished.record is not None
    assert (finished.trigger_kind, finished.trigger_ref) == (
        TriggerKind.WEBHOOK,
        str(accepted.item_id),
    )
    item = store.get_queue_item(accepted.item_id)
    assert (item.status, item.execution_id) == (QueueItemStatus.DONE, accepted.execution_id)
    assert finished.worker_id is not None and finished.finished_at is not None
    assert finished.duration_ms is not None and finished.operations == 2
    # Run first, then one commit (``commit_with_the_run``): BEGIN, the route check, the
    # request, the execution as it ended, its record, COMMIT. Nothing else read or written.
    assert len(made) == 6, made
    assert len(selects(made)) == 1, made
    assert sum(1 for s in made if s.strip().upper() == "COMMIT") == 1, made


def test_with_the_option_off_the_request_is_committed_before_its_run(service, store, working_queue):
    service.webhooks.options = replace(service.webhooks.options, commit_with_the_run=False)
    hook = service.import_scenario(ANSWERING, active=True).webhooks[0]
    post(service, hook.token, 0)  # reads the route once
    statements = counted(store)

    accepted = post(service, hook.token, 7)
    made = list(statements)
    assert accepted.ran_here
    assert service.wait_for_response(accepted, 0).body == "got 7"
    assert store.get_execution(accepted.execution_id).status is ExecutionStatus.SUCCESS
    # The request with its execution: BEGIN, the route check, two INSERTs, COMMIT. Its end:
    # BEGIN, the UPDATE, the record, COMMIT. Nothing else read.
    assert len(made) == 9, made
    assert len(selects(made)) == 1, made


def test_ingress_commits_the_request_with_its_execution_and_the_run_reads_nothing_back(
    service, store, working_queue
):
    hook = service.import_scenario(ANSWERING_FIRST, active=True).webhooks[0]
    post(service, hook.token, 0)  # reads the route once
    deliver(working_queue, service)
    statements = counted(store)

    accepted = post(service, hook.token, 7)
    accepting = len(statements)
    assert accepted.execution_id is not None and accepted.responds and not accepted.ran_here
    item = store.get_queue_item(accepted.item_id)
    assert (item.status, item.execution_id) == (QueueItemStatus.DONE, accepted.execution_id)
    claimed = store.get_execution(accepted.execution_id, with_record=False)
    assert claimed.worker_id is not None  # claimed at ingress; its heartbeat kept from there
    assert (claimed.status, claimed.trigger_kind, claimed.trigger_ref) == (
        ExecutionStatus.RUNNING,
        TriggerKind.WEBHOOK,
        str(accepted.item_id),
    )
    del statements[accepting:]  # the checks above are not the path's

    assert deliver(working_queue, service) == [accepted.execution_id]
    running = statements[accepting:]
    answer = service.wait_for_response(accepted, 1)
    assert answer is not None and (answer.status, answer.body) == (201, "got 7")
    finished = store.get_execution(accepted.execution_id)
    assert finished.status is ExecutionStatus.SUCCESS and finished.record is not None
    # Ingress: BEGIN, the route check, the request, the execution (claimed), COMMIT. The run:
    # BEGIN, the finish and the record, COMMIT. Nothing read back.
    assert accepting == 5, statements[:accepting]
    assert len(running) == 4, running
    assert not selects(running)


def test_an_execution_made_at_ingress_survives_losing_the_process(
    service, store, working_queue, settings, registry, clock
):
    hook = service.import_scenario(ANSWERING_FIRST, active=True).webhooks[0]
    accepted = post(service, hook.token, 3)
    assert accepted.execution_id is not None
    # The process dies before a thread took it (its heartbeats stop): once the heartbeat is
    # stale, a new process (nothing in memory) runs it, once.
    service.close()
    options = ServiceOptions(webhook_response_timeout=5, dispatch_grace_seconds=1)
    again = InlineQueue(workers=1)
    restarted = Service(store, again, settings, registry, clock, options=options)
    try:
        clock.advance(seconds=settings.stale_after_seconds + 5)
        restarted.tick()
        assert set(deliver(again, restarted)) == {accepted.execution_id}
        restarted.tick()
        deliver(again, restarted)
    finally:
        restarted.close()
        again.close()
    execution = store.get_execution(accepted.execution_id, with_record=False)
    assert execution.status is ExecutionStatus.SUCCESS
    assert store.list_executions(scenario_id=execution.scenario_id).items == [execution]


def test_sequential_scenarios_and_the_option_off_keep_the_webhook_queue(
    service, store, working_queue
):
    sequential = blueprint(webhook_trigger(), respond(2), name="One by one", sequential=True)
    hook = service.import_scenario(sequential, active=True).webhooks[0]
    accepted = post(service, hook.token, 1)
    assert accepted.execution_id is None
    assert store.get_queue_item(accepted.item_id).status is QueueItemStatus.QUEUED
    service.process_webhook(hook.id)

    service.webhooks.options = replace(service.webhooks.options, runs_at_ingress=False)
    parallel = service.import_scenario(ANSWERING, active=True).webhooks[0]
    accepted = post(service, parallel.token, 2)
    assert accepted.execution_id is None
    assert store.get_queue_item(accepted.item_id).status is QueueItemStatus.QUEUED


def test_a_run_committed_with_its_request_leaves_nothing_when_the_process_dies_mid_run(
    service, store, working_queue, monkeypatch
):
    hook = service.import_scenario(ANSWERING, active=True).webhooks[0]

    def dies(*args, **kwargs):
        raise ProcessDied

    # The process dies mid-run, before its one commit: nothing was stored and the caller got
    # no answer (it sends again, as after a 503). The run only computed: nothing else to undo.
    monkeypatch.setattr(service.runs, "_store_run", dies)
    with pytest.raises(ProcessDied):
        post(service, hook.token, 3)
    assert store.list_queue(hook.id, status=None) == []
    assert store.list_executions().items == []


def test_a_run_whose_one_commit_fails_is_refused_and_stores_nothing(
    service, store, working_queue, monkeypatch
):
    from engine.service import StoreUnavailable
    from engine.store import StoreUnavailable as StoreDown

    hook = service.import_scenario(ANSWERING, active=True).webhooks[0]
    post(service, hook.token, 0)
    refuse_the_commit_with_its_run(store, monkeypatch, StoreDown("the database went away"))
    with pytest.raises(StoreUnavailable):  # 503 with Retry-After: the caller sends again
        post(service, hook.token, 4)
    assert len(store.list_queue(hook.id, status=None)) == 1  # the request before only
    assert len(store.list_executions().items) == 1


def test_a_run_whose_record_its_commit_refuses_is_stored_apart_and_answers(
    service, store, working_queue, monkeypatch
):
    from engine.store import InvalidValue

    hook = service.import_scenario(ANSWERING, active=True).webhooks[0]
    # About the record, not the database: the request is stored with its execution claimed,
    # then run and finished apart (``run_here``), whose finish handles such a record.
    refuse_the_commit_with_its_run(store, monkeypatch, InvalidValue("text it refuses"))
    accepted = post(service, hook.token, 5)
    assert accepted.ran_here
    assert service.wait_for_response(accepted, 0).body == "got 5"
    (execution,) = store.list_executions().items
    assert execution.id == accepted.execution_id
    assert execution.status is ExecutionStatus.SUCCESS
    assert execution.trigger_ref == str(accepted.item_id)


def test_a_run_in_the_accepting_thread_survives_losing_the_process(
    service, store, working_queue, settings, registry, clock, monkeypatch
):
    service.webhooks.options = replace(service.webhooks.options, commit_with_the_run=False)
    hook = service.import_scenario(ANSWERING, active=True).webhooks[0]

    def dies(*args, **kwargs):
        raise ProcessDied

    # The process dies after the request and its execution were committed, mid-run (before
    # its end is stored): the caller got no answer, and nothing in memory survives.
    monkeypatch.setattr(service.runs, "_finish", dies)
    with pytest.raises(ProcessDied):
        post(service, hook.token, 3)
    service.close()
    (item,) = store.list_queue(hook.id, status=None)
    assert item.status is QueueItemStatus.DONE and item.execution_id is not None
    stuck = store.get_execution(item.execution_id, with_record=False)
    assert stuck.status is ExecutionStatus.RUNNING and stuck.worker_id is not None

    # A new process: once the heartbeat is stale the reaper takes it back, and it runs once.
    options = ServiceOptions(webhook_response_timeout=5, dispatch_grace_seconds=1)
    again = InlineQueue(workers=1)
    restarted = Service(store, again, settings, registry, clock, options=options)
    try:
        clock.advance(seconds=settings.stale_after_seconds + 5)
        restarted.tick()
        assert set(deliver(again, restarted)) == {item.execution_id}
        restarted.tick()
        deliver(again, restarted)
    finally:
        restarted.close()
        again.close()
    execution = store.get_execution(item.execution_id)
    assert execution.status is ExecutionStatus.SUCCESS and execution.record is not None
    assert execution.reaped_count == 1
    assert store.list_executions(scenario_id=execution.scenario_id).items == [
        replace(execution, record=None)
    ]


def test_a_run_here_whose_end_cannot_be_stored_still_answers_and_is_run_again(
    service, store, working_queue, settings, clock, monkeypatch
):
    from engine.store import StoreUnavailable

    service.webhooks.options = replace(service.webhooks.options, commit_with_the_run=False)
    hook = service.import_scenario(ANSWERING, active=True).webhooks[0]

    def database_gone(*args, **kwargs):
        raise StoreUnavailable("the database went away")

    with monkeypatch.context() as patched:
        patched.setattr(store, "finish_execution", database_gone)
        accepted = post(service, hook.token, 4)  # raises nothing: the request is stored
    answer = service.wait_for_response(accepted, 0)
    assert answer is not None and (answer.status, answer.body) == (201, "got 4")
    assert store.get_execution(accepted.execution_id).status is ExecutionStatus.RUNNING
    service.heartbeats.stop()  # the beats would stop with the process that lost its database
    clock.advance(seconds=settings.stale_after_seconds + 5)
    service.tick()
    deliver(working_queue, service)
    assert store.get_execution(accepted.execution_id).status is ExecutionStatus.SUCCESS


def test_an_edited_scenario_answers_with_its_new_version_from_the_next_request(
    service, store, working_queue
):
    imported = service.import_scenario(ANSWERING, active=True)
    hook = imported.webhooks[0]
    first = post(service, hook.token, 1)
    assert first.ran_here and service.wait_for_response(first, 0).body == "got 1"

    edited = blueprint(webhook_trigger(), respond(2, body="now {{1.n}}"), name="Answering")
    service.save_scenario(imported.scenario.id, edited)
    second = post(service, hook.token, 2)
    assert second.ran_here, "the route read before the edit was used"
    assert service.wait_for_response(second, 0).body == "now 2"
    ran = store.get_execution(second.execution_id, with_record=False)
    assert ran.scenario_version == 2


def test_a_deactivated_scenario_stops_running_requests_at_once(service, store, working_queue):
    imported = service.import_scenario(ANSWERING, active=True)
    hook = imported.webhooks[0]
    assert post(service, hook.token, 1).ran_here

    service.deactivate_scenario(imported.scenario.id)
    waiting = post(service, hook.token, 2)
    assert not waiting.ran_here and waiting.execution_id is None
    assert store.get_queue_item(waiting.item_id).status is QueueItemStatus.QUEUED
    assert working_queue.pending() == 0  # inactive: it waits (Make's behaviour)

    service.activate_scenario(imported.scenario.id)
    deliver(working_queue, service)  # activation dispatches what waited
    assert post(service, hook.token, 3).ran_here


def test_a_disabled_webhook_refuses_the_next_request(service, store, working_queue):
    hook = service.import_scenario(ANSWERING, active=True).webhooks[0]
    assert post(service, hook.token, 1).ran_here
    store.update_webhook(hook.id, enabled=False)
    with pytest.raises(WebhookDisabled):
        post(service, hook.token, 2)
    assert len(store.list_queue(hook.id, status=None)) == 1


def test_a_route_changed_by_another_process_is_read_again(service, store, working_queue, settings):
    imported = service.import_scenario(ANSWERING, active=True)
    hook = imported.webhooks[0]
    assert post(service, hook.token, 1).ran_here

    # Another process (its own store object) saves a new version: this process's route is
    # stale. The request is not run with the old plan: it waits in the webhook queue, and
    # the route is read afresh for the next.
    other = SqlStore(settings.database_url, secret_box=settings.secret_box())
    try:
        edited = blueprint(webhook_trigger(), respond(2, body="new {{1.n}}"), name="Answering")
        other.save_scenario(imported.scenario.id, edited)
    finally:
        other.close()
    stale = post(service, hook.token, 2)
    assert not stale.ran_here and stale.execution_id is None
    deliver(working_queue, service)
    assert store.get_queue_item(stale.item_id).status is QueueItemStatus.DONE
    fresh = post(service, hook.token, 3)
    assert fresh.ran_here and service.wait_for_response(fresh, 0).body == "new 3"


def routed(module_id, *routes):
    return {
        "id": module_id,
        "module": "builtin:BasicRouter",
        "version": 1,
        "mapper": None,
        "routes": [{"flow": flow} for flow in routes],
    }


@pytest.mark.parametrize(
    ("shape", "here"),
    [
        (ANSWERING, True),
        (blueprint(webhook_trigger(), set_variable(2), respond(3)), True),
        (ANSWERING_FIRST, False),  # goes on after its answer
        (SLOW_RESPONDER, False),  # a pause may outlast the response timeout
        (blueprint(webhook_trigger(), module(2, "http:MakeRequest", url="x"), respond(3)), False),
        (blueprint(webhook_trigger(), routed(2, [respond(3)], [set_variable(4)])), False),
        (blueprint(webhook_trigger(), set_variable(2)), False),  # nothing answers
    ],
)
def test_only_a_quick_straight_scenario_runs_in_the_accepting_thread(
    service, working_queue, shape, here
):
    imported = service.import_scenario(shape, active=True)
    assert answers_at_its_end(service.plans.current(imported.scenario)) is here
    accepted = post(service, imported.webhooks[0].token, 1)
    assert accepted.ran_here is here
    assert accepted.execution_id is not None  # stored with its execution either way
    assert working_queue.pending() == (0 if here else 1)


def test_concurrent_requests_whose_shared_commit_fails_are_each_refused_and_none_stored(
    service, store, working_queue, monkeypatch
):
    # Group commit: requests waiting for the write turn share one transaction. When its commit
    # fails, each caller is told (503, StoreUnavailable) and none of them was stored.
    import sqlite3
    import threading
    import time
    from contextlib import contextmanager

    from engine.service import StoreUnavailable

    hook = service.import_scenario(ANSWERING, active=True).webhooks[0]
    post(service, hook.token, 0)  # the route is read and kept: only the commit is left
    writing = store._raw_write

    @contextmanager
    def commit_fails():
        with writing() as cursor:
            yield cursor
            raise sqlite3.OperationalError("disk I/O error")  # as the commit would

    monkeypatch.setattr(store._group, "_begin", commit_fails)
    callers = 6
    outcomes: list = [None] * callers

    def call(n):
        try:
            outcomes[n] = post(service, hook.token, n + 1)
        except Exception as error:
            outcomes[n] = error

    threads = [threading.Thread(target=call, args=(n,)) for n in range(callers)]
    with store._write_turn:  # they line up behind the turn, then share commits
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(store._group._waiting) < callers - 1:
            assert time.monotonic() < deadline, "the requests never lined up"
            time.sleep(0.01)
    for thread in threads:
        thread.join(30)
    assert all(isinstance(outcome, StoreUnavailable) for outcome in outcomes), outcomes
    assert store._group.transactions >= 3  # the first request's, then the five together
    assert len(store.list_queue(hook.id, status=None)) == 1  # the request before only


def _settled(record):
    """A record without what differs between two runs of the same request."""
    volatile = {"execution_id", "started_at", "finished_at", "duration_ms"}
    kept = {key: value for key, value in record.items() if key not in volatile}
    kept["modules"] = [
        {**module, "calls": [{**call, "duration_ms": 0} for call in module["calls"]]}
        for module in record["modules"]
    ]
    return kept


@pytest.mark.parametrize(
    "payload",
    [
        {"n": 1, "text": "é ✓ \u2028", "list": [1.5, None, True], "nested": {"a": {"b": []}}},
        {"n": 2**70 + 1, "text": "past 64 bits"},  # the standard library's encoding
    ],
)
def test_the_record_committed_with_its_run_is_the_record_stored_apart(
    service, store, working_queue, payload
):
    # One encoding (the runner's bundle encodings spliced in) stores the same record as
    # decoding them and encoding the whole again, as the finish of a run stored apart does.
    hook = service.import_scenario(
        blueprint(webhook_trigger(), set_variable(2), respond(3)), active=True
    ).webhooks[0]
    records = []
    for together in (True, False):
        service.webhooks.options = replace(service.webhooks.options, commit_with_the_run=together)
        accepted = service.accept_webhook(
            hook.token,
            method="POST",
            headers={"Content-Type": "application/json"},
            query={},
            body=json.dumps(payload).encode(),
            content_type="application/json",
        )
        assert accepted.ran_here
        records.append(store.get_execution(accepted.execution_id).record)
    assert records[0]["modules"][0]["calls"][0]["output"] == [payload]
    assert _settled(records[0]) == _settled(records[1])


def test_a_run_committed_with_its_request_announces_its_end_only(service, working_queue):
    # Nobody can follow it while it runs (following needs the stored execution, which is
    # finished when it appears): its module events are not made; its end is announced.
    hook = service.import_scenario(ANSWERING, active=True).webhooks[0]
    first = post(service, hook.token, 1)
    with service.events.subscribe(first.execution_id) as late:
        assert [event["event"] for event in late.replay] == ["finished"]
    assert late.replay[0]["status"] == "success"
    assert list(service.follow_execution(first.execution_id))[-1]["status"] == "success"

    service.webhooks.options = replace(service.webhooks.options, commit_with_the_run=False)
    apart = post(service, hook.token, 2)  # stored first: followed like any run
    with service.events.subscribe(apart.execution_id) as late:
        kinds = [event["event"] for event in late.replay]
    assert kinds[0] == "module_started" and kinds[-1] == "finished"
