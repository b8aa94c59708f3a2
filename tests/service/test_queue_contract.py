"""One contract suite for every backplane: ``InlineQueue`` and ``CeleryQueue`` (real Redis).

Delivery to a real Celery worker is proven end to end in ``test_real_parts``; here the Celery
queue's side of the contract is that the id reaches the broker as the right task. What processes
share (locks, answers, run events, limits) is checked between a backplane and its ``peer``: the
same object in process (one process is the whole installation), a second ``CeleryQueue`` on the
same Redis for the scaled-out one (another process).
"""

from __future__ import annotations

import json
import os
import threading
import time

import pytest
import redis
from kombu.simple import SimpleQueue

from engine.config import Settings
from engine.queue import InlineQueue, WebhookResponse, make_backplane, process_limits
from engine.queue.celery_queue import (
    EXECUTION_TASK,
    TICK_TASK,
    WEBHOOK_TASK,
    CeleryQueue,
    TaskMessages,
    coalesced,
)
from engine.queue.events import EventHub
from engine.ratelimit import MemoryConcurrencyLimiter, MemoryRateLimiter, RedisRateLimiter
from tests.service.processes import free_port, redis_server, wait_until

REDIS_DB = 14
SLOWER_THAN_A_SOCKET = 6.0


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, object]] = []

    def process_webhook(self, webhook_id: int) -> list[str]:
        self.seen.append((WEBHOOK_TASK, webhook_id))
        return []

    def execute(self, execution_id: str) -> None:
        self.seen.append((EXECUTION_TASK, execution_id))

    def tick(self) -> None:
        pass


class InlineHarness:
    def __init__(self) -> None:
        self.recorder = Recorder()
        self.queue = InlineQueue(workers=2)
        self.queue.bind(self.recorder)
        self.queue.start()
        self.peer = self.queue

    def delivered(self) -> list[tuple[str, object]]:
        return sorted(self.recorder.seen, key=str)

    def close(self) -> None:
        self.queue.close()


class CeleryHarness:
    def __init__(self) -> None:
        url = f"redis://127.0.0.1:6379/{REDIS_DB}"
        self.client = redis.Redis.from_url(url, socket_connect_timeout=2)
        try:
            self.client.ping()
        except redis.ConnectionError as error:
            self.client.close()
            pytest.fail(f"the Celery queue contract needs Redis at 127.0.0.1:6379 ({error})")
        self.client.flushdb()
        self.queue = CeleryQueue(url)
        self.peer = CeleryQueue(url)

    def delivered(self) -> list[tuple[str, object]]:
        found = []
        for raw in self.client.lrange("celery", 0, -1):
            message = json.loads(raw)
            args = json.loads(_body(message))[0]
            found.append((message["headers"]["task"], args[0]))
        return sorted(found, key=str)

    def close(self) -> None:
        self.queue.close()
        self.peer.close()
        self.client.flushdb()
        self.client.close()


def _body(message: dict) -> str:
    import base64

    return base64.b64decode(message["body"]).decode()


@pytest.fixture(params=["inline", "celery"])
def harness(request):
    made = InlineHarness() if request.param == "inline" else CeleryHarness()
    yield made
    made.close()


def test_dispatched_ids_reach_their_handler(harness):
    harness.queue.dispatch_webhook(7)
    harness.queue.dispatch_execution("e-1")
    expected = sorted([(WEBHOOK_TASK, 7), (EXECUTION_TASK, "e-1")], key=str)
    wait_until(lambda: harness.delivered() == expected, 10, "both ids delivered")


def test_a_lock_has_one_holder_at_a_time(harness):
    first = harness.queue.try_lock("scenario:1", 5)
    assert first is not None
    assert harness.queue.try_lock("scenario:1", 5) is None
    assert harness.queue.try_lock("scenario:2", 5) is not None
    assert first.refresh()
    first.release()
    again = harness.queue.try_lock("scenario:1", 5)
    assert again is not None
    again.release()


