"""The Data stores page: create a store, add and edit records by hand, see the record a scenario
run wrote, page through many records, delete one record and then all; a viewer only reads."""

from __future__ import annotations

import json
from typing import Any

from tests.browser.conftest import shot
from tests.browser.helpers import api_session, create_scenario

STRUCTURE = {"spec": [{"name": "name", "type": "text"}, {"name": "visits", "type": "number"}]}


def writer_blueprint(store_id: int) -> dict[str, Any]:
    """A webhook trigger (its bundle given to the run) and an AddRecord keyed by the bundle's id."""
    return {
        "name": "Remember visitors",
        "flow": [
            {"id": 1, "module": "gateway:CustomWebHook", "version": 1, "parameters": {"hook": 1}},
            {
                "id": 2,
                "module": "datastore:AddRecord",
                "version": 1,
                "parameters": {"datastore": store_id},
                "mapper": {"key": "{{1.id}}", "data": {"name": "{{1.name}}", "visits": 1}},
            },
        ],
        "metadata": {"version": 1, "scenario": {"roundtrips": 1, "autoCommit": True}},
    }


def post_json(page, url: str, body: Any, method: str = "POST") -> Any:
    response = page.request.fetch(
        url,
        method=method,
        data=json.dumps(body),
        headers={**api_session(page, url.split("/api/")[0]), "Content-Type": "application/json"},
    )
    assert response.ok, response.text()
    return response.json()


def add_record(page, key: str, data: str) -> None:
    page.locator(".list-header").get_by_role("button", name="Add record").click()
    form = page.get_by_test_id("record-form")
    form.get_by_label("Key").fill(key)
    form.get_by_label("Data (JSON)").fill(data)
    form.get_by_role("button", name="Add record").click()
    page.get_by_test_id(f"record-{key}").wait_for()


