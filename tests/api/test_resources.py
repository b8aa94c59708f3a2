"""Connections, webhooks, executions, incomplete executions and data stores through the API."""

from __future__ import annotations

import json

from engine.errors import AccountValidationError
from engine.spec import AuthType, ConnectionField, ConnectionKind
from tests.service.blueprints import HOOK_TO_VARIABLE, blueprint, set_variable

MANUAL = blueprint(set_variable(1, value="five"), name="Manual")


def demo_kind(test=None):
    return ConnectionKind(
        id="demo",
        label="Demo",
        auth=AuthType.API_KEY,
        fields=(
            ConnectionField(name="url", label="URL", default="https://demo.example"),
            ConnectionField(name="key", label="Key", secret=True),
        ),
        test=test,
    )


# -- connections ------------------------------------------------------------------------------


def test_connection_kinds_come_from_the_registry(owner, service):
    service.registry.register_connection_kind(demo_kind())
    kinds = {k["id"]: k for k in owner.get("/api/connection-kinds").json}
    demo = kinds["demo"]
    assert demo["auth"] == "api_key" and demo["app"] == "demo"
    assert demo["fields"][1] == {
        "name": "key",
        "label": "Key",
        "secret": True,
        "required": True,
        "default": None,
        "advanced": False,
        "help": "",
    }


def test_connections_never_show_secrets(owner, service, store):
    service.registry.register_connection_kind(demo_kind())
    created = owner.post(
        "/api/connections",
        json={"kind": "demo", "name": "Mine", "data": {}, "secrets": {"key": "s3cret"}},
    )
    assert created.status_code == 201, created.json
    assert created.json["data"] == {"url": "https://demo.example"}
    assert "s3cret" not in created.get_data(as_text=True)
    listed = owner.get("/api/connections")
    assert "s3cret" not in listed.get_data(as_text=True)
    assert [c["name"] for c in listed.json] == ["Mine"]
    assert store.get_connection(created.json["id"]).secrets["key"] == "s3cret"
    assert owner.delete(f"/api/connections/{created.json['id']}").status_code == 204
    assert owner.delete(f"/api/connections/{created.json['id']}").status_code == 404


def test_connection_errors(owner, service):
    service.registry.register_connection_kind(demo_kind())
    unknown = owner.post("/api/connections", json={"kind": "nope", "name": "x"})
    assert unknown.status_code == 422 and unknown.json["error"]["path"] == "kind"
    missing = owner.post("/api/connections", json={"kind": "demo", "name": "x"})
    assert missing.status_code == 422 and missing.json["error"]["path"] == "secrets.key"
    misplaced = owner.post(
        "/api/connections",
        json={"kind": "demo", "name": "x", "data": {"key": "in clear"}, "secrets": {"key": "k"}},
    )
    assert misplaced.status_code == 422 and misplaced.json["error"]["path"] == "data.key"


def test_connection_test(owner, service):
    def check(connection, session):
        if connection["key"] != "good":
            raise AccountValidationError("the key was refused")
        return {"account": "Demo Ltd"}

    service.registry.register_connection_kind(demo_kind(check))
    good = owner.post(
        "/api/connections", json={"kind": "demo", "name": "g", "secrets": {"key": "good"}}
    ).json
    bad = owner.post(
        "/api/connections", json={"kind": "demo", "name": "b", "secrets": {"key": "bad"}}
    ).json
    assert owner.post(f"/api/connections/{good['id']}/test").json == {
        "ok": True,
        "message": "account: Demo Ltd",
    }
    assert owner.post(f"/api/connections/{bad['id']}/test").json == {
        "ok": False,
        "message": "the key was refused",
    }
    assert owner.post("/api/connections/999/test").status_code == 404


# -- webhooks ---------------------------------------------------------------------------------


