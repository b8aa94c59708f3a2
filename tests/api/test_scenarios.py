"""Scenarios through the API: create, import (every wrapper, multipart), read, save versions,
export byte-exact, duplicate, (de)activate, run, delete; and their errors."""

from __future__ import annotations

import io
import json

from tests.service.blueprints import HOOK_TO_VARIABLE, blueprint, set_variable

MANUAL = blueprint(set_variable(1, value="five"), name="Manual")
INVALID = json.dumps(
    {
        "name": "Broken",
        "flow": [
            {"id": 1, "module": "util:SetVariable2", "version": 1, "mapper": {"value": "{{1.n"}},
        ],
    }
)


def test_create_empty_and_list(owner):
    created = owner.post("/api/scenarios", json={"name": "Empty"})
    assert created.status_code == 201
    detail = created.json
    assert detail["name"] == "Empty" and detail["current_version"] == 1
    assert detail["blueprint"]["flow"] == []
    assert detail["validation"] == {"problems": [], "unsupported": {}}
    assert detail["active"] is False and detail["last_run"] is None
    listed = owner.get("/api/scenarios").json
    assert [s["name"] for s in listed] == ["Empty"]
    assert "blueprint" not in listed[0]


def test_create_with_a_blueprint_object(owner):
    created = owner.post(
        "/api/scenarios", json={"name": "Hook", "blueprint": json.loads(HOOK_TO_VARIABLE)}
    )
    assert created.status_code == 201
    assert created.json["name"] == "Hook"
    assert created.json["scheduling"] == {"type": "immediately"}
    hooks = owner.get(f"/api/webhooks?scenario_id={created.json['id']}").json
    assert len(hooks) == 1 and hooks[0]["url"].startswith("http://localhost/hooks/")


def test_invalid_blueprint_is_422_with_every_problem(owner):
    response = owner.post("/api/scenarios", json={"name": "x", "blueprint": json.loads(INVALID)})
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "invalid"
    assert error["problems"] and error["problems"][0]["path"].startswith("flow[0]")
    assert error["path"] == error["problems"][0]["path"]
    not_a_blueprint = owner.post("/api/scenarios", json={"name": "x", "blueprint": [1, 2]})
    assert not_a_blueprint.status_code == 422


def test_import_accepts_every_wrapper_and_exports_byte_exact(owner):
    bare = HOOK_TO_VARIABLE
    wrapped_api = json.dumps({"code": "OK", "response": {"blueprint": json.loads(bare)}})
    wrapped_template = (
        '{"blueprint": ' + bare + ', "scheduling": {"type": "indefinitely", "interval": 3600}}'
    )
    for text in (bare, wrapped_api, wrapped_template):
        response = owner.post(
            "/api/scenarios/import", data=text.encode(), content_type="application/json"
        )
        assert response.status_code == 201, response.json
        exported = owner.get(f"/api/scenarios/{response.json['id']}/export")
        assert exported.status_code == 200
        assert exported.get_data(as_text=True) == text
        assert exported.headers["Content-Disposition"].startswith("attachment;")
    assert response.json["scheduling"]["interval"] == 3600


