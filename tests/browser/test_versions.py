"""Versions in the editor: edit and save, open Versions, restore version 1 — the canvas shows
the old modules again and the server keeps every version (the restore is a new one)."""

from __future__ import annotations

from tests.browser.conftest import EMAIL, shot
from tests.browser.helpers import create_scenario, save
from tests.browser.test_canvas_editing import BLUEPRINT


def delete_module(page, module_id: int) -> None:
    page.get_by_test_id(f"module-{module_id}").click(button="right")
    page.get_by_role("menuitem", name="Delete module").click()
    page.get_by_test_id(f"module-{module_id}").wait_for(state="detached")


def test_restore_version_one(signed_in, server):
    page = signed_in
    scenario_id = create_scenario(page, server, BLUEPRINT)
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("module-3").wait_for()

    delete_module(page, 3)
    delete_module(page, 2)
    save(page)

    page.get_by_role("button", name="Versions").click()
    dialog = page.get_by_role("dialog", name="Versions")
    dialog.get_by_test_id("version-2").filter(has_text="(current)").wait_for()
    # Who saved each: the owner, through the web app.
    assert EMAIL in dialog.get_by_test_id("version-2").inner_text()
    assert dialog.get_by_test_id("version-2").get_by_role("button", name="Restore").count() == 0
    shot(page, "versions-dialog")
    questions: list[str] = []

    def accept(confirm) -> None:
        questions.append(confirm.message)
        confirm.accept()

    page.once("dialog", accept)
    dialog.get_by_test_id("version-1").get_by_role("button", name="Restore").click()
    dialog.wait_for(state="detached")
    assert questions and "Restore version 1?" in questions[0]

    for module_id in (1, 2, 3):
        page.get_by_test_id(f"module-{module_id}").wait_for()
    page.get_by_role("status").filter(has_text="Restored as version 3").wait_for()
    assert "•" not in page.get_by_test_id("save").inner_text()  # nothing left unsaved
    shot(page, "versions-restored")

    detail = page.request.get(f"{server}/api/scenarios/{scenario_id}").json()
    assert detail["current_version"] == 3
    assert [m["module"] for m in detail["blueprint"]["flow"]] == [
        m["module"] for m in BLUEPRINT["flow"]
    ]
    versions = page.request.get(f"{server}/api/scenarios/{scenario_id}/versions").json()
    assert [v["version"] for v in versions] == [3, 2, 1]
