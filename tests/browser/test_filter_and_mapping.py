"""The filter editor and the mapping panel write what they should into the blueprint."""

from __future__ import annotations

from engine.filters.codes import OPERATOR_CODES
from tests.browser.conftest import shot
from tests.browser.helpers import api_session, create_scenario, save

BLUEPRINT = {
    "name": "Orders",
    "flow": [
        {
            "id": 1,
            "module": "gateway:CustomWebHook",
            "version": 1,
            "parameters": {},
            "mapper": {},
            "metadata": {"designer": {"x": 0, "y": 0}},
        },
        {
            "id": 2,
            "module": "builtin:BasicRouter",
            "version": 1,
            "mapper": None,
            "metadata": {"designer": {"x": 300, "y": 0}, "keep": "me"},
            "routes": [
                {
                    "flow": [
                        {
                            "id": 3,
                            "module": "util:ComposeTransformer",
                            "version": 1,
                            "parameters": {},
                            "mapper": {"value": ""},
                            "metadata": {"designer": {"x": 600, "y": 0}},
                        }
                    ]
                },
                {
                    "flow": [
                        {
                            "id": 4,
                            "module": "util:ComposeTransformer",
                            "version": 1,
                            "parameters": {},
                            "mapper": {"value": "other"},
                            "metadata": {"designer": {"x": 600, "y": 200}},
                        }
                    ]
                },
            ],
        },
    ],
    "metadata": {
        "version": 1,
        "instant": True,
        "scenario": {"roundtrips": 1, "maxErrors": 3},
        "designer": {"orphans": []},
        "zone": "eu1.make.com",
    },
    "unknownTopLevel": {"kept": True},
}
BUNDLE = {"name": "Ada Lovelace", "amount": 42, "tags": ["vip"]}


def open_scenario(page, server):
    scenario_id = create_scenario(page, server, BLUEPRINT)
    headers = {**api_session(page, server), "Content-Type": "application/json"}
    run = page.request.post(
        f"{server}/api/scenarios/{scenario_id}/run", data={"bundle": BUNDLE}, headers=headers
    )
    assert run.ok, run.text()
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("module-3").wait_for()
    return scenario_id


def saved_blueprint(page, server, scenario_id):
    save(page)
    return page.request.get(f"{server}/api/scenarios/{scenario_id}").json()["blueprint"]


def test_mapping_panel_inserts_items_and_functions_and_previews(signed_in, server):
    page = signed_in
    scenario_id = open_scenario(page, server)
    # The last run's counts on the modules it reached, as in Make.
    page.get_by_test_id("run-1").filter(has_text="1").wait_for()
    # Clicking the bubble shows what the module output in that run.
    page.get_by_test_id("run-1").click()
    inspector = page.get_by_role("complementary", name="Last run of module 1")
    assert "Ada Lovelace" in inspector.get_by_test_id("run-call-0").inner_text()
    shot(page, "run-inspector")
    inspector.get_by_role("button", name="Close").click()
    page.get_by_test_id("module-3").click()
    mapping = page.get_by_role("complementary", name="Mapping panel")
    field = page.get_by_test_id("field-mapper.value")
    field.click()
    # The last run's real data: the trigger's fields with their values.
    item = mapping.locator("button[data-token='{{1.name}}']")
    assert "Ada Lovelace" in item.inner_text()
    field.fill("Dear ")
    field.press("End")
    item.click()
    assert field.input_value() == "Dear {{1.name}}"
    page.get_by_test_id("preview-value").filter(has_text="Dear Ada Lovelace").wait_for()
    shot(page, "mapping-panel")

    # Functions insert at the caret, too.
    field.press("End")
    mapping.get_by_role("button", name="Functions").click()
    mapping.locator("button[data-function='upper']").click()
    assert field.input_value() == "Dear {{1.name}}{{upper()}}"

    # A syntax error is shown inline, with its column.
    field.fill("{{upper(1.name}}")
    error = page.get_by_test_id("preview-error")
    error.wait_for()
    assert error.inner_text().strip()

    field.fill("{{upper(1.name)}}")
    page.get_by_test_id("preview-value").filter(has_text="ADA LOVELACE").wait_for()
    blueprint = saved_blueprint(page, server, scenario_id)
    assert blueprint["flow"][1]["routes"][0]["flow"][0]["mapper"] == {"value": "{{upper(1.name)}}"}
    # Everything else is kept as it was.
    assert blueprint["unknownTopLevel"] == {"kept": True}
    assert blueprint["flow"][1]["metadata"]["keep"] == "me"
    assert blueprint["metadata"]["zone"] == "eu1.make.com"


