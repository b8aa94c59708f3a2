"""The OAuth2 routes live outside /api but are just as closed: editors only, own grants only."""

from __future__ import annotations

import pytest


@pytest.fixture
def xero_client(app):
    app.config["SWITCHBOARD_OAUTH_CLIENTS"] = {
        "xero": {"client_id": "id", "client_secret": "secret", "base_url": "https://xero.test"}
    }
    app.config["SWITCHBOARD_BASE_URL"] = "https://switchboard.test"
    return app


def test_anonymous_visitors_cannot_start_or_finish_a_grant(client, xero_client):
    assert client.get("/oauth/xero/authorize").status_code == 401
    finish = client.get("/oauth/callback?code=c&state=s")
    assert finish.status_code == 401
    assert finish.json["error"]["code"] == "unauthorized"


def test_viewers_cannot_connect_apps(viewer, xero_client):
    refused = viewer.get("/oauth/xero/authorize")
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"


def test_editors_are_sent_to_the_consent_page(editor, xero_client):
    answer = editor.get("/oauth/xero/authorize?name=Books")
    assert answer.status_code == 302
    assert "redirect_uri=https%3A%2F%2Fswitchboard.test%2Foauth%2Fcallback" in answer.location


def test_import_binds_prebuilt_connections_and_the_sync_log_answers(editor, service):
    from pathlib import Path

    onecrm = service.create_connection(
        "onecrm", "CRM", {"url": "https://crm.test", "username": "admin"}, {"password": "pw"}
    )
    text = Path("scenarios/xero/2.1-accounts-1crm-to-xero.json").read_bytes()
    unbound = editor.post(
        f"/api/scenarios/import?connection=onecrm:{onecrm.id}",
        data=text,
        content_type="application/json",
    )
    assert unbound.status_code in (400, 422), unbound.json
    assert "xero" in unbound.json["error"]["message"]
    bad = editor.post(
        "/api/scenarios/import?connection=nonsense", data=text, content_type="application/json"
    )
    assert bad.status_code == 422 and bad.json["error"]["path"] == "connection"
    created = editor.post("/api/scenarios", json={"name": "Empty"})
    log = editor.get(f"/api/scenarios/{created.json['id']}/sync-log")
    assert (log.status_code, log.json) == (200, [])
