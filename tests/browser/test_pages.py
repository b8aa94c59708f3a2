"""The pages around the canvas, against the real app with real runs: execution history (filters,
keyset paging), incomplete executions (inspect, edit and retry, resolve, delete, bulk retry),
the sync log, a webhook's queue and the dashboard."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from tests.browser.conftest import shot
from tests.browser.helpers import api_session, create_scenario
from tests.browser.test_inspect import module, run


def headers(page, base: str) -> dict[str, str]:
    return {**api_session(page, base), "Content-Type": "application/json"}


def sync_blueprint(name: str, **scenario: Any) -> dict[str, Any]:
    """A trigger whose bundle the test gives, a filter "Is OK", then Parse JSON of its ``json``."""
    parse = module(2, "json:ParseJSON", 300, json="{{1.json}}")
    parse["filter"] = {
        "name": "Is OK",
        "conditions": [[{"a": "{{1.ok}}", "o": "text:equal", "b": "yes"}]],
    }
    return {
        "name": name,
        "flow": [module(1, "util:ComposeTransformer", 0, value="trigger"), parse],
        "metadata": {"version": 1, "scenario": {"roundtrips": 1, "maxErrors": 3, **scenario}},
    }


def test_history_filters_and_keyset_paging(signed_in, server):
    page = signed_in
    busy = create_scenario(page, server, sync_blueprint("Busy"))
    other = create_scenario(page, server, sync_blueprint("Other"))
    for n in range(21):
        run(page, server, busy, {"id": f"R{n}", "ok": "yes", "json": json.dumps({"n": n})})
    failed = run(page, server, busy, {"id": "BAD", "ok": "yes", "json": "{broken"})
    assert failed["status"] == "error", failed
    run(page, server, other, {"id": "O1", "ok": "no"})

    page.locator(".topbar").get_by_role("link", name="History").click()
    page.get_by_role("heading", name="Execution history").wait_for()
    table = page.get_by_test_id("history-table")
    rows = table.locator("tbody tr")
    rows.nth(19).wait_for()
    assert rows.count() == 20  # a page
    header = table.locator("thead").inner_text()
    for column in (
        "Status",
        "Scenario",
        "Started",
        "Duration",
        "Operations",
        "Data size",
        "Trigger",
    ):
        assert column.upper() in header.upper()
    assert "Other" in rows.first.inner_text()  # newest first, across scenarios
    shot(page, "pages-history")

    # Keyset paging: Older, then Newer.
    page.get_by_role("button", name="Older →").click()
    page.get_by_text("Page 2").wait_for()
    page.wait_for_function(
        "() => document.querySelectorAll(\"[data-testid='history-table'] tbody tr\").length === 3"
    )
    assert page.get_by_role("button", name="Older →").is_disabled()
    page.get_by_role("button", name="← Newer").click()
    page.get_by_text("Page 1").wait_for()
    rows.nth(19).wait_for()

    # Filters: scenario and status.
    page.get_by_label("Scenario").select_option(label="Busy")
    page.get_by_role("heading", name="History of Busy").wait_for()
    page.get_by_label("Status").select_option("error")
    page.wait_for_function(
        "() => document.querySelectorAll(\"[data-testid='history-table'] tbody tr\").length === 1"
    )
    assert "error" in rows.first.inner_text()
    page.get_by_label("Trigger").select_option("webhook")
    page.get_by_text("No execution matches.").wait_for()
    page.get_by_label("Trigger").select_option("manual")
    rows.first.filter(has_text="error").wait_for()
    # A date range that excludes today finds nothing; today finds the run again.
    page.get_by_label("To").fill("2020-01-01")
    page.get_by_text("No execution matches.").wait_for()
    page.get_by_role("button", name="Clear filters").click()
    rows.nth(19).wait_for()
    page.get_by_label("Status").select_option("error")
    rows.first.filter(has_text="error").wait_for()
    shot(page, "pages-history-filtered")

    # A row opens the execution on the canvas in the read-only inspector.
    page.get_by_test_id(f"execution-{failed['id']}").click()
    banner = page.get_by_test_id("inspector-banner")
    banner.get_by_text("error", exact=True).wait_for()
    page.get_by_test_id("run-2").locator(".bubble-error").wait_for()
    page.get_by_test_id("run-2").click()
    inspector = page.get_by_role("complementary", name="Execution of module 2")
    assert inspector.get_by_test_id("run-error").is_visible()
    assert "broken" in inspector.inner_text()


def test_incomplete_executions_inspect_edit_retry_resolve_delete(signed_in, server):
    page = signed_in
    scenario_id = create_scenario(page, server, sync_blueprint("Stores incompletes", dlq=True))
    for n in range(4):
        execution = run(page, server, scenario_id, {"id": f"I{n}", "ok": "yes", "json": "{bad"})
        assert execution["status"] == "incomplete", execution
    found = page.request.get(f"{server}/api/incomplete?scenario_id={scenario_id}").json()
    ids = [item["id"] for item in found]
    assert len(ids) == 4

    page.locator(".topbar").get_by_role("link", name="Incomplete").click()
    page.get_by_role("heading", name="Incomplete executions").wait_for()
    table = page.get_by_test_id("incomplete-table")
    table.locator("tbody tr").nth(3).wait_for()

    # Inspect the first: its error and stored bundles.
    page.get_by_test_id(f"incomplete-{ids[0]}").get_by_role("button", name="Inspect").click()
    detail = page.get_by_role("complementary", name=f"Incomplete execution {ids[0]}")
    detail.get_by_test_id("incomplete-error").wait_for()
    detail.get_by_role("list", name="Bundles").wait_for()
    assert "{bad" in detail.inner_text()
    shot(page, "pages-incomplete")

    # Edit the stored bundle and retry now: the retry succeeds.
    detail.get_by_role("button", name="Edit bundles").click()
    editor = detail.get_by_label("Stored bundles JSON")
    bundles = json.loads(editor.input_value())
    assert bundles["1"]["json"] == "{bad", bundles
    bundles["1"]["json"] = json.dumps({"fixed": True})
    editor.fill("{ not json")
    detail.locator(".inline-error").wait_for()
    assert detail.get_by_role("button", name="Save and retry now").is_disabled()
    editor.fill(json.dumps(bundles, indent=2))
    shot(page, "pages-incomplete-edit")
    detail.get_by_role("button", name="Save and retry now").click()
    page.get_by_role("status").filter(has_text="Saved and retrying").wait_for()
    stored = page.request.get(f"{server}/api/incomplete/{ids[0]}").json()
    assert stored["state"]["bundles"]["1"]["json"] == json.dumps({"fixed": True})
    for _ in range(100):
        if page.request.get(f"{server}/api/incomplete/{ids[0]}").json()["status"] == "resolved":
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the edited incomplete execution did not resolve on retry")
    newest = page.request.get(f"{server}/api/executions?scenario_id={scenario_id}&limit=1").json()
    assert newest["items"][0]["status"] == "success", newest

    # Resolve one, delete one.
    page.get_by_test_id(f"incomplete-{ids[1]}").get_by_role("button", name="Resolve").click()
    page.get_by_role("status").filter(has_text=f"Resolved incomplete execution {ids[1]}").wait_for()
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id(f"incomplete-{ids[2]}").get_by_role("button", name="Delete").click()
    page.get_by_test_id(f"incomplete-{ids[2]}").wait_for(state="detached")

    # Bulk retry what is left (still broken: it stays incomplete, with one more attempt).
    page.get_by_label(f"Select {ids[3]}").check()
    page.get_by_role("button", name="Retry selected (1)").click()
    page.get_by_role("status").filter(has_text="Retrying 1").wait_for()
    for _ in range(100):
        item = page.request.get(f"{server}/api/incomplete/{ids[3]}").json()
        if item["attempts"] >= 1 and item["status"] != "retrying":
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError(f"the bulk retry did not run: {item}")
    page.reload()
    table.locator("tbody tr").nth(2).wait_for()
    shot(page, "pages-incomplete-after")


def test_sync_log_statuses_and_filter(signed_in, server):
    page = signed_in
    scenario_id = create_scenario(page, server, sync_blueprint("Accounts to ledger"))
    run(page, server, scenario_id, {"id": "A1", "name": "Acme", "ok": "no"})
    run(page, server, scenario_id, {"id": "B2", "name": "Beta", "ok": "yes", "json": "{bad"})
    run(page, server, scenario_id, {"id": "C3", "name": "Gamma", "ok": "yes", "json": "{}"})

    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_role("link", name="Sync log").click()
    page.get_by_role("heading", name="Sync log · Accounts to ledger").wait_for()
    table = page.get_by_test_id("sync-log-table")
    table.locator("tbody tr").nth(2).wait_for()
    by_key = {
        row.locator("td").nth(2).inner_text(): row.get_attribute("data-status")
        for row in table.locator("tbody tr").all()
    }
    assert by_key == {"A1": "Not Valid", "B2": "Error", "C3": "Not Synced"}, by_key
    # The filter's label and the condition that failed, with the value it compared.
    invalid = table.locator("tr[data-status='Not Valid']").inner_text()
    assert 'stopped by Is OK: {{1.ok}} equal to yes (it was "no")' in invalid
    assert (
        "it reached no module that writes"
        in table.locator("tr[data-status='Not Synced']").inner_text()
    )
    shot(page, "pages-sync-log")

    page.get_by_role("tab", name="Error 1", exact=True).click()
    page.wait_for_function(
        "() => document.querySelectorAll(\"[data-testid='sync-log-table'] tbody tr\").length === 1"
    )
    assert "Beta" in table.inner_text()
    page.get_by_role("tab", name="Synced 0", exact=True).click()
    page.get_by_text("No record is Synced.").wait_for()
    page.get_by_role("tab", name="All 3", exact=True).click()
    table.locator("tbody tr").nth(2).wait_for()
    # The row links to the execution it came from.
    table.locator("tr[data-status='Error']").get_by_role("link", name="Execution").click()
    page.get_by_test_id("inspector-banner").get_by_text("error", exact=True).wait_for()


def test_webhook_queue_inspect_delete_process(signed_in, server):
    page = signed_in
    h = headers(page, server)
    blueprint = {
        "name": "Queued orders",
        "flow": [
            {"id": 1, "module": "gateway:CustomWebHook", "version": 1, "parameters": {},
             "mapper": {}, "metadata": {"designer": {"x": 0, "y": 0}}},
            module(2, "util:ComposeTransformer", 300, value="order {{1.order}}"),
        ],
        "metadata": {"version": 1, "instant": True},
    }  # fmt: skip
    scenario_id = create_scenario(page, server, blueprint)
    hook = page.request.post(
        f"{server}/api/webhooks",
        data=json.dumps({"name": "Orders in", "scenario_id": scenario_id}),
        headers=h,
    ).json()
    blueprint["flow"][0]["parameters"] = {"hook": hook["id"], "maxResults": 1}
    response = page.request.put(
        f"{server}/api/scenarios/{scenario_id}",
        data=json.dumps({"blueprint": blueprint, "scheduling": {"type": "immediately"}}),
        headers=h,
    )
    assert response.ok, response.text()
    # The scenario is inactive: the requests wait in the queue.
    for order in (1, 2, 3):  # from outside the browser: no session cookie in the stored request
        sent = urllib.request.urlopen(
            urllib.request.Request(
                hook["url"],
                data=json.dumps({"order": order}).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            ),
            timeout=10,
        )
        assert sent.status < 300, sent.read()

    page.locator(".topbar").get_by_role("link", name="Webhooks").click()
    page.get_by_test_id(f"webhook-{hook['id']}").get_by_role(
        "link", name="Queue", exact=True
    ).click()
    page.get_by_role("heading", name="Queue of Orders in").wait_for()
    table = page.get_by_test_id("queue-table")
    table.locator("tbody tr").nth(2).wait_for()
    assert hook["url"] in page.locator(".webhook-url").inner_text()

    # Inspect the first stored request.
    first = table.locator("tbody tr").first
    first.get_by_role("button", name="Inspect").click()
    request = page.locator("aside.side-panel")
    request.get_by_role("list", name="Request").wait_for()
    assert "order" in request.inner_text()
    shot(page, "pages-webhook-queue")

    # Delete one; process the rest once the scenario is active.
    first.get_by_role("button", name="Delete").click()
    page.wait_for_function(
        "() => document.querySelectorAll(\"[data-testid='queue-table'] tbody tr\").length === 2"
    )
    page.get_by_role("button", name="Process now").click()
    page.locator(".inline-error").wait_for()  # 409: the scenario is inactive
    response = page.request.post(f"{server}/api/scenarios/{scenario_id}/activate", headers=h)
    assert response.ok, response.text()
    page.reload()
    page.get_by_role("heading", name="Queue of Orders in").wait_for()
    for _ in range(100):
        items = page.request.get(f"{server}/api/executions?scenario_id={scenario_id}").json()[
            "items"
        ]
        if len(items) >= 2 and all(x["status"] not in ("queued", "running") for x in items):
            break
        if page.get_by_role("button", name="Process now").is_enabled():
            page.get_by_role("button", name="Process now").click()
        page.wait_for_timeout(200)
    else:
        raise AssertionError(f"the queue was not processed: {items}")
    assert [x["status"] for x in items] == ["success", "success"], items


def test_dashboard_charts_and_counts(signed_in, server):
    page = signed_in
    first = create_scenario(page, server, sync_blueprint("Dash one"))
    second = create_scenario(page, server, sync_blueprint("Dash two"))
    for n in range(3):
        run(page, server, first, {"id": f"D{n}", "ok": "yes", "json": "{}"})
    run(page, server, second, {"id": "E1", "ok": "yes", "json": "{oops"})
    page.request.post(f"{server}/api/scenarios/{first}/activate", headers=headers(page, server))

    page.locator(".topbar").get_by_role("link", name="Dashboard").click()
    page.get_by_role("heading", name="Dashboard").wait_for()
    page.get_by_test_id("card-runs").filter(has_text="4").wait_for()
    assert page.get_by_test_id("card-errors").locator(".card-value").inner_text() == "1"
    assert page.get_by_test_id("card-active").locator(".card-value").inner_text() == "1"
    assert page.get_by_test_id("card-queue").locator(".card-value").inner_text() == "0"
    assert page.get_by_role(
        "img", name="Runs, operations and errors per day, all scenarios"
    ).is_visible()
    assert "Dash one" in page.get_by_test_id(f"chart-{first}").inner_text()
    assert "1 error(s)" in page.get_by_test_id(f"chart-{second}").inner_text()
    assert page.locator(".day-chart rect").count() > 0
    shot(page, "pages-dashboard")
    page.get_by_label("Period").select_option("7")
    page.get_by_test_id("card-runs").filter(has_text="4").wait_for()


def test_a_viewer_sees_the_pages_but_cannot_act(signed_in, server, browser):
    page = signed_in
    scenario_id = create_scenario(page, server, sync_blueprint("Viewer sees", dlq=True))
    execution = run(page, server, scenario_id, {"id": "V1", "ok": "yes", "json": "{bad"})
    assert execution["status"] == "incomplete", execution
    response = page.request.post(
        f"{server}/api/users",
        data=json.dumps(
            {
                "email": "viewer@example.com",
                "name": "Vera",
                "password": "viewer password 1",
                "role": "viewer",
            }
        ),
        headers=headers(page, server),
    )
    assert response.ok, response.text()

    context = browser.new_context(viewport={"width": 1600, "height": 950})
    try:
        viewer = context.new_page()
        viewer.goto(server + "/")
        viewer.get_by_label("Email").fill("viewer@example.com")
        viewer.get_by_label("Password").fill("viewer password 1")
        viewer.get_by_role("button", name="Sign in").click()
        viewer.get_by_role("heading", name="Scenarios").wait_for()
        viewer.locator(".topbar").get_by_role("link", name="Incomplete").click()
        row = viewer.locator("[data-testid='incomplete-table'] tbody tr").first
        row.wait_for()
        for action in ("Retry", "Resolve", "Delete"):
            assert row.get_by_role("button", name=action).is_disabled()
        row.get_by_role("button", name="Inspect").click()
        viewer.get_by_role("list", name="Bundles").wait_for()
        assert viewer.get_by_role("button", name="Edit bundles").count() == 0
        viewer.locator(".topbar").get_by_role("link", name="History").click()
        viewer.get_by_test_id(f"execution-{execution['id']}").click()
        viewer.get_by_test_id("inspector-banner").wait_for()
        assert viewer.get_by_role("button", name="Run once").is_disabled()
    finally:
        context.close()
