"""A select an app defined as data fills by an RPC: the module panel loads its choices from the
app's sandbox through the module's connection, and the choice is saved in the blueprint."""

from __future__ import annotations

import json

import pytest

from engine.config import Settings
from engine.queue import InlineQueue
from engine.registry import default_registry
from engine.service import Service, ServiceOptions
from engine.store import open_store
from modules.apps import load_app, register_app
from tests.apps.harness import AppSandboxes
from tests.apps.test_runtime import TODO
from tests.browser.conftest import shot
from tests.browser.helpers import api_session, create_scenario, save


@pytest.fixture
def service(tmp_path):
    """conftest's service, with the tests' ``todo`` app installed."""
    environ = {
        "SWITCHBOARD_VAR_DIR": str(tmp_path / "var"),
        "SWITCHBOARD_ALLOW_PRIVATE_NETWORK": "1",  # the sandbox listens on loopback
    }
    settings = Settings.from_env(environ).with_secret_key_file()
    store = open_store(settings.database_url, secret_box=settings.secret_box())
    queue = InlineQueue(workers=1)
    registry = default_registry().copy()
    register_app(registry, load_app(TODO / "app.yaml"))
    service = Service(store, queue, settings, registry, options=ServiceOptions())
    yield service
    service.close()
    queue.close()
    store.close()


@pytest.fixture
def todo():
    with AppSandboxes(custom=[TODO]) as sandboxes:
        sandboxes.seed({"items": [{"title": "Buy milk"}, {"title": "Call Ann"}]})
        yield sandboxes


def stored_connection(page, server, todo) -> int:
    values = todo.definitions["todo"].connection_values(f"{todo.base_url}/_app/todo")
    body = {
        "kind": "todo",
        "name": "My todos",
        "data": {"base_url": values["base_url"]},
        "secrets": {"apiKey": values["apiKey"]},
    }
    response = page.request.post(
        server + "/api/connections",
        data=json.dumps(body),
        headers={**api_session(page, server), "Content-Type": "application/json"},
    )
    assert response.ok, response.text()
    return response.json()["id"]


def blueprint(connection: int) -> dict:
    close = {
        "id": 1,
        "module": "todo:closeItem",
        "version": 1,
        "parameters": {"__IMTCONN__": connection},
        "mapper": {},
        "metadata": {"designer": {"x": 0, "y": 0}},
    }
    return {"name": "Close a todo", "flow": [close], "metadata": {"version": 1}}


def test_a_select_filled_by_the_apps_rpc_loads_its_choices(signed_in, server, todo):
    page = signed_in
    scenario_id = create_scenario(page, server, blueprint(stored_connection(page, server, todo)))
    page.goto(f"{server}/#/scenarios/{scenario_id}")
    page.get_by_test_id("module-1").click()
    item = page.get_by_test_id("field-mapper.id")
    page.wait_for_function(
        "() => document.querySelectorAll(\"[data-testid='field-mapper.id'] option\").length > 2"
    )
    assert item.locator("option").all_inner_texts()[1:] == ["Buy milk", "Call Ann"]
    item.select_option(label="Call Ann")
    shot(page, "rpc-options")
    save(page)
    stored = page.request.get(f"{server}/api/scenarios/{scenario_id}/export")
    assert stored.ok, stored.text()
    assert stored.json()["flow"][0]["mapper"]["id"] == "2"
