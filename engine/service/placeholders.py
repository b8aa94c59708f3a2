"""Placeholders in prebuilt blueprints, bound when a blueprint is imported.

Ids belong to one installation, so a prebuilt scenario names what it uses instead:

- a connection as ``"__IMTCONN__": "connection:<app>"`` (``CONNECTIONS``), bound to the
  connection the importer gives for that app;
- a data store as ``"parameters": {"datastore": "datastore:<name>"}`` (``DATA_STORES``),
  bound to the data store of that name, made empty when there is none, so every scenario
  of a library that names it shares one store (e.g. 2.11 and 2.4 share
  ``xero-invoice-edits-waiting``, 3.10 and 3.4 ``quickbooks-invoice-edits-waiting``).

A text without placeholders comes back unchanged (byte-exact); otherwise it is
re-serialised with the bound ids, which the export then keeps.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

PLACEHOLDER_STORE_BYTES = 1_000_000
"""The size a data store made for a placeholder gets (the API's default)."""


@dataclass(frozen=True)
class Placeholder:
    """A key whose string value ``<prefix><name>`` stands for an id, in any JSON object."""

    key: str
    prefix: str

    def name(self, value: Any) -> str | None:
        if isinstance(value, str) and value.startswith(self.prefix):
            return value.removeprefix(self.prefix)
        return None

    def names(self, value: Any) -> set[str]:
        """The names placeholders give anywhere in ``value`` (parsed JSON)."""
        found: set[str] = set()
        if isinstance(value, dict):
            named = self.name(value.get(self.key))
            if named is not None:
                found.add(named)
            for item in value.values():
                found |= self.names(item)
        elif isinstance(value, list):
            for item in value:
                found |= self.names(item)
        return found

    def bound(self, value: Any, ids: Mapping[str, int]) -> Any:
        """``value`` with each placeholder replaced by ``ids[<name>]``."""
        if isinstance(value, dict):
            out = {key: self.bound(item, ids) for key, item in value.items()}
            named = self.name(out.get(self.key))
            if named is not None:
                out[self.key] = int(ids[named])
            return out
        if isinstance(value, list):
            return [self.bound(item, ids) for item in value]
        return value

    def bind(self, text: str, ids_for: Callable[[set[str]], Mapping[str, int]]) -> str:
        """The blueprint text with its placeholders bound to ``ids_for(<names found>)``."""
        try:
            document = json.loads(text)
        except ValueError:
            return text  # read_document reports it properly
        names = self.names(document)
        if not names:
            return text
        bound = self.bound(document, ids_for(names))
        return json.dumps(bound, indent=2, ensure_ascii=False) + "\n"


CONNECTIONS = Placeholder("__IMTCONN__", "connection:")
DATA_STORES = Placeholder("datastore", "datastore:")


def bind_data_stores(text: str, store: Any) -> str:
    """The blueprint text with every data store placeholder bound to the ``store``'s data
    store of that name, made (empty, no structure) when there is none."""

    def ids_for(names: set[str]) -> dict[str, int]:
        existing = {data_store.name: data_store.id for data_store in store.list_data_stores()}
        for name in sorted(names - set(existing)):
            existing[name] = store.create_data_store(
                name, max_size_bytes=PLACEHOLDER_STORE_BYTES
            ).id
        return {name: int(existing[name]) for name in names}

    return DATA_STORES.bind(text, ids_for)
