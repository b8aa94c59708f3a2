"""Scenarios: version history, byte-exact blueprints, settings, consecutive errors, deletion."""

from __future__ import annotations

import threading

import pytest

from engine.store import ExecutionStatus, NotFound, TriggerKind

ORDERS_BLUEPRINT = '{"name": "Orders", "flow": []}'  # the ``scenario`` fixture's
ODD_BLUEPRINT = '{\r\n  "name": "Ünïcode ☃",\n  "flow": [],  "x": 1.0e3, "t": "\\u00e9\\t"}\n'


def test_create_starts_at_version_one(store, clock):
    scenario = store.create_scenario("Sync", '{"flow": []}', scheduling={"type": "immediately"})
    assert scenario.current_version == 1
    assert scenario.name == "Sync"
    assert scenario.active is False
    assert scenario.scheduling == {"type": "immediately"}
    assert scenario.consecutive_errors == 0
    assert scenario.created_at == scenario.updated_at == clock.now
    assert scenario.created_at.tzinfo is not None


def test_default_scheduling_is_on_demand(store):
    assert store.create_scenario("a", "{}").scheduling == {"type": "on-demand"}


def test_scheduling_needs_a_type(store):
    with pytest.raises(ValueError, match="type"):
        store.create_scenario("a", "{}", scheduling={"interval": 900})


def test_blueprint_is_kept_byte_exact(store):
    scenario = store.create_scenario("odd", ODD_BLUEPRINT)
    version = store.get_scenario_version(scenario.id)
    assert version.blueprint == ODD_BLUEPRINT
    assert version.size_bytes == len(ODD_BLUEPRINT.encode("utf-8"))


def test_blueprint_must_be_text(store):
    with pytest.raises(TypeError):
        store.create_scenario("a", {"flow": []})


def test_every_save_is_a_new_version(store, scenario, clock):
    clock.advance(60)
    assert store.save_scenario(scenario.id, '{"v": 2}') == 2
    clock.advance(60)
    assert store.save_scenario(scenario.id, '{"v": 3}') == 3
    assert store.get_scenario(scenario.id).current_version == 3
    assert store.get_scenario(scenario.id).updated_at == clock.now
    assert store.get_scenario_version(scenario.id).blueprint == '{"v": 3}'
    assert store.get_scenario_version(scenario.id, 2).blueprint == '{"v": 2}'
    assert store.get_scenario_version(scenario.id, 1).blueprint == ORDERS_BLUEPRINT
    versions = store.list_scenario_versions(scenario.id)
    assert [info.version for info in versions] == [3, 2, 1]
    assert versions[0].created_at > versions[2].created_at


def test_a_version_keeps_who_saved_it(store):
    scenario = store.create_scenario("Sync", "{}", saved_by="ann@example.com")
    store.save_scenario(scenario.id, '{"v": 2}', saved_by="bob@example.com")
    store.save_scenario(scenario.id, '{"v": 3}')
    versions = store.list_scenario_versions(scenario.id)
    assert [v.saved_by for v in versions] == [None, "bob@example.com", "ann@example.com"]
    assert store.get_scenario_version(scenario.id, 2).saved_by == "bob@example.com"


def test_concurrent_saves_get_distinct_versions(store, scenario):
    numbers, errors = [], []

    def save(index):
        try:
            for step in range(5):
                numbers.append(store.save_scenario(scenario.id, f'{{"w": {index}, "s": {step}}}'))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=save, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(numbers) == list(range(2, 22))
    assert store.get_scenario(scenario.id).current_version == 21


def test_unknown_scenario_and_version(store, scenario):
    with pytest.raises(NotFound):
        store.get_scenario(999)
    with pytest.raises(NotFound):
        store.save_scenario(999, "{}")
    with pytest.raises(NotFound):
        store.get_scenario_version(scenario.id, 7)
    with pytest.raises(NotFound):
        store.list_scenario_versions(999)
    with pytest.raises(KeyError):  # NotFound is also a KeyError
        store.get_scenario_version(999)


def test_list_and_filter_by_active(store):
    first = store.create_scenario("a", "{}")
    second = store.create_scenario("b", "{}", active=True)
    assert [s.id for s in store.list_scenarios()] == [first.id, second.id]
    assert [s.id for s in store.list_scenarios(active=True)] == [second.id]
    assert [s.id for s in store.list_scenarios(active=False)] == [first.id]


def test_update_name_and_scheduling_keeps_the_version(store, scenario):
    updated = store.update_scenario(scenario.id, name="Renamed")
    assert updated.name == "Renamed"
    assert updated.scheduling == scenario.scheduling
    updated = store.update_scenario(
        scenario.id, scheduling={"type": "indefinitely", "interval": 900}
    )
    assert updated.name == "Renamed"
    assert updated.scheduling == {"type": "indefinitely", "interval": 900}
    assert updated.current_version == 1
    with pytest.raises(NotFound):
        store.update_scenario(999, name="x")


def test_consecutive_errors_count_and_reset(store, scenario):
    assert store.record_scenario_outcome(scenario.id, errored=True) == 1
    assert store.record_scenario_outcome(scenario.id, errored=True) == 2
    assert store.get_scenario(scenario.id).consecutive_errors == 2
    assert store.record_scenario_outcome(scenario.id, errored=False) == 0
    store.record_scenario_outcome(scenario.id, errored=True)
    assert store.set_scenario_active(scenario.id, False).consecutive_errors == 1
    activated = store.set_scenario_active(scenario.id, True)
    assert activated.active is True
    assert activated.consecutive_errors == 0
    with pytest.raises(NotFound):
        store.record_scenario_outcome(999, errored=True)
    with pytest.raises(NotFound):
        store.set_scenario_active(999, True)


def test_delete_cascades_and_detaches_webhooks(store, scenario):
    hook = store.create_webhook("in", scenario_id=scenario.id)
    execution = store.create_execution(scenario.id, 1, TriggerKind.MANUAL)
    store.claim_execution(execution.id, "w")
    store.finish_execution(
        execution.id, ExecutionStatus.SUCCESS, {"m": 1}, operations=1, data_size=1
    )
    store.create_incomplete(scenario.id, 1, {"s": 1}, {"type": "DataError", "message": "x"})
    store.set_cursor(scenario.id, 1, {"since": 5})
    store.delete_scenario(scenario.id)
    with pytest.raises(NotFound):
        store.get_scenario(scenario.id)
    with pytest.raises(NotFound):
        store.get_execution(execution.id)
    assert store.list_incomplete() == []
    assert store.get_cursor(scenario.id, 1) is None
    assert store.get_webhook(hook.id).scenario_id is None
    with pytest.raises(NotFound):
        store.delete_scenario(scenario.id)
