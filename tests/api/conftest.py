"""Fixtures: the app over a real SQLite store and an InlineQueue, and signed-in clients.

``client`` is anonymous; ``owner`` / ``editor`` / ``viewer`` are ``ApiClient``s signed in
with a session cookie that send the CSRF header on writes (``csrf=False`` to leave it out).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.config import Settings
from engine.queue import InlineQueue
from engine.registry import default_registry
from engine.service import Service, ServiceOptions
from engine.store import open_store
from webui import create_app
from webui.auth import LoginThrottle

PASSWORD = "correct horse battery"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


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


@pytest.fixture
def monotonic():
    return Monotonic()


@pytest.fixture
def app(service, monotonic):
    return create_app(
        {
            "TESTING": True,
            "SWITCHBOARD_SERVICE": service,
            "SWITCHBOARD_LOGIN_THROTTLE": LoginThrottle(monotonic=monotonic),
        }
    )


@pytest.fixture
def client(app):
    return app.test_client()


class ApiClient:
    """A test client signed in with a session; writes send the session's CSRF token."""

    def __init__(self, app, email, password=PASSWORD):
        self.http = app.test_client()
        response = self.http.post("/api/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.json
        self.user = response.json
        self.csrf = self.http.get("/api/auth/state").json["csrf_token"]

    def open(self, method, url, *, csrf=True, **kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        if csrf and method.upper() != "GET":
            headers["X-CSRF-Token"] = self.csrf
        return self.http.open(url, method=method.upper(), headers=headers, **kwargs)

    def get(self, url, **kwargs):
        return self.open("GET", url, **kwargs)

    def post(self, url, **kwargs):
        return self.open("POST", url, **kwargs)

    def put(self, url, **kwargs):
        return self.open("PUT", url, **kwargs)

    def patch(self, url, **kwargs):
        return self.open("PATCH", url, **kwargs)

    def delete(self, url, **kwargs):
        return self.open("DELETE", url, **kwargs)


@pytest.fixture
def owner(app):
    client = app.test_client()
    response = client.post(
        "/api/auth/setup", json={"email": "owner@example.com", "name": "Olga", "password": PASSWORD}
    )
    assert response.status_code == 201, response.json
    return ApiClient(app, "owner@example.com")


def add_user(owner, role):
    email = f"{role}@example.com"
    response = owner.post(
        "/api/users",
        json={"email": email, "name": role.title(), "password": PASSWORD, "role": role},
    )
    assert response.status_code == 201, response.json
    return email


@pytest.fixture
def editor(app, owner):
    return ApiClient(app, add_user(owner, "editor"))


@pytest.fixture
def viewer(app, owner):
    return ApiClient(app, add_user(owner, "viewer"))
