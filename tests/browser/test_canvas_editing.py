"""Editing on the canvas: copy/paste, delete, undo/redo, notes, dragging, validation problems on
the module, scenario settings and scheduling; all of it lands in the blueprint."""

from __future__ import annotations

from tests.browser.conftest import shot
from tests.browser.helpers import create_scenario, save, walk

BLUEPRINT = {
    "name": "Greeting",
    "flow": [
        {
            "id": 1,
            "module": "gateway:CustomWebHook",
            "version": 1,
            "parameters": {},
            "metadata": {"designer": {"x": 0, "y": 0}},
        },
        {
            "id": 2,
            "module": "util:ComposeTransformer",
            "version": 1,
            "parameters": {},
            "mapper": {"value": "Hello {{1.name}}"},
            "metadata": {"designer": {"x": 300, "y": 0}},
        },
        {
            "id": 3,
            "module": "util:SetVariable2",
            "version": 1,
            "parameters": {},
            "mapper": {"name": "greeting", "scope": "roundtrip", "value": "{{2.value}}"},
            "metadata": {"designer": {"x": 600, "y": 0}},
        },
    ],
    "metadata": {"version": 1, "instant": True, "scenario": {"roundtrips": 1, "maxErrors": 3}},
}


def saved(page, server, scenario_id):
    save(page)
    return page.request.get(f"{server}/api/scenarios/{scenario_id}").json()


def test_copy_paste_delete_undo_notes_drag(signed_in, server):
    page = signed_in
    scenario_id = create_scenario(page, server, BLUEPRINT)
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("module-3").wait_for()

    # Copy module 2, select module 3, paste: a copy with a new id goes after 3.
    page.get_by_test_id("module-2").click()
    page.get_by_role("button", name="OK", exact=True).click()
    page.get_by_test_id("module-2").click()
    page.keyboard.press("Escape")
    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    page.get_by_test_id("module-2").click(button="right")
    page.get_by_role("menuitem", name="Copy module").click()
    page.get_by_test_id("module-3").click(button="right")
    page.get_by_role("menuitem", name="Paste after").click()
    page.get_by_test_id("module-4").wait_for()

    # Delete it, undo, redo.
    page.get_by_test_id("module-4").click(button="right")
    page.get_by_role("menuitem", name="Delete module").click()
    page.get_by_test_id("module-4").wait_for(state="detached")
    page.get_by_role("button", name="Undo").click()
    page.get_by_test_id("module-4").wait_for()
    page.get_by_role("button", name="Redo").click()
    page.get_by_test_id("module-4").wait_for(state="detached")
    page.get_by_role("button", name="Undo").click()
    page.get_by_test_id("module-4").wait_for()

    # A note on module 2.
    page.get_by_test_id("module-2").click(button="right")
    page.get_by_role("menuitem", name="Add a note").click()
    page.get_by_label("Note").fill("Builds the greeting")
    page.get_by_role("button", name="OK", exact=True).click()
    page.get_by_test_id("module-2").locator(".note-mark").wait_for()

    # Drag module 3 down by 150 px (at zoom 1 after a reset of the view).
    box = page.get_by_test_id("module-3").locator(".module-circle").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2 + 150, steps=10)
    page.mouse.up()

    detail = saved(page, server, scenario_id)
    blueprint = detail["blueprint"]
    modules = {m["id"]: m for m in walk(blueprint["flow"])}
    assert [m["id"] for m in blueprint["flow"]] == [1, 2, 3, 4]
    assert modules[4]["module"] == "util:ComposeTransformer"
    assert modules[4]["mapper"] == {"value": "Hello {{1.name}}"}
    assert modules[3]["metadata"]["designer"]["y"] > 50
    assert (
        modules[3]["metadata"]["designer"]["x"] == 600
        or abs(modules[3]["metadata"]["designer"]["x"] - 600) < 5
    )
    notes = blueprint["metadata"]["notes"]
    assert notes == [
        {
            "moduleIds": [2],
            "content": "Builds the greeting",
            "isFilterNote": False,
            "metadata": {"color": "#9138FE"},
        }
    ]


def test_validation_problems_and_settings(signed_in, server):
    page = signed_in
    scenario_id = create_scenario(page, server, BLUEPRINT)
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("module-3").click()
    value = page.get_by_test_id("field-mapper.value")
    value.fill("{{9.value}}")

    # Validate: the problem is shown on the module and in the problems bar.
    page.get_by_role("button", name="Validate").click()
    page.get_by_test_id("module-3").locator(".problem-mark").wait_for()
    assert "module 9" in page.get_by_test_id("problems").inner_text()
    page.get_by_test_id("module-problem").first.wait_for()
    # Saving is refused with the same problems.
    page.get_by_test_id("save").click()
    page.get_by_role("status").filter(has_text="Not saved").wait_for()
    shot(page, "validation")
    value.fill("{{2.value}}")

    page.get_by_role("button", name="Settings").click()
    settings = page.get_by_role("complementary", name="Scenario settings")
    settings.get_by_label("Run scenario").select_option("daily")
    settings.get_by_label("Time", exact=True).fill("08:30")
    settings.get_by_label("Sequential processing").check()
    settings.get_by_label("Allow storing of incomplete executions").check()
    settings.get_by_label("Max number of cycles").fill("2")
    settings.get_by_label("Number of consecutive errors").fill("5")
    settings.get_by_label("Time zone").fill("Europe/Prague")
    shot(page, "settings")
    settings.get_by_role("button", name="OK", exact=True).click()

    detail = saved(page, server, scenario_id)
    assert {k: detail["scheduling"][k] for k in ("type", "time")} == {
        "type": "daily",
        "time": "08:30",
    }
    scenario = detail["blueprint"]["metadata"]["scenario"]
    assert scenario == {
        "roundtrips": 2,
        "maxErrors": 5,
        "sequential": True,
        "dlq": True,
        "timezone": "Europe/Prague",
    }
    assert detail["validation"]["problems"] == []
    page.get_by_test_id("module-3").locator(".problem-mark").wait_for(state="detached")


def test_run_once_shows_the_run_on_the_modules(signed_in, server):
    page = signed_in
    blueprint = {
        "name": "Run me",
        "flow": [
            {"id": 1, "module": "util:ComposeTransformer", "version": 1, "parameters": {},
             "mapper": {"value": "Hello"}, "metadata": {"designer": {"x": 0, "y": 0}}},
            {"id": 2, "module": "util:ComposeTransformer", "version": 1, "parameters": {},
             "mapper": {"value": "{{1.value}}, world"},
             "metadata": {"designer": {"x": 300, "y": 0}}},
        ],
        "metadata": {"version": 1},
    }  # fmt: skip
    scenario_id = create_scenario(page, server, blueprint)
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("module-2").wait_for()
    page.get_by_role("button", name="Run once").click()
    page.get_by_role("status").filter(has_text="Run success").wait_for()
    page.get_by_test_id("run-2").filter(has_text="1").wait_for()
    page.get_by_test_id("run-2").click()
    inspector = page.get_by_role("complementary", name="Last run of module 2")
    assert "Hello, world" in inspector.get_by_test_id("run-call-0").inner_text()
