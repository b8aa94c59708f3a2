"""The whole walk of issue #22 in one test, as a new Make user takes it in the browser: build a
webhook scenario (router with a filtered route and a fallback, Set variable and HTTP, mapped
fields, an Ignore handler) by clicks; run it once per route; inspect the bundles; browse the
history, the incomplete executions and the webhook's queue; import the prebuilt library and a
public Make blueprint, and export them back byte for byte."""

from __future__ import annotations

import json
import urllib.request

from tests.browser.conftest import ROOT, shot
from tests.browser.helpers import add_after, close_panel, pick, save, walk
from tests.conftest import CORPUS_DIR

# The prebuilt 1CRM library of the guides (2.x with Xero, 3.x with QuickBooks).
LIBRARY = sorted(
    [
        *(ROOT / "scenarios" / "xero").glob("*.json"),
        *(ROOT / "scenarios" / "quickbooks").glob("*.json"),
    ]
)
PUBLIC = CORPUS_DIR / "geekalyssa__make.com-projects__01_enrich.json"


def post(url: str, body: dict) -> None:
    """A request from outside the browser, as the app that calls the webhook sends it."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as sent:
        assert sent.status < 300


def run_once_with(page, url: str, body: dict, reaches: int) -> None:
    """Run once: the editor waits for the next request to the webhook, then runs it; the run
    is over when module ``reaches`` shows its operation (the toast saying so is brief)."""
    page.get_by_role("button", name="Run once").click()
    page.get_by_test_id("waiting").wait_for()
    post(url, body)
    page.get_by_test_id("waiting").wait_for(state="detached", timeout=60_000)
    page.get_by_test_id(f"run-{reaches}").filter(has_text="1").wait_for(timeout=60_000)


def inspector(page, module_id: int):
    page.get_by_role("button", name="Fit View").click()  # a panel may have moved the canvas
    page.wait_for_timeout(300)
    page.get_by_test_id(f"run-{module_id}").click()
    return page.get_by_role("complementary", name=f"Last run of module {module_id}")


def build(page) -> str:
    """The scenario, by clicks; answers the webhook's address."""
    page.get_by_role("button", name="Create a new scenario").click()
    page.get_by_test_id("add-first").wait_for()
    page.get_by_label("Scenario name").fill("Orders walk")
    panel = page.get_by_test_id("module-panel")

    # 1: a custom webhook.
    page.get_by_test_id("add-first").click()
    pick(page, "gateway:CustomWebHook")
    panel.get_by_role("button", name="Add webhook").click()
    panel.get_by_label("Webhook name").fill("Orders")
    panel.get_by_role("button", name="Save webhook").click()
    url = panel.get_by_test_id("webhook-url").inner_text().strip()
    close_panel(page)

    # 2: a router; route 1 sets a variable from the request, route 2 calls an HTTP endpoint.
    add_after(page, 1, "builtin:BasicRouter")
    close_panel(page)
    page.get_by_test_id("add-route-2-0").click()
    pick(page, "util:SetVariable2")
    panel.get_by_test_id("field-mapper.name").fill("customer")
    panel.get_by_test_id("field-mapper.scope").select_option(label="One cycle")
    panel.get_by_test_id("field-mapper.value").fill("{{1.name}}")
    close_panel(page)
    page.get_by_test_id("add-route-2-1").click()
    pick(page, "http:ActionSendData")
    # Nothing listens on port 9: the call fails, and the Ignore handler settles it.
    panel.get_by_test_id("field-mapper.url").fill("http://127.0.0.1:9/orders/{{1.id}}")
    close_panel(page)

    # The filter on route 1, and route 2 as the fallback.
    page.get_by_test_id("filter-3").click()
    filter_panel = page.get_by_role("complementary", name="Set up a filter")
    filter_panel.get_by_label("Label").fill("Big orders")
    filter_panel.get_by_test_id("add-or").click()
    page.get_by_test_id("cond-a-0-0").fill("{{1.amount}}")
    page.get_by_test_id("cond-o-0-0").select_option("number:greater")
    page.get_by_test_id("cond-b-0-0").fill("100")
    filter_panel.get_by_role("button", name="OK", exact=True).click()
    page.get_by_test_id("filter-4").click()
    filter_panel.get_by_label("Fallback route").check()
    filter_panel.get_by_role("button", name="OK", exact=True).click()

    # An Ignore error handler on the HTTP call.
    page.get_by_test_id("module-4").click(button="right")
    page.get_by_role("menuitem", name="Add error handler").click()
    dialog = page.get_by_role("dialog", name="Add error handler")
    dialog.get_by_label("Ignore").check()
    dialog.get_by_role("button", name="Add error handler").click()
    page.get_by_role("button", name="Auto-align").click()
    save(page)
    shot(page, "walk-built")
    return url


