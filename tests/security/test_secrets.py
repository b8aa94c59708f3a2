"""Connection secrets never leave the secret box in clear: not in logs, execution records,
exported blueprints, the database file, the API's answers, or a redirect to another host.

A connection is stored with a distinctive secret; scenarios use it against a real HTTP server on
this machine (the "connected API", reached with ``SWITCHBOARD_ALLOW_PRIVATE_NETWORK=1``), both
successfully and failing; then every place a secret could land is searched for it, in clear and
in the encodings a leak would likely use (Base64, URL-encoding, hex).
"""

from __future__ import annotations

import base64
import http.server
import json
import logging
import threading
from urllib.parse import quote

import pytest

from engine.config import Settings
from engine.queue import InlineQueue
from engine.registry import default_registry
from engine.service import Service, ServiceOptions
from engine.store import ExecutionStatus, open_store
from tests.api.conftest import PASSWORD, ApiClient
from tests.service.conftest import FakeClock
from tests.service.test_service import post
from webui import create_app

SECRET = "sk_live_Zq81xSECRETv9Jd2"
PASSWORD_SECRET = "pw-7yT3SECRETkLm"


def encodings(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [
        raw,
        base64.b64encode(raw),
        quote(secret).encode(),
        raw.hex().encode(),
        base64.b64encode(b"user:" + raw),
    ]


def leaks(blob: bytes | str) -> list[bytes]:
    data = blob.encode() if isinstance(blob, str) else blob
    return [
        form for secret in (SECRET, PASSWORD_SECRET) for form in encodings(secret) if form in data
    ]


class ConnectedApi(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.received: list[str] = []
        super().__init__(("127.0.0.1", 0), ConnectedApiHandler)


class ConnectedApiHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.received.append(f"{self.path} {self.headers}")  # type: ignore[attr-defined]
        if self.path.startswith("/hop?"):
            status, _, location = self.path.removeprefix("/hop?").partition("=")
            self.send_response(int(status))
            self.send_header("Location", location.split("&")[0])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status = 401 if "fail" in self.path else 200
        body = b'{"ok": true}' if status == 200 else b'{"error": "bad key"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api_server():
    server = ConnectedApi()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def world(tmp_path):
    environ = {
        "SWITCHBOARD_VAR_DIR": str(tmp_path / "var"),
        "SWITCHBOARD_ALLOW_PRIVATE_NETWORK": "1",
    }
    settings = Settings.from_env(environ).with_secret_key_file()
    clock = FakeClock()
    store = open_store(settings.database_url, secret_box=settings.secret_box(), clock=clock)
    queue = InlineQueue(workers=1)
    service = Service(
        store,
        queue,
        settings,
        default_registry().copy(),
        clock,
        options=ServiceOptions(webhook_response_timeout=1),
    )
    app = create_app({"TESTING": True, "SWITCHBOARD_SERVICE": service})
    yield service, app, tmp_path
    service.close()
    queue.close()
    store.close()


def http_scenario(connection_id: int, url: str, auth: str = "apiKey") -> str:
    keychain = "apiKeyKeychain" if auth == "apiKey" else "basicAuthKeychain"
    return json.dumps(
        {
            "name": "uses a secret",
            "metadata": {"version": 1},
            "flow": [
                {"id": 1, "module": "gateway:CustomWebHook", "parameters": {"hook": 1}},
                {
                    "id": 2,
                    "module": "http:MakeRequest",
                    "parameters": {"authenticationType": auth, keychain: connection_id},
                    "mapper": {"url": url, "method": "get", "parseResponse": True},
                },
            ],
        }
    )


def run(service, text: str):
    result = service.import_scenario(text, active=True)
    hook = result.webhooks[0]
    post(service, hook.token, {"n": 1})
    [execution_id] = service.process_webhook(hook.id)
    return result.scenario, service.get_execution(execution_id)


def test_secrets_stay_out_of_logs_records_exports_the_database_and_the_api(
    world, api_server, caplog
):
    caplog.set_level(logging.DEBUG)  # every logger, every level
    service, app, tmp_path = world
    base = f"http://127.0.0.1:{api_server.server_address[1]}"
    store = service.store
    header_key = store.create_connection(
        "http",
        "api_key",
        "header key",
        data={"name": "x-key", "placement": "header"},
        secrets={"key": SECRET},
    )
    query_key = store.create_connection(
        "http",
        "api_key",
        "query key",
        data={"name": "key", "placement": "query"},
        secrets={"key": SECRET},
    )
    basic = store.create_connection(
        "http", "basic", "basic", data={"username": "user"}, secrets={"password": PASSWORD_SECRET}
    )
    runs = [
        run(service, http_scenario(header_key.id, f"{base}/ok")),
        run(service, http_scenario(header_key.id, f"{base}/fail")),
        run(service, http_scenario(query_key.id, f"{base}/ok")),
        run(service, http_scenario(query_key.id, f"{base}/fail")),
        run(service, http_scenario(query_key.id, "http://127.0.0.1:9/closed")),
        run(service, http_scenario(basic.id, f"{base}/ok", auth="basicAuth")),
        run(service, http_scenario(basic.id, f"{base}/fail", auth="basicAuth")),
    ]
    # The secrets were really used: the connected API received them.
    received = "\n".join(api_server.received)
    assert f"x-key: {SECRET}" in received and f"key={SECRET}" in received
    assert base64.b64encode(f"user:{PASSWORD_SECRET}".encode()).decode() in received
    statuses = [execution.status for _, execution in runs]
    assert statuses.count(ExecutionStatus.SUCCESS) == 3 and ExecutionStatus.ERROR in statuses

    # Logs, every logger at DEBUG. One known exception: urllib3 logs each request line at DEBUG,
    # so a key *placed in the query string* shows there (as in the API's own access log);
    # docs/security.md says to place keys in headers. Anything else that leaks fails.
    logged = [r for r in caplog.records if leaks(r.getMessage())]
    assert all(
        r.name == "urllib3.connectionpool"
        and r.levelno == logging.DEBUG
        and f"?key={SECRET}" in r.getMessage()
        for r in logged
    ), [(r.name, r.getMessage()) for r in logged]
    places: dict[str, bytes | str] = {
        "logs": "\n".join(r.getMessage() for r in caplog.records if r not in logged)
    }
    for scenario, execution in runs:
        places[f"record {execution.id}"] = json.dumps(execution.record, default=str)
        places[f"error {execution.id}"] = json.dumps(execution.error, default=str)
        places[f"export {scenario.id}"] = service.export_scenario(scenario.id)

    owner_http = app.test_client()
    assert (
        owner_http.post(
            "/api/auth/setup", json={"email": "o@example.com", "name": "O", "password": PASSWORD}
        ).status_code
        == 201
    )
    owner = ApiClient(app, "o@example.com")
    for url in ["/api/connections", "/api/executions", "/api/scenarios"]:
        response = owner.get(url)
        assert response.status_code == 200
        places[f"GET {url}"] = response.get_data()
    for scenario, execution in runs:
        for url in [
            f"/api/executions/{execution.id}",
            f"/api/scenarios/{scenario.id}/export",
            f"/api/scenarios/{scenario.id}",
        ]:
            response = owner.get(url)
            assert response.status_code == 200, url
            places[f"GET {url}"] = response.get_data()

    for path in sorted((tmp_path / "var").rglob("*")):
        if path.is_file():
            places[f"file {path.name}"] = path.read_bytes()

    leaked = {place: leaks(blob) for place, blob in places.items() if leaks(blob)}
    assert leaked == {}, f"secrets leaked into: {sorted(leaked)}"
    # ...while the store can still decrypt them: they are there, encrypted.
    assert store.get_connection(header_key.id).secrets["key"] == SECRET
    assert any(name.endswith(".db") for name in places if name.startswith("file "))


def test_the_leak_search_finds_a_planted_secret(caplog):
    logging.getLogger("switchboard.test").warning("token=%s", SECRET)
    assert leaks(caplog.text)
    assert leaks(f"Authorization: Basic {base64.b64encode(b'user:' + PASSWORD_SECRET.encode())}")
    assert leaks(f"?key={quote(SECRET)}") and not leaks("nothing here")


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize(
    ("kind", "data", "secrets", "auth"),
    [
        ("api_key", {"name": "x-key", "placement": "header"}, {"key": SECRET}, "apiKey"),
        ("api_key", {"name": "key", "placement": "query"}, {"key": SECRET}, "apiKey"),
        ("basic", {"username": "user"}, {"password": PASSWORD_SECRET}, "basicAuth"),
    ],
    ids=["header", "query", "basic"],
)
def test_a_redirect_to_another_host_does_not_receive_the_credentials(
    world, api_server, status, kind, data, secrets, auth
):
    service, _, _ = world
    third_party = ConnectedApi()
    threading.Thread(target=third_party.serve_forever, daemon=True).start()
    try:
        connection = service.store.create_connection("http", kind, "c", data=data, secrets=secrets)
        target = f"http://localhost:{third_party.server_address[1]}/landing"
        base = f"http://127.0.0.1:{api_server.server_address[1]}"
        _, execution = run(
            service, http_scenario(connection.id, f"{base}/hop?{status}={target}", auth=auth)
        )
        assert execution.status is ExecutionStatus.SUCCESS, execution.error
        assert len(api_server.received) == 1 and leaks(api_server.received[0])
        assert len(third_party.received) == 1
        assert not leaks(third_party.received[0]), third_party.received[0]
    finally:
        third_party.shutdown()
        third_party.server_close()
