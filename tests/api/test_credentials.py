"""Credentials: API tokens expire, die with a password change or an owner's reset, and cannot
make credentials; every place that sets a password applies the password rule."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.passwords import MIN_LENGTH
from tests.api.conftest import PASSWORD, ApiClient, add_user

NEW_PASSWORD = "a brand new passphrase"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def make_token(client, **body):
    response = client.post("/api/tokens", json={"name": "CI", **body})
    assert response.status_code == 201, response.json
    return response.json


def works(app, token):
    return app.test_client().get("/api/scenarios", headers=bearer(token)).status_code == 200


# -- expiry -----------------------------------------------------------------------------------


def test_a_token_expires_after_the_days_chosen_at_creation(app, viewer, clock):
    made = make_token(viewer, expires_in_days=7)
    assert datetime.fromisoformat(made["expires_at"]) == clock.now + timedelta(days=7)
    assert made["expired"] is False
    clock.advance(days=7, seconds=-1)
    assert works(app, made["token"])
    clock.advance(seconds=1)
    assert not works(app, made["token"])
    listed = viewer.get("/api/tokens").json
    assert [(t["id"], t["expired"]) for t in listed] == [(made["id"], True)]
    assert viewer.delete(f"/api/tokens/{made['id']}").status_code == 204  # still removable


def test_a_token_lives_90_days_unless_told_and_365_at_most(viewer, clock):
    made = make_token(viewer)
    assert datetime.fromisoformat(made["expires_at"]) == clock.now + timedelta(days=90)
    for days in (0, 366, -1):
        refused = viewer.post("/api/tokens", json={"name": "x", "expires_in_days": days})
        assert refused.status_code == 422
        assert refused.json["error"]["path"] == "expires_in_days"
    assert make_token(viewer, expires_in_days=365)["expired"] is False


# -- revocation -------------------------------------------------------------------------------


def test_changing_ones_password_revokes_every_token(app, viewer):
    first, second = make_token(viewer)["token"], make_token(viewer, name="cron")["token"]
    changed = viewer.post(
        "/api/auth/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 200
    assert not works(app, first) and not works(app, second)
    assert viewer.get("/api/tokens").json == []
    viewer.csrf = changed.headers["X-CSRF-Token"]
    assert works(app, make_token(viewer)["token"])  # the session goes on and makes new ones


def test_an_owners_reset_revokes_the_users_tokens_and_sessions(app, owner):
    email = add_user(owner, "editor")
    editor = ApiClient(app, email)
    token = make_token(editor)["token"]
    owners_token = make_token(owner)["token"]
    reset = owner.patch(f"/api/users/{editor.user['id']}", json={"password": NEW_PASSWORD})
    assert reset.status_code == 200
    assert not works(app, token)
    assert editor.get("/api/scenarios").status_code == 401
    assert works(app, owners_token)  # only the user whose password changed is signed out
    ApiClient(app, email, NEW_PASSWORD)


def test_a_reset_refused_by_the_rule_changes_nothing(app, owner):
    email = add_user(owner, "editor")
    editor = ApiClient(app, email)
    token = make_token(editor)["token"]
    refused = owner.patch(
        f"/api/users/{editor.user['id']}", json={"name": "Eddie", "password": " " * 12}
    )
    assert refused.status_code == 422 and refused.json["error"]["path"] == "password"
    assert works(app, token) and editor.get("/api/scenarios").status_code == 200
    assert owner.get("/api/users").json[1]["name"] == "Editor"


# -- what a token may do ----------------------------------------------------------------------


def test_a_token_cannot_make_credentials(app, owner):
    token = bearer(make_token(owner)["token"])
    client = app.test_client()
    refusals = [
        client.post("/api/tokens", json={"name": "more"}, headers=token),
        client.post(
            "/api/auth/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers=token,
        ),
        client.post(
            "/api/users",
            json={"email": "x@example.com", "name": "X", "password": NEW_PASSWORD, "role": "owner"},
            headers=token,
        ),
        client.patch(f"/api/users/{owner.user['id']}", json={"name": "Me"}, headers=token),
    ]
    for refused in refusals:
        assert refused.status_code == 403, refused.json
        assert "browser session" in refused.json["error"]["message"]
    assert [u["email"] for u in owner.get("/api/users").json] == ["owner@example.com"]
    assert len(owner.get("/api/tokens").json) == 1
    ApiClient(app, "owner@example.com")  # the password did not change
    # Reading and taking power away stay open to a token.
    assert client.get("/api/tokens", headers=token).status_code == 200
    spare = make_token(owner, name="spare")["id"]
    assert client.delete(f"/api/tokens/{spare}", headers=token).status_code == 204


def test_the_openapi_document_says_which_operations_need_a_session(client):
    paths = client.get("/api/openapi.json").json["paths"]
    assert paths["/api/tokens"]["post"]["security"] == [{"session": []}]
    assert paths["/api/auth/password"]["post"]["security"] == [{"session": []}]
    assert paths["/api/tokens"]["get"]["security"] == [{"session": []}, {"token": []}]


# -- the password rule, everywhere a password is set ------------------------------------------

WEAK = {
    "ten spaces": " " * 10,
    "short once stripped": "   short   ",
    "all whitespace": "\t \n" * 5,
    "one character repeated": "x" * 12,
    "a common password": "password1234",
    "a common word with digits": "Summer2024!!",
    "a keyboard row": "qwertyuiop",
    "a sequence": "0123456789",
    "the email and little else": "owner@example.com!",
}


def set_password(app, client, where, password):
    """Set ``password`` through ``where``; the answer and the path of the password field."""
    if where == "setup":
        body = {"email": "owner@example.com", "name": "Olga", "password": password}
        return client.post("/api/auth/setup", json=body), "password"
    owner = ApiClient(app, "owner@example.com")
    if where == "new user":
        body = {"email": "owner2@example.com", "name": "Olga", "password": password}
        return owner.post("/api/users", json={**body, "role": "editor"}), "password"
    if where == "change":
        body = {"current_password": PASSWORD, "new_password": password}
        return owner.post("/api/auth/password", json=body), "new_password"
    editor = add_user(owner, "editor")
    editor_id = next(u["id"] for u in owner.get("/api/users").json if u["email"] == editor)
    return owner.patch(f"/api/users/{editor_id}", json={"password": password}), "password"


@pytest.fixture(params=["setup", "new user", "change", "reset"])
def where(request, app):
    if request.param != "setup":
        request.getfixturevalue("owner")
    return request.param


@pytest.mark.parametrize("kind", list(WEAK))
def test_every_password_setter_applies_the_rule(app, client, where, kind):
    answer, path = set_password(app, client, where, WEAK[kind])
    assert answer.status_code == 422, (kind, answer.json)
    assert answer.json["error"]["code"] == "invalid"
    assert answer.json["error"]["path"] == path
    if WEAK[kind].strip():
        assert WEAK[kind].strip() not in answer.json["error"]["message"]  # never echoed


def test_every_password_setter_takes_a_good_password(app, client, where):
    answer, _ = set_password(app, client, where, "  " + NEW_PASSWORD + "  ")
    assert answer.status_code in (200, 201), answer.json


def test_the_rule_is_published_for_the_forms(client):
    rule = client.get("/api/auth/state").json["password_rule"]
    assert rule["min_length"] == MIN_LENGTH
    assert "common" in rule["text"] and str(MIN_LENGTH) in rule["text"]
