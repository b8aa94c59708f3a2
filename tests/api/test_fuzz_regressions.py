"""Regression tests for what the schemathesis walk (``tests/fuzz/test_api_schemathesis.py``)
found in the API; each failed with a 500 before its fix."""

from __future__ import annotations

import pytest

from webui.api.converters import INT4_MAX, INT8_MAX


@pytest.mark.parametrize(
    "url",
    [
        "/api/scenarios/14859107447105600389906432",  # OverflowError in SQLite: a 500
        f"/api/scenarios/{INT8_MAX + 1}",
        f"/api/scenarios/{INT4_MAX + 1}",  # beyond PostgreSQL's integer column
        f"/api/datastores/{INT8_MAX + 1}/records",
        f"/api/webhooks/1/queue/{INT8_MAX + 1}",
    ],
)
def test_an_id_past_the_columns_range_is_a_404(owner, url):
    response = owner.get(url)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_the_largest_ids_are_looked_up(owner):
    assert owner.get(f"/api/scenarios/{INT4_MAX}").json["error"]["code"] == "not_found"
    queue_item = owner.get(f"/api/webhooks/1/queue/{INT8_MAX}")
    assert queue_item.status_code == 404  # the webhook does not exist: the view answered


def test_the_openapi_document_declares_the_id_bounds(owner):
    document = owner.get("/api/openapi.json").json
    scenario = document["paths"]["/api/scenarios/{scenario_id}"]["get"]["parameters"][0]
    assert scenario["schema"] == {"type": "integer", "minimum": 0, "maximum": INT4_MAX}
    item = document["paths"]["/api/webhooks/{webhook_id}/queue/{item_id}"]["get"]
    assert item["parameters"][1]["schema"]["maximum"] == INT8_MAX


def test_every_operation_declares_its_errors_and_no_default(owner):
    # "default" covered any status, a 500 included; the contract is 4xx with a reason, or 503.
    document = owner.get("/api/openapi.json").json
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "default" not in responses, (method, path)
            assert {"4XX", "503"} <= responses.keys(), (method, path)


@pytest.mark.parametrize("value", [[None, None], 3, None, True, "[1]"])
def test_validating_a_blueprint_that_is_not_an_object_lists_the_problem(owner, value):
    # [null, null] raised AttributeError (a list has no removeprefix): a 500.
    response = owner.post("/api/validate", json={"blueprint": value})
    assert response.status_code == 200, response.json
    [problem] = response.json["problems"]
    assert problem["path"] == "" and problem["message"]


@pytest.mark.parametrize(
    "url",
    [
        f"/api/incomplete?offset={INT8_MAX + 1}",  # OverflowError in SQLite: a 500
        "/api/incomplete?offset=60703158389511282457837568",
        f"/api/incomplete?scenario_id={INT4_MAX + 1}",
        f"/api/executions?scenario_id={INT4_MAX + 1}",
        f"/api/webhooks?scenario_id={INT8_MAX + 1}",
        f"/api/webhooks/1/queue?offset={INT8_MAX + 1}",
        f"/api/datastores/1/records?offset={INT8_MAX + 1}",
    ],
)
def test_query_numbers_past_the_columns_range_are_422(owner, url):
    response = owner.get(url)
    assert response.status_code == 422, response.json
    assert response.json["error"]["path"] in ("offset", "scenario_id")


def test_body_ids_past_the_columns_range_are_422(owner):
    hook = owner.post("/api/webhooks", json={"name": "In", "scenario_id": INT8_MAX + 1})
    assert hook.status_code == 422 and hook.json["error"]["path"] == "scenario_id"
    retry = owner.post("/api/incomplete/retry", json={"ids": [1, 10**30]})
    assert retry.status_code == 422 and retry.json["error"]["path"] == "ids[1]"
    assert owner.get(f"/api/incomplete?offset={INT8_MAX}").status_code == 200
