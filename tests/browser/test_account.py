"""The Account page: the owner adds a teammate with a role, makes an API token that works on the
REST API until revoked; the teammate signs in, changes their own password and sees no team."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests

from tests.browser.conftest import EMAIL, PASSWORD, shot

TEAMMATE = ("ed@example.com", "first password 1")
NEW_PASSWORD = "a better passphrase"


def sign_in(page, server, email, password):
    page.goto(server + "/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_team_tokens_and_password(signed_in, server, browser):
    page = signed_in
    page.locator(".topbar").get_by_role("link", name="Olga").click()
    page.get_by_role("heading", name="Account").wait_for()

    team = page.get_by_test_id("team")
    team.get_by_label("Name").fill("Ed")
    team.get_by_label("Email").fill(TEAMMATE[0])
    team.get_by_label("First password").fill(TEAMMATE[1])
    team.get_by_label("Role", exact=True).select_option("editor")
    team.get_by_role("button", name="Add user").click()
    team.get_by_role("row").filter(has_text=TEAMMATE[0]).wait_for()
    team.get_by_label(f"Role of {TEAMMATE[0]}").select_option("viewer")
    team.get_by_role("row").filter(has_text=TEAMMATE[0]).get_by_label(
        f"Role of {TEAMMATE[0]}"
    ).wait_for()

    tokens = page.get_by_test_id("tokens")
    tokens.get_by_label("Token name").fill("Reporting script")
    tokens.get_by_role("button", name="Create token").click()
    text = tokens.get_by_test_id("new-token").locator("code").inner_text()
    shot(page, "account")
    bearer = {"Authorization": f"Bearer {text}"}
    assert requests.get(f"{server}/api/scenarios", headers=bearer, timeout=10).status_code == 200
    page.once("dialog", lambda dialog: dialog.accept())
    tokens.get_by_role("row").filter(has_text="Reporting script").get_by_role(
        "button", name="Revoke"
    ).click()
    tokens.get_by_role("row").filter(has_text="Reporting script").wait_for(state="detached")
    assert requests.get(f"{server}/api/scenarios", headers=bearer, timeout=10).status_code == 401

    context = browser.new_context(viewport={"width": 1600, "height": 950})
    try:
        ed = context.new_page()
        sign_in(ed, server, *TEAMMATE)
        ed.get_by_role("heading", name="Scenarios").wait_for()
        ed.locator(".topbar").get_by_role("link", name="Ed").click()
        assert "viewer" in ed.locator(".account .list-header").inner_text()
        assert ed.get_by_test_id("team").count() == 0
        password = ed.get_by_test_id("password")
        password.get_by_label("Current password").fill(TEAMMATE[1])
        password.get_by_label("New password").fill(NEW_PASSWORD)
        password.get_by_role("button", name="Change password").click()
        password.get_by_text("Password changed").wait_for()
        ed.get_by_role("button", name="Sign out").click()
        sign_in(ed, server, TEAMMATE[0], NEW_PASSWORD)
        ed.get_by_role("heading", name="Scenarios").wait_for()
    finally:
        context.close()


def test_the_password_rule_shows_before_submitting_and_tokens_show_their_expiry(page, server):
    page.goto(server + "/")
    rule = page.get_by_test_id("password-rule")
    assert "At least 10 characters" in rule.inner_text()  # on the first-start form already
    page.get_by_label("Name").fill("Olga")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.locator(".topbar").get_by_role("link", name="Olga").click()

    password = page.get_by_test_id("password")
    rule = password.get_by_test_id("password-rule").inner_text()
    assert "At least 10 characters" in rule and "common password" in rule
    password.get_by_label("Current password").fill(PASSWORD)
    password.get_by_label("New password").fill(" " * 12 + "x")
    change = password.get_by_role("button", name="Change password")
    assert change.is_disabled()  # ten spaces are no password, before anything is sent
    password.get_by_label("New password").fill("Password1234!")
    password.get_by_test_id("password-check").filter(has_text="commonly used").wait_for()
    assert change.is_disabled()  # refused while it is typed, before anything is sent

    tokens = page.get_by_test_id("tokens")
    tokens.get_by_label("Token name").fill("Nightly export")
    tokens.get_by_label("Expires after").select_option("7")
    tokens.get_by_role("button", name="Create token").click()
    text = tokens.get_by_test_id("new-token").locator("code").inner_text()
    row = tokens.get_by_role("row").filter(has_text="Nightly export")
    shown = row.locator("td").nth(3).inner_text()
    made = requests.get(f"{server}/api/tokens", headers=bearer(text), timeout=10).json()[0]
    expires = datetime.fromisoformat(made["expires_at"])
    assert timedelta(days=6) < expires - datetime.now(UTC) <= timedelta(days=7)
    assert shown not in ("", "expired") and str(expires.astimezone().year) in shown
    shot(page, "account-rule-and-expiry")


def bearer(token):
    return {"Authorization": f"Bearer {token}"}
