"""Embedded ingress stores a request together with its execution (``runs_at_ingress``): one
commit, and the run thread reads none of it back. The queue's threads are not started: each
test hands the dispatched id over by hand, as a started thread would."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import event

from engine.queue import InlineQueue
from engine.service import Service, ServiceOptions
from engine.store import ExecutionStatus, QueueItemStatus, TriggerKind
from tests.service.blueprints import blueprint, respond, webhook_trigger

ANSWERING = blueprint(webhook_trigger(), respond(2), name="Answering")


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
        assert kind == "execution"
        service.execute(ident)
        delivered.append(ident)
    return delivered


def counted(store):
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


def test_ingress_commits_the_request_with_its_execution_and_the_run_reads_nothing_back(
    service, store, working_queue
):
    hook = service.import_scenario(ANSWERING, active=True).webhooks[0]
    post(service, hook.token, 0)  # reads the route once (kept for a second)
    deliver(working_queue, service)
    statements = counted(store)

    accepted = post(service, hook.token, 7)
    accepting = len(statements)
    assert accepted.execution_id is not None and accepted.responds
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
    # Ingress: BEGIN, the route check, the request, the execution (claimed). The run:
    # BEGIN, the finish and the record. Nothing read back.
    assert accepting == 4, statements[:accepting]
    assert len(running) == 3, running
    assert not [s for s in running if s.lstrip().upper().startswith("SELECT")]


def test_an_execution_made_at_ingress_survives_losing_the_process(
    service, store, working_queue, settings, registry, clock
):
    hook = service.import_scenario(ANSWERING, active=True).webhooks[0]
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
