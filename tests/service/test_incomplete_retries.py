"""Retries of incomplete executions that fail again: the stored state moves to where the retry
failed, so the next retry resumes there and writes that succeeded are not made twice."""

from __future__ import annotations

import json
from typing import Any

from engine.errors import ConnectionError, DataError
from engine.store import ExecutionStatus, IncompleteStatus
from engine.testing import stub_module
from tests.service.blueprints import blueprint, module, webhook_trigger

JSON = "application/json"


def with_break(step: dict[str, Any], directive_id: int, **retry: Any) -> dict[str, Any]:
    return {**step, "onerror": [{"id": directive_id, "module": "builtin:Break", "mapper": retry}]}


def failing_first(times: int, error: Exception, made: list[Any]):
    """A module that fails on its first ``times`` calls, then records its input in ``made``."""
    calls = {"n": 0}

    def run(call):
        calls["n"] += 1
        if calls["n"] <= times:
            raise error
        made.append(call.input.model_dump())
        return [{"id": len(made)}]

    return run


def run_retry(service, clock, incomplete_id: int, minutes: int):
    clock.advance(minutes=minutes)
    assert service.tick().retried == [incomplete_id]
    [retry] = [
        execution
        for execution in service.list_executions().items
        if execution.trigger_ref == str(incomplete_id)
        and execution.status is ExecutionStatus.QUEUED
    ]
    return service.execute(retry.id)


def note_and_allocate(registry) -> tuple[list[Any], list[Any]]:
    """``test:CreateNote`` (down once) and ``test:Allocate`` (refused once): what each made."""
    notes: list[Any] = []
    allocations: list[Any] = []
    registry.register(
        stub_module("test:CreateNote", outputs=failing_first(1, ConnectionError("down"), notes))
    )
    registry.register(
        stub_module(
            "test:Allocate", outputs=failing_first(1, DataError("note not synced"), allocations)
        )
    )
    return notes, allocations


def first_run(service, text: str):
    """Import ``text`` active and run it for one webhook; its scenario and its first run."""
    result = service.import_scenario(text, active=True)
    scenario, hook = result.scenario, result.webhooks[0]
    service.accept_webhook(
        hook.token,
        method="POST",
        headers={"Content-Type": JSON},
        query={},
        body=json.dumps({"amount": "12.50"}).encode(),
        content_type=JSON,
    )
    [execution] = service.process_webhook(hook.id)
    return scenario, execution


def test_a_retry_failing_at_a_later_module_resumes_there_next_time(service, registry, clock):
    """A credit note is created, then its allocation fails: the next retry allocates it and
    does not create a second credit note."""
    notes, allocations = note_and_allocate(registry)
    retry = {"retry": True, "count": 3, "interval": 5}
    text = blueprint(
        webhook_trigger(),
        with_break(module(2, "test:CreateNote", amount="{{1.amount}}"), 10, **retry),
        with_break(module(3, "test:Allocate", note="{{2.id}}"), 11, **retry),
        dlq=True,
    )
    scenario, first = first_run(service, text)
    assert service.get_execution(first).status is ExecutionStatus.WARNING
    [incomplete] = service.list_incomplete(scenario_id=scenario.id)
    assert incomplete.failed_module_id == 2 and incomplete.error["type"] == "ConnectionError"

    # Retry 1 creates the note, then the allocation fails (Break again).
    assert run_retry(service, clock, incomplete.id, 5).status is ExecutionStatus.WARNING
    assert notes == [{"amount": "12.50"}] and allocations == []
    assert [i.id for i in service.list_incomplete(scenario_id=scenario.id)] == [incomplete.id]
    waiting = service.get_incomplete(incomplete.id)
    assert waiting.status is IncompleteStatus.PENDING and waiting.attempts == 1
    assert waiting.failed_module_id == 3 and waiting.state["module_id"] == 3
    assert waiting.error == {"type": "DataError", "message": "note not synced"}
    assert waiting.state["bundles"]["2"] == {"id": 1}  # the created note, for the allocation

    # Retry 2 resumes at the allocation: one note, allocated once.
    assert run_retry(service, clock, incomplete.id, 5).status is ExecutionStatus.SUCCESS
    assert notes == [{"amount": "12.50"}] and allocations == [{"note": 1}]
    resolved = service.get_incomplete(incomplete.id)
    assert resolved.status is IncompleteStatus.RESOLVED and resolved.attempts == 2


def rolling_back(step: dict[str, Any], directive_id: int) -> dict[str, Any]:
    return {**step, "onerror": [{"id": directive_id, "module": "builtin:Rollback", "mapper": {}}]}


