"""Request bodies are size-limited: webhooks, blueprint uploads and every JSON API body are
refused with 413 past ``SWITCHBOARD_WEBHOOK_MAX_BYTES`` (the app's ``MAX_CONTENT_LENGTH``),
whether the client declares a length or streams a chunked body; nothing is stored."""

from __future__ import annotations

import io
import json

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from engine.config import Settings
from engine.queue import InlineQueue
from engine.registry import default_registry
from engine.service import Service, ServiceOptions
from engine.store import open_store
from tests.api.conftest import PASSWORD, ApiClient
from tests.service.blueprints import HOOK_TO_VARIABLE
from tests.service.conftest import FakeClock
from webui import create_app

LIMIT = 2048


@pytest.fixture
def world(tmp_path):
    environ = {
        "SWITCHBOARD_VAR_DIR": str(tmp_path / "var"),
        "SWITCHBOARD_WEBHOOK_MAX_BYTES": str(LIMIT),
    }
    settings = Settings.from_env(environ).with_secret_key_file()
    store = open_store(settings.database_url, secret_box=settings.secret_box(), clock=FakeClock())
    queue = InlineQueue(workers=1)
    service = Service(
        store,
        queue,
        settings,
        default_registry().copy(),
        FakeClock(),
        options=ServiceOptions(webhook_response_timeout=1),
    )
    app = create_app({"TESTING": True, "SWITCHBOARD_SERVICE": service})
    client = app.test_client()
    assert (
        client.post(
            "/api/auth/setup", json={"email": "o@example.com", "name": "O", "password": PASSWORD}
        ).status_code
        == 201
    )
    yield service, app, ApiClient(app, "o@example.com")
    service.close()
    queue.close()
    store.close()


def padded_blueprint(size: int) -> bytes:
    document = json.loads(HOOK_TO_VARIABLE)
    document["padding"] = ""
    text = json.dumps(document)
    document["padding"] = "x" * max(0, size - len(text))
    return json.dumps(document).encode()


def chunked(body: bytes) -> dict:
    """A streamed body: no Content-Length, as a chunked request arrives."""
    return {"input_stream": io.BytesIO(body), "environ_overrides": {"wsgi.input_terminated": True}}


@pytest.mark.parametrize("streamed", [False, True], ids=["declared", "chunked"])
def test_webhook_bodies_over_the_limit_are_413_and_not_stored(world, streamed):
    service, app, _ = world
    hook = service.import_scenario(HOOK_TO_VARIABLE, active=False).webhooks[0]
    client = app.test_client()
    body = b"x" * (LIMIT + 1)
    kwargs = chunked(body) if streamed else {"data": body}
    response = client.post(f"/hooks/{hook.token}", content_type="text/plain", **kwargs)
    assert response.status_code == 413
    assert service.store.count_queue(hook.id) == 0
    fits = client.post(f"/hooks/{hook.token}", data=b"x" * LIMIT, content_type="text/plain")
    assert fits.status_code == 200 and service.store.count_queue(hook.id) == 1


@pytest.mark.parametrize("path", ["raw", "flask"])
def test_a_chunked_webhook_body_over_the_limit_is_not_stored_cut_at_the_limit(world, path):
    """A chunked body as a server hands it over: no ``Content-Length`` at all (the test
    client's ``input_stream`` declares one). Werkzeug stops reading such a body at the limit
    without an error, so it used to be accepted cut to ``LIMIT`` bytes. Both ways in refuse
    it: the raw WSGI path and Flask's view (which takes webhooks when ``TRUSTED_HOSTS`` is
    set)."""
    service, app, _ = world
    hook = service.import_scenario(HOOK_TO_VARIABLE, active=False).webhooks[0]
    environ = EnvironBuilder(
        path=f"/hooks/{hook.token}", method="POST", content_type="text/plain"
    ).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": io.BytesIO(b"x" * (LIMIT + 1)), "wsgi.input_terminated": True})
    trusted = app.config.get("TRUSTED_HOSTS")
    if path == "flask":
        app.config["TRUSTED_HOSTS"] = ["localhost"]
    try:
        body, status, _ = run_wsgi_app(app, environ)
    finally:
        app.config["TRUSTED_HOSTS"] = trusted
    assert (status, json.loads(b"".join(body))["error"]["code"]) == (
        "413 REQUEST ENTITY TOO LARGE",
        "request_entity_too_large",
    )
    assert service.store.count_queue(hook.id) == 0


@pytest.mark.parametrize("streamed", [False, True], ids=["declared", "chunked"])
def test_blueprint_uploads_over_the_limit_are_413_and_not_imported(world, streamed):
    _, _, owner = world
    big = padded_blueprint(LIMIT + 500)
    if streamed:
        response = owner.post(
            "/api/scenarios/import", content_type="application/json", **chunked(big)
        )
    else:
        response = owner.post(
            "/api/scenarios/import",
            data={"file": (io.BytesIO(big), "big.json")},
            content_type="multipart/form-data",
        )
    assert response.status_code == 413
    assert owner.get("/api/scenarios").get_json() == []
    small = padded_blueprint(LIMIT - 600)
    fits = owner.post(
        "/api/scenarios/import",
        data={"file": (io.BytesIO(small), "ok.json")},
        content_type="multipart/form-data",
    )
    assert fits.status_code == 201, fits.get_json()


@pytest.mark.parametrize(
    "url", ["/api/scenarios", "/api/connections", "/api/datastores", "/api/auth/login"]
)
def test_every_json_body_over_the_limit_is_413(world, url):
    _, _, owner = world
    body = json.dumps({"name": "x" * (LIMIT + 10)}).encode()
    response = owner.post(url, data=body, content_type="application/json")
    assert response.status_code == 413
