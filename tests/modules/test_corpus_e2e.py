"""Corpus blueprints that use only built-in modules, run end to end against a local server.

Every HTTP request the scenarios make goes over real HTTP to a Flask app this test starts on
loopback: the run's session rewrites each URL's host to that server (keeping path and query), as
a DNS override would. Data stores live in a real SQLite store.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from flask import Flask, jsonify, request

from engine.blueprint import load_blueprint
from engine.graph import compile_blueprint
from engine.registry import default_registry
from engine.runtime import RunContext, run_scenario
from engine.store import open_store
from modules.sandboxing import run_sandbox_in_thread
from tests.conftest import CORPUS_DIR


class FakeApis:
    """The APIs the corpus scenarios call, with a log of every request received."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.polls = 0
        self.lock = threading.Lock()
        self.app = Flask("fake-apis")
        self.app.add_url_rule("/<path:path>", view_func=self.answer, methods=["GET", "POST", "PUT"])
        self.app.add_url_rule("/", view_func=self.answer, defaults={"path": ""}, methods=["GET"])

    def answer(self, path: str):
        body = request.get_data(as_text=True)
        with self.lock:
            self.requests.append(
                {
                    "method": request.method,
                    "host": request.headers.get("x-original-host"),
                    "path": "/" + path,
                    "query": request.query_string.decode(),
                    "body": body,
                    "api_key": request.headers.get("x-api-key"),
                }
            )
        return self.route("/" + path, body)

    def route(self, path: str, body: str):
        if path == "/orders":
            return jsonify(error="orders are down"), 503
        if path == "/api/v2/status.json":
            return jsonify(status="degraded")
        if path == "/api/phone-call/" and request.method == "POST":
            return jsonify(id="call-1")
        if path == "/api/phone-call/call-1/":
            with self.lock:
                self.polls += 1
                done = self.polls >= 3
            state = (
                {"status": "completed", "outcome": {"result": "success"}}
                if done
                else {"status": "in_progress"}
            )
            return json.dumps(state), 200, {"content-type": "application/json"}
        if path.startswith("/v2/acts/"):
            return jsonify(
                [
                    {
                        "status": "done",
                        "costs": {"total": 1.5},
                        "campaignId": "c-1",
                        "results": [{"website": "a.example"}, {"website": "b.example"}],
                    }
                ]
            )
        if path == "/":
            return "<html>example</html>", 200, {"content-type": "text/html"}
        return jsonify(ok=True, path=path)

    def seen(self, path: str | None = None) -> list[dict]:
        return [r for r in self.requests if path is None or r["path"] == path]


