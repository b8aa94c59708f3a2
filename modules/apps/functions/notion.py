"""Helpers for Notion: Make's fields (values by property ID) as Notion property values, and
pages as Make outputs them (``properties_value``: each property's value by name)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from engine.mapping.functions.registry import FunctionError
from modules.apps.functions import helper

TEXT_LIMIT = 2000
"""Notion's limit of characters in one rich text object."""


def _rich_text(value: Any) -> list[dict[str, Any]]:
    text = "" if value is None else str(value)
    chunks = [text[i : i + TEXT_LIMIT] for i in range(0, len(text), TEXT_LIMIT)] or [""]
    return [
        {"type": "text", "text": {"content": chunk}}
        for chunk in chunks
        if chunk or len(chunks) == 1
    ]


def _names(value: Any) -> list[str]:
    if isinstance(value, list):
        return [
            str(v.get("name", v) if isinstance(v, Mapping) else v)
            for v in value
            if v not in (None, "")
        ]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _ids(value: Any) -> list[dict[str, str]]:
    return [{"id": name} for name in _names(value)]


def _date(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        start, end, with_time = value.get("start"), value.get("end"), value.get("includeTime")
    else:
        start, end, with_time = value, None, True
    result = {"start": _day(start, with_time)}
    if end not in (None, ""):
        result["end"] = _day(end, with_time)
    return result


def _day(value: Any, with_time: Any) -> str:
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return text if with_time not in (False, "false") else text[:10]


def _number(value: Any) -> float | int | None:
    if value in (None, ""):
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


_WRITERS: dict[str, Any] = {
    "title": lambda v: {"title": _rich_text(v)},
    "rich_text": lambda v: {"rich_text": _rich_text(v)},
    "number": lambda v: {"number": _number(v)},
    "select": lambda v: {"select": {"name": str(v)} if v not in (None, "") else None},
    "status": lambda v: {"status": {"name": str(v)} if v not in (None, "") else None},
    "multi_select": lambda v: {"multi_select": [{"name": n} for n in _names(v)]},
    "date": lambda v: {"date": _date(v) if v not in (None, "") else None},
    "checkbox": lambda v: {"checkbox": str(v).lower() in ("true", "1", "yes")},
    "url": lambda v: {"url": str(v) if v not in (None, "") else None},
    "email": lambda v: {"email": str(v) if v not in (None, "") else None},
    "phone_number": lambda v: {"phone_number": str(v) if v not in (None, "") else None},
    "people": lambda v: {"people": _ids(v)},
    "relation": lambda v: {"relation": _ids(v)},
}


@helper("notionProperties", (2, 2))
def notion_properties(ctx: Any, fields: Any, schema: Any) -> dict[str, Any]:
    """Make's ``fields`` (values by property ID — ``title`` for the title — or by name) as
    Notion property values, each shaped for its type in ``schema`` (a database's or data
    source's ``properties``); a property the schema lacks is refused."""
    if fields in (None, ""):
        return {}
    if not isinstance(fields, Mapping):
        raise FunctionError("fields is a collection of property values")
    by_key: dict[str, Mapping[str, Any]] = {}
    for name, prop in (schema or {}).items():
        if isinstance(prop, Mapping):
            by_key[str(prop.get("id"))] = prop
            by_key[unquote(str(prop.get("id")))] = prop
            by_key[str(name)] = prop
    properties: dict[str, Any] = {}
    for key, value in fields.items():
        prop = by_key.get(str(key)) or by_key.get(unquote(str(key)))
        if prop is None:
            raise FunctionError(f"the database has no property '{key}'")
        kind = str(prop.get("type"))
        writer = _WRITERS.get(kind, _WRITERS["rich_text"])
        properties[str(prop.get("id"))] = writer(value)
    return properties


@helper("notionPage", (1, 1))
def notion_page(ctx: Any, page: Any) -> dict[str, Any]:
    """A page as Make outputs it: the page, and ``properties_value`` — each property's value
    by name (``properties_value.Status.name``, ``properties_value.Name[].plain_text``)."""
    if not isinstance(page, Mapping):
        raise FunctionError("notionPage needs a page")
    values = {
        name: prop.get(prop.get("type"))
        for name, prop in (page.get("properties") or {}).items()
        if isinstance(prop, Mapping)
    }
    return {**page, "properties_value": values}


@helper("notionTitle", (1, 1))
def notion_title(ctx: Any, text: Any) -> dict[str, Any]:
    """A page's ``title`` property of ``text``."""
    return {"title": {"title": _rich_text(text)}}


@helper("notionBlocks", (1, 1))
def notion_blocks(ctx: Any, objects: Any) -> list[dict[str, Any]]:
    """Make's content objects (``[{type, text}]``: paragraph, heading_1…3, bulleted or
    numbered list items, to-do, quote) as Notion blocks."""
    blocks = []
    for item in objects or []:
        if not isinstance(item, Mapping):
            continue
        kind = str(item.get("type") or "paragraph")
        text = item.get("text", item.get("content"))
        blocks.append({"object": "block", "type": kind, kind: {"rich_text": _rich_text(text)}})
    return blocks
