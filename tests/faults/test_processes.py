"""Processes dying under load: a Celery worker or the web process killed while webhooks pour
in (also while callers wait for a scenario's own answer), Redis restarted (with its data gone)
while Celery workers run a burst, Redis's database flushed while requests wait for a worker.

The sender keeps posting through the fault and never retries, so each request's answer is its
whole story: 2xx means stored, and a stored request must run exactly once whatever happens.
"""

from __future__ import annotations

import time

import pytest
import redis

from engine.queue.celery_queue import BROKER_MARK
from tests.faults.conftest import burst, patience, rounds
from tests.faults.harness import serve, slow_run_in_flight, wait_settled, when_answered
from tests.faults.outcome import assert_promise_kept, measure, pause_every
from tests.faults.sender import NO_ANSWER, Burst
from tests.service.blueprints import SLOW_RESPONDER, SOMETIMES_SLOW
from tests.service.end_to_end import import_active_scenario, open_plain_store
from tests.service.processes import (
    base_env,
    celery_worker,
    explain,
    free_port,
    redis_server,
    switchboard,
    wait_until,
)

pytestmark = pytest.mark.slow

DOWN_SECONDS = 1.0
WEB_PROCESSES = 4  # gunicorn processes of `switchboard serve` where one would hide a race


@pytest.mark.parametrize("round_", rounds())
def test_celery_worker_killed_mid_burst_runs_every_acknowledged_request_once(
    tmp_path, processes, redis_db, record_counts, round_
):
    env = base_env(tmp_path / "var", SWITCHBOARD_REDIS_URL=redis_db)
    webhook_id, token = import_active_scenario(env, SOMETIMES_SLOW)
    port = free_port()
    processes.append(serve(env, tmp_path, port))
    processes.append(switchboard("scheduler", ["scheduler"], env, tmp_path))
    first_worker = celery_worker(env, tmp_path)
    processes.append(first_worker)
    store = open_plain_store(tmp_path / "var")
    url, size = f"http://127.0.0.1:{port}/hooks/{token}", burst(150)
    sender = Burst(url, size, threads=4, pause=0.02, payload=pause_every(25, 1.0))
    try:
        when_answered(sender.start(), size // 3)
        wait_until(lambda: slow_run_in_flight(store), 30, "a run to kill", every=0.05)
        first_worker.kill()  # SIGKILL with a run in flight and messages prefetched
        processes.append(celery_worker(env, tmp_path))
        statuses = sender.wait(patience(120))
        wait_settled(store, webhook_id, patience(60))
        counts = measure("Celery worker SIGKILLed mid-burst", store, webhook_id, statuses)
        record_counts(counts)
        assert set(statuses.values()) == {200}, "the ingress does not need the workers"
        assert_promise_kept(counts)
        assert counts.notes["reaped_and_rerun"] >= 1, "the killed run was run again"
    except AssertionError as error:
        raise AssertionError(f"{error}\n{explain(processes)}") from None
    finally:
        store.close()


@pytest.mark.parametrize("round_", rounds())
def test_web_process_killed_during_a_burst_runs_every_acknowledged_request_once(
    tmp_path, processes, record_counts, round_
):
    env = base_env(tmp_path / "var", SWITCHBOARD_INLINE_WORKERS="2")
    webhook_id, token = import_active_scenario(env, SOMETIMES_SLOW)
    port = free_port()
    server = serve(env, tmp_path, port)
    processes.append(server)
    store = open_plain_store(tmp_path / "var")
    url, size = f"http://127.0.0.1:{port}/hooks/{token}", burst(200)
    slow = pause_every(25, 1.0)
    sender = Burst(url, size, threads=4, pause=0.02, timeout=10, payload=slow)
    try:
        when_answered(sender.start(), size // 3)
        server.kill()  # SIGKILL: ingress and its inline workers die mid-request, mid-run
        killed_at = sender.answered()
        time.sleep(DOWN_SECONDS)  # the sender keeps posting into a closed port
        processes.append(serve(env, tmp_path, port))
        statuses = sender.wait(patience(120))
        after = Burst(url, size // 2, first=size, payload=slow).start().wait(patience(120))
        assert set(after.values()) == {200}, "the restarted server takes requests"
        statuses |= after
        wait_settled(store, webhook_id, patience(60))
        counts = measure("web process SIGKILLed mid-burst", store, webhook_id, statuses)
        counts.notes["answered_before_kill"] = killed_at
        counts.notes["no_answer"] = sum(status == NO_ANSWER for status in statuses.values())
        record_counts(counts)
        assert set(statuses.values()) <= {200, NO_ANSWER}, statuses
        assert counts.refused > 0, "the kill should land mid-burst"
        assert_promise_kept(counts)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{explain(processes)}") from None
    finally:
        store.close()


@pytest.mark.parametrize("round_", rounds())
def test_web_process_killed_while_callers_wait_for_the_scenarios_answer(
    tmp_path, processes, record_counts, round_
):
    env = base_env(tmp_path / "var", SWITCHBOARD_INLINE_WORKERS="2")
    webhook_id, token = import_active_scenario(env, SLOW_RESPONDER)
    port = free_port()
    server = serve(env, tmp_path, port)
    processes.append(server)
    store = open_plain_store(tmp_path / "var")
    url, size = f"http://127.0.0.1:{port}/hooks/{token}", burst(80)
    slow = pause_every(10, 2.0)
    sender = Burst(url, size, threads=4, pause=0.02, timeout=15, payload=slow)
    try:
        when_answered(sender.start(), size // 3)
        wait_until(lambda: slow_run_in_flight(store), 30, "a caller waiting", every=0.05)
        server.kill()  # callers waiting for the scenario's answer lose their connection
        time.sleep(DOWN_SECONDS)
        processes.append(serve(env, tmp_path, port))
        statuses = sender.wait(patience(120))
        after = Burst(url, 20, first=size, payload=slow).start().wait(patience(120))
        assert set(after.values()) <= {201, 200}, "the restarted server answers again"
        statuses |= after
        wait_settled(store, webhook_id, patience(60))
        counts = measure("web process SIGKILLed, callers waiting", store, webhook_id, statuses)
        counts.notes["answered_by_the_scenario"] = sum(s == 201 for s in statuses.values())
        counts.notes["no_answer"] = sum(s == NO_ANSWER for s in statuses.values())
        record_counts(counts)
        # The scenario's own answer (201), "Accepted" when it is late (200), or nothing.
        assert set(statuses.values()) <= {201, 200, NO_ANSWER}, statuses
        assert counts.notes["no_answer"] > 0, "the kill should cut callers off"
        # A caller cut off while waiting was stored before it waited: it runs, once.
        assert counts.notes["stored_but_not_acknowledged"] > 0
        assert_promise_kept(counts)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{explain(processes)}") from None
    finally:
        store.close()


@pytest.mark.parametrize("round_", rounds())
def test_redis_restarted_empty_while_celery_workers_run_a_burst(
    tmp_path, processes, record_counts, round_
):
    redis_port = free_port()
    env = base_env(tmp_path / "var", SWITCHBOARD_REDIS_URL=f"redis://127.0.0.1:{redis_port}/0")
    private_redis = redis_server(redis_port, env, tmp_path)
    processes.append(private_redis)
    webhook_id, token = import_active_scenario(env, SOMETIMES_SLOW)
    port = free_port()
    # Several web processes, each with its own publisher (outbox, mark watch): one process
    # passed where four left stored requests unrun.
    processes.append(serve(env, tmp_path, port, workers=WEB_PROCESSES))
    processes.append(switchboard("scheduler", ["scheduler"], env, tmp_path))
    processes.append(celery_worker(env, tmp_path))
    store = open_plain_store(tmp_path / "var")
    url, size = f"http://127.0.0.1:{port}/hooks/{token}", burst(100)
    sender = Burst(url, size, threads=4, pause=0.05, payload=pause_every(25, 1.0))
    try:
        when_answered(sender.start(), size // 3)
        wait_until(lambda: slow_run_in_flight(store), 30, "a run in flight", every=0.05)
        private_redis.stop()  # no persistence: queued messages and locks are gone
        time.sleep(DOWN_SECONDS)
        processes.append(redis_server(redis_port, env, tmp_path))
        statuses = sender.wait(patience(120))
        wait_settled(store, webhook_id, patience(90))
        counts = measure("Redis restarted (emptied) mid-burst", store, webhook_id, statuses)
        record_counts(counts)
        assert set(statuses.values()) == {200}, f"the ingress never needs Redis: {sender.no_answer}"
        assert_promise_kept(counts)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{explain(processes)}") from None
    finally:
        store.close()


@pytest.mark.parametrize("round_", rounds())
def test_redis_flushed_while_requests_wait_for_a_worker_runs_each_once(
    tmp_path, processes, redis_db, record_counts, round_
):
    # A grace period no test outlasts: only noticing the loss can dispatch the requests again.
    env = base_env(
        tmp_path / "var", SWITCHBOARD_REDIS_URL=redis_db, SWITCHBOARD_DISPATCH_GRACE_SECONDS="3600"
    )
    webhook_id, token = import_active_scenario(env)
    port = free_port()
    processes.append(serve(env, tmp_path, port))
    processes.append(switchboard("scheduler", ["scheduler"], env, tmp_path))
    first_worker = celery_worker(env, tmp_path)
    processes.append(first_worker)
    store = open_plain_store(tmp_path / "var")
    client = redis.Redis.from_url(redis_db)
    url, size = f"http://127.0.0.1:{port}/hooks/{token}", burst(40)
    try:
        statuses = Burst(url, 5, first=size).start().wait(patience(60))  # warm-up, runs
        wait_settled(store, webhook_id, patience(60))
        wait_until(lambda: client.exists(BROKER_MARK), 60, "a tick to have marked Redis")
        first_worker.stop()  # the requests below wait in Redis for a worker
        statuses |= Burst(url, size).start().wait(patience(60))
        client.flushdb()  # their messages are gone; the requests wait in the store
        processes.append(celery_worker(env, tmp_path))
        wait_settled(store, webhook_id, patience(60))
        counts = measure("Redis database flushed, requests waiting", store, webhook_id, statuses)
        counts.notes["waiting_when_flushed"] = size
        record_counts(counts)
        assert set(statuses.values()) == {200}, "the ingress never needs Redis"
        assert_promise_kept(counts)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{explain(processes)}") from None
    finally:
        client.close()
        store.close()
