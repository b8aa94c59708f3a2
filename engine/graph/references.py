"""Walking the mapped values of a blueprint with their JSON paths."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def iter_templates(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string inside a JSON value, with its JSON path (``mapper.headers[0].value``)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from iter_templates(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from iter_templates(item, f"{path}[{index}]")
