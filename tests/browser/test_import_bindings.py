"""Importing a prebuilt scenario in the editor asks which connection each of its apps gets, and
the stored blueprint uses the chosen connections."""

from __future__ import annotations

import json

from tests.browser.conftest import ROOT, shot
from tests.browser.helpers import api_session, walk

PREBUILT = ROOT / "scenarios" / "xero" / "2.1-accounts-1crm-to-xero.json"


def test_import_asks_for_each_apps_connection(signed_in, server, service):
    page = signed_in
    store = service.store
    crm = store.create_connection("onecrm", "basic", "Our 1CRM", data={"url": "https://crm.test"})
    store.create_connection("xero", "oauth2", "Old books", data={})
    books = store.create_connection("xero", "oauth2", "Books", data={})
    page.reload()

    page.get_by_test_id("import-file").set_input_files(str(PREBUILT))
    dialog = page.get_by_role("dialog", name="Choose connections")
    dialog.wait_for()
    importing = dialog.get_by_role("button", name="Import")
    assert importing.is_disabled()
    dialog.get_by_test_id("binding-onecrm").get_by_label("Connection", exact=True).select_option(
        label="Our 1CRM"
    )
    dialog.get_by_test_id("binding-xero").get_by_label("Connection", exact=True).select_option(
        label="Books"
    )
    shot(page, "import-bindings")
    importing.click()
    page.get_by_test_id("canvas").locator(".react-flow__node").first.wait_for()

    scenario_id = int(page.url.rsplit("/", 1)[1])
    exported = page.request.get(
        f"{server}/api/scenarios/{scenario_id}/export", headers=api_session(page, server)
    )
    blueprint = exported.json()
    blueprint = blueprint.get("blueprint", blueprint)
    used = {
        module["module"].split(":")[0]: module["parameters"]["__IMTCONN__"]
        for module in walk(blueprint["flow"])
        if "__IMTCONN__" in (module.get("parameters") or {})
    }
    assert used == {"onecrm": crm.id, "xero": books.id}, json.dumps(used)


def test_a_blueprint_without_placeholders_imports_at_once(signed_in, server, tmp_path):
    page = signed_in
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"name": "Plain", "flow": [], "metadata": {"version": 1}}))
    page.get_by_test_id("import-file").set_input_files(str(plain))
    page.get_by_test_id("canvas").wait_for()
    assert page.get_by_role("dialog", name="Choose connections").count() == 0
