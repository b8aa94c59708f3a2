"""How the canvas shows a scenario, as Make does: notes on the canvas, iterators and aggregators
with their own glyphs, each app in its own colour and icon, and titles still legible when a
large scenario is fitted to the view."""

from __future__ import annotations

import json

from tests.browser.conftest import shot
from tests.browser.helpers import create_scenario, walk
from tests.conftest import CORPUS_DIR


def corpus(name):
    document = json.loads((CORPUS_DIR / name).read_text())
    return document.get("blueprint", document) if "flow" not in document else document


def zoom(page) -> float:
    return page.locator(".react-flow__viewport").evaluate(
        "e => new DOMMatrix(getComputedStyle(e).transform).a"
    )


def zoom_to_full_titles(page) -> None:
    """Zoom in until the modules show their full titles (and notes)."""
    while zoom(page) < 0.6:
        page.get_by_role("button", name="Zoom In").click()
        page.wait_for_timeout(300)  # the zoom animates


def open_blueprint(page, server, blueprint, first):
    scenario_id = create_scenario(page, server, blueprint)
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id(f"module-{first}").wait_for()
    return scenario_id


def test_notes_show_on_the_canvas_and_can_be_hidden(signed_in, server):
    page = signed_in
    # A real Make export whose trigger carries a note (three paragraphs).
    blueprint = corpus("geekalyssa__make.com-projects__01_enrich.json")
    open_blueprint(page, server, blueprint, 1)
    # A note written in the panel shows on the canvas too.
    page.get_by_test_id("module-2").click()
    page.get_by_test_id("module-panel").get_by_label("Note").fill("Check the quota first")
    page.get_by_test_id("module-panel").get_by_role("button", name="Close").click()
    zoom_to_full_titles(page)
    page.get_by_test_id("note-2").filter(has_text="Check the quota first").wait_for()
    note = page.get_by_test_id("note-1")
    note.wait_for()
    text = note.inner_text()
    assert text.startswith('Search Leads where NOT( {Lead Status} = "done",')
    assert "<p>" not in text and "Neverbounce" in text
    page.get_by_test_id("module-1").scroll_into_view_if_needed()
    shot(page, "canvas-notes")
    notes = page.get_by_role("button", name="Notes", exact=True)
    assert notes.get_attribute("aria-pressed") == "true"
    notes.click()
    note.wait_for(state="hidden")
    assert notes.get_attribute("aria-pressed") == "false"
    notes.click()
    note.wait_for()


FLOW_CONTROL = {
    "name": "Lines",
    "flow": [
        {"id": 1, "module": "json:ParseJSON", "version": 1, "mapper": {"json": "[1,2]"},
         "metadata": {"designer": {"x": 0, "y": 0}}},
        {"id": 2, "module": "builtin:BasicFeeder", "version": 1, "mapper": {"array": "{{1.array}}"},
         "metadata": {"designer": {"x": 300, "y": 0}}},
        {"id": 3, "module": "builtin:BasicAggregator", "version": 1, "parameters": {"feeder": 2},
         "mapper": {"value": "{{2.value}}"}, "metadata": {"designer": {"x": 600, "y": 0}}},
        {"id": 4, "module": "json:AggregateToJSON", "version": 1, "parameters": {"feeder": 2},
         "mapper": {}, "metadata": {"designer": {"x": 900, "y": 0}}},
        {"id": 5, "module": "builtin:BasicRouter", "version": 1, "mapper": None,
         "metadata": {"designer": {"x": 1200, "y": 0}}, "routes": []},
    ],
    "metadata": {"version": 1},
}  # fmt: skip


def test_iterators_and_aggregators_have_their_own_glyphs(signed_in, server):
    page = signed_in
    open_blueprint(page, server, FLOW_CONTROL, 5)
    assert page.get_by_test_id("kind-2").get_attribute("data-kind") == "iterator"
    assert page.get_by_test_id("kind-3").get_attribute("data-kind") == "aggregator"
    # An app's aggregator keeps its app's icon and carries the aggregator mark.
    assert page.get_by_test_id("kind-4").get_attribute("data-kind") == "aggregator"
    assert page.get_by_test_id("module-4").locator(".app-icon svg, .app-initials").count() >= 1
    glyphs = {
        module_id: page.get_by_test_id(f"module-{module_id}")
        .locator(".module-circle svg")
        .first.inner_html()
        for module_id in (2, 3, 5)
    }
    assert len(set(glyphs.values())) == 3, "iterator, aggregator and router look alike"
    assert page.get_by_test_id("module-1").locator("[data-kind]").count() == 0
    shot(page, "canvas-flow-control")


