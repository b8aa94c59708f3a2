"""History at the service: retention in the tick (in batches), filters, the event hub, the
dashboard and the options that drive them."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest

from engine.service import ServiceOptions
from engine.service import history as history_module
from engine.service.events import EventHub, EventOperations
from engine.store import ExecutionStatus, TriggerKind
from tests.service.blueprints import blueprint, set_variable

MANUAL = blueprint(set_variable(1, value="five"), name="Manual")


@pytest.fixture
def scenario(service):
    return service.import_scenario(MANUAL.encode()).scenario


def finished(store, clock, scenario, *, days_ago=0.0, status=ExecutionStatus.SUCCESS, kind=None):
    at = clock.now - timedelta(days=days_ago)
    execution = store.create_execution(scenario.id, 1, kind or TriggerKind.MANUAL, created_at=at)
    store.claim_execution(execution.id, "w", now=at)  # started at once, as the history reads
    store.finish_execution(execution.id, status, {"modules": []}, operations=1, data_size=0)
    return execution.id


def test_retention_option_reads_its_variable():
    assert ServiceOptions().execution_retention_days == 30
    environ = {"SWITCHBOARD_EXECUTION_RETENTION_DAYS": "7"}
    assert ServiceOptions.from_env(environ).execution_retention_days == 7


def test_tick_purges_executions_past_retention_in_batches(
    service, store, clock, scenario, monkeypatch
):
    monkeypatch.setattr(history_module, "PURGE_BATCH", 2)
    old = [finished(store, clock, scenario, days_ago=31 + n) for n in range(5)]
    kept = [finished(store, clock, scenario, days_ago=29), finished(store, clock, scenario)]
    waiting = store.create_execution(
        scenario.id, 1, TriggerKind.MANUAL, created_at=clock.now - timedelta(days=40)
    )
    batches = []
    purge = store.purge_executions
    monkeypatch.setattr(
        store, "purge_executions", lambda before, **kw: batches.append(kw) or purge(before, **kw)
    )
    report = service.tick()
    assert report.purged == 5
    assert batches == [{"limit": 2}] * 3  # 2 + 2 + 1: the last short batch ends the cleanup
    left = {e.id for e in store.list_executions(limit=100).items}
    assert left == {*kept, waiting.id}  # unfinished ones are never purged
    assert not set(old) & left
    assert service.tick().purged == 0


def test_retention_zero_keeps_everything(service, store, clock, scenario):
    service.options = ServiceOptions(execution_retention_days=0)
    finished(store, clock, scenario, days_ago=400)
    assert service.purge_expired_executions() == 0
    assert store.count_executions() == 1


def test_history_filters(service, store, clock, scenario):
    a = finished(store, clock, scenario, days_ago=0.1, kind=TriggerKind.WEBHOOK)
    b = finished(store, clock, scenario, days_ago=0.2, status=ExecutionStatus.ERROR)
    c = finished(store, clock, scenario, days_ago=2, kind=TriggerKind.SCHEDULE)
    page = service.list_history(trigger_kinds=[TriggerKind.WEBHOOK, TriggerKind.SCHEDULE])
    assert [e.id for e in page.items] == [a, c]
    page = service.list_history(
        statuses=[ExecutionStatus.ERROR, ExecutionStatus.SUCCESS],
        since=clock.now - timedelta(days=1),
    )
    assert [e.id for e in page.items] == [a, b]
    page = service.list_history(until=clock.now - timedelta(days=1))
    assert [e.id for e in page.items] == [c]
    with pytest.raises(ValueError):
        service.list_history(cursor="nope")


def test_run_events_reach_subscribers_and_late_ones_replay(service, scenario):
    hub = service.events
    seen = []
    execution = service.store.create_execution(scenario.id, 1, TriggerKind.MANUAL)
    with hub.subscribe(execution.id) as subscription:
        service.execute(execution.id)
        while (event := subscription.next(1.0)) is not None:
            seen.append(event)
            if event["event"] == "finished":
                break
    assert [e["event"] for e in seen] == ["module_started", "module_finished", "finished"]
    assert seen[-1]["status"] == "success"
    with hub.subscribe(execution.id) as late:
        assert [e["event"] for e in late.replay] == [e["event"] for e in seen]
    assert list(service.follow_execution(execution.id))[-1]["status"] == "success"


def test_hub_forgets_old_finished_runs_and_caps_events():
    hub = EventHub(keep_finished=2, max_events=3)
    for run in ("a", "b", "c"):
        for n in range(5):
            hub.publish(run, {"event": "module_started", "n": n})
        hub.publish(run, {"event": "finished"})
    with hub.subscribe("a") as gone, hub.subscribe("c") as kept:
        assert gone.replay == []
        assert [e["event"] for e in kept.replay] == ["module_started"] * 3 + ["finished"]


def _spied(hub: EventHub) -> list[dict]:
    """The events ``hub`` delivers from now on."""
    delivered: list[dict] = []
    deliver = hub._deliver

    def spy(execution_id: str, event: dict) -> None:
        delivered.append(event)
        deliver(execution_id, event)

    hub._deliver = spy  # type: ignore[method-assign]
    return delivered


def test_events_past_the_kept_ones_are_left_out_while_nobody_listens_and_numbered_on():
    """A run over thousands of items sends two events an operation; past the ``max_events``
    the hub keeps, the run's ``events_unheard`` (``EventOperations.unheard``) says nobody
    would receive one, so the runner numbers it and does not send it; a subscriber arriving
    then gets the next ones live, numbered by the runner as if none had been left out
    (the runner's side: ``tests/runtime/test_run_events.py``)."""
    hub = EventHub(max_events=3)
    delivered = _spied(hub)
    operations = EventOperations(None, hub)  # type: ignore[arg-type]
    on_event, unheard = operations.progress("run"), operations.unheard("run")

    def runner_sends(seq: int, kind: str = "module_started") -> None:
        """What the runner does for its event ``seq``: asks, then sends or leaves out."""
        if not unheard():
            on_event({"event": kind, "module_id": 2, "seq": seq, "operations": 5})

    for seq in range(1, 6):
        runner_sends(seq)
    assert [e["seq"] for e in delivered] == [1, 2, 3]  # 4 and 5: nobody would see them
    with hub.subscribe("run") as late:
        assert [e["seq"] for e in late.replay] == [1, 2, 3]
        runner_sends(6, "module_finished")
        live = late.next(0)
    assert live is not None
    assert (live["seq"], live["operations"], live["execution_id"]) == (6, 5, "run")
    runner_sends(7)
    assert [e["seq"] for e in delivered] == [1, 2, 3, 6]
    hub.publish("run", {"event": "finished"})  # the end is announced whatever the count
    with hub.subscribe("run") as after:
        assert [e["event"] for e in after.replay][-1] == "finished"


def test_a_run_past_the_kept_events_calls_no_sink_while_nobody_listens(service, scenario):
    """The service gives each run its hub's ``unheard``: with one event kept and nobody
    subscribed, the run's second event is not delivered, and its end still is."""
    hub = service.run_events.events = EventHub(max_events=1)
    delivered = _spied(hub)
    execution = service.store.create_execution(scenario.id, 1, TriggerKind.MANUAL)
    service.execute(execution.id)
    assert [(e["event"], e.get("seq")) for e in delivered] == [
        ("module_started", 1),
        ("finished", None),
    ]


def test_follow_ends_with_the_stored_state_when_events_are_missed(service, scenario):
    execution = service.store.create_execution(scenario.id, 1, TriggerKind.MANUAL)
    events = service.follow_execution(execution.id, wait=10, poll=0.05)
    assert next(events) is None  # nothing yet: a keep-alive
    service.events = EventHub()  # the run's events go to a hub this follower does not read
    thread = threading.Thread(target=service.execute, args=(execution.id,))
    thread.start()
    thread.join(10)
    rest = list(events)
    assert rest[-1]["event"] == "finished" and rest[-1]["status"] == "success"


def test_dashboard_counts(service, store, clock, scenario):
    finished(store, clock, scenario)
    finished(store, clock, scenario, status=ExecutionStatus.ERROR)
    finished(store, clock, scenario, days_ago=1)
    board = service.dashboard(days=2)
    assert board.days == [
        (clock.now - timedelta(days=1)).date().isoformat(),
        clock.now.date().isoformat(),
    ]
    assert [(d.runs, d.errors, d.operations) for d in board.scenarios[scenario.id]] == [
        (1, 0, 1),
        (2, 1, 2),
    ]
    assert board.active_scenarios == 0 and board.queue_depth == 0
    assert board.workers_online == []


def test_hub_drops_runs_that_never_finish_past_its_bound():
    hub = EventHub(keep_finished=1, keep_running=2)
    for run in ("a", "b", "c", "d"):
        hub.publish(run, {"event": "module_started"})
    with hub.subscribe("a") as gone, hub.subscribe("d") as kept:
        assert gone.replay == [] and len(kept.replay) == 1


def test_redis_relay_delivers_other_processes_events_only(monkeypatch):
    from engine.service import events as events_module

    published = []

    class FakeRedis:
        """Redis as the relay uses it: publishes, sent in pipelined batches."""

        def publish(self, channel, message):
            published.append((channel, json.loads(message)))

        def pipeline(self, transaction=True):
            return self

        def execute(self):
            return []

        def pubsub_numsub(self, *channels):
            return [(channel, 1) for channel in channels]  # the web process listens

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    worker = EventHub("redis://example.invalid/0")
    web = EventHub("redis://example.invalid/0")
    monkeypatch.setattr(worker._relay, "_client", FakeRedis)
    worker.publish("run-1", {"event": "module_started", "module_id": 1})
    wait = threading.Event()
    for _ in range(100):
        if published:
            break
        wait.wait(0.05)
    worker.close()
    channel, message = published[0]
    assert channel == events_module.CHANNEL and message["execution_id"] == "run-1"
    with _quiet(web, "run-1") as seen:
        web._relay._received(json.dumps(message))
        worker._relay._received(json.dumps(message))  # its own message: ignored
        assert seen.next(1.0) == {"event": "module_started", "module_id": 1}
    with _quiet(worker, "run-1") as own:
        assert len(own.replay) == 1  # delivered locally once, not again from Redis


def _quiet(hub, execution_id):
    """Subscribe without starting the Redis listener thread."""
    hub._relay.listen = lambda: None
    return hub.subscribe(execution_id)


def test_hub_keeps_finished_runs_within_an_event_budget():
    # Long runs (thousands of items) must not make a server's memory grow run after run.
    hub = EventHub(keep_finished=64, max_events=10, finished_budget=25)
    for run in ("a", "b", "c", "d"):
        for n in range(12):
            hub.publish(run, {"event": "module_started", "n": n})
        hub.publish(run, {"event": "finished"})
    with hub.subscribe("a") as gone, hub.subscribe("c") as kept, hub.subscribe("d") as newest:
        assert gone.replay == []
        assert len(kept.replay) == 11 and len(newest.replay) == 11
    assert hub._finished_events == 22
