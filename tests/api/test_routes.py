"""Every route of the app's URL map, not only ``/api``: who may call it, for each role and
anonymous. ``/api`` routes are declared in ``webui/api/access.py`` (walked by
``test_access.py``); the others are listed here, each with why it is open or how it is closed,
so that a new route with no entry in either table fails ``test_every_route_is_declared``.

Also per route: cookie-authenticated writes without the CSRF token are refused, and every
answer carries the security headers.
"""

from __future__ import annotations

import re

import pytest

from tests.api.test_access import concrete
from webui.api.access import ACCESS, CSRF_EXEMPT
from webui.auth import Role

# Open to anyone (with the reason), or the least role; "token"/"signature": public URLs whose
# unguessable token or the app's HMAC signature is the key.
OTHER_ROUTES: dict[str, str | Role] = {
    "editor": "public: the editor's static shell; every datum it shows comes from the API",
    "editor_assets": "public: the editor's built scripts and styles",
    "static": "public: the same built files",
    "oauth.popup_script": "public: a fixed script of the OAuth pop-up page",
    "hooks.receive": "token",
    "hooks.receive_app_delivery": "signature",
    "oauth.authorize": Role.EDITOR,
    "oauth.callback": Role.EDITOR,
}
PRINCIPALS = ["anonymous", "viewer", "editor", "owner"]


def all_routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_is_declared(app):
    endpoints = {rule.endpoint for rule, _ in all_routes(app)}
    missing = sorted(endpoints - ACCESS.keys() - OTHER_ROUTES.keys())
    assert not missing, f"routes in neither webui/api/access.py nor OTHER_ROUTES: {missing}"
    assert not sorted(OTHER_ROUTES.keys() - endpoints), "OTHER_ROUTES names routes that are gone"
    assert all(
        not rule.rule.startswith("/api/")
        for rule, _ in all_routes(app)
        if rule.endpoint in OTHER_ROUTES
    )


@pytest.fixture
def principals(app, owner, editor, viewer):
    app.config["SWITCHBOARD_OAUTH_CLIENTS"] = {
        "xero": {"client_id": "id", "client_secret": "secret", "base_url": "https://xero.test"}
    }
    return {"anonymous": None, "viewer": viewer, "editor": editor, "owner": owner}


def call(app, principal, method, url):
    if principal is None:
        response = app.test_client().open(url, method=method)
    else:
        response = principal.open(method, url)
    response.get_data()  # read, then close: a streamed file must not outlive the test
    response.close()
    return response


NON_API_URLS = {
    "oauth.authorize": "/oauth/xero/authorize",
    "oauth.callback": "/oauth/callback?code=c&state=forged",
    "editor_assets": "/assets/no-such-file.js",
    "static": "/static/index.html",
}


@pytest.mark.parametrize("who", PRINCIPALS)
def test_routes_outside_the_api_are_closed_as_declared(app, principals, who):
    principal = principals[who]
    role = Role.PUBLIC if principal is None else Role[who.upper()]
    for rule, method in all_routes(app):
        declared = OTHER_ROUTES.get(rule.endpoint)
        if declared is None:
            continue
        url = NON_API_URLS.get(rule.endpoint) or concrete(rule)
        response = call(app, principal, method, url)
        where = f"{who} {method} {url} -> {response.status_code}"
        assert response.status_code < 500, where
        if isinstance(declared, Role) and role < declared:
            assert response.status_code == (401 if principal is None else 403), where
        elif isinstance(declared, Role):
            assert response.status_code not in (401, 403), where
        elif declared == "token":
            assert response.status_code == 404, where  # an unknown token is simply not found
        elif declared == "signature":
            assert response.status_code in (401, 404), where


def test_cookie_authenticated_writes_need_the_csrf_token_on_every_route(app, owner):
    checked = 0
    for rule, method in all_routes(app):
        if method == "GET" or not rule.rule.startswith("/api/"):
            continue
        response = owner.open(method, concrete(rule), csrf=False, json={})
        where = f"{method} {rule.rule} -> {response.status_code}"
        if rule.endpoint in CSRF_EXEMPT:
            assert response.status_code != 403, where
        else:
            assert response.status_code == 403, where
            assert "X-CSRF-Token" in response.json["error"]["message"], where
        checked += 1
    assert checked > 30
    assert sorted(CSRF_EXEMPT) == ["api.auth_login", "api.auth_setup"]


def test_writes_outside_the_api_are_webhooks_only(app):
    # Cookie-authenticated state changes live under /api (CSRF-checked); elsewhere only the
    # webhook ingress takes writes, and it acts with no one's session.
    writes = {
        rule.endpoint
        for rule, method in all_routes(app)
        if method != "GET" and not rule.rule.startswith("/api/")
    }
    assert writes == {"hooks.receive", "hooks.receive_app_delivery"}


@pytest.mark.parametrize("who", ["anonymous", "owner"])
def test_every_route_answers_with_the_security_headers(app, principals, who):
    principal = principals[who]
    for rule, method in all_routes(app):
        url = NON_API_URLS.get(rule.endpoint) or concrete(rule)
        response = call(app, principal, method, url)
        where = f"{who} {method} {url}"
        assert response.headers.get("X-Content-Type-Options") == "nosniff", where
        assert response.headers.get("X-Frame-Options") == "DENY", where
        csp = response.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp, where
        assert "unsafe-eval" not in csp and not re.search(r"script-src[^;]*unsafe-inline", csp)
        if rule.rule.startswith("/api/"):
            assert response.headers.get("Cache-Control") == "no-store", where
