"""Data stores through the API: one store (read, change, delete) and one record (read, add or
replace, delete), emptying a store, and what each refuses."""

from __future__ import annotations

import pytest


@pytest.fixture
def customers(owner):
    """A data store of 1,000 bytes holding k0, k1, k2."""
    created = owner.post("/api/datastores", json={"name": "Customers", "max_size_bytes": 1000})
    assert created.status_code == 201, created.json
    ds = created.json
    for index in range(3):
        put = owner.put(f"/api/datastores/{ds['id']}/records/k{index}", json={"data": {"n": index}})
        assert put.status_code == 200, put.json
    return ds


def records_of(client, ds):
    page = client.get(f"/api/datastores/{ds['id']}/records").json
    return {r["key"]: r["data"] for r in page["items"]}


# -- one store --------------------------------------------------------------------------------


def test_get_one_store(owner, viewer, customers):
    got = viewer.get(f"/api/datastores/{customers['id']}")
    assert got.status_code == 200
    assert got.json["name"] == "Customers" and got.json["records"] == 3
    assert got.json["size_bytes"] == 3 * len('{"n":0}')
    assert owner.get("/api/datastores/987654").status_code == 404


def test_rename_restructure_and_resize(owner, customers):
    url = f"/api/datastores/{customers['id']}"
    structure = {"spec": [{"name": "n", "type": "number"}]}
    changed = owner.patch(url, json={"name": "Clients", "structure": structure})
    assert changed.status_code == 200, changed.json
    assert changed.json["name"] == "Clients" and changed.json["structure"] == structure
    assert changed.json["max_size_bytes"] == 1000  # not sent, not changed
    resized = owner.patch(url, json={"max_size_bytes": 5000}).json
    assert resized["max_size_bytes"] == 5000 and resized["structure"] == structure
    assert owner.patch(url, json={"structure": None}).json["structure"] is None
    assert owner.get(url).json["name"] == "Clients"


def test_a_size_limit_below_what_the_records_take_is_refused(owner, customers):
    refused = owner.patch(f"/api/datastores/{customers['id']}", json={"max_size_bytes": 10})
    assert refused.status_code == 422
    assert refused.json["error"]["path"] == "max_size_bytes"
    assert "already take" in refused.json["error"]["message"]


def test_patch_refusals(owner, viewer, customers):
    url = f"/api/datastores/{customers['id']}"
    assert owner.patch(url, json={"name": ""}).status_code == 422
    assert owner.patch(url, json={"max_size_bytes": 0}).status_code == 422
    assert owner.patch(url, json={"colour": "red"}).status_code == 422
    assert owner.patch("/api/datastores/987654", json={"name": "x"}).status_code == 404
    forbidden = viewer.patch(url, json={"name": "x"})
    assert forbidden.status_code == 403 and forbidden.json["error"]["code"] == "forbidden"


def test_delete_a_store_with_its_records(owner, viewer, store, customers):
    url = f"/api/datastores/{customers['id']}"
    assert viewer.delete(url).status_code == 403
    assert owner.delete(url).status_code == 204
    assert owner.get(url).status_code == 404
    assert owner.get(f"{url}/records").status_code == 404
    assert owner.delete(url).status_code == 404
    assert store.get_record(customers["id"], "k0") is None


# -- one record -------------------------------------------------------------------------------


def test_get_one_record(owner, viewer, customers):
    url = f"/api/datastores/{customers['id']}/records"
    got = viewer.get(f"{url}/k1")
    assert got.status_code == 200
    assert got.json["key"] == "k1" and got.json["data"] == {"n": 1}
    assert got.json["size_bytes"] == len('{"n":1}')
    missing = owner.get(f"{url}/nope")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    assert owner.get("/api/datastores/987654/records/k1").status_code == 404


def test_put_adds_then_replaces(owner, store, customers):
    url = f"/api/datastores/{customers['id']}/records/new"
    added = owner.put(url, json={"data": {"name": "Ada", "tags": ["a"]}})
    assert added.status_code == 200 and added.json["data"] == {"name": "Ada", "tags": ["a"]}
    replaced = owner.put(url, json={"data": {"name": "Grace"}})
    assert replaced.json["data"] == {"name": "Grace"}  # replaced, not merged
    assert replaced.json["created_at"] == added.json["created_at"]
    assert store.get_record(customers["id"], "new") == {"name": "Grace"}
    assert owner.get(f"/api/datastores/{customers['id']}").json["records"] == 4


