"""Data store modules against the real store (SQLite), alone and inside runs that roll back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.blueprint import load_blueprint
from engine.errors import DataError
from engine.graph import compile_blueprint
from engine.registry import default_registry
from engine.runtime import RunContext, run_scenario
from engine.store import open_store
from tests.modules.helpers import call_module

REGISTRY = default_registry()
NOW = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        yield opened


@pytest.fixture
def contacts(store):
    data_store = store.create_data_store("contacts", max_size_bytes=1_000_000)
    for key, data in {
        "ann": {"name": "Ann", "age": 31, "city": "Oslo"},
        "bob": {"name": "Bob", "age": 45, "city": "Bergen"},
        "cy": {"name": "Cy", "age": 27, "city": "oslo"},
    }.items():
        store.put_record(data_store.id, key, data)
    return data_store.id


def run(store, module, mapped=None, **parameters):
    context = RunContext(clock=lambda: NOW, data_stores=store)
    return call_module(REGISTRY[f"datastore:{module}"], mapped, parameters, run_context=context)


def test_add_get_exist_delete(store, contacts):
    assert run(store, "AddRecord", {"key": "dee", "data": {"name": "Dee"}}, datastore=contacts) == [
        {"key": "dee", "data": {"name": "Dee"}}
    ]
    assert run(store, "GetRecord", {"key": "dee"}, datastore=contacts) == [{"name": "Dee"}]
    assert run(store, "GetRecord", {"key": "dee", "returnWrapped": True}, datastore=contacts) == [
        {"key": "dee", "data": {"name": "Dee"}}
    ]
    assert run(store, "ExistRecord", {"key": "dee"}, datastore=contacts) == [{"exist": True}]
    assert run(store, "DeleteRecord", {"key": "dee"}, datastore=contacts) == [{}]
    assert run(store, "ExistRecord", {"key": "dee"}, datastore=contacts) == [{"exist": False}]
    assert run(store, "GetRecord", {"key": "dee"}, datastore=contacts) == []


def test_add_without_overwrite_refuses_an_existing_key(store, contacts):
    with pytest.raises(DataError, match="ann"):
        run(store, "AddRecord", {"key": "ann", "data": {"name": "X"}}, datastore=contacts)
    run(
        store,
        "AddRecord",
        {"key": "ann", "data": {"name": "X"}, "overwrite": True},
        datastore=contacts,
    )
    assert store.get_record(contacts, "ann") == {"name": "X"}


def test_a_missing_key_gets_generated(store, contacts):
    [added] = run(store, "AddRecord", {"data": {"name": "Anon"}}, datastore=contacts)
    assert added["key"] and store.get_record(contacts, added["key"]) == {"name": "Anon"}


def test_update_merges_and_upserts(store, contacts):
    [updated] = run(store, "UpdateRecord", {"key": "ann", "data": {"age": 32}}, datastore=contacts)
    assert updated["data"] == {"name": "Ann", "age": 32, "city": "Oslo"}
    with pytest.raises(DataError):
        run(store, "UpdateRecord", {"key": "zed", "data": {"a": 1}}, datastore=contacts)
    run(store, "UpdateRecord", {"key": "zed", "data": {"a": 1}, "upsert": True}, datastore=contacts)
    assert store.get_record(contacts, "zed") == {"a": 1}


def test_search_filters_sorts_and_limits(store, contacts):
    found = run(
        store,
        "SearchRecord",
        {
            "filter": [
                [{"a": "city", "o": "text:equal:ci", "b": "oslo"}],
                [{"a": "age", "o": "number:greater", "b": "40"}],
            ],
            "sort": [{"key": "age", "order": -1}],
        },
        datastore=contacts,
    )
    assert [(r["key"], r["__IMTINDEX__"], r["__IMTLENGTH__"]) for r in found] == [
        ("bob", 1, 3),
        ("ann", 2, 3),
        ("cy", 3, 3),
    ]
    limited = run(store, "SearchRecord", {"sort": [{"key": "key"}]}, datastore=contacts, limit=2)
    assert [r["key"] for r in limited] == ["ann", "bob"]


def test_count_and_delete_all(store, contacts):
    assert run(store, "CountRecords", {}, datastore=contacts) == [{"count": 3}]
    assert run(store, "DeleteAllRecords", {}, datastore=contacts) == [{"count": 3}]
    assert run(store, "CountRecords", {}, datastore=contacts) == [{"count": 0}]


def test_an_unknown_store_is_a_data_error(store):
    with pytest.raises(DataError):
        run(store, "GetRecord", {"key": "x"}, datastore=999)


def scenario(contacts, directive, auto_commit):
    return load_blueprint(
        {
            "name": "rollback",
            "flow": [
                {"id": 1, "module": "gateway:CustomWebHook"},
                {"id": 2, "module": "builtin:BasicFeeder", "mapper": {"array": "{{1.people}}"}},
                {
                    "id": 3,
                    "module": "datastore:AddRecord",
                    "parameters": {"datastore": contacts},
                    "mapper": {
                        "key": "{{2.key}}",
                        "data": {"name": "{{2.name}}"},
                        "overwrite": True,
                    },
                },
                {
                    "id": 4,
                    "module": "datastore:DeleteRecord",
                    "parameters": {"datastore": contacts},
                    "mapper": {"key": "{{2.drop}}"},
                },
                {
                    "id": 5,
                    "module": "json:ParseJSON",
                    "mapper": {"json": "{{2.json}}"},
                    "onerror": [{"id": 6, "module": f"builtin:{directive}"}],
                },
            ],
            "metadata": {"version": 1, "scenario": {"autoCommit": auto_commit}},
        }
    )


PEOPLE = [
    {"key": "dee", "name": "Dee", "drop": "ann", "json": "{}"},
    {"key": "bob", "name": "Robert", "drop": "cy", "json": "{broken"},
    {"key": "eve", "name": "Eve", "drop": "bob", "json": "{}"},
]


@pytest.mark.parametrize(
    ("directive", "auto_commit", "status", "keys"),
    [
        ("Rollback", False, "error", {"ann": "Ann", "bob": "Bob", "cy": "Cy"}),
        ("Rollback", True, "error", {"dee": "Dee", "bob": "Robert"}),
        ("Commit", False, "success", {"dee": "Dee", "bob": "Robert"}),
        ("Ignore", False, "success", {"dee": "Dee", "eve": "Eve"}),
    ],
)
def test_data_store_writes_follow_the_cycle(store, contacts, directive, auto_commit, status, keys):
    plan = compile_blueprint(scenario(contacts, directive, auto_commit), REGISTRY)
    context = RunContext(clock=lambda: NOW, data_stores=store)
    record = run_scenario(plan, context, trigger_bundles=[{"people": PEOPLE}])
    assert record.status == status
    remaining = {r.key: r.data["name"] for r in store.search_records(contacts)}
    assert remaining == keys


def test_update_adds_to_arrays_unless_asked_to_overwrite_them(store, contacts):
    """``overwriteArrays`` as Make exports it ("Overwrite an existing array in the record")."""
    run(store, "UpdateRecord", {"key": "ann", "data": {"tags": ["a"]}}, datastore=contacts)
    mapped = {"key": "ann", "data": {"tags": ["b"], "age": 33}, "overwriteArrays": False}
    [updated] = run(store, "UpdateRecord", mapped, datastore=contacts)
    assert updated["data"]["tags"] == ["a", "b"]
    mapped["overwriteArrays"] = True
    run(store, "UpdateRecord", mapped, datastore=contacts)
    assert store.get_record(contacts, "ann")["tags"] == ["b"]
