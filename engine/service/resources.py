"""The service's plain resources: webhooks, data stores, scenario names and versions. Views
call these instead of reaching into the store, so every rule lives here once (connections:
``engine.service.connections``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.service.errors import InvalidField
from engine.store import (
    UNSET,
    DataRecord,
    DataStore,
    DataStoreFull,
    NotFound,
    Scenario,
    ScenarioVersionInfo,
    Store,
    Webhook,
)
from engine.store.records import _Unset

MAX_RECORD_KEY_LENGTH = 255
"""The store's limit on record keys (its ``key`` column)."""


class ResourceOperations:
    """Data stores, webhooks and versions: mostly the store's, checked."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- scenarios ------------------------------------------------------------------------------

    def rename_scenario(self, scenario_id: int, name: str) -> Scenario:
        """Give a scenario a new name. Raises ``NotFound``."""
        return self.store.update_scenario(scenario_id, name=name)

    def list_versions(self, scenario_id: int) -> list[ScenarioVersionInfo]:
        """Every saved version of a scenario, newest first. Raises ``NotFound``."""
        return self.store.list_scenario_versions(scenario_id)

    # -- webhooks -------------------------------------------------------------------------------

    def list_webhooks(self, *, scenario_id: int | None = None) -> list[Webhook]:
        return self.store.list_webhooks(scenario_id=scenario_id)

    def get_webhook(self, webhook_id: int) -> Webhook:
        return self.store.get_webhook(webhook_id)

    def queued_requests(self, webhook_id: int) -> int:
        """How many requests wait in the webhook's queue."""
        return self.store.count_queue(webhook_id)

    def learn_next_request(self, webhook_id: int) -> Webhook:
        """Determine the webhook's data structure from the next request it receives
        (``settings.learning`` stays true until then). Raises ``NotFound``."""
        webhook = self.store.get_webhook(webhook_id)
        return self.store.update_webhook(
            webhook_id, settings={**webhook.settings, "learning": True}
        )

    def delete_webhook(self, webhook_id: int) -> None:
        """Delete a webhook and its queue; its URL stops answering."""
        self.store.delete_webhook(webhook_id)

    # -- data stores ----------------------------------------------------------------------------

    def list_data_stores(self) -> list[DataStore]:
        return self.store.list_data_stores()

    def create_data_store(
        self, name: str, *, structure: Mapping[str, Any] | None, max_size_bytes: int
    ) -> DataStore:
        return self.store.create_data_store(
            name, structure=structure, max_size_bytes=max_size_bytes
        )

    def get_data_store(self, store_id: int) -> DataStore:
        """The data store. Raises ``NotFound``."""
        return self.store.get_data_store(store_id)

    def update_data_store(
        self,
        store_id: int,
        *,
        name: str | _Unset = UNSET,
        structure: Mapping[str, Any] | _Unset | None = UNSET,
        max_size_bytes: int | _Unset = UNSET,
    ) -> DataStore:
        """Change what is given (``structure=None`` clears it).

        Raises:
            NotFound: no such store.
            InvalidField: a size limit below what the records already take.
        """
        if not isinstance(max_size_bytes, _Unset):
            used = self.data_store_size(store_id)
            if max_size_bytes < used:
                raise InvalidField(
                    f"the records already take {used} bytes; delete some before setting a "
                    f"size limit of {max_size_bytes} bytes",
                    "max_size_bytes",
                )
        return self.store.update_data_store(
            store_id, name=name, structure=structure, max_size_bytes=max_size_bytes
        )

    def delete_data_store(self, store_id: int) -> None:
        """Delete a data store with its records. Raises ``NotFound``."""
        self.store.delete_data_store(store_id)

    def data_store_size(self, store_id: int) -> int:
        """Bytes the store's records take (what counts against its limit)."""
        return self.store.data_store_size(store_id)

    def count_records(self, store_id: int) -> int:
        return self.store.count_records(store_id)

    def get_record(self, store_id: int, key: str) -> DataRecord:
        """One record with its sizes and times. Raises ``NotFound`` (store or key)."""
        # A key no record can have is not sent to the database (PostgreSQL refuses NUL).
        found = self.store.find_record(store_id, key) if usable_key(key) else None
        if found is None:
            self.store.get_data_store(store_id)  # an unknown store is named as such
            raise NotFound("data store record", key)
        return found

    def put_record(
        self, store_id: int, key: str, data: Mapping[str, Any], *, overwrite: bool = True
    ) -> DataRecord:
        """Add the record under ``key`` or replace its data (``overwrite=False``: only add).

        Raises:
            NotFound: no such store.
            DuplicateKey: ``overwrite=False`` and the key has a record.
            InvalidField: a key that is not 1 to 255 characters (``key``), or data that would
                take the store past its size limit (``data``).
        """
        if not usable_key(key):
            raise InvalidField(
                f"a record key is text of 1 to {MAX_RECORD_KEY_LENGTH} characters "
                "(no NUL character)",
                "key",
            )
        try:
            return self.store.put_record(store_id, key, data, overwrite=overwrite)
        except DataStoreFull as full:
            # The user edits one record by hand: say what to do, not just what went wrong.
            raise InvalidField(
                f"the record does not fit: the data store would hold {full.needed} bytes, over "
                f"its size limit of {full.limit} bytes; raise the limit or delete records",
                "data",
            ) from None

    def delete_record(self, store_id: int, key: str) -> None:
        """Delete one record. Raises ``NotFound`` (store or key)."""
        self.store.get_data_store(store_id)
        # A key no record can have is not sent to the database (PostgreSQL refuses NUL).
        if not usable_key(key) or not self.store.delete_record(store_id, key):
            raise NotFound("data store record", key)

    def delete_all_records(self, store_id: int) -> int:
        """Empty the data store; how many records it held. Raises ``NotFound``."""
        return self.store.delete_all_records(store_id)

    def records_page(
        self, store_id: int, *, limit: int, offset: int
    ) -> tuple[list[DataRecord], int]:
        """A page of a data store's records by key, and how many it has. Raises ``NotFound``."""
        self.store.get_data_store(store_id)
        total = self.store.count_records(store_id)
        return self.store.search_records(store_id, limit=limit, offset=offset), total


def usable_key(key: str) -> bool:
    """Whether a record can be stored under ``key``: 1 to 255 characters, none of them NUL
    (PostgreSQL text cannot hold it; refused on SQLite too, so both behave alike)."""
    return 1 <= len(key) <= MAX_RECORD_KEY_LENGTH and "\x00" not in key
