"""The service's plain resources: connections, webhooks, data stores, scenario names and
versions. Views call these instead of reaching into the store, so every rule (which fields a
connection kind takes, what a connection test does) lives here once."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from engine.connections import StoreConnections
from engine.registry import ModuleRegistry
from engine.service.base import Clock, HttpFactory
from engine.service.errors import InvalidField
from engine.spec import AuthType, CheckFinding, ConnectionKind
from engine.store import (
    UNSET,
    Connection,
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
    """Connections, data stores, webhooks and versions: mostly the store's, checked.

    Args:
        http_factory: the session of a connection check.
    """

    def __init__(
        self, store: Store, registry: ModuleRegistry, clock: Clock, http_factory: HttpFactory
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.http_factory = http_factory

    # -- scenarios ------------------------------------------------------------------------------

    def rename_scenario(self, scenario_id: int, name: str) -> Scenario:
        """Give a scenario a new name. Raises ``NotFound``."""
        return self.store.update_scenario(scenario_id, name=name)

    def list_versions(self, scenario_id: int) -> list[ScenarioVersionInfo]:
        """Every saved version of a scenario, newest first. Raises ``NotFound``."""
        return self.store.list_scenario_versions(scenario_id)

    # -- connections ----------------------------------------------------------------------------

    def connection_kinds(self) -> Mapping[str, ConnectionKind]:
        """The connection forms of the installed apps, by app id."""
        return self.registry.connection_kinds

    def list_connections(self, *, app: str | None = None) -> list[Connection]:
        return self.store.list_connections(app=app)

    def create_connection(
        self,
        kind_id: str,
        name: str,
        data: Mapping[str, Any],
        secrets: Mapping[str, Any],
    ) -> Connection:
        """Store a connection of an installed kind: its public fields in ``data``, its secret
        ones in ``secrets`` (encrypted at rest); defaults filled in.

        Raises:
            InvalidField: an unknown kind, an unknown field, or a required one missing.
        """
        kind = self.connection_kinds().get(kind_id)
        if kind is None:
            raise InvalidField(f"unknown connection kind '{kind_id}'", "kind")
        public = _fields(kind, data, secret=False)
        hidden = _fields(kind, secrets, secret=True)
        return self.store.create_connection(
            kind.id, kind.auth.value, name, data=public, secrets=hidden
        )

    def delete_connection(self, connection_id: int) -> None:
        self.store.delete_connection(connection_id)

    def test_connection(self, connection_id: int) -> Mapping[str, Any]:
        """Run the app's connection test; what it learnt (organisation, user …).

        Raises:
            NotFound: no such connection. ModuleError: the app refused it (the message says why).
        """
        connection = self.store.get_connection(connection_id)
        with contextlib.closing(self.http_factory()) as session:
            resolver = StoreConnections(self.store, self.registry, self.clock, session)
            return dict(resolver.test(connection.id) or {})

    def check_connection(self, connection_id: int) -> list[CheckFinding]:
        """Compare the real account behind a connection with what the app's modules assume,
        using read-only calls (``switchboard connection check``).

        Raises:
            NotFound: no such connection. InvalidConfigurationError: the app has no check.
            ModuleError: the account could not be reached.
        """
        connection = self.store.get_connection(connection_id)
        with contextlib.closing(self.http_factory()) as session:
            resolver = StoreConnections(self.store, self.registry, self.clock, session)
            return resolver.check(connection.id)

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

    def put_record(self, store_id: int, key: str, data: Mapping[str, Any]) -> DataRecord:
        """Add the record under ``key`` or replace its data.

        Raises:
            NotFound: no such store.
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
            return self.store.put_record(store_id, key, data, overwrite=True)
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


def _fields(kind: ConnectionKind, values: Mapping[str, Any], *, secret: bool) -> dict[str, Any]:
    """One side's fields (public or secret) with defaults; refuses unknown or missing ones."""
    where = "secrets" if secret else "data"
    fields = {f.name: f for f in kind.fields if f.secret == secret}
    for name in values:
        if name not in fields:
            raise InvalidField(f"'{name}' is not a {where} field of {kind.id}", f"{where}.{name}")
    result = dict(values)
    for name, field in fields.items():
        if result.get(name) in (None, "") and field.default is not None:
            result[name] = field.default
        missing = result.get(name) in (None, "")
        if field.required and missing and kind.auth is not AuthType.OAUTH2:
            raise InvalidField(f"{field.label} is required", f"{where}.{name}")
    return result
