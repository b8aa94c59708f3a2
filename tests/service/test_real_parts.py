"""End to end with real parts: HTTP servers, Celery workers on a real Redis, SIGKILL.

Each test proves that every accepted webhook ends as exactly one successful execution even
when the process running them dies, that ingress does not depend on Redis being up, or that a
scenario's own answer reaches its caller however long the run takes within the timeout.
A missing Redis at 127.0.0.1:6379 fails these tests; it never skips them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
import requests

from engine.queue.celery_queue import WEBHOOK_TASK, TaskMessages, create_celery_app
from tests.service.blueprints import HOOK_WITH_RESPONSE, SLOW_RESPONDER, SOMETIMES_SLOW
from tests.service.end_to_end import (
    assert_exactly_one_execution_each,
    import_active_scenario,
    open_plain_store,
    reaped_runs,
    running_after_progress,
    slow_now_and_then,
    successes,
)
from tests.service.processes import (
    base_env,
    celery_worker,
    empty_redis_database,
    explain,
    free_port,
    post_webhooks,
    redis_server,
    started_processes,
    switchboard,
    wait_for_http,
    wait_until,
)
from tests.service.test_queue_contract import webhook_requests_in

pytestmark = pytest.mark.slow

REDIS_DB = 13
TOTAL = 1000
PATIENT_SECONDS = 120
"""How long callers wait for a scenario's answer here: far beyond what any run takes."""
SLOW_ANSWER_SECONDS = 6
RUN_SLOTS = 2


@pytest.fixture
def redis_db():
    with empty_redis_database(REDIS_DB) as url:
        yield url


@pytest.fixture
def processes():
    with started_processes() as started:
        yield started


