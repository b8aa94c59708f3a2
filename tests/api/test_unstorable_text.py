"""Text no store can hold, through the app, on SQLite and PostgreSQL alike.

The rule (docs/api.md, "What the API and the webhooks accept"): JSON bodies with a lone
surrogate, ``NaN``, ``Infinity`` or a number beyond a double (``1e999``) are refused with 400
naming the JSON path; names, emails and data-store keys with the NUL character are refused
with 422 naming the field; JSON data keeps NUL. What a run produces is stored whatever it
holds, and no answer shows SQL.
"""

from __future__ import annotations

import json

import pytest

from engine.config import Settings
from engine.store import ExecutionStatus
from tests.api.conftest import PASSWORD
from tests.service.blueprints import blueprint, module, webhook_trigger
from tests.store.conftest import (  # noqa: F401 - fixtures
    empty_postgres,
    postgres_migrated,
    postgres_schema,
)

NUL = "a\x00b"


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path):
    """The app's settings on each database (overrides the service tests' SQLite-only one)."""
    environ = {"SWITCHBOARD_VAR_DIR": str(tmp_path / "var"), "SWITCHBOARD_HEARTBEAT_SECONDS": "1"}
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_migrated")
        empty_postgres(url)
        environ["SWITCHBOARD_DATABASE_URL"] = url
    return Settings.from_env(environ).with_secret_key_file()


def raw(client, method, url, text):
    """Send ``text`` as the JSON body as it is (``json=`` would re-encode it)."""
    return client.open(method, url, data=text, headers={"Content-Type": "application/json"})


def test_names_and_emails_with_nul_are_refused_naming_the_field(client, owner):
    # PostgreSQL answered 500 for each of these (and SQLite stored them).
    login = client.post("/api/auth/login", json={"email": f"{NUL}@x.org", "password": PASSWORD})
    assert login.status_code == 422 and login.json["error"]["path"] == "email"
    for url, body in [
        ("/api/webhooks", {"name": NUL}),
        ("/api/datastores", {"name": NUL}),
        ("/api/scenarios", {"name": NUL}),
        ("/api/users", {"email": "u@x.org", "name": NUL, "password": PASSWORD, "role": "viewer"}),
    ]:
        refused = owner.post(url, json=body)
        assert refused.status_code == 422, (url, refused.json)
        assert refused.json["error"]["path"] == "name"
        assert "NUL" in refused.json["error"]["message"]
    imported = owner.post(
        "/api/scenarios/import?name=a%00b", json={"name": "x", "flow": []}
    )  # the name from the query string is checked the same way
    assert imported.status_code == 422 and imported.json["error"]["path"] == "name"
    assert owner.get("/api/webhooks").json == []


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('{"data": {"s": "\\ud800"}}', "data.s"),
        ('{"data": {"\\udc00": 1}}', "data.\\udc00"),
        ('{"data": {"n": NaN}}', "data.n"),
        ('{"data": {"n": [1e999]}}', "data.n[0]"),
        ('{"data": {"n": Infinity}}', "data.n"),
    ],
)
def test_json_no_store_could_keep_is_refused_naming_its_path(owner, text, path):
    # A lone surrogate answered 500; NaN and 1e999 were stored and came back as null.
    data_store = owner.post("/api/datastores", json={"name": "Contacts"}).json
    refused = raw(owner, "PUT", f"/api/datastores/{data_store['id']}/records/k", text)
    assert refused.status_code == 400, refused.json
    assert refused.json["error"] == {
        "code": "bad_json",
        "message": refused.json["error"]["message"],
        "path": path,
    }
    assert refused.json["error"]["message"].startswith(path)
    assert owner.get(f"/api/datastores/{data_store['id']}/records").json["total"] == 0


def test_record_data_keeps_nul(owner):
    data_store = owner.post("/api/datastores", json={"name": "Contacts"}).json
    url = f"/api/datastores/{data_store['id']}/records/k"
    assert owner.put(url, json={"data": {"note": NUL}}).status_code == 200
    assert owner.get(url).json["data"] == {"note": NUL}


def run_hook(service, client, text, *, body, content_type):
    scenario = service.import_scenario(text, active=True)
    hook = scenario.webhooks[0]
    answer = client.post(f"/hooks/{hook.token}", data=body, content_type=content_type)
    assert answer.status_code == 200, answer.get_data()
    [execution_id] = service.process_webhook(hook.id)
    return service.store.get_execution(execution_id)


def test_a_lone_surrogate_a_module_outputs_is_stored_and_shown(service, client, viewer):
    # The JSON text is plain ASCII, so the webhook takes it; parsing it gives a lone surrogate.
    # Its record could not be stored: the run stayed running, was reaped and ran again every
    # two minutes, adding a data-store record each time.
    data_store = service.store.create_data_store("Parsed", max_size_bytes=10_000)
    text = blueprint(
        webhook_trigger(),
        module(2, "json:ParseJSON", json="{{1.value}}"),
        {
            **module(3, "datastore:AddRecord", key="k", data={"s": "{{2.s}}"}, overwrite=True),
            "parameters": {"datastore": data_store.id},
        },
    )
    execution = run_hook(
        service, client, text, body=b'{"s": "x\\ud800"}', content_type="text/plain"
    )
    assert execution.status is ExecutionStatus.SUCCESS
    [parse] = [m for m in execution.record["modules"] if m["id"] == 2]
    assert parse["calls"][0]["output"] == [{"s": "x\ud800"}]  # kept exactly
    assert service.store.get_record(data_store.id, "k") == {"s": "x\ud800"}
    shown = viewer.get(f"/api/executions/{execution.id}")
    assert shown.status_code == 200
    assert '"x\\ud800"' in shown.get_data(as_text=True)  # the escape a browser reads back


def test_a_data_store_key_with_nul_from_a_run_is_a_named_error_without_sql(service, client, viewer):
    # On PostgreSQL the module's error (shown to viewers) was the driver's, with the SQL and
    # its parameters; SQLite stored the key.
    data_store = service.store.create_data_store("Keys", max_size_bytes=10_000)
    text = blueprint(
        webhook_trigger(),
        {
            **module(2, "datastore:AddRecord", key="{{1.k}}", data={"n": 1}),
            "parameters": {"datastore": data_store.id},
        },
    )
    body = json.dumps({"k": NUL}).encode()
    execution = run_hook(service, client, text, body=body, content_type="application/json")
    assert execution.status is ExecutionStatus.ERROR
    shown = viewer.get(f"/api/executions/{execution.id}").get_data(as_text=True)
    assert "key holds the NUL character" in shown
    for leak in ("SELECT", "INSERT", "[SQL", "parameters", "psycopg", "sqlite3"):
        assert leak not in shown
    assert service.store.count_records(data_store.id) == 0
