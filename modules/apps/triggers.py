"""Polling triggers of apps defined as data: Make's ``response.trigger`` with an id/date cursor.

Each item the trigger's requests return has an id (``trigger.id``) and, for ``type: date``, a
date (``trigger.date``). The cursor is ``{"lastId", "lastDate"}`` of the newest item output; a
run outputs the items newer than it, oldest first, at most ``limit`` (the response's ``limit``,
evaluated; one when it has none, as in Make), and moves the cursor to the last one output.
Newer means a greater date (then id) for ``date`` triggers, a greater id for ``id`` triggers;
ids compare as numbers when both are numeric.

The first run without a cursor follows the user's "choose where to start": ``all`` outputs
from the oldest item, ``since`` items after a date, ``manual`` items after a given id, and
``now`` (the default) outputs nothing and remembers the newest item. The templates read the
cursor as ``data.lastId`` / ``data.lastDate``, so an API that filters by date can ask for new
items only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.errors import DataError
from engine.mapping.values import to_date
from modules.apps.communication import Exchange, Produced, run_communication
from modules.apps.compile import RequestSpec, TriggerSpec

DEFAULT_LIMIT = 1


@dataclass(frozen=True)
class Seen:
    """One item's place in the trigger's order."""

    id: Any
    date: datetime | None

    def key(self) -> tuple[Any, ...]:
        date = self.date or datetime.min.replace(tzinfo=UTC)
        return (date, _id_key(self.id))


def poll(
    requests: tuple[RequestSpec, ...],
    spec: TriggerSpec,
    exchange: Exchange,
    cursor: Any,
    start: Mapping[str, Any] | None,
    limit: int | None,
) -> tuple[list[Any], dict[str, Any] | None]:
    """``(outputs, new cursor)`` of one polling run (see the module docstring); the cursor is
    ``None`` when it does not move."""
    last = _last_seen(cursor, start)
    exchange.scopes["data"] = {
        "lastId": last.id if last else None,
        "lastDate": last.date.isoformat() if last and last.date else None,
    }
    exchange.scopes["trigger"] = {"matchEqual": False}
    if last is not None and spec.order == "desc":
        exchange.stop = lambda produced: not _newer(_seen(spec, produced, exchange), last)
    produced = run_communication(requests, exchange)
    items = sorted(
        ((_seen(spec, p, exchange), p.output) for p in produced), key=lambda pair: pair[0].key()
    )
    if last is None and _starts_now(cursor, start):
        return [], _cursor(items[-1][0]) if items else {"lastId": None, "lastDate": None}
    fresh = [(seen, output) for seen, output in items if last is None or _newer(seen, last)]
    fresh = fresh[: limit if limit is not None else DEFAULT_LIMIT]
    if not fresh:
        return [], None
    return [output for _, output in fresh], _cursor(fresh[-1][0])


def _seen(spec: TriggerSpec, produced: Produced, exchange: Exchange) -> Seen:
    scopes = produced.scopes or exchange.scopes
    identifier = exchange.value(spec.id, scopes)
    if identifier in (None, ""):
        raise DataError("trigger.id gave no id for an item")
    date = exchange.value(spec.date, scopes) if spec.date is not None else None
    return Seen(identifier, _date(date) if spec.type == "date" else None)


def _newer(seen: Seen, last: Seen) -> bool:
    return seen.key() > last.key()


def _date(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    moment = to_date(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _id_key(value: Any) -> tuple[int, Any]:
    """Numeric ids order as numbers, before text ids (which order as text)."""
    try:
        return (0, Decimal(str(value)))
    except InvalidOperation:
        return (1, str(value))


def _cursor(seen: Seen) -> dict[str, Any]:
    return {"lastId": seen.id, "lastDate": seen.date.isoformat() if seen.date else None}


def _last_seen(cursor: Any, start: Mapping[str, Any] | None) -> Seen | None:
    if isinstance(cursor, Mapping) and ("lastId" in cursor or "lastDate" in cursor):
        if cursor.get("lastId") is None and cursor.get("lastDate") is None:
            return None  # the first run saw nothing: everything after it is new
        return Seen(cursor.get("lastId"), _date(cursor.get("lastDate")))
    choice = (start or {}).get("type")
    if choice == "since" and start and start.get("date"):
        return Seen("", _date(start["date"]))
    if choice == "manual" and start and start.get("value") not in (None, ""):
        return Seen(start["value"], None)
    return None


def _starts_now(cursor: Any, start: Mapping[str, Any] | None) -> bool:
    return cursor is None and (start or {}).get("type", "now") == "now"
