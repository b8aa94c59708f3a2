"""Data store placeholders in prebuilt blueprints.

A prebuilt scenario that keeps something between runs names its data store instead of
giving an id (ids belong to one installation): ``"parameters": {"datastore":
"datastore:<name>"}``. Importing it binds each name to the data store of that name, made
empty when there is none, so every scenario of a library that names it shares one store
(e.g. 2.11 and 2.4 share ``xero-invoice-edits-waiting``). The export keeps the bound id,
as for connections.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

DATA_STORE_PLACEHOLDER = "datastore:"
PLACEHOLDER_STORE_BYTES = 1_000_000
"""The size a data store made for a placeholder gets (the API's default)."""


def data_store_placeholders(value: Any) -> set[str]:
    """The data store names placeholders give anywhere in a blueprint (parsed JSON)."""
    found: set[str] = set()
    if isinstance(value, dict):
        named = _placeholder(value.get("datastore"))
        if named is not None:
            found.add(named)
        for item in value.values():
            found |= data_store_placeholders(item)
    elif isinstance(value, list):
        for item in value:
            found |= data_store_placeholders(item)
    return found


def bind_data_stores(text: str, data_store_id: Callable[[str], int]) -> str:
    """The blueprint text with every ``"datastore": "datastore:<name>"`` replaced by
    ``data_store_id(<name>)``. Text without placeholders comes back unchanged (byte-exact)."""
    try:
        document = json.loads(text)
    except ValueError:
        return text  # read_document reports it properly
    names = data_store_placeholders(document)
    if not names:
        return text
    ids = {name: data_store_id(name) for name in sorted(names)}

    def bind(value: Any) -> Any:
        if isinstance(value, dict):
            out = {key: bind(item) for key, item in value.items()}
            named = _placeholder(out.get("datastore"))
            if named is not None:
                out["datastore"] = ids[named]
            return out
        if isinstance(value, list):
            return [bind(item) for item in value]
        return value

    return json.dumps(bind(document), indent=2, ensure_ascii=False) + "\n"


def _placeholder(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith(DATA_STORE_PLACEHOLDER):
        return value.removeprefix(DATA_STORE_PLACEHOLDER)
    return None


def named_data_store(store: Any) -> Callable[[str], int]:
    """``data_store_id`` for ``bind_data_stores``: the id of the store's data store of that
    name, made (empty, no structure) when there is none."""

    def data_store_id(name: str) -> int:
        existing: Mapping[str, int] = {d.name: d.id for d in store.list_data_stores()}
        if name in existing:
            return existing[name]
        made = store.create_data_store(name, max_size_bytes=PLACEHOLDER_STORE_BYTES)
        return int(made.id)

    return data_store_id