def rolled_back_retry(service, registry, clock, *, auto_commit: bool):
    """A note whose creation failed once (Break, retried) and whose allocation fails once
    with a Rollback; the first retry is run. Returns the notes, allocations, incomplete."""
    notes, allocations = note_and_allocate(registry)
    text = blueprint(
        webhook_trigger(),
        with_break(module(2, "test:CreateNote", amount="{{1.amount}}"), 10, retry=True, count=3),
        rolling_back(module(3, "test:Allocate", note="{{2.id}}"), 11),
        dlq=True,
        autoCommit=auto_commit,
    )
    scenario, _ = first_run(service, text)
    [incomplete] = service.list_incomplete(scenario_id=scenario.id)
    assert incomplete.failed_module_id == 2
    # Retry 1 creates the note, then the allocation rolls back.
    assert run_retry(service, clock, incomplete.id, 1).status is ExecutionStatus.ERROR
    assert notes == [{"amount": "12.50"}] and allocations == []
    return notes, allocations, incomplete


def test_a_retry_rolled_back_after_a_committed_write_does_not_write_it_again(
    service, registry, clock
):
    """With auto-commit on, a retry that creates the note and then reaches a Rollback at the
    allocation keeps the note (it was committed): the next retry allocates that note and does
    not create a second one."""
    notes, allocations, incomplete = rolled_back_retry(service, registry, clock, auto_commit=True)
    waiting = service.get_incomplete(incomplete.id)
    assert waiting.status is IncompleteStatus.PENDING and waiting.attempts == 1
    assert waiting.failed_module_id == 3 and waiting.state["module_id"] == 3
    assert waiting.state["bundles"]["2"] == {"id": 1}
    assert waiting.error == {"type": "DataError", "message": "note not synced"}

    # Retry 2 resumes at the allocation: one note, allocated once.
    assert run_retry(service, clock, incomplete.id, 10).status is ExecutionStatus.SUCCESS
    assert notes == [{"amount": "12.50"}] and allocations == [{"note": 1}]
    assert service.get_incomplete(incomplete.id).status is IncompleteStatus.RESOLVED


def test_a_retry_rolled_back_without_auto_commit_runs_its_whole_remainder_again(
    service, registry, clock
):
    """With auto-commit off the cycle is one transaction that the Rollback voids (Make): the
    stored state stays at the first module that failed."""
    _, _, incomplete = rolled_back_retry(service, registry, clock, auto_commit=False)
    waiting = service.get_incomplete(incomplete.id)
    assert waiting.status is IncompleteStatus.PENDING and waiting.attempts == 1
    assert waiting.failed_module_id == 2 and waiting.state["module_id"] == 2


def send_record(service, hook, body: dict[str, Any]) -> None:
    service.accept_webhook(
        hook.token,
        method="POST",
        headers={"Content-Type": JSON},
        query={},
        body=json.dumps(body).encode(),
        content_type=JSON,
    )
    service.process_webhook(hook.id)


def test_a_later_run_that_handles_the_record_supersedes_its_spent_retry(service, registry):
    """A record refused until its retries were spent needs attention; once a later run of the
    scenario handles that record (its cause gone), the spent incomplete execution is resolved
    — before, it stayed pending and the sync log said the record needed attention, and a
    retry by hand would have sent its older version. Another record's stays pending."""
    sent: list[Any] = []
    refusing = {"on": True}

    def send(call):
        if refusing["on"]:
            raise DataError("refused while a payment is allocated")
        sent.append(call.input.model_dump())
        return [{"sent": True}]

    registry.register(stub_module("test:Send", outputs=send))
    text = blueprint(
        webhook_trigger(),
        with_break(module(2, "test:Send", version="{{1.version}}"), 10, retry=True, count=0),
        dlq=True,
    )
    result = service.import_scenario(text, active=True)
    scenario, hook = result.scenario, result.webhooks[0]
    send_record(service, hook, {"id": "inv-1", "version": 1})
    send_record(service, hook, {"id": "inv-2", "version": 1})
    spent = service.list_incomplete(scenario_id=scenario.id, status=IncompleteStatus.PENDING)
    assert [i.next_retry_at for i in spent] == [None, None]  # no retry planned: attention

    refusing["on"] = False
    send_record(service, hook, {"id": "inv-1", "version": 2})
    assert [s["version"] for s in sent] == [2]
    first, second = (service.get_incomplete(i.id) for i in spent)
    assert first.status is IncompleteStatus.RESOLVED
    assert second.status is IncompleteStatus.PENDING
