"""Accounts: first start, sign-in, CSRF, session fixation, logout, API tokens, throttling,
users (owner only), security headers."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest

from tests.api.conftest import PASSWORD, ApiClient, add_user
from webui.auth import SESSION_COOKIE, hash_password, verify_password


def session_cookie(response):
    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie(header)
        if SESSION_COOKIE in cookie:
            return cookie[SESSION_COOKIE], header
    return None, None


def setup(client, email="owner@example.com", password=PASSWORD):
    return client.post("/api/auth/setup", json={"email": email, "name": "O", "password": password})


def test_first_start_asks_for_the_owner_then_signs_them_in(client):
    state = client.get("/api/auth/state").json
    assert state.pop("password_rule")["min_length"] == 10
    assert state == {"needs_setup": True, "user": None, "csrf_token": None}
    response = setup(client, "Owner@Example.com")
    assert response.status_code == 201
    assert response.json == {"id": 1, "email": "owner@example.com", "name": "O", "role": "owner"}
    assert response.headers["X-CSRF-Token"]
    state = client.get("/api/auth/state").json
    assert state["needs_setup"] is False
    assert state["user"]["role"] == "owner"
    assert state["csrf_token"] == response.headers["X-CSRF-Token"]


def test_a_password_is_judged_before_it_is_set_and_nothing_is_stored(app, client, owner):
    def judge(http, **body):
        answer = http.post("/api/auth/password-check", json=body)
        assert answer.status_code == 200, answer.json
        return answer.json

    # Before any account (the first start) and signed in, by the same rule as on setting it.
    assert judge(client, password="violet tractor mango") == {"ok": True, "problem": None}
    common = judge(client, password="Password1234!")
    assert common["ok"] is False and "commonly used" in common["problem"]
    assert "at least 10" in judge(client, password="short")["problem"]
    guessed = judge(client, password="olga@example.com", email="olga@example.com")
    assert guessed["ok"] is False
    # Signed in, one's own email and name count as guessable without being sent.
    mine = judge(owner, password="owner@example.com 1")
    assert mine["ok"] is False, mine
    assert judge(client, password="owner@example.com 1")["ok"] is True
    assert client.post("/api/auth/password-check", json={}).status_code == 422


def test_setup_works_only_while_no_user_exists(app, client):
    assert setup(client).status_code == 201
    again = app.test_client().post(
        "/api/auth/setup", json={"email": "eve@example.com", "name": "E", "password": PASSWORD}
    )
    assert again.status_code == 409
    assert again.json["error"]["code"] == "conflict"


def test_setup_validates_its_body(client):
    response = setup(client, "not-an-email", "short")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid"
    assert response.json["error"]["path"] == "email"
    assert client.get("/api/auth/state").json["needs_setup"] is True


def test_session_cookie_is_httponly_lax_and_secure_over_https(app):
    app.config["SWITCHBOARD_ALLOWED_HOSTS"] = "switchboard.example"
    plain = setup(app.test_client())
    cookie, header = session_cookie(plain)
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert not cookie["secure"]
    https = app.test_client().post(
        "/api/auth/login",
        json={"email": "owner@example.com", "password": PASSWORD},
        base_url="https://switchboard.example",
    )
    cookie, header = session_cookie(https)
    assert cookie["secure"]
    assert "HttpOnly" in header


def test_login_logout_and_csrf(app, owner):
    client = app.test_client()
    wrong = client.post("/api/auth/login", json={"email": "owner@example.com", "password": "x"})
    assert wrong.status_code == 401
    assert wrong.json["error"]["code"] == "unauthorized"
    assert (
        client.post(
            "/api/auth/login", json={"email": "OWNER@example.com", "password": PASSWORD}
        ).status_code
        == 200
    )
    csrf = client.get("/api/auth/state").json["csrf_token"]
    body = {"name": "Demo"}
    refused = client.post("/api/scenarios", json=body)
    assert refused.status_code == 403
    assert "X-CSRF-Token" in refused.json["error"]["message"]
    wrong_token = client.post("/api/scenarios", json=body, headers={"X-CSRF-Token": "nope"})
    assert wrong_token.status_code == 403
    assert (
        client.post("/api/scenarios", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
    )
    assert client.post("/api/auth/logout").status_code == 403  # logout is a write too
    out = client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    assert client.get("/api/auth/state").json["user"] is None
    assert client.get("/api/scenarios").status_code == 401


def test_logout_ends_the_session_server_side(app, owner):
    cookie = owner.http.get_cookie(SESSION_COOKIE).value
    owner.post("/api/auth/logout")
    replay = app.test_client()
    replay.set_cookie(SESSION_COOKIE, cookie)
    assert replay.get("/api/scenarios").status_code == 401


def test_session_id_changes_at_login(app, owner):
    client = app.test_client()
    planted = "attacker-chosen-session-id"
    client.set_cookie(SESSION_COOKIE, planted)
    first = client.post(
        "/api/auth/login", json={"email": "owner@example.com", "password": PASSWORD}
    )
    issued = client.get_cookie(SESSION_COOKIE).value
    assert first.status_code == 200 and issued != planted
    attacker = app.test_client()
    attacker.set_cookie(SESSION_COOKIE, planted)
    assert attacker.get("/api/auth/state").json["user"] is None
    # Signing in again (as anyone) replaces the session and retires the old id.
    client.post("/api/auth/login", json={"email": "owner@example.com", "password": PASSWORD})
    again = client.get_cookie(SESSION_COOKIE).value
    assert again != issued
    stale = app.test_client()
    stale.set_cookie(SESSION_COOKIE, issued)
    assert stale.get("/api/auth/state").json["user"] is None


def test_api_tokens_work_without_csrf_and_die_when_revoked(app, owner):
    created = owner.post("/api/tokens", json={"name": "CI"})
    assert created.status_code == 201
    token = created.json["token"]
    assert token.startswith("sb_")
    listed = owner.get("/api/tokens").json
    assert [t["name"] for t in listed] == ["CI"]
    assert listed[0]["token"] is None  # shown once
    bearer = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    assert (
        client.post("/api/scenarios", json={"name": "By token"}, headers=bearer).status_code == 201
    )
    assert client.get("/api/tokens", headers=bearer).json[0]["last_used_at"] is not None
    assert owner.delete(f"/api/tokens/{created.json['id']}").status_code == 204
    assert client.get("/api/scenarios", headers=bearer).status_code == 401
    assert (
        client.get("/api/scenarios", headers={"Authorization": "Bearer sb_nope"}).status_code == 401
    )


def test_tokens_are_stored_hashed(app, owner, store):
    token = owner.post("/api/tokens", json={"name": "CI"}).json["token"]
    stored = store.list_api_tokens()[0]
    assert token not in repr(stored) and stored.token_hash != token


def test_a_user_cannot_revoke_another_users_token(app, owner, editor):
    token_id = owner.post("/api/tokens", json={"name": "mine"}).json["id"]
    assert editor.delete(f"/api/tokens/{token_id}").status_code == 404
    assert editor.delete("/api/tokens/999").status_code == 404


def test_token_acts_with_its_users_role(app, owner, viewer):
    token = viewer.post("/api/tokens", json={"name": "read"}).json["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    assert client.get("/api/scenarios", headers=bearer).status_code == 200
    assert client.post("/api/scenarios", json={"name": "x"}, headers=bearer).status_code == 403


def test_login_is_throttled_per_email(app, owner, monotonic):
    client = app.test_client()
    bad = {"email": "owner@example.com", "password": "wrong password"}
    for _ in range(5):
        assert client.post("/api/auth/login", json=bad).status_code == 401
    limited = client.post("/api/auth/login", json={**bad, "password": PASSWORD})
    assert limited.status_code == 429
    assert limited.json["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0
    # Another email is not affected; the window passes.
    other = client.post("/api/auth/login", json={"email": "x@example.com", "password": "nope"})
    assert other.status_code == 401
    monotonic.now += 301
    good = client.post("/api/auth/login", json={"email": "owner@example.com", "password": PASSWORD})
    assert good.status_code == 200


def test_unknown_email_and_wrong_password_answer_alike(app, owner):
    client = app.test_client()
    unknown = client.post("/api/auth/login", json={"email": "who@example.com", "password": "x"})
    wrong = client.post("/api/auth/login", json={"email": "owner@example.com", "password": "x"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json == wrong.json


def test_passwords_are_hashed_with_scrypt(store, owner):
    stored = store.find_user_by_email("owner@example.com").password_hash
    assert stored.startswith("scrypt$") and PASSWORD not in stored
    assert verify_password(PASSWORD, stored)
    assert not verify_password("other", stored)
    assert not verify_password(PASSWORD, "bcrypt$whatever")
    assert hash_password(PASSWORD) != hash_password(PASSWORD)  # salted


def test_users_are_managed_by_the_owner(app, owner):
    email = add_user(owner, "editor")
    users = owner.get("/api/users").json
    assert [(u["email"], u["role"]) for u in users] == [
        ("owner@example.com", "owner"),
        (email, "editor"),
    ]
    editor_id = users[1]["id"]
    duplicate = owner.post(
        "/api/users", json={"email": email, "name": "E", "password": PASSWORD, "role": "viewer"}
    )
    assert duplicate.status_code == 409
    bad_role = owner.post(
        "/api/users",
        json={"email": "z@example.com", "name": "Z", "password": PASSWORD, "role": "admin"},
    )
    assert bad_role.status_code == 422 and bad_role.json["error"]["path"] == "role"
    session = ApiClient(app, email)
    changed = owner.patch(f"/api/users/{editor_id}", json={"role": "viewer", "name": "Vi"})
    assert changed.json == {"id": editor_id, "email": email, "name": "Vi", "role": "viewer"}
    assert session.get("/api/scenarios").status_code == 401  # role change signs them out
    assert owner.patch("/api/users/999", json={"name": "x"}).status_code == 404
    assert owner.delete(f"/api/users/{editor_id}").status_code == 204
    assert owner.delete(f"/api/users/{editor_id}").status_code == 404


def test_the_last_owner_stays(owner):
    me = owner.user["id"]
    demoted = owner.patch(f"/api/users/{me}", json={"role": "editor"})
    assert demoted.status_code == 409
    assert owner.delete(f"/api/users/{me}").status_code == 409


@pytest.mark.parametrize("path", ["/api/auth/state", "/", "/hooks/nope", "/api/nope"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_hsts_over_https_only(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/api/auth/state", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_editor_pages_get_the_editor_csp(client):
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp


def test_sessions_expire(app, owner, clock):
    assert owner.get("/api/scenarios").status_code == 200
    clock.advance(days=15)
    assert owner.get("/api/scenarios").status_code == 401


def test_a_deleted_user_is_signed_out_and_their_tokens_die(app, owner):
    email = add_user(owner, "editor")
    session = ApiClient(app, email)
    token = session.post("/api/tokens", json={"name": "t"}).json["token"]
    user_id = session.user["id"]
    assert owner.delete(f"/api/users/{user_id}").status_code == 204
    assert session.get("/api/scenarios").status_code == 401
    bearer = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/scenarios", headers=bearer).status_code == 401


def test_login_body_must_be_json(client, owner):
    form = client.post(
        "/api/auth/login",
        data="email=owner@example.com&password=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code == 415  # a cross-site form cannot sign anyone in


def test_a_user_changes_their_own_password(app, owner, viewer):
    other_device = ApiClient(app, "viewer@example.com")
    old_cookie = viewer.http.get_cookie(SESSION_COOKIE).value
    wrong = viewer.post(
        "/api/auth/password", json={"current_password": "not it", "new_password": "x" * 12}
    )
    assert wrong.status_code == 403 and wrong.json["error"]["path"] == "current_password"
    short = viewer.post(
        "/api/auth/password", json={"current_password": PASSWORD, "new_password": "short"}
    )
    assert short.status_code == 422
    changed = viewer.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
    )
    assert changed.status_code == 200 and changed.json["email"] == "viewer@example.com"
    # This browser goes on under a new session id; every other session of the user ended.
    assert viewer.http.get_cookie(SESSION_COOKIE).value != old_cookie
    assert viewer.get("/api/auth/state").json["user"]["email"] == "viewer@example.com"
    assert other_device.get("/api/auth/state").json["user"] is None
    client = app.test_client()
    login = {"email": "viewer@example.com", "password": PASSWORD}
    assert client.post("/api/auth/login", json=login).status_code == 401
    login["password"] = "a brand new passphrase"
    assert client.post("/api/auth/login", json=login).status_code == 200


def test_wrong_current_passwords_are_throttled(app, owner, monotonic):
    body = {"current_password": "guess", "new_password": "x" * 12}
    answers = [owner.post("/api/auth/password", json=body).status_code for _ in range(6)]
    assert answers[:5] == [403] * 5 and answers[5] == 429
    assert owner.post("/api/auth/password", json=body).headers["Retry-After"]
