"""Fixtures: the Xero and 1CRM sandboxes over real HTTP, a SQLite store with encrypted secrets,
connections made the way a user makes them, and a helper to run small blueprints."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from engine.blueprint import load_blueprint
from engine.connections import KeyedLocks, StoreConnections, authorization_url, exchange_code
from engine.graph import compile_blueprint
from engine.ratelimit import MemoryRateLimiter, redis_rate_limiter
from engine.registry import default_registry
from engine.runtime import RunContext, run_scenario
from engine.secrets import SecretBox, generate_key
from engine.store import open_store
from modules.connections import shared_rate_limiter
from modules.onecrm import sandbox as onecrm_sandbox
from modules.sandboxing import run_sandbox_in_thread
from modules.xero import sandbox as xero_sandbox
from tests.connectors.check_cli import CheckCommand
from tests.contracts.xero_openapi import ExchangeTap, assert_exchanges_conform

REDIRECT_URI = "http://localhost/oauth/callback"


class Sandbox:
    """A running sandbox: base URL plus the ``/_sandbox`` control API."""

    def __init__(self, url, http):
        self.url = url
        self.http = http

    def control(self, path, body=None, method="POST"):
        response = self.http.request(method, f"{self.url}/_sandbox/{path}", json=body)
        assert response.status_code < 300, response.text
        return response.json()

    def state(self):
        return self.control("state", method="GET")

    def flush_webhooks(self, patience: float = 180.0) -> list:
        """Wait until every webhook the sandbox queued has reached its receiver, and fail if it
        never does: a flush that came back busy (5 s each, slow on a loaded machine) let a test
        go on with deliveries still on their way."""
        deadline = time.monotonic() + patience
        while True:
            answer = self.control("webhooks/flush?timeout=5")
            if answer["idle"]:
                return answer["webhooks"]
            assert time.monotonic() < deadline, f"webhooks still on their way after {patience} s"

    def requests_to(self, path, method=None):
        return [
            r
            for r in self.state()["requests"]
            if r["path"] == path and (method is None or r["method"] == method)
        ]

    def fault(self, **spec):
        return self.control("faults", spec)


@pytest.fixture(autouse=True)
def fresh_rate_limiter():
    """Each test starts with empty per-connection rate windows."""
    shared_rate_limiter.cache_clear()
    redis_rate_limiter.cache_clear()
    yield
    shared_rate_limiter.cache_clear()
    redis_rate_limiter.cache_clear()


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture
def serve():
    stops = []

    def start(app):
        base_url, stop = run_sandbox_in_thread(app)
        stops.append(stop)
        return base_url

    yield start
    for stop in reversed(stops):
        stop()


@pytest.fixture
def start_xero(serve, http):
    """Xero sandboxes whose API traffic must conform to Xero's OpenAPI spec (checked when the
    test ends: every request the connector sent, every answer the sandbox gave)."""
    taps = []

    def start(config=None):
        taps.append(ExchangeTap(xero_sandbox.create_app(config)))
        return Sandbox(serve(taps[-1]), http)

    yield start
    for tap in taps:
        assert_exchanges_conform(tap)


@pytest.fixture
def start_onecrm(serve, http):
    return lambda config=None: Sandbox(serve(onecrm_sandbox.create_app(config)), http)


@pytest.fixture
def xero(start_xero):
    return start_xero()


@pytest.fixture
def onecrm(start_onecrm):
    return start_onecrm()


@pytest.fixture
def store(tmp_path):
    with open_store(
        f"sqlite:///{tmp_path / 'store.db'}", secret_box=SecretBox(generate_key())
    ) as opened:
        yield opened


@pytest.fixture
def check_command(tmp_path):
    """A store `switchboard connection check` reads, and the command (check_cli.py)."""
    command = CheckCommand(tmp_path)
    yield command
    command.close()


@pytest.fixture
def registry():
    return default_registry()


class Clock:
    """Real time plus an offset a test can move (token expiry)."""

    def __init__(self):
        self.offset_seconds = 0.0

    def __call__(self):
        from datetime import timedelta

        return datetime.now(UTC) + timedelta(seconds=self.offset_seconds)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def resolver(store, registry, clock, http):
    return StoreConnections(store, registry, clock, http, locks=KeyedLocks(), winner_wait=0.3)


def xero_client_data(sandbox):
    return {
        "client_id": "sandbox-client-id",
        "base_url": sandbox.url,
        "authorize_url": f"{sandbox.url}/identity/connect/authorize",
        "token_url": f"{sandbox.url}/connect/token",
    }


def connect_xero(store, registry, http, sandbox, name="Demo Xero"):
    """The OAuth dance as the web app does it; returns the stored connection."""
    kind = registry.connection_kind("xero")
    data = xero_client_data(sandbox)
    url = authorization_url(kind, data, redirect_uri=REDIRECT_URI, state="s1")
    answer = http.get(url, allow_redirects=False)
    assert answer.status_code == 302, answer.text
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    secrets = exchange_code(
        kind,
        data,
        "sandbox-client-secret",
        code=code,
        redirect_uri=REDIRECT_URI,
        session=http,
        now=datetime.now(UTC),
    )
    data.update(kind.on_authorized(data, secrets["access_token"], http))
    return store.create_connection("xero", "oauth2", name, data=data, secrets=secrets)


def connect_onecrm(store, sandbox, password="sandbox-password"):
    return store.create_connection(
        "onecrm",
        "basic",
        "Demo 1CRM",
        data={"url": sandbox.url, "username": "admin", "assigned_user_id": "1"},
        secrets={"password": password},
    )


@pytest.fixture
def xero_connection(store, registry, http, xero):
    return connect_xero(store, registry, http, xero)


@pytest.fixture
def onecrm_connection(store, onecrm):
    return connect_onecrm(store, onecrm)


class Runner:
    """Compiles and runs blueprints with the store's connections and a recording sleep."""

    def __init__(self, resolver, http, registry):
        self.resolver = resolver
        self.http = http
        self.registry = registry
        self.sleeps = []
        self.cursors = {}

    def context(self, **extra):
        return RunContext(
            clock=lambda: datetime.now(UTC),
            http=self.http,
            connections=self.resolver,
            sleep=self.sleeps.append,
            cursors=dict(self.cursors),
            commit_cursor=self.cursors.__setitem__,
            **extra,
        )

    def run(self, flow, trigger_bundles=None, **extra):
        blueprint = load_blueprint({"name": "test", "flow": flow, "metadata": {"version": 1}})
        plan = compile_blueprint(blueprint, self.registry)
        return run_scenario(plan, self.context(**extra), trigger_bundles=trigger_bundles)

    def one(self, module, mapper=None, parameters=None, **extra):
        """Run one module; returns the execution record."""
        return self.run([node(1, module, mapper, parameters)], **extra)


def node(module_id, module, mapper=None, parameters=None, **extra):
    return {
        "id": module_id,
        "module": module,
        "version": 1,
        "parameters": parameters or {},
        "mapper": mapper or {},
        **extra,
    }


def outputs(record, module_id):
    """Every bundle module ``module_id`` output in the run."""
    module = record.modules[module_id]
    return [bundle for call in module.calls for bundle in (call.output or [])]


@pytest.fixture
def runner(resolver, http, registry):
    return Runner(resolver, http, registry)


@pytest.fixture
def limiter():
    return MemoryRateLimiter()


def barrier_threads(count, target):
    """Start ``count`` threads released together; return their results in order."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(index):
        barrier.wait()
        try:
            results[index] = target()
        except Exception as error:  # the test inspects it
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results
