"""List calls: ``filter_text``, declared ``filters[...]``, ``order``, ``fields[]``, paging.

- ``filters[name]`` takes only the filters the model declares; any other is refused with the
  declared ones listed (NOTES §3; docs examples/filter-contacts.md: "You cannot use arbitrary
  fields for filtering"). A text filter matches the start of the value, case-insensitively
  (filter-contacts.md: ``first_name=John`` finds "Johnathan"); others match exactly.
- ``filter_text`` looks for the text in the model's search fields (which fields is 1CRM's
  choice per model, "Fields involved in search depend on model").
- Without ``fields[]`` a list shows a few fields (``id``, ``name``, ``_display`` …) and a
  single record all of them (NOTES §2); naming a field the model lacks is refused.
- At most 200 records a call (NOTES §3).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from modules.onecrm.sandbox.errors import BadRequest
from modules.onecrm.sandbox.schema import Filter, ModelSchema

DEFAULT_LIMIT = 20
MAX_LIMIT = 200
OWNER_VALUES = ("all", "mine", "not_mine")


def requested_filters(schema: ModelSchema, args: Mapping[str, Any]) -> dict[str, str]:
    """``filters[...]`` of the query string, refused unless the model declares them.

    Raises:
        BadRequest: naming the undeclared filters and listing the declared ones.
    """
    given = {k[8:-1]: str(v) for k, v in args.items() if k.startswith("filters[") and k[-1] == "]"}
    unknown = sorted(set(given) - set(schema.filters))
    if unknown:
        raise BadRequest(
            f"Unknown filter {', '.join(unknown)} for model {schema.name}",
            f"declared filters: {', '.join(schema.filters)} (GET /meta/fields/{schema.name})",
        )
    return given


def matches(
    record: Mapping[str, Any],
    schema: ModelSchema,
    filters: Mapping[str, str],
    user_id: str,
) -> bool:
    return all(
        matches_filter(record, schema, name, schema.filters[name], value, user_id)
        for name, value in filters.items()
        if value != ""
    )


def matches_filter(
    record: Mapping[str, Any],
    schema: ModelSchema,
    name: str,
    spec: Filter,
    value: str,
    user_id: str,
) -> bool:
    if spec.kind == "unified_search":
        wanted = value.strip().casefold()
        return any(wanted in str(record.get(f) or "").casefold() for f in schema.search_fields)
    if spec.kind == "owner":
        if value not in OWNER_VALUES:
            raise BadRequest(f"filters[{name}] must be one of {', '.join(OWNER_VALUES)}")
        mine = record.get("assigned_user_id") == user_id
        return value == "all" or (mine if value == "mine" else not mine)
    if spec.kind == "flag":
        return value.lower() in ("", "0", "false")  # nothing is a favourite in the sandbox
    values = [str(record.get(field) or "") for field in spec.fields]
    if spec.kind == "text":
        return any(v.casefold().startswith(value.casefold()) for v in values)
    return value in values


def checked_fields(schema: ModelSchema, fields: list[str]) -> list[str]:
    """Raises ``BadRequest`` for fields the model lacks."""
    unknown = [name for name in fields if name not in schema.fields]
    if unknown:
        raise BadRequest(f"Unknown field {', '.join(unknown)} for model {schema.name}")
    return fields


def order_records(
    schema: ModelSchema, records: list[dict[str, Any]], order: str | None
) -> list[dict[str, Any]]:
    """Sort by ``order`` (``"name"``, ``"date_modified DESC"``, comma-separated); stable,
    empty values last; numbers as numbers.

    Raises:
        BadRequest: an unknown field or direction.
    """
    clauses = [c.strip() for c in (order or "").split(",") if c.strip()]
    for clause in reversed(clauses):
        name, _, direction = clause.partition(" ")
        if name not in schema.fields or direction.strip().lower() not in ("", "asc", "desc"):
            raise BadRequest(f"Invalid order {clause!r} for model {schema.name}")
        numeric = schema.fields[name].type in ("decimal", "int")
        present = [r for r in records if r.get(name) not in (None, "")]
        empty = [r for r in records if r.get(name) in (None, "")]
        present.sort(
            key=partial(_order_key, name, numeric), reverse=direction.strip().lower() == "desc"
        )
        records = present + empty
    return records


def _order_key(name: str, numeric: bool, record: Mapping[str, Any]) -> float | str:
    return float(record[name]) if numeric else str(record[name]).casefold()


def shown_in_list(schema: ModelSchema, record: Mapping[str, Any], fields: list[str]) -> dict:
    """A list row: the requested fields, else the model's list fields; then ``id``, ``name``
    and ``_display`` as 1CRM adds them."""
    names = fields or list(schema.list_fields)
    row = {name: record.get(name) for name in names}
    row["id"] = record["id"]
    if "name" in schema.fields:
        row.setdefault("name", record.get("name"))
    row["_display"] = record.get("name")
    return row


def shown_record(schema: ModelSchema, record: Mapping[str, Any], fields: list[str]) -> dict:
    """A single record: every field, or the requested ones and ``id``."""
    if not fields:
        return dict(record)
    return {**{name: record.get(name) for name in fields}, "id": record["id"]}


def page_of(args: Mapping[str, Any]) -> tuple[int, int]:
    """``(offset, limit)`` of the query string; limit 20 by default, at most 200."""
    try:
        limit = int(args.get("limit", DEFAULT_LIMIT))
        offset = int(args.get("offset", 0))
    except ValueError:
        raise BadRequest("offset and limit must be whole numbers") from None
    return max(offset, 0), min(max(limit, 0), MAX_LIMIT)
