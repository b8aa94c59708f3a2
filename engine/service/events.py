"""Live progress of runs: the runner's ``RunContext.on_event`` feeds a small event hub that the
web process streams to the editor (``GET /api/executions/{id}/events``).

Events are dicts: ``{"event": "module_started" | "module_finished", "execution_id",
"module_id", "operations" (the run's so far), "module_operations" (that module's so far),
"error"?, "seq"}`` while a run goes, then one
``{"event": "finished", "execution_id", "status", "operations", "error", "finished_at",
"duration_ms"}``. The hub keeps the events of runs in flight (and of the last few finished
ones) so a client connecting late replays them; a client connecting after that learns the final
state from the store. With Redis configured, events also travel over Redis pub/sub, so a run in
a Celery worker reaches the web process that streams it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

from engine.queue.events import CHANNEL, FINISHED, EventHub, Subscription
from engine.store import Execution, Store


def finished_event(execution: Execution) -> dict[str, Any]:
    """The last event of a run, from its stored execution."""
    return {
        "event": FINISHED,
        "execution_id": execution.id,
        "status": execution.status.value,
        "operations": execution.operations,
        "error": execution.error,
        "finished_at": execution.finished_at.isoformat() if execution.finished_at else None,
        "duration_ms": execution.duration_ms,
    }


class EventOperations:
    """The event sink of runs: ``RunOperations`` feeds each run's ``on_event`` to
    ``progress`` and its end to ``finished``; ``follow_execution`` streams them.

    Args:
        events: the backplane's event hub (relayed between processes when it spans them).
    """

    def __init__(self, store: Store, events: EventHub) -> None:
        self.store = store
        self.events = events

    def finished(self, execution_id: str, finished: Execution | None) -> None:
        """Announce a run's end (nothing when it did not end: claimed elsewhere, reaped)."""
        if finished is not None and finished.status.is_terminal:
            self.events.publish(execution_id, finished_event(finished))

    def progress(self, execution_id: str) -> Callable[[dict[str, Any]], None]:
        """The ``on_event`` of one run: its events, numbered and counted by the runner
        (``seq``, ``operations``, ``module_operations``), published for its followers."""
        publish = self.events.publish

        def on_event(event: dict[str, Any]) -> None:
            publish(
                execution_id, {**event, "execution_id": execution_id, "error": event.get("error")}
            )

        return on_event

    def unheard(self, execution_id: str) -> Callable[[], bool]:
        """The run's ``events_unheard``: whether a progress event would now reach nobody
        (``EventHub.unheard``), so the runner counts it and leaves it out."""
        return functools.partial(self.events.unheard, execution_id)

    def follow_execution(
        self, execution_id: str, *, wait: float = 600.0, poll: float = 1.0, after: int = 0
    ) -> Iterator[dict[str, Any] | None]:
        """The events of a run as they come, ending with ``finished``; ``None`` now and then
        (every ``poll`` seconds without an event: a keep-alive). Stops after ``wait`` seconds.
        ``after`` skips replayed events up to that ``seq`` (a reconnecting ``EventSource``'s
        ``Last-Event-ID``). Raises ``NotFound`` (before the first event) for an unknown
        execution."""
        self.store.get_execution(execution_id, with_record=False)
        return self._follow(execution_id, wait, poll, after)

    def _follow(
        self, execution_id: str, wait: float, poll: float, after: int = 0
    ) -> Iterator[dict[str, Any] | None]:
        with self.events.subscribe(execution_id) as subscription:
            for replayed in subscription.replay:
                if replayed.get("event") != FINISHED and int(replayed.get("seq") or 0) <= after:
                    continue
                yield replayed
                if replayed.get("event") == FINISHED:
                    return
            rounds = max(1, int(wait / poll))
            for _ in range(rounds + 1):
                stored = self.store.get_execution(execution_id, with_record=False)
                if stored.status.is_terminal:
                    # Events still in the hub's queue came before the end: send them first.
                    while (event := subscription.next(0)) is not None:
                        yield event
                        if event.get("event") == FINISHED:
                            return
                    yield finished_event(stored)
                    return
                event = subscription.next(poll)
                if event is None:
                    yield None  # a keep-alive
                while event is not None:
                    yield event
                    if event.get("event") == FINISHED:
                        return
                    event = subscription.next(0)


__all__ = ["CHANNEL", "FINISHED", "EventHub", "EventOperations", "Subscription", "finished_event"]
