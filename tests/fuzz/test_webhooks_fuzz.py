"""Fuzzing webhook bodies: the parser on its own, and the real ingress through Flask.

Properties:
* ``request_to_bundle`` with any content type and any bytes gives a dict or a ``DataError``;
* the ingress (``/hooks/<token>`` through the Flask test client) answers 2xx or 4xx to any
  method, token, query, headers and body, never 5xx; what it accepted is stored, and running the
  stored requests afterwards ends every one of them in a terminal execution.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config import Settings
from engine.errors import DataError
from engine.queue import InlineQueue
from engine.registry import default_registry
from engine.service import Service, ServiceOptions
from engine.store import ExecutionStatus, open_store
from engine.webhooks import request_to_bundle
from tests.fuzz.strategies import DATA, DEADLINE, examples
from tests.security.guards import time_limit
from tests.service.blueprints import blueprint, set_variable, webhook_trigger
from tests.service.conftest import FakeClock
from webui import create_app

MAX_BYTES = 4096

CONTENT_TYPES = st.one_of(
    st.sampled_from(
        [
            "",
            "application/json",
            "application/json; charset=utf-16",
            "text/json",
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=latin-1",
            "multipart/form-data; boundary=x",
            "multipart/form-data",
            "text/plain",
            "application/octet-stream",
            "application/xml",
            "application/vnd.api+json",
            "json",
            "APPLICATION/JSON",
            "application/json;;;",
            "*/*",
        ]
    ),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40),
)


DEPTHS = st.integers(1, 3000) | st.sampled_from([100, 201, 900, 940, 999, 1200, 2000])


def _json_shapes() -> st.SearchStrategy[bytes]:
    safe = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=5), c, max_size=4),
        max_leaves=15,
    )
    return st.one_of(
        safe.map(lambda value: json.dumps(value).encode()),
        DEPTHS.map(lambda n: b"[" * n + b"]" * n),
        DEPTHS.map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
        st.sampled_from([309, 4000, 4301, 6000]).map(lambda n: b"1" * n),
        st.sampled_from(
            [
                b"NaN",
                b"[Infinity, -Infinity]",
                b'"\\ud800"',
                b"\xef\xbb\xbf{}",
                b"\xff\xfe{\x00}\x00",
                b'{"__proto__": {"x": 1}}',
                b'{"a": 1e999}',
            ]
        ),
    )


BODIES = st.one_of(
    st.binary(max_size=MAX_BYTES + 100),
    _json_shapes(),
    st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass")),
)


@settings(max_examples=examples(400), deadline=DEADLINE)
@given(
    CONTENT_TYPES,
    BODIES,
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
    st.booleans(),
)
def test_request_to_bundle_gives_a_dict_or_a_data_error(content_type, body, query, extras):
    try:
        with time_limit(2):
            bundle = request_to_bundle(
                method="POST",
                headers={"Content-Type": content_type},
                query=query,
                body=body,
                include_headers=extras,
                include_method=extras,
            )
    except DataError as error:
        assert "JSON" in error.message
        return
    assert isinstance(bundle, dict)


# -- the real ingress -------------------------------------------------------------------

HEADER_NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True)
HEADER_VALUES = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=40,
)
METHODS = st.sampled_from(
    ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "BREW"]
)


@pytest.fixture(scope="module")
def ingress(tmp_path_factory):
    directory = tmp_path_factory.mktemp("ingress")
    environ = {
        "SWITCHBOARD_VAR_DIR": str(directory / "var"),
        "SWITCHBOARD_WEBHOOK_MAX_BYTES": str(MAX_BYTES),
        "SWITCHBOARD_WEBHOOK_RATE_LIMIT": "1000000",
        "SWITCHBOARD_WEBHOOK_QUEUE_LIMIT": "1000000",
    }
    config = Settings.from_env(environ).with_secret_key_file()
    clock = FakeClock()
    store = open_store(config.database_url, secret_box=config.secret_box(), clock=clock)
    queue = InlineQueue(workers=1)  # not started: requests wait until the test runs them
    service = Service(
        store,
        queue,
        config,
        default_registry().copy(),
        clock,
        options=ServiceOptions(webhook_response_timeout=1),
    )
    text = blueprint(
        webhook_trigger(),
        set_variable(value="{{1.value}} {{1.a.b}} {{1.__IMTHEADERS__}}"),
        name="Fuzzed hook",
    )
    hook = service.import_scenario(text, active=True).webhooks[0]
    learning = service.create_webhook(
        "learning", settings={"include_headers": True, "include_method": True, "learning": True}
    )
    app = create_app({"SWITCHBOARD_SERVICE": service, "TESTING": True})
    with app.test_client() as client:
        yield client, service, hook, learning
    service.close()
    queue.close()
    store.close()


def reactivate(service, hook) -> None:
    """An instant scenario switches itself off after a failed run (as Make's do); switch it
    back on so every example runs."""
    if not service.store.get_scenario(hook.scenario_id).active:
        service.activate_scenario(hook.scenario_id)


@pytest.mark.parametrize("depth", [201, 900, 940])
def test_a_body_too_deep_to_store_is_refused_at_the_door(ingress, depth):
    # json.loads reads ~990 levels, but a 940-level bundle could not be written into the
    # execution record (RecursionError): accepted, then retried forever, never an execution.
    client, service, hook, _ = ingress
    reactivate(service, hook)
    before = service.store.count_queue(hook.id, status=None)
    body = b"[" * depth + b"]" * depth
    response = client.post(f"/hooks/{hook.token}", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "nested more than" in response.get_json()["error"]["message"]
    assert service.store.count_queue(hook.id, status=None) == before


@settings(
    max_examples=examples(150),
    deadline=DEADLINE,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    method=METHODS,
    which=st.sampled_from(["hook", "learning", "unknown", "junk"]),
    junk=st.text(max_size=30),
    query=st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=3),
    headers=st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=4),
    content_type=CONTENT_TYPES,
    body=BODIES,
)
def test_ingress_answers_2xx_or_4xx_to_anything(
    ingress, method, which, junk, query, headers, content_type, body
):
    client, service, hook, learning = ingress
    reactivate(service, hook)
    token = {
        "hook": hook.token,
        "learning": learning.token,
        "unknown": "0" * 32,
        "junk": quote(junk, safe=""),
    }[which]
    with time_limit(5):
        response = client.open(
            f"/hooks/{token}",
            method=method,
            query_string=query,
            headers=[*headers, ("Content-Type", content_type)],
            data=body,
        )
    assert response.status_code < 500, response.get_data()[:300]
    if which == "hook" and method not in ("HEAD", "OPTIONS", "TRACE", "PROPFIND", "BREW"):
        if response.status_code == 200:
            with time_limit(10):
                ran = service.process_webhook(hook.id)
            assert len(ran) == 1
            execution = service.store.get_execution(ran[0], with_record=True)
            assert execution.status in (
                ExecutionStatus.SUCCESS,
                ExecutionStatus.WARNING,
                ExecutionStatus.ERROR,
            )
        else:
            assert response.status_code in (400, 413)


@settings(
    max_examples=examples(60),
    deadline=DEADLINE,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(DATA)
def test_any_json_value_accepted_runs_to_a_terminal_execution(ingress, value):
    client, service, hook, _ = ingress
    reactivate(service, hook)
    body = json.dumps(value, default=str).encode()
    with time_limit(5):
        response = client.post(f"/hooks/{hook.token}", data=body, content_type="application/json")
    assert response.status_code < 500
    if response.status_code == 200:
        with time_limit(10):
            [execution_id] = service.process_webhook(hook.id)
        assert service.store.get_execution(execution_id, with_record=False).status in (
            ExecutionStatus.SUCCESS,
            ExecutionStatus.WARNING,
            ExecutionStatus.ERROR,
        )
