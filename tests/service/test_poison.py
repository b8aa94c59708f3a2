"""Requests and runs that used to loop or half-fail: a run reaped without end, a record the
store refused, a HEAD that ran the scenario, an answer of 500 for a request already stored, a
multipart form the bundle did not read. SQLite store, InlineQueue driven by hand, fake clock.
(The same with real processes on both databases: ``tests/faults/test_poison.py``.)"""

from __future__ import annotations

import requests

from engine.store import ExecutionStatus, TriggerKind
from tests.service.blueprints import blueprint, module, respond, set_variable, webhook_trigger
from tests.service.test_service import active_hook, post
from webui import create_app


def test_a_run_whose_worker_keeps_dying_ends_as_an_error_after_the_reap_limit(
    service, store, clock, queue
):
    scenario, _ = active_hook(service)
    execution = store.create_execution(scenario.id, 1, TriggerKind.MANUAL)
    stale_after = service.settings.stale_after_seconds + 1
    for attempt in range(service.settings.max_reaps):  # 3 by default
        assert store.claim_execution(execution.id, f"dies-{attempt}")
        clock.advance(seconds=stale_after)
        report = service.tick()
        assert report.reaped == [execution.id] and report.abandoned == []
    assert store.claim_execution(execution.id, "dies-again")
    clock.advance(seconds=stale_after)
    dispatched = queue.pending()
    report = service.tick()
    assert report.abandoned == [execution.id] and report.reaped == []
    ended = store.get_execution(execution.id)
    assert ended.status is ExecutionStatus.ERROR
    assert ended.error["type"] == "ReapLimitReached"
    assert "started 4 times" in ended.error["message"]
    assert "SWITCHBOARD_MAX_REAPS=3" in ended.error["message"]
    # Never again on its own: not dispatched, and a stray message finds nothing to claim.
    assert queue.pending() == dispatched
    assert service.execute(execution.id) is None
    clock.advance(seconds=stale_after)
    assert service.tick().abandoned == []


def test_a_record_the_store_refuses_ends_the_run_as_an_error_instead_of_running_on(
    service, store, monkeypatch
):
    # The store failed on what the record held: the run stayed running, then was reaped and
    # run again and again. Now it ends, once, saying why.
    _, hook = active_hook(service)
    post(service, hook.token, {"n": 1})
    real = store.finish_execution

    def refuses_the_record(execution_id, status, record, **options):
        if record is not None:
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        return real(execution_id, status, record, **options)

    monkeypatch.setattr(store, "finish_execution", refuses_the_record)
    [execution_id] = service.process_webhook(hook.id)
    ended = store.get_execution(execution_id)
    assert ended.status is ExecutionStatus.ERROR
    assert ended.error["type"] == "UnstorableRecord"
    assert ended.error["message"].startswith("the run ended (success) but its record could not")


def test_head_answers_without_storing_or_running(service, store):
    _, hook = active_hook(service)
    client = create_app({"TESTING": True, "SWITCHBOARD_SERVICE": service}).test_client()
    assert client.head(f"/hooks/{hook.token}").status_code == 200
    assert client.head("/hooks/" + "0" * 40).status_code == 404
    assert store.count_queue(hook.id, status=None) == 0  # HEAD used to run the scenario
    assert client.get(f"/hooks/{hook.token}").status_code == 200
    assert store.count_queue(hook.id, status=None) == 1


def test_a_request_stored_is_answered_200_even_when_learning_its_structure_fails(
    service, store, monkeypatch
):
    # Learning came after the request was stored; its failure answered 500, and the caller
    # would send the stored request again.
    hook = service.create_webhook("learning", settings={"learning": True})

    def fails(*args, **kwargs):
        raise OSError("the database connection broke")

    monkeypatch.setattr(store, "update_webhook", fails)
    client = create_app({"TESTING": True, "SWITCHBOARD_SERVICE": service}).test_client()
    answer = client.post(f"/hooks/{hook.token}", json={"n": 1})
    assert answer.status_code == 200
    assert store.count_queue(hook.id, status=None) == 1


def test_a_multipart_form_runs_with_its_fields_and_files(service):
    value = "{{1.name}}: {{1.photo.name}} {{1.photo.mime}} {{base64(1.photo.data)}}"
    text = blueprint(webhook_trigger(), set_variable(value=value), name="Upload")
    _, hook = active_hook(service, text)
    form = requests.Request(
        "POST",
        "http://x/",
        data={"name": "Zoë"},
        files={"photo": ("me.png", b"\x89PNG\x00\xff", "image/png")},
    ).prepare()
    client = create_app({"TESTING": True, "SWITCHBOARD_SERVICE": service}).test_client()
    answer = client.post(
        f"/hooks/{hook.token}",
        data=form.body,
        headers={"Content-Type": form.headers["Content-Type"]},
    )
    assert answer.status_code == 200
    [execution_id] = service.process_webhook(hook.id)
    execution = service.get_execution(execution_id)
    assert execution.status is ExecutionStatus.SUCCESS, execution.error
    [variable] = [m for m in execution.record["modules"] if m["id"] == 2]
    assert variable["calls"][0]["output"] == [{"n": "Zoë: me.png image/png iVBORwD/"}]


def test_learning_a_multipart_form_describes_files_as_buffers(service):
    hook = service.create_webhook("learning", settings={"learning": True})
    form = requests.Request(
        "POST", "http://x/", files={"photo": ("me.png", b"\x89PNG", "image/png")}
    ).prepare()
    post(service, hook.token, form.body, content_type=form.headers["Content-Type"])
    structure = service.store.get_webhook(hook.id).settings["structure"]
    assert structure == [
        {
            "name": "photo",
            "type": "collection",
            "spec": [
                {"name": "name", "type": "text"},
                {"name": "mime", "type": "text"},
                {"name": "data", "type": "buffer"},
            ],
        }
    ]


def test_a_stored_request_is_answered_200_when_dispatching_it_fails(service, store, monkeypatch):
    _, hook = active_hook(service)

    def fails(webhook_id):
        raise OSError("the broker connection broke")

    monkeypatch.setattr(service.queue, "dispatch_webhook", fails)
    client = create_app({"TESTING": True, "SWITCHBOARD_SERVICE": service}).test_client()
    assert client.post(f"/hooks/{hook.token}", json={"n": 1}).status_code == 200
    assert store.count_queue(hook.id) == 1  # the sweep dispatches it later


def test_an_answer_holding_a_lone_surrogate_reaches_the_caller(service, queue):
    # The run parsed JSON holding one and answered with it: the answer could not be encoded,
    # a 500 for a request already stored.
    text = blueprint(
        webhook_trigger(),
        module(2, "json:ParseJSON", json="{{1.value}}"),
        respond(3, body="got {{2.s}}"),
        name="Answers what it parsed",
    )
    _, hook = active_hook(service, text)
    queue.start()
    client = create_app({"TESTING": True, "SWITCHBOARD_SERVICE": service}).test_client()
    answer = client.post(
        f"/hooks/{hook.token}", data=b'{"s": "a\\ud800b"}', content_type="text/plain"
    )
    assert (answer.status_code, answer.text) == (201, "got a\ufffdb")
