"""Data stores and their records."""

from __future__ import annotations

from flask import Response

from engine.store import DataStore
from webui.api.models import DataStoreIn, DataStoreOut, RecordOut, RecordPage, RecordQuery
from webui.api.routing import answer, json_body, query_args, route
from webui.app import current_service


def data_store_out(data_store: DataStore) -> DataStoreOut:
    return DataStoreOut(
        id=data_store.id,
        name=data_store.name,
        structure=data_store.structure,
        max_size_bytes=data_store.max_size_bytes,
        records=current_service().count_records(data_store.id),
        created_at=data_store.created_at,
        updated_at=data_store.updated_at,
    )


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
    items = [
        RecordOut(
            key=r.key,
            data=r.data,
            size_bytes=r.size_bytes,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in records
    ]
    return answer(
        RecordPage(items=items, total=total, next_offset=following if following < total else None)
    )
