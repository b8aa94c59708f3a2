"""Data stores and their records."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from engine.store import DataRecord, DataStore
from webui.api.models import (
    DataStoreIn,
    DataStoreOut,
    DataStorePatch,
    RecordIn,
    RecordOut,
    RecordPage,
    RecordQuery,
    RecordsDeleted,
)
from webui.api.routing import answer, json_body, no_content, query_args, route
from webui.app import current_service


def data_store_out(data_store: DataStore) -> DataStoreOut:
    return DataStoreOut(
        id=data_store.id,
        name=data_store.name,
        structure=data_store.structure,
        max_size_bytes=data_store.max_size_bytes,
        records=current_service().count_records(data_store.id),
        size_bytes=current_service().data_store_size(data_store.id),
        created_at=data_store.created_at,
        updated_at=data_store.updated_at,
    )


def record_out(record: DataRecord) -> RecordOut:
    return RecordOut(
        key=record.key,
        data=record.data,
        size_bytes=record.size_bytes,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def store_changes(patch: DataStorePatch) -> dict[str, Any]:
    """The keys the patch sent; a ``null`` name or size limit means "leave it", while a
    ``null`` structure removes it."""
    sent = {name: getattr(patch, name) for name in patch.model_fields_set}
    return {name: value for name, value in sent.items() if value is not None or name == "structure"}


@route("/datastores", "GET", answer=list[DataStoreOut])
def list_datastores() -> Response:
    """Every data store with its record count."""
    return answer([data_store_out(d) for d in current_service().list_data_stores()])


@route("/datastores", "POST", body=DataStoreIn, answer=DataStoreOut, status=201)
def create_datastore() -> Response:
    """An empty data store."""
    given = json_body(DataStoreIn)
    created = current_service().create_data_store(
        given.name, structure=given.structure, max_size_bytes=given.max_size_bytes
    )
    return answer(data_store_out(created), 201)


@route("/datastores/<int:store_id>/records", "GET", query=RecordQuery, answer=RecordPage)
def list_records(store_id: int) -> Response:
    """A page of records by key (``?limit=&offset=``)."""
    query = query_args(RecordQuery)
    records, total = current_service().records_page(
        store_id, limit=query.limit, offset=query.offset
    )
    following = query.offset + len(records)
    items = [record_out(r) for r in records]
    return answer(
        RecordPage(items=items, total=total, next_offset=following if following < total else None)
    )


@route("/datastores/<int:store_id>", "GET", answer=DataStoreOut)
def get_datastore(store_id: int) -> Response:
    """One data store with its record count."""
    return answer(data_store_out(current_service().get_data_store(store_id)))


@route("/datastores/<int:store_id>", "PATCH", body=DataStorePatch, answer=DataStoreOut)
def update_datastore(store_id: int) -> Response:
    """Rename a data store, change its data structure or its size limit."""
    changes = store_changes(json_body(DataStorePatch))
    return answer(data_store_out(current_service().update_data_store(store_id, **changes)))


@route("/datastores/<int:store_id>", "DELETE", status=204)
def delete_datastore(store_id: int) -> Response:
    """Delete a data store and its records."""
    current_service().delete_data_store(store_id)
    return no_content()


@route("/datastores/<int:store_id>/records", "DELETE", answer=RecordsDeleted)
def delete_all_records(store_id: int) -> Response:
    """Delete every record of a data store; how many there were."""
    return answer(RecordsDeleted(deleted=current_service().delete_all_records(store_id)))


# ``path``: keys written by scenarios may hold slashes (a URL, a file path).
@route("/datastores/<int:store_id>/records/<path:key>", "GET", answer=RecordOut)
def get_record(store_id: int, key: str) -> Response:
    """One record."""
    return answer(record_out(current_service().get_record(store_id, key)))


@route("/datastores/<int:store_id>/records/<path:key>", "PUT", body=RecordIn, answer=RecordOut)
def put_record(store_id: int, key: str) -> Response:
    """Add a record under the key, or replace its data. ``If-None-Match: *`` only adds: a key
    that has a record answers 409 (the editor's "Add record" must not overwrite one)."""
    given = json_body(RecordIn)
    only_add = request.headers.get("If-None-Match", "").strip() == "*"
    record = current_service().put_record(store_id, key, given.data, overwrite=not only_add)
    return answer(record_out(record))


@route("/datastores/<int:store_id>/records/<path:key>", "DELETE", status=204)
def delete_record(store_id: int, key: str) -> Response:
    """Delete one record."""
    current_service().delete_record(store_id, key)
    return no_content()
