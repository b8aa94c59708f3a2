"""Rate limits every process of an installation shares (``engine.ratelimit``): with Redis, two
web processes count one webhook's requests and one email's failed sign-ins together; without
it, each process counts its own; Redis going away never stops a request."""

from __future__ import annotations

import dataclasses
import socket

import pytest
import redis

from engine.queue import make_backplane
from engine.ratelimit import (
    MemoryRateLimiter,
    RedisRateLimiter,
    rate_limiter_for,
    redis_rate_limiter,
)
from engine.service import RateLimited, Service, ServiceOptions
from tests.service.blueprints import HOOK_TO_VARIABLE
from tests.service.processes import empty_redis_database
from webui.auth import LoginThrottle

REDIS_DB = 9


@pytest.fixture
def redis_url():
    with empty_redis_database(REDIS_DB) as url:
        redis_rate_limiter.cache_clear()
        yield url
        redis_rate_limiter.cache_clear()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"  # nothing listens there once the probe is closed


def test_memory_limiter_counts_waits_and_forgets():
    now = [0.0]
    limiter = MemoryRateLimiter(lambda: now[0])
    assert [limiter.acquire("k", 2, 10) for _ in range(3)] == [0.0, 0.0, 10.0]
    now[0] = 4
    assert limiter.wait("k", 2, 10) == 6.0  # peeking counts nothing
    assert limiter.acquire("other", 2, 10) == 0.0
    limiter.reset("k")
    assert limiter.wait("k", 2, 10) == 0.0
    now[0] = 100
    assert limiter.wait("other", 2, 10) == 0.0
    assert limiter._events == {}  # idle keys are not kept


def test_two_processes_share_one_redis_budget(redis_url):
    first = RedisRateLimiter(redis.Redis.from_url(redis_url), clock=lambda: 1000.0)
    second = RedisRateLimiter(redis.Redis.from_url(redis_url), clock=lambda: 1000.0)
    assert first.acquire("webhook:1", 3, 60) == second.acquire("webhook:1", 3, 60) == 0.0
    assert first.acquire("webhook:1", 3, 60) == 0.0
    assert second.acquire("webhook:1", 3, 60) == 20.0  # the window ends at 1020
    assert first.wait("webhook:1", 3, 60) == 20.0
    second.reset("webhook:1")
    assert first.wait("webhook:1", 3, 60) == 0.0


def test_redis_going_away_counts_in_the_process_and_never_raises():
    limiter = rate_limiter_for(closed_port_url())
    try:
        assert [limiter.acquire("webhook:1", 2, 60) for _ in range(3)][:2] == [0.0, 0.0]
        assert limiter.acquire("webhook:1", 2, 60) > 0  # the local count still limits
        assert limiter.wait("webhook:1", 2, 60) > 0
        limiter.reset("webhook:1")
        assert limiter.acquire("webhook:1", 2, 60) == 0.0
    finally:
        redis_rate_limiter.cache_clear()


def test_two_web_processes_limit_one_webhook_together(redis_url, settings, store, registry, clock):
    settings = dataclasses.replace(
        settings, redis_url=redis_url, webhook_rate_limit=3, webhook_rate_window_seconds=60
    )
    # Each web process has its own Redis backplane (no worker: requests stay queued).
    queues = [make_backplane(settings)]
    redis_rate_limiter.cache_clear()  # the second "process" builds its own client
    queues.append(make_backplane(settings))
    services = [
        Service(store, queue, settings, registry, clock, options=ServiceOptions())
        for queue in queues
    ]
    assert services[0].limiter is not services[1].limiter
    try:
        hook = services[0].import_scenario(HOOK_TO_VARIABLE, active=True).webhooks[0]
        accept = {"method": "POST", "headers": {}, "query": {}, "body": b"{}"}
        for service in (services[0], services[1], services[0]):
            service.accept_webhook(hook.token, content_type="application/json", **accept)
        with pytest.raises(RateLimited):
            services[1].accept_webhook(hook.token, content_type="application/json", **accept)
    finally:
        for service, queue in zip(services, queues, strict=True):
            service.close()
            queue.close()


def test_failed_sign_ins_count_across_web_processes(redis_url):
    redis_rate_limiter.cache_clear()
    first = LoginThrottle(limit=3, limiter=rate_limiter_for(redis_url))
    redis_rate_limiter.cache_clear()
    second = LoginThrottle(limit=3, limiter=rate_limiter_for(redis_url))
    for throttle in (first, second, first):
        assert throttle.retry_after("Ada@example.com") == 0
        throttle.failed("ada@example.com")
    assert second.retry_after("ada@example.com") > 0
    first.succeeded("ada@example.com")
    assert second.retry_after("ada@example.com") == 0
