"""Helpers for Airtable: records as Make's bundles (``id``, ``createdTime`` and the fields
beside them), sorts as Airtable's query parameters, and the watch trigger's formula."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.mapping.functions.registry import FunctionError
from modules.apps.functions import helper


@helper("airtableRecord", (1, 1))
def airtable_record(ctx: Any, record: Any) -> dict[str, Any]:
    """An Airtable record as Make outputs it: ``id``, ``createdTime`` and every field."""
    if not isinstance(record, Mapping):
        raise FunctionError("airtableRecord needs a record")
    fields = record.get("fields") or {}
    return {"id": record.get("id"), "createdTime": record.get("createdTime"), **fields}


@helper("airtableSort", (1, 1))
def airtable_sort(ctx: Any, sort: Any) -> dict[str, Any]:
    """Make's sort (``[{field, direction}]``) as Airtable's ``sort[0][field]`` … parameters."""
    query: dict[str, Any] = {}
    for index, item in enumerate(item for item in sort or [] if isinstance(item, Mapping)):
        if item.get("field"):
            query[f"sort[{index}][field]"] = item["field"]
            query[f"sort[{index}][direction]"] = item.get("direction") or "asc"
    return query


@helper("airtableWatchFormula", (3, 3))
def airtable_watch_formula(ctx: Any, formula: Any, field: Any, last_date: Any) -> str:
    """The watch trigger's filter: the user's formula, and the trigger field after the last
    record's date when there is one."""
    terms = [str(formula)] if formula not in (None, "") else []
    if last_date not in (None, "") and field:
        moment = last_date if isinstance(last_date, datetime) else str(last_date)
        text = moment.isoformat() if isinstance(moment, datetime) else moment
        terms.append(f"IS_AFTER({{{field}}}, '{text}')")
    if len(terms) > 1:
        return "AND(" + ", ".join(terms) + ")"
    return terms[0] if terms else ""
