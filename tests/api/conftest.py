"""Fixtures: the app over a real SQLite store and an InlineQueue, and signed-in clients.

``client`` is anonymous; ``owner`` / ``editor`` / ``viewer`` are ``ApiClient``s signed in
with a session cookie that send the CSRF header on writes (``csrf=False`` to leave it out).
"""

from __future__ import annotations

import pytest

# The service under the app is the service tests' one: a SQLite store, an InlineQueue.
from tests.service.conftest import (  # noqa: F401 - fixtures
    clock,
    queue,
    registry,
    service,
    settings,
    store,
)
from webui import create_app
from webui.auth import LoginThrottle

PASSWORD = "correct horse battery"


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def monotonic():
    return Monotonic()


@pytest.fixture
def app(service, monotonic):  # noqa: F811 - the imported fixture
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
