"""Modules with JSON Schemas, app groups, functions, validation, expression previews, and the
OpenAPI document."""

from __future__ import annotations

import json
import re

import pytest

from engine.filters import OPERATOR_CODES
from engine.mapping import KEYWORDS
from tests.service.blueprints import HOOK_TO_VARIABLE
from webui.api.routing import ENDPOINTS
from webui.openapi import standalone_document

SCHEMA_TYPES = {"object", "array", "string", "number", "integer", "boolean", "null"}
SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
SUBSCHEMA_MAPS = ("properties", "$defs", "patternProperties")
SUBSCHEMAS = ("items", "additionalProperties", "not", "if", "then", "else", "contains")


def check_schema(schema, root, where="#"):
    """A structural JSON Schema (2020-12) check: keyword types, sub-schemas, resolvable refs."""
    if isinstance(schema, bool):
        return
    assert isinstance(schema, dict), where
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        assert set(kinds) <= SCHEMA_TYPES, f"{where}: type {kind}"
    if "required" in schema:
        assert all(isinstance(name, str) for name in schema["required"]), where
    if "enum" in schema:
        assert isinstance(schema["enum"], list), where
    for key in SUBSCHEMA_LISTS:
        for index, sub in enumerate(schema.get(key, [])):
            check_schema(sub, root, f"{where}/{key}/{index}")
    for key in SUBSCHEMA_MAPS:
        assert isinstance(schema.get(key, {}), dict), where
        for name, sub in schema.get(key, {}).items():
            check_schema(sub, root, f"{where}/{key}/{name}")
    for key in SUBSCHEMAS:
        if key in schema:
            check_schema(schema[key], root, f"{where}/{key}")
    if "$ref" in schema:
        resolve(schema["$ref"], root, where)


def resolve(ref, root, where):
    assert ref.startswith("#/"), f"{where}: non-local $ref {ref}"
    node = root
    for part in ref[2:].split("/"):
        assert part in node, f"{where}: $ref {ref} does not resolve"
        node = node[part]
    return node


def test_modules_carry_valid_json_schemas(owner, service):
    modules = owner.get("/api/modules").json
    assert len(modules) == len(service.registry)
    by_id = {m["id"]: m for m in modules}
    http = (
        by_id["http:ActionSendData"]
        if "http:ActionSendData" in by_id
        else next(m for m in modules if m["app"] == "http")
    )
    assert http["app_label"] == "HTTP"
    assert by_id["builtin:BasicRouter"]["app_label"] == "Flow Control"
    for module in modules:
        assert set(module) >= {"id", "app", "kind", "label", "description", "version"}
        for key in ("parameters_schema", "input_schema", "output_schema"):
            schema = module[key]
            if schema is None:
                assert key == "output_schema"
                continue
            assert schema.get("type") == "object" or "$ref" in schema or "anyOf" in schema, (
                module["id"],
                key,
            )
            check_schema(schema, schema, f"{module['id']}.{key}")


def test_apps_have_labels_and_colours(owner, service):
    apps = owner.get("/api/apps").json
    assert apps[0]["app"] == "builtin"
    for app in apps:
        assert re.fullmatch(r"#[0-9a-f]{6}", app["color"]), app
        assert app["label"] and app["icon"]
    apps_of_modules = {spec.app for spec in service.registry.values()}
    assert apps_of_modules <= {app["app"] for app in apps}


def test_the_catalogue_answers_each_record_types_output_schema(owner):
    """A 1CRM record module outputs the chosen record type's fields (#22, defect 15)."""
    found = {m["id"]: m for m in owner.get("/api/modules").json}
    choice = found["onecrm:NewEvent"]["output_choice"]
    assert choice["setting"] == "model"
    accounts = choice["schemas"]["accounts"]["properties"]
    assert "email1" in accounts and "invoice_number" not in accounts
    assert "due_date" in choice["schemas"]["invoice"]["properties"]
    assert found["http:MakeRequest"]["output_choice"] is None


def test_apps_defined_as_data_show_like_any_module(owner):
    modules = {m["id"]: m for m in owner.get("/api/modules").json}
    slack = modules["slack:CreateMessage"]
    assert (slack["app_label"], slack["kind"], slack["label"]) == (
        "Slack",
        "action",
        "Create a Message",
    )
    text = slack["input_schema"]["properties"]["text"]
    assert text["title"] == "Text" and text["x-make-type"] == "text"
    apps = {app["app"]: app for app in owner.get("/api/apps").json}
    assert (apps["slack"]["label"], apps["slack"]["color"]) == ("Slack", "#4a154b")
    kinds = {k["id"]: k for k in owner.get("/api/connection-kinds").json}
    assert [f["name"] for f in kinds["slack"]["fields"]] == ["token", "base_url"]


def test_functions_for_the_picker(owner):
    functions = owner.get("/api/functions").json
    by_name = {f["name"]: f for f in functions}
    assert by_name["if"]["signature"] == "if(condition; value1; value2)"
    assert by_name["if"]["group"] == "general"
    assert "value1" in by_name["if"]["description"]
    assert all(f["signature"].startswith(f["name"] + "(") for f in functions)


