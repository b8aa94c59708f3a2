"""Explain flow, as in Make: a bundle walks the scenario in the order it runs, through each
router's routes in turn; with a last run, it stops at the filter that stopped that run."""

from __future__ import annotations

from tests.browser.conftest import shot
from tests.browser.helpers import api_session, create_scenario

BLUEPRINT = {
    "name": "Explain",
    "flow": [
        {"id": 1, "module": "gateway:CustomWebHook", "version": 1, "parameters": {},
         "metadata": {"designer": {"x": 0, "y": 0}}},
        {"id": 2, "module": "builtin:BasicRouter", "version": 1, "parameters": {"else": 1},
         "mapper": None, "metadata": {"designer": {"x": 300, "y": 0}},
         "routes": [
             {"flow": [{"id": 3, "module": "util:ComposeTransformer", "version": 1,
                        "mapper": {"value": "big {{1.amount}}"},
                        "filter": {"name": "Big orders", "conditions": [[
                            {"a": "{{1.amount}}", "b": "100", "o": "number:greater"}]]},
                        "metadata": {"designer": {"x": 600, "y": -120}}}]},
             {"flow": [{"id": 4, "module": "util:ComposeTransformer", "version": 1,
                        "mapper": {"value": "small {{1.amount}}"},
                        "metadata": {"designer": {"x": 600, "y": 120}}}]},
         ]},
    ],
    "metadata": {"version": 1, "instant": True},
}  # fmt: skip


def explain(page):
    page.get_by_role("button", name="Explain flow").click()
    banner = page.get_by_test_id("explain-banner")
    # The bundle is seen on its way along a link while the walk plays.
    page.get_by_test_id("explain-bundle").first.wait_for(state="attached")
    banner.filter(has_text="Flow explained").wait_for()
    return banner


def order(page, module_id):
    badge = page.get_by_test_id(f"explain-{module_id}")
    return int(badge.inner_text()) if badge.count() else None


def test_explain_flow_walks_every_route_in_order(signed_in, server):
    page = signed_in
    scenario_id = create_scenario(page, server, BLUEPRINT)
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("module-4").wait_for()
    banner = explain(page)
    # No run yet: the order the modules run in, every route in turn.
    assert [order(page, i) for i in (1, 2, 3, 4)] == [1, 2, 3, 4]
    assert "1 → 2 → 3 → 4" in banner.inner_text()
    banner.get_by_role("button", name="Close").click()
    banner.wait_for(state="detached")
    assert page.get_by_test_id("explain-1").count() == 0


def test_explain_flow_follows_the_last_run_and_stops_at_its_filter(signed_in, server):
    page = signed_in
    scenario_id = create_scenario(page, server, BLUEPRINT)
    headers = {**api_session(page, server), "Content-Type": "application/json"}
    run = page.request.post(
        f"{server}/api/scenarios/{scenario_id}/run",
        data={"bundle": {"amount": 42}},
        headers=headers,
    )
    assert run.ok, run.text()
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("run-4").wait_for()
    banner = explain(page)
    # 42 is not a big order: the bundle stops at the filter and takes the fallback route.
    assert [order(page, i) for i in (1, 2, 3, 4)] == [1, 2, None, 3]
    assert "1 → 2 → 4" in banner.inner_text()
    assert "stops before 3 (filter “Big orders”)" in banner.inner_text()
    stopped = page.get_by_test_id("filter-3").locator("xpath=..")
    assert stopped.get_attribute("data-explain") == "stopped"
    passed = page.get_by_test_id("filter-4").locator("xpath=..")
    assert passed.get_attribute("data-explain") == "passed"
    shot(page, "explain-flow")
