"""The database locked or unavailable while webhooks arrive and workers run.

What the ingress answers: it never acknowledges a request it did not store. A lock shorter than
SQLite's busy timeout only delays the answer; past it, or with PostgreSQL unreachable, the
caller gets ``503 store_unavailable`` with ``Retry-After`` and nothing is stored. Workers whose
writes fail leave their claim or run to the lease and the reaper, and every stored request
still ends in exactly one execution.
"""

from __future__ import annotations

import time

import pytest

import engine.store.sql.engine as sql_engine
from engine.config import Settings
from engine.queue import InlineQueue
from engine.service import build_service, shutdown_service
from engine.store import SqlStore
from tests.faults.conftest import burst, patience, rounds
from tests.faults.harness import (
    elapsed,
    in_background,
    postgres_outage,
    serve,
    slow_run_in_flight,
    sqlite_write_lock,
    wait_settled,
    when_answered,
)
from tests.faults.outcome import answered, assert_promise_kept, measure, pause_every
from tests.faults.sender import Burst
from tests.service.blueprints import HOOK_TO_VARIABLE, SOMETIMES_SLOW
from tests.service.end_to_end import import_active_scenario, open_plain_store
from tests.service.processes import (
    base_env,
    celery_worker,
    explain,
    free_port,
    switchboard,
    wait_until,
)
from webui import create_app

pytestmark = pytest.mark.slow

LOCK_SECONDS = 3.0
OUTAGE_SECONDS = 3.0


def post_numbers(client, token: str, numbers: range) -> dict[int, object]:
    return {n: client.post(f"/hooks/{token}", json={"n": n}) for n in numbers}


@pytest.mark.parametrize("round_", rounds())
def test_ingress_answers_503_and_stores_nothing_while_sqlite_stays_locked(
    tmp_path, monkeypatch, record_counts, round_
):
    monkeypatch.setattr(sql_engine, "SQLITE_BUSY_TIMEOUT_SECONDS", 0.2)
    env = {"SWITCHBOARD_VAR_DIR": str(tmp_path / "var"), "SWITCHBOARD_WEBHOOK_RATE_LIMIT": "10000"}
    service = build_service(Settings.from_env(env), queue=InlineQueue(workers=2), upgrade=True)
    webhook = service.import_scenario(HOOK_TO_VARIABLE, active=True).webhooks[0]
    service.queue.start()
    size = burst(5)
    try:
        client = create_app({"SWITCHBOARD_SERVICE": service}).test_client()
        answers = post_numbers(client, webhook.token, range(size))
        wait_settled(
            service.store, webhook.id, patience(30)
        )  # no tick here to recover workers' writes
        with sqlite_write_lock(tmp_path / "var" / "switchboard.db"):
            refused = post_numbers(client, webhook.token, range(size, 2 * size))
        answers |= refused | post_numbers(client, webhook.token, range(2 * size, 3 * size))
        for response in refused.values():
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"] == "5"
            assert response.get_json()["error"]["code"] == "store_unavailable"
        wait_settled(service.store, webhook.id, patience(30))
        statuses = {n: response.status_code for n, response in answers.items()}
        counts = measure("SQLite locked past the busy timeout", service.store, webhook.id, statuses)
        counts.notes["answered_503"] = len(answered(statuses)[1])
        record_counts(counts)
        assert_promise_kept(counts)
        assert counts.executed == counts.accepted == 2 * size, "nothing refused was stored"
    finally:
        shutdown_service(service)


@pytest.mark.parametrize("round_", rounds())
def test_sqlite_locked_during_a_burst_delays_answers_and_loses_nothing(
    tmp_path, processes, record_counts, round_
):
    env = base_env(tmp_path / "var", SWITCHBOARD_INLINE_WORKERS="2")
    webhook_id, token = import_active_scenario(env)
    port = free_port()
    processes.append(serve(env, tmp_path, port))
    store = open_plain_store(tmp_path / "var")
    size = burst(150)
    sender = Burst(f"http://127.0.0.1:{port}/hooks/{token}", size, threads=4, pause=0.01)
    try:
        when_answered(sender.start(), size // 4)
        started = time.monotonic()
        with sqlite_write_lock(tmp_path / "var" / "switchboard.db"):
            time.sleep(LOCK_SECONDS)
        held = elapsed(started)
        statuses = sender.wait(patience(120))
        wait_settled(store, webhook_id, patience(60))
        counts = measure("SQLite write-locked 3 s mid-burst", store, webhook_id, statuses)
        counts.notes["lock_held_seconds"] = held
        record_counts(counts)
        assert set(statuses.values()) == {200}, "a lock within the busy timeout only waits"
        assert_promise_kept(counts)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{explain(processes)}") from None
    finally:
        store.close()


@pytest.mark.parametrize("round_", rounds())
def test_postgres_unavailable_during_a_burst_refuses_cleanly_and_loses_nothing(
    tmp_path, processes, postgres_database, redis_db, record_counts, round_
):
    env = base_env(
        tmp_path / "var",
        SWITCHBOARD_DATABASE_URL=postgres_database,
        SWITCHBOARD_REDIS_URL=redis_db,
    )
    webhook_id, token = import_active_scenario(env, SOMETIMES_SLOW)
    port = free_port()
    processes.append(serve(env, tmp_path, port))
    processes.append(switchboard("scheduler", ["scheduler"], env, tmp_path))
    processes.append(celery_worker(env, tmp_path))
    store = SqlStore(postgres_database)
    url, size, paced = f"http://127.0.0.1:{port}/hooks/{token}", burst(100), burst(60)
    try:
        statuses = Burst(url, size, payload=pause_every(50, 2.0)).start().wait(patience(120))
        wait_until(lambda: slow_run_in_flight(store), 30, "a run to cut off", every=0.05)
        outage = in_background(lambda: postgres_outage(postgres_database, OUTAGE_SECONDS))
        # a paced sender (about 20 a second) keeps posting through the outage and after it
        paced_burst = Burst(url, paced, first=size, threads=2, pause=0.1)
        statuses |= paced_burst.start().wait(patience(180))
        outage.join(30)
        last = size + paced
        statuses |= Burst(url, size, first=last).start().wait(patience(120))
        wait_settled(store, webhook_id, patience(90))
        counts = measure("PostgreSQL unavailable 3 s mid-burst", store, webhook_id, statuses)
        counts.notes["answered_503"] = sum(status == 503 for status in statuses.values())
        record_counts(counts)
        assert set(statuses.values()) <= {200, 503}, "refusals are clean 503s, never a 500"
        assert counts.notes["answered_503"] >= 1, "the outage reached the ingress"
        assert all(statuses[n] == 200 for n in range(last, last + size)), "accepting again"
        assert_promise_kept(counts)
        assert counts.notes["reaped_and_rerun"] >= 1, "a run cut off by the outage ran again"
    except AssertionError as error:
        raise AssertionError(f"{error}\n{explain(processes)}") from None
    finally:
        store.close()
