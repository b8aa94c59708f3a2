"""App definitions load from files — Switchboard's single files and Make's local-development
folders — and a broken one is refused with the file, the JSON path and the reason."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from engine.registry import ModuleRegistry, default_registry
from engine.spec import Effect
from modules.apps import (
    AppDefinitionError,
    connection_kind,
    load_app,
    module_specs,
    register_apps,
)
from modules.apps.loader import strip_json_comments

FIXTURES = Path(__file__).parent / "fixtures"
TODO = yaml.safe_load((FIXTURES / "todo" / "app.yaml").read_text())


def _write(folder: Path, document, name="app.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if name.endswith(".json"):
        path.write_text(json.dumps(document))
    else:
        path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_a_json_file_loads_like_the_yaml_one(tmp_path):
    app = load_app(_write(tmp_path / "todo", TODO, "app.json"))
    assert app.name == "todo"
    assert "todo:createItem" in [spec.id for spec in module_specs(app)]


def test_a_make_local_development_folder_imports_as_its_custom_app(tmp_path):
    app = load_app(FIXTURES / "make-local")
    assert app.name == "app#forms-a1b2c3"  # as Make's blueprints name custom apps
    specs = {spec.id: spec for spec in module_specs(app)}
    assert set(specs) == {"app#forms-a1b2c3:getForm", "app#forms-a1b2c3:watchSubmissions"}
    get_form = specs["app#forms-a1b2c3:getForm"]
    assert get_form.label == "Get a Form" and get_form.description == "Reads one form."
    assert set(get_form.input.model_json_schema()["properties"]) == {"formId", "extra"}
    # The webhook's own parameters are asked for on the instant trigger.
    trigger = specs["app#forms-a1b2c3:watchSubmissions"]
    assert {"__IMTCONN__", "__IMTHOOK__", "formId"} <= set(
        trigger.parameters.model_json_schema()["properties"]
    )
    assert set(trigger.hooks) == {"webhook_bundles", "attach_webhook", "detach_webhook", "rpc"}
    # A select Make fills by an RPC names it for the editor (POST /api/modules/…/rpcs/<name>).
    form_id = get_form.input.model_json_schema()["properties"]["formId"]
    assert form_id["x-make-rpc"] == "listForms"
    # What each does to records, for the sync log: Make's actionCrud, a trigger watches.
    assert (get_form.effect, trigger.effect) == (Effect.READ, Effect.WATCH)
    kind = connection_kind(app)
    assert [(f.name, f.secret) for f in kind.fields] == [("apiKey", True)]


def test_an_action_says_what_it_does_to_records_with_its_crud(tmp_path):
    document = json.loads(json.dumps(TODO))
    unsaid = {s.id: s.effect for s in module_specs(load_app(_write(tmp_path / "a", document)))}
    assert unsaid["todo:createItem"] is Effect.CALL  # an action that does not say: not a write
    document["modules"]["createItem"]["crud"] = "create"
    said = {s.id: s for s in module_specs(load_app(_write(tmp_path / "b", document)))}
    assert said["todo:createItem"].effect is Effect.CREATE and said["todo:createItem"].writes


def test_json_comments_go_but_urls_in_strings_stay():
    text = '{"url": "https://x.example//a", /* a */ "b": 1 // c\n}'
    assert json.loads(strip_json_comments(text)) == {"url": "https://x.example//a", "b": 1}


BROKEN = [
    (
        lambda d: d["modules"]["createItem"]["communication"].update(url="/x/{{nope(1)}}"),
        "modules.createItem.communication.url",
        "unknown function 'nope'",
    ),
    (
        lambda d: d["modules"]["createItem"]["communication"].update(respons={}),
        "modules.createItem.communication.respons",
        "is not a directive here",
    ),
    (
        lambda d: d["modules"]["getItem"].pop("label"),
        "modules.getItem.label",
        "Field required",
    ),
    (
        lambda d: d.update(functions={"sign": "function sign() {}"}),
        "functions",
        "custom IML functions are JavaScript",
    ),
    (
        lambda d: d["modules"]["getItem"]["communication"].update(aws={"key": "k"}),
        "modules.getItem.communication.aws",
        "AWS request signing is not supported",
    ),
    (
        lambda d: d["modules"]["newEvent"].pop("webhook"),
        "modules.newEvent.webhook",
        "names one of the app's webhooks",
    ),
    (
        lambda d: d["modules"]["watchItems"]["communication"]["response"].pop("trigger"),
        "modules.watchItems.communication",
        "needs response.trigger",
    ),
    (
        lambda d: d["modules"]["listItems"]["expect"][0].pop("name"),
        "modules.listItems.expect[0].name",
        "every parameter needs a name",
    ),
    (
        lambda d: d["modules"]["listItems"]["communication"]["response"].update(type="csv"),
        "modules.listItems.communication.response.type",
        "'csv' is not one of",
    ),
    (lambda d: d.update(name="Todo App"), "name", "String should match pattern"),
]


@pytest.mark.parametrize(("breaks", "path", "reason"), BROKEN)
def test_a_broken_definition_names_file_path_and_reason(tmp_path, breaks, path, reason):
    document = json.loads(json.dumps(TODO))
    breaks(document)
    source = _write(tmp_path / "todo", document)
    with pytest.raises(AppDefinitionError) as raised:
        load_app(source)
    error = raised.value
    assert (error.source, error.path) == (str(source), path)
    assert reason in error.reason
    assert str(error).startswith(f"{source}: {path}: ")


def test_a_file_that_is_not_yaml_names_its_line(tmp_path):
    source = tmp_path / "app.yaml"
    source.write_text("name: todo\nlabel: [unclosed\n")
    with pytest.raises(AppDefinitionError, match=r"app\.yaml: line 3, column 1: not valid YAML"):
        load_app(source)


def test_a_make_folder_naming_a_missing_file_is_refused(tmp_path):
    folder = tmp_path / "forms"
    shutil.copytree(FIXTURES / "make-local", folder)
    (folder / "modules" / "getForm" / "interface.iml.json").unlink()
    with pytest.raises(AppDefinitionError) as raised:
        load_app(folder)
    assert raised.value.path == "components.module.getForm.codeFiles.interface"
    assert "missing file" in raised.value.reason


def test_apps_load_from_the_folders_of_switchboard_apps_path(tmp_path):
    _write(tmp_path / "one" / "todo", TODO)
    shutil.copytree(FIXTURES / "make-local", tmp_path / "two" / "forms")
    registry = ModuleRegistry()
    paths = f"{tmp_path / 'one'}:{tmp_path / 'two'}"
    register_apps(registry, {"SWITCHBOARD_APPS_PATH": paths})
    assert "todo:createItem" in registry and "app#forms-a1b2c3:getForm" in registry
    assert registry.apps["todo"].label == "Todo"
    assert registry.connection_kind("todo").label == "Todo API key"
    # The library's apps come too, and the installed registry has them.
    assert "slack:CreateMessage" in registry and "slack:CreateMessage" in default_registry()


def test_an_app_already_installed_is_refused_by_its_file(tmp_path):
    source = _write(tmp_path / "slack", {**TODO, "name": "slack"})
    with pytest.raises(AppDefinitionError, match="an app 'slack' is already installed"):
        register_apps(ModuleRegistry(), {"SWITCHBOARD_APPS_PATH": str(tmp_path)})
    assert source.exists()


def test_a_missing_apps_folder_is_an_error():
    with pytest.raises(AppDefinitionError, match="names no folder"):
        register_apps(ModuleRegistry(), {"SWITCHBOARD_APPS_PATH": "/no/such/folder"})


def test_a_problem_in_a_make_folder_names_its_code_file(tmp_path):
    folder = tmp_path / "forms"
    shutil.copytree(FIXTURES / "make-local", folder)
    communication = folder / "modules" / "getForm" / "communication.iml.json"
    communication.write_text('{"url": "/forms/{{nope(parameters.formId)}}"}')
    with pytest.raises(AppDefinitionError) as raised:
        load_app(folder)
    assert (raised.value.source, raised.value.path) == (str(communication), "url")
    assert "unknown function 'nope'" in raised.value.reason
    (folder / "modules" / "getForm" / "interface.iml.json").write_text('{"not": "a list"}')
    communication.write_text("{}")
    with pytest.raises(AppDefinitionError) as raised:
        load_app(folder)
    assert raised.value.source == str(folder / "modules" / "getForm" / "interface.iml.json")


def test_a_make_project_file_of_another_shape_is_refused_by_its_path(tmp_path):
    folder = tmp_path / "forms"
    shutil.copytree(FIXTURES / "make-local", folder)
    project = json.loads((folder / "makecomapp.json").read_text())
    project["components"]["module"] = [{"name": "getForm", "codeFiles": {}}]
    (folder / "makecomapp.json").write_text(json.dumps(project))
    with pytest.raises(AppDefinitionError) as raised:
        load_app(folder)
    assert raised.value.source == str(folder / "makecomapp.json")
    assert raised.value.path == "components.module"
