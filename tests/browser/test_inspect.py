"""Run, watch and debug on the canvas: the inspector bubbles (typed bundle trees, search, copy,
errors and directives), a past execution opened read-only from the history, and Run once."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from tests.browser.conftest import shot
from tests.browser.helpers import api_session, create_scenario

ORDER = {
    "name": "Acme",
    "count": 3,
    "paid": True,
    "due": "2026-01-15T10:00:00Z",
    "lines": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1}],
    "address": {"city": "Prague", "zip": "110 00"},
}


def module(module_id: int, name: str, x: int, **mapper: Any) -> dict[str, Any]:
    return {"id": module_id, "module": name, "version": 1, "parameters": {}, "mapper": mapper,
            "metadata": {"designer": {"x": x, "y": 0}}}  # fmt: skip


def parse_blueprint(name: str = "Parse an order", text: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "flow": [
            module(1, "util:ComposeTransformer", 0, value=text or json.dumps(ORDER)),
            module(2, "json:ParseJSON", 300, json="{{1.value}}"),
            module(3, "util:ComposeTransformer", 600, value="{{2.name}} owes {{2.count}}"),
        ],
        "metadata": {"version": 1, "scenario": {"roundtrips": 1, "maxErrors": 3}},
    }


def run(page, base: str, scenario_id: int, bundle: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST /api/scenarios/{id}/run; with a bundle the run is synchronous, else followed here."""
    body = {"bundle": bundle} if bundle is not None else {}
    response = page.request.post(
        f"{base}/api/scenarios/{scenario_id}/run",
        data=json.dumps(body),
        headers={**api_session(page, base), "Content-Type": "application/json"},
    )
    assert response.ok, response.text()
    execution = response.json()
    for _ in range(100):
        if execution["status"] not in ("queued", "running"):
            return execution
        page.wait_for_timeout(100)
        execution = page.request.get(f"{base}/api/executions/{execution['id']}").json()
    raise AssertionError(f"the run did not end: {execution}")


def test_inspector_bubble_shows_typed_tree_search_and_copy(signed_in, server):
    page = signed_in
    scenario_id = create_scenario(page, server, parse_blueprint())
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("module-3").wait_for()
    page.get_by_role("button", name="Run once").click()
    page.get_by_role("status").filter(has_text="Run success").wait_for()

    # Each bubble shows the module's operation count.
    for module_id in (1, 2, 3):
        page.get_by_test_id(f"run-{module_id}").filter(has_text="1").wait_for()
    page.get_by_test_id("run-2").click()
    inspector = page.get_by_role("complementary", name="Last run of module 2")
    tree = inspector.get_by_role("list", name="Bundle 1")
    tree.wait_for()

    # Every type is shown distinctly.
    types = {row.get_attribute("data-type") for row in tree.locator("li.tree-node").all()}
    assert {"string", "number", "boolean", "date", "array", "collection"} <= types, types
    assert "Text" in tree.inner_text() and "Date" in tree.inner_text()
    assert inspector.get_by_role("list", name="Input").is_visible()

    # Collapse and expand the array of lines (nested collections open two levels deep).
    lines = tree.get_by_role("button", name="Collapse lines")
    lines.click()
    assert "A-1" not in tree.inner_text()
    tree.get_by_role("button", name="Expand lines").click()
    tree.get_by_role("button", name="Expand 1").click()
    assert "A-1" in tree.inner_text()

    # Search narrows the bundles to what matches.
    inspector.get_by_label("Search in bundles").fill("prague")
    inspector.locator("mark", has_text="Prague").first.wait_for()
    assert "Acme" not in tree.inner_text()
    shot(page, "inspect-bundle-tree-search")
    inspector.get_by_label("Search in bundles").fill("")

    # Copy a value and a collection as JSON.
    address = tree.locator("li[data-key='address'] > .tree-row")
    address.hover()
    address.get_by_title("Copy as JSON").click()
    inspector.get_by_text("Copied address as JSON").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert json.loads(copied) == ORDER["address"]
    name_row = tree.locator("li[data-key='name'] > .tree-row")
    name_row.hover()
    name_row.get_by_title("Copy value").click()
    assert page.evaluate("navigator.clipboard.readText()") == "Acme"
    shot(page, "inspect-bundle-tree")