def test_webhooks(owner, app):
    sid = owner.post("/api/scenarios", json={"name": "S", "blueprint": MANUAL}).json["id"]
    created = owner.post("/api/webhooks", json={"name": "In", "scenario_id": sid})
    assert created.status_code == 201
    hook = created.json
    assert hook["url"].startswith("http://localhost/hooks/") and hook["queued"] == 0
    assert hook["enabled"] is True and hook["scenario_id"] == sid
    assert [h["id"] for h in owner.get(f"/api/webhooks?scenario_id={sid}").json] == [hook["id"]]
    assert owner.get("/api/webhooks?scenario_id=999").json == []
    token = hook["url"].rsplit("/", 1)[1]
    app.test_client().post(f"/hooks/{token}", json={"a": 1})
    assert owner.get(f"/api/webhooks/{hook['id']}").json["queued"] == 1  # inactive: waits
    assert owner.post("/api/webhooks", json={"name": "x", "scenario_id": 999}).status_code == 404
    assert owner.delete(f"/api/webhooks/{hook['id']}").status_code == 204
    assert owner.get(f"/api/webhooks/{hook['id']}").status_code == 404
    assert app.test_client().post(f"/hooks/{token}", json={}).status_code == 404


def test_webhook_url_uses_the_configured_base_url(owner, app):
    app.config["SWITCHBOARD_BASE_URL"] = "https://hooks.example.com/"
    hook = owner.post("/api/webhooks", json={"name": "In"}).json
    assert hook["url"].startswith("https://hooks.example.com/hooks/")


