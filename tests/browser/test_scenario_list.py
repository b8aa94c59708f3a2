"""First start, sign out and in, and the scenario list: create, rename, duplicate, activate,
import, export, delete."""

from __future__ import annotations

import json

from tests.browser.conftest import EMAIL, PASSWORD, shot
from tests.browser.helpers import save


def row(page, name):
    return page.locator("table.scenarios tbody tr").filter(
        has=page.get_by_role("link", name=name, exact=True)
    )


def test_first_start_sign_out_and_in(page, server):
    page.goto(server + "/")
    page.get_by_text("Create the owner account").wait_for()
    shot(page, "first-start")
    page.get_by_label("Name").fill("Olga")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Scenarios").wait_for()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    page.locator(".inline-error").wait_for()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Scenarios").wait_for()
    assert "Olga" in page.locator(".topbar").inner_text()


def test_scenario_list_actions(signed_in, server, tmp_path):
    page = signed_in
    page.get_by_text("No scenario yet").wait_for()

    # Create: opens the editor on an empty canvas; the scenario is stored once saved.
    page.get_by_role("button", name="Create a new scenario").click()
    page.get_by_test_id("add-first").wait_for()
    page.get_by_label("Scenario name").fill("New scenario ")
    page.get_by_label("Scenario name").fill("New scenario")
    save(page)
    page.get_by_role("button", name="Back to scenarios").click()
    row(page, "New scenario").wait_for()

    # Rename.
    row(page, "New scenario").get_by_role("button", name="Rename").click()
    page.get_by_label("New name").fill("Invoices")
    page.get_by_label("New name").press("Enter")
    row(page, "Invoices").wait_for()

    # Duplicate.
    row(page, "Invoices").get_by_role("button", name="Duplicate").click()
    row(page, "Invoices (copy)").wait_for()

    # Activate with the switch.
    switch = row(page, "Invoices").get_by_label("Active Invoices")
    assert not switch.is_checked()
    row(page, "Invoices").locator(".switch").click()
    page.wait_for_function(
        "() => document.querySelector(\"input[aria-label='Active Invoices']\").checked"
    )
    assert "Every 15 min" in row(page, "Invoices").inner_text()

    # Import a blueprint file: opens it in the editor.
    blueprint = {
        "name": "Imported hook",
        "flow": [
            {
                "id": 1,
                "module": "gateway:CustomWebHook",
                "version": 1,
                "parameters": {},
                "metadata": {"designer": {"x": 0, "y": 0}},
            }
        ],
        "metadata": {"version": 1, "instant": True},
    }
    path = tmp_path / "imported.blueprint.json"
    path.write_text(json.dumps(blueprint))
    page.get_by_test_id("import-file").set_input_files(str(path))
    page.get_by_test_id("module-1").wait_for()
    page.get_by_role("button", name="Back to scenarios").click()
    row(page, "Imported hook").wait_for()
    shot(page, "scenario-list")

    # Export downloads the blueprint file.
    with page.expect_download() as download:
        row(page, "Imported hook").get_by_role("link", name="Export").click()
    exported = json.loads(download.value.path().read_text(encoding="utf-8-sig"))
    assert exported["flow"][0]["module"] == "gateway:CustomWebHook"

    # Delete (after confirming).
    page.once("dialog", lambda dialog: dialog.accept())
    row(page, "Invoices (copy)").get_by_role("button", name="Delete").click()
    row(page, "Invoices (copy)").wait_for(state="detached")
    names = page.locator("table.scenarios .scenario-name-link").all_inner_texts()
    assert sorted(names) == ["Imported hook", "Invoices"]