def test_celery_worker_killed_mid_run_loses_and_repeats_nothing(tmp_path, redis_db, processes):
    env = base_env(tmp_path / "var", SWITCHBOARD_REDIS_URL=redis_db)
    webhook_id, token = import_active_scenario(env, SOMETIMES_SLOW)
    port = free_port()
    processes.append(switchboard("serve", ["serve", "--port", str(port)], env, tmp_path))
    processes.append(switchboard("scheduler", ["scheduler"], env, tmp_path))
    first_worker = celery_worker(env, tmp_path)
    processes.append(first_worker)
    wait_for_http(port)
    url = f"http://127.0.0.1:{port}/hooks/{token}"
    store = open_plain_store(tmp_path / "var")
    try:
        assert set(post_webhooks(url, range(TOTAL // 2), payload=slow_now_and_then)) == {200}
        wait_until(lambda: running_after_progress(store, 100), 60, "a run to kill", every=0.05)
        first_worker.kill()  # SIGKILL while it runs webhooks
        assert successes(store) < TOTAL // 2, "the kill should land mid-run"
        processes.append(celery_worker(env, tmp_path))
        assert set(post_webhooks(url, range(TOTAL // 2, TOTAL))) == {200}
        wait_until(lambda: successes(store) >= TOTAL, 120, "every webhook's execution")
        assert_exactly_one_execution_each(store, webhook_id, set(range(TOTAL)))
        assert reaped_runs(store) >= 1, "the killed run was given back and run again"
    except AssertionError as error:
        raise AssertionError(f"{error}\n{explain(processes)}") from None
    finally:
        store.close()


def test_embedded_server_restarted_mid_run_loses_and_repeats_nothing(tmp_path, processes):
    env = base_env(tmp_path / "var", SWITCHBOARD_INLINE_WORKERS="2")
    webhook_id, token = import_active_scenario(env, SOMETIMES_SLOW)
    port = free_port()
    server = switchboard("serve", ["serve", "--port", str(port)], env, tmp_path)
    processes.append(server)
    wait_for_http(port)
    url = f"http://127.0.0.1:{port}/hooks/{token}"
    store = open_plain_store(tmp_path / "var")
    try:
        assert set(post_webhooks(url, range(TOTAL // 2), payload=slow_now_and_then)) == {200}
        wait_until(lambda: running_after_progress(store, 50), 60, "a run to kill", every=0.05)
        server.kill()
        assert successes(store) < TOTAL // 2, "the kill should land mid-run"
        processes.append(switchboard("serve", ["serve", "--port", str(port)], env, tmp_path))
        wait_for_http(port)
        assert set(post_webhooks(url, range(TOTAL // 2, TOTAL))) == {200}
        wait_until(lambda: successes(store) >= TOTAL, 120, "every webhook's execution")
        assert_exactly_one_execution_each(store, webhook_id, set(range(TOTAL)))
        assert reaped_runs(store) >= 1, "the killed run was given back and run again"
    except AssertionError as error:
        raise AssertionError(f"{error}\n{explain(processes)}") from None
    finally:
        store.close()


def test_ingress_accepts_while_redis_is_down_and_dispatch_resumes(tmp_path, processes):
    redis_port = free_port()
    env = base_env(tmp_path / "var", SWITCHBOARD_REDIS_URL=f"redis://127.0.0.1:{redis_port}/0")
    private_redis = redis_server(redis_port, env, tmp_path)
    processes.append(private_redis)
    webhook_id, token = import_active_scenario(env)
    port = free_port()
    processes.append(switchboard("serve", ["serve", "--port", str(port)], env, tmp_path))
    processes.append(switchboard("scheduler", ["scheduler"], env, tmp_path))
    processes.append(celery_worker(env, tmp_path))
    wait_for_http(port)
    url = f"http://127.0.0.1:{port}/hooks/{token}"
    store = open_plain_store(tmp_path / "var")
    try:
        assert set(post_webhooks(url, range(20))) == {200}
        wait_until(lambda: successes(store) >= 20, 60, "runs while Redis is up")
        private_redis.stop()
        assert set(post_webhooks(url, range(20, 40))) == {200}, "ingress must not need Redis"
        assert store.count_queue(webhook_id) == 20, "accepted requests wait in the store"
        processes.append(redis_server(redis_port, env, tmp_path))
        wait_until(lambda: successes(store) >= 40, 90, "dispatch to resume after Redis")
        assert_exactly_one_execution_each(store, webhook_id, set(range(40)))
    except AssertionError as error:
        raise AssertionError(f"{error}\n{explain(processes)}") from None
    finally:
        store.close()


def test_webhook_response_travels_from_a_celery_worker_to_the_caller(tmp_path, redis_db, processes):
    # The answer may come late (a loaded machine starts the worker after the request came in):
    # the caller waits as long as the setting says, and longer than any start-up takes here.
    env = base_env(
        tmp_path / "var",
        SWITCHBOARD_REDIS_URL=redis_db,
        SWITCHBOARD_WEBHOOK_RESPONSE_TIMEOUT=str(PATIENT_SECONDS),
    )
    _, token = import_active_scenario(env, HOOK_WITH_RESPONSE)
    port = free_port()
    processes.append(switchboard("serve", ["serve", "--port", str(port)], env, tmp_path))
    processes.append(celery_worker(env, tmp_path))
    wait_for_http(port)
    try:
        answers = ask(f"http://127.0.0.1:{port}/hooks/{token}", [{"n": 8}])
        assert answers == [(201, "got 8", "yes")]
    except AssertionError as error:
        raise AssertionError(f"{error}\n{explain(processes)}") from None


@pytest.mark.parametrize("deployment", ["embedded", "celery"])
def test_callers_get_a_slow_scenarios_own_answer_when_it_takes_longer_than_5_s(
    tmp_path, redis_db, processes, deployment
):
    # Each run answers after SLOW_ANSWER_SECONDS, more than redis-py's 5 s socket timeout, and
    # twice as many callers as run slots wait together: the later ones wait for two runs.
    env = base_env(
        tmp_path / "var",
        SWITCHBOARD_WEBHOOK_RESPONSE_TIMEOUT=str(PATIENT_SECONDS),
        SWITCHBOARD_INLINE_WORKERS=str(RUN_SLOTS),
        **({"SWITCHBOARD_REDIS_URL": redis_db} if deployment == "celery" else {}),
    )
    _, token = import_active_scenario(env, SLOW_RESPONDER)
    port = free_port()
    processes.append(switchboard("serve", ["serve", "--port", str(port)], env, tmp_path))
    if deployment == "celery":
        processes.append(celery_worker(env, tmp_path, concurrency=RUN_SLOTS))
    wait_for_http(port)
    callers = range(2 * RUN_SLOTS)
    try:
        answers = ask(
            f"http://127.0.0.1:{port}/hooks/{token}",
            [{"n": n, "pause": SLOW_ANSWER_SECONDS} for n in callers],
        )
        assert answers == [(201, f"got {n}", "yes") for n in callers], "not the scenario's answer"
    except AssertionError as error:
        raise AssertionError(f"{error}\n{explain(processes)}") from None


def ask(url: str, payloads: list[dict[str, Any]]) -> list[tuple[int, str, str | None]]:
    """POST every payload at once, one caller each; (status, body, X-Answer) per payload."""

    def one(payload: dict[str, Any]) -> tuple[int, str, str | None]:
        with requests.post(url, json=payload, timeout=PATIENT_SECONDS + 60) as response:
            return response.status_code, response.text, response.headers.get("X-Answer")

    with ThreadPoolExecutor(len(payloads)) as pool:
        return list(pool.map(one, payloads))


def test_a_celery_worker_runs_every_request_a_coalesced_message_stands_for(
    tmp_path, redis_db, processes
):
    """The publisher puts several dispatches of one webhook in one message (``coalesced``):
    a worker runs that many of its queued requests, each exactly once. Here 8 requests wait
    (no worker yet) and their messages are replaced by two messages of 4 each."""
    env = base_env(tmp_path / "var", SWITCHBOARD_REDIS_URL=redis_db)
    webhook_id, token = import_active_scenario(env)
    port = free_port()
    processes.append(switchboard("serve", ["serve", "--port", str(port)], env, tmp_path))
    wait_for_http(port)
    store = open_plain_store(tmp_path / "var")
    broker = redis.Redis.from_url(redis_db)
    try:
        assert set(post_webhooks(f"http://127.0.0.1:{port}/hooks/{token}", range(8))) == {200}
        wait_until(lambda: webhook_requests_in(broker) == 8, 30, "the requests' messages in Redis")
        broker.delete("celery")
        messages = TaskMessages(create_celery_app(redis_db))
        broker.lpush("celery", *[messages.message(WEBHOOK_TASK, webhook_id, 4)] * 2)
        processes.append(celery_worker(env, tmp_path))
        wait_until(lambda: successes(store) >= 8, 90, "the 8 requests of two messages run")
        assert_exactly_one_execution_each(store, webhook_id, set(range(8)))
    except AssertionError as error:
        raise AssertionError(f"{error}\n{explain(processes)}") from None
    finally:
        broker.close()
        store.close()
