"""Restoring a scenario version: the old blueprint becomes a new current version."""

from __future__ import annotations

import pytest

from engine.store import NotFound
from tests.service.blueprints import blueprint, respond, set_variable, webhook_trigger

V1 = blueprint(set_variable(1, value="one"))
V2 = blueprint(webhook_trigger(), set_variable(), respond())


def test_restore_saves_the_old_blueprint_as_a_new_version(service):
    scenario = service.import_scenario(V1).scenario
    service.save_scenario(scenario.id, V2)
    result = service.restore_version(scenario.id, 1)
    assert result.version == 3 and result.scenario.current_version == 3
    assert service.export_scenario(scenario.id) == V1  # byte-exact
    assert [v.version for v in service.list_versions(scenario.id)] == [3, 2, 1]
    # History is never rewritten: the version restored from is still there, unchanged.
    assert service.export_scenario(scenario.id, 2) == V2
    assert service.current_plan(service.get_scenario(scenario.id)).trigger.module == (
        "util:SetVariable2"
    )


def test_restoring_a_version_with_a_webhook_trigger_attaches_its_webhook(service):
    scenario = service.import_scenario(V2).scenario
    [hook] = service.list_webhooks(scenario_id=scenario.id)
    service.save_scenario(scenario.id, V1)
    result = service.restore_version(scenario.id, 1)
    # The webhook (and so its URL) is the one the scenario had: saving never makes a second.
    assert [w.token for w in result.webhooks] == [hook.token]
    assert service.current_plan(result.scenario).trigger.module == "gateway:CustomWebHook"


def test_restoring_the_current_version_adds_nothing(service):
    scenario = service.import_scenario(V1).scenario
    result = service.restore_version(scenario.id, 1)
    assert result.version == 1
    assert [v.version for v in service.list_versions(scenario.id)] == [1]


def test_restoring_an_unknown_version_is_not_found(service):
    scenario = service.import_scenario(V1).scenario
    with pytest.raises(NotFound):
        service.restore_version(scenario.id, 7)
    with pytest.raises(NotFound):
        service.restore_version(scenario.id + 100, 1)
