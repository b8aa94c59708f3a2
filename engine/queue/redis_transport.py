"""Kombu's Redis transport with one fix: a Celery worker survives losing Redis while a task runs.

When the worker's broker connection breaks, Celery (5.7) first ``collect()``s the connection,
which detaches its transport (``transport.client = None``), and then ``close()``s it. Closing
the default channel tries to put the messages delivered but not yet acknowledged (a task
running with ``acks_late``) back into Redis through a new client, whose parameters come from
the detached transport: ``AttributeError: 'NoneType' object has no attribute 'hostname'``,
which Celery's ``ignore_errors`` does not ignore, so the worker stopped with "Unrecoverable
error" and ran nothing any more (``tests/faults/test_processes.py``: Redis restarted empty
while a run is in flight left every later request unrun).

The task then ends and acknowledges its message through that closed channel: the same error
again ("'NoneType' object has no attribute 'client'"). A channel whose transport is detached
cannot reach Redis, so here closing it skips that restore, and anything else it is asked to
send to Redis fails with a connection error, which Celery logs and survives.

Nothing is lost by skipping it: with Kombu's ack emulation the message also stays
in Redis's "unacked" set (restored after the visibility timeout), and whatever the broker lost,
the store still holds the request, which the scheduler's sweep dispatches again
(``MaintenanceOperations``); a run cut off mid-way is reaped and run again.
"""

from __future__ import annotations

from typing import Any

import redis
from kombu.transport import redis as kombu_redis

TRANSPORT = "engine.queue.redis_transport:Transport"
"""Celery's ``broker_transport`` for this transport (``create_celery_app`` sets it)."""


class Channel(kombu_redis.Channel):
    def close(self) -> None:
        if self._detached():
            qos: Any = self._qos
            if qos is not None:
                qos.restore_at_shutdown = False  # no client to restore with (module docstring)
        super().close()

    def _connparams(self, asynchronous: bool = False) -> Any:
        # A task's ack (or anything else) through a channel of a connection already taken
        # apart: a connection error, which Celery logs ("Couldn't ack") and survives, not the
        # AttributeError that stopped the worker. The message stays in Redis's unacked set.
        if self._detached():
            raise redis.exceptions.ConnectionError("this broker connection was closed")
        return super()._connparams(asynchronous=asynchronous)

    def _detached(self) -> bool:
        transport = self.connection
        return transport is None or getattr(transport, "client", None) is None


class Transport(kombu_redis.Transport):
    Channel = Channel
