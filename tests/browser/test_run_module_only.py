"""'Run this module only' in the module panel: one operation with sample bundles, its output
(or its error) shown in place."""

from __future__ import annotations

import json

from tests.browser.conftest import shot
from tests.browser.helpers import api_session, create_scenario

BLUEPRINT = {
    "name": "Compose a greeting",
    "flow": [
        {
            "id": 1,
            "module": "gateway:CustomWebHook",
            "parameters": {"hook": 1},
            "metadata": {"designer": {"x": 0, "y": 0}},
        },
        {
            "id": 2,
            "module": "util:ComposeTransformer",
            "mapper": {"value": "Hi {{upper(1.name)}}"},
            "metadata": {"designer": {"x": 300, "y": 0}},
        },
        {
            "id": 3,
            "module": "json:ParseJSON",
            "mapper": {"json": "{{1.raw}}"},
            "metadata": {"designer": {"x": 600, "y": 0}},
        },
    ],
    "metadata": {"version": 1},
}


def run_only(page, module_id, bundles):
    page.get_by_test_id(f"module-{module_id}").click()
    section = page.get_by_test_id("run-module-only")
    section.locator("summary").click()
    section.get_by_label("Sample bundles").fill(bundles)
    section.get_by_role("button", name="Run this module only").click()
    return section.get_by_test_id("run-module-result")


def test_run_this_module_only_shows_its_output_and_its_error(signed_in, server):
    page = signed_in
    scenario_id = create_scenario(page, server, BLUEPRINT)
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("module-2").wait_for()

    result = run_only(page, 2, '{"1": {"name": "ada"}}')
    result.wait_for()
    assert result.inner_text().startswith("success: 1 operation(s)")
    assert '"value": "Hi ADA"' in result.inner_text()
    shot(page, "run-module-only")

    page.get_by_role("button", name="Close").click()
    result = run_only(page, 3, '{"1": {"raw": "{broken"}}')
    result.wait_for()
    assert "error: 1 operation(s) — DataError" in result.inner_text()


def test_run_this_module_only_from_the_menu_starts_from_the_last_run(signed_in, server):
    page = signed_in
    scenario_id = create_scenario(page, server, BLUEPRINT)
    headers = {**api_session(page, server), "Content-Type": "application/json"}
    run = page.request.post(
        f"{server}/api/scenarios/{scenario_id}/run",
        data={"bundle": {"name": "grace", "raw": "[1]"}},
        headers=headers,
    )
    assert run.ok, run.text()
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("run-2").wait_for()

    # A trigger runs with "Run once": its menu does not offer to run it alone.
    page.get_by_test_id("module-1").click(button="right")
    menu = page.get_by_role("menu")
    menu.get_by_role("menuitem", name="Settings").wait_for()
    assert menu.get_by_role("menuitem", name="Run this module only").count() == 0
    page.keyboard.press("Escape")

    page.get_by_test_id("module-2").click(button="right")
    page.get_by_role("menuitem", name="Run this module only").click()
    section = page.get_by_test_id("run-module-only")
    sample = section.get_by_label("Sample bundles")
    sample.wait_for()  # open at once, pre-filled with what module 1 output in the last run
    assert json.loads(sample.input_value()) == {"1": {"name": "grace", "raw": "[1]"}}
    assert "from the last run" in section.inner_text()
    section.get_by_role("button", name="Run this module only").click()
    result = section.get_by_test_id("run-module-result")
    result.wait_for()
    assert '"value": "Hi GRACE"' in result.inner_text()
    shot(page, "run-module-only-menu")