def test_filter_editor_writes_conditions_and_fallback(signed_in, server):
    page = signed_in
    scenario_id = open_scenario(page, server)

    page.get_by_test_id("filter-3").click()
    panel = page.get_by_role("complementary", name="Set up a filter")
    mapping = page.get_by_role("complementary", name="Mapping panel")
    options = page.get_by_test_id("add-or")
    panel.get_by_label("Label").fill("Big orders")
    options.click()
    page.get_by_test_id("cond-a-0-0").click()
    mapping.locator("button[data-token='{{1.amount}}']").click()
    operator = page.get_by_test_id("cond-o-0-0")
    # Every operator of the engine is offered, grouped by type; none the engine lacks.
    codes = set(operator.locator("option").evaluate_all("os => os.map(o => o.value)"))
    assert codes == set(OPERATOR_CODES)
    groups = operator.locator("optgroup").evaluate_all("gs => gs.map(g => g.label)")
    assert groups[:3] == ["Basic operators", "Text operators", "Numeric operators"]
    assert {"Date operators", "Time operators", "Array operators", "Boolean operators"} <= set(
        groups
    )
    operator.select_option("number:greater")
    page.get_by_test_id("cond-b-0-0").fill("10")
    page.get_by_test_id("add-and-0").click()
    page.get_by_test_id("cond-a-0-1").click()
    mapping.locator("button[data-token='{{1.tags}}']").click()
    page.get_by_test_id("cond-o-0-1").select_option("array:contain:ci")
    page.get_by_test_id("cond-b-0-1").fill("VIP")
    options.click()
    page.get_by_test_id("cond-a-1-0").fill("{{1.name}}")
    page.get_by_test_id("cond-o-1-0").select_option("text:startwith:ci")
    page.get_by_test_id("cond-b-1-0").fill("ada")
    page.get_by_test_id("add-and-1").click()
    page.get_by_test_id("cond-a-1-1").fill("{{1.email}}")
    page.get_by_test_id("cond-o-1-1").select_option("notexist")
    assert page.get_by_test_id("cond-b-1-1").count() == 0  # unary: no second operand
    shot(page, "filter-editor")
    panel.get_by_role("button", name="OK", exact=True).click()

    page.get_by_test_id("filter-4").click()
    panel.get_by_label("Label").fill("Everything else")
    panel.get_by_label("Fallback route").check()
    panel.get_by_role("button", name="OK", exact=True).click()
    page.locator(".edge-text", has_text="Everything else (fallback)").wait_for()
    shot(page, "router-filters")

    blueprint = saved_blueprint(page, server, scenario_id)
    router = blueprint["flow"][1]
    assert router["parameters"]["else"] == 1
    assert router["routes"][0]["flow"][0]["filter"] == {
        "name": "Big orders",
        "conditions": [
            [
                {"a": "{{1.amount}}", "o": "number:greater", "b": "10"},
                {"a": "{{1.tags}}", "o": "array:contain:ci", "b": "VIP"},
            ],
            [
                {"a": "{{1.name}}", "o": "text:startwith:ci", "b": "ada"},
                {"a": "{{1.email}}", "o": "notexist"},
            ],
        ],
    }
    assert router["routes"][1]["flow"][0]["filter"] == {"name": "Everything else", "conditions": []}

    # Undo and redo go through the same blueprint.
    page.get_by_role("button", name="Undo").click()
    page.locator(".edge-text", has_text="Everything else").wait_for(state="detached")
    page.get_by_role("button", name="Redo").click()
    page.locator(".edge-text", has_text="Everything else (fallback)").wait_for()

    # A route can be disabled from the router's panel; the link shows it.
    page.get_by_test_id("module-2").click()
    page.get_by_test_id("module-panel").get_by_role("button", name="Disable route").nth(1).click()
    page.locator(".edge-text", has_text="(disabled)").wait_for()
    router = saved_blueprint(page, server, scenario_id)["flow"][1]
    assert router["routes"][1]["disabled"] is True
    assert "disabled" not in router["routes"][0]


IF_ELSE = {
    "name": "If-else",
    "flow": [
        {"id": 1, "module": "gateway:CustomWebHook", "version": 1, "parameters": {},
         "metadata": {"designer": {"x": 0, "y": 0}}},
        {"id": 2, "module": "builtin:BasicIfElse", "version": 1, "mapper": None,
         "metadata": {"designer": {"x": 300, "y": 0}},
         "branches": [
             {"type": "condition", "label": "Big", "merge": True,
              "conditions": [[{"a": "{{1.amount}}", "o": "number:greater", "b": "10"}]],
              "flow": [{"id": 3, "module": "util:ComposeTransformer", "version": 1,
                        "mapper": {"value": "big"}, "metadata": {"designer": {"x": 600, "y": 0}}}]},
             {"type": "else", "merge": True,
              "flow": [{"id": 4, "module": "util:ComposeTransformer", "version": 1,
                        "mapper": {"value": "small"},
                        "metadata": {"designer": {"x": 600, "y": 200}}}]},
         ]},
        {"id": 5, "module": "builtin:BasicMerge", "version": 1, "mapper": None,
         "outputs": [{"name": "size", "mappings": ["{{3.value}}", "{{4.value}}"]}],
         "filters": [None, None], "metadata": {"designer": {"x": 900, "y": 0}}},
    ],
    "metadata": {"version": 1, "instant": True},
}  # fmt: skip


