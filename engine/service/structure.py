"""Determine a webhook's data structure from a sample request, as Make's "Redetermine data
structure" does: a list of fields, each ``{"name", "type", "spec"?}``, with Make's types
(``text``, ``number``, ``boolean``, ``date``, ``array``, ``collection``, ``buffer``)."""

from __future__ import annotations

import re
from typing import Any

_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)


def infer_structure(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The fields of ``bundle``, in its key order."""
    return [{"name": name, **_describe(value)} for name, value in bundle.items()]


def _describe(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int | float):
        return {"type": "number"}
    if isinstance(value, bytes):  # a file's data from a multipart body
        return {"type": "buffer"}
    if isinstance(value, dict):
        return {"type": "collection", "spec": infer_structure(value)}
    if isinstance(value, list):
        return {"type": "array", "spec": _item_spec(value)}
    if isinstance(value, str) and _ISO_DATE.match(value):
        return {"type": "date"}
    return {"type": "text"}


def _item_spec(items: list[Any]) -> dict[str, Any]:
    """Arrays describe their items by the first one; collections merge every item's fields."""
    if not items:
        return {"type": "text"}
    if all(isinstance(item, dict) for item in items):
        merged: dict[str, Any] = {}
        for item in items:
            for key, value in item.items():
                merged.setdefault(key, value)
        return {"type": "collection", "spec": infer_structure(merged)}
    return _describe(items[0])
