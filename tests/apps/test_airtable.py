"""Airtable defined as data, against its sandbox: records by field ID or name, Make's flat
output, formulas, sorting, pages, upsert and the watch trigger."""

from __future__ import annotations

import pytest

from tests.apps.harness import AppSandboxes

TABLE = {
    "id": "tblLeads",
    "base": "appCRM",
    "name": "Leads",
    "fields": [
        {"id": "fldName", "name": "Name"},
        {"id": "fldEmail", "name": "Email"},
        {"id": "fldScore", "name": "Score"},
        {"id": "fldCreated", "name": "Created At"},
    ],
}


@pytest.fixture
def airtable():
    with AppSandboxes(["airtable"]) as sandboxes:
        sandboxes.seed({"airtable_tables": [TABLE]})
        yield sandboxes


def _flow(*modules):
    return {"name": "t", "flow": list(modules), "metadata": {}}


def _module(id_, name, mapper=None, parameters=None):
    return {
        "id": id_,
        "module": f"airtable:{name}",
        "version": 3,
        "mapper": mapper or {},
        "parameters": parameters or {},
    }


def _calls(record, module_id):
    [module] = [m for m in record["modules"] if m["id"] == module_id]
    return module["calls"]


def _outputs(record, module_id):
    calls = _calls(record, module_id)
    assert all(c["error"] is None for c in calls), calls[-1]["error"]
    return [bundle for call in calls for bundle in call["output"]]


def _lead(name, score, created):
    return {
        "base": "appCRM",
        "table": "tblLeads",
        "createdTime": created,
        "fields": {"Name": name, "Score": score, "Created At": created},
    }


def test_create_by_field_ids_and_output_fields_by_name(airtable):
    mapper = {
        "base": "appCRM",
        "table": "tblLeads",
        "typecast": False,
        "useColumnId": False,
        "record": {"fldName": "Ada", "fldEmail": "ada@example.com", "fldScore": 9},
    }
    record = airtable.run(
        _flow(
            _module(1, "ActionCreateRecord", mapper),
            _module(2, "ActionGetRecord", {"base": "appCRM", "table": "Leads", "id": "{{1.id}}"}),
        )
    )
    [created] = _outputs(record, 1)
    assert created["id"].startswith("rec") and created["Name"] == "Ada" and created["Score"] == 9
    assert _outputs(record, 2)[0]["Email"] == "ada@example.com"
    [stored] = airtable.records("airtable_records")
    assert stored["fields"] == {"Name": "Ada", "Email": "ada@example.com", "Score": 9}


def test_an_unknown_field_is_a_data_error(airtable):
    mapper = {"base": "appCRM", "table": "tblLeads", "record": {"fldNope": "x"}}
    record = airtable.run(_flow(_module(1, "ActionCreateRecord", mapper)))
    [call] = _calls(record, 1)
    assert call["error"]["type"] == "DataError"
    assert call["error"]["message"] == 'Airtable: Unknown field name: "fldNope"'


def test_update_and_upsert(airtable):
    airtable.seed(
        {"airtable_records": [{"id": "recA", **_lead("Ada", 1, "2026-01-01T00:00:00.000Z")}]}
    )
    record = airtable.run(
        _flow(
            _module(
                1,
                "ActionUpdateRecords",
                {"base": "appCRM", "table": "tblLeads", "id": "recA", "record": {"fldScore": 5}},
            ),
            _module(
                2,
                "upsertRecord",
                {
                    "base": "appCRM",
                    "table": "tblLeads",
                    "recordId": "",
                    "record": {"fldName": "Grace"},
                },
            ),
            _module(
                3,
                "upsertRecord",
                {
                    "base": "appCRM",
                    "table": "tblLeads",
                    "recordId": "recA",
                    "record": {"fldName": "Ada L."},
                },
            ),
        )
    )
    assert _outputs(record, 1)[0]["Score"] == 5
    assert _outputs(record, 2)[0]["Name"] == "Grace"
    assert _outputs(record, 3)[0] == {**_outputs(record, 3)[0], "Name": "Ada L.", "Score": 5}
    assert len(airtable.records("airtable_records")) == 2


def test_search_by_formula_sorted_and_paged(airtable):
    leads = [
        _lead(f"Lead {n:03d}", n % 7, f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}.000Z")
        for n in range(150)
    ]
    airtable.seed({"airtable_records": leads})
    mapper = {
        "base": "appCRM",
        "table": "tblLeads",
        "formula": "{Score} >= 6",
        "sort": [{"field": "Name", "direction": "desc"}],
        "fields": ["Name", "Score"],
        "maxRecords": "200",
        "useColumnId": False,
    }
    record = airtable.run(_flow(_module(1, "ActionSearchRecords", mapper)))
    found = _outputs(record, 1)
    assert len(found) == 21 and found[0]["Name"] == "Lead 146" and found[0]["Score"] == 6
    assert found[0]["__IMTLENGTH__"] == 21
    sent = airtable.requests("/v0/appCRM/tblLeads")[0]
    assert sent["query"]["sort[0][field]"] == ["Name"] and sent["query"]["fields[]"] == [
        "Name",
        "Score",
    ]
    record = airtable.run(
        _flow(
            _module(
                1, "ActionSearchRecords", {"base": "appCRM", "table": "tblLeads", "maxRecords": 120}
            )
        )
    )
    assert record["modules"][0]["bundles_out"] == 120  # past Airtable's page of 100, by offset
    assert [r["query"].get("offset") for r in airtable.requests("/v0/appCRM/tblLeads")[1:]] == [
        None,
        ["100"],
    ]


def test_watch_records_by_their_created_time(airtable):
    airtable.seed(
        {
            "airtable_records": [
                _lead("Old", 1, "2026-01-01T08:00:00.000Z"),
                _lead("Older", 1, "2025-12-01T08:00:00.000Z"),
            ]
        }
    )
    trigger = _flow(
        _module(
            1,
            "TriggerWatchRecords",
            parameters={
                "base": "appCRM",
                "table": "tblLeads",
                "config": {"triggerField": "Created At"},
                "maxRecords": 5,
                "formula": "",
                "useColumnId": False,
            },
        )
    )
    cursors = {}
    record = airtable.run(trigger, starts={1: {"type": "all"}}, commit_cursor=cursors.__setitem__)
    assert [r["Name"] for r in _outputs(record, 1)] == ["Older", "Old"]
    airtable.seed({"airtable_records": [_lead("New", 2, "2026-02-01T08:00:00.000Z")]})
    record = airtable.run(trigger, cursors=dict(cursors), commit_cursor=cursors.__setitem__)
    assert [r["Name"] for r in _outputs(record, 1)] == ["New"]
    last = airtable.requests("/v0/appCRM/tblLeads")[-1]
    assert last["query"]["filterByFormula"] == [
        "IS_AFTER({Created At}, '2026-01-01T08:00:00+00:00')"
    ]
