"""Route handlers of the Notion sandbox (API 2022-06-28, and data sources of 2025-09-03).

Databases (``notion_databases``) carry their schema — ``{id, title, data_sources?,
properties: {Name: {id, type}}}`` — and a data source (``notion_data_sources``) the same. Pages
(``notion_pages``) keep their properties as the API writes them, by property name. Creating or
updating a page checks every property against its parent's schema (an unknown property or a
value of the wrong shape is Notion's ``validation_error``); queries filter by a property's
``equals`` and answer in pages of ``page_size`` with ``next_cursor``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import flask

from modules.apps.sandbox.routes import AppSandbox, SandboxRequest
from modules.sandboxing import json_response

DATABASES = "notion_databases"
SOURCES = "notion_data_sources"
PAGES = "notion_pages"


def _error(status: int, code: str, message: str) -> flask.Response:
    return json_response(
        {"object": "error", "status": status, "code": code, "message": message}, status
    )


def _missing(kind: str, identifier: str) -> flask.Response:
    return _error(404, "object_not_found", f"Could not find {kind} with ID: {identifier}.")


def normal(identifier: Any) -> str:
    """An ID with its dashes (Notion takes both forms)."""
    text = str(identifier or "").replace("-", "")
    if len(text) != 32:
        return str(identifier or "")
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _now(sandbox: AppSandbox) -> str:
    return sandbox.state.now().strftime("%Y-%m-%dT%H:%M:00.000Z")


def _with_plain_text(value: Any) -> Any:
    if isinstance(value, list):
        return [
            {**item, "plain_text": ((item.get("text") or {}).get("content") or ""), "href": None}
            if isinstance(item, Mapping) and item.get("type") == "text"
            else item
            for item in value
        ]
    return value


def _shown_properties(schema: Mapping[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
    shown = {}
    for name, prop in schema.items():
        kind = prop.get("type")
        value = stored.get(name, {}).get(kind) if name in stored else _empty(kind)
        shown[name] = {"id": prop.get("id"), "type": kind, kind: _with_plain_text(value)}
    return shown


def _empty(kind: Any) -> Any:
    return (
        []
        if kind in ("title", "rich_text", "multi_select", "people", "relation", "files")
        else None
    )


def _schema_of(sandbox: AppSandbox, parent: Mapping[str, Any]) -> Mapping[str, Any] | None:
    records = sandbox.state.records
    if parent.get("database_id"):
        database = records[DATABASES].get(normal(parent["database_id"]))
        return database.get("properties") if database else None
    if parent.get("data_source_id"):
        source = records[SOURCES].get(normal(parent["data_source_id"]))
        return source.get("properties") if source else None
    return {"title": {"id": "title", "type": "title"}}


def page_resource(sandbox: AppSandbox, page: Mapping[str, Any]) -> dict[str, Any]:
    schema = _schema_of(sandbox, page["parent"]) or {}
    return {
        "object": "page",
        "id": page["id"],
        "created_time": page["created_time"],
        "last_edited_time": page["last_edited_time"],
        "created_by": {"object": "user", "id": "sandbox-user"},
        "last_edited_by": {"object": "user", "id": "sandbox-user"},
        "cover": page.get("cover"),
        "icon": page.get("icon"),
        "parent": page["parent"],
        "archived": False,
        "in_trash": False,
        "properties": _shown_properties(schema, page.get("properties") or {}),
        "url": f"https://www.notion.so/{page['id'].replace('-', '')}",
        "public_url": None,
    }


def _written(schema: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any] | str:
    """The given properties by name, or why Notion would refuse them."""
    by_key = {}
    for name, prop in schema.items():
        by_key[name] = (name, prop)
        by_key[str(prop.get("id"))] = (name, prop)
        by_key[unquote(str(prop.get("id")))] = (name, prop)
    written = {}
    for key, value in given.items():
        found = by_key.get(key) or by_key.get(unquote(key))
        if found is None:
            return f"{key} is not a property that exists."
        name, prop = found
        kind = prop.get("type")
        if not isinstance(value, Mapping) or kind not in value:
            return f"{name} is expected to be {kind}."
        written[name] = {kind: value[kind]}
    return written


def get_database(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    database = sandbox.state.records[DATABASES].get(normal(request.path["id"]))
    if database is None:
        return _missing("database", request.path["id"])
    properties = {
        name: {"name": name, **prop} for name, prop in (database.get("properties") or {}).items()
    }
    return json_response(
        {
            "object": "database",
            "id": database["id"],
            "title": [
                {
                    "type": "text",
                    "text": {"content": database.get("title", "")},
                    "plain_text": database.get("title", ""),
                }
            ],
            "properties": properties,
            "data_sources": database.get("data_sources") or [],
            "created_time": "2026-01-01T00:00:00.000Z",
            "last_edited_time": "2026-01-01T00:00:00.000Z",
            "is_inline": False,
            "url": f"https://www.notion.so/{database['id'].replace('-', '')}",
        }
    )


def get_data_source(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    source = sandbox.state.records[SOURCES].get(normal(request.path["id"]))
    if source is None:
        return _missing("data source", request.path["id"])
    properties = {
        name: {"name": name, **prop} for name, prop in (source.get("properties") or {}).items()
    }
    return json_response({"object": "data_source", "id": source["id"], "properties": properties})


def query_database(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    identifier = normal(request.path["id"])
    if identifier not in sandbox.state.records[DATABASES]:
        return _missing("database", request.path["id"])
    body = request.body if isinstance(request.body, Mapping) else {}
    pages = [
        page_resource(sandbox, p)
        for p in sandbox.state.records[PAGES].values()
        if normal(p["parent"].get("database_id")) == identifier
    ]
    pages = [p for p in pages if _passes(p, body.get("filter"))]
    start = int(body.get("start_cursor") or 0)
    size = min(int(body.get("page_size") or 100), 100)
    chunk = pages[start : start + size]
    more = start + size < len(pages)
    return json_response(
        {
            "object": "list",
            "results": chunk,
            "has_more": more,
            "next_cursor": str(start + size) if more else None,
            "type": "page_or_database",
        }
    )


def _passes(page: Mapping[str, Any], condition: Any) -> bool:
    if not isinstance(condition, Mapping) or not condition.get("property"):
        return True
    prop = (page.get("properties") or {}).get(condition["property"]) or {}
    for kind, test in condition.items():
        if kind == "property" or not isinstance(test, Mapping) or "equals" not in test:
            continue
        value = prop.get(prop.get("type"))
        if isinstance(value, list):
            value = "".join(str(item.get("plain_text", "")) for item in value)
        elif isinstance(value, Mapping):
            value = value.get("name")
        return str(value) == str(test["equals"])
    return True


def create_page(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    body = request.body if isinstance(request.body, Mapping) else {}
    parent = dict(body.get("parent") or {})
    for key in ("database_id", "data_source_id", "page_id"):
        if parent.get(key):
            parent[key] = normal(parent[key])
            parent.setdefault("type", key)
    schema = _schema_of(sandbox, parent)
    if schema is None:
        return _missing("database", next(iter(v for k, v in parent.items() if k != "type"), ""))
    written = _written(schema, body.get("properties") or {})
    if isinstance(written, str):
        return _error(400, "validation_error", written)
    now = _now(sandbox)
    page: dict[str, Any] = {
        "id": str(uuid.UUID(int=sandbox.state.next_number(PAGES))),
        "parent": parent,
        "properties": written,
        "children": body.get("children") or [],
        "icon": body.get("icon"),
        "cover": body.get("cover"),
        "created_time": now,
        "last_edited_time": now,
    }
    sandbox.state.records[PAGES][page["id"]] = page
    return json_response(page_resource(sandbox, page))


def update_page(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    page = sandbox.state.records[PAGES].get(normal(request.path["id"]))
    if page is None:
        return _missing("page", request.path["id"])
    body = request.body if isinstance(request.body, Mapping) else {}
    written = _written(_schema_of(sandbox, page["parent"]) or {}, body.get("properties") or {})
    if isinstance(written, str):
        return _error(400, "validation_error", written)
    page["properties"].update(written)
    page["last_edited_time"] = _now(sandbox)
    return json_response(page_resource(sandbox, page))


def get_page(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    page = sandbox.state.records[PAGES].get(normal(request.path["id"]))
    if page is None:
        return _missing("page", request.path["id"])
    return json_response(page_resource(sandbox, page))
