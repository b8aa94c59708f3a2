"""Trigger cursors and organization variables."""

from __future__ import annotations

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
