"""The smaller editor defects a new user tripped over (issue #22, "Smaller:"), one test each:
every test failed before its fix.

* a field with a fixed set of options (HTTP's Method) is a select, still mappable;
* field labels are Make's, not field names split at capitals ("Json String Body Content");
* the password rule judges the password while it is typed (first start, Account);
* saving a connection tests it; a refused one stays in the form with the app's answer;
* a router's bubble counts the bundles that went through it, and its inspector shows them.
"""

from __future__ import annotations

import json
import re

from modules.onecrm import sandbox as onecrm_sandbox
from modules.sandboxing import run_sandbox_in_thread
from tests.browser.conftest import EMAIL, PASSWORD, shot
from tests.browser.helpers import (
    api_session,
    close_panel,
    create_scenario,
    save,
    save_1crm_connection,
)

# The modules of the catalogue's everyday apps, as a new user opens them.
COMMON = [
    ("http:MakeRequest", {"url": "https://example.com", "method": "post"}),
    ("http:ActionSendData", {"url": "https://example.com", "method": "get"}),
    ("util:SetVariable2", {"name": "total"}),
    ("util:SetVariables", {}),
    ("util:GetVariable2", {"name": "total"}),
    ("util:ComposeTransformer", {}),
    ("util:Switcher", {}),
    ("util:FunctionSleep", {}),
    ("json:ParseJSON", {}),
    ("json:TransformToJSON", {}),
    ("regexp:Parser", {}),
    ("regexp:Replace", {}),
    ("regexp:HTMLToText", {}),
    ("xml:ParseXML", {}),
    ("csv:ParseCSV", {}),
    ("rss:ActionReadArticles", {}),
    ("email:ActionSendEmail", {}),
    ("builtin:BasicRepeater", {}),
    ("builtin:BasicFeeder", {}),
]

ACRONYM = re.compile(r"^[A-Z0-9]{2,}[a-z]?$")  # URL, JSON, HTML, GFM, IDs


def mechanical(name: str) -> str:
    """The label the editor used to make of a field name: split at capitals, each word kept
    as it was ("jsonStringBodyContent" → "Json String Body Content")."""
    words = re.sub(r"([a-z])([A-Z])", r"\1 \2", name.strip("_")).replace("_", " ")
    return words[:1].upper() + words[1:]


def blueprint(name: str, modules: list[tuple[str, dict]]) -> dict:
    flow = [
        {"id": index, "module": module, "version": 1, "parameters": {}, "mapper": mapper,
         "metadata": {"designer": {"x": 300 * index, "y": 0}}}
        for index, (module, mapper) in enumerate(modules, 1)
    ]  # fmt: skip
    return {"name": name, "flow": flow, "metadata": {"version": 1}}


def field_labels(panel) -> list[tuple[str, str]]:
    """(field name, label as shown) of every field of the open module panel."""
    return panel.evaluate(
        """panel => [...panel.querySelectorAll('[data-field]')].map(field => {
            const name = field.getAttribute('data-field').split('.').pop();
            const label = field.matches('fieldset') ? field.querySelector('legend')
                                                    : field.querySelector('.field-label');
            return [name, label ? label.childNodes[0].textContent.trim() : ''];
        })"""
    )


def test_a_field_with_fixed_options_is_a_select_and_can_still_be_mapped(signed_in, server):
    page = signed_in
    scenario_id = create_scenario(page, server, blueprint("HTTP", COMMON[:1]))
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("module-1").click()
    panel = page.get_by_test_id("module-panel")
    method = panel.get_by_test_id("field-mapper.method")
    assert method.evaluate("e => e.tagName") == "SELECT"
    options = [o.strip() for o in method.locator("option").all_inner_texts()]
    assert options[1:] == ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"], options
    assert options[0] == "GET (default)"
    assert method.input_value() == json.dumps("post")
    body_type = panel.get_by_test_id("field-mapper.contentType")
    assert body_type.evaluate("e => e.tagName") == "SELECT"
    body_type.select_option(label="application/json")
    method.select_option(label="PUT")
    shot(page, "small-1-method-select")
    close_panel(page)
    save(page)
    mapper = stored_mapper(page, server, scenario_id)
    assert (mapper["method"], mapper["contentType"]) == ("put", "json"), mapper
    # Still mappable, as in Make: the Map toggle turns the select into an expression.
    page.get_by_test_id("module-1").click()
    panel.get_by_role("button", name="Map Method").click()
    mapped = panel.locator("input[data-testid='field-mapper.method']")
    mapped.fill('{{lower("PUT")}}')
    close_panel(page)
    save(page)
    assert stored_mapper(page, server, scenario_id)["method"] == '{{lower("PUT")}}'


def stored_mapper(page, server, scenario_id) -> dict:
    stored = page.request.get(f"{server}/api/scenarios/{scenario_id}").json()["blueprint"]
    return stored["flow"][0]["mapper"]


