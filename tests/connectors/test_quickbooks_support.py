"""Shared by the QuickBooks connector tests: the sandbox over real HTTP, a connection made the
way a user makes one (OAuth with the callback's realmId), and a signed webhook receiver.

(Named ``test_…`` only to live beside the other QuickBooks test files; it holds no tests.)
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.wrappers import Request, Response

from engine.connections import authorization_url, exchange_code
from modules.quickbooks import sandbox as qbo_sandbox
from modules.quickbooks.webhooks import SIGNATURE_HEADER, intuit_webhook_status

from .conftest import REDIRECT_URI, Sandbox

REALM = qbo_sandbox.DEFAULT_REALM_ID
VERIFIER = "sandbox-verifier-token"


def qbo_client_data(sandbox):
    return {
        "client_id": "sandbox-client-id",
        "base_url": sandbox.url,
        "authorize_url": f"{sandbox.url}/connect/oauth2",
        "token_url": f"{sandbox.url}/oauth2/v1/tokens/bearer",
    }


def authorize(http, kind, data):
    """Consent in the sandbox; returns the callback's query parameters."""
    url = authorization_url(kind, data, redirect_uri=REDIRECT_URI, state="s1")
    answer = http.get(url, allow_redirects=False)
    assert answer.status_code == 302, answer.text
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}


def connect_quickbooks(store, registry, http, sandbox, name="Demo QuickBooks"):
    """The OAuth dance as the web app does it, with the callback's ``realmId`` put into the
    connection's data before ``on_authorized`` (what the lead wires in ``webui/oauth.py``)."""
    kind = registry.connection_kind("quickbooks")
    data = qbo_client_data(sandbox)
    callback = authorize(http, kind, data)
    secrets = exchange_code(
        kind,
        data,
        "sandbox-client-secret",
        code=callback["code"],
        redirect_uri=REDIRECT_URI,
        session=http,
        now=datetime.now(UTC),
    )
    data["realmId"] = callback["realmId"]
    data.update(kind.on_authorized(data, secrets["access_token"], http))
    secrets["verifier_token"] = VERIFIER
    return store.create_connection("quickbooks", "oauth2", name, data=data, secrets=secrets)


@pytest.fixture
def start_quickbooks(serve, http):
    return lambda config=None: Sandbox(serve(qbo_sandbox.create_app(config)), http)


@pytest.fixture
def quickbooks(start_quickbooks):
    return start_quickbooks({"fixture": "small"})


@pytest.fixture
def qbo_connection(store, registry, http, quickbooks):
    return connect_quickbooks(store, registry, http, quickbooks)


def conn(connection, **extra):
    return {"__IMTCONN__": connection.id, **extra}


def qbo_records(sandbox, entity):
    return sandbox.state()["records"][REALM][entity]


class IntuitReceiver:
    """A webhook endpoint answering as the ingress should: 200 for correctly signed
    deliveries (queued), 401 otherwise (dropped)."""

    def __init__(self, verifier=VERIFIER):
        self.verifier = verifier
        self.accepted = []
        self.refused = 0
        self.condition = threading.Condition()

    def __call__(self, environ, start_response):
        request = Request(environ)
        raw = request.get_data()
        status = intuit_webhook_status(self.verifier, raw, request.headers.get(SIGNATURE_HEADER))
        with self.condition:
            if status == 200:
                self.accepted.append(json.loads(raw))
            else:
                self.refused += 1
            self.condition.notify_all()
        return Response(status=status)(environ, start_response)

    def next(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        with self.condition:
            while not self.accepted:
                assert self.condition.wait(deadline - time.monotonic()), "no webhook arrived"
            return self.accepted.pop(0)


@pytest.fixture
def intuit_receiver(serve):
    receiver = IntuitReceiver()
    receiver.url = serve(receiver) + "/hooks/quickbooks"
    return receiver
