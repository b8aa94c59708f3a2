"""The sync log's pure functions on hand-made execution records."""

from __future__ import annotations

from engine.service.synclog import (
    SyncEntry,
    filter_labels,
    format_table,
    latest_by_record,
    sync_entries,
)


def call(input_=None, output=None, error=None):
    return {"input": input_, "output": output or [], "error": error}


def test_labels_are_found_in_routes_and_error_routes():
    blueprint = {
        "flow": [
            {"id": 1},
            {
                "id": 3,
                "routes": [
                    {"flow": [{"id": 4, "filter": {"name": "New Accounts"}}]},
                    {
                        "flow": [
                            {
                                "id": 5,
                                "filter": {"name": "Update Accounts"},
                                "onerror": [{"id": 6, "filter": {"name": "Only 400s"}}],
                            }
                        ]
                    },
                ],
            },
        ]
    }
    assert filter_labels(blueprint) == {4: "New Accounts", 5: "Update Accounts", 6: "Only 400s"}


def test_each_record_of_a_polling_run_gets_its_own_status():
    record = {
        "modules": [
            {
                "id": 1,
                "module": "xero:WatchContacts",
                "calls": [
                    call(
                        output=[
                            {"ContactID": "c-1", "Name": "Alpha"},
                            {"ContactID": "c-2", "Name": "Beta"},
                            {"ContactID": "c-3", "Name": "Gamma"},
                        ]
                    )
                ],
            },
            {
                "id": 4,
                "module": "onecrm:CreateRecord",
                "filtered": 1,
                "calls": [
                    call({"name": "Alpha", "note": "c-1"}, [{"id": "a-1"}]),
                    call({"name": "Gamma", "note": "c-3"}, error={"message": "name taken"}),
                ],
            },
        ]
    }
    entries = {e.source_name: e for e in sync_entries(record, filter_labels={4: "New"})}
    assert (entries["Alpha"].status, entries["Alpha"].target_key) == ("Synced", "a-1")
    assert entries["Beta"].status == "Not Valid" and entries["Beta"].message == "stopped by: New"
    assert entries["Gamma"].status == "Error" and "name taken" in entries["Gamma"].message


def test_a_run_that_failed_before_any_record_is_one_error_and_latest_keeps_the_newest():
    (broken,) = sync_entries(
        {
            "modules": [{"id": 1, "module": "x:Watch", "calls": []}],
            "error": {"message": "token expired"},
        }
    )
    assert broken.status == "Error" and broken.message == "token expired"
    newer = SyncEntry("Synced", "k", "A", "t", None, "2026-03-02T10:00", "e2")
    older = SyncEntry("Error", "k", "A", None, "boom", "2026-03-02T09:00", "e1")
    assert latest_by_record([newer, older]) == [newer]
    table = format_table([newer])
    assert table.splitlines()[0].split() == [
        "time",
        "status",
        "record",
        "key",
        "other",
        "side",
        "message",
    ]
    assert "Synced" in table.splitlines()[1]