class ToLocalServer(requests.adapters.HTTPAdapter):
    """Sends every request to the local server, remembering the host it was meant for."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base = urlsplit(base_url)

    def send(self, prepared, **kwargs):
        parts = urlsplit(prepared.url)
        prepared.headers["x-original-host"] = parts.hostname or ""
        prepared.url = urlunsplit((self.base.scheme, self.base.netloc, parts.path, parts.query, ""))
        return super().send(prepared, **kwargs)


@pytest.fixture
def apis():
    fake = FakeApis()
    base_url, stop = run_sandbox_in_thread(fake.app)
    fake.base_url = base_url
    yield fake
    stop()


@pytest.fixture
def store(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        yield opened


class Keychains:
    def get(self, connection_id):
        return {"name": "x-api-key", "key": f"key-{connection_id}", "placement": "header"}


def run_corpus(name, apis, trigger_bundles=None, *, store=None, edit=None):
    blueprint = load_blueprint((CORPUS_DIR / name).read_bytes())
    if edit:
        edit(blueprint)
    plan = compile_blueprint(blueprint, default_registry())
    session = requests.Session()
    adapter = ToLocalServer(apis.base_url)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    sleeps = []
    context = RunContext(
        clock=lambda: datetime(2026, 4, 1, 8, 0, tzinfo=UTC),
        http=session,
        allow_private_network=True,  # every request goes to the loopback test server
        data_stores=store,
        connections=Keychains(),
        sleep=sleeps.append,
    )
    try:
        record = run_scenario(plan, context, trigger_bundles=trigger_bundles)
    finally:
        session.close()
    return record.to_dict(), sleeps


PATTERN = "integromat__make-blueprints__{}.json"


def test_webhook_to_http(apis):
    record, _ = run_corpus(
        PATTERN.format("webhook-to-http"), apis, [{"email": "a@x.io", "name": "A"}]
    )
    assert record["status"] == "success"
    [sent] = apis.seen("/leads")
    assert (sent["method"], sent["host"]) == ("POST", "api.example.com")
    assert json.loads(sent["body"]) == {"email": "a@x.io", "name": "A"}


@pytest.mark.parametrize(("score", "calls"), [(80, 1), (20, 0)])
def test_filter_gate(apis, score, calls):
    record, _ = run_corpus(PATTERN.format("filter-gate"), apis, [{"email": "e@x", "score": score}])
    assert record["status"] == "success"
    assert len(apis.seen("/hot-leads")) == calls


def test_error_handler_fallback_logs_the_503(apis):
    record, _ = run_corpus(
        PATTERN.format("error-handler-fallback"), apis, [{"orderId": "A-1", "amount": 9.5}]
    )
    assert record["status"] == "success"
    [log] = apis.seen("/logs")
    # The pattern pastes the error message into JSON text unescaped, as Make would.
    assert log["body"].startswith('{"level": "error", "message": "[503] ')
    assert "orders are down" in log["body"]


def test_if_else_merge(apis):
    run_corpus(PATTERN.format("if-else-merge"), apis, [{"priority": "high", "orderId": 5}])
    [sent] = apis.seen("/notifications")
    assert json.loads(sent["body"])["message"] == "Expedited: order 5 ships today"


def test_iterator_aggregator(apis):
    items = [{"name": "pen", "qty": 2}, {"name": "ink", "qty": 1}]
    record, _ = run_corpus(PATTERN.format("iterator-aggregator"), apis, [{"items": items}])
    assert record["status"] == "success"
    [sent] = apis.seen("/order-summaries")
    assert json.loads(sent["body"]) == {"summary": "pen \u00d7 2, ink \u00d7 1"}


def test_rate_limited_loop(apis):
    items = [{"id": "a", "email": "a@x"}, {"id": "b", "email": "b@x"}]
    record, sleeps = run_corpus(PATTERN.format("rate-limited-loop"), apis, [{"items": items}])
    assert record["status"] == "success"
    assert [r["path"] for r in apis.seen()] == ["/items/a", "/items/b"]
    assert sleeps == [1, 1]


def test_scheduled_http_poll(apis):
    record, _ = run_corpus(PATTERN.format("scheduled-http-poll"), apis)
    assert record["status"] == "success"
    [alert] = apis.seen("/alerts")
    assert json.loads(alert["body"])["message"] == "Status check degraded: degraded"


def test_webhook_api_endpoint_responds(apis):
    record, _ = run_corpus(PATTERN.format("webhook-api-endpoint"), apis, [{"email": "r@x"}])
    assert record["status"] == "success"


@pytest.mark.parametrize(("score", "posts"), [(90, 1), (10, 0)])
def test_webhook_router_error_handler(apis, score, posts):
    record, _ = run_corpus(
        PATTERN.format("webhook-router-error-handler"),
        apis,
        [{"email": "l@x", "name": "L", "score": score}],
    )
    assert record["status"] == "success"
    assert len(apis.seen("/hot-leads")) == posts


def test_datastore_dedupe_forwards_each_record_once(apis, store):
    seen_ids = store.create_data_store("seen", max_size_bytes=100_000).id

    def choose_data_store(blueprint):  # what the pattern asks the user to do after import
        for item in blueprint.flow[1:3]:
            item.parameters = {"datastore": seen_ids}

    for _ in range(2):
        record, _ = run_corpus(
            PATTERN.format("datastore-dedupe"),
            apis,
            [{"id": "r-1", "email": "r@x"}],
            store=store,
            edit=choose_data_store,
        )
        assert record["status"] == "success"
    assert len(apis.seen("/new-records")) == 1
    assert store.get_record(seen_ids, "r-1")["email"] == "r@x"


def test_public_template(apis):
    record, _ = run_corpus("integromat__make-typescript-sdk__public-templates_blueprint.json", apis)
    assert record["status"] == "success"
    assert apis.seen("/")[0]["host"] == "example.com"


def test_senseflow_polls_until_the_call_completes_then_commits(apis):
    record, sleeps = run_corpus(
        "SenseFlow-io__make-blueprint__SenseFlow_example.blueprint.json", apis
    )
    assert record["status"] == "success"
    polls = apis.seen("/api/phone-call/call-1/")
    assert len(polls) == 3
    assert {r["api_key"] for r in apis.seen()} == {"key-106516"}
    assert sleeps == [10, 10]  # the two "in progress" answers wait before the next poll


def test_god_mode_intel_pipeline(apis):
    record, _ = run_corpus(
        "johnrippy1980__god-mode-make-blueprints__god-mode-intel-pipeline-PUBLIC.json", apis, [{}]
    )
    assert record["status"] == "success"
    assert [r["host"] for r in apis.seen()] == [
        "api.apify.com",
        "your_supabase_project_id.supabase.co",
        "your_supabase_project_id.supabase.co",
        "your_supabase_project_id.supabase.co",
    ]
