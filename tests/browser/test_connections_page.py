"""The Connections page: add a basic-auth connection (1CRM, against its sandbox) and an OAuth2
one (Xero, sign-in pop-up against its sandbox), test each, sign in again, delete; a viewer only
reads the list."""

from __future__ import annotations

import pytest

from modules.onecrm import sandbox as onecrm_sandbox
from modules.sandboxing import run_sandbox_in_thread
from modules.xero import sandbox as xero_sandbox
from switchboard.cli import _demo_oauth_client
from tests.browser.conftest import shot
from tests.browser.helpers import api_session, save_1crm_connection


@pytest.fixture
def sandboxes(monkeypatch):
    onecrm_url, stop_onecrm = run_sandbox_in_thread(onecrm_sandbox.create_app({"fixture": "demo"}))
    xero_url, stop_xero = run_sandbox_in_thread(xero_sandbox.create_app({"fixture": "demo"}))
    for name, value in _demo_oauth_client("xero", xero_url).items():
        monkeypatch.setenv(name, value)
    yield onecrm_url, xero_url
    stop_xero()
    stop_onecrm()


def stored(page, server):
    listed = page.request.get(f"{server}/api/connections", headers=api_session(page, server))
    return {c["name"]: c for c in listed.json()}


def test_add_test_reauthorize_and_delete_connections(signed_in, server, sandboxes):
    page = signed_in
    onecrm_url, _ = sandboxes
    page.get_by_role("link", name="Connections").click()
    page.get_by_role("heading", name="Connections").wait_for()

    page.get_by_label("New connection for").select_option(label="1CRM")
    form = page.get_by_test_id("new-connection")
    save_1crm_connection(form, "Our CRM", onecrm_url, "sandbox-password")
    crm = page.get_by_role("row").filter(has_text="Our CRM")
    crm.wait_for()

    page.get_by_label("New connection for").select_option(label="Xero")
    form.get_by_label("Connection name").fill("Our books")
    with page.expect_popup() as opened:
        form.get_by_role("button", name="Sign in").click()
    opened.value.wait_for_event("close")
    books = page.get_by_role("row").filter(has_text="Our books")
    books.wait_for()

    for row in (crm, books):
        row.get_by_role("button", name="Test").click()
        row.get_by_test_id("connection-test").wait_for()
        assert row.get_by_test_id("connection-test").inner_text().startswith("Connection works")
    shot(page, "connections-page")

    before = stored(page, server)["Our books"]
    with page.expect_popup() as opened:
        books.get_by_role("button", name="Sign in again").click()
    opened.value.wait_for_event("close")
    books.get_by_text("signed in again").wait_for()
    after = stored(page, server)
    assert after["Our books"]["id"] == before["id"] and len(after) == 2

    page.once("dialog", lambda dialog: dialog.accept())
    crm.get_by_role("button", name="Delete").click()
    crm.wait_for(state="detached")
    assert set(stored(page, server)) == {"Our books"}
