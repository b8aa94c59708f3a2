"""Data stores and their records on SQL."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from engine.store.errors import DataStoreFull, DuplicateKey, NotFound
from engine.store.records import (
    UNSET,
    DataRecord,
    DataStore,
    RecordFilter,
    RecordSort,
    _Unset,
)
from engine.store.sql.base import SqlBase, fetch_one, given
from engine.store.sql.record_search import matches, sorted_records
from engine.store.sql.schema import data_store_records as records
from engine.store.sql.schema import data_stores
from engine.store.sql.types import json_size


def data_store_from_row(row: Row[Any]) -> DataStore:
    return DataStore(
        id=row.id,
        name=row.name,
        structure=row.structure,
        max_size_bytes=row.max_size_bytes,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def record_from_row(row: Row[Any]) -> DataRecord:
    return DataRecord(
        store_id=row.store_id,
        key=row.key,
        data=row.data,
        size_bytes=row.size_bytes,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


MAX_KEY_LENGTH = 255


def checked_key(key: str) -> str:
    """``key`` if it is usable as a record key: non-empty text of at most 255 characters."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"a record key is text of 1 to {MAX_KEY_LENGTH} characters: {key!r}")
    return key


class SqlDataStores(SqlBase):
    def create_data_store(
        self, name: str, *, structure: Mapping[str, Any] | None = None, max_size_bytes: int
    ) -> DataStore:
        if max_size_bytes <= 0:
            raise ValueError("max_size_bytes must be positive")
        now = self._now()
        with self._write() as connection:
            store_id = connection.execute(
                insert(data_stores).returning(data_stores.c.id),
                {
                    "name": name,
                    "structure": None if structure is None else dict(structure),
                    "max_size_bytes": max_size_bytes,
                    "created_at": now,
                    "updated_at": now,
                },
            ).scalar_one()
            return data_store_from_row(self._lock_store(connection, store_id))

    def get_data_store(self, store_id: int) -> DataStore:
        with self._read() as connection:
            return data_store_from_row(self._store_row(connection, store_id))

    def list_data_stores(self) -> list[DataStore]:
        with self._read() as connection:
            rows = connection.execute(select(data_stores).order_by(data_stores.c.id))
            return [data_store_from_row(row) for row in rows]

    def update_data_store(
        self,
        store_id: int,
        *,
        name: str | _Unset = UNSET,
        structure: Mapping[str, Any] | _Unset | None = UNSET,
        max_size_bytes: int | _Unset = UNSET,
    ) -> DataStore:
        values = given(name=name, structure=structure, max_size_bytes=max_size_bytes)
        with self._write() as connection:
            changed = connection.execute(
                update(data_stores)
                .where(data_stores.c.id == store_id)
                .values(**values, updated_at=self._now())
            )
            if changed.rowcount == 0:
                raise NotFound("data store", store_id)
            return data_store_from_row(self._store_row(connection, store_id))

    def delete_data_store(self, store_id: int) -> None:
        with self._write() as connection:
            deleted = connection.execute(delete(data_stores).where(data_stores.c.id == store_id))
            if deleted.rowcount == 0:
                raise NotFound("data store", store_id)

    def get_record(self, store_id: int, key: str) -> dict[str, Any] | None:
        with self._read() as connection:
            return connection.execute(
                select(records.c.data).where(records.c.store_id == store_id, records.c.key == key)
            ).scalar_one_or_none()

    def find_record(self, store_id: int, key: str) -> DataRecord | None:
        with self._read() as connection:
            self._store_row(connection, store_id)
            row = self._record_row(connection, store_id, key)
            return None if row is None else record_from_row(row)

    def data_store_size(self, store_id: int) -> int:
        with self._read() as connection:
            self._store_row(connection, store_id)
            return self._used_bytes(connection, store_id)

    def put_record(
        self,
        store_id: int,
        key: str | None,
        data: Mapping[str, Any],
        *,
        overwrite: bool = False,
    ) -> DataRecord:
        key = uuid.uuid4().hex if key is None else checked_key(key)
        with self._write() as connection:
            store = self._lock_store(connection, store_id)
            existing = self._record_row(connection, store_id, key)
            if existing is not None and not overwrite:
                raise DuplicateKey(store_id, key)
            return self._write_record(connection, store, key, dict(data), existing)

    def update_record(
        self, store_id: int, key: str, data: Mapping[str, Any], *, insert_missing: bool = False
    ) -> DataRecord:
        checked_key(key)
        with self._write() as connection:
            store = self._lock_store(connection, store_id)
            existing = self._record_row(connection, store_id, key)
            if existing is None and not insert_missing:
                raise NotFound("data store record", (store_id, key))
            merged = {**(existing.data if existing is not None else {}), **data}
            return self._write_record(connection, store, key, merged, existing)

    def delete_record(self, store_id: int, key: str) -> bool:
        with self._write() as connection:
            deleted = connection.execute(
                delete(records).where(records.c.store_id == store_id, records.c.key == key)
            )
            return deleted.rowcount == 1

    def delete_all_records(self, store_id: int) -> int:
        with self._write() as connection:
            self._store_row(connection, store_id)
            return connection.execute(
                delete(records).where(records.c.store_id == store_id)
            ).rowcount

    def count_records(self, store_id: int, filters: Sequence[RecordFilter] = ()) -> int:
        if filters:
            return len(self.search_records(store_id, filters))
        with self._read() as connection:
            self._store_row(connection, store_id)
            return connection.execute(
                select(func.count()).where(records.c.store_id == store_id)
            ).scalar_one()

    def search_records(
        self,
        store_id: int,
        filters: Sequence[RecordFilter] = (),
        *,
        sort: Sequence[RecordSort] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[DataRecord]:
        with self._read() as connection:
            self._store_row(connection, store_id)
            rows = connection.execute(select(records).where(records.c.store_id == store_id))
            found = [record for record in map(record_from_row, rows) if matches(record, filters)]
        ordered = sorted_records(found, sort)
        end = None if limit is None else offset + limit
        return ordered[offset:end]

    def _write_record(
        self,
        connection: Connection,
        store: Row[Any],
        key: str,
        data: dict[str, Any],
        existing: Row[Any] | None,
    ) -> DataRecord:
        size = json_size(data)
        used = self._used_bytes(connection, store.id)
        needed = used - (existing.size_bytes if existing is not None else 0) + size
        if needed > store.max_size_bytes:
            raise DataStoreFull(store.id, needed, store.max_size_bytes)
        now = self._now()
        values = {"data": data, "size_bytes": size, "updated_at": now}
        if existing is None:
            connection.execute(
                insert(records), {"store_id": store.id, "key": key, "created_at": now, **values}
            )
        else:
            connection.execute(
                update(records)
                .where(records.c.store_id == store.id, records.c.key == key)
                .values(**values)
            )
        row = self._record_row(connection, store.id, key)
        assert row is not None
        return record_from_row(row)

    @staticmethod
    def _used_bytes(connection: Connection, store_id: int) -> int:
        return connection.execute(
            select(func.coalesce(func.sum(records.c.size_bytes), 0)).where(
                records.c.store_id == store_id
            )
        ).scalar_one()

    @staticmethod
    def _record_row(connection: Connection, store_id: int, key: str) -> Row[Any] | None:
        return connection.execute(
            select(records).where(records.c.store_id == store_id, records.c.key == key)
        ).first()

    def _lock_store(self, connection: Connection, store_id: int) -> Row[Any]:
        """The store's row, locked on PostgreSQL so concurrent writers of one store take turns
        and the size limit cannot be raced (SQLite's write lock already does this)."""
        query = select(data_stores).where(data_stores.c.id == store_id)
        if self.dialect == "postgresql":
            query = query.with_for_update()
        return fetch_one(connection, query, "data store", store_id)

    @staticmethod
    def _store_row(connection: Connection, store_id: int) -> Row[Any]:
        return fetch_one(
            connection,
            select(data_stores).where(data_stores.c.id == store_id),
            "data store",
            store_id,
        )
