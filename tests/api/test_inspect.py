"""Run, watch and debug through the API: live run events (SSE), run this module only, history
filters and paging, webhook queues, incomplete edit and bulk retry, the dashboard."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

from engine.service.events import EventHub
from engine.store import ExecutionStatus, TriggerKind
from tests.service.blueprints import blueprint, module, set_variable, webhook_trigger

PARSE = blueprint(
    webhook_trigger(1),
    set_variable(2, value="{{1.n}}"),
    module(3, "json:ParseJSON", json="{{1.text}}"),
    name="Hook, variable, parse",
)
MANUAL = blueprint(set_variable(1, value="five"), name="Manual")


def create(owner, text=PARSE, name="S"):
    response = owner.post("/api/scenarios", json={"name": name, "blueprint": text})
    assert response.status_code == 201, response.json
    return response.json["id"]


def read_events(response, limit=60.0):
    """The events of a streamed SSE response, read in a thread bounded by ``limit`` seconds."""
    events = []
    for block in read_stream(response, limit).split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            events.append((lines["event"], json.loads(lines["data"])))
    return events


def read_stream(response, limit=60.0):
    """The raw text of a streamed SSE response up to its ``finished`` event."""
    chunks = []

    def read():
        for chunk in response.response:
            chunks.append(chunk.decode() if isinstance(chunk, bytes) else chunk)
            if "event: finished" in chunks[-1]:
                break

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(limit)
    assert not reader.is_alive(), f"the stream did not finish: {chunks}"
    response.close()
    return "".join(chunks)


# -- live events --------------------------------------------------------------------------------


def test_event_stream_of_a_run_as_it_happens(owner, service, store):
    sid = create(owner)
    execution = store.create_execution(sid, 1, TriggerKind.MANUAL)  # queued, not dispatched
    response = owner.get(f"/api/executions/{execution.id}/events", buffered=False)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"

    def run_soon():
        time.sleep(0.3)
        service.runs._execute(execution.id, given=[{"n": 5, "text": '{"a": 1}'}])

    runner = threading.Thread(target=run_soon, daemon=True)
    runner.start()
    events = read_events(response)
    runner.join(10)
    names = [name for name, _ in events]
    assert names[-1] == "finished"
    assert names.count("module_started") == 3 and names.count("module_finished") == 3
    started = [data for name, data in events if name == "module_started"]
    assert [e["module_id"] for e in started] == [1, 2, 3]
    assert [e["operations"] for e in started] == [1, 2, 3]
    assert [e["module_operations"] for e in started] == [1, 1, 1]
    assert all(data["execution_id"] == execution.id for _, data in events)
    final = events[-1][1]
    assert final["status"] == "success" and final["operations"] == 3


def test_module_errors_show_in_the_events(owner, service):
    sid = create(owner)
    ran = owner.post(f"/api/scenarios/{sid}/run", json={"bundle": {"n": 1, "text": "{bad"}})
    assert ran.json["status"] == "error"
    events = read_events(owner.get(f"/api/executions/{ran.json['id']}/events", buffered=False))
    failed = [d for n, d in events if n == "module_finished" and d["module_id"] == 3]
    assert failed and failed[0]["error"]["message"].startswith("Source is not valid JSON")
    assert events[-1][0] == "finished" and events[-1][1]["status"] == "error"
    last = events[-2][1]["seq"]
    again = owner.get(
        f"/api/executions/{ran.json['id']}/events",
        headers={"Last-Event-ID": str(last - 1)},
        buffered=False,
    )
    assert [name for name, _ in read_events(again)] == ["module_finished", "finished"]


def test_a_late_client_gets_the_final_state_at_once(owner, service):
    sid = create(owner)
    ran = owner.post(f"/api/scenarios/{sid}/run", json={"bundle": {"n": 1, "text": "[]"}}).json
    service.events = EventHub()  # another web process: it saw none of the run's events
    stream = read_stream(owner.get(f"/api/executions/{ran['id']}/events", buffered=False))
    assert "keep-alive" not in stream, "it waited for events before reading the stored end"
    events = read_events(owner.get(f"/api/executions/{ran['id']}/events", buffered=False))
    assert [name for name, _ in events] == ["finished"]
    assert events[0][1]["status"] == ran["status"] == "success"
    assert owner.get("/api/executions/no-such-run/events").status_code == 404


def test_queued_run_streams_through_the_inline_queue(owner, service):
    service.queue.start()
    sid = create(owner, MANUAL, "Manual")
    queued = owner.post(f"/api/scenarios/{sid}/run")
    assert queued.status_code == 202
    events = read_events(owner.get(f"/api/executions/{queued.json['id']}/events", buffered=False))
    assert events[-1][0] == "finished" and events[-1][1]["status"] == "success"


# -- run this module only -----------------------------------------------------------------------


def test_run_one_module_with_sample_bundles(owner, store):
    sid = create(owner)
    url = f"/api/scenarios/{sid}/modules/3/run"
    ok = owner.post(url, json={"bundles": {"1": {"text": '{"name": "Ada", "n": 2}'}}})
    assert ok.status_code == 200, ok.json
    assert ok.json["status"] == "success" and ok.json["error"] is None
    assert ok.json["output"] == [{"name": "Ada", "n": 2}]
    assert ok.json["module"] == "json:ParseJSON" and ok.json["operations"] == 1
    variable = owner.post(f"/api/scenarios/{sid}/modules/2/run", json={"bundles": {"1": {"n": 7}}})
    assert variable.status_code == 200 and variable.json["output"] == [{"n": 7}]
    assert store.count_executions(scenario_id=sid) == 0  # nothing stored


def test_run_one_module_error_cases(owner):
    sid = create(owner)
    bad = owner.post(f"/api/scenarios/{sid}/modules/3/run", json={"bundles": {"1": {"text": "{"}}})
    assert bad.status_code == 200
    assert bad.json["status"] == "error" and bad.json["output"] == []
    assert bad.json["error"]["message"].startswith("Source is not valid JSON")
    trigger = owner.post(f"/api/scenarios/{sid}/modules/1/run", json={"bundles": {}})
    assert trigger.status_code == 422
    assert owner.post(f"/api/scenarios/{sid}/modules/99/run", json={}).status_code == 422
    assert owner.post("/api/scenarios/999/modules/2/run", json={}).status_code == 404
    keyed = owner.post(f"/api/scenarios/{sid}/modules/2/run", json={"bundles": {"x": {}}})
    assert keyed.status_code == 422 and keyed.json["error"]["path"] == "bundles.x"
    assert owner.post(f"/api/scenarios/{sid}/modules/2/run", json={"nope": 1}).status_code == 422


# -- history ------------------------------------------------------------------------------------


def finished(store, clock, sid, kind, status, *, minutes_ago=0, operations=1):
    at = clock.now - timedelta(minutes=minutes_ago)
    execution = store.create_execution(sid, 1, kind, created_at=at)
    store.claim_execution(execution.id, "w", now=at)  # started at once, as the history reads
    error = {"type": "X", "message": "x"} if status is ExecutionStatus.ERROR else None
    store.finish_execution(
        execution.id, status, None, operations=operations, data_size=0, error=error
    )
    return execution.id


def test_history_filters_and_keyset_paging(owner, store, clock):
    sid = create(owner, MANUAL, "One")
    other = create(owner, MANUAL, "Two")
    ids = {}
    for minute in range(10):
        status = ExecutionStatus.ERROR if minute % 3 == 0 else ExecutionStatus.SUCCESS
        kind = TriggerKind.WEBHOOK if minute % 2 else TriggerKind.SCHEDULE
        ids[minute] = finished(store, clock, sid, kind, status, minutes_ago=minute)
    finished(store, clock, other, TriggerKind.MANUAL, ExecutionStatus.WARNING, minutes_ago=1)

    def page(query):
        response = owner.get(f"/api/executions?{query}")
        assert response.status_code == 200, response.json
        return response.json

    errors = page(f"scenario_id={sid}&status=error")["items"]
    assert [e["id"] for e in errors] == [ids[0], ids[3], ids[6], ids[9]]
    both = page("status=error&status=warning")["items"]
    assert len(both) == 5 and page("status=error,warning")["items"] == both
    hooks = page(f"scenario_id={sid}&trigger_kind=webhook")["items"]
    assert [e["id"] for e in hooks] == [ids[1], ids[3], ids[5], ids[7], ids[9]]
    since = (clock.now - timedelta(minutes=4)).isoformat()
    until = (clock.now - timedelta(minutes=1)).isoformat()
    window = page(f"scenario_id={sid}&since={since}&until={until}".replace("+", "%2B"))["items"]
    assert [e["id"] for e in window] == [ids[2], ids[3], ids[4]]
    naive = (clock.now - timedelta(minutes=4)).replace(tzinfo=None).isoformat()
    assert len(page(f"scenario_id={sid}&since={naive}")["items"]) == 5

    seen, cursor = [], None
    while True:
        got = page(f"scenario_id={sid}&limit=3" + (f"&cursor={cursor}" if cursor else ""))
        seen += [e["id"] for e in got["items"]]
        cursor = got["next_cursor"]
        if cursor is None:
            break
    assert seen == [ids[m] for m in range(10)]
    combined = page("status=success&trigger_kind=schedule&limit=2")
    assert [e["id"] for e in combined["items"]] == [ids[2], ids[4]]
    assert combined["next_cursor"] is not None
    assert owner.get("/api/executions?status=nope").status_code == 422
    assert owner.get("/api/executions?trigger_kind=nope").status_code == 422
    assert owner.get("/api/executions?cursor=garbage").status_code == 400


def test_history_lists_runs_by_start_not_by_creation(owner, store, clock):
    """A run queued first but started last (a busy worker, a retry) is the newest in the
    history, as its "Started" column says; a run still queued is listed by when it was queued."""
    sid = create(owner, MANUAL, "One")
    first = store.create_execution(sid, 1, TriggerKind.WEBHOOK, created_at=clock.now)
    second = store.create_execution(sid, 1, TriggerKind.WEBHOOK, created_at=clock.now)
    store.claim_execution(second.id, "w", now=clock.now + timedelta(seconds=1))
    store.claim_execution(first.id, "w", now=clock.now + timedelta(seconds=2))
    waiting = store.create_execution(
        sid, 1, TriggerKind.MANUAL, created_at=clock.now + timedelta(seconds=3)
    )
    seen, cursor = [], None
    while True:
        query = f"scenario_id={sid}&limit=1" + (f"&cursor={cursor}" if cursor else "")
        got = owner.get(f"/api/executions?{query}").json
        seen += [(e["id"], e["started_at"]) for e in got["items"]]
        if (cursor := got["next_cursor"]) is None:
            break
    assert [execution_id for execution_id, _ in seen] == [waiting.id, first.id, second.id]
    assert seen[0][1] is None and seen[1][1] > seen[2][1]


# -- webhook queues -----------------------------------------------------------------------------


def test_webhook_queue_list_inspect_delete_and_process(owner, app, service):
    service.queue.start()
    sid = create(owner, blueprint(webhook_trigger(), set_variable()), "Hook")
    hook = owner.post("/api/webhooks", json={"name": "In", "scenario_id": sid}).json
    token = hook["url"].rsplit("/", 1)[1]
    for n in range(3):
        assert app.test_client().post(f"/hooks/{token}?q={n}", json={"n": n}).status_code == 200
    queue = owner.get(f"/api/webhooks/{hook['id']}/queue")
    assert queue.status_code == 200
    items = queue.json
    assert [item["status"] for item in items] == ["queued"] * 3
    assert all(item["size"] > 0 and item["received_at"] for item in items)
    first = owner.get(f"/api/webhooks/{hook['id']}/queue/{items[0]['id']}")
    assert first.status_code == 200
    assert first.json["request"]["query"] == {"q": "0"}
    assert json.loads(first.json["request"]["body_text"]) == {"n": 0}
    assert first.json["request"]["method"] == "POST"
    assert owner.delete(f"/api/webhooks/{hook['id']}/queue/{items[0]['id']}").status_code == 204
    assert owner.get(f"/api/webhooks/{hook['id']}/queue/{items[0]['id']}").status_code == 404
    assert owner.get(f"/api/webhooks/999/queue/{items[1]['id']}").status_code == 404
    assert owner.get("/api/webhooks/999/queue").status_code == 404
    assert len(owner.get(f"/api/webhooks/{hook['id']}/queue").json) == 2

    inactive = owner.post(f"/api/webhooks/{hook['id']}/queue/process")
    assert inactive.status_code == 409
    owner.post(f"/api/scenarios/{sid}/deactivate")
    # Activating dispatches the waiting requests by itself; process now must not double-run.
    owner.post(f"/api/scenarios/{sid}/activate")
    processed = owner.post(f"/api/webhooks/{hook['id']}/queue/process")
    assert processed.status_code == 202 and processed.json["dispatched"] in (0, 1, 2)
    wait_until(
        lambda: (
            {
                item["status"]
                for item in owner.get(f"/api/webhooks/{hook['id']}/queue?status=all").json
            }
            == {"done"}
        )
    )
    done = owner.get(f"/api/webhooks/{hook['id']}/queue?status=all").json
    assert [item["status"] for item in done] == ["done", "done"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        runs = owner.get(f"/api/executions?scenario_id={sid}&trigger_kind=webhook").json["items"]
        if len(runs) == 2 and all(run["status"] == "success" for run in runs):
            break
        time.sleep(0.05)
    assert len(runs) == 2 and {run["status"] for run in runs} == {"success"}


# -- incomplete executions ----------------------------------------------------------------------


def test_incomplete_edit_and_bulk_retry(owner, store, service):
    service.queue.start()
    sid = create(owner)
    state = {"module_id": 3, "bundles": {"1": {"text": "{"}}, "error": {"type": "DataError"}}
    broken = [
        store.create_incomplete(sid, 1, state, {"type": "DataError", "message": "bad"})
        for _ in range(3)
    ]
    detail = owner.get(f"/api/incomplete/{broken[0].id}")
    assert detail.status_code == 200 and detail.json["state"]["module_id"] == 3
    fixed = {**state, "bundles": {"1": {"text": '{"ok": true}'}}}
    edited = owner.patch(f"/api/incomplete/{broken[0].id}", json={"state": fixed})
    assert edited.status_code == 200, edited.json
    assert edited.json["state"]["bundles"]["1"]["text"] == '{"ok": true}'
    gone = owner.patch(f"/api/incomplete/{broken[1].id}", json={"state": {**state, "module_id": 9}})
    assert gone.status_code == 422 and gone.json["error"]["path"] == "state.module_id"
    moved = owner.patch(
        f"/api/incomplete/{broken[1].id}", json={"state": {**state, "module_id": 2}}
    )
    assert moved.json["failed_module_id"] == 2
    owner.patch(f"/api/incomplete/{broken[1].id}", json={"state": state})
    bad = owner.patch(f"/api/incomplete/{broken[0].id}", json={"state": {"bundles": {}}})
    assert bad.status_code == 422 and bad.json["error"]["path"] == "state"
    version = owner.patch(f"/api/incomplete/{broken[0].id}", json={"blueprint_version": 9})
    assert version.status_code == 422 and version.json["error"]["path"] == "blueprint_version"
    assert owner.patch("/api/incomplete/999", json={"blueprint_version": 1}).status_code == 404
    owner.post(f"/api/incomplete/{broken[2].id}/resolve")
    assert owner.patch(f"/api/incomplete/{broken[2].id}", json={"state": fixed}).status_code == 409

    retried = owner.post("/api/incomplete/retry", json={"ids": [broken[0].id, broken[2].id, 999]})
    assert retried.status_code == 202, retried.json
    assert retried.json["skipped"] == [broken[2].id, 999]
    assert [e["trigger_kind"] for e in retried.json["queued"]] == ["retry"]
    wait_until(lambda: store.get_incomplete(broken[0].id).status.value == "resolved")
    everything = owner.post("/api/incomplete/retry", json={"scenario_id": sid})
    assert everything.status_code == 202
    assert len(everything.json["queued"]) == 1  # broken[1]: the only pending one
    wait_until(lambda: store.get_incomplete(broken[1].id).status.value != "retrying")
    assert store.get_incomplete(broken[1].id).attempts == 1  # still broken: pending again
    assert owner.post("/api/incomplete/retry", json={}).json == {"queued": [], "skipped": []}
    assert owner.post("/api/incomplete/retry", json={"scenario_id": 999}).status_code == 404


def wait_until(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# -- dashboard ----------------------------------------------------------------------------------


def test_dashboard_numbers(owner, store, clock, app):
    one = create(owner, MANUAL, "One")
    two = create(owner, MANUAL, "Two")
    finished(store, clock, one, TriggerKind.MANUAL, ExecutionStatus.SUCCESS, operations=3)
    finished(store, clock, one, TriggerKind.MANUAL, ExecutionStatus.ERROR, operations=1)
    finished(
        store,
        clock,
        one,
        TriggerKind.SCHEDULE,
        ExecutionStatus.SUCCESS,
        minutes_ago=24 * 60,
        operations=2,
    )
    finished(
        store, clock, two, TriggerKind.SCHEDULE, ExecutionStatus.SUCCESS, minutes_ago=20 * 24 * 60
    )  # outside 14 days
    running = store.create_execution(two, 1, TriggerKind.MANUAL)
    store.claim_execution(running.id, "worker-a")
    owner.post(f"/api/scenarios/{one}/activate")
    hook = owner.post("/api/webhooks", json={"name": "Loose"}).json
    app.test_client().post(f"/hooks/{hook['url'].rsplit('/', 1)[1]}", json={})

    board = owner.get("/api/dashboard?days=3")
    assert board.status_code == 200, board.json
    data = board.json
    today, yesterday = clock.now.date(), (clock.now - timedelta(days=1)).date()
    assert data["days"][-2:] == [yesterday.isoformat(), today.isoformat()]
    assert len(data["days"]) == 3
    by_id = {s["scenario_id"]: s for s in data["scenarios"]}
    days_one = {d["day"]: d for d in by_id[one]["days"]}
    assert days_one[today.isoformat()] == {
        "day": today.isoformat(),
        "runs": 2,
        "operations": 4,
        "errors": 1,
    }
    assert days_one[yesterday.isoformat()]["runs"] == 1
    assert by_id[one]["name"] == "One"
    assert by_id[two]["days"][-1]["runs"] == 1  # the running one counts as a run today
    totals = {d["day"]: d for d in data["totals"]}
    assert totals[today.isoformat()]["runs"] == 3
    assert data["active_scenarios"] == 1
    assert data["queue_depth"] == 1
    assert data["workers_online"] == 1 and data["workers"] == ["worker-a"]
    assert owner.get("/api/dashboard?days=0").status_code == 422
    assert len(owner.get("/api/dashboard").json["days"]) == 14