def test_manage_a_data_store_and_its_records(signed_in, server):
    page = signed_in
    page.get_by_role("link", name="Data stores").click()
    page.get_by_role("heading", name="Data stores").wait_for()

    page.get_by_role("button", name="New data store").click()
    form = page.get_by_test_id("new-datastore")
    form.get_by_label("Data store name").fill("Visitors")
    form.get_by_label("Data structure").fill("{not json")
    form.get_by_text("Not valid JSON").wait_for()
    assert form.get_by_role("button", name="Create data store").is_disabled()
    form.get_by_label("Data structure").fill(json.dumps(STRUCTURE))
    form.get_by_label("Size limit (MB)").fill("0.5")
    shot(page, "datastores-new-store")
    form.get_by_role("button", name="Create data store").click()
    row = page.get_by_role("row").filter(has_text="Visitors")
    row.wait_for()
    assert "512.0 KB (0 B used)" in row.inner_text()
    row = page.get_by_test_id(row.get_attribute("data-testid"))  # its name becomes an input

    row.get_by_role("button", name="Rename").click()
    row.get_by_label("New name").fill("Guests")
    row.get_by_role("button", name="Save").click()
    row = page.get_by_role("row").filter(has_text="Guests")
    row.wait_for()
    row.get_by_role("link", name="Guests").click()
    page.get_by_role("heading", name="Guests").wait_for()
    store_id = int(page.url.rsplit("/", 1)[1])

    # A new record starts from the data structure; bad JSON is named as it is typed.
    page.get_by_role("button", name="Add record").click()
    form = page.get_by_test_id("record-form")
    assert json.loads(form.get_by_label("Data (JSON)").input_value()) == {"name": "", "visits": 0}
    form.get_by_label("Key").fill("ada")
    form.get_by_label("Data (JSON)").fill('{"name": "Ada",')
    page.get_by_test_id("json-error").wait_for()
    shot(page, "datastores-new-record")
    assert form.get_by_role("button", name="Add record").is_disabled()
    form.get_by_label("Data (JSON)").fill('{"name": "Ada", "visits": 1}')
    form.get_by_role("button", name="Add record").click()
    page.get_by_test_id("record-ada").wait_for()
    add_record(page, "grace", '{"name": "Grace", "visits": 3, "tags": ["navy", "cobol"]}')

    # Adding under a key that exists does not replace that record.
    page.locator(".list-header").get_by_role("button", name="Add record").click()
    form = page.get_by_test_id("record-form")
    form.get_by_label("Key").fill("ada")
    form.get_by_label("Data (JSON)").fill('{"name": "Someone else"}')
    form.get_by_role("button", name="Add record").click()
    form.get_by_text("exists already").wait_for()
    form.get_by_role("button", name="Cancel").click()

    page.get_by_test_id("record-ada").get_by_role("button", name="Edit").click()
    form = page.get_by_test_id("record-form")
    form.get_by_label("Data (JSON)").fill('{"name": "Ada Lovelace", "visits": 2}')
    form.get_by_role("button", name="Save record").click()
    page.get_by_test_id("record-ada").filter(has_text="Ada Lovelace").wait_for()
    assert "Saved record ada" in page.get_by_role("status").inner_text()

    # A scenario run writes a record; it shows on the page.
    scenario_id = create_scenario(page, server, writer_blueprint(store_id))
    execution = post_json(
        page,
        f"{server}/api/scenarios/{scenario_id}/run",
        {"bundle": {"id": "from-run", "name": "Written by a run"}},
    )
    assert execution["status"] == "success", execution
    page.reload()
    page.get_by_test_id("record-from-run").wait_for()
    summary = page.get_by_test_id("datastore-summary")
    assert "3 record(s)" in summary.inner_text()

    # The size limit: not below what the records take (123 bytes); a record that does not fit
    # says to raise it.
    summary.get_by_role("button", name="change limit").click()
    summary.get_by_label("Size limit (MB)").fill("0.0001")
    summary.get_by_role("button", name="Save").click()
    summary.get_by_text("already take 123 bytes").wait_for()
    shot(page, "datastores-size-limit")
    summary.get_by_label("Size limit (MB)").fill("0.0002")
    summary.get_by_role("button", name="Save").click()
    summary.get_by_text("123 B of 210 B used").wait_for()
    page.locator(".list-header").get_by_role("button", name="Add record").click()
    form = page.get_by_test_id("record-form")
    form.get_by_label("Key").fill("big")
    form.get_by_label("Data (JSON)").fill(json.dumps({"text": "x" * 100}))
    form.get_by_role("button", name="Add record").click()
    form.get_by_text("raise the limit or delete records").wait_for()
    form.get_by_role("button", name="Cancel").click()
    summary.get_by_role("button", name="change limit").click()
    summary.get_by_label("Size limit (MB)").fill("1")
    summary.get_by_role("button", name="Save").click()
    summary.get_by_text("123 B of 1.0 MB used").wait_for()

    page.get_by_test_id("record-grace").click()
    panel = page.get_by_role("complementary", name="Record grace")
    panel.get_by_role("list", name="Data").wait_for()
    assert "cobol" in panel.inner_text()
    shot(page, "datastores-records")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("record-ada").get_by_role("button", name="Delete").click()
    page.get_by_test_id("record-ada").wait_for(state="detached")
    records = page.request.get(f"{server}/api/datastores/{store_id}/records").json()
    assert sorted(r["key"] for r in records["items"]) == ["from-run", "grace"]

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete all records").click()
    page.get_by_text("No record yet").wait_for()
    assert page.request.get(f"{server}/api/datastores/{store_id}/records").json()["total"] == 0

    page.get_by_role("link", name="All data stores").click()
    row = page.get_by_role("row").filter(has_text="Guests")
    row.wait_for()
    shot(page, "datastores-list")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    page.get_by_text("No data store yet").wait_for()


