"""Failed runs are logged by their ids and the error's type, never with the payload.

Real runs on the queue's worker threads fail two ways — a module raises an error that quotes
its input, and the database refuses to store the record (a trigger, on SQLite and on
PostgreSQL) — while every log record at every level is captured; the payload's marker and the
request's secret header appear nowhere in it, tracebacks included. The same holds for the log
of a real Celery worker (and of the web process that accepted the request).
"""

from __future__ import annotations

import json
import logging

import pytest
import requests

from engine.failures import log_failure, traceback_without_messages
from engine.queue import InlineQueue
from engine.service import Service, ServiceOptions, execution_id_for_item
from engine.store import ExecutionStatus, NotFound, open_store, upgrade_database
from engine.testing import stub_module
from tests.service.blueprints import HOOK_TO_VARIABLE, blueprint, module, webhook_trigger
from tests.service.end_to_end import import_active_scenario
from tests.service.processes import (
    base_env,
    celery_worker,
    empty_redis_database,
    explain,
    free_port,
    started_processes,
    switchboard,
    wait_for_http,
    wait_until,
)
from tests.store.conftest import private_postgres_schema

REDIS_DB = 8
MARKER = "PAYLOAD-4f1d-never-in-a-log"
SECRET = "sk-live-9c2e-never-in-a-log"
PAYLOAD = {"n": MARKER, "card": {"number": MARKER, "holder": "Ada"}}
REFUSE_RECORDS = {
    "sqlite": [
        "CREATE TRIGGER refuse_records BEFORE INSERT ON execution_records "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_records() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'disk full'; END $$",
        "CREATE TRIGGER refuse_records BEFORE INSERT ON execution_records "
        "FOR EACH ROW EXECUTE FUNCTION refuse_records()",
    ],
}


def explode(call):
    raise ValueError(f"cannot use {call.input.model_dump()}")  # a module bug quoting its input


@pytest.fixture
def everything_logged(caplog):
    caplog.set_level(logging.DEBUG)  # every logger, every level, from every thread
    return caplog


def post(service, token):
    return service.accept_webhook(
        token,
        method="POST",
        headers={"Content-Type": "application/json", "X-Api-Key": SECRET},
        query={},
        body=json.dumps(PAYLOAD).encode(),
        content_type="application/json",
    )


def assert_no_payload(log_text):
    for leaked in (MARKER, SECRET):
        assert leaked not in log_text, f"{leaked!r} is in the log:\n{log_text}"


def test_a_module_error_quoting_its_input_is_logged_by_ids(
    service, queue, registry, everything_logged
):
    registry.register(stub_module("test:Explode", outputs=explode))
    text = blueprint(webhook_trigger(), module(2, "test:Explode", value="{{1.card}}"))
    result = service.import_scenario(text, active=True)
    queue.start()
    accepted = post(service, result.webhooks[0].token)
    execution_id = accepted.execution_id or execution_id_for_item(accepted.item_id)

    def finished():
        try:
            execution = service.get_execution(execution_id, with_record=False)
        except NotFound:  # not made yet
            return None
        return execution if execution.status.is_terminal else None

    execution = wait_until(finished, 30, "the run to end")
    assert execution.status is ExecutionStatus.ERROR
    assert MARKER in execution.error["message"]  # the record keeps it, behind access control
    logged = everything_logged.text
    assert_no_payload(logged)
    line = f"execution {execution_id} of scenario {result.scenario.id} could not run: ValueError"
    assert line in logged
    assert "in explode" in logged  # the frames are there, for whoever fixes the bug


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'switchboard.db'}"
        upgrade_database(url)
        yield url
        return
    with private_postgres_schema("sb_logs") as url:
        upgrade_database(url)
        yield url


@pytest.fixture
def refusing_service(database_url, settings, registry, clock):
    """A service whose database refuses every execution record (a trigger)."""
    store = open_store(database_url, secret_box=settings.secret_box(), clock=clock)
    with store._engine.begin() as connection:
        for statement in REFUSE_RECORDS[store._engine.dialect.name]:
            connection.exec_driver_sql(statement)
    queue = InlineQueue(workers=1)
    service = Service(store, queue, settings, registry, clock, options=ServiceOptions())
    yield service, queue
    service.close()
    queue.close()
    store.close()


def test_a_record_the_database_refuses_is_logged_by_ids(refusing_service, everything_logged):
    service, queue = refusing_service
    webhook = service.import_scenario(HOOK_TO_VARIABLE, active=True).webhooks[0]
    queue.start()
    accepted = post(service, webhook.token)
    wait_until(
        lambda: "inline worker failed" in everything_logged.text, 30, "the worker to give up"
    )
    logged = everything_logged.text
    assert_no_payload(logged)
    # Ingress made the execution (runs_at_ingress): the worker failed on it, else on the queue.
    failed_on = (
        f"execution {accepted.execution_id}" if accepted.execution_id else f"webhook {webhook.id}"
    )
    assert f"inline worker failed on {failed_on}: engine.store.errors." in logged
    assert "[SQL" not in logged  # nor the statement that carried the record


@pytest.mark.slow
def test_a_celery_workers_log_of_a_failed_run_has_ids_not_payload(tmp_path):
    with empty_redis_database(REDIS_DB) as redis_url, started_processes() as processes:
        env = base_env(tmp_path / "var", SWITCHBOARD_REDIS_URL=redis_url)
        webhook_id, token = import_active_scenario(env, HOOK_TO_VARIABLE)
        store = open_store(f"sqlite:///{tmp_path / 'var' / 'switchboard.db'}")
        with store._engine.begin() as connection:
            connection.exec_driver_sql(REFUSE_RECORDS["sqlite"][0])
        store.close()
        port = free_port()
        web = switchboard("serve", ["serve", "--port", str(port)], env, tmp_path)
        worker = celery_worker(env, tmp_path)
        processes += [web, worker]
        wait_for_http(port, timeout=60)
        try:
            answer = requests.post(
                f"http://127.0.0.1:{port}/hooks/{token}",
                json=PAYLOAD,
                headers={"X-Api-Key": SECRET},
                timeout=30,
            )
            assert answer.status_code == 200
            wait_until(
                lambda: "raised unexpected" in worker.log.read_text(errors="replace"),
                90,
                "Celery to report the failed task",
            )
        except AssertionError as error:
            raise AssertionError(f"{error}\n{explain(processes)}") from None
        logged = worker.log.read_text(errors="replace")
        assert_no_payload(logged)
        assert_no_payload(web.log.read_text(errors="replace"))
        refused = "engine.store.errors.IntegrityViolation"  # the store's, not the driver's
        assert f"webhook {webhook_id} failed: {refused}" in logged
        assert f"TaskFailed: webhook {webhook_id} failed: {refused}" in logged


def test_the_traceback_keeps_frames_and_types_and_drops_every_message(everything_logged):
    def fail(value):
        try:
            {}[value]
        except KeyError as error:
            raise RuntimeError(f"lookup of {value} failed") from error

    try:
        fail(MARKER)
    except RuntimeError as error:
        caught = error
    text = traceback_without_messages(caught)
    assert_no_payload(text)
    assert text.index("KeyError") < text.index("RuntimeError")  # the cause first, as Python
    assert "in fail" in text and "{}[value]" in text
    log_failure(logging.getLogger("switchboard.test"), "item %s failed", 7, error=caught)
    assert "item 7 failed: RuntimeError" in everything_logged.text
    assert_no_payload(everything_logged.text)
