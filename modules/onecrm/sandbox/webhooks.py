"""Webhooks: subscriptions with a required filter, and deliveries of the changed record.

``POST /api.php/webhooks`` takes ``{"type": "create" | "update" | "create_update", "url",
"model", "filters": {"glue": "and" | "or", "conditions": [{"field", "filter", "value",
"when"}]}}`` and answers the webhook's ``id``; ``DELETE /api.php/webhooks/{id}`` removes it
(NOTES §6). 1CRM never fires a webhook "without or with a wrong filter": the sandbox refuses
such a subscription outright, so the mistake shows at once. Filter operators and ``when`` values
beyond the documented working default (``deleted is_false 0``, ``current_value``) are ours.

A delivery is a POST of the record's fields, flat, as JSON, with no signature (none is
documented); each matching change is sent in order from a background thread.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from modules.onecrm.sandbox.errors import InvalidRecord
from modules.onecrm.sandbox.records import Change, Record
from modules.onecrm.sandbox.schema import MODELS, PEOPLE_MODELS
from modules.onecrm.sandbox.values import DATETIME_FORMAT
from modules.sandboxing import new_delivery

if TYPE_CHECKING:
    from modules.onecrm.sandbox.state import OneCrmSandboxState

EVENT_TYPES = ("create", "update", "create_update")
GLUES = ("and", "or")
WHEN = ("current_value", "previous_value")


def _falsy(value: Any) -> bool:
    return value in (None, "", "0", 0, False)


FILTER_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda found, wanted: str(found) == str(wanted),
    "ne": lambda found, wanted: str(found) != str(wanted),
    "is_true": lambda found, _wanted: not _falsy(found),
    "is_false": lambda found, _wanted: _falsy(found),
    "empty": lambda found, _wanted: found in (None, ""),
    "not_empty": lambda found, _wanted: found not in (None, ""),
}


def parse_subscription(body: Any) -> Record:
    """A subscription from the request body (also accepted wrapped in ``data``).

    Raises:
        InvalidRecord: naming every missing or wrong part, the filter's included.
    """
    data = body.get("data", body) if isinstance(body, Mapping) else {}
    problems: dict[str, str] = {}
    if not str(data.get("url", "")).startswith(("http://", "https://")):
        problems["url"] = "an http(s) URL is required"
    model = data.get("model")
    if model not in MODELS:
        problems["model"] = f"Model {model} not found"
    if data.get("type") not in EVENT_TYPES:
        problems["type"] = f"one of {', '.join(EVENT_TYPES)}"
    problems.update(filter_problems(data.get("filters"), MODELS.get(str(model))))
    if problems:
        hint = 'a working filter: {"glue": "or", "conditions": [{"field": "deleted", '
        hint += '"filter": "is_false", "value": "0", "when": "current_value"}]}'
        raise InvalidRecord(problems, hint)
    return {
        "id": str(uuid.uuid4()),
        "type": data["type"],
        "url": data["url"],
        "model": model,
        "filters": data["filters"],
    }


def filter_problems(filters: Any, schema: Any) -> dict[str, str]:
    if not isinstance(filters, Mapping):
        return {"filters": "required: {glue, conditions}"}
    problems = {}
    if filters.get("glue") not in GLUES:
        problems["filters.glue"] = "and or or"
    conditions = filters.get("conditions")
    if not isinstance(conditions, list) or not conditions:
        problems["filters.conditions"] = "at least one condition"
        return problems
    for number, condition in enumerate(conditions, start=1):
        where = f"filters.conditions[{number}]"
        if not isinstance(condition, Mapping):
            problems[where] = "must be {field, filter, value, when}"
            continue
        if schema is not None and condition.get("field") not in schema.fields:
            problems[f"{where}.field"] = f"{schema.name} has no field {condition.get('field')}"
        if condition.get("filter") not in FILTER_OPERATORS:
            problems[f"{where}.filter"] = f"one of {', '.join(FILTER_OPERATORS)}"
        if condition.get("when") not in WHEN:
            problems[f"{where}.when"] = f"one of {', '.join(WHEN)}"
    return problems


def passes(filters: Mapping[str, Any], record: Record, previous: Record | None) -> bool:
    """Whether a change meets the subscription's filter."""
    results = []
    for condition in filters["conditions"]:
        source = record if condition["when"] == "current_value" else (previous or {})
        operator = FILTER_OPERATORS[condition["filter"]]
        results.append(operator(source.get(condition["field"]), condition.get("value")))
    return all(results) if filters["glue"] == "and" else any(results)


def wants(hook: Record, change: Change) -> bool:
    return hook["model"] == change.model and hook["type"] in (change.event, "create_update")


def matching_hooks(state: OneCrmSandboxState, change: Change, record: Record) -> list[Record]:
    """Subscriptions this change fires, then ``config["webhook_url"]`` (every create and
    update of the models people edit)."""
    hooks = [
        hook
        for hook in state.subscriptions.values()
        if wants(hook, change) and passes(hook["filters"], record, change.previous)
    ]
    catch_all = state.config.get("webhook_url")
    if catch_all and change.model in PEOPLE_MODELS:
        hooks.append({"id": "config", "url": catch_all})
    return hooks


def announce(state: OneCrmSandboxState, changes: list[Change]) -> None:
    """Queue one POST per (change, webhook it fires), carrying the record as it is now."""
    for change in changes:
        record = state.records[change.model].get(change.record_id)
        if record is None:
            continue
        for hook in matching_hooks(state, change, record):
            raw = json.dumps(record).encode("utf-8")
            headers = {"Content-Type": "application/json", "User-Agent": "1CRM (sandbox)"}
            kind = f"{change.model}.{change.event}"
            state.webhooks.enqueue(new_delivery(hook["url"], record, headers, kind), raw)


def subscribed(state: OneCrmSandboxState, hook: Record) -> Record:
    hook["date_entered"] = state.now().strftime(DATETIME_FORMAT)
    state.subscriptions[hook["id"]] = hook
    return hook
