"""Dynamic options: the editor asks the API for a select's choices, which an app defined as
data loads with its RPC, over real HTTP, from the app's sandbox (the tests' ``todo`` app)."""

from __future__ import annotations

import pytest

from engine.config import Settings
from engine.registry import default_registry
from modules.apps import load_app, register_app
from tests.apps.harness import AppSandboxes
from tests.apps.test_runtime import TODO

URL = "/api/modules/todo:closeItem/rpcs/listItems"


@pytest.fixture
def settings(tmp_path):
    environ = {
        "SWITCHBOARD_VAR_DIR": str(tmp_path / "var"),
        "SWITCHBOARD_ALLOW_PRIVATE_NETWORK": "1",  # the sandbox listens on loopback
    }
    return Settings.from_env(environ).with_secret_key_file()


@pytest.fixture
def registry():
    registry = default_registry().copy()
    register_app(registry, load_app(TODO / "app.yaml"))
    return registry


@pytest.fixture
def todo():
    with AppSandboxes(custom=[TODO]) as sandboxes:
        sandboxes.seed({"items": [{"title": "Buy milk"}, {"title": "Call Ann"}]})
        yield sandboxes


def stored_connection(owner, todo, **changes):
    values = {**todo.definitions["todo"].connection_values(f"{todo.base_url}/_app/todo"), **changes}
    response = owner.post(
        "/api/connections",
        json={
            "kind": "todo",
            "name": "Todo",
            "data": {"base_url": values["base_url"]},
            "secrets": {"apiKey": values["apiKey"]},
        },
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_the_schema_names_the_rpc_and_the_api_loads_its_choices(owner, todo):
    [spec] = [m for m in owner.get("/api/modules").json if m["id"] == "todo:closeItem"]
    assert spec["input_schema"]["properties"]["id"]["x-make-rpc"] == "listItems"
    response = owner.post(URL, json={"connection": stored_connection(owner, todo)})
    assert response.status_code == 200, response.json
    assert response.json == {
        "items": [{"label": "Buy milk", "value": "1"}, {"label": "Call Ann", "value": "2"}],
        "error": None,
    }
    [sent] = [r for r in todo.requests("/items") if r["method"] == "GET"]
    assert sent["headers"]["X-Api-Key"] == "todo-key"  # with the stored connection's key


def test_a_refusal_of_the_app_is_an_answer_not_an_error(owner, todo):
    connection = stored_connection(owner, todo, apiKey="wrong")
    response = owner.post(URL, json={"connection": connection})
    assert response.status_code == 200
    assert response.json["items"] == [] and "bad key" in response.json["error"]


@pytest.mark.parametrize(
    ("url", "body", "expected"),
    [
        (URL, {}, "choose a connection"),
        ("/api/modules/nope:thing/rpcs/x", {"connection": 1}, "no module nope:thing"),
        ("/api/modules/json:ParseJSON/rpcs/x", {}, "has no choices to load"),
    ],
)
def test_what_cannot_load_choices_is_a_clear_400(owner, url, body, expected):
    response = owner.post(url, json=body)
    assert response.status_code == 400
    assert expected in response.json["error"]["message"]


def test_loading_choices_needs_an_editor(viewer):
    assert viewer.post(URL, json={}).status_code == 403