def test_keywords_for_the_picker_are_the_parsers_own(owner):
    keywords = owner.get("/api/keywords").json
    assert [k["name"] for k in keywords] == list(KEYWORDS)
    by_name = {k["name"]: k["description"] for k in keywords}
    assert {"now", "timestamp", "emptystring", "null"} <= set(by_name)
    assert all(description.strip() for description in by_name.values())


def test_operators_for_the_filter_editor(owner):
    groups = owner.get("/api/operators").json
    assert [g["label"] for g in groups][:3] == [
        "Basic operators",
        "Text operators",
        "Numeric operators",
    ]
    by_code = {o["code"]: o for g in groups for o in g["operators"]}
    assert set(by_code) == OPERATOR_CODES  # every operator, once
    assert sum(len(g["operators"]) for g in groups) == len(OPERATOR_CODES)
    assert by_code["exist"] == {"code": "exist", "label": "exists", "unary": True}
    assert by_code["text:contain:ci"]["label"] == "contains (case insensitive)"
    assert by_code["array:greaterorequal"] == {
        "code": "array:greaterorequal",
        "label": "length greater than or equal to",
        "unary": False,
    }


def test_validate(owner):
    good = owner.post("/api/validate", json={"blueprint": json.loads(HOOK_TO_VARIABLE)})
    assert good.json == {"problems": [], "unsupported": {}}
    as_text = owner.post("/api/validate", json={"blueprint": HOOK_TO_VARIABLE})
    assert as_text.json == {"problems": [], "unsupported": {}}
    unknown = json.loads(HOOK_TO_VARIABLE)
    unknown["flow"].append(
        {"id": 9, "module": "mandrill:sendMessage", "version": 1, "mapper": {"text": "{{1.n"}}
    )
    answer = owner.post("/api/validate", json={"blueprint": unknown}).json
    assert answer["unsupported"] == {"mandrill:sendMessage": [9]}
    assert answer["problems"][0]["module_id"] == 9
    assert answer["problems"][0]["path"].startswith("flow[2]")
    broken = owner.post("/api/validate", json={"blueprint": "{nope"}).json
    assert broken["problems"] and broken["unsupported"] == {}
    assert owner.post("/api/validate", json={}).status_code == 422


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"template": "Hi {{upper(1.name)}}", "bundles": {"1": {"name": "ada"}}},
            {"value": "Hi ADA", "error": None},
        ),
        ({"template": "{{1.n + 2}}", "bundles": {"1": {"n": 3}}}, {"value": 5, "error": None}),
        ({"template": 42}, {"value": 42, "error": None}),
    ],
)
def test_expression_preview(owner, body, expected):
    assert owner.post("/api/expressions/preview", json=body).json == expected


def test_expression_preview_errors(owner):
    syntax = owner.post("/api/expressions/preview", json={"template": "{{upper(1.a}}"}).json
    assert syntax["value"] is None
    assert syntax["error"]["message"] and syntax["error"]["column"] is not None
    unknown = owner.post("/api/expressions/preview", json={"template": "{{nope(1)}}"}).json
    assert "unknown function" in unknown["error"]["message"]
    bad_key = owner.post("/api/expressions/preview", json={"template": "x", "bundles": {"a": {}}})
    assert bad_key.json["error"]["message"] == "bundle keys are module ids"


def test_openapi_lists_every_api_route(app, client):
    document = client.get("/api/openapi.json").json
    assert document["openapi"] == "3.1.0"
    listed = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in listed, (method, path)
            assert rule.endpoint in ENDPOINTS
    check_schema({"$defs": document["components"]["schemas"]}, document)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            check_schema(
                {
                    "anyOf": [
                        c["schema"]
                        for r in operation["responses"].values()
                        for c in r.get("content", {}).values()
                    ]
                },
                document,
                f"{method} {path}",
            )
            assert operation["x-min-role"] in {"public", "viewer", "editor", "owner"}


def test_openapi_describes_bodies_and_parameters(client):
    document = client.get("/api/openapi.json").json
    create = document["paths"]["/api/scenarios"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ScenarioIn"}
    assert document["components"]["schemas"]["ScenarioIn"]["required"] == ["name"]
    assert "201" in create["responses"]
    executions = document["paths"]["/api/executions"]["get"]
    assert {p["name"] for p in executions["parameters"]} == {
        "scenario_id",
        "status",
        "trigger_kind",
        "since",
        "until",
        "limit",
        "cursor",
    }
    get_one = document["paths"]["/api/scenarios/{scenario_id}"]["get"]
    assert get_one["parameters"][0] == {
        "name": "scenario_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
    }
    assert document["paths"]["/api/auth/login"]["post"]["security"] == []


def test_the_generator_reads_the_served_document(app, client):
    """The standalone document the types come from is the one the API serves."""
    assert client.get("/api/openapi.json").json == standalone_document()
