"""Poison requests against the real server, on SQLite and PostgreSQL.

A body with a lone surrogate (``{"s": "\\ud800"}``) was answered 200; its run's record could not
be stored, so the run stayed ``running``, was reaped and run again every two minutes without
end, repeating its writes (and at once on every restart). Now such a body is refused at the
door; text a run makes that way anyway is stored as it is; and a run whose process dies every
time is started at most ``1 + SWITCHBOARD_MAX_REAPS`` times, then ends as an error.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from engine.config import Settings
from engine.queue import InlineQueue
from engine.service import build_service, shutdown_service
from engine.store import ExecutionStatus, SqlStore
from tests.faults.harness import serve
from tests.service.blueprints import blueprint, module, webhook_trigger
from tests.service.processes import Process, base_env, explain, free_port, wait_until

pytestmark = pytest.mark.slow

MAX_REAPS = 2


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request, tmp_path) -> dict[str, str]:
    """The server's environment (short heartbeat, stale-after and tick) on each database."""
    extra = {"SWITCHBOARD_MAX_REAPS": str(MAX_REAPS)}
    if request.param == "postgresql":
        extra["SWITCHBOARD_DATABASE_URL"] = request.getfixturevalue("postgres_database")
    return base_env(tmp_path / "var", **extra)


@pytest.fixture
def store(env) -> Iterator[SqlStore]:
    opened = SqlStore(Settings.from_env(env).database_url)
    yield opened
    opened.close()


def writing_scenario(env: dict[str, str], *steps: dict) -> tuple[int, str, int]:
    """An active webhook scenario whose run first adds a record to a new data store, then does
    ``steps``: (webhook id, token, data store id)."""
    service = build_service(Settings.from_env(env), queue=InlineQueue(), upgrade=True)
    try:
        data_store = service.store.create_data_store("Writes", max_size_bytes=10**6)
        add = {
            **module(2, "datastore:AddRecord", data={"s": "{{1.s}}"}),
            "parameters": {"datastore": data_store.id},
        }
        text = blueprint(webhook_trigger(), add, *steps, name="Writes once per run")
        webhook = service.import_scenario(text, active=True).webhooks[0]
    finally:
        shutdown_service(service)
    return webhook.id, webhook.token, data_store.id


def test_a_lone_surrogate_is_refused_at_the_door_and_nothing_loops(env, store, processes, tmp_path):
    parse = {**module(3, "json:ParseJSON", json="{{1.value}}")}
    webhook_id, token, data_store_id = writing_scenario(env, parse)
    port = free_port()
    processes.append(serve(env, tmp_path, port))
    url = f"http://127.0.0.1:{port}/hooks/{token}"
    try:
        refused = requests.post(
            url, data=b'{"s": "\\ud800"}', headers={"Content-Type": "application/json"}, timeout=30
        )
        assert refused.status_code == 400
        assert refused.json()["error"]["path"] == "s"
        assert "lone surrogate" in refused.json()["error"]["message"]
        assert store.count_queue(webhook_id, status=None) == 0
        # The same text as plain text is taken; the run parses it into a lone surrogate,
        # which the record keeps: the run ends, once.
        taken = requests.post(
            url, data=b'{"s": "\\ud800"}', headers={"Content-Type": "text/plain"}, timeout=30
        )
        assert taken.status_code == 200
        [execution] = wait_until(
            lambda: store.list_executions(status=ExecutionStatus.SUCCESS).items, 60, "the run"
        )
        [parse_record] = [
            m for m in store.get_execution(execution.id).record["modules"] if m["id"] == 3
        ]
        assert parse_record["calls"][0]["output"] == [{"s": "\ud800"}]
        time.sleep(8)  # past stale-after (4 s) and several ticks: nothing is reaped or re-run
        assert store.count_records(data_store_id) == 1
        assert store.get_execution(execution.id).reaped_count == 0
        assert store.count_executions() == 1
    except AssertionError as error:
        raise AssertionError(f"{error}\n{explain(processes)}") from None


def test_a_run_whose_process_dies_every_time_ends_as_an_error_after_the_reap_limit(
    env, store, processes, tmp_path
):
    # Each run adds a record, then sleeps long enough for the server to be killed mid-run.
    sleep = module(3, "util:FunctionSleep", duration="{{1.pause}}")
    webhook_id, token, data_store_id = writing_scenario(env, sleep)
    port = free_port()
    server: Process = serve(env, tmp_path, port)
    processes.append(server)
    answer = requests.post(
        f"http://127.0.0.1:{port}/hooks/{token}", json={"s": "x", "pause": 300}, timeout=30
    )
    assert answer.status_code == 200
    try:
        for start in range(1, MAX_REAPS + 2):
            # A restart reaps the killed run at once (embedded mode) and runs it again.
            wait_until(lambda n=start: store.count_records(data_store_id) == n, 90, f"run {start}")
            server.kill()
            server = serve(env, tmp_path, port)
            processes.append(server)
        [execution] = wait_until(
            lambda: store.list_executions(status=ExecutionStatus.ERROR).items, 60, "the end"
        )
        assert execution.error["type"] == "ReapLimitReached"
        assert f"started {MAX_REAPS + 1} times" in execution.error["message"]
        assert execution.reaped_count == MAX_REAPS
        time.sleep(8)  # past stale-after and several ticks: it stays ended and runs no more
        assert store.get_execution(execution.id, with_record=False).status is ExecutionStatus.ERROR
        assert store.count_records(data_store_id) == MAX_REAPS + 1  # one write per start
        assert store.count_executions() == 1
        assert store.count_queue(webhook_id) == 0
    except AssertionError as error:
        raise AssertionError(f"{error}\n{explain(processes)}") from None
