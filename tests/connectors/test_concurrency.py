"""Calls in flight per API account (``modules.concurrency``): the in-process and the Redis
limiter, and ``ApiClient`` holding one slot per request (``responses`` stands in for the API)."""

from __future__ import annotations

import uuid

import pytest
import redis
import requests
import responses

from engine.errors import RateLimitError
from engine.ratelimit import MemoryRateLimiter
from modules.concurrency import MemoryConcurrencyLimiter, RedisConcurrencyLimiter
from modules.connections import CONCURRENCY_TRIES, ApiClient, ApiSettings

BASE = "https://api.example.test"


def test_memory_slots_are_limited_given_back_and_leased():
    now = [0.0]
    limiter = MemoryConcurrencyLimiter(monotonic=lambda: now[0])
    held = [limiter.enter("acme", 2, 30.0) for _ in range(2)]
    assert all(held) and limiter.enter("acme", 2, 30.0) is None
    assert limiter.enter("other", 2, 30.0) is not None  # per key
    limiter.leave("acme", held[0])
    assert limiter.enter("acme", 2, 30.0) is not None
    now[0] = 31.0  # the holders died: their leases ran out
    assert limiter.enter("acme", 2, 30.0) is not None


def test_redis_slots_are_shared_by_workers_on_a_real_redis():
    """Two limiters (two worker processes) on the real Redis share one account's slots."""
    client = redis.Redis.from_url("redis://127.0.0.1:6379/12")
    client.ping()  # a missing Redis fails here, loudly
    key = f"test-{uuid.uuid4().hex}"
    first, second = RedisConcurrencyLimiter(client), RedisConcurrencyLimiter(client)
    try:
        held = [first.enter(key, 3, 30.0), second.enter(key, 3, 30.0), first.enter(key, 3, 30.0)]
        assert all(held)
        assert second.enter(key, 3, 30.0) is None
        second.leave(key, held[0])  # any worker may give back a slot
        assert first.enter(key, 3, 30.0) is not None
        assert 0 < client.ttl(f"switchboard:concurrency:{key}") <= 31
    finally:
        client.delete(f"switchboard:concurrency:{key}")
        client.close()


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def api(session, concurrency, sleep):
    settings = ApiSettings(
        label="Demo",
        base_url=BASE,
        error_message=lambda r: f"HTTP {r.status}",
        concurrency_key="demo:acme",
        max_concurrent=2,
        max_retries=0,
    )
    return ApiClient(settings, session, sleep, MemoryRateLimiter(), concurrency)


def test_a_call_waits_for_a_free_slot_and_gives_it_back(mocked):
    mocked.get(f"{BASE}/things", json={"ok": True})
    concurrency, sleeps = MemoryConcurrencyLimiter(), []
    other_worker = [concurrency.enter("demo:acme", 2, 60.0) for _ in range(2)]
    waits = iter(range(3))

    def sleep(seconds):
        sleeps.append(seconds)
        if next(waits) == 2:  # a call elsewhere ends while we wait
            concurrency.leave("demo:acme", other_worker[0])

    with requests.Session() as session:
        client = ApiClient(
            api(session, concurrency, []).settings, session, sleep, None, concurrency
        )
        assert client.get("things") == {"ok": True}
    assert len(sleeps) == 3
    assert concurrency.enter("demo:acme", 2, 60.0) is not None  # ours was given back


def test_a_call_that_never_gets_a_slot_is_a_rate_limit_error_and_sends_nothing(mocked):
    concurrency, sleeps = MemoryConcurrencyLimiter(), []
    for _ in range(2):
        concurrency.enter("demo:acme", 2, 60.0)
    with requests.Session() as session, pytest.raises(RateLimitError, match="2 calls are already"):
        api(session, concurrency, sleeps.append).request("POST", "things", json={})
    assert len(sleeps) == CONCURRENCY_TRIES
    assert len(mocked.calls) == 0
