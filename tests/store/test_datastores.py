"""Data stores: records CRUD, overwrite rules, size limit, search."""

from __future__ import annotations

import pytest

from engine.store import (
    DataStoreFull,
    DuplicateKey,
    NotFound,
    RecordFilter,
    RecordSort,
)

STRUCTURE = {"spec": [{"name": "email", "type": "text"}, {"name": "total", "type": "number"}]}
PEOPLE = {
    "ann": {"email": "ann@example.com", "total": 30, "tags": ["vip"], "address": {"city": "Oslo"}},
    "bob": {"email": "bob@example.org", "total": 5, "tags": []},
    "cy": {"email": "cy@example.com", "total": 12.5, "address": {"city": "Rome"}},
    "dee": {"email": None, "total": "n/a"},
}


@pytest.fixture
def people(store):
    data_store = store.create_data_store("people", structure=STRUCTURE, max_size_bytes=100_000)
    for key, data in PEOPLE.items():
        store.put_record(data_store.id, key, data)
    return data_store


def keys(records):
    return [record.key for record in records]


def test_create_get_list_update_delete_store(store):
    created = store.create_data_store("a", structure=STRUCTURE, max_size_bytes=1000)
    assert created.structure == STRUCTURE and created.max_size_bytes == 1000
    assert store.get_data_store(created.id) == created
    other = store.create_data_store("b", max_size_bytes=10)
    assert [s.id for s in store.list_data_stores()] == [created.id, other.id]
    updated = store.update_data_store(created.id, name="renamed", max_size_bytes=2000)
    assert (updated.name, updated.max_size_bytes, updated.structure) == ("renamed", 2000, STRUCTURE)
    assert store.update_data_store(created.id, structure=None).structure is None
    store.put_record(created.id, "k", {"a": 1})
    store.delete_data_store(created.id)
    with pytest.raises(NotFound):
        store.get_data_store(created.id)
    with pytest.raises(NotFound):
        store.delete_data_store(created.id)
    with pytest.raises(ValueError):
        store.create_data_store("c", max_size_bytes=0)


def test_put_get_and_overwrite_rules(store, people):
    assert store.get_record(people.id, "ann") == PEOPLE["ann"]
    assert store.get_record(people.id, "zed") is None
    with pytest.raises(DuplicateKey):
        store.put_record(people.id, "ann", {"email": "new"})
    assert store.get_record(people.id, "ann") == PEOPLE["ann"]
    replaced = store.put_record(people.id, "ann", {"email": "new"}, overwrite=True)
    assert replaced.data == {"email": "new"}
    assert store.get_record(people.id, "ann") == {"email": "new"}
    generated = store.put_record(people.id, None, {"x": 1})
    assert len(generated.key) == 32 and store.get_record(people.id, generated.key) == {"x": 1}
    with pytest.raises(NotFound):
        store.put_record(999, "k", {})


def test_update_merges(store, people, clock):
    clock.advance(10)
    merged = store.update_record(people.id, "bob", {"total": 6, "city": "Bergen"})
    assert merged.data == {**PEOPLE["bob"], "total": 6, "city": "Bergen"}
    assert merged.updated_at == clock.now and merged.created_at < merged.updated_at
    with pytest.raises(NotFound):
        store.update_record(people.id, "zed", {"a": 1})
    assert store.update_record(people.id, "zed", {"a": 1}, insert_missing=True).data == {"a": 1}


def test_delete_count_and_delete_all(store, people):
    assert store.count_records(people.id) == 4
    assert store.delete_record(people.id, "bob") is True
    assert store.delete_record(people.id, "bob") is False
    assert store.count_records(people.id) == 3
    assert store.delete_all_records(people.id) == 3
    assert store.count_records(people.id) == 0
    with pytest.raises(NotFound):
        store.count_records(999)


def test_find_record_and_the_size_used(store, people, clock):
    found = store.find_record(people.id, "bob")
    assert found is not None and found.key == "bob" and found.data == PEOPLE["bob"]
    assert found.created_at == found.updated_at == clock.now
    assert store.find_record(people.id, "zed") is None
    sizes = [store.find_record(people.id, key).size_bytes for key in PEOPLE]
    assert store.data_store_size(people.id) == sum(sizes) > 0
    store.delete_all_records(people.id)
    assert store.data_store_size(people.id) == 0
    for lookup in (store.find_record, lambda i, *_: store.data_store_size(i)):
        with pytest.raises(NotFound):
            lookup(999, "bob")


def test_size_limit(store):
    small = store.create_data_store("small", max_size_bytes=40)
    store.put_record(small.id, "a", {"v": "x" * 20})  # {"v":"xxx…"} is 28 bytes
    with pytest.raises(DataStoreFull):
        store.put_record(small.id, "b", {"v": "y" * 20})
    # Replacing a record only counts the difference.
    store.put_record(small.id, "a", {"v": "z" * 30}, overwrite=True)
    with pytest.raises(DataStoreFull):
        store.update_record(small.id, "a", {"w": "too much"})
    assert store.count_records(small.id) == 1


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([RecordFilter("key", "eq", "bob")], ["bob"]),
        ([RecordFilter("email", "contains", "example.com")], ["ann", "cy"]),
        ([RecordFilter("email", "not_contains", "example.com")], ["bob", "dee"]),
        ([RecordFilter("total", "gt", 10)], ["ann", "cy"]),
        ([RecordFilter("total", "lte", 12.5)], ["bob", "cy"]),
        ([RecordFilter("total", "gte", 5), RecordFilter("total", "lt", 30)], ["bob", "cy"]),
        ([RecordFilter("total", "eq", "n/a")], ["dee"]),
        ([RecordFilter("tags", "contains", "vip")], ["ann"]),
        ([RecordFilter("address.city", "eq", "Rome")], ["cy"]),
        ([RecordFilter("address", "exists")], ["ann", "cy"]),
        ([RecordFilter("tags", "not_exists")], ["cy", "dee"]),
        ([RecordFilter("email", "ne", None)], ["ann", "bob", "cy"]),
        ([RecordFilter("key", "gt", "b")], ["bob", "cy", "dee"]),
        ([], ["ann", "bob", "cy", "dee"]),
    ],
)
def test_search_filters(store, people, filters, expected):
    assert keys(store.search_records(people.id, filters)) == expected
    assert store.count_records(people.id, filters) == len(expected)


def test_search_sort_limit_offset(store, people):
    by_total = store.search_records(people.id, sort=[RecordSort("total", descending=True)])
    # Numbers first (in order), then text; missing values last.
    assert keys(by_total)[:3] == ["ann", "cy", "bob"]
    ascending = store.search_records(people.id, sort=[RecordSort("address.city")])
    assert keys(ascending) == ["ann", "cy", "bob", "dee"]
    descending = store.search_records(people.id, sort=[RecordSort("address.city", True)])
    assert keys(descending) == ["cy", "ann", "bob", "dee"]
    page = store.search_records(people.id, sort=[RecordSort("key")], limit=2, offset=1)
    assert keys(page) == ["bob", "cy"]
    assert keys(store.search_records(people.id, offset=3)) == ["dee"]


def test_bad_keys_are_refused(store, people):
    for key in ("", "k" * 256):
        with pytest.raises(ValueError, match="key"):
            store.put_record(people.id, key, {})
    with pytest.raises(ValueError, match="key"):
        store.update_record(people.id, "", {})


def test_unknown_operator_is_refused():
    with pytest.raises(ValueError, match="operator"):
        RecordFilter("a", "like", "x")