def test_field_labels_are_makes_not_split_field_names(signed_in, server):
    page = signed_in
    scenario_id = create_scenario(page, server, blueprint("Everyday modules", COMMON))
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    panel = page.get_by_test_id("module-panel")
    shown: dict[str, list[tuple[str, str]]] = {}
    for index, (module, _) in enumerate(COMMON, 1):
        page.get_by_test_id(f"module-{index}").click()
        panel.locator("[data-field]").first.wait_for()
        shown[module] = field_labels(panel)
        if module == "http:MakeRequest":
            shot(page, "small-2-http-labels")
        close_panel(page)
        panel.wait_for(state="detached")

    http = dict(shown["http:MakeRequest"])
    assert http["jsonStringBodyContent"] == "Body content"
    assert http["contentType"] == "Body content type"
    assert http["inputMethod"] == "Body input method"
    assert http["stopOnHttpError"] == "Return error if HTTP request fails"
    assert http["url"] == "URL" and http["queryParameters"] == "Query parameters"
    assert dict(shown["http:ActionSendData"])["data"] == "Request content"
    assert dict(shown["util:SetVariable2"])["scope"] == "Variable lifetime"
    machine_made = []
    for module, labels in shown.items():
        for name, label in labels:
            words = label.split()
            # Make writes labels in sentence case: a capital after the first word is an
            # acronym (URL, JSON) or a header's spelling (Reply-To), never a split name.
            title_cased = [w for w in words[1:] if w[:1].isupper() and not ACRONYM.match(w)]
            split = " " in mechanical(name) and label == mechanical(name)
            if split or (title_cased and "-" not in label):
                machine_made.append(f"{module} {name}: {label!r}")
    assert not machine_made, machine_made


def test_the_password_rule_judges_the_password_while_it_is_typed(page, server):
    page.goto(server + "/")
    page.get_by_label("Name").fill("Olga")
    page.get_by_label("Email").fill(EMAIL)
    create = page.get_by_role("button", name="Create account")
    check = page.get_by_test_id("password-check")
    page.get_by_label("Password").fill("Password1234!")
    check.filter(has_text="commonly used").wait_for()
    assert check.inner_text().startswith("✗ This is a commonly used password")
    assert create.is_disabled()  # nothing is sent that the rule refuses
    page.get_by_label("Password").fill("olga " + EMAIL)
    check.filter(has_text="✗").wait_for()  # the name and email do not count
    page.get_by_label("Password").fill(PASSWORD)
    check.filter(has_text="meets the rule").wait_for()
    shot(page, "small-3-setup-rule")
    create.click()
    page.get_by_role("heading", name="Scenarios").wait_for()

    page.locator(".topbar").get_by_role("link", name="Olga").click()
    form = page.get_by_test_id("password")
    form.get_by_label("Current password").fill(PASSWORD)
    check = form.get_by_test_id("password-check")
    change = form.get_by_role("button", name="Change password")
    form.get_by_label("New password").fill("aaaaaaaaaaaa")
    check.filter(has_text="✗").wait_for()
    assert "repeated" in check.inner_text().lower() and change.is_disabled()
    form.get_by_label("New password").fill("short")
    check.filter(has_text="at least 10 characters").wait_for()
    assert "password:" not in check.inner_text()  # a sentence, not the API's field path
    form.get_by_label("New password").fill("violet tractor mango cellar")
    check.filter(has_text="meets the rule").wait_for()
    shot(page, "small-3-account-rule")
    change.click()
    form.get_by_text("Password changed").wait_for()


def test_saving_a_connection_tests_it(signed_in, server):
    page = signed_in
    crm_url, stop = run_sandbox_in_thread(onecrm_sandbox.create_app({"fixture": "demo"}))
    try:
        page.get_by_role("link", name="Connections").click()
        page.get_by_role("heading", name="Connections").wait_for()
        page.get_by_label("New connection for").select_option(label="1CRM")
        form = page.get_by_test_id("new-connection")
        save_1crm_connection(form, "Wrong password", crm_url, "not the password")
        # Refused: the form stays open with the app's answer, and nothing is kept.
        result = form.get_by_test_id("connection-test")
        result.wait_for()
        assert result.inner_text().startswith("Connection failed"), result.inner_text()
        shot(page, "small-4-connection-refused")
        listed = page.request.get(f"{server}/api/connections", headers=api_session(page, server))
        assert listed.json() == []
        # Fixed, it is tested, kept, and its row says it works.
        form.get_by_label("Connection name").fill("Our CRM")
        form.get_by_label("Password").fill("sandbox-password")
        form.get_by_role("button", name="Save connection").click()
        row = page.get_by_role("row").filter(has_text="Our CRM")
        row.get_by_test_id("connection-test").wait_for()
        assert row.get_by_test_id("connection-test").inner_text().startswith("Connection works")
        # "Save anyway" keeps a connection the app refuses, untested (the user's choice).
        page.get_by_label("New connection for").select_option(label="1CRM")
        save_1crm_connection(form, "Kept anyway", crm_url, "not the password")
        form.get_by_test_id("connection-test").wait_for()
        form.get_by_role("button", name="Save anyway").click()
        page.get_by_role("row").filter(has_text="Kept anyway").wait_for()

        # The module panel's "Add connection" tests it too.
        scenario_id = create_scenario(page, server, blueprint("CRM", [("onecrm:GetRecord", {})]))
        page.goto(f"{server}/#/scenarios/{scenario_id}")
        page.get_by_test_id("module-1").click()
        panel = page.get_by_test_id("module-panel")
        panel.get_by_role("button", name="Add connection").click()
        save_1crm_connection(panel, "From the panel", crm_url, "sandbox-password")
        panel.get_by_test_id("connection-test").filter(has_text="Connection works").wait_for()
        chosen = panel.get_by_label("Connection", exact=True).locator("option:checked")
        assert chosen.inner_text() == "From the panel"
        shot(page, "small-4-panel-connection")
    finally:
        stop()


