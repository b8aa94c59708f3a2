"""Shared steps of the end-to-end tests: set up a scenario in a store, check the outcome."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from engine.config import Settings
from engine.queue import InlineQueue
from engine.service import build_service, shutdown_service
from engine.store import ExecutionStatus, QueueItemStatus, SqlStore, request_body
from tests.service.blueprints import HOOK_TO_VARIABLE


def import_active_scenario(env: dict[str, str], text: str = HOOK_TO_VARIABLE) -> tuple[int, str]:
    """Migrate the store and import an active webhook scenario: (webhook id, token)."""
    settings = Settings.from_env(env)
    service = build_service(settings, queue=InlineQueue(), upgrade=True)
    try:
        webhook = service.import_scenario(text, active=True).webhooks[0]
    finally:
        shutdown_service(service)
    return webhook.id, webhook.token


def open_plain_store(var_dir: Path) -> SqlStore:
    return SqlStore(f"sqlite:///{var_dir / 'switchboard.db'}")


def successes(store: SqlStore) -> int:
    return store.count_executions(status=ExecutionStatus.SUCCESS)


def slow_now_and_then(n: int) -> dict[str, int]:
    """Every 100th request of the first half pauses its run for 2 s (kills land in those)."""
    return {"n": n, "pause": 2} if n % 100 == 50 and n < 500 else {"n": n}


def running_after_progress(store: SqlStore, done: int) -> bool:
    """At least ``done`` runs finished and one is running now: time to kill."""
    return store.count_executions(status=ExecutionStatus.RUNNING) > 0 and successes(store) >= done


def reaped_runs(store: SqlStore) -> int:
    """Executions that a dead worker left running and the reaper gave back."""
    reaped, cursor = 0, None
    while True:
        page = store.list_executions(limit=1000, cursor=cursor)
        reaped += sum(execution.reaped_count > 0 for execution in page.items)
        if page.next_cursor is None:
            return reaped
        cursor = page.next_cursor


def assert_exactly_one_execution_each(store: SqlStore, webhook_id: int, numbers: set[int]) -> None:
    """Every received request is done, each by its own execution, and every execution
    succeeded: nothing lost, nothing run twice."""
    items = store.list_queue(webhook_id, status=None, limit=100_000)
    posted = Counter(json.loads(request_body(item.request))["n"] for item in items)
    assert set(posted) == numbers and set(posted.values()) == {1}, "each request stored once"
    assert {item.status for item in items} == {QueueItemStatus.DONE}
    execution_ids = [item.execution_id for item in items]
    assert len(set(execution_ids)) == len(items), "one execution per request"
    assert store.count_executions() == len(items), "no extra executions"
    assert store.count_executions(status=ExecutionStatus.SUCCESS) == len(items)
