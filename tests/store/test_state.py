"""Trigger cursors, organization variables, app deliveries seen."""

from __future__ import annotations

import threading

import pytest


def test_cursor_set_get_replace_clear(store, scenario, clock):
    assert store.get_cursor(scenario.id, 1) is None
    store.set_cursor(scenario.id, 1, {"last_id": 10})
    store.set_cursor(scenario.id, 2, "2026-01-01T00:00:00Z")
    store.set_cursor(scenario.id, 1, {"last_id": 11})
    assert store.get_cursor(scenario.id, 1) == {"last_id": 11}
    assert store.get_cursor(scenario.id, 2) == "2026-01-01T00:00:00Z"
    assert store.clear_cursor(scenario.id, 1) == 1
    assert store.get_cursor(scenario.id, 1) is None
    store.set_cursor(scenario.id, 3, 0)
    assert store.get_cursor(scenario.id, 3) == 0
    assert store.clear_cursor(scenario.id) == 2
    assert store.clear_cursor(scenario.id) == 0
    with pytest.raises(ValueError):
        store.set_cursor(scenario.id, 1, None)


def test_cursors_belong_to_their_scenario(store, scenario):
    other = store.create_scenario("other", "{}")
    store.set_cursor(scenario.id, 1, 1)
    store.set_cursor(other.id, 1, 2)
    assert (store.get_cursor(scenario.id, 1), store.get_cursor(other.id, 1)) == (1, 2)


def test_organization_variables(store):
    assert store.get_variable("region") is None
    store.set_variable("region", "eu")
    store.set_variable("limits", {"daily": 100})
    store.set_variable("region", "us")
    assert store.get_variable("region") == "us"
    assert store.list_variables() == {"region": "us", "limits": {"daily": 100}}
    assert store.delete_variable("region") is True
    assert store.delete_variable("region") is False
    assert store.list_variables() == {"limits": {"daily": 100}}


def test_deliveries_are_remembered_for_the_window(store, clock):
    assert store.remember_delivery("a" * 64, 60) is True
    assert store.remember_delivery("a" * 64, 60) is False
    assert store.remember_delivery("b" * 64, 60) is True  # another delivery
    clock.advance(59)
    assert store.remember_delivery("a" * 64, 60) is False
    clock.advance(1)
    assert store.remember_delivery("a" * 64, 60) is True  # the window passed: seen anew
    assert store.remember_delivery("a" * 64, 60) is False


def test_a_sighting_counts_only_if_its_transaction_commits(store):
    with pytest.raises(RuntimeError), store.transaction():
        assert store.remember_delivery("c" * 64, 60) is True
        raise RuntimeError("queuing the delivery failed")
    assert store.remember_delivery("c" * 64, 60) is True


def test_of_two_copies_at_once_one_is_first(store):
    results: list[bool] = []
    barrier = threading.Barrier(2)

    def deliver() -> None:
        barrier.wait()
        results.append(store.remember_delivery("d" * 64, 60))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == [False, True]
