"""Make's official pattern blueprints run end to end, with stubs where they call apps."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest

from engine.blueprint import load_blueprint
from engine.errors import ConnectionError, DataError
from engine.graph import compile_blueprint
from engine.registry import default_registry
from engine.runtime import RunContext, run_scenario
from engine.spec import ModuleKind
from engine.testing import stub_module
from tests.conftest import CORPUS_DIR

OK_RESPONSE = {"statusCode": 200, "headers": {}, "data": {"ok": True}}


def http_answering(*answers):
    """An http:MakeRequest stand-in answering each call with the next answer (or raising it)."""
    queue = list(answers)

    def answer(call):
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        return [reply]

    return answer


def run_pattern(name, trigger_bundles, *, stubs, sleeps=None):
    registry = default_registry().copy()
    registry.replace(stub_module("gateway:CustomWebHook", kind=ModuleKind.INSTANT_TRIGGER))
    for module_id, outputs in stubs.items():
        registry.replace(stub_module(module_id, outputs=outputs))
    blueprint = load_blueprint(
        (CORPUS_DIR / f"integromat__make-blueprints__{name}.json").read_bytes()
    )
    plan = compile_blueprint(blueprint, registry)
    events = []
    context = RunContext(
        clock=lambda: datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        rng=random.Random(1),
        on_event=events.append,
        sleep=(sleeps.append if sleeps is not None else lambda seconds: None),
    )
    record = run_scenario(plan, context, trigger_bundles=trigger_bundles).to_dict()
    order = [e["module_id"] for e in events if e["event"] == "module_started"]
    return record, order, {m["id"]: m for m in record["modules"]}


def inputs_of(modules, module_id):
    return [call["input"] for call in modules[module_id]["calls"]]


@pytest.mark.parametrize(("exists", "order"), [(False, [1, 2, 3, 4]), (True, [1, 2])])
def test_datastore_dedupe(exists, order):
    record, ran, modules = run_pattern(
        "datastore-dedupe",
        [{"id": "r-1", "email": "ann@example.com"}],
        stubs={
            "datastore:ExistRecord": [{"exist": exists}],
            "datastore:AddRecord": None,
            "http:MakeRequest": [OK_RESPONSE],
        },
    )
    assert (record["status"], ran) == ("success", order)
    if not exists:
        assert inputs_of(modules, 3)[0]["data"] == {
            "email": "ann@example.com",
            "processedAt": "2026-03-01T12:00:00.000Z",
        }
        body = json.loads(inputs_of(modules, 4)[0]["jsonStringBodyContent"])
        assert body == {"id": "r-1", "email": "ann@example.com"}
    else:
        assert modules[3]["filtered"] == 1


def test_error_handler_fallback_logs_and_ignores():
    record, ran, modules = run_pattern(
        "error-handler-fallback",
        [{"orderId": "A-7", "amount": 12.5}],
        stubs={"http:MakeRequest": http_answering(ConnectionError("orders API down"), OK_RESPONSE)},
    )
    assert record["status"] == "success"
    assert ran == [1, 2, 3]
    assert modules[2]["calls"][0]["directive"] == "ignore"
    log = json.loads(inputs_of(modules, 3)[0]["jsonStringBodyContent"])
    assert log == {"level": "error", "message": "orders API down", "orderId": "A-7"}


@pytest.mark.parametrize(("score", "order"), [(70, [1, 2]), (10, [1])])
def test_filter_gate(score, order):
    record, ran, _ = run_pattern(
        "filter-gate",
        [{"email": "x@y.z", "score": score}],
        stubs={"http:MakeRequest": [OK_RESPONSE]},
    )
    assert (record["status"], ran) == ("success", order)


@pytest.mark.parametrize(
    ("priority", "message"),
    [("high", "Expedited: order 7 ships today"), ("low", "Standard: order 7 ships within 5 days")],
)
def test_if_else_merge(priority, message):
    record, _, modules = run_pattern(
        "if-else-merge",
        [{"priority": priority, "orderId": 7}],
        stubs={"http:MakeRequest": [OK_RESPONSE]},
    )
    assert record["status"] == "success"
    body = json.loads(inputs_of(modules, 6)[0]["jsonStringBodyContent"])
    assert body == {"orderId": "7", "message": message}


def test_iterator_aggregator():
    record, ran, modules = run_pattern(
        "iterator-aggregator",
        [{"items": [{"name": "pen", "qty": 2}, {"name": "ink", "qty": 1}]}],
        stubs={"http:MakeRequest": [OK_RESPONSE]},
    )
    assert record["status"] == "success"
    assert ran == [1, 2, 3, 3, 4, 5]
    body = json.loads(inputs_of(modules, 5)[0]["jsonStringBodyContent"])
    assert body == {"summary": "pen × 2, ink × 1"}  # noqa: RUF001 - Make's pattern file uses a multiplication sign
    assert record["operations"] == 6


def test_rate_limited_loop_sleeps_between_calls():
    sleeps = []
    record, ran, modules = run_pattern(
        "rate-limited-loop",
        [{"items": [{"id": "a", "email": "a@x"}, {"id": "b", "email": "b@x"}]}],
        stubs={"http:MakeRequest": [OK_RESPONSE]},
        sleeps=sleeps,
    )
    assert record["status"] == "success"
    assert ran == [1, 2, 3, 4, 3, 4]
    assert sleeps == [1, 1]
    assert [i["url"] for i in inputs_of(modules, 4)] == [
        "https://api.example.com/items/a",
        "https://api.example.com/items/b",
    ]


@pytest.mark.parametrize(("status", "order"), [("degraded", [1, 2]), ("ok", [1])])
def test_scheduled_http_poll_starts_with_an_action(status, order):
    record, ran, modules = run_pattern(
        "scheduled-http-poll",
        None,
        stubs={"http:MakeRequest": [{"statusCode": 200, "data": {"status": status}}]},
    )
    assert (record["status"], ran) == ("success", order)
    if status == "degraded":
        body = json.loads(inputs_of(modules, 2)[0]["jsonStringBodyContent"])
        assert body["message"] == "Status check degraded: degraded"


def test_webhook_api_endpoint_maps_the_response():
    record, _, modules = run_pattern(
        "webhook-api-endpoint",
        [{"email": "ann@example.com"}],
        stubs={"gateway:WebhookRespond": None},
    )
    assert record["status"] == "success"
    response = inputs_of(modules, 2)[0]
    assert response["status"] == "200"
    assert json.loads(response["body"]) == {"ok": True, "received": "ann@example.com"}
    assert response["headers"] == [{"key": "content-type", "value": "application/json"}]


@pytest.mark.parametrize(("score", "order"), [(70, [1, 3, 4]), (20, [1, 4])])
def test_webhook_router_error_handler(score, order):
    record, ran, modules = run_pattern(
        "webhook-router-error-handler",
        [{"email": "lead@x.y", "name": "Lead", "score": score}],
        stubs={"http:MakeRequest": http_answering(DataError("422 unprocessable"))},
    )
    assert (record["status"], ran) == ("success", order)
    assert modules[4]["calls"][0]["output"] == [{"lastLeadEmail": "lead@x.y"}]


def test_webhook_to_http():
    record, ran, modules = run_pattern(
        "webhook-to-http",
        [{"email": "e@x", "name": "E"}],
        stubs={"http:MakeRequest": [OK_RESPONSE]},
    )
    assert (record["status"], ran) == ("success", [1, 2])
    body = json.loads(inputs_of(modules, 2)[0]["jsonStringBodyContent"])
    assert body == {"email": "e@x", "name": "E"}
