"""Import real Make exports with 20+ modules through the scenario list: every module is a node at
its own metadata.designer position, every link, route, branch and error route is drawn."""

from __future__ import annotations

import json
import re

import pytest

from tests.browser.conftest import shot
from tests.browser.helpers import save, walk
from tests.conftest import CORPUS_DIR

CORPUS = CORPUS_DIR
FILES = [
    # 87 modules, If-else branches and Merges, 12 error routes (Ignore, Resume, Break).
    "6302Mohamed__make-automation-projects__scenario-2-human-review-followup-sanitized.json",
    # 25 modules, routers with 7 routes, 3 error routes, notes.
    "geekalyssa__make.com-projects__01_enrich.json",
    # 22 modules, routers with 11 routes.
    "6302Mohamed__make-automation-projects__project-01-blueprint-sanitized-reference.json",
]


def unwrap(document):
    if "flow" in document:
        return document
    return document.get("blueprint") or document["response"]["blueprint"]


def expected_links(flow):
    """The links the canvas draws: as webui/frontend/src/editor/graph.ts builds them."""
    links = set()
    for index, module in enumerate(flow):
        nxt = flow[index + 1] if index + 1 < len(flow) else None
        if nxt:
            links.add((str(module["id"]), str(nxt["id"])))
        for r, route in enumerate(module.get("routes") or []):
            head = (route.get("flow") or [None])[0]
            links.add((str(module["id"]), str(head["id"]) if head else f"route-{module['id']}-{r}"))
            links |= expected_links(route.get("flow") or [])
        for branch in module.get("branches") or []:
            body = branch.get("flow") or []
            if not body:
                continue
            links.add((str(module["id"]), str(body[0]["id"])))
            links |= expected_links(body)
            if nxt and branch.get("merge") is not False:
                links.add((str(body[-1]["id"]), str(nxt["id"])))
        if module.get("onerror"):
            links.add((str(module["id"]), str(module["onerror"][0]["id"])))
            links |= expected_links(module["onerror"])
    return links


@pytest.mark.parametrize("name", FILES)
def test_import_renders_every_module_and_route(signed_in, name):
    page = signed_in
    path = CORPUS / name
    blueprint = unwrap(json.loads(path.read_text(encoding="utf-8-sig")))
    modules = list(walk(blueprint["flow"]))
    assert len(modules) >= 20

    page.get_by_test_id("import-file").set_input_files(str(path))
    page.get_by_test_id("canvas").locator(".react-flow__node").first.wait_for()
    page.wait_for_timeout(300)

    rendered = page.locator(".react-flow__node-module")
    assert rendered.count() == len(modules)
    for module in modules:
        node = page.get_by_test_id(f"module-{module['id']}")
        assert node.count() == 1, module["id"]
        assert node.get_attribute("data-module") == module["module"]

    # Make's positions are used as they are: the node sits at metadata.designer.
    for module in modules[:10]:
        designer = module["metadata"]["designer"]
        transform = page.locator(f".react-flow__node[data-id='{module['id']}']").get_attribute(
            "style"
        )
        x, y = map(float, re.search(r"translate\(([-\d.]+)px, ?([-\d.]+)px\)", transform).groups())
        assert (x, y) == (designer["x"], designer["y"]), module["id"]

    drawn = set()
    for edge in page.locator(".react-flow__edge").all():
        edge_id = edge.get_attribute("data-id") or edge.get_attribute("data-testid").removeprefix(
            "rf__edge-"
        )
        source, target = edge_id.removeprefix("e-").split("-", 1)
        drawn.add((source, target))
    assert drawn == expected_links(blueprint["flow"])
    routes = sum(len(m.get("routes") or []) for m in modules)
    from_routers = {
        (s, t) for s, t in drawn if any(str(m["id"]) == s and "routes" in m for m in modules)
    }
    assert len(from_routers) == routes
    assert page.locator(".react-flow__edge.edge-error").count() >= sum(
        1 for m in modules if m.get("onerror")
    )

    page.get_by_role("button", name="Auto-align").click()
    page.wait_for_timeout(400)
    shot(page, f"import-{name.split('__')[1]}-{len(modules)}")


@pytest.mark.parametrize("name", FILES)
def test_save_without_changes_is_lossless_and_a_drag_only_moves(signed_in, server, name):
    """The canvas converts to and from the blueprint without loss: saving an untouched import
    gives back the same JSON; dragging one module changes only its metadata.designer."""
    page = signed_in
    path = CORPUS / name
    original = unwrap(json.loads(path.read_text(encoding="utf-8-sig")))
    page.get_by_test_id("import-file").set_input_files(str(path))
    first = original["flow"][0]["id"]
    page.get_by_test_id(f"module-{first}").wait_for()
    scenario_id = int(page.url.rsplit("/", 1)[1])

    save(page)
    stored = page.request.get(f"{server}/api/scenarios/{scenario_id}").json()["blueprint"]
    assert stored == original

    circle = page.get_by_test_id(f"module-{first}").locator(".module-circle")
    box = circle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 60, box["y"] + box["height"] / 2 + 60, steps=8)
    page.mouse.up()
    assert "•" in page.get_by_test_id("save").inner_text()
    save(page)
    moved = page.request.get(f"{server}/api/scenarios/{scenario_id}").json()["blueprint"]
    before = original["flow"][0]["metadata"]["designer"]
    after = moved["flow"][0]["metadata"]["designer"]
    assert (after["x"], after["y"]) != (before["x"], before["y"])
    moved["flow"][0]["metadata"]["designer"] = before
    assert moved == original
