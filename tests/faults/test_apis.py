"""APIs that fail under a burst: one that hangs past the module's timeout, and a connector's
sandbox answering 429/500 in bursts. Every accepted webhook ends in exactly one terminal or
incomplete execution, and the APIs' own logs show each call made once: no duplicate writes.
"""

from __future__ import annotations

import pytest

from tests.faults.apis import HangingApi, OneCrmSandbox, onecrm_connection, retry_every_incomplete
from tests.faults.conftest import burst, patience, rounds
from tests.faults.harness import serve, wait_settled, when_answered
from tests.faults.outcome import assert_promise_kept, measure, unresolved, webhook_executions
from tests.faults.sender import Burst
from tests.service.blueprints import blueprint, module, webhook_trigger
from tests.service.end_to_end import import_active_scenario, open_plain_store
from tests.service.processes import base_env, explain, free_port, wait_until

pytestmark = pytest.mark.slow

MODULE_TIMEOUT_SECONDS = 6
"""Longer than ``SWITCHBOARD_STALE_AFTER_SECONDS`` (4 in ``base_env``): a run hanging in a call
keeps its heartbeat, so the reaper must not hand it to a second worker (a second call)."""


def calling(url: str, *, dlq: bool) -> str:
    """Webhook → HTTP POST to ``url`` with the module timeout; errors never stop the scenario
    (``maxErrors`` 0), and with ``dlq`` a failed run is kept as an incomplete execution."""
    call = module(
        2,
        "http:ActionSendData",
        url=url + "?n={{1.n}}",
        method="post",
        timeout=str(MODULE_TIMEOUT_SECONDS),
    )
    return blueprint(webhook_trigger(), call, name="Calls a hanging API", dlq=dlq, maxErrors=0)


@pytest.mark.parametrize("round_", rounds())
@pytest.mark.parametrize(("dlq", "ends_as"), [(False, "error"), (True, "incomplete")])
def test_an_api_hanging_past_the_timeout_ends_each_run_once_as_the_scenario_says(
    tmp_path, processes, record_counts, dlq, ends_as, round_
):
    api, size = HangingApi(), burst(8)
    workers = max(8, size // 4)  # the runs mostly wait: a soak gets more threads to wait in
    env = base_env(
        tmp_path / "var",
        SWITCHBOARD_INLINE_WORKERS=str(workers),
        SWITCHBOARD_ALLOW_PRIVATE_NETWORK="1",
        SWITCHBOARD_INSTANT_STOP_ON_FIRST_ERROR="false",
    )
    webhook_id, token = import_active_scenario(env, calling(api.url, dlq=dlq))
    port = free_port()
    processes.append(serve(env, tmp_path, port))
    store = open_plain_store(tmp_path / "var")
    try:
        statuses = Burst(f"http://127.0.0.1:{port}/hooks/{token}", size).start().wait(patience(60))
        wait_settled(store, webhook_id, 30 + size * MODULE_TIMEOUT_SECONDS / workers)
        counts = measure(
            f"API hangs past timeout → {ends_as}", store, webhook_id, statuses, writes=api.calls
        )
        counts.notes["api_calls"] = len(api.calls)
        record_counts(counts)
        assert_promise_kept(counts)
        ended = {execution.status for execution in webhook_executions(store)}
        assert ended == {ends_as}
        assert counts.incomplete == (counts.executed if dlq else 0)
        assert sorted(api.calls) == sorted(statuses), "one call per run, none repeated"
    except AssertionError as error:
        raise AssertionError(f"{error}\n{explain(processes)}") from None
    finally:
        store.close()
        api.close()


def creating_accounts(connection_id: int) -> str:
    """Webhook → 1CRM Create Account ``fault-<n>``; a failed run is kept as incomplete."""
    create = {
        **module(2, "onecrm:CreateRecord", model="Account"),
        "parameters": {"__IMTCONN__": connection_id},
    }
    create["mapper"]["name"] = "fault-{{1.n}}"
    return blueprint(webhook_trigger(), create, name="Creates accounts", dlq=True, maxErrors=0)


@pytest.mark.parametrize("round_", rounds())
def test_a_sandbox_answering_429_and_500_in_bursts_gets_each_write_once(
    tmp_path, processes, record_counts, round_
):
    sandbox = OneCrmSandbox()
    env = base_env(
        tmp_path / "var",
        SWITCHBOARD_INLINE_WORKERS="2",
        SWITCHBOARD_INSTANT_STOP_ON_FIRST_ERROR="false",
    )
    webhook_id, token = import_active_scenario(
        env, creating_accounts(onecrm_connection(env, sandbox))
    )
    port = free_port()
    processes.append(serve(env, tmp_path, port))
    store = open_plain_store(tmp_path / "var")
    size, faults = burst(40), burst(3)
    sender = Burst(f"http://127.0.0.1:{port}/hooks/{token}", size, threads=2, pause=0.05)
    try:
        sandbox.fault(500, faults)
        when_answered(sender.start(), size // 3)
        sandbox.fault(429, faults, retry_after=1)
        when_answered(sender, 2 * size // 3)
        sandbox.fault(500, faults)
        statuses = sender.wait(patience(60))
        wait_settled(store, webhook_id, patience(60))
        written, refused = sandbox.writes()
        counts = measure("1CRM sandbox 429/500 bursts", store, webhook_id, statuses, writes=written)
        counts.notes.update(refused_writes=dict(refused), writes_before_retry=len(written))
        assert counts.incomplete == sum(refused.values()), "each refused write left one incomplete"
        counts.notes["retried_by_hand"] = retry_every_incomplete(env)
        wait_until(lambda: not unresolved(store), patience(60), "the retries to resolve")
        wait_settled(store, webhook_id, patience(30))
        written, _ = sandbox.writes()
        final = measure("1CRM sandbox 429/500 bursts", store, webhook_id, statuses, writes=written)
        counts.duplicated, counts.running = final.duplicated, final.running
        counts.notes["writes_after_retry"] = len(written)
        record_counts(counts)
        assert_promise_kept(counts)
        assert sorted(written) == sorted(statuses), "every request written once, after retry"
    except AssertionError as error:
        raise AssertionError(f"{error}\n{explain(processes)}") from None
    finally:
        store.close()
        sandbox.close()