def test_webhook_url_follows_the_request_host(owner, app):
    app.config["SWITCHBOARD_ALLOWED_HOSTS"] = "sb.example"
    token = owner.post("/api/tokens", json={"name": "t"}).json["token"]
    hook = app.test_client().post(
        "/api/webhooks",
        json={"name": "In"},
        base_url="https://sb.example:8443",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert hook.json["url"].startswith("https://sb.example:8443/hooks/")


def test_determine_data_structure_from_the_next_request(owner, app):
    hook = owner.post("/api/webhooks", json={"name": "In"}).json
    learning = owner.post(f"/api/webhooks/{hook['id']}/determine")
    assert learning.status_code == 202 and learning.json["settings"]["learning"] is True
    token = hook["url"].rsplit("/", 1)[1]
    app.test_client().post(
        f"/hooks/{token}", data='{"name": "Ada", "age": 36}', content_type="application/json"
    )
    learned = owner.get(f"/api/webhooks/{hook['id']}").json["settings"]
    assert learned["learning"] is False
    assert learned["structure"] == [
        {"name": "name", "type": "text"},
        {"name": "age", "type": "number"},
    ]
    assert owner.post("/api/webhooks/999/determine").status_code == 404


# -- executions -------------------------------------------------------------------------------


def test_executions_page_and_detail(owner, clock):
    sid = owner.post("/api/scenarios", json={"name": "M", "blueprint": MANUAL}).json["id"]
    ids = []
    for _ in range(5):
        ids.append(owner.post(f"/api/scenarios/{sid}/run", json={"bundle": {}}).json["id"])
        clock.advance(seconds=1)
    first = owner.get(f"/api/executions?scenario_id={sid}&limit=2").json
    assert [e["id"] for e in first["items"]] == ids[::-1][:2]
    assert first["next_cursor"]
    seen = [e["id"] for e in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = owner.get(f"/api/executions?limit=2&cursor={cursor}").json
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
    assert seen == ids[::-1]
    assert owner.get("/api/executions?status=error").json["items"] == []
    assert owner.get("/api/executions?status=bogus").status_code == 422
    assert owner.get("/api/executions?limit=0").status_code == 422
    bad_cursor = owner.get("/api/executions?cursor=garbage")
    assert bad_cursor.status_code == 400 and bad_cursor.json["error"]["path"] == "cursor"
    detail = owner.get(f"/api/executions/{ids[0]}").json
    assert detail["status"] == "success" and detail["record"]["status"] == "success"
    assert set(detail) >= {"duration_ms", "operations", "data_size", "error", "started_at"}
    assert owner.get("/api/executions/nope").status_code == 404


# -- incomplete executions --------------------------------------------------------------------


def test_incomplete_executions(owner, store):
    sid = owner.post("/api/scenarios", json={"name": "M", "blueprint": MANUAL}).json["id"]
    first = store.create_incomplete(
        sid, 1, {"module_id": 1}, {"type": "DataError", "message": "bad"}
    )
    second = store.create_incomplete(
        sid, 1, {"module_id": 1}, {"type": "DataError", "message": "bad"}
    )
    listed = owner.get(f"/api/incomplete?scenario_id={sid}").json
    assert [i["id"] for i in listed] == [first.id, second.id]
    assert listed[0]["status"] == "pending" and listed[0]["error"]["type"] == "DataError"
    resolved = owner.post(f"/api/incomplete/{first.id}/resolve")
    assert resolved.status_code == 200 and resolved.json["status"] == "resolved"
    assert owner.post(f"/api/incomplete/{first.id}/resolve").status_code == 409
    assert owner.post(f"/api/incomplete/{first.id}/retry").status_code == 409
    retried = owner.post(f"/api/incomplete/{second.id}/retry")
    assert retried.status_code == 202 and retried.json["trigger_kind"] == "retry"
    assert owner.delete(f"/api/incomplete/{first.id}").status_code == 204
    assert owner.delete(f"/api/incomplete/{first.id}").status_code == 404
    assert owner.post("/api/incomplete/999/retry").status_code == 404


# -- data stores ------------------------------------------------------------------------------


def test_data_stores_and_records(owner, store):
    created = owner.post(
        "/api/datastores",
        json={"name": "Customers", "structure": {"spec": []}, "max_size_bytes": 10000},
    )
    assert created.status_code == 201
    ds = created.json
    assert ds["records"] == 0 and ds["max_size_bytes"] == 10000
    for index in range(5):
        store.put_record(ds["id"], f"k{index}", {"n": index})
    assert owner.get("/api/datastores").json[0]["records"] == 5
    page = owner.get(f"/api/datastores/{ds['id']}/records?limit=2").json
    assert [r["key"] for r in page["items"]] == ["k0", "k1"]
    assert page["total"] == 5 and page["next_offset"] == 2
    last = owner.get(f"/api/datastores/{ds['id']}/records?limit=2&offset=4").json
    assert [r["data"] for r in last["items"]] == [{"n": 4}] and last["next_offset"] is None
    assert owner.get("/api/datastores/999/records").status_code == 404
    assert (
        owner.post("/api/datastores", json={"name": "x", "max_size_bytes": -1}).status_code == 422
    )


def test_run_of_a_webhook_scenario_shows_in_history(owner, app):
    detail = owner.post(
        "/api/scenarios", json={"name": "H", "blueprint": json.loads(HOOK_TO_VARIABLE)}
    ).json
    owner.post(f"/api/scenarios/{detail['id']}/activate")
    url = owner.get(f"/api/webhooks?scenario_id={detail['id']}").json[0]["url"]
    assert (
        app.test_client().post("/hooks/" + url.rsplit("/", 1)[1], json={"n": 1}).status_code == 200
    )


def test_oauth_authorize_goes_to_the_connectors_flow(owner, viewer):
    response = owner.get("/api/oauth/xero/authorize?name=My%20Xero")
    assert response.status_code == 302
    assert response.headers["Location"] == "/oauth/xero/authorize?name=My%20Xero"
    assert viewer.get("/api/oauth/xero/authorize").status_code == 403


def test_saving_the_same_scheduling_keeps_the_next_run(owner, store):
    sid = owner.post("/api/scenarios", json={"name": "M", "blueprint": MANUAL}).json["id"]
    scheduling = owner.get(f"/api/scenarios/{sid}").json["scheduling"]
    store.set_cursor(sid, 0, {"next": "soon"})
    owner.put(f"/api/scenarios/{sid}", json={"scheduling": scheduling})
    assert store.get_cursor(sid, 0) == {"next": "soon"}
    owner.put(
        f"/api/scenarios/{sid}", json={"scheduling": {"type": "indefinitely", "interval": 60}}
    )
    assert store.get_cursor(sid, 0) is None
