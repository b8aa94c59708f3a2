"""Data stores: small keyed tables shared by scenarios."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from engine.store.records import UNSET, DataRecord, DataStore, RecordFilter, RecordSort, _Unset


class DataStoreStore(ABC):
    """Data stores and their records. A record is a JSON object under a text key; the sum of a
    store's record sizes (their compact JSON, in bytes) never exceeds ``max_size_bytes``."""

    @abstractmethod
    def create_data_store(
        self, name: str, *, structure: Mapping[str, Any] | None = None, max_size_bytes: int
    ) -> DataStore:
        """Create an empty data store. ``structure`` is the data structure JSON (kept as is)."""

    @abstractmethod
    def get_data_store(self, store_id: int) -> DataStore:
        """The data store. Raises ``NotFound``."""

    @abstractmethod
    def list_data_stores(self) -> list[DataStore]:
        """All data stores, by id."""

    @abstractmethod
    def update_data_store(
        self,
        store_id: int,
        *,
        name: str | _Unset = UNSET,
        structure: Mapping[str, Any] | _Unset | None = UNSET,
        max_size_bytes: int | _Unset = UNSET,
    ) -> DataStore:
        """Change what is given. Raises ``NotFound``."""

    @abstractmethod
    def delete_data_store(self, store_id: int) -> None:
        """Delete the store and its records. Raises ``NotFound``."""

    @abstractmethod
    def get_record(self, store_id: int, key: str) -> dict[str, Any] | None:
        """The record's data, or ``None`` when the key is absent."""

    @abstractmethod
    def find_record(self, store_id: int, key: str) -> DataRecord | None:
        """The record with its size and times, or ``None`` when the key is absent.

        Raises:
            NotFound: no such store.
        """

    @abstractmethod
    def data_store_size(self, store_id: int) -> int:
        """Bytes the store's records take: the sum of their sizes, what counts against
        ``max_size_bytes`` (0 when empty). Raises ``NotFound``."""

    @abstractmethod
    def put_record(
        self,
        store_id: int,
        key: str | None,
        data: Mapping[str, Any],
        *,
        overwrite: bool = False,
    ) -> DataRecord:
        """Add a record (a generated key when ``key`` is ``None``), or replace it.

        Keys are text of 1 to 255 characters (``ValueError`` otherwise).

        Raises:
            DuplicateKey: the key exists and ``overwrite`` is false.
            DataStoreFull: the store would exceed ``max_size_bytes``.
            NotFound: no such store.
        """

    @abstractmethod
    def update_record(
        self, store_id: int, key: str, data: Mapping[str, Any], *, insert_missing: bool = False
    ) -> DataRecord:
        """Merge ``data`` into the record (top-level keys replace, others stay).

        Raises:
            NotFound: no such store, or no such key and ``insert_missing`` is false.
            DataStoreFull: as for ``put_record``.
        """

    @abstractmethod
    def delete_record(self, store_id: int, key: str) -> bool:
        """Delete one record; ``False`` when it was not there."""

    @abstractmethod
    def delete_all_records(self, store_id: int) -> int:
        """Delete every record of the store; returns how many."""

    @abstractmethod
    def count_records(self, store_id: int, filters: Sequence[RecordFilter] = ()) -> int:
        """How many records match every filter (all records when none)."""

    @abstractmethod
    def search_records(
        self,
        store_id: int,
        filters: Sequence[RecordFilter] = (),
        *,
        sort: Sequence[RecordSort] = (),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[DataRecord]:
        """Records matching every filter, sorted by ``sort`` then key, paged by
        ``offset``/``limit``."""
