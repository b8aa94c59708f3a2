"""Webhook ingress through the Flask app (test client): statuses, bodies, the responder."""

from __future__ import annotations

import json

import pytest

from engine.config import Settings
from engine.service import Service, ServiceOptions
from engine.store import ExecutionStatus
from tests.service.blueprints import HOOK_TO_VARIABLE, HOOK_WITH_RESPONSE
from webui import create_app


@pytest.fixture
def client(service):
    app = create_app({"SWITCHBOARD_SERVICE": service, "TESTING": True})
    with app.test_client() as client:
        yield client


def hook_of(service, text=HOOK_TO_VARIABLE, active=True):
    return service.import_scenario(text, active=active).webhooks[0]


def error_of(response):
    return response.status_code, response.get_json()["error"]["code"]


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_every_method_is_accepted_and_queued(service, client, method):
    hook = hook_of(service)
    response = client.open(f"/hooks/{hook.token}?n=5", method=method)
    assert (response.status_code, response.text) == (200, "Accepted")
    [item] = service.store.list_queue(hook.id)
    assert item.request["method"] == method and item.request["query"] == {"n": "5"}


def test_unknown_token_is_404(client):
    assert error_of(client.post("/hooks/not-a-token")) == (404, "webhook_not_found")


def test_unparsable_json_is_400_with_the_reason(service, client):
    hook = hook_of(service)
    response = client.post(f"/hooks/{hook.token}", data="{nope", content_type="application/json")
    assert error_of(response) == (400, "invalid_payload")
    assert "not valid JSON" in response.get_json()["error"]["message"]
    assert service.store.count_queue(hook.id) == 0


def test_oversized_payload_is_413(service, client):
    hook = hook_of(service)
    body = b"x" * (service.settings.webhook_max_payload_bytes + 1)
    response = client.post(f"/hooks/{hook.token}", data=body, content_type="text/plain")
    assert error_of(response) == (413, "request_entity_too_large")


def test_rate_limit_is_429_with_retry_after(store, queue, registry, clock, tmp_path):
    settings = Settings.from_env(
        {"SWITCHBOARD_VAR_DIR": str(tmp_path / "v"), "SWITCHBOARD_WEBHOOK_RATE_LIMIT": "3"}
    ).with_secret_key_file()
    service = Service(store, queue, settings, registry, clock)
    hook = hook_of(service)
    with create_app({"SWITCHBOARD_SERVICE": service}).test_client() as client:
        codes = [client.post(f"/hooks/{hook.token}").status_code for _ in range(4)]
        refused = client.post(f"/hooks/{hook.token}")
    assert codes == [200, 200, 200, 429]
    assert error_of(refused) == (429, "rate_limited") and int(refused.headers["Retry-After"]) >= 1
    service.close()


def test_full_queue_of_an_inactive_scenario_is_503(store, queue, registry, clock, tmp_path):
    settings = Settings.from_env(
        {"SWITCHBOARD_VAR_DIR": str(tmp_path / "v"), "SWITCHBOARD_WEBHOOK_QUEUE_LIMIT": "1"}
    ).with_secret_key_file()
    service = Service(store, queue, settings, registry, clock)
    hook = hook_of(service, active=False)
    with create_app({"SWITCHBOARD_SERVICE": service}).test_client() as client:
        assert client.post(f"/hooks/{hook.token}").status_code == 200
        assert error_of(client.post(f"/hooks/{hook.token}")) == (503, "queue_full")
    service.close()


def test_the_caller_gets_the_webhook_response(service, client, queue):
    queue.start()
    hook = hook_of(service, HOOK_WITH_RESPONSE)
    response = client.post(
        f"/hooks/{hook.token}", data=json.dumps({"n": 8}), content_type="application/json"
    )
    assert (response.status_code, response.text) == (201, "got 8")
    assert response.headers["X-Answer"] == "yes"


def test_without_an_answer_in_time_the_caller_gets_accepted(
    store, queue, settings, registry, clock
):
    options = ServiceOptions(webhook_response_timeout=0.2)
    service = Service(store, queue, settings, registry, clock, options=options)
    hook = hook_of(service, HOOK_WITH_RESPONSE)  # the queue is not started: nobody answers
    with create_app({"SWITCHBOARD_SERVICE": service}).test_client() as client:
        response = client.post(f"/hooks/{hook.token}", json={"n": 1})
    assert (response.status_code, response.text) == (200, "Accepted")
    assert service.process_webhook(hook.id)  # it still runs afterwards
    assert service.list_executions().items[0].status is ExecutionStatus.SUCCESS
    service.close()
