"""A scenario's webhook answer never acts with the app's authority (``webui.hook_safety``):
it runs sandboxed, cannot set the app's headers, never sees the caller's session, and with
``SWITCHBOARD_HOOKS_URL`` is served from an origin of its own (``webui.hosts``)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from engine.config import ConfigError
from engine.queue import WebhookResponse
from engine.service import ServiceOptions
from tests.service.blueprints import blueprint, module, webhook_trigger
from webui.auth import SESSION_COOKIE
from webui.hook_safety import DROPPED_HEADERS, HOOK_CSP, scenario_answer

HOSTILE_HEADERS = {
    "Set-Cookie": f"{SESSION_COOKIE}=planted; Path=/",
    "set-cookie2": "a=b",
    "Content-Security-Policy": "default-src * 'unsafe-inline'",
    "Content-Security-Policy-Report-Only": "default-src 'none'",
    "X-Frame-Options": "ALLOWALL",
    "X-Content-Type-Options": "sniff",
    "Referrer-Policy": "unsafe-url",
    "Strict-Transport-Security": "max-age=0",
    "Clear-Site-Data": '"cookies", "storage"',
    "Service-Worker-Allowed": "/",
    "NEL": '{"report_to": "x", "max_age": 31536000}',
    "Report-To": '{"group": "x", "endpoints": [{"url": "https://evil.example"}]}',
    "Alt-Svc": 'h2="evil.example:443"',
    "WWW-Authenticate": 'Basic realm="Switchboard"',
    "Cross-Origin-Opener-Policy": "unsafe-none",
    "Permissions-Policy": "camera=*",
    "Content-Length": "1",
    "Transfer-Encoding": "chunked",
    "Connection": "close",
}
KEPT_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "max-age=60",
    "Access-Control-Allow-Origin": "*",
    "Location": "https://example.com/thanks",
    "Content-Disposition": 'inline; filename="a.html"',
    "X-Custom": "kept",
}


def responder(status: str, body: str, headers: dict[str, str]) -> dict:
    rows = [{"key": key, "value": value} for key, value in headers.items()]
    return module(2, "gateway:WebhookRespond", status=status, body=body, headers=rows)


def active_hook(owner, service, *flow) -> str:
    """The path of the webhook of a new active scenario ``flow`` (after the trigger)."""
    # A loaded machine may take seconds to run it; the caller must get the answer, not Accepted.
    service.options = dataclasses.replace(service.options, webhook_response_timeout=120)
    document = json.loads(blueprint(webhook_trigger(), *flow, name="Answers"))
    scenario = owner.post("/api/scenarios", json={"name": "Answers", "blueprint": document}).json
    assert owner.post(f"/api/scenarios/{scenario['id']}/activate").status_code == 200
    service.queue.start()
    url = owner.get(f"/api/webhooks?scenario_id={scenario['id']}").json[0]["url"]
    return "/hooks/" + url.rsplit("/hooks/", 1)[1]


def test_a_scenario_cannot_set_the_apps_headers(owner, service, client):
    headers = {**HOSTILE_HEADERS, **KEPT_HEADERS}
    path = active_hook(owner, service, responder("202", "<p>thanks</p>", headers))
    response = client.get(path)
    assert response.status_code == 202
    assert response.get_data(as_text=True) == "<p>thanks</p>"
    for name, value in KEPT_HEADERS.items():
        assert response.headers.get(name) == value, name
    assert response.headers["Content-Security-Policy"] == HOOK_CSP
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers.getlist("Set-Cookie") == []
    assert response.headers["Content-Length"] == str(len("<p>thanks</p>"))
    for name in HOSTILE_HEADERS.keys() - {
        "Content-Security-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Content-Length",
    }:
        assert name not in response.headers, name


def test_the_sandbox_has_no_way_back_to_the_apps_origin():
    directives = dict(part.strip().split(" ", 1) for part in HOOK_CSP.split(";"))
    sandbox = directives["sandbox"].split()
    assert "allow-same-origin" not in sandbox
    assert "allow-top-navigation" not in sandbox and "allow-modals" not in sandbox
    assert directives["frame-ancestors"] == "'none'"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", '{"ok": true, "n": 2}'),
        ("text/plain; charset=utf-8", "plain text ✓"),
        ("text/html; charset=utf-8", "<!doctype html><h1>Thanks</h1>"),
    ],
)
def test_json_text_and_html_answers_still_work(owner, service, client, content_type, body):
    path = active_hook(owner, service, responder("201", body, {"Content-Type": content_type}))
    response = client.post(path, json={"n": 2})
    assert response.status_code == 201
    assert response.headers["Content-Type"] == content_type
    assert response.get_data(as_text=True) == body
    assert response.headers["Content-Security-Policy"] == HOOK_CSP


def test_every_hook_answer_is_sandboxed(owner, service, client):
    # Accepted, errors, and answers without headers alike: the sandbox comes from the view.
    path = active_hook(owner, service, responder("200", "<script>1</script>", {}))
    answered = client.get(path)
    assert answered.headers["Content-Type"] == "text/plain; charset=utf-8"
    for response in (answered, client.get("/hooks/no-such-token")):
        assert response.headers["Content-Security-Policy"] == HOOK_CSP, response.status
        assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Split": "a\r\nSet-Cookie: x=1"},
        {"X-Nul": "a\x00b"},
        {"X-Euro": "€"},
        {"Bad Name": "v"},
        {"X:Colon": "v"},
    ],
)
def test_headers_http_cannot_carry_are_left_out_not_a_500(app, headers):
    # The module refuses them; an answer that reaches the web app anyway is still sent.
    with app.test_request_context():
        response = scenario_answer(WebhookResponse(200, "ok", {**headers, "X-Fine": "yes"}))
    assert response.headers["X-Fine"] == "yes"
    for name in headers:
        assert name not in response.headers
    assert "Set-Cookie" not in response.headers


def test_dropped_header_names_are_lowercase_tokens():
    assert all(name == name.lower() and " " not in name for name in DROPPED_HEADERS)


# -- the caller's session ---------------------------------------------------------------------


def test_the_session_cookie_never_reaches_the_scenario(app, owner, service):
    # An owner opening a webhook link sends their session cookie along (same host); stored,
    # it would be readable by every viewer through the queue — and name the owner's session.
    hook = owner.post("/api/webhooks", json={"name": "Inactive"}).json
    path = "/hooks/" + hook["url"].rsplit("/hooks/", 1)[1]
    session_id = owner.http.get_cookie(SESSION_COOKIE).value
    owner.http.set_cookie("theme", "dark")
    assert owner.http.get(path).status_code == 200
    items = owner.get(f"/api/webhooks/{hook['id']}/queue").json
    stored = owner.get(f"/api/webhooks/{hook['id']}/queue/{items[0]['id']}").json["request"]
    assert session_id not in json.dumps(stored)
    cookies = {k.lower(): v for k, v in stored["headers"].items()}["cookie"]
    assert cookies == "theme=dark"
    assert owner.get("/api/auth/state").json["user"] is not None  # the session still works


def test_a_request_with_only_the_session_cookie_stores_no_cookie_header(app, owner):
    hook = owner.post("/api/webhooks", json={"name": "Inactive"}).json
    path = "/hooks/" + hook["url"].rsplit("/hooks/", 1)[1]
    assert owner.http.get(path).status_code == 200
    items = owner.get(f"/api/webhooks/{hook['id']}/queue").json
    stored = owner.get(f"/api/webhooks/{hook['id']}/queue/{items[0]['id']}").json["request"]
    assert "cookie" not in {name.lower() for name in stored["headers"]}


# -- a separate hooks origin ------------------------------------------------------------------

HOOKS_URL = "https://hooks.example.com"


@pytest.fixture
def hooks_origin(app, service):
    app.config["SWITCHBOARD_ALLOWED_HOSTS"] = "app.example.com, .example.com"
    service.options = dataclasses.replace(
        service.options, base_url="https://app.example.com", hooks_url=HOOKS_URL
    )
    return HOOKS_URL


def test_webhook_urls_use_the_hooks_origin(owner, hooks_origin, service):
    hook = owner.post("/api/webhooks", json={"name": "In"}).json
    assert hook["url"].startswith(f"{HOOKS_URL}/hooks/")
    assert owner.get(f"/api/webhooks/{hook['id']}").json["url"] == hook["url"]
    webhook = service.get_webhook(hook["id"])
    assert service.webhook_url(webhook) == hook["url"]  # what apps are told on activation


def test_hooks_are_served_only_on_the_hooks_origin(owner, hooks_origin, client):
    hook = owner.post("/api/webhooks", json={"name": "In"}).json
    path = "/hooks/" + hook["url"].rsplit("/hooks/", 1)[1]
    on_hooks = client.post(path, json={"a": 1}, headers={"Host": "hooks.example.com"})
    assert on_hooks.status_code == 200 and on_hooks.get_data(as_text=True) == "Accepted"
    for host in ("app.example.com", "localhost", "127.0.0.1:8000", "other.example.com"):
        moved = client.post(f"{path}?x=1&y=%20", json={"a": 2}, headers={"Host": host})
        assert moved.status_code == 308, host
        assert moved.headers["Location"] == f"{HOOKS_URL}{path}?x=1&y=%20"
    assert owner.get(f"/api/webhooks/{hook['id']}").json["queued"] == 1  # only the first


@pytest.mark.parametrize(
    "path", ["/", "/scenarios/1", "/api/auth/state", "/api/openapi.json", "/oauth/callback"]
)
def test_the_hooks_origin_serves_nothing_else(owner, hooks_origin, client, path):
    response = client.get(path, headers={"Host": "hooks.example.com"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "hooks_origin"
    on_app = client.get(path, headers={"Host": "app.example.com"})
    assert "hooks_origin" not in on_app.get_data(as_text=True)


def test_the_hooks_origin_can_differ_by_port_alone(app, owner, service, client):
    service.options = dataclasses.replace(
        service.options, base_url="http://localhost:8000", hooks_url="http://localhost:8001"
    )
    hook = owner.post("/api/webhooks", json={"name": "In"}).json
    assert hook["url"].startswith("http://localhost:8001/hooks/")
    path = "/hooks/" + hook["url"].rsplit("/hooks/", 1)[1]
    assert client.post(path, headers={"Host": "localhost:8001"}).status_code == 200
    assert client.post(path, headers={"Host": "localhost:8000"}).status_code == 308
    assert client.get("/api/auth/state", headers={"Host": "localhost:8001"}).status_code == 404
    assert client.get("/api/auth/state", headers={"Host": "localhost:8000"}).status_code == 200


def test_without_a_hooks_url_hooks_share_the_apps_origin(owner, client):
    hook = owner.post("/api/webhooks", json={"name": "In"}).json
    path = "/hooks/" + hook["url"].rsplit("/hooks/", 1)[1]
    assert client.post(path, headers={"Host": "localhost"}).status_code == 200
    assert client.get("/api/auth/state", headers={"Host": "localhost"}).status_code == 200


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"SWITCHBOARD_HOOKS_URL": "hooks.example.com"}, "absolute URL"),
        ({"SWITCHBOARD_HOOKS_URL": "ftp://hooks.example.com"}, "http(s) URL"),
        ({"SWITCHBOARD_HOOKS_URL": "https://hooks.example.com/?a=1"}, "without query"),
        ({"SWITCHBOARD_HOOKS_URL": "https://h.example:99999"}, "not valid"),
        (
            {
                "SWITCHBOARD_BASE_URL": "https://sb.example.com",
                "SWITCHBOARD_HOOKS_URL": "https://sb.example.com/hooks-here",
            },
            "shares its host",
        ),
        (
            {
                "SWITCHBOARD_BASE_URL": "https://sb.example.com",
                "SWITCHBOARD_HOOKS_URL": "http://sb.example.com:443",
            },
            "shares its host",
        ),
    ],
)
def test_a_hooks_url_that_gives_no_origin_of_its_own_is_refused(environ, named):
    with pytest.raises(ConfigError) as error:
        ServiceOptions.from_env(environ)
    assert "SWITCHBOARD_HOOKS_URL" in str(error.value) and named in str(error.value)


def test_a_hooks_url_is_read_from_the_environment():
    options = ServiceOptions.from_env(
        {"SWITCHBOARD_BASE_URL": "https://sb.example.com", "SWITCHBOARD_HOOKS_URL": HOOKS_URL}
    )
    assert options.hooks_url == HOOKS_URL
    assert options.public_hooks_url == HOOKS_URL
    assert ServiceOptions(base_url="https://sb.example.com/").public_hooks_url == (
        "https://sb.example.com"
    )
    same_host_other_port = ServiceOptions(
        base_url="https://sb.example.com", hooks_url="https://sb.example.com:8443"
    )
    assert same_host_other_port.public_hooks_url == "https://sb.example.com:8443"
