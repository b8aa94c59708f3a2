"""Fixtures: sandboxes and webhook receivers on free loopback ports, plus an HTTP session.

Everything talks real HTTP, the way a connector would; nothing goes through Flask's test client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from werkzeug.wrappers import Request, Response

from modules.onecrm import sandbox as onecrm_sandbox
from modules.sandboxing import run_sandbox_in_thread
from modules.xero import sandbox as xero_sandbox
from tests.contracts.xero_openapi import ExchangeTap, assert_exchanges_conform

XERO_SCOPES = (
    "openid profile email offline_access accounting.contacts accounting.invoices "
    "accounting.payments accounting.settings"
)
LEGACY_XERO_SCOPES = (
    "openid profile email offline_access accounting.contacts accounting.transactions"
)
ONECRM_AUTH = ("admin", "sandbox-password")


class Server:
    """A running sandbox: its base URL and helpers for the ``/_sandbox`` control API."""

    def __init__(self, base_url, http):
        self.url = base_url
        self.http = http

    def control(self, path, body=None, method="POST"):
        response = self.http.request(method, f"{self.url}/_sandbox/{path}", json=body)
        assert response.status_code < 300, response.text
        return response.json()

    def state(self):
        return self.control("state", method="GET")


class WebhookReceiver:
    """A tiny WSGI endpoint recording what it gets. With ``key`` it answers like a correct Xero
    receiver: 200 when ``x-xero-signature`` matches the HMAC of the raw body, else 401."""

    def __init__(self, key=None, status=200):
        self.key = key
        self.status = status
        self.received = []
        self._condition = threading.Condition()

    def __call__(self, environ, start_response):
        request = Request(environ)
        raw = request.get_data()
        status = self.status
        if self.key is not None:
            expected = base64.b64encode(
                hmac.new(self.key.encode(), raw, hashlib.sha256).digest()
            ).decode()
            given = request.headers.get("x-xero-signature", "")
            status = 200 if hmac.compare_digest(expected, given) else 401
        with self._condition:
            self.received.append(
                {
                    "headers": dict(request.headers),
                    "raw": raw,
                    "json": json.loads(raw or b"null"),
                    "answered": status,
                }
            )
            self._condition.notify_all()
        return Response(status=status)(environ, start_response)

    def wait_for(self, count, timeout=5.0):
        deadline = time.monotonic() + timeout
        with self._condition:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"got {len(self.received)} webhooks, wanted {count}"
                self._condition.wait(remaining)
            return list(self.received)


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture
def serve():
    """``serve(wsgi_app) -> base_url``; everything served is stopped after the test."""
    stops = []

    def start(app):
        base_url, stop = run_sandbox_in_thread(app)
        stops.append(stop)
        return base_url

    yield start
    for stop in reversed(stops):
        stop()


@pytest.fixture
def start_xero(serve, http):
    """Xero sandboxes whose every answer must conform to Xero's OpenAPI spec (checked when the
    test ends; the requests are the tests' own, some malformed on purpose, so not checked)."""
    taps = []

    def start(config=None):
        taps.append(ExchangeTap(xero_sandbox.create_app(config)))
        return Server(serve(taps[-1]), http)

    yield start
    for tap in taps:
        assert_exchanges_conform(tap, requests=False)


@pytest.fixture
def xero(start_xero):
    return start_xero()


@pytest.fixture
def start_onecrm(serve, http):
    def start(config=None):
        return Server(serve(onecrm_sandbox.create_app(config)), http)

    return start


@pytest.fixture
def onecrm(start_onecrm):
    return start_onecrm()


@pytest.fixture
def receiver_factory(serve):
    """``receiver_factory(key=None, status=200) -> (receiver, url)``."""

    def make(key=None, status=200):
        receiver = WebhookReceiver(key, status)
        return receiver, serve(receiver) + "/hooks"

    return make


def authorize(http, server, scope=XERO_SCOPES, state="xyz"):
    """Run the browser leg of the OAuth code flow; return the redirect's query parameters."""
    response = http.get(
        f"{server.url}/identity/connect/authorize",
        params={
            "response_type": "code",
            "client_id": "sandbox-client-id",
            "redirect_uri": "http://localhost/callback",
            "scope": scope,
            "state": state,
        },
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert location.path == "/callback"
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def token_request(http, server, **form):
    return http.post(
        f"{server.url}/connect/token",
        data=form,
        auth=("sandbox-client-id", "sandbox-client-secret"),
    )


def connect_xero(http, server, scope=XERO_SCOPES):
    """Full OAuth dance; return (token answer, tenant id of the first connection)."""
    code = authorize(http, server, scope)["code"]
    response = token_request(
        http,
        server,
        grant_type="authorization_code",
        code=code,
        redirect_uri="http://localhost/callback",
    )
    assert response.status_code == 200, response.text
    tokens = response.json()
    connections = http.get(
        f"{server.url}/connections", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert connections.status_code == 200
    return tokens, connections.json()[0]["tenantId"]


class XeroClient:
    """The calls a connector makes, with bearer token and tenant header set."""

    def __init__(self, http, server, token, tenant_id):
        self.http, self.server, self.token, self.tenant_id = http, server, token, tenant_id

    def headers(self, extra=None):
        return {
            "Authorization": f"Bearer {self.token}",
            "xero-tenant-id": self.tenant_id,
            "Accept": "application/json",
            **(extra or {}),
        }

    def request(self, method, path, *, headers=None, **kwargs):
        url = f"{self.server.url}/api.xro/2.0/{path.lstrip('/')}"
        return self.http.request(method, url, headers=self.headers(headers), **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def put(self, path, body, **kwargs):
        return self.request("PUT", path, json=body, **kwargs)

    def post(self, path, body, **kwargs):
        return self.request("POST", path, json=body, **kwargs)


@pytest.fixture
def xero_client(http, xero):
    tokens, tenant_id = connect_xero(http, xero)
    return XeroClient(http, xero, tokens["access_token"], tenant_id)


class OneCrmClient:
    """Basic-auth JSON calls against ``/api.php/``."""

    def __init__(self, http, server, auth=ONECRM_AUTH):
        self.http, self.server, self.auth = http, server, auth

    def request(self, method, path, **kwargs):
        url = f"{self.server.url}/api.php/{path.lstrip('/')}"
        return self.http.request(method, url, auth=self.auth, **kwargs)

    def create(self, model, data):
        response = self.request("POST", f"data/{model}", json={"data": data})
        assert response.ok, response.text
        return response.json()["id"]

    def save_as_person(self, model, data):
        """What a person's save in 1CRM's screens stores (an invoice with its lines …)."""
        response = self.http.post(f"{self.server.url}/_sandbox/ui/{model}", json=data)
        assert response.status_code == 200, response.text
        return response.json()["id"]

    def get(self, model, record_id):
        response = self.request("GET", f"data/{model}/{record_id}")
        assert response.status_code == 200, response.text
        return response.json()["record"]


@pytest.fixture
def crm(http, onecrm):
    return OneCrmClient(http, onecrm)
