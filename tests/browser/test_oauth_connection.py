"""'Add connection' for an OAuth2 app in the module panel: the sign-in pop-up goes through the
provider's consent (the Xero sandbox approves at once), comes back to the callback, hands the
new connection to the editor and closes, and Test connection reaches the organisation; a failed
grant shows its reason in the panel."""

from __future__ import annotations

import pytest

from modules.sandboxing import run_sandbox_in_thread
from modules.xero import sandbox as xero_sandbox
from switchboard.cli import _demo_oauth_client
from tests.browser.conftest import shot
from tests.browser.helpers import api_session, create_scenario

BLUEPRINT = {
    "name": "Contacts to Xero",
    "flow": [
        {
            "id": 1,
            "module": "xero:CreateContact",
            "parameters": {},
            "mapper": {"Name": "Ada"},
            "metadata": {"designer": {"x": 0, "y": 0}},
        }
    ],
    "metadata": {"version": 1},
}


@pytest.fixture
def xero_client(monkeypatch):
    """The deployment's Xero OAuth client, pointed at a Xero sandbox."""
    url, stop = run_sandbox_in_thread(xero_sandbox.create_app({"fixture": "demo"}))
    for name, value in _demo_oauth_client("xero", url).items():
        monkeypatch.setenv(name, value)
    yield url
    stop()


def open_connection_form(page, server) -> None:
    scenario_id = create_scenario(page, server, BLUEPRINT)
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("module-1").click()
    panel = page.get_by_test_id("module-panel")
    panel.get_by_role("button", name="Add connection").click()
    panel.get_by_label("Connection name").fill("Books in Xero")


def test_oauth_pop_up_creates_and_selects_the_connection(signed_in, server, xero_client):
    page = signed_in
    open_connection_form(page, server)
    panel = page.get_by_test_id("module-panel")
    with page.expect_popup() as opened:
        panel.get_by_role("button", name="Sign in").click()
    popup = opened.value
    popup.wait_for_event("close")

    connection = panel.get_by_label("Connection", exact=True)
    page.wait_for_function(
        "() => document.querySelector(\"select[aria-label='Connection']\").value !== ''"
    )
    assert connection.locator("option:checked").inner_text() == "Books in Xero"
    panel.get_by_role("button", name="Test", exact=True).click()
    tested = panel.get_by_test_id("connection-test")
    tested.wait_for()
    assert tested.inner_text().startswith("Connection works")
    shot(page, "oauth-connection")

    stored = page.request.get(f"{server}/api/connections", headers=api_session(page, server))
    [made] = [c for c in stored.json() if c["name"] == "Books in Xero"]
    assert made["app"] == "xero" and made["data"]["tenant_id"]
    assert "access_token" not in stored.text() and "refresh_token" not in stored.text()


def test_a_failed_grant_shows_its_reason_in_the_panel(signed_in, server, xero_client, monkeypatch):
    page = signed_in
    # The provider approves, but the code exchange fails: the deployment's secret is wrong.
    monkeypatch.setenv("SWITCHBOARD_XERO_CLIENT_SECRET", "not-the-secret")
    open_connection_form(page, server)
    panel = page.get_by_test_id("module-panel")
    with page.expect_popup() as opened:
        panel.get_by_role("button", name="Sign in").click()
    opened.value.wait_for_event("close")

    error = panel.locator(".inline-error")
    error.wait_for()
    assert "invalid_client" in error.inner_text() or "client" in error.inner_text().lower()
    shot(page, "oauth-connection-failed")
    stored = page.request.get(f"{server}/api/connections", headers=api_session(page, server))
    assert all(c["name"] != "Books in Xero" for c in stored.json())
