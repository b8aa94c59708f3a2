"""The mapping panel as Make's: a collapsible, typed tree of every earlier module's output
(collections, arrays with ``[]``, samples), and the engine's function library in tabs with
keywords and inline help."""

from __future__ import annotations

from tests.browser.conftest import shot
from tests.browser.helpers import api_session, create_scenario

BLUEPRINT = {
    "name": "Orders tree",
    "flow": [
        {"id": 1, "module": "gateway:CustomWebHook", "version": 1, "parameters": {},
         "metadata": {"designer": {"x": 0, "y": 0}}},
        {"id": 2, "module": "util:ComposeTransformer", "version": 1, "parameters": {},
         "mapper": {"value": ""}, "metadata": {"designer": {"x": 300, "y": 0}}},
    ],
    "metadata": {"version": 1, "instant": True},
}  # fmt: skip
BUNDLE = {
    "name": "Ada",
    "amount": 42.5,
    "paid": True,
    "when": "2026-12-01T10:00:00Z",
    "order": {"total": 12, "lines": [{"sku": "A1", "qty": 2}, {"sku": "B2", "qty": 1}]},
}


def open_mapping(page, server):
    scenario_id = create_scenario(page, server, BLUEPRINT)
    headers = {**api_session(page, server), "Content-Type": "application/json"}
    run = page.request.post(
        f"{server}/api/scenarios/{scenario_id}/run", data={"bundle": BUNDLE}, headers=headers
    )
    assert run.ok, run.text()
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("run-1").wait_for()
    page.get_by_test_id("module-2").click()
    field = page.get_by_test_id("field-mapper.value")
    field.click()
    return page.get_by_role("complementary", name="Mapping panel"), field


def item(mapping, token):
    return mapping.locator(f"button[data-token='{token}']")


def test_items_are_a_typed_collapsible_tree_with_samples(signed_in, server):
    page = signed_in
    mapping, field = open_mapping(page, server)
    types = {
        "{{1.name}}": "text",
        "{{1.amount}}": "number",
        "{{1.paid}}": "boolean",
        "{{1.when}}": "date",
        "{{1.order}}": "collection",
        "{{1.order.lines}}": "array",
        "{{1.order.lines[].sku}}": "text",
        "{{1.order.lines[].qty}}": "number",
    }
    for token, kind in types.items():
        assert item(mapping, token).get_attribute("data-type") == kind, token
    # Arrays are written with [] and give their length; items show their last-run sample.
    assert "lines[]" in item(mapping, "{{1.order.lines}}").inner_text()
    assert "2 items" in item(mapping, "{{1.order.lines}}").inner_text()
    assert "A1" in item(mapping, "{{1.order.lines[].sku}}").inner_text()
    # An array's item fields hang under the array, the array under its collection.
    lines = mapping.locator("li[data-path='order.lines']")
    assert lines.locator("li[data-path='order.lines[].sku']").count() == 1
    assert mapping.locator("li[data-path='order'] li[data-path='order.lines']").count() == 1
    shot(page, "mapping-tree")

    # Collapsing a collection hides what it holds; expanding shows it again.
    page.get_by_test_id("toggle-1.order").click()
    item(mapping, "{{1.order.lines}}").wait_for(state="detached")
    assert item(mapping, "{{1.order}}").is_visible()
    page.get_by_test_id("toggle-1.order").click()
    item(mapping, "{{1.order.lines[].sku}}").click()
    assert field.input_value() == "{{1.order.lines[].sku}}"

    # The search keeps the parents of what matches.
    mapping.get_by_label("Search the mapping panel").fill("qty")
    item(mapping, "{{1.name}}").wait_for(state="detached")
    assert item(mapping, "{{1.order.lines[].qty}}").is_visible()
    assert item(mapping, "{{1.order}}").is_visible()


def test_functions_come_from_the_engine_in_tabs_with_keywords_and_help(signed_in, server):
    page = signed_in
    mapping, field = open_mapping(page, server)
    field.fill("")
    mapping.get_by_role("button", name="Functions").click()
    library = page.get_by_test_id("function-library")
    tabs = [t.strip() for t in library.get_by_role("tab").all_inner_texts()]
    assert tabs == ["All", "General", "Math", "Text", "Date", "Array", "Keywords"]

    # Every function of the engine's registry, none hand-kept: the list is the API's.
    served = {f["name"] for f in page.request.get(f"{server}/api/functions").json()}
    shown = set(library.locator("button[data-function]").evaluate_all(
        "els => els.map(e => e.dataset.function)"
    ))  # fmt: skip
    assert shown == served

    library.get_by_role("tab", name="Math").click()
    assert library.locator("button[data-function='round']").is_visible()
    assert library.locator("button[data-function='upper']").count() == 0
    library.get_by_role("tab", name="Date").click()
    library.locator("button[data-function='formatDate']").hover()
    help_box = page.get_by_test_id("function-help")
    assert "formatDate(" in help_box.inner_text()

    library.get_by_role("tab", name="Keywords").click()
    keywords = library.locator("button[data-keyword]").all_inner_texts()
    for keyword in ["now", "timestamp", "emptystring", "null"]:
        assert keyword in keywords
    library.locator("button[data-keyword='timestamp']").hover()
    assert "Unix time" in help_box.inner_text()
    shot(page, "mapping-functions")
    library.locator("button[data-keyword='timestamp']").click()
    assert field.input_value() == "{{timestamp}}"
    value = page.get_by_test_id("preview-value")
    value.filter(has_text="17").wait_for()
