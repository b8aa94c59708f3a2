"""Fixtures: a SQLite store in a temporary directory, an InlineQueue, a service around them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.config import Settings
from engine.queue import InlineQueue
from engine.registry import default_registry
from engine.service import Service, ServiceOptions
from engine.store import open_store


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def settings(tmp_path):
    environ = {"SWITCHBOARD_VAR_DIR": str(tmp_path / "var"), "SWITCHBOARD_HEARTBEAT_SECONDS": "1"}
    return Settings.from_env(environ).with_secret_key_file()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def registry():
    return default_registry().copy()


@pytest.fixture
def store(settings, clock):
    store = open_store(settings.database_url, secret_box=settings.secret_box(), clock=clock)
    yield store
    store.close()


@pytest.fixture
def queue():
    queue = InlineQueue(workers=2)
    yield queue
    queue.close()


@pytest.fixture
def service(store, queue, settings, registry, clock):
    options = ServiceOptions(webhook_response_timeout=5, dispatch_grace_seconds=1)
    service = Service(store, queue, settings, registry, clock, options=options)
    yield service
    service.close()