def test_an_expired_lock_can_be_taken_and_its_old_holder_knows(harness):
    stale = harness.queue.try_lock("tick", 0.2)
    time.sleep(0.3)
    fresh = harness.queue.try_lock("tick", 5)
    assert fresh is not None
    assert not stale.refresh()
    stale.release()  # must not release the new holder's lock
    assert harness.queue.try_lock("tick", 5) is None
    fresh.release()


def test_a_response_reaches_the_waiter(harness):
    answer = WebhookResponse(201, "made", {"X-Id": "4"})
    timer = threading.Timer(0.2, harness.queue.publish_response, ("item-1", answer))
    timer.start()
    try:
        assert harness.queue.wait_response("item-1", 5) == answer
    finally:
        timer.join()


def test_a_response_published_before_the_wait_is_kept(harness):
    harness.queue.publish_response("item-2", WebhookResponse(200, "early"))
    assert harness.queue.wait_response("item-2", 1).body == "early"


def test_a_response_slower_than_redis_pys_socket_timeout_reaches_the_waiter(harness):
    # redis-py 8 reads with a 5 s socket timeout unless told otherwise: the wait must last as
    # long as its caller asked (SWITCHBOARD_WEBHOOK_RESPONSE_TIMEOUT), not as long as a socket.
    answer = WebhookResponse(201, "slow")
    timer = threading.Timer(
        SLOWER_THAN_A_SOCKET, harness.queue.publish_response, ("item-4", answer)
    )
    timer.start()
    try:
        assert harness.queue.wait_response("item-4", 60) == answer
    finally:
        timer.join()


def test_waiting_without_a_response_times_out(harness):
    started = time.monotonic()
    assert harness.queue.wait_response("item-3", 0.3) is None
    assert time.monotonic() - started < 3


def test_celery_queue_does_not_block_or_raise_when_redis_is_unreachable():
    queue = CeleryQueue(f"redis://127.0.0.1:{free_port()}/0")
    try:
        started = time.monotonic()
        queue.dispatch_webhook(1)
        queue.dispatch_execution("e")
        queue.publish_response("k", WebhookResponse(200, "x"))
        assert queue.try_lock("tick", 5) is None
        assert queue.wait_response("k", 0.1) is None
        assert time.monotonic() - started < 10
        assert queue.pending() == 2, "kept for when Redis is back"
    finally:
        queue.close(timeout=0.5)


def test_celery_queue_tells_once_that_redis_lost_its_messages():
    harness = CeleryHarness()
    try:
        assert harness.queue.messages_lost(), "a fresh Redis holds no messages of ours"
        assert not harness.queue.messages_lost()
        harness.client.flushdb()  # as a FLUSHDB, or a restart without persistence, does
        assert harness.queue.messages_lost()
        assert not harness.queue.messages_lost(), "once per loss"
    finally:
        harness.close()


def test_celery_queue_asks_for_a_tick_as_soon_as_redis_lost_its_messages():
    harness = CeleryHarness()
    try:
        assert harness.queue.messages_lost()  # the first tick marks Redis
        harness.queue.dispatch_webhook(7)  # the publisher looks for the mark, then publishes
        wait_until(lambda: harness.delivered() == [(WEBHOOK_TASK, 7)], 10, "the id published")
        harness.client.flushdb()
        wait_until(lambda: TICK_TASK in tasks_in(harness.client), 10, "a tick asked for")
        assert tasks_in(harness.client) == [TICK_TASK], "one tick, nothing else"
    finally:
        harness.close()


def tasks_in(client: redis.Redis) -> list[str]:
    return [json.loads(raw)["headers"]["task"] for raw in client.lrange("celery", 0, -1)]


