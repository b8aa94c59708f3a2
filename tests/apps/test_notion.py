"""Notion defined as data, against its sandbox: Make's fields by property ID written as each
property's type wants, pages read back with Make's properties_value."""

from __future__ import annotations

import pytest

from tests.apps.harness import AppSandboxes

DATABASE = "32f5c475-640e-4340-b42e-cb0668119794"
SCHEMA = {
    "Name": {"id": "title", "type": "title"},
    "Language": {"id": "%40%3Dyo", "type": "rich_text"},
    "Status": {"id": "%7BGpN", "type": "status"},
    "Key Count": {"id": "EE~f", "type": "number"},
    "Due Date": {"id": "mxix", "type": "date"},
}
SOURCE = "200c003d-3b7a-410d-840c-8e19b0667edc"


@pytest.fixture
def notion():
    with AppSandboxes(["notion"]) as sandboxes:
        sandboxes.seed(
            {
                "notion_databases": [{"id": DATABASE, "title": "Tasks", "properties": SCHEMA}],
                "notion_data_sources": [
                    {
                        "id": SOURCE,
                        "properties": {
                            "Ticket": {"id": "title", "type": "title"},
                            "When": {"id": "PBu~", "type": "date"},
                            "Category": {"id": "ywWh", "type": "select"},
                        },
                    }
                ],
            }
        )
        yield sandboxes


def _flow(*modules):
    return {"name": "t", "flow": list(modules), "metadata": {}}


def _module(id_, name, mapper=None):
    return {
        "id": id_,
        "module": f"notion:{name}",
        "version": 1,
        "mapper": mapper or {},
        "parameters": {},
    }


def _calls(record, module_id):
    [module] = [m for m in record["modules"] if m["id"] == module_id]
    return module["calls"]


def _outputs(record, module_id):
    calls = _calls(record, module_id)
    assert all(c["error"] is None for c in calls), calls[-1]["error"]
    return [bundle for call in calls for bundle in call["output"]]


def test_create_update_search_and_get_database_items(notion):
    fields = {
        "title": "Translate FAQ",
        "%40%3Dyo": "de",
        "%7BGpN": "In progress",
        "EE~f": "42",
        "mxix": "2026-05-01",
    }
    record = notion.run(
        _flow(
            _module(
                1,
                "createAPage",
                {"select": "list", "database": DATABASE.replace("-", ""), "fields": fields},
            ),
            _module(
                2,
                "updateADatabaseItem",
                {
                    "select": "list",
                    "database": DATABASE,
                    "page": "{{1.id}}",
                    "fields": {"%7BGpN": "Done"},
                },
            ),
            _module(3, "searchObjects1", {"select": "item", "limit": "100", "database": DATABASE}),
            _module(4, "getADatabaseItem", {"select": "map", "page": "{{1.id}}"}),
        )
    )
    [created] = _outputs(record, 1)
    values = created["properties_value"]
    assert values["Name"][0]["plain_text"] == "Translate FAQ"
    assert values["Language"][0]["plain_text"] == "de"
    assert values["Status"]["name"] == "In progress" and values["Key Count"] == 42
    assert values["Due Date"] == {"start": "2026-05-01"}
    assert _outputs(record, 2)[0]["properties_value"]["Status"]["name"] == "Done"
    [found] = _outputs(record, 3)
    assert found["id"] == created["id"] and found["__IMTLENGTH__"] == 1
    assert _outputs(record, 4)[0]["properties_value"]["Status"]["name"] == "Done"
    [sent] = [r for r in notion.requests("/v1/pages") if r["method"] == "POST"]
    assert sent["json"]["properties"]["%7BGpN"] == {"status": {"name": "In progress"}}


def test_a_property_the_database_lacks_is_refused(notion):
    record = notion.run(
        _flow(
            _module(
                1, "createAPage", {"select": "list", "database": DATABASE, "fields": {"nope": "x"}}
            )
        )
    )
    [call] = _calls(record, 1)
    assert call["error"]["type"] == "DataError"
    assert "the database has no property 'nope'" in call["error"]["message"]


def test_data_source_items_take_dates_as_make_gives_them(notion):
    record = notion.run(
        _flow(
            _module(
                1,
                "createDataSourceItem",
                {
                    "select": "list",
                    "data_source": SOURCE,
                    "fields": {
                        "title": "T-1",
                        "PBu~": {"start": "2026-04-01T08:00:00.000Z", "includeTime": False},
                        "ywWh": "Billing",
                    },
                },
            )
        )
    )
    values = _outputs(record, 1)[0]["properties_value"]
    assert values["When"] == {"start": "2026-04-01"} and values["Category"] == {"name": "Billing"}
    [sent] = [r for r in notion.requests("/v1/pages") if r["method"] == "POST"]
    assert sent["headers"]["Notion-Version"] == "2025-09-03"


def test_a_page_inside_a_page(notion):
    record = notion.run(
        _flow(
            _module(
                1,
                "createAPage1",
                {
                    "select": "page",
                    "content": "INV-42",
                    "page": "3790f5a5-c7e6-8085-af4a-c238a8ac3280",
                    "emoji": "🧾",
                },
            )
        )
    )
    [page] = _outputs(record, 1)
    assert page["parent"]["page_id"] == "3790f5a5-c7e6-8085-af4a-c238a8ac3280"
    assert page["properties_value"]["title"][0]["plain_text"] == "INV-42"
    assert page["icon"] == {"type": "emoji", "emoji": "🧾"}
