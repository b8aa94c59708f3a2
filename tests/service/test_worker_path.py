"""A webhook run as a Celery worker takes it (``process_webhook``: the request waited in the
webhook queue): the route's read shares the take's transaction, so a run takes two of the
store's connections (take, finish) where it took four (webhook, scenario, claim, finish),
each of which cost PostgreSQL a BEGIN and a ROLLBACK round trip besides its SELECT, and six
statements where it took twelve."""

from __future__ import annotations

import json

from sqlalchemy import event

from engine.store import ExecutionStatus, QueueItemStatus
from tests.service.blueprints import blueprint, respond, webhook_trigger
from tests.service.statements import counted

ANSWERING = blueprint(webhook_trigger(), respond(2), name="Answering")


def post(service, token, n):
    return service.accept_webhook(
        token,
        method="POST",
        headers={"Content-Type": "application/json"},
        query={},
        body=json.dumps({"n": n}).encode(),
        content_type="application/json",
    )


def test_a_queued_webhook_run_takes_two_transactions_and_answers(service, store):
    hook = service.import_scenario(ANSWERING, active=True).webhooks[0]
    service.process_webhook(hook.id)  # the plan compiled and kept before counting
    accepted = post(service, hook.token, 5)
    assert accepted.execution_id is None  # no thread of this process runs it: it waits
    assert store.get_queue_item(accepted.item_id).status is QueueItemStatus.QUEUED
    checkouts: list[int] = []
    event.listen(store.engine, "checkout", lambda *args: checkouts.append(1))
    statements = counted(store)

    ran = service.process_webhook(hook.id)

    assert len(ran) == 1
    assert len(checkouts) == 2, "the route's reads, the claim and the execution: one; finish: one"
    # The route (webhook and scenario), the oldest request, the request done, the execution;
    # then the finish and its record: prepared statements on the driver's cursor
    # (``engine/store/sql/prepared.py``), none through SQLAlchemy's execution path.
    run = [s for s in statements if s.split()[0].upper() not in ("BEGIN", "COMMIT")]
    assert len(run) == 6, run
    answer = service.wait_for_response(accepted, 1)
    assert answer is not None and (answer.status, answer.body) == (201, "got 5")
    execution = store.get_execution(ran[0])
    assert execution.status is ExecutionStatus.SUCCESS and execution.record is not None
    item = store.get_queue_item(accepted.item_id)
    assert (item.status, item.execution_id) == (QueueItemStatus.DONE, ran[0])


def test_an_inactive_scenarios_request_stays_queued(service, store):
    hook = service.import_scenario(ANSWERING, active=False).webhooks[0]
    accepted = post(service, hook.token, 1)
    assert service.process_webhook(hook.id) == []
    assert store.get_queue_item(accepted.item_id).status is QueueItemStatus.QUEUED