def webhook_requests_in(client: redis.Redis) -> int:
    """How many webhook requests the messages waiting in Redis ask workers to run (a message
    may stand for several: ``coalesced``)."""
    asked = 0
    for raw in client.lrange("celery", 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == WEBHOOK_TASK:
            args = json.loads(_body(message))[0]
            asked += args[1] if len(args) > 1 else 1
    return asked


def test_inline_queue_loses_messages_only_with_its_process():
    harness = InlineHarness()
    try:
        assert not harness.queue.messages_lost()
    finally:
        harness.close()


# -- what processes share: locks, answers, run events, limits ----------------------------------


def test_a_peer_sees_the_lock_and_gets_the_answer(harness):
    held = harness.queue.try_lock("scenario:9", 5)
    assert held is not None
    assert harness.peer.try_lock("scenario:9", 5) is None
    held.release()
    harness.peer.publish_response("item-9", WebhookResponse(202, "from a worker"))
    assert harness.queue.wait_response("item-9", 5).body == "from a worker"


def test_run_events_reach_a_subscriber_on_a_peer(harness):
    with harness.queue.events.subscribe("e-7") as subscription:
        # The relay listens from a background thread: publish until the first one arrives.
        first = None
        for attempt in range(100):
            harness.peer.events.publish("e-7", {"event": "module_started", "seq": attempt})
            first = subscription.next(0.2)
            if first is not None:
                break
        assert first is not None and first["event"] == "module_started"
        harness.peer.events.publish("e-7", {"event": "finished", "seq": 1000})
        while (event := subscription.next(5)) is not None and event["event"] != "finished":
            pass
        assert event is not None and event["seq"] == 1000


def test_a_rate_limit_is_counted_with_the_peer(harness):
    key = f"contract:{time.monotonic_ns()}"
    rate, peer = harness.queue.limits.rate, harness.peer.limits.rate
    assert rate.acquire(key, 2, 60) == 0.0
    assert peer.acquire(key, 2, 60) == 0.0
    assert rate.acquire(key, 2, 60) > 0
    assert peer.wait(key, 2, 60) > 0
    peer.reset(key)
    assert rate.acquire(key, 2, 60) == 0.0


def test_calls_in_flight_are_counted_with_the_peer(harness):
    key = f"contract:{time.monotonic_ns()}"
    slots, peer = harness.queue.limits.concurrency, harness.peer.limits.concurrency
    token = slots.enter(key, 1, 30)
    assert token is not None
    assert peer.enter(key, 1, 30) is None
    slots.leave(key, token)
    again = peer.enter(key, 1, 30)
    assert again is not None
    peer.leave(key, again)


# -- one factory decides "Redis or in-process" -------------------------------------------------


def test_the_factory_picks_the_backplane_from_the_settings(tmp_path):
    embedded = make_backplane(Settings(var_dir=tmp_path, database_url="sqlite:///x.db"))
    try:
        assert isinstance(embedded, InlineQueue) and embedded.in_process
        assert isinstance(embedded.limits.rate, MemoryRateLimiter)
        assert isinstance(embedded.limits.concurrency, MemoryConcurrencyLimiter)
    finally:
        embedded.close()
    url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    settings = Settings(var_dir=tmp_path, database_url="sqlite:///x.db", redis_url=url)
    scaled = make_backplane(settings)
    try:
        assert isinstance(scaled, CeleryQueue) and not scaled.in_process
        assert isinstance(scaled.limits.rate, RedisRateLimiter)
        # Connectors, which run without the service at hand, count on the same Redis.
        assert process_limits(settings).rate is scaled.limits.rate
        assert process_limits(settings).concurrency is scaled.limits.concurrency
    finally:
        scaled.close()


def test_celery_publishes_without_a_result_backend():
    """Nobody reads Celery's results (they live in the store): with a result backend each
    published task also subscribed to its result channel, two round trips per webhook."""
    harness = CeleryHarness()
    try:
        assert harness.queue.app.conf.result_backend is None
        for webhook_id in (1, 2, 3):
            harness.queue.dispatch_webhook(webhook_id)
        wait_until(lambda: len(harness.delivered()) == 3, 10, "three messages in Redis")
        assert harness.client.pubsub_channels("celery-task-meta-*") == []
    finally:
        harness.close()


def _without_ids(message: dict) -> dict:
    """A task message with what differs between any two messages (ids, tags) blanked."""
    message = json.loads(json.dumps(message))
    for key in ("id", "root_id", "origin"):
        message["headers"][key] = "-"
    for key in ("correlation_id", "reply_to", "delivery_tag"):
        message["properties"][key] = "-"
    return message


@pytest.mark.parametrize(
    "task, ident, requests",
    [(WEBHOOK_TASK, 7, 1), (WEBHOOK_TASK, 7, 3), (EXECUTION_TASK, "e-1", 1), (TICK_TASK, "", 1)],
)
def test_the_publishers_messages_are_what_celerys_send_task_puts_in_redis(task, ident, requests):
    """The publisher builds Celery's messages itself (``TaskMessages``), without
    ``send_task``'s ~1.3 ms of CPU each: a Celery worker must not tell them apart."""
    harness = CeleryHarness()
    try:
        args = [] if task == TICK_TASK else [ident] + ([requests] if requests > 1 else [])
        harness.queue.app.send_task(task, args=args, retry=False, ignore_result=True)
        celerys = json.loads(harness.client.rpop("celery"))
        ours = json.loads(TaskMessages(harness.queue.app).message(task, ident, requests))
        assert _without_ids(ours) == _without_ids(celerys)
        assert ours["headers"]["id"] == ours["headers"]["root_id"]
        assert ours["headers"]["id"] == ours["properties"]["correlation_id"]
        assert json.loads(_body(ours)) == json.loads(_body(celerys))
    finally:
        harness.close()


def test_a_backlog_of_ids_goes_to_redis_in_one_push_in_order():
    """What waits in the outbox is handed over in one LPUSH; workers take from the other
    end (BRPOP), so the oldest id is still taken first."""
    harness = CeleryHarness()
    try:
        pushes: list[int] = []
        original = harness.queue._redis.lpush

        def lpush(name, *values):
            pushes.append(len(values))
            return original(name, *values)

        harness.queue._redis.lpush = lpush
        for webhook_id in range(50):
            harness.queue._outbox.append((WEBHOOK_TASK, webhook_id))
        harness.queue.dispatch_webhook(50)  # starts the publisher, which finds all 51 waiting
        wait_until(lambda: harness.client.llen("celery") == 51, 10, "51 messages in Redis")
        taken = []
        while (raw := harness.client.rpop("celery")) is not None:
            taken.append(json.loads(_body(json.loads(raw)))[0][0])
        assert taken == list(range(51))
        assert pushes == [51]
    finally:
        harness.close()


def test_a_webhooks_dispatches_share_messages_of_at_most_four_requests_in_order():
    """Each webhook message runs "the oldest queued request": several dispatches of one
    webhook become one message asking for that many, placed where the first was; executions
    and ticks stay one message each."""
    batch = [
        (WEBHOOK_TASK, 1),
        (EXECUTION_TASK, "e-1"),
        (WEBHOOK_TASK, 2),
        *[(WEBHOOK_TASK, 1)] * 5,
        (TICK_TASK, ""),
        (EXECUTION_TASK, "e-1"),
        (WEBHOOK_TASK, 2),
    ]
    assert coalesced(batch) == [
        (WEBHOOK_TASK, 1, 4),
        (EXECUTION_TASK, "e-1", 1),
        (WEBHOOK_TASK, 2, 2),
        (WEBHOOK_TASK, 1, 2),
        (TICK_TASK, "", 1),
        (EXECUTION_TASK, "e-1", 1),
    ]


def test_a_burst_of_run_events_reaches_a_peer_whole_and_in_order(harness):
    """The relay publishes what waits in pipelined batches: more events than one batch holds,
    published at once, all arrive in the order they were published."""
    with harness.queue.events.subscribe("e-9") as subscription:
        first = None
        for attempt in range(100):  # the relay listens from a background thread
            harness.peer.events.publish("e-9", {"event": "warm", "seq": -1 - attempt})
            first = subscription.next(0.2)
            if first is not None:
                break
        assert first is not None
        for seq in range(700):
            harness.peer.events.publish("e-9", {"event": "module_finished", "seq": seq})
        harness.peer.events.publish("e-9", {"event": "finished", "seq": 700})
        seen = []
        while (event := subscription.next(5)) is not None and event["event"] != "finished":
            if event["event"] != "warm":
                seen.append(event["seq"])
        assert event is not None and event["seq"] == 700
        assert seen == list(range(700))


def test_a_worker_channel_cut_off_from_redis_closes_with_a_task_unacknowledged():
    """Celery (5.7), on a broken broker connection, detaches the connection's transport
    (``collect``) and then closes its channel, which put the messages of running tasks back
    through the detached transport, and the running task later acknowledges through it:
    ``AttributeError`` each time, and the worker stopped for good ("Unrecoverable error":
    Redis restarted mid-run left every later request unrun). Our transport closes such a
    channel, and refuses the ack with a connection error; the message stays in Redis's
    unacknowledged set."""
    harness = CeleryHarness()
    connection = harness.queue.app.connection_for_read()
    try:
        channel = connection.default_channel
        queue = SimpleQueue(channel, "switchboard-restore-check")
        queue.put({"task": "running"})
        message = queue.get(timeout=5)  # delivered, not acknowledged: a task running (acks_late)
        connection.transport.client = None  # what ``Connection.collect`` leaves behind
        channel.close()
        assert channel.closed
        # The task ends and acknowledges through the closed channel: Celery logs a connection
        # error ("Couldn't ack") and goes on; any other error stopped the worker.
        with pytest.raises(connection.connection_errors):
            message.ack()
        assert harness.client.hlen("unacked") == 1, "the message is not lost from Redis"
    finally:
        connection.release()
        harness.close()


def test_run_events_go_to_redis_only_while_some_process_listens(tmp_path):
    """A worker's runs are mostly followed by nobody: it publishes their events only while
    some process subscribes (pub/sub is server-wide, so a Redis of its own)."""
    port = free_port()
    server = redis_server(port, dict(os.environ), tmp_path)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    wait_until(lambda: _answers(client), 20, "the private Redis")
    worker, web = EventHub(url), EventHub(url)
    published: list[int] = []
    relay = worker._relay
    assert relay is not None
    relay._client = _recording_client(relay._client, published)
    try:
        for seq in range(5):
            worker.publish("e-1", {"event": "module_started", "seq": seq})
        wait_until(lambda: relay._outbox.empty(), 10, "the relay to take the events")
        with web.subscribe("e-1") as subscription:
            first = None
            for seq in range(100, 200):  # until the listener is seen (at most a second late)
                worker.publish("e-1", {"event": "module_started", "seq": seq})
                if (first := subscription.next(0.2)) is not None:
                    break
            assert first is not None and first["seq"] >= 100
        assert published and min(published) >= 100, "nothing went out while nobody listened"
    finally:
        worker.close()
        web.close()
        client.close()
        server.stop()


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def _recording_client(make_client, published: list[int]):
    """The relay's client, noting each event's ``seq`` as it is published."""

    def made():
        client = make_client()
        pipeline = client.pipeline

        def recording(*args, **kwargs):
            pipe = pipeline(*args, **kwargs)
            publish = pipe.publish

            def noted(channel, message):
                published.append(json.loads(message)["event"]["seq"])
                return publish(channel, message)

            pipe.publish = noted
            return pipe

        client.pipeline = recording
        return client

    return made