def test_if_else_branch_conditions_edit_like_filters(signed_in, server):
    page = signed_in
    scenario_id = create_scenario(page, server, IF_ELSE)
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("branch-2-0").click()
    panel = page.get_by_role("complementary", name="Set up a filter")
    assert panel.get_by_label("Label").input_value() == "Big"
    assert page.get_by_test_id("cond-a-0-0").input_value() == "{{1.amount}}"
    panel.get_by_label("Label").fill("Huge")
    page.get_by_test_id("cond-b-0-0").fill("1000")
    panel.get_by_role("button", name="OK", exact=True).click()
    assert page.get_by_test_id("branch-2-1").count() == 0  # the else branch has no conditions
    blueprint = saved_blueprint(page, server, scenario_id)
    branch = blueprint["flow"][1]["branches"][0]
    assert branch["label"] == "Huge"
    assert branch["conditions"] == [[{"a": "{{1.amount}}", "o": "number:greater", "b": "1000"}]]
    assert blueprint["flow"][1]["branches"][1] == IF_ELSE["flow"][1]["branches"][1]
    assert blueprint["flow"][2] == IF_ELSE["flow"][2]


ERROR_ROUTE = {
    "name": "Error route",
    "flow": [
        {"id": 1, "module": "gateway:CustomWebHook", "version": 1, "parameters": {},
         "metadata": {"designer": {"x": 0, "y": 0}}},
        {"id": 2, "module": "http:MakeRequest", "version": 4, "parameters": {},
         "mapper": {"url": "https://example.com/{{1.name}}", "method": "get"},
         "metadata": {"designer": {"x": 300, "y": 0}},
         "onerror": [
             {"id": 3, "module": "util:ComposeTransformer", "version": 1, "mapper": {"value": ""},
              "metadata": {"designer": {"x": 600, "y": 200}}},
             {"id": 4, "module": "builtin:Ignore", "version": 1,
              "metadata": {"designer": {"x": 900, "y": 200}}},
         ]},
    ],
    "metadata": {"version": 1, "instant": True},
}  # fmt: skip


def test_error_route_maps_the_failed_modules_error(signed_in, server):
    page = signed_in
    scenario_id = create_scenario(page, server, ERROR_ROUTE)
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("module-4").wait_for()
    assert page.locator(".react-flow__edge.edge-error").count() == 2
    page.get_by_test_id("module-3").click()
    mapping = page.get_by_role("complementary", name="Mapping panel")
    field = page.get_by_test_id("field-mapper.value")
    field.click()
    mapping.locator("button[data-token='{{2.error.message}}']").click()
    assert field.input_value() == "{{2.error.message}}"
    # The trigger's fields are offered too; the Ignore directive has nothing to map.
    assert mapping.locator("[data-module-id='1']").count() == 1
    blueprint = saved_blueprint(page, server, scenario_id)
    assert blueprint["flow"][1]["onerror"][0]["mapper"] == {"value": "{{2.error.message}}"}


def test_webhook_data_structure_feeds_the_mapping_panel(signed_in, server):
    page = signed_in
    headers = {**api_session(page, server), "Content-Type": "application/json"}
    blueprint = {
        "name": "Learn",
        "flow": [
            {"id": 1, "module": "gateway:CustomWebHook", "version": 1, "parameters": {},
             "metadata": {"designer": {"x": 0, "y": 0}}},
            {"id": 2, "module": "util:ComposeTransformer", "version": 1, "parameters": {},
             "mapper": {"value": ""}, "metadata": {"designer": {"x": 300, "y": 0}}},
        ],
        "metadata": {"version": 1, "instant": True},
    }  # fmt: skip
    scenario_id = create_scenario(page, server, blueprint)
    hook = page.request.post(
        f"{server}/api/webhooks",
        data={"name": "Orders", "scenario_id": scenario_id},
        headers=headers,
    ).json()
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("module-1").click()
    panel = page.get_by_test_id("module-panel")
    panel.get_by_label("Webhook", exact=True).select_option(label="Orders")
    panel.get_by_role("button", name="Determine data structure").click()
    page.get_by_test_id("structure-status").filter(has_text="Waiting").wait_for()
    sent = page.request.post(
        hook["url"] if hook["url"].startswith("http") else server + hook["url"],
        data={"email": "ada@example.com", "order": {"total": 12, "lines": [{"sku": "A1"}]}},
        headers={"Content-Type": "application/json"},
    )
    assert sent.status < 300, sent.text()
    page.get_by_test_id("structure-status").filter(has_text="2 field").wait_for(timeout=20_000)

    page.get_by_test_id("module-2").click()
    page.get_by_test_id("field-mapper.value").click()
    mapping = page.get_by_role("complementary", name="Mapping panel")
    for token in ["{{1.email}}", "{{1.order.total}}", "{{1.order.lines[].sku}}"]:
        mapping.locator(f"button[data-token='{token}']").wait_for()
    mapping.locator("button[data-token='{{1.order.total}}']").click()
    assert page.get_by_test_id("field-mapper.value").input_value() == "{{1.order.total}}"