def test_records_page_by_fifty(signed_in, server):
    page = signed_in
    store = post_json(page, f"{server}/api/datastores", {"name": "Many"})
    for index in range(120):
        url = f"{server}/api/datastores/{store['id']}/records/k{index:03d}"
        post_json(page, url, {"data": {"n": index}}, method="PUT")
    page.goto(f"{server}/#/datastores/{store['id']}")
    page.get_by_test_id("record-k000").wait_for()
    assert page.locator("[data-testid='records-table'] tbody tr").count() == 50
    pager = page.locator(".pager")
    assert "1\u201350 of 120" in pager.inner_text()
    assert pager.get_by_role("button", name="← Previous").is_disabled()
    pager.get_by_role("button", name="Next →").click()
    page.get_by_test_id("record-k050").wait_for()
    pager.get_by_role("button", name="Next →").click()
    page.get_by_test_id("record-k119").wait_for()
    assert "101\u2013120 of 120" in pager.inner_text()
    assert pager.get_by_role("button", name="Next →").is_disabled()
    pager.get_by_role("button", name="← Previous").click()
    page.get_by_test_id("record-k050").wait_for()


def test_a_viewer_reads_but_cannot_change(signed_in, server, browser):
    page = signed_in
    store = post_json(page, f"{server}/api/datastores", {"name": "Shared"})
    url = f"{server}/api/datastores/{store['id']}/records/only"
    post_json(page, url, {"data": {"n": 1}}, method="PUT")
    viewer = {"email": "viewer@example.com", "name": "Vera", "password": "viewer password 1"}
    post_json(page, f"{server}/api/users", {**viewer, "role": "viewer"})

    context = browser.new_context(viewport={"width": 1600, "height": 950})
    try:
        reader = context.new_page()
        reader.goto(server + "/")
        reader.get_by_label("Email").fill(viewer["email"])
        reader.get_by_label("Password").fill(viewer["password"])
        reader.get_by_role("button", name="Sign in").click()
        reader.get_by_role("heading", name="Scenarios").wait_for()
        reader.get_by_role("link", name="Data stores").click()
        row = reader.get_by_role("row").filter(has_text="Shared")
        row.wait_for()
        assert reader.get_by_role("button", name="New data store").count() == 0
        assert row.get_by_role("button").count() == 0
        row.get_by_role("link", name="Shared").click()
        reader.get_by_test_id("record-only").click()
        reader.get_by_role("list", name="Data").wait_for()
        for name in ("Add record", "Delete all records", "Edit", "Delete", "Edit JSON"):
            assert reader.get_by_role("button", name=name, exact=True).count() == 0, name
    finally:
        context.close()


def test_edit_and_remove_a_stores_data_structure(signed_in, server):
    page = signed_in
    store = post_json(page, f"{server}/api/datastores", {"name": "Leads", "structure": STRUCTURE})
    page.get_by_role("link", name="Data stores").click()
    page.get_by_test_id(f"datastore-{store['id']}").get_by_role("button", name="Structure").click()
    form = page.get_by_test_id(f"structure-{store['id']}")
    assert json.loads(form.get_by_label("Data structure").input_value()) == STRUCTURE
    form.get_by_label("Data structure").fill('{"spec": [')
    form.get_by_text("Not valid JSON").wait_for()
    assert form.get_by_role("button", name="Save structure").is_disabled()
    wider = {"spec": [*STRUCTURE["spec"], {"name": "email", "type": "email"}]}
    form.get_by_label("Data structure").fill(json.dumps(wider))
    shot(page, "datastores-structure")
    form.get_by_role("button", name="Save structure").click()
    form.wait_for(state="detached")

    def stored():
        answer = page.request.get(f"{server}/api/datastores/{store['id']}")
        return answer.json()["structure"]

    assert stored() == wider
    page.get_by_test_id(f"datastore-{store['id']}").get_by_role("button", name="Structure").click()
    form.get_by_label("Data structure").fill("")
    form.get_by_role("button", name="Save structure").click()
    form.wait_for(state="detached")
    assert stored() is None
