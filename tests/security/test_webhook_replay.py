"""Replayed app deliveries: a signed QuickBooks/Xero body accepted once is acknowledged again
but queued nothing (``engine.service.replay``); an unsigned copy cannot pre-empt the real one;
a delivery that failed to queue can be re-sent; the memory is the store's, so another web
process and a restarted one remember it too (its window: ``tests/store/test_state.py``)."""

from __future__ import annotations

import json

import pytest

from engine.config import Settings
from engine.queue import InlineQueue
from engine.registry import default_registry
from engine.service import Service, ServiceOptions
from engine.store import open_store
from tests.service.conftest import FakeClock
from tests.service.test_app_deliveries import TOKEN, delivery, signature
from webui import create_app


@pytest.fixture
def world(tmp_path):
    config = Settings.from_env({"SWITCHBOARD_VAR_DIR": str(tmp_path / "var")})
    config = config.with_secret_key_file()
    store = open_store(config.database_url, secret_box=config.secret_box(), clock=FakeClock())
    queue = InlineQueue(workers=1)
    service = Service(
        store,
        queue,
        config,
        default_registry().copy(),
        FakeClock(),
        options=ServiceOptions(webhook_response_timeout=1),
    )
    connection = store.create_connection(
        "quickbooks",
        "oauth2",
        "Company",
        data={"realm_id": "111"},
        secrets={"verifier_token": TOKEN, "access_token": "unused"},
    )
    blueprint = {
        "name": "QBO",
        "flow": [
            {"id": 1, "module": "quickbooks:NewEvent", "parameters": {"__IMTCONN__": connection.id}}
        ],
        "metadata": {"version": 1},
    }
    webhook = service.import_scenario(json.dumps(blueprint), active=True).webhooks[0]
    client = create_app({"TESTING": True, "SWITCHBOARD_SERVICE": service}).test_client()
    yield service, store, webhook, client
    service.close()
    queue.close()
    store.close()


def post(client, body, sig):
    return client.post(
        "/hooks/apps/quickbooks",
        data=body,
        headers={"intuit-signature": sig, "Content-Type": "application/json"},
    )


def received(store, webhook):
    """Every request ever queued on the webhook (processed ones included)."""
    return store.count_queue(webhook.id, status=None)


def test_a_replayed_delivery_is_acknowledged_and_queues_nothing(world):
    _, store, webhook, client = world
    body = delivery(("111", "7"))
    assert post(client, body, signature(body)).status_code == 200
    assert received(store, webhook) == 1
    for _ in range(3):  # the attacker's replays, or the app re-sending after a lost answer
        assert post(client, body, signature(body)).status_code == 200
    assert received(store, webhook) == 1
    other = delivery(("111", "8"))
    assert post(client, other, signature(other)).status_code == 200
    assert received(store, webhook) == 2


def test_an_unsigned_copy_does_not_pre_empt_the_real_delivery(world):
    _, store, webhook, client = world
    body = delivery(("111", "7"))
    assert post(client, body, signature(body, "forged")).status_code == 401
    assert post(client, body, signature(body)).status_code == 200
    assert received(store, webhook) == 1


def test_a_delivery_that_failed_to_queue_is_accepted_when_sent_again(world, monkeypatch):
    service, store, webhook, client = world
    body = delivery(("111", "7"))

    def store_down(*args, **kwargs):
        raise RuntimeError("database is gone")

    monkeypatch.setattr(service.webhooks, "enqueue", store_down)
    with pytest.raises(RuntimeError):
        service.accept_app_delivery(
            "quickbooks",
            method="POST",
            headers={"intuit-signature": signature(body)},
            query={},
            body=body,
            content_type="application/json",
        )
    monkeypatch.undo()
    assert post(client, body, signature(body)).status_code == 200
    assert received(store, webhook) == 1


def test_another_process_and_a_restart_remember_the_delivery(world, tmp_path):
    _, store, webhook, client = world
    body = delivery(("111", "7"))
    assert post(client, body, signature(body)).status_code == 200
    # A second web process (or this one, restarted) on the same database.
    config = Settings.from_env({"SWITCHBOARD_VAR_DIR": str(tmp_path / "var")})
    config = config.with_secret_key_file()
    other_store = open_store(config.database_url, secret_box=config.secret_box(), clock=FakeClock())
    queue = InlineQueue(workers=1)
    other = Service(other_store, queue, config, default_registry().copy(), FakeClock())
    try:
        other_client = create_app({"TESTING": True, "SWITCHBOARD_SERVICE": other}).test_client()
        assert post(other_client, body, signature(body)).status_code == 200
        assert received(store, webhook) == 1
    finally:
        other.close()
        queue.close()
        other_store.close()