def test_keys_with_slashes_and_spaces(owner, store, customers):
    base = f"/api/datastores/{customers['id']}/records"
    put = owner.put(f"{base}/https%3A%2F%2Fexample.com%2Fa%20b", json={"data": {"x": 1}})
    assert put.status_code == 200, put.json
    assert put.json["key"] == "https://example.com/a b"
    assert store.get_record(customers["id"], "https://example.com/a b") == {"x": 1}
    assert owner.get(f"{base}/https%3A%2F%2Fexample.com%2Fa%20b").json["data"] == {"x": 1}
    assert owner.delete(f"{base}/https%3A%2F%2Fexample.com%2Fa%20b").status_code == 204


def test_a_record_that_does_not_fit_is_refused_with_what_to_do(owner, store, customers):
    big = {"text": "x" * 1000}
    refused = owner.put(f"/api/datastores/{customers['id']}/records/big", json={"data": big})
    assert refused.status_code == 422
    error = refused.json["error"]
    assert error["path"] == "data"
    assert "over its size limit of 1000 bytes" in error["message"]
    assert "raise the limit or delete records" in error["message"]
    assert store.get_record(customers["id"], "big") is None


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"data": [1, 2]}, "data"),
        ({"data": "text"}, "data"),
        ({}, "data"),
        ({"data": {}, "extra": 1}, "extra"),
    ],
)
def test_put_refuses_data_that_is_not_an_object(owner, customers, body, path):
    refused = owner.put(f"/api/datastores/{customers['id']}/records/k9", json=body)
    assert refused.status_code == 422
    assert refused.json["error"]["path"] == path


@pytest.mark.parametrize("key", ["k" * 256, "a%00b"])
def test_put_refuses_an_invalid_key(owner, customers, key):
    refused = owner.put(f"/api/datastores/{customers['id']}/records/{key}", json={"data": {}})
    assert refused.status_code == 422
    assert refused.json["error"]["path"] == "key"
    assert "1 to 255 characters" in refused.json["error"]["message"]


def test_put_refusals(owner, viewer, customers):
    url = f"/api/datastores/{customers['id']}/records/k0"
    assert owner.put("/api/datastores/987654/records/k0", json={"data": {}}).status_code == 404
    assert viewer.put(url, json={"data": {"n": 9}}).status_code == 403
    assert owner.put(url, data="{", content_type="application/json").status_code == 400
    assert records_of(owner, customers)["k0"] == {"n": 0}


def test_delete_one_record(owner, viewer, customers):
    url = f"/api/datastores/{customers['id']}/records"
    assert viewer.delete(f"{url}/k0").status_code == 403
    assert owner.delete(f"{url}/k0").status_code == 204
    assert set(records_of(owner, customers)) == {"k1", "k2"}
    gone = owner.delete(f"{url}/k0")
    assert gone.status_code == 404 and gone.json["error"]["code"] == "not_found"
    assert owner.delete("/api/datastores/987654/records/k1").status_code == 404
    for impossible in ("k" * 256, "a%00b"):  # no record can have it: never sent to the database
        assert owner.delete(f"{url}/{impossible}").status_code == 404
        assert owner.get(f"{url}/{impossible}").status_code == 404


# -- all records ------------------------------------------------------------------------------


def test_delete_all_records(owner, viewer, customers):
    url = f"/api/datastores/{customers['id']}/records"
    assert viewer.delete(url).status_code == 403
    deleted = owner.delete(url)
    assert deleted.status_code == 200 and deleted.json == {"deleted": 3}
    assert owner.get(url).json == {"items": [], "total": 0, "next_offset": None}
    assert owner.delete(url).json == {"deleted": 0}
    assert owner.delete("/api/datastores/987654/records").status_code == 404


def test_the_routes_are_documented(owner):
    paths = owner.get("/api/openapi.json").json["paths"]
    assert set(paths["/api/datastores/{store_id}"]) == {"get", "patch", "delete"}
    assert set(paths["/api/datastores/{store_id}/records"]) == {"get", "delete"}
    assert set(paths["/api/datastores/{store_id}/records/{key}"]) == {"get", "put", "delete"}
    schemas = owner.get("/api/openapi.json").json["components"]["schemas"]
    assert {"DataStorePatch", "RecordIn", "RecordsDeleted"} <= set(schemas)