def test_a_make_user_builds_runs_inspects_browses_imports_and_exports(signed_in, server):
    page = signed_in
    url = build(page)
    scenario_id = int(page.url.rsplit("/", 1)[1])
    stored = page.request.get(f"{server}/api/scenarios/{scenario_id}").json()["blueprint"]
    router = stored["flow"][1]
    assert [m["module"] for m in walk(stored["flow"])] == [
        "gateway:CustomWebHook",
        "builtin:BasicRouter",
        "util:SetVariable2",
        "http:ActionSendData",
        "builtin:Ignore",
    ]
    assert router["parameters"]["else"] == 1
    assert router["routes"][0]["flow"][0]["filter"]["name"] == "Big orders"

    # A small order takes the fallback: the HTTP call fails and is ignored.
    run_once_with(page, url, {"id": 7, "name": "Ada", "amount": 42}, reaches=4)
    # The filter stopped the bundle before the Set variable: it ran no operation.
    assert page.get_by_test_id("run-3").inner_text().strip() == "0"
    panel = inspector(page, 4)
    assert panel.get_by_test_id("run-error").inner_text().strip()
    assert "ignore" in panel.get_by_test_id("run-directive").inner_text().lower()
    panel.get_by_role("button", name="Close").click()

    # With the request's fields known from that run, map them through the mapping panel.
    page.get_by_test_id("module-3").click()
    field = page.get_by_test_id("field-mapper.value")
    field.fill("{{upper(1.name)}} (")
    field.press("End")
    mapping = page.get_by_role("complementary", name="Mapping panel")
    amount = mapping.locator("button[data-token='{{1.amount}}']")
    assert "42" in amount.inner_text()  # the last run's value, as a sample
    amount.click()
    field.press("End")
    field.type(")")
    assert field.input_value() == "{{upper(1.name)}} ({{1.amount}})"
    page.get_by_test_id("preview-value").filter(has_text="ADA (42)").wait_for()
    shot(page, "walk-mapping")
    close_panel(page)

    # A big order passes the filter: the variable is set from the mapped fields.
    run_once_with(page, url, {"id": 8, "name": "Grace", "amount": 250}, reaches=3)
    panel = inspector(page, 3)
    assert "GRACE (250)" in panel.inner_text()
    panel.get_by_role("button", name="Close").click()
    panel = inspector(page, 1)
    assert "Grace" in panel.get_by_role("list", name="Bundle 1").inner_text()
    shot(page, "walk-inspect")
    panel.get_by_role("button", name="Close").click()

    # History: both runs; the first opens read only, on the run it was.
    page.locator(".topbar").get_by_role("link", name="History").click()
    table = page.get_by_test_id("history-table")
    table.locator("tbody tr").nth(1).wait_for()
    executions = page.request.get(f"{server}/api/executions?scenario_id={scenario_id}").json()
    assert [x["status"] for x in executions["items"]] == ["success", "success"]
    oldest = executions["items"][-1]["id"]
    page.get_by_test_id(f"execution-{oldest}").click()
    page.get_by_test_id("inspector-banner").wait_for()
    page.get_by_test_id("run-4").filter(has_text="1").wait_for()
    assert page.get_by_test_id("save").is_disabled()

    # Incomplete executions: the ignored error left none.
    page.locator(".topbar").get_by_role("link", name="Incomplete").click()
    page.get_by_role("heading", name="Incomplete executions").wait_for()
    page.get_by_text("No incomplete execution.").wait_for()

    # The webhook's queue: the scenario is inactive, so a request waits there.
    post(url, {"id": 9, "name": "Linus", "amount": 5})
    page.locator(".topbar").get_by_role("link", name="Webhooks").click()
    page.locator("[data-testid^='webhook-']", has_text="Orders").get_by_role(
        "link", name="Queue", exact=True
    ).click()
    page.get_by_role("heading", name="Queue of Orders").wait_for()
    row = page.get_by_test_id("queue-table").locator("tbody tr").first
    row.get_by_role("button", name="Inspect").click()
    assert "Linus" in page.locator("aside.side-panel").inner_text()
    shot(page, "walk-queue")
    row.get_by_role("button", name="Delete").click()
    page.get_by_text("Nothing waits in this queue.").wait_for()

    # The prebuilt library and a public Make blueprint, imported from the scenario list and
    # exported back from the editor.
    for path in [*LIBRARY, PUBLIC]:
        page.locator(".topbar").get_by_role("link", name="Scenarios").click()
        page.get_by_role("heading", name="Scenarios").wait_for()
        page.get_by_test_id("import-file").set_input_files(str(path))
        original = json.loads(path.read_text(encoding="utf-8-sig"))
        blueprint = original if "flow" in original else original["blueprint"]
        if path in LIBRARY:  # its connections are placeholders: choose them later
            page.get_by_role("dialog", name="Choose connections").get_by_role(
                "button", name="Skip, choose later"
            ).click()
        modules = list(walk(blueprint["flow"]))
        page.get_by_test_id(f"module-{modules[-1]['id']}").wait_for()
        assert page.locator(".react-flow__node-module").count() == len(modules), path.name
        with page.expect_download() as download:
            page.get_by_role("button", name="Export blueprint").click()
        exported = download.value.path().read_bytes()
        if json.loads(exported) == original:
            assert exported == path.read_bytes(), f"{path.name} exports other bytes"
        else:
            # An import whose modules overlapped is laid out on import: only positions moved;
            # a library's named data store is bound on import (Make exports the store's id).
            assert _comparable(json.loads(exported), bound=True) == _comparable(original), path.name
    shot(page, "walk-imported")


def _comparable(document, *, bound=False):
    """``document``'s blueprint without module positions, and with each data store parameter
    as ``<data store>``: the library names its store (``datastore:<name>``), which import binds
    to the store of that name — so an exported one (``bound``) must hold a store's id."""
    blueprint = document if "flow" in document else document["blueprint"]
    copy = json.loads(json.dumps(blueprint))
    for module in walk(copy["flow"]):
        designer = (module.get("metadata") or {}).get("designer") or {}
        designer.pop("x", None)
        designer.pop("y", None)
        parameters = module.get("parameters") or {}
        if "datastore" in parameters:
            if bound:
                assert isinstance(parameters["datastore"], int), parameters["datastore"]
            parameters["datastore"] = "<data store>"
    return copy
