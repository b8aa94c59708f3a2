"""The raw webhook path (``webui.rawhooks``) answers exactly as Flask's view does.

Each request is sent twice: through the app (the raw path, which must not call Flask) and
straight to Flask's own ``wsgi_app`` behind it; status, headers (names, values, order) and
body must be the same, and so must what each stored. Requests the raw path leaves to Flask
must reach Flask with their body unread.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from engine.config import Settings
from engine.service import Service, ServiceOptions
from engine.store.records import request_body
from tests.service.blueprints import HOOK_TO_VARIABLE, HOOK_WITH_RESPONSE
from webui import create_app
from webui.rawhooks import RawHooks

Answer = tuple[str, list[tuple[str, str]], bytes]


class CountingFlask:
    """Flask's ``wsgi_app`` behind the raw path, counting the requests it gets."""

    def __init__(self, flask_app: Any) -> None:
        self.flask_app = flask_app
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.calls += 1
        return self.flask_app(environ, start_response)


@pytest.fixture
def app(service):
    return app_of(service)


def app_of(service, **config):
    app = create_app({"SWITCHBOARD_SERVICE": service, **config})
    raw = app.wsgi_app
    assert isinstance(raw, RawHooks)
    raw.flask_app = CountingFlask(raw.flask_app)
    return app


def environ(path: str, method: str = "POST", **options: Any) -> dict[str, Any]:
    return EnvironBuilder(path=path, method=method, **options).get_environ()


def answer_of(wsgi_app: Any, env: dict[str, Any]) -> Answer:
    body, status, headers = run_wsgi_app(wsgi_app, env)
    return status, list(headers.items()), b"".join(body)


def raw_and_flask(app, make_environ) -> tuple[Answer, Answer]:
    """The raw path's answer (Flask not called) and Flask's own to an identical request."""
    counting = app.wsgi_app.flask_app
    before = counting.calls
    raw = answer_of(app.wsgi_app, make_environ())
    assert counting.calls == before, "the raw path handed the request to Flask"
    return raw, answer_of(counting.flask_app, make_environ())


def hook_of(service, text=HOOK_TO_VARIABLE, active=True):
    return service.import_scenario(text, active=active).webhooks[0]


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_accepted_is_answered_and_stored_as_flask_does(service, app, method, scheme):
    hook = hook_of(service)
    raw, flask = raw_and_flask(
        app,
        lambda: environ(
            f"/hooks/{hook.token}?n=5&n=6&q=%C3%A9",
            method,
            base_url=f"{scheme}://hooks.example:8443",
            data=json.dumps({"a": 1}),
            content_type="application/json",
            headers={"Cookie": "switchboard_session=secret; other=1", "X-Thing": "t"},
        ),
    )
    assert raw == flask
    assert raw[0] == "200 OK" and raw[2] == b"Accepted"
    assert ("Strict-Transport-Security" in dict(raw[1])) is (scheme == "https")
    first, second = service.store.list_queue(hook.id)
    assert first.request == second.request
    assert first.request["query"] == {"n": "5", "q": "é"}
    assert "switchboard_session" not in first.request["headers"]["Cookie"]


def test_a_scenario_answer_is_confined_as_flask_confines_it(service, app, queue):
    queue.start()
    hook = hook_of(service, HOOK_WITH_RESPONSE)
    raw, flask = raw_and_flask(
        app, lambda: environ(f"/hooks/{hook.token}", json={"n": 8}, base_url="https://h.example")
    )
    assert raw == flask
    assert raw[0] == "201 CREATED" and raw[2] == b"got 8" and ("X-Answer", "yes") in raw[1]


@pytest.mark.parametrize(
    "path, body, status",
    [
        ("/hooks/not-a-token", "{}", "404 NOT FOUND"),
        (None, "{nope", "400 BAD REQUEST"),
    ],
)
def test_the_services_refusals_are_answered_as_flask_does(service, app, path, body, status):
    path = path or f"/hooks/{hook_of(service).token}"
    raw, flask = raw_and_flask(
        app, lambda: environ(path, data=body, content_type="application/json")
    )
    assert raw == flask and raw[0] == status
    assert json.loads(raw[2])["error"]["code"] in {"webhook_not_found", "invalid_payload"}