def test_each_app_has_its_own_colour_and_icon(signed_in, server):
    page = signed_in
    modules = page.request.get(f"{server}/api/modules").json()
    apps = {app["app"]: app for app in page.request.get(f"{server}/api/apps").json()}
    first_of_app: dict[str, str] = {}
    for module in modules:
        if module["kind"] in ("action", "search") and module["app"] not in first_of_app:
            first_of_app[module["app"]] = module["id"]
    flow = [
        {"id": i + 1, "module": module_id, "version": 1, "parameters": {}, "mapper": {},
         "metadata": {"designer": {"x": (i % 8) * 220, "y": (i // 8) * 220}}}
        for i, module_id in enumerate(sorted(first_of_app.values()))
    ]  # fmt: skip
    assert len(flow) > 25
    open_blueprint(page, server, {"name": "Every app", "flow": flow, "metadata": {"version": 1}}, 1)
    looks: dict[tuple[str, str], str] = {}
    for module in flow:
        app = module["module"].split(":")[0]
        circle = page.get_by_test_id(f"module-{module['id']}").locator(".module-circle")
        colour = circle.evaluate("e => getComputedStyle(e).backgroundColor")
        expected = apps[app]["color"].lstrip("#")
        rgb = tuple(int(expected[i : i + 2], 16) for i in (0, 2, 4))
        assert colour == f"rgb({rgb[0]}, {rgb[1]}, {rgb[2]})", app
        icon = circle.locator(".app-icon, .app-initials").first.inner_html()
        # A named icon is drawn, not replaced by the app's initials.
        if apps[app]["icon"] not in ("module", "") and len(apps[app]["icon"]) > 3:
            assert (
                "<svg" in icon
                or "<img" in icon
                or app in ("onecrm", "xero", "quickbooks", "zohocrm")
            ), (
                app,
                apps[app]["icon"],
            )
        assert (colour, icon) not in looks, f"{app} looks like {looks.get((colour, icon))}"
        looks[(colour, icon)] = app
    shot(page, "canvas-every-app")


def test_a_large_scenario_stays_legible_at_fit_to_view(signed_in, server):
    page = signed_in
    # 87 modules with If-else branches, merges and error routes.
    blueprint = corpus(
        "6302Mohamed__make-automation-projects__scenario-2-human-review-followup-sanitized.json"
    )
    ids = [m["id"] for m in walk(blueprint["flow"])]
    open_blueprint(page, server, blueprint, ids[0])
    page.get_by_role("button", name="Fit View").click()
    page.wait_for_timeout(400)  # the fit animates
    fitted = zoom(page)
    assert fitted < 0.6, f"the scenario fits at zoom {fitted}: not a large graph"
    # Titles are summarized to one line, printed at a readable size on screen, and only where
    # they have room: no title overlaps another title or another module's circle.
    titles = page.locator(".module-title.summary strong").evaluate_all(
        """els => els.map(e => { const r = e.getBoundingClientRect();
                               return [r.x, r.y, r.width, r.height]; })"""
    )
    circles = page.locator(".module-circle").evaluate_all(
        """els => els.map(e => { const r = e.getBoundingClientRect();
                               return [r.x, r.y, r.width, r.height]; })"""
    )
    assert len(titles) >= 8, f"only {len(titles)} of {len(ids)} modules are labelled"
    assert min(h for _, _, _, h in titles) >= 9, f"a title is too small at zoom {fitted:.2f}"

    def overlap(a, b):
        return (
            a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]
        )

    for i, a in enumerate(titles):
        assert not any(overlap(a, b) for b in titles[i + 1 :]), "two titles overlap"
        assert sum(overlap(a, c) for c in circles) == 0, "a title covers a module"
    # Filter labels, too small to read, give way to their funnels (the label is the tooltip).
    assert page.locator(".edge-text").count() == 0
    assert page.locator(".filter-button[title^='Filter: ']").count() >= 1
    # The trigger is always labelled.
    page.get_by_test_id(f"title-{ids[0]}").wait_for()
    shot(page, "canvas-large-fit")
    # Zoomed back in, the full two-line titles return.
    zoom_to_full_titles(page)
    page.locator(".module-title:not(.summary)").first.wait_for()
    assert page.locator(".module-title.summary").count() == 0
