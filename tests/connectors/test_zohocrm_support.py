"""Shared by the Zoho CRM connector tests: the sandbox over real HTTP and a connection made the
way a user makes one, data centre included.

(Named ``test_…`` only to live beside the other Zoho CRM test files; it holds no tests.)
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.connections import token_secrets
from modules.zohocrm import sandbox as zoho_sandbox
from modules.zohocrm.connection import callback_data

from .conftest import REDIRECT_URI, Sandbox
from .test_quickbooks_support import authorize

CLIENT_ID = "1000.SANDBOXCLIENTID"
CLIENT_SECRET = "sandbox-client-secret"


def zoho_client_data(sandbox):
    return {"client_id": CLIENT_ID, "authorize_url": f"{sandbox.url}/oauth/v2/auth"}


def exchange_in_form(http, token_url, code):
    """The code exchange as Zoho takes it: client id and secret in the form.

    ``engine.connections.exchange_code`` sends them by HTTP Basic only, which Zoho ignores; the
    lead wires a form option (see the report) — until then the tests exchange like this.
    """
    answer = http.post(
        token_url,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    body = answer.json()
    assert "access_token" in body, body
    return body


def connect_zohocrm(store, registry, http, sandbox, name="Demo Zoho CRM"):
    kind = registry.connection_kind("zohocrm")
    data = zoho_client_data(sandbox)
    callback = authorize(http, kind, data)
    data.update(callback_data(callback))
    answer = exchange_in_form(http, data["token_url"], callback["code"])
    data["api_domain"] = answer["api_domain"]  # the token answer names the data centre's host
    secrets = token_secrets({"client_secret": CLIENT_SECRET}, answer, datetime.now(UTC))
    data.update(kind.on_authorized(data, secrets["access_token"], http))
    return store.create_connection("zohocrm", "oauth2", name, data=data, secrets=secrets)


@pytest.fixture
def start_zohocrm(serve, http):
    return lambda config=None: Sandbox(serve(zoho_sandbox.create_app(config)), http)


@pytest.fixture
def zohocrm(start_zohocrm):
    return start_zohocrm()


@pytest.fixture
def zoho_connection(store, registry, http, zohocrm):
    return connect_zohocrm(store, registry, http, zohocrm)


def conn(connection, **extra):
    return {"__IMTCONN__": connection.id, **extra}
