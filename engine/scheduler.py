"""When scheduled scenarios are due, and the loop that asks the service to act on time.

A scenario's ``scheduling`` JSON (Make's shapes)::

    {"type": "on-demand"}                                   never by itself
    {"type": "immediately"}                                 webhooks: run as requests arrive
    {"type": "indefinitely", "interval": 900}               every N seconds (Make: minutes*60)
    {"type": "once", "date": "2026-12-01T08:00:00Z"}
    {"type": "daily", "time": "08:30"}                      also "times": ["08:30", "17:00"]
    {"type": "weekly", "days": [1, 5], "time": "08:30"}     ISO weekdays, 1 = Monday, 7 = Sunday
    {"type": "monthly", "dates": [1, 15], "time": "08:30"}
    {"type": "cron", "cron": "*/5 * * * *"}                 minute hour day month weekday
    … plus optional "timezone" (IANA, default UTC).

``next_run_after`` is pure. ``SchedulerThread`` is the embedded scheduler (in production Celery
beat sends ``switchboard.tick`` instead); both only call ``tick()``, which does the work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from engine.failures import log_failure

log = logging.getLogger("switchboard.scheduler")

TIMED_TYPES = frozenset({"indefinitely", "interval", "once", "daily", "weekly", "monthly", "cron"})
_SEARCH_DAYS = 366 * 5


class ScheduleError(ValueError):
    """A scheduling object this scheduler cannot follow; the message says which part."""


def is_timed(scheduling: Mapping[str, Any]) -> bool:
    """Whether the scheduler (not a webhook) starts this scenario's runs."""
    return scheduling.get("type") in TIMED_TYPES


def validate_scheduling(scheduling: Mapping[str, Any]) -> None:
    """Raise ``ScheduleError`` unless ``scheduling`` can be followed."""
    kind = scheduling.get("type")
    if kind in {"on-demand", "immediately"}:
        return
    if kind not in TIMED_TYPES:
        raise ScheduleError(f"unknown scheduling type {kind!r}")
    next_run_after(scheduling, datetime(2000, 1, 1, tzinfo=UTC))


def next_run_after(scheduling: Mapping[str, Any], after: datetime) -> datetime | None:
    """The first moment strictly after ``after`` when the scenario should run (aware UTC), or
    ``None`` when it never runs again by schedule.

    Raises:
        ScheduleError: the scheduling object is malformed.
    """
    kind = scheduling.get("type")
    if kind in {"indefinitely", "interval"}:
        return after + timedelta(seconds=_interval_seconds(scheduling))
    if kind == "once":
        moment = _parse_date(scheduling.get("date"))
        return moment if moment > after else None
    if kind not in {"daily", "weekly", "monthly", "cron"}:
        return None
    zone = _zone(scheduling)
    if kind == "cron":
        return _next_cron(scheduling.get("cron", ""), after.astimezone(zone))
    return _next_match(_calendar(scheduling), after.astimezone(zone))


def _interval_seconds(scheduling: Mapping[str, Any]) -> float:
    try:
        seconds = float(scheduling.get("interval", 900))
    except (TypeError, ValueError):
        raise ScheduleError("interval must be a number of seconds") from None
    if seconds < 1:
        raise ScheduleError("interval must be at least 1 second")
    return seconds


def _parse_date(text: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise ScheduleError(f"date {text!r} is not ISO 8601") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _zone(scheduling: Mapping[str, Any]) -> ZoneInfo:
    name = scheduling.get("timezone") or "UTC"
    try:
        return ZoneInfo(str(name))
    except (KeyError, ValueError):
        raise ScheduleError(f"unknown timezone {name!r}") from None


# A matcher answers, for one local day, at which (hour, minute) pairs the scenario runs.
DayMatcher = Callable[[date], list[tuple[int, int]]]


def _next_match(matcher: DayMatcher, after: datetime) -> datetime | None:
    zone = after.tzinfo
    for offset in range(_SEARCH_DAYS):
        day = after.date() + timedelta(days=offset)
        for hour, minute in matcher(day):
            moment = datetime.combine(day, day_time(hour, minute), zone)
            if moment > after:
                return moment.astimezone(UTC)
    return None


def _calendar(scheduling: Mapping[str, Any]) -> DayMatcher:
    times = sorted(_times(scheduling))
    kind = scheduling["type"]
    days = {int(d) % 7 or 7 for d in scheduling.get("days", [])} if kind == "weekly" else set()
    dates = {int(d) for d in scheduling.get("dates", [])} if kind == "monthly" else set()
    if kind == "weekly" and not days:
        raise ScheduleError("weekly scheduling needs 'days' (1 = Monday … 7 = Sunday)")
    if kind == "monthly" and not dates:
        raise ScheduleError("monthly scheduling needs 'dates' (1 … 31)")

    def matcher(day: date) -> list[tuple[int, int]]:
        if days and day.isoweekday() not in days:
            return []
        if dates and day.day not in dates:
            return []
        return times

    return matcher


def _times(scheduling: Mapping[str, Any]) -> Iterator[tuple[int, int]]:
    texts = scheduling.get("times") or [scheduling.get("time", "00:00")]
    for text in texts:
        try:
            hour, minute = (int(part) for part in str(text).split(":")[:2])
        except ValueError:
            raise ScheduleError(f"time {text!r} is not HH:MM") from None
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise ScheduleError(f"time {text!r} is not HH:MM")
        yield hour, minute


def _next_cron(expression: str, after: datetime) -> datetime:
    """The next moment of a cron expression (five fields, names and ``@daily``-style macros,
    day of month and day of week combined with OR as in Vixie cron), via croniter."""
    if not croniter.is_valid(str(expression)):
        raise ScheduleError(f"cron {expression!r} is not a valid cron expression")
    moment: datetime = croniter(str(expression), after).get_next(datetime)
    return moment.astimezone(UTC)


class SchedulerThread:
    """The embedded scheduler: calls ``tick`` every ``interval`` seconds on a daemon thread.

    ``tick`` must not raise for long; a failing tick is logged and the loop goes on.
    """

    def __init__(self, tick: Callable[[], Any], interval: float) -> None:
        self._tick = tick
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="switchboard-scheduler", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception as error:  # the loop must outlive one bad tick (store locked …)
                log_failure(log, "scheduler tick failed", error=error)
            self._stop.wait(self._interval)
