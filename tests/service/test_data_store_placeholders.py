"""Prebuilt blueprints name their data stores (``"datastore": "datastore:<name>"``): an import
binds each name to the data store of that name, made when missing, so the scenarios of a
library that name it share one store."""

from __future__ import annotations

import json

from tests.service.blueprints import blueprint, module, webhook_trigger


def keeps(module_id: int, name: str) -> dict:
    step = module(module_id, "datastore:AddRecord", key="{{1.id}}", data={"seen": True})
    return {**step, "parameters": {"datastore": f"datastore:{name}"}}


def bound_ids(service, scenario_id: int) -> list[int]:
    flow = json.loads(service.export_scenario(scenario_id))["flow"]
    return [step["parameters"]["datastore"] for step in flow if "datastore" in step["parameters"]]


def test_a_named_data_store_is_made_once_and_shared(service):
    first = service.import_scenario(blueprint(webhook_trigger(), keeps(2, "edits-waiting")))
    second = service.import_scenario(
        blueprint(webhook_trigger(), keeps(2, "edits-waiting"), keeps(3, "another"))
    )
    stores = {store.name: store.id for store in service.list_data_stores()}
    assert sorted(stores) == ["another", "edits-waiting"]
    assert bound_ids(service, first.scenario.id) == [stores["edits-waiting"]]
    assert bound_ids(service, second.scenario.id) == [stores["edits-waiting"], stores["another"]]


def test_a_blueprint_without_placeholders_is_stored_as_it_came(service):
    text = blueprint(webhook_trigger(), {**keeps(2, "x"), "parameters": {"datastore": 7}})
    result = service.import_scenario(text)
    assert service.export_scenario(result.scenario.id) == text
    assert service.list_data_stores() == []
