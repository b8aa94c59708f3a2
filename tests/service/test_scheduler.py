"""When scheduled scenarios are due (pure), and the retry backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.scheduler import ScheduleError, next_run_after, validate_scheduling
from engine.service.retries import BACKOFF_MINUTES, policy_for
from engine.spec import ModuleKind
from engine.store import ExecutionStatus, TriggerKind
from engine.testing import stub_module
from tests.service.blueprints import blueprint, module, set_variable

MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("scheduling", "expected"),
    [
        ({"type": "indefinitely", "interval": 900}, MONDAY_9 + timedelta(minutes=15)),
        ({"type": "daily", "time": "08:30"}, datetime(2026, 3, 3, 8, 30, tzinfo=UTC)),
        ({"type": "daily", "times": ["08:30", "17:00"]}, datetime(2026, 3, 2, 17, 0, tzinfo=UTC)),
        ({"type": "weekly", "days": [5], "time": "10:00"}, datetime(2026, 3, 6, 10, 0, tzinfo=UTC)),
        ({"type": "monthly", "dates": [1], "time": "00:00"}, datetime(2026, 4, 1, tzinfo=UTC)),
        ({"type": "cron", "cron": "*/20 * * * *"}, datetime(2026, 3, 2, 9, 20, tzinfo=UTC)),
        ({"type": "cron", "cron": "0 6 * * 0"}, datetime(2026, 3, 8, 6, 0, tzinfo=UTC)),
        ({"type": "cron", "cron": "30 7 * * MON-FRI"}, datetime(2026, 3, 3, 7, 30, tzinfo=UTC)),
        ({"type": "cron", "cron": "@daily"}, datetime(2026, 3, 3, 0, 0, tzinfo=UTC)),
        (
            {"type": "cron", "cron": "0 2 * * *", "timezone": "Europe/Prague"},
            datetime(2026, 3, 3, 1, 0, tzinfo=UTC),
        ),
        (
            {"type": "daily", "time": "09:00", "timezone": "Europe/Prague"},
            datetime(2026, 3, 3, 8, 0, tzinfo=UTC),
        ),
        ({"type": "once", "date": "2026-03-01T00:00:00Z"}, None),
        ({"type": "on-demand"}, None),
    ],
)
def test_next_run_after(scheduling, expected):
    assert next_run_after(scheduling, MONDAY_9) == expected


@pytest.mark.parametrize(
    "scheduling",
    [
        {"type": "sometimes"},
        {"type": "cron", "cron": "61 * * * *"},
        {"type": "weekly", "time": "08:00"},
        {"type": "daily", "time": "25:00"},
        {"type": "indefinitely", "interval": 0},
    ],
)
def test_bad_scheduling_is_refused(scheduling):
    with pytest.raises(ScheduleError):
        validate_scheduling(scheduling)


def test_make_backoff_for_connection_errors():
    policy = policy_for({"type": "ConnectionError"}, {})
    delays = [policy.next_retry_at(made, MONDAY_9) - MONDAY_9 for made in range(policy.attempts)]
    assert [delay.total_seconds() / 60 for delay in delays] == list(BACKOFF_MINUTES)
    assert policy.next_retry_at(policy.attempts, MONDAY_9) is None


def test_break_retry_settings_win_and_other_errors_wait_for_a_person():
    policy = policy_for({"type": "DataError"}, {"retry": True, "count": "2", "interval": "5"})
    assert policy.attempts == 2
    assert policy.next_retry_at(1, MONDAY_9) == MONDAY_9 + timedelta(minutes=5)
    assert policy_for({"type": "DataError"}, {}).attempts == 0


def test_a_break_retry_without_interval_backs_off_for_its_count_then_needs_a_person():
    """A record waiting for another to be synced first: soon, then less and less often."""
    policy = policy_for({"type": "DataError"}, {"retry": True, "count": "4", "interval": ""})
    delays = [policy.next_retry_at(made, MONDAY_9) - MONDAY_9 for made in range(4)]
    assert [delay.total_seconds() / 60 for delay in delays] == list(BACKOFF_MINUTES[:4])
    assert policy.next_retry_at(4, MONDAY_9) is None


def test_polls_of_a_parallel_scenario_never_overlap(service, registry, queue):
    """A scenario without sequential processing runs its webhooks side by side, but two polls
    at once would read the same cursor and sync the same records twice: a poll waits for the
    scenario while another holds it (the sweep runs it later)."""
    registry.register(stub_module("test:Watch", kind=ModuleKind.TRIGGER, outputs=[{"i": 1}]))
    text = blueprint(module(1, "test:Watch"), set_variable(value="{{1.i}}"))
    scenario = service.import_scenario(text).scenario
    assert not service.current_plan(scenario).settings.sequential
    run = service.enqueue_run(scenario.id, TriggerKind.SCHEDULE)
    with queue.locked(f"scenario:{scenario.id}", 30) as held:
        assert held is not None
        assert service.execute(run.id) is None  # another poll has the scenario
    assert service.get_execution(run.id).status is ExecutionStatus.QUEUED
    assert service.execute(run.id).status is ExecutionStatus.SUCCESS