def test_errors_and_directives_in_the_inspector(signed_in, server):
    page = signed_in
    blueprint = parse_blueprint("Broken JSON", text="{not json")
    blueprint["flow"][1]["onerror"] = [
        {"id": 4, "module": "builtin:Ignore", "version": 1, "mapper": None,
         "metadata": {"designer": {"x": 300, "y": 250}}}
    ]  # fmt: skip
    scenario_id = create_scenario(page, server, blueprint)
    execution = run(page, server, scenario_id)
    assert execution["status"] == "success", execution
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    bubble = page.get_by_test_id("run-2")
    bubble.locator(".bubble-error").wait_for()
    bubble.click()
    inspector = page.get_by_role("complementary", name="Last run of module 2")
    assert inspector.get_by_test_id("run-error").inner_text().strip()
    assert "ignore" in inspector.get_by_test_id("run-directive").inner_text().lower()
    shot(page, "inspect-error-directive")


def test_history_opens_a_past_execution_read_only(signed_in, server):
    page = signed_in
    scenario_id = create_scenario(page, server, parse_blueprint("Two runs"))
    first = run(page, server, scenario_id)
    # A second version: the first execution still shows what it ran.
    detail = page.request.get(f"{server}/api/scenarios/{scenario_id}").json()
    blueprint = detail["blueprint"]
    blueprint["flow"][0]["mapper"]["value"] = json.dumps({**ORDER, "name": "Globex"})
    blueprint["flow"][2]["metadata"]["designer"]["name"] = "Sentence v2"
    response = page.request.put(
        f"{server}/api/scenarios/{scenario_id}",
        data=json.dumps({"blueprint": blueprint}),
        headers={**api_session(page, server), "Content-Type": "application/json"},
    )
    assert response.ok, response.text()
    run(page, server, scenario_id)

    page.goto(f"{server}/#/history?scenario={scenario_id}")
    table = page.get_by_test_id("history-table")
    table.locator("tbody tr").nth(1).wait_for()
    assert table.locator("tbody tr").count() == 2
    page.get_by_test_id(f"execution-{first['id']}").click()
    banner = page.get_by_test_id("inspector-banner")
    banner.get_by_text("success").wait_for()
    assert "5 operation(s)" in banner.inner_text() or "operation(s)" in banner.inner_text()
    assert page.get_by_test_id("save").is_disabled()
    assert page.get_by_role("button", name="Run once").is_disabled()
    page.get_by_test_id("run-3").click()
    inspector = page.get_by_role("complementary", name="Execution of module 3")
    assert "Acme owes 3" in inspector.inner_text()
    assert "Globex" not in inspector.inner_text()
    # The canvas shows the blueprint version that execution ran, not the newest.
    assert "Sentence v2" not in page.get_by_test_id("module-3").inner_text()
    shot(page, "inspect-read-only-execution")

    # The live editor shows the newest run.
    banner.get_by_role("link", name="Open the editor").click()
    page.get_by_test_id("inspector-banner").wait_for(state="detached")
    page.get_by_test_id("run-3").click()
    assert (
        "Globex owes 3"
        in page.get_by_role("complementary", name="Last run of module 3").inner_text()
    )
    assert "Sentence v2" in page.get_by_test_id("module-3").inner_text()


def test_run_once_lights_modules_and_ends_with_bubbles(signed_in, server):
    page = signed_in
    blueprint = parse_blueprint("Slow run")
    blueprint["flow"].insert(
        1, {**module(5, "util:FunctionSleep", 150, duration="1"), "mapper": {"duration": "1"}}
    )
    scenario_id = create_scenario(page, server, blueprint)
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("module-3").wait_for()
    page.get_by_role("button", name="Run once").click()
    page.get_by_role("button", name="Running…").wait_for()
    # The run's events light the modules up as they run (the Sleep module takes a second).
    page.locator(".module-node.live-running[data-testid='module-5']").wait_for()
    page.get_by_test_id("live-5").wait_for()
    # The Parse JSON module after it has not run yet; the trigger ran once.
    assert page.get_by_test_id("live-2").count() == 0
    page.locator(".module-node.live-done[data-testid='module-1']").wait_for()
    shot(page, "inspect-run-once-running")
    page.get_by_role("status").filter(has_text="Run success").wait_for(timeout=20_000)
    page.get_by_role("button", name="Run once").wait_for()
    page.get_by_test_id("run-3").filter(has_text="1").wait_for()
    assert page.locator(".module-node.live-running").count() == 0


