"""DNS-rebinding protection: the app answers only to allowed Host names (``webui.hosts``);
webhook ingress answers to any."""

from __future__ import annotations

import dataclasses

import pytest

from engine.config import Settings
from webui.hosts import host_name, is_allowed

PAGES = ["/", "/scenarios/3", "/api/auth/state", "/api/openapi.json", "/api/nope", "/oauth/x"]


def get(client, path, host):
    return client.get(path, headers={"Host": host})


@pytest.mark.parametrize("path", PAGES)
def test_a_rebound_name_is_refused_with_a_reason(client, path):
    response = get(client, path, "attacker.example")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "host_not_allowed"
    assert "attacker.example" in error["message"]
    assert "SWITCHBOARD_ALLOWED_HOSTS" in error["message"]
    assert response.headers["X-Frame-Options"] == "DENY"  # security headers all the same


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST.", "[::1]"]
)
def test_loopback_names_are_always_allowed(client, host):
    assert get(client, "/api/auth/state", host).status_code == 200


def test_the_first_start_cannot_be_claimed_through_a_rebound_name(client):
    # The attack that matters most: on a fresh install, setup needs no cookie at all.
    body = {"email": "eve@example.com", "name": "E", "password": "correct horse battery"}
    refused = client.post("/api/auth/setup", json=body, headers={"Host": "attacker.example:8000"})
    assert refused.status_code == 400
    assert client.get("/api/auth/state").get_json()["needs_setup"] is True


def test_the_base_url_host_and_configured_hosts_are_allowed(app, client):
    assert get(client, "/api/auth/state", "switchboard.example.com").status_code == 400
    app.config["SWITCHBOARD_BASE_URL"] = "https://switchboard.example.com/"
    assert get(client, "/api/auth/state", "switchboard.example.com").status_code == 200
    assert get(client, "/api/auth/state", "switchboard.example.com:443").status_code == 200
    assert get(client, "/api/auth/state", "other.example.com").status_code == 400
    app.config["SWITCHBOARD_ALLOWED_HOSTS"] = "intranet, .example.org"
    for host in ["intranet", "INTRANET:8000", "example.org", "a.b.example.org"]:
        assert get(client, "/api/auth/state", host).status_code == 200, host
    assert get(client, "/api/auth/state", "badexample.org").status_code == 400
    app.config["SWITCHBOARD_ALLOWED_HOSTS"] = ["*"]
    assert get(client, "/api/auth/state", "anything.example").status_code == 200


def test_the_environment_setting_is_read(app, service, client):
    environ = {"SWITCHBOARD_VAR_DIR": "/tmp", "SWITCHBOARD_ALLOWED_HOSTS": "sb.internal, .corp"}
    configured = Settings.from_env(environ)
    assert configured.allowed_hosts == ("sb.internal", ".corp")
    service.settings = dataclasses.replace(service.settings, allowed_hosts=("sb.internal",))
    assert get(client, "/api/auth/state", "sb.internal:8000").status_code == 200


def test_the_base_url_from_the_environment_and_service_options(service, client, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_BASE_URL", "http://env.example:8000")
    assert get(client, "/api/auth/state", "env.example").status_code == 200
    monkeypatch.delenv("SWITCHBOARD_BASE_URL")
    service.options = dataclasses.replace(service.options, base_url="https://opts.example")
    assert get(client, "/api/auth/state", "opts.example").status_code == 200


def test_webhook_ingress_answers_to_any_host(app, owner, client):
    # Public callers reach the server through proxies and tunnels under names of their own; a
    # refused delivery would be lost. The token is the key, so rebinding gains nothing.
    hook = owner.post("/api/webhooks", json={"name": "In"}).get_json()
    path = "/hooks/" + hook["url"].rsplit("/hooks/", 1)[1]
    response = client.post(path, json={"a": 1}, headers={"Host": "tunnel.example.net"})
    assert response.status_code == 200
    assert client.post("/hooks/nope", json={}, headers={"Host": "x.example"}).status_code == 404


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("Example.COM:8080", "example.com"),
        ("example.com.", "example.com"),
        ("[::1]:80", "::1"),
        ("[::1", None),
        ("[::1]x", None),
        ("a.example:port", None),
        ("", None),
        ("evil.example/x", None),
        ("user@localhost", None),
        ("local host", None),
        ("l\u043ecalhost", None),  # a Cyrillic o
    ],
)
def test_host_names_are_read_strictly(header, name):
    assert host_name(header) == name


def test_patterns():
    assert is_allowed("a.example.com", [".example.com"])
    assert is_allowed("example.com", [".example.com"])
    assert not is_allowed("notexample.com", [".example.com"])
    assert is_allowed("::1", ["[::1]"])
    assert not is_allowed("example.com", [])