def test_import_a_file_with_a_bom_and_a_name(owner):
    raw = "\ufeff".encode() + MANUAL.encode()
    response = owner.post(
        "/api/scenarios/import",
        data={"file": (io.BytesIO(raw), "bp.json"), "name": "From file"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.json
    assert response.json["name"] == "From file"
    exported = owner.get(f"/api/scenarios/{response.json['id']}/export").get_data(as_text=True)
    assert exported == MANUAL


def test_import_errors(owner):
    empty = owner.post("/api/scenarios/import")
    assert empty.status_code == 400
    text = owner.post("/api/scenarios/import", data="{}", content_type="text/plain")
    assert text.status_code == 415
    bad_json = owner.post("/api/scenarios/import", data="{nope", content_type="application/json")
    assert bad_json.status_code == 422
    assert bad_json.json["error"]["problems"]
    invalid = owner.post("/api/scenarios/import", data=INVALID, content_type="application/json")
    assert invalid.status_code == 422


def test_bad_json_body_is_400(owner):
    response = owner.post("/api/scenarios", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_json"
    assert response.json["error"]["path"] is None


def test_unknown_keys_are_refused(owner):
    response = owner.post("/api/scenarios", json={"name": "x", "colour": "red"})
    assert response.status_code == 422
    assert response.json["error"]["path"] == "colour"


def test_get_update_versions(owner):
    created = owner.post("/api/scenarios", json={"name": "V", "blueprint": MANUAL}).json
    sid = created["id"]
    assert owner.get(f"/api/scenarios/{sid}").json["blueprint"]["name"] == "Manual"
    renamed = owner.put(f"/api/scenarios/{sid}", json={"name": "Renamed"}).json
    assert renamed["name"] == "Renamed" and renamed["current_version"] == 1
    same = owner.put(f"/api/scenarios/{sid}", json={"blueprint": MANUAL}).json
    assert same["current_version"] == 1  # unchanged blueprint: no new version
    changed = json.loads(MANUAL)
    changed["flow"].append(set_variable(2, value="2"))
    saved = owner.put(f"/api/scenarios/{sid}", json={"blueprint": changed}).json
    assert saved["current_version"] == 2
    scheduled = owner.put(
        f"/api/scenarios/{sid}", json={"scheduling": {"type": "indefinitely", "interval": 600}}
    ).json
    assert scheduled["scheduling"]["interval"] == 600
    versions = owner.get(f"/api/scenarios/{sid}/versions").json
    assert [v["version"] for v in versions] == [2, 1]
    old = owner.get(f"/api/scenarios/{sid}/export?version=1").get_data(as_text=True)
    assert old == MANUAL
    assert owner.get(f"/api/scenarios/{sid}/export?version=9").status_code == 404
    assert owner.get(f"/api/scenarios/{sid}/export?version=zero").status_code == 422
    bad = owner.put(f"/api/scenarios/{sid}", json={"scheduling": {"type": "whenever"}})
    assert bad.status_code == 400
    invalid = owner.put(f"/api/scenarios/{sid}", json={"blueprint": json.loads(INVALID)})
    assert invalid.status_code == 422
    assert owner.get(f"/api/scenarios/{sid}").json["current_version"] == 2


def test_restore_a_version(owner, viewer):
    sid = owner.post("/api/scenarios", json={"name": "V", "blueprint": MANUAL}).json["id"]
    changed = json.loads(MANUAL)
    changed["flow"].append(set_variable(2, value="2"))
    owner.put(f"/api/scenarios/{sid}", json={"blueprint": changed})
    restored = owner.post(f"/api/scenarios/{sid}/versions/1/restore")
    assert restored.status_code == 200
    assert restored.json["current_version"] == 3
    assert restored.json["blueprint"] == json.loads(MANUAL)
    versions = owner.get(f"/api/scenarios/{sid}/versions").json
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert {v["saved_by"] for v in versions} == {owner.user["email"]}
    assert owner.get(f"/api/scenarios/{sid}/export").get_data(as_text=True) == MANUAL
    assert owner.post(f"/api/scenarios/{sid}/versions/9/restore").status_code == 404
    assert viewer.post(f"/api/scenarios/{sid}/versions/2/restore").status_code == 403


def test_duplicate_activate_deactivate_delete(owner):
    sid = owner.post("/api/scenarios", json={"name": "Hook", "blueprint": HOOK_TO_VARIABLE}).json[
        "id"
    ]
    copy = owner.post(f"/api/scenarios/{sid}/duplicate", json={})
    assert copy.status_code == 201
    assert copy.json["name"] == "Hook (copy)" and copy.json["id"] != sid
    named = owner.post(f"/api/scenarios/{sid}/duplicate", json={"name": "Other"}).json
    assert named["name"] == "Other"
    active = owner.post(f"/api/scenarios/{sid}/activate")
    assert active.status_code == 200 and active.json["active"] is True
    assert "blueprint" not in active.json
    assert owner.post(f"/api/scenarios/{sid}/deactivate").json["active"] is False
    assert owner.delete(f"/api/scenarios/{sid}").status_code == 204
    assert owner.get(f"/api/scenarios/{sid}").status_code == 404
    assert owner.delete(f"/api/scenarios/{sid}").status_code == 404


def test_unknown_scenario_is_404_everywhere(owner):
    for method, path in [
        ("GET", "/api/scenarios/999"),
        ("PUT", "/api/scenarios/999"),
        ("DELETE", "/api/scenarios/999"),
        ("POST", "/api/scenarios/999/duplicate"),
        ("POST", "/api/scenarios/999/activate"),
        ("POST", "/api/scenarios/999/deactivate"),
        ("GET", "/api/scenarios/999/versions"),
        ("POST", "/api/scenarios/999/versions/1/restore"),
        ("GET", "/api/scenarios/999/export"),
        ("POST", "/api/scenarios/999/run"),
    ]:
        response = owner.open(method, path, json={} if method != "GET" else None)
        assert response.status_code == 404, (method, path, response.json)
        assert response.json["error"]["code"] == "not_found"


def test_run_with_a_bundle_and_queued(owner, service):
    sid = owner.post("/api/scenarios", json={"name": "M", "blueprint": MANUAL}).json["id"]
    ran = owner.post(f"/api/scenarios/{sid}/run", json={"bundle": {"n": 5}})
    assert ran.status_code == 200, ran.json
    assert ran.json["status"] == "success" and ran.json["trigger_kind"] == "manual"
    queued = owner.post(f"/api/scenarios/{sid}/run")
    assert queued.status_code == 202
    assert queued.json["scenario_id"] == sid
    listed = owner.get("/api/scenarios").json[0]
    assert listed["last_run"] is not None
