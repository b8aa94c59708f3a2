"""schemathesis against ``/api/openapi.json``: every operation of the REST API, in process
(WSGI), signed in as the owner with a session cookie and its CSRF token.

Each operation gets a bounded, derandomized number of generated requests — valid ones and
ones that break the schema — and every answer must:

* not be a 5xx (``not_a_server_error``);
* have a status the document declares, the declared content type, and a body and headers that
  fit the declared schema (``status_code_conformance``, ``content_type_conformance``,
  ``response_schema_conformance``, ``response_headers_conformance``);
* when it is a 4xx, carry ``{"error": {"code", "message"}}`` saying why (``has_a_reason``).

Not checked: ``negative_data_rejection``. The API is lenient where pydantic is (``?until=0.5``
is a Unix time, ``"1"`` an integer); that is a choice, not a crash. Schema-breaking requests are
still generated, and must still get a 4xx with a reason, never a 5xx.

``SWITCHBOARD_FUZZ_SCALE=20`` multiplies the examples for a longer hunt. Bugs found (each with
a regression test in ``tests/api/test_fuzz_regressions.py``): ids past the database column's
range, in paths, queries and bodies, and huge offsets were a 500 (``OverflowError`` in
SQLite); ``POST /api/validate`` of a JSON array was a 500 (``AttributeError``).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from engine.config import Settings
from engine.queue import InlineQueue
from engine.registry import default_registry
from engine.service import Service, ServiceOptions
from engine.store import open_store
from tests.fuzz.strategies import examples
from tests.service.blueprints import HOOK_TO_VARIABLE
from tests.service.conftest import FakeClock
from webui import create_app
from webui.api import register_api
from webui.auth import CSRF_HEADER, SESSION_COOKIE, LoginThrottle
from webui.openapi import build_document

EMAIL, PASSWORD = "owner@example.com", "correct horse battery"
EXAMPLES_PER_OPERATION = 8


class SignedIn:
    """The owner's browser session: its cookie and CSRF token, renewed when a case ends it
    (``POST /auth/logout``)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.user_id = 0
        self.cookie = ""
        self.csrf = ""
        self.sign_in()

    def sign_in(self) -> None:
        client = self.app.test_client()
        response = client.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        self.user_id = response.get_json()["id"]
        self.cookie = client.get_cookie(SESSION_COOKIE).value
        self.csrf = client.get("/api/auth/state").get_json()["csrf_token"]

    def credentials(self) -> dict[str, Any]:
        """``case.call`` arguments (the WSGI transport takes cookies apart from headers)."""
        return {"cookies": {SESSION_COOKIE: self.cookie}, "headers": {CSRF_HEADER: self.csrf}}

    def after(self, case: Any) -> None:
        if case.operation.path == "/api/auth/logout":
            self.sign_in()


@pytest.fixture
def world(tmp_path):
    environ = {"SWITCHBOARD_VAR_DIR": str(tmp_path / "var")}
    config = Settings.from_env(environ).with_secret_key_file()
    store = open_store(config.database_url, secret_box=config.secret_box(), clock=FakeClock())
    queue = InlineQueue(workers=1)
    options = ServiceOptions(webhook_response_timeout=1)
    service = Service(store, queue, config, default_registry().copy(), FakeClock(), options=options)
    # No throttle: a generated sign-in could otherwise lock the walk's own re-sign-in out.
    throttle = LoginThrottle(limit=10**9)
    app = create_app(
        {"TESTING": True, "SWITCHBOARD_SERVICE": service, "SWITCHBOARD_LOGIN_THROTTLE": throttle}
    )
    setup = {"email": EMAIL, "name": "Olga", "password": PASSWORD}
    assert app.test_client().post("/api/auth/setup", json=setup).status_code == 201
    session = SignedIn(app)
    seed(app, service, session)
    yield app, session
    service.close()
    queue.close()
    store.close()


def seed(app: Any, service: Service, session: SignedIn) -> None:
    """One of each resource, so that the small ids generated for path parameters (1, 2 …)
    reach views with something to work on, not only the 404 branch."""
    imported = service.import_scenario(HOOK_TO_VARIABLE, active=False)
    service.accept_webhook(
        imported.webhooks[0].token,
        method="POST",
        headers={"Content-Type": "application/json"},
        query={},
        body=b'{"n": 1}',
        content_type="application/json",
    )
    client = app.test_client()
    client.set_cookie(SESSION_COOKIE, session.cookie)
    headers = {CSRF_HEADER: session.csrf}
    for url, body in SEEDS:
        response = client.post(url, json=body, headers=headers)
        assert response.status_code in (200, 201), (url, response.get_json())


SEEDS = [
    ("/api/scenarios", {"name": "Empty"}),
    ("/api/datastores", {"name": "Records"}),
    (
        "/api/connections",
        {
            "kind": "onecrm",
            "name": "CRM",
            "data": {"url": "http://127.0.0.1:9", "username": "u"},
            "secrets": {"password": "p"},
        },
    ),
    ("/api/tokens", {"name": "CI"}),
    (
        "/api/users",
        {"email": "ed@example.com", "name": "Ed", "password": PASSWORD, "role": "editor"},
    ),
]


def openapi_document() -> dict[str, Any]:
    """The document ``/api/openapi.json`` serves, built from the route declarations alone
    (a fixture-made schema, ``schemathesis.pytest.from_fixture``, does not run on pytest 9)."""
    app = Flask(__name__)
    register_api(app)
    return build_document(app)


schema = schemathesis.openapi.from_dict(openapi_document())


def test_the_fuzzed_document_is_the_served_one(world):
    app, _ = world
    assert app.test_client().get("/api/openapi.json").get_json() == openapi_document()


def test_the_generated_requests_are_signed_in(world):
    # The WSGI transport drops a Cookie header (werkzeug's client owns cookies): without this
    # proof, every case could be a 401 and the walk would pass without reaching a view.
    app, session = world
    case = schema["/api/users"]["GET"].Case()
    response = case.call(app=app, **session.credentials())
    assert response.status_code == 200
    assert [user["email"] for user in response.json()] == [EMAIL, "ed@example.com"]


def has_a_reason(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx answer says why: ``{"error": {"code": str, "message": str}}``."""
    if not 400 <= response.status_code < 500:
        return None
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), f"{response.status_code} without an error object: {body!r}"
    assert isinstance(error.get("code"), str) and error["code"], body
    assert isinstance(error.get("message"), str) and error["message"], body
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    has_a_reason,
]


@schema.parametrize()
@settings(
    max_examples=examples(EXAMPLES_PER_OPERATION),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_within_its_contract(case, world):
    app, session = world
    keep_own_account(case, session)
    response = case.call(app=app, **session.credentials())
    case.validate_response(response, checks=CHECKS)
    session.after(case)


def keep_own_account(case: Any, session: SignedIn) -> None:
    """Point user edits away from the signed-in owner: deleting or demoting themselves would
    end the walk (those refusals are tested in tests/api/test_auth.py)."""
    if case.path_parameters and case.path_parameters.get("user_id") == session.user_id:
        case.path_parameters["user_id"] = session.user_id + 10_000
