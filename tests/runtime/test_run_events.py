"""The runner's progress events: numbered and counted by the runner, and left out while the
sink says nobody would receive them (``RunContext.events_unheard``) without moving the
numbers of the events sent after."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.blueprint import load_blueprint
from engine.graph import compile_blueprint
from engine.runtime import RunContext, RunLimits, run_scenario
from tests.runtime.test_compiled import LINES_FLOW, REGISTRY, lines

PLAN = compile_blueprint(
    load_blueprint(
        {"name": "t", "flow": LINES_FLOW, "metadata": {"version": 1, "scenario": {"roundtrips": 1}}}
    ),
    REGISTRY,
)


def _run(
    compiled: bool,
    unheard: Callable[[], bool] | None,
    limits: RunLimits | None = None,
    items: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The events ``on_event`` received in a run of the items scenario over 24 lines."""
    received: list[dict[str, Any]] = []
    context = RunContext(
        clock=lambda: datetime(2026, 3, 1, tzinfo=UTC),
        limits=limits or RunLimits(),
        compiled=compiled,
        execution_id="e-1",
        on_event=received.append,
        events_unheard=unheard,
    )
    record = run_scenario(PLAN, context, trigger_bundles=[{"lines": items or lines(24)}])
    assert record.status.value == "success"
    return received


def _unheard_at(positions: set[int]) -> tuple[Callable[[], bool], list[int]]:
    """A hook that says "nobody listens" when asked for the events at ``positions`` (1-based,
    in the order it is asked), and the list of how often it was asked."""
    asked = [0]

    def unheard() -> bool:
        asked[0] += 1
        return asked[0] in positions

    return unheard, asked


@pytest.mark.parametrize("compiled", [True, False])
def test_events_are_numbered_and_counted_by_the_runner(compiled):
    events = _run(compiled, None)
    assert [event["seq"] for event in events] == list(range(1, len(events) + 1))
    started = [event for event in events if event["event"] == "module_started"]
    assert [event["operations"] for event in started] == list(range(1, len(started) + 1))
    per_module: dict[int, int] = {}
    for event in events:
        if event["event"] == "module_started":
            per_module[event["module_id"]] = per_module.get(event["module_id"], 0) + 1
        assert event["module_operations"] == per_module[event["module_id"]]


@pytest.mark.parametrize("compiled", [True, False])
def test_events_nobody_hears_are_left_out_and_the_later_ones_numbered_as_if_sent(compiled):
    """Past the first few (what a hub keeps for late followers), nobody listens for a while,
    then a follower arrives: ``on_event`` is not called for the unheard events, and the events
    after carry the same ``seq``, ``operations`` and ``module_operations`` as in a run where
    every event was sent."""
    every = _run(compiled, None)
    assert len(every) > 20
    quiet = set(range(4, 15))
    unheard, asked = _unheard_at(quiet)
    sent = _run(compiled, unheard)
    assert asked[0] == len(every)  # asked once an event, for each of them
    assert sent == [event for at, event in enumerate(every, 1) if at not in quiet]
    assert [event["seq"] for event in sent][2:4] == [3, 15]


def test_the_route_sends_the_general_ways_events_past_the_stored_operations():
    """Past ``stored_bundles`` the route's operations share one unstored record; a failing
    operation's error (its error route ignores it) must not reach the next one's event."""
    items = lines(12)
    for line in items[1::3]:
        line["price"] = "not a number"  # the line total fails: Set variables' error route
    small = RunLimits(stored_bundles=1)
    compiled, general = (_run(way, None, small, items) for way in (True, False))
    assert compiled == general
    failed = [event for event in compiled if event["event"] == "module_finished" and event["error"]]
    assert len(failed) >= 2
