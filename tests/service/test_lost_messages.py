"""The service over ``CeleryQueue`` on a real Redis, driven by hand with a fake clock: when
Redis loses the messages it held (``FLUSHDB``, a restart without persistence), the next tick
dispatches every waiting request at once instead of after the grace period."""

from __future__ import annotations

import pytest
import redis

from engine.config import Settings
from engine.queue.celery_queue import CeleryQueue
from engine.service import Service, ServiceOptions
from tests.service.processes import empty_redis_database, wait_until
from tests.service.test_queue_contract import webhook_requests_in
from tests.service.test_service import active_hook, post

REDIS_DB = 12
WAITING = 600
"""More than one sweep page (500 requests): every waiting request needs its message again."""


@pytest.fixture
def settings(tmp_path):
    environ = {
        "SWITCHBOARD_VAR_DIR": str(tmp_path / "var"),
        "SWITCHBOARD_WEBHOOK_RATE_LIMIT": str(10 * WAITING),
    }
    return Settings.from_env(environ).with_secret_key_file()


@pytest.fixture
def redis_url():
    with empty_redis_database(REDIS_DB) as url:
        yield url


@pytest.fixture
def celery_service(store, settings, registry, clock, redis_url):
    # A grace period no test outlasts: only noticing the loss can dispatch the requests again.
    options = ServiceOptions(dispatch_grace_seconds=3600)
    queue = CeleryQueue(redis_url)
    service = Service(store, queue, settings, registry, clock, options=options)
    yield service
    service.close()
    queue.close(timeout=1)


def broker_messages(url: str) -> int:
    """Webhook requests the messages waiting in Redis ask a worker to run (the queue may also
    ask for a tick)."""
    with redis.Redis.from_url(url) as client:
        return webhook_requests_in(client)


def test_a_tick_after_redis_lost_its_messages_dispatches_every_waiting_request(
    celery_service, redis_url
):
    _, hook = active_hook(celery_service)
    celery_service.tick()  # Redis is new to the queue: nothing waits yet
    for n in range(WAITING):
        post(celery_service, hook.token, {"n": n})
    wait_until(lambda: broker_messages(redis_url) == WAITING, 30, "the requests' messages")
    assert celery_service.tick().dispatched_items == 0, "within the grace period"
    with redis.Redis.from_url(redis_url) as client:
        client.flushdb()  # the messages are gone; the requests wait in the store
    report = celery_service.tick()
    assert report.dispatched_items == WAITING
    assert report.messages_lost
    wait_until(lambda: broker_messages(redis_url) == WAITING, 30, "the messages sent again")
    assert celery_service.tick().dispatched_items == 0, "once per loss"
