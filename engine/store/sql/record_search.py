"""Matching and sorting data store records by ``RecordFilter``/``RecordSort``.

Done in Python over the store's records rather than in SQL, so SQLite and PostgreSQL answer
exactly alike (JSON operators and text collations differ between them); data stores are small
by design (``max_size_bytes``).
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Sequence
from typing import Any

from engine.store.records import DataRecord, RecordFilter, RecordSort

_MISSING = object()


def field_value(record: DataRecord, field: str) -> Any:
    """``record.key`` for ``"key"``, else the data field (dots reach into nested objects)."""
    if field == "key":
        return record.key
    value: Any = record.data
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    """``compare`` for number/number and text/text pairs; any other pair does not match."""

    def test(actual: Any, expected: Any) -> bool:
        comparable = (_is_number(actual) and _is_number(expected)) or (
            isinstance(actual, str) and isinstance(expected, str)
        )
        return comparable and compare(actual, expected)

    return test


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, str):
        return isinstance(expected, str) and expected in actual
    if isinstance(actual, list):
        return expected in actual
    return False


# Each operator: (test on a present value, answer when the field is missing).
OPERATORS: dict[str, tuple[Callable[[Any, Any], bool], bool]] = {
    "eq": (operator.eq, False),
    "ne": (operator.ne, True),
    "contains": (_contains, False),
    "not_contains": (lambda actual, expected: not _contains(actual, expected), True),
    "gt": (_ordered(operator.gt), False),
    "gte": (_ordered(operator.ge), False),
    "lt": (_ordered(operator.lt), False),
    "lte": (_ordered(operator.le), False),
    "exists": (lambda actual, expected: True, False),
    "not_exists": (lambda actual, expected: False, True),
}


def matches(record: DataRecord, filters: Sequence[RecordFilter]) -> bool:
    """Whether ``record`` passes every filter."""
    for condition in filters:
        test, when_missing = OPERATORS[condition.op]
        value = field_value(record, condition.field)
        passed = when_missing if value is _MISSING else test(value, condition.value)
        if not passed:
            return False
    return True


def _sort_key(present_first: bool, field: str) -> Callable[[DataRecord], tuple[Any, ...]]:
    def key(record: DataRecord) -> tuple[Any, ...]:
        value = field_value(record, field)
        if value is _MISSING or value is None:
            return (1 if present_first else 0, 0, 0)
        if _is_number(value):
            rank, comparable = 0, value
        elif isinstance(value, str):
            rank, comparable = 1, value
        else:
            rank, comparable = 2, json.dumps(value, sort_keys=True)
        # Numbers, then text, then anything else, in either direction (reverse flips the rank).
        return (0 if present_first else 1, rank if present_first else -rank, comparable)

    return key


def sorted_records(records: list[DataRecord], sort: Sequence[RecordSort]) -> list[DataRecord]:
    """``records`` by key, then re-sorted (stably) by each ``sort`` from last to first, so the
    first one wins; missing values go last in either direction."""
    ordered = sorted(records, key=lambda record: record.key)
    for rule in reversed(sort):
        ordered.sort(key=_sort_key(not rule.descending, rule.field), reverse=rule.descending)
    return ordered
