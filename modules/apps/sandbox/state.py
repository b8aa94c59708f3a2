"""The generic sandbox's records: every collection's records by key, in the order they were made,
on the shared sandbox state (lock, config, logs, faults, clock)."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable, Mapping
from typing import Any

from engine.errors import DataError
from modules.apps.sandbox.definition import Collection
from modules.sandboxing import BaseSandboxState


class AppSandboxState(BaseSandboxState):
    """Records of every collection by key, in the order they were made."""

    def __init__(
        self, collections: Mapping[str, Collection], defaults: Mapping[str, Any], config: Any
    ) -> None:
        self.collections = dict(collections)
        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        self.counters: dict[str, itertools.count[int]] = {}
        self.make_key: Callable[[str, Collection, dict[str, Any]], str] | None = None
        super().__init__(defaults, config)

    def clear_records(self) -> None:
        self.records = {name: {} for name in self.collections}
        self.counters = {name: itertools.count(1) for name in self.collections}
        for name, collection in self.collections.items():
            self.seed({name: collection.seed})

    def seed(self, fixture: Mapping[str, Any]) -> dict[str, int]:
        loaded: dict[str, int] = {}
        for name, records in fixture.items():
            collection = self.collection(name)
            for record in records:
                self.store(name, dict(record), collection)
            loaded[name] = len(records)
        return loaded

    def records_snapshot(self) -> dict[str, Any]:
        return jsonable({name: list(records.values()) for name, records in self.records.items()})

    def collection(self, name: str) -> Collection:
        if name not in self.collections:
            raise DataError(f"the sandbox has no collection '{name}'")
        return self.collections[name]

    def next_number(self, name: str) -> int:
        return next(self.counters[name])

    def store(self, name: str, record: dict[str, Any], collection: Collection) -> dict[str, Any]:
        """Keep ``record`` under its key, making one (the collection's ``generate``) if it has
        none."""
        key = record.get(collection.key)
        if key in (None, ""):
            maker = self.make_key or (lambda n, c, r: str(self.next_number(n)))
            key = maker(name, collection, record)
            record[collection.key] = key
        self.records[name][str(key)] = record
        return record


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON (binary data as base64, dates as ISO 8601)."""
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if hasattr(value, "isoformat"):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"cannot answer with {type(value).__name__}")
