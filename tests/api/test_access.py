"""The authorization table: every ``/api`` route (read from the app's URL map, so a new route
without a rule fails here), for each role and anonymous."""

from __future__ import annotations

import re

import pytest

from webui.api.access import ACCESS
from webui.auth import Role

ROLES = {
    "anonymous": Role.PUBLIC,
    "viewer": Role.VIEWER,
    "editor": Role.EDITOR,
    "owner": Role.OWNER,
}
# Ids that exist nowhere: an allowed request reaches its view and answers 404/409/422…
PLACEHOLDERS = {"int": "987654", "bigid": "987654", "default": "no-such-id"}


def api_routes(app):
    # Sign-out last: it would end the session of the client walking the table.
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint == "api.auth_logout")
    for rule in rules:
        if not rule.rule.startswith("/api/"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def concrete(rule):
    return re.sub(
        r"<(?:(\w+):)?(\w+)>", lambda m: PLACEHOLDERS.get(m.group(1) or "default", "x"), rule.rule
    )


def test_every_api_route_has_an_access_rule(app):
    missing = sorted({rule.endpoint for rule, _ in api_routes(app)} - ACCESS.keys())
    assert not missing, f"routes without an access rule in webui/api/access.py: {missing}"
    stale = sorted(ACCESS.keys() - {rule.endpoint for rule, _ in api_routes(app)})
    assert not stale, f"access rules for routes that do not exist: {stale}"


def test_a_route_without_a_rule_is_refused(app, owner, monkeypatch):
    monkeypatch.delitem(ACCESS, "api.list_scenarios")
    response = owner.get("/api/scenarios")
    assert response.status_code == 500
    assert "no access rule" in response.json["error"]["message"]


@pytest.fixture
def principals(app, owner, editor, viewer):
    """Each role as API-token headers and as a session client (with CSRF)."""
    return {"anonymous": None, "viewer": viewer, "editor": editor, "owner": owner}


@pytest.mark.parametrize("who", list(ROLES))
def test_authorization_table(app, principals, who):
    client = principals[who]
    anonymous = app.test_client()
    role = ROLES[who]
    checked = 0
    for rule, method in api_routes(app):
        needed = ACCESS[rule.endpoint]
        url = concrete(rule)
        kwargs = {"json": {}} if method != "GET" else {}
        if client is None:
            response = anonymous.open(url, method=method, **kwargs)
        else:
            response = client.open(method, url, **kwargs)
        status = response.status_code
        where = f"{who} {method} {rule.rule} -> {status} {response.get_data(as_text=True)[:200]}"
        if needed is Role.PUBLIC or role >= needed:
            assert status not in (401, 403), where
            assert status != 500, where
        elif role is Role.PUBLIC:
            assert status == 401, where
            assert response.json["error"]["code"] == "unauthorized", where
        else:
            assert status == 403, where
            assert response.json["error"]["code"] == "forbidden", where
        checked += 1
    assert checked == sum(1 for _ in api_routes(app)) > 40


def test_webhook_urls_stay_public(app, owner):
    created = owner.post("/api/webhooks", json={"name": "Inbox"}).json
    path = created["url"].split("://", 1)[1].split("/", 1)[1]
    response = app.test_client().post("/" + path, json={"a": 1})
    assert response.status_code == 200