def test_webhook_scenario_shows_its_address_while_waiting(signed_in, server):
    page = signed_in
    headers = {**api_session(page, server), "Content-Type": "application/json"}
    blueprint = {
        "name": "Hook",
        "flow": [
            {"id": 1, "module": "gateway:CustomWebHook", "version": 1, "parameters": {},
             "mapper": {}, "metadata": {"designer": {"x": 0, "y": 0}}},
        ],
        "metadata": {"version": 1, "instant": True},
    }  # fmt: skip
    scenario_id = create_scenario(page, server, blueprint)
    hook = page.request.post(
        f"{server}/api/webhooks",
        data=json.dumps({"name": "Orders in", "scenario_id": scenario_id}),
        headers=headers,
    ).json()
    blueprint["flow"][0]["parameters"] = {"hook": hook["id"], "maxResults": 1}
    response = page.request.put(
        f"{server}/api/scenarios/{scenario_id}",
        data=json.dumps({"blueprint": blueprint}),
        headers=headers,
    )
    assert response.ok, response.text()
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("module-1").wait_for()
    page.get_by_role("button", name="Run once").click()
    waiting = page.get_by_test_id("waiting")
    waiting.wait_for()
    assert hook["url"] in waiting.inner_text()
    assert "Waiting for the next request" in waiting.inner_text()
    shot(page, "inspect-webhook-waiting")
    # The scenario is inactive: the request waits in the queue, and Run once takes it from there.
    sent = urllib.request.urlopen(
        urllib.request.Request(
            hook["url"],
            data=json.dumps({"order": 7, "customer": "Acme"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        ),
        timeout=10,
    )
    assert sent.status < 300
    page.get_by_role("status").filter(has_text="Run success").wait_for(timeout=30_000)
    waiting.wait_for(state="detached")
    page.get_by_test_id("run-1").filter(has_text="1").wait_for()
    page.get_by_test_id("run-1").click()
    inspector = page.get_by_role("complementary", name="Last run of module 1")
    bundle = inspector.get_by_role("list", name="Bundle 1")
    assert "Acme" in bundle.inner_text() and "7" in bundle.inner_text()
    # The request was run, not left in the queue to run again.
    assert page.request.get(f"{server}/api/webhooks/{hook['id']}/queue").json() == []


def test_bundles_beyond_the_stored_limit_are_counted(signed_in, server):
    page = signed_in
    items = [{"n": n} for n in range(130)]
    blueprint = {
        "name": "Many bundles",
        "flow": [
            module(1, "util:ComposeTransformer", 0, value=json.dumps(items)),
            module(2, "json:ParseJSON", 300, json="{{1.value}}"),
            module(3, "util:ComposeTransformer", 600, value="item {{2.n}}"),
        ],
        "metadata": {"version": 1, "scenario": {"roundtrips": 1, "maxErrors": 3}},
    }
    scenario_id = create_scenario(page, server, blueprint)
    execution = run(page, server, scenario_id)
    assert execution["status"] == "success", execution
    record = page.request.get(f"{server}/api/executions/{execution['id']}").json()["record"]
    by_id = {m["id"]: m for m in record["modules"]}
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("run-3").wait_for()
    stored = len(by_id[3]["calls"])
    assert by_id[3]["calls_omitted"] == 130 - stored > 0
    page.get_by_test_id("run-3").click()
    inspector = page.get_by_role("complementary", name="Last run of module 3")
    omitted = inspector.get_by_test_id("calls-omitted")
    assert f"{130 - stored} more operation(s) not stored" in omitted.inner_text()
    assert inspector.locator("[data-testid^='run-call-']").count() == stored
    call = by_id[2]["calls"][0]
    if call.get("output_count", 0) > len(call["output"]):
        page.get_by_test_id("run-2").click()
        inspector = page.get_by_role("complementary", name="Last run of module 2")
        hidden = call["output_count"] - len(call["output"])
        assert f"{hidden} more bundle(s) output, not stored" in inspector.inner_text()
    # Long text is cut, with a button to show all of it; bundles after the fifth start closed.
    page.get_by_test_id("run-2").click()
    inspector = page.get_by_role("complementary", name="Last run of module 2")
    call_input = inspector.get_by_role("list", name="Input")
    assert '{"n": 129}' not in call_input.inner_text()
    call_input.get_by_role("button", name="show all").click()
    assert '{"n": 129}' in call_input.inner_text()
    assert inspector.get_by_role("button", name="Collapse Bundle 5", exact=True).is_visible()
    assert inspector.get_by_role("button", name="Expand Bundle 6", exact=True).is_visible()
    shot(page, "inspect-omitted")