ROUTER = {
    "name": "Three through a router",
    "flow": [
        {"id": 1, "module": "builtin:BasicRepeater", "version": 1, "parameters": {},
         "mapper": {"start": 1, "repeats": 3, "step": 1},
         "metadata": {"designer": {"x": 0, "y": 0}}},
        {"id": 2, "module": "builtin:BasicRouter", "version": 1, "parameters": {},
         "mapper": None, "metadata": {"designer": {"x": 300, "y": 0}},
         "routes": [
             {"flow": [{"id": 3, "module": "util:ComposeTransformer", "version": 1,
                        "mapper": {"value": "big {{1.i}}"},
                        "filter": {"name": "Above 1", "conditions": [[
                            {"a": "{{1.i}}", "b": "1", "o": "number:greater"}]]},
                        "metadata": {"designer": {"x": 600, "y": -150}}}]},
             {"flow": [{"id": 4, "module": "util:ComposeTransformer", "version": 1,
                        "mapper": {"value": "any {{1.i}}"},
                        "metadata": {"designer": {"x": 600, "y": 150}}}]},
         ]},
    ],
    "metadata": {"version": 1, "scenario": {"roundtrips": 1, "maxErrors": 3}},
}  # fmt: skip


def test_a_router_bubble_counts_the_bundles_through_it(signed_in, server):
    page = signed_in
    scenario_id = create_scenario(page, server, ROUTER)
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("module-4").wait_for()
    page.get_by_role("button", name="Run once").click()
    page.get_by_role("status").filter(has_text="Run success").wait_for()
    bubble = page.get_by_test_id("run-2")
    bubble.filter(has_text="3").wait_for()
    assert bubble.inner_text().strip() == "3"
    assert page.get_by_test_id("run-3").inner_text().strip() == "2"  # the filter let 2 by
    bubble.click()
    inspector = page.get_by_role("complementary", name="Last run of module 2")
    inspector.get_by_role("list", name="Bundle 3").wait_for()
    text = inspector.inner_text()
    assert "No operation data" not in text
    assert "3 bundle(s) passed through" in text, text
    values = [inspector.get_by_role("list", name=f"Bundle {n}").inner_text() for n in (1, 2, 3)]
    assert all(str(n) in value for n, value in zip((1, 2, 3), values, strict=True)), values
    shot(page, "small-5-router-bubble")
    # The run's operations stay Make's: the router is free.
    execution = page.request.get(f"{server}/api/executions?scenario_id={scenario_id}").json()
    assert execution["items"][0]["operations"] == 1 + 2 + 3  # repeater, route 1, route 2


def test_the_catalogue_lists_each_module_once(signed_in, server):
    page = signed_in
    page.get_by_role("button", name="Create a new scenario").click()
    page.get_by_test_id("add-first").click()
    dialog = page.get_by_role("dialog", name="Add a module")
    search = dialog.get_by_placeholder("Search apps and modules")
    labels = dialog.locator(".catalogue-item .label")
    # Older versions and aliases are not offered beside the current module, as in Make
    # ("Make a request (v3)", "Set variable (version 1)", the numeric aggregator's alias).
    for query, offered in (
        ("make a request", ["Make a request"]),
        ("set variable", ["Set variable"]),
        ("numeric aggregator", ["Numeric aggregator"]),
    ):
        search.fill(query)
        dialog.locator(f"button[data-module]:has-text('{offered[0]}')").first.wait_for()
        assert labels.all_inner_texts() == offered, (query, labels.all_inner_texts())
    shot(page, "small-catalogue-once")
    search.fill("")
    groups = dialog.locator("section.catalogue-group h3").all_inner_texts()
    assert len(groups) == len(set(groups)), groups
    # Its exact id still finds an older version (to add one as an old export has it).
    search.fill("http:ActionSendData")
    dialog.locator("button[data-module='http:ActionSendData']").wait_for()