def test_a_rate_limited_request_gets_retry_after(store, queue, registry, clock, tmp_path):
    settings = Settings.from_env(
        {"SWITCHBOARD_VAR_DIR": str(tmp_path / "v"), "SWITCHBOARD_WEBHOOK_RATE_LIMIT": "1"}
    ).with_secret_key_file()
    service = Service(store, queue, settings, registry, clock)
    app = app_of(service)
    hook = hook_of(service)
    assert answer_of(app.wsgi_app, environ(f"/hooks/{hook.token}"))[0] == "200 OK"
    raw, flask = raw_and_flask(app, lambda: environ(f"/hooks/{hook.token}"))
    assert raw == flask and raw[0] == "429 TOO MANY REQUESTS"
    assert int(dict(raw[1])["Retry-After"]) >= 1
    service.close()


def test_a_streamed_body_over_the_limit_is_413_and_nothing_is_stored(service, app):
    """A body without ``Content-Length`` that the server terminates (gunicorn's chunked
    requests). Flask's view stored it cut at the limit (Werkzeug stops reading there without
    an error); the raw path refuses it as Flask refuses a ``Content-Length`` over the limit."""
    hook = hook_of(service)
    limit = service.settings.webhook_max_payload_bytes

    def streamed(size: int) -> dict[str, Any]:
        env = environ(f"/hooks/{hook.token}", content_type="text/plain")
        env.pop("CONTENT_LENGTH", None)
        env["wsgi.input"] = io.BytesIO(b"x" * size)
        env["wsgi.input_terminated"] = True
        return env

    over = answer_of(app.wsgi_app, streamed(limit + 1))
    with_length = environ(
        f"/hooks/{hook.token}", data=b"x" * (limit + 1), content_type="text/plain"
    )
    assert over == answer_of(app.wsgi_app, with_length)
    assert over[0] == "413 REQUEST ENTITY TOO LARGE"
    assert json.loads(over[2])["error"]["code"] == "request_entity_too_large"
    assert service.store.count_queue(hook.id) == 0
    assert answer_of(app.wsgi_app, streamed(limit))[0] == "200 OK"
    [item] = service.store.list_queue(hook.id)
    assert request_body(item.request) == b"x" * limit


def test_an_unexpected_error_is_a_logged_500_or_raised_when_testing(service, monkeypatch, caplog):
    hook = hook_of(service)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "accept_webhook", broken)
    app = app_of(service)
    with caplog.at_level(logging.ERROR):
        raw, flask = raw_and_flask(app, lambda: environ(f"/hooks/{hook.token}"))
    assert raw == flask and raw[0] == "500 INTERNAL SERVER ERROR"
    assert [r.message for r in caplog.records].count(
        f"Exception on /hooks/{hook.token} [POST]"
    ) == 2
    with pytest.raises(RuntimeError, match="boom"):
        answer_of(app_of(service, TESTING=True).wsgi_app, environ(f"/hooks/{hook.token}"))


@pytest.mark.parametrize(
    "method, path, length",
    [
        ("HEAD", "/hooks/{token}", None),
        ("OPTIONS", "/hooks/{token}", None),
        ("POST", "/hooks/apps/xero", None),
        ("POST", "/hooks/{token}/", None),
        ("POST", "/hooks/", None),
        ("POST", "/api/scenarios", None),
        ("POST", "/hooks/{token}", "over"),
    ],
)
def test_what_the_raw_path_does_not_decide_reaches_flask_unread(service, app, method, path, length):
    hook = hook_of(service)
    env = environ(path.format(token=hook.token), method, data=b"{}")
    if length == "over":
        env["CONTENT_LENGTH"] = str(service.settings.webhook_max_payload_bytes + 1)
    stream = env["wsgi.input"]
    seen: list[int] = []

    def flask_sees(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(environ["wsgi.input"].tell())
        start_response("204 NO CONTENT", [])
        return [b""]

    app.wsgi_app.flask_app = flask_sees
    answer_of(app.wsgi_app, env)
    assert seen == [0] and stream.tell() == 0
    assert service.store.count_queue(hook.id) == 0


def test_with_a_hooks_origin_other_hosts_go_to_flask_which_redirects(
    store, queue, settings, registry, clock
):
    options = ServiceOptions(hooks_url="https://hooks.example")
    service = Service(store, queue, settings, registry, clock, options=options)
    app = app_of(service)
    hook = hook_of(service)
    counting = app.wsgi_app.flask_app
    moved = answer_of(app.wsgi_app, environ(f"/hooks/{hook.token}", base_url="http://localhost"))
    assert moved[0] == "308 PERMANENT REDIRECT" and counting.calls == 1
    raw, flask = raw_and_flask(
        app, lambda: environ(f"/hooks/{hook.token}", base_url="https://hooks.example")
    )
    assert raw == flask and raw[0] == "200 OK"
    service.close()
