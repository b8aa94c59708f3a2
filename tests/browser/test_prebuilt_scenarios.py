"""The prebuilt 1CRM ⇄ Xero and ⇄ QuickBooks scenarios open in the editor as a user imports
them; the guides' screenshots (docs/guides/1crm-*.md) come from this test's artifacts."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import ROOT, shot
from tests.browser.helpers import walk

SCENARIOS = ROOT / "scenarios"
SHOWN = [
    "xero/2.1-accounts-1crm-to-xero.json",
    "xero/2.3-invoices-1crm-to-xero.json",
    "quickbooks/3.3-invoices-1crm-to-quickbooks.json",
    "quickbooks/3.4-invoices-quickbooks-to-1crm.json",
]


@pytest.mark.parametrize("name", SHOWN)
def test_prebuilt_scenario_opens_with_every_module_and_its_labelled_filters(signed_in, name):
    page = signed_in
    # A large window: the invoice scenarios, with their waits, currency customers and undo
    # routes, are wide enough that a smaller window's fit-to-view zooms out past the zoom where
    # filter labels print (legibleLabels.ts, SUMMARY_ZOOM): titles are then summarized.
    page.set_viewport_size({"width": 2560, "height": 1440})
    path = SCENARIOS / name
    blueprint = json.loads(path.read_text())
    modules = list(walk(blueprint["flow"]))

    page.get_by_test_id("import-file").set_input_files(str(path))
    # Connections are chosen per module later (tests/browser/test_import_bindings.py binds them).
    page.get_by_role("dialog", name="Choose connections").get_by_role(
        "button", name="Skip, choose later"
    ).click()
    page.get_by_test_id("canvas").locator(".react-flow__node").first.wait_for()
    page.wait_for_timeout(300)

    assert page.locator(".react-flow__node-module").count() == len(modules)
    for module in modules:
        node = page.get_by_test_id(f"module-{module['id']}")
        assert node.get_attribute("data-module") == module["module"]
    for label in (m["filter"]["name"] for m in modules if (m.get("filter") or {}).get("name")):
        assert page.get_by_text(label, exact=True).first.is_visible(), label
    shot(page, f"guide-{path.stem}")
