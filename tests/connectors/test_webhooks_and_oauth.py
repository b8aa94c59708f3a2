"""Xero webhook signatures (with the sandbox's intent-to-receive check) and the web app's OAuth2
authorize/callback views (with the Xero sandbox as the provider)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from werkzeug.wrappers import Request, Response

from engine.connections import StoreConnections
from engine.service.connections import ConnectionOperations
from engine.store import utc_now
from modules.xero.webhooks import (
    verify_xero_signature,
    xero_events,
    xero_signature,
    xero_webhook_status,
)
from webui.oauth import OAuthDependencies, init_oauth

KEY = "webhook-key-from-xero"


def test_signature_is_base64_hmac_sha256_of_the_raw_body():
    raw = b'{"events":[]}'
    expected = base64.b64encode(hmac.new(KEY.encode(), raw, hashlib.sha256).digest()).decode()
    assert xero_signature(KEY, raw) == expected
    assert verify_xero_signature(KEY, raw, expected)
    assert not verify_xero_signature(KEY, raw + b" ", expected)
    assert not verify_xero_signature(KEY, raw, None)
    assert not verify_xero_signature("", raw, expected)
    assert xero_webhook_status(KEY, raw, "nope") == 401


def test_events_of_a_delivery():
    raw = json.dumps({"events": [{"resourceId": "c1", "eventCategory": "CONTACT"}, "junk"]})
    assert xero_events(raw.encode()) == [{"resourceId": "c1", "eventCategory": "CONTACT"}]
    assert xero_events(b"") == []


def test_intent_to_receive_passes_against_the_sandbox(serve, start_xero):
    received = []

    def receiver(environ, start_response):
        request = Request(environ)
        raw = request.get_data()
        status = xero_webhook_status(KEY, raw, request.headers.get("x-xero-signature"))
        received.append((status, xero_events(raw) if status == 200 else None))
        return Response(status=status)(environ, start_response)

    url = serve(receiver) + "/hooks/xero"
    xero = start_xero({"webhook_url": url, "webhook_key": KEY})
    report = xero.control("webhooks/intent-to-receive")
    assert report["passed"] is True
    assert [status for status, _ in received] == [200, 401, 200, 401]


@pytest.fixture
def oauth_app(store, registry, http, xero):
    app = Flask("oauth-test")
    app.secret_key = "test-secret"
    app.config.update(
        SWITCHBOARD_BASE_URL="http://switchboard.test",
        SWITCHBOARD_OAUTH_CLIENTS={
            "xero": {
                "client_id": "sandbox-client-id",
                "client_secret": "sandbox-client-secret",
                "base_url": xero.url,
                "authorize_url": f"{xero.url}/identity/connect/authorize",
                "token_url": f"{xero.url}/connect/token",
            }
        },
    )
    app.config["EDITOR"] = "editor-1"
    # The views store grants through the service's connections part, never the store itself.
    connections = ConnectionOperations(store, registry, utc_now, lambda: http)
    editor = lambda: app.config["EDITOR"]  # noqa: E731
    init_oauth(app, OAuthDependencies(connections, registry, http, editor=editor))
    return app


def consent(http, location):
    """The browser leg: follow the authorize redirect to the sandbox's consent."""
    answer = http.get(location, allow_redirects=False)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == "http://switchboard.test/oauth/callback"
    return parse_qs(back.query)


def test_authorize_then_callback_stores_an_encrypted_connection(
    oauth_app, http, store, registry, clock
):
    with oauth_app.test_client() as browser:
        start = browser.get("/oauth/xero/authorize?name=Books")
        assert start.status_code == 302
        query = parse_qs(urlsplit(start.location).query)
        assert query["redirect_uri"] == ["http://switchboard.test/oauth/callback"]
        assert "offline_access" in query["scope"][0].split()
        back = consent(http, start.location)
        done = browser.get(
            "/oauth/callback", query_string={"code": back["code"][0], "state": back["state"][0]}
        )
    assert done.status_code == 200, done.json
    body = done.json["connection"]
    assert body["name"] == "Books" and body["app"] == "xero"
    assert body["data"]["tenant_name"] == "Demo Company (Sandbox)"
    assert "access_token" not in json.dumps(done.json)
    assert "sandbox-client-secret" not in json.dumps(done.json)
    stored = store.get_connection(body["id"])
    assert stored.kind == "oauth2" and stored.secrets["refresh_token"]
    assert stored.secrets["client_secret"] == "sandbox-client-secret"
    resolved = StoreConnections(store, registry, clock, http).test(stored.id)
    assert resolved["organisation"] == "Demo Company (Sandbox)"


def test_reauthorize_replaces_the_grant_of_an_existing_connection(
    oauth_app, http, store, xero_connection
):
    with oauth_app.test_client() as browser:
        start = browser.get(f"/oauth/xero/authorize?connection={xero_connection.id}")
        back = consent(http, start.location)
        done = browser.get(
            "/oauth/callback", query_string={"code": back["code"][0], "state": back["state"][0]}
        )
    assert done.json["connection"]["id"] == xero_connection.id
    stored = store.get_connection(xero_connection.id)
    assert stored.secrets["refresh_token"] != xero_connection.secrets["refresh_token"]
    assert stored.revision > xero_connection.revision


def test_callback_refuses_bad_states_codes_and_denials(oauth_app):
    with oauth_app.test_client() as browser:
        forged = browser.get("/oauth/callback?code=x&state=forged")
        assert forged.status_code == 400 and forged.json["error"]["code"] == "invalid_state"
        denied = browser.get("/oauth/callback?error=access_denied")
        assert denied.json["error"]["code"] == "authorization_refused"
        start = browser.get("/oauth/xero/authorize")
        state = parse_qs(urlsplit(start.location).query)["state"][0]
        bad_code = browser.get("/oauth/callback", query_string={"code": "nope", "state": state})
        assert bad_code.status_code == 502
        assert bad_code.json["error"]["message"] == "Xero refused the token request: invalid_grant"
        assert browser.get("/oauth/zoho/authorize").status_code == 404
        assert browser.get("/oauth/onecrm/authorize").json["error"]["code"] == "not_oauth"


def test_only_signed_in_editors_may_connect_and_only_their_own_grant(oauth_app, http, store):
    with oauth_app.test_client() as browser:
        start = browser.get("/oauth/xero/authorize?name=Books")
        back = consent(http, start.location)
        oauth_app.config["EDITOR"] = "someone-else"
        stolen = browser.get(
            "/oauth/callback", query_string={"code": back["code"][0], "state": back["state"][0]}
        )
        assert stolen.status_code == 403
        oauth_app.config["EDITOR"] = None
        assert browser.get("/oauth/xero/authorize").status_code == 401
        assert browser.get("/oauth/callback?code=x&state=y").status_code == 401
    assert store.list_connections(app="xero") == []
