"""Shared machinery for the local API sandboxes (``modules/xero``, ``modules/onecrm``).

A sandbox is a Flask app that emulates a vendor API closely enough that a connector built with
``requests`` cannot tell it from the real service, while every bit of its state stays in memory
and is inspectable over ``/_sandbox/...``. This module holds what every sandbox shares:

- ``SandboxClock``: UTC "now" with a configurable offset, so tests jump ahead instead of sleeping.
- ``Monotonic``: the seconds rate-limit windows are counted in (``time.monotonic`` unless a test
  gives the clock its connectors wait on, so a ``Retry-After`` wait costs it no wall time).
- ``FaultInjector``: answers the next N matching requests with an error status, or delays them.
- ``SlidingWindowLimiter``: a per-key request budget over a (configurable) window.
- ``WebhookSender``: delivers JSON bodies over real HTTP from one background thread, in order,
  logging every delivery.
- ``BaseSandboxState``: lock, config, logs and the above; each sandbox subclasses it with records.
- ``register_control_routes``: the ``/_sandbox/*`` endpoints plus the request-log / fault hooks.
- ``run_sandbox_in_thread``: serve an app on a loopback port from a daemon thread.
"""

from __future__ import annotations

import copy
import json
import queue
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import flask
import requests
from werkzeug.serving import WSGIRequestHandler, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

CONTROL_PREFIX = "/_sandbox"
FAULT_STATUSES = frozenset({429, 500, 502, 503, 504})

#: Config keys every sandbox understands; each sandbox adds its own defaults on top.
COMMON_CONFIG_DEFAULTS: dict[str, Any] = {
    "rate_limit_per_minute": 60,
    "rate_limit_window_seconds": 60.0,
    "webhook_url": None,
    "webhook_key": None,
    "webhook_timeout_seconds": 5.0,
    "clock_offset_seconds": 0.0,
}


class SandboxError(Exception):
    """A control request the sandbox cannot honour (bad fault spec, unknown config key...)."""


# --------------------------------------------------------------------------------------------
# Clock
# --------------------------------------------------------------------------------------------


class SandboxClock:
    """UTC wall clock shifted by ``offset_seconds()`` (read at every call, so config changes apply).

    Only the emulated API's notion of time moves (token expiry, record dates); rate-limit windows
    count in the state's ``monotonic`` seconds (real ones unless a test shares its clock).
    """

    def __init__(self, offset_seconds: Callable[[], float]) -> None:
        self._offset_seconds = offset_seconds

    def now(self) -> datetime:
        """Return the sandbox's current time as an aware UTC datetime."""
        return datetime.now(UTC) + timedelta(seconds=self._offset_seconds())


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------


@dataclass
class Fault:
    """One injected fault: the next ``remaining`` matching requests get ``status`` or a delay.

    ``status`` None means "delay only, then answer normally" (a hang past the client's timeout).
    """

    id: str
    remaining: int
    status: int | None = None
    delay_seconds: float = 0.0
    retry_after: int = 1
    method: str | None = None
    path_prefix: str = ""

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request with ``method`` and ``path``."""
        method_ok = self.method is None or self.method.upper() == method.upper()
        return method_ok and path.startswith(self.path_prefix)


def parse_fault(spec: Mapping[str, Any]) -> Fault:
    """Build a ``Fault`` from the JSON body of ``POST /_sandbox/faults``.

    Raises:
        SandboxError: unknown status, negative count, nothing to do.
    """
    status = spec.get("status")
    delay = float(spec.get("delay_seconds", spec.get("delay", 0)) or 0)
    if status is not None and int(status) not in FAULT_STATUSES:
        raise SandboxError(f"status must be one of {sorted(FAULT_STATUSES)}, got {status}")
    if status is None and delay <= 0:
        raise SandboxError("a fault needs a status or a positive delay_seconds")
    count = int(spec.get("count", 1))
    if count < 1:
        raise SandboxError("count must be >= 1")
    return Fault(
        id=str(uuid.uuid4()),
        remaining=count,
        status=int(status) if status is not None else None,
        delay_seconds=delay,
        retry_after=int(spec.get("retry_after", 1)),
        method=spec.get("method"),
        path_prefix=str(spec.get("path_prefix", spec.get("path", ""))),
    )


class FaultInjector:
    """Queue of faults consumed first-come by matching requests. Not thread-safe on its own:
    callers hold the sandbox lock."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Append a fault; earlier faults win when several match."""
        self.faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one use of the first fault matching the request, if any."""
        for fault in self.faults:
            if fault.matches(method, path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        """Drop every pending fault."""
        self.faults.clear()


# --------------------------------------------------------------------------------------------
# Rate limiting
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateDecision:
    """Outcome of one rate-limit check: ``remaining`` calls left in the window after this one,
    and when refused, whole seconds to wait (``retry_after``)."""

    allowed: bool
    remaining: int
    retry_after: int = 0


Monotonic = Callable[[], float]
"""Seconds that only go forward: ``time.monotonic``, or a test's clock that skips the waits its
connectors make (``tests/clock.py``) — the same calls are refused either way."""


class SlidingWindowLimiter:
    """Counts calls per key over a sliding window of ``monotonic`` seconds. Callers hold the
    lock."""

    def __init__(self, monotonic: Monotonic = time.monotonic) -> None:
        self._monotonic = monotonic
        self._hits: dict[str, deque[float]] = {}

    def check(self, key: str, limit: int, window_seconds: float) -> RateDecision:
        """Record a call for ``key`` if the budget allows it and say what happened."""
        now = self._monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= window_seconds:
            hits.popleft()
        if len(hits) >= limit:
            wait = window_seconds - (now - hits[0])
            return RateDecision(False, 0, max(1, int(wait + 0.999)))
        hits.append(now)
        return RateDecision(True, limit - len(hits))

    def clear(self) -> None:
        """Forget every recorded call."""
        self._hits.clear()


# --------------------------------------------------------------------------------------------
# Webhooks
# --------------------------------------------------------------------------------------------


@dataclass
class Delivery:
    """One outgoing webhook POST and what became of it (the log entry in ``/_sandbox/state``)."""

    id: str
    url: str
    body: Any
    headers: dict[str, str]
    kind: str
    queued_at: str
    status: int | None = None
    error: str | None = None
    sent_at: str | None = None
    response_body: str | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


class WebhookSender:
    """Delivers webhooks in order from one daemon thread with real HTTP (``requests``).

    Ordering matters: a receiver must see a record's CREATE before its UPDATE. The raw body is
    serialized once at enqueue time so a signature computed over it stays valid.
    """

    def __init__(self, timeout_seconds: Callable[[], float]) -> None:
        self._timeout_seconds = timeout_seconds
        self._queue: queue.Queue[tuple[Delivery, bytes] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.log: list[Delivery] = []

    def enqueue(self, delivery: Delivery, raw_body: bytes) -> None:
        """Log ``delivery`` and schedule the POST of ``raw_body``; returns at once."""
        self.log.append(delivery)
        self._ensure_worker()
        self._queue.put((delivery, raw_body))

    def send_now(self, delivery: Delivery, raw_body: bytes) -> Delivery:
        """POST synchronously (used by checks that must report the answer) and log it."""
        self.log.append(delivery)
        self._post(delivery, raw_body)
        return delivery

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until every queued delivery was attempted; False on timeout."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._queue.unfinished_tasks

    def close(self) -> None:
        """Stop the worker after pending deliveries (bounded by the webhook timeout)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(self._timeout_seconds() + 1)
            self._thread = None

    def _ensure_worker(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="sandbox-webhooks", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._post(*item)
            finally:
                self._queue.task_done()

    def _post(self, delivery: Delivery, raw_body: bytes) -> None:
        delivery.sent_at = utc_iso(datetime.now(UTC))
        try:
            # ``with`` closes the connection: pytest turns unclosed-socket warnings into errors.
            with requests.post(
                delivery.url,
                data=raw_body,
                headers=delivery.headers,
                timeout=self._timeout_seconds(),
            ) as response:
                delivery.status = response.status_code
                delivery.response_body = response.text[:2000]
                delivery.response_headers = dict(response.headers)
        except requests.RequestException as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"


def new_delivery(url: str, body: Any, headers: Mapping[str, str], kind: str) -> Delivery:
    """A fresh, not yet attempted ``Delivery``."""
    return Delivery(
        id=str(uuid.uuid4()),
        url=url,
        body=body,
        headers=dict(headers),
        kind=kind,
        queued_at=utc_iso(datetime.now(UTC)),
    )


def utc_iso(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a ``Z``; the format of every sandbox log timestamp."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------


class BaseSandboxState(ABC):
    """Everything a sandbox keeps in memory, guarded by ``lock`` (the server is threaded).

    Subclasses own the records and implement ``clear_records``, ``seed`` and
    ``records_snapshot``. Contract: every public method of a subclass that touches records is
    called with ``lock`` held (handlers do ``with state.lock:``); the lock is re-entrant.
    """

    def __init__(
        self,
        defaults: Mapping[str, Any],
        config: Mapping[str, Any] | None,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self.lock = threading.RLock()
        self.initial_config: dict[str, Any] = {**COMMON_CONFIG_DEFAULTS, **defaults}
        self.initial_config.update(config or {})
        self.config: dict[str, Any] = dict(self.initial_config)
        self.clock = SandboxClock(lambda: float(self.config["clock_offset_seconds"]))
        self.faults = FaultInjector()
        self.limiter = SlidingWindowLimiter(monotonic)
        self.webhooks = WebhookSender(lambda: float(self.config["webhook_timeout_seconds"]))
        self.requests_log: list[dict[str, Any]] = []

    # --- to implement -----------------------------------------------------------------------

    @abstractmethod
    def clear_records(self) -> None:
        """Forget every record (and per-app extras such as tokens)."""

    @abstractmethod
    def seed(self, fixture: Mapping[str, Any]) -> dict[str, int]:
        """Add the fixture's records; return how many of each kind were loaded."""

    @abstractmethod
    def records_snapshot(self) -> dict[str, Any]:
        """JSON-ready copy of every record, as the API would render it."""

    # --- shared -----------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the state right after ``create_app``: config, records, logs, faults."""
        with self.lock:
            self.config = dict(self.initial_config)
            self.faults.clear()
            self.limiter.clear()
            self.requests_log.clear()
            self.webhooks.log.clear()
            self.clear_records()
            self.seed_initial_fixture()

    def seed_initial_fixture(self) -> None:
        """Seed from ``config["fixture"]`` (a dict, or a fixture name/path) when given."""
        fixture = self.config.get("fixture")
        if fixture:
            self.seed(self.load_fixture(fixture))

    def load_fixture(self, fixture: Any) -> Mapping[str, Any]:
        """Resolve a fixture given as a dict or a name/path; subclasses know their fixture dir."""
        if isinstance(fixture, Mapping):
            return fixture
        with open(fixture, encoding="utf-8") as handle:
            return json.load(handle)

    def configure(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Apply config ``changes`` (known keys only) and return the whole config.

        Raises:
            SandboxError: on an unknown key, so typos in tests fail loudly.
        """
        unknown = sorted(set(changes) - set(self.initial_config))
        if unknown:
            raise SandboxError(f"unknown config keys: {', '.join(unknown)}")
        with self.lock:
            self.config.update(changes)
            return dict(self.config)

    def snapshot(self) -> dict[str, Any]:
        """Everything a test may want to inspect, as plain JSON."""
        with self.lock:
            return {
                "records": self.records_snapshot(),
                "requests": copy.deepcopy(self.requests_log),
                "webhooks": [asdict(d) for d in self.webhooks.log],
                "faults": [asdict(f) for f in self.faults.faults],
                "config": copy.deepcopy(self.config),
            }

    def now(self) -> datetime:
        """The sandbox's current UTC time (real time plus the configured offset)."""
        return self.clock.now()

    def close(self) -> None:
        """Release background resources (the webhook worker)."""
        self.webhooks.close()


# --------------------------------------------------------------------------------------------
# Flask wiring
# --------------------------------------------------------------------------------------------

FaultResponder = Callable[[Fault], flask.Response]


def register_control_routes(
    app: flask.Flask, state: BaseSandboxState, fault_response: FaultResponder
) -> None:
    """Install ``/_sandbox/*`` endpoints, the request log and fault injection on ``app``.

    Control endpoints bypass auth, faults, rate limits and the request log. Every other request
    is logged (method, path, query, headers, body, status) and may be hit by an injected fault
    before the app sees it; ``fault_response`` renders the fault in the emulated API's style.
    """
    app.extensions["sandbox_state"] = state
    control = flask.Blueprint("sandbox_control", __name__, url_prefix=CONTROL_PREFIX)

    @control.get("/state")
    def get_state() -> flask.Response:
        return flask.jsonify(state.snapshot())

    @control.post("/reset")
    def reset() -> flask.Response:
        state.reset()
        return flask.jsonify({"status": "reset"})

    @control.post("/seed")
    def seed() -> flask.Response:
        with state.lock:
            loaded = state.seed(flask.request.get_json(force=True))
        return flask.jsonify({"loaded": loaded})

    @control.post("/faults")
    def add_fault() -> tuple[flask.Response, int]:
        fault = parse_fault(flask.request.get_json(force=True))
        with state.lock:
            state.faults.add(fault)
        return flask.jsonify(asdict(fault)), 201

    @control.delete("/faults")
    def clear_faults() -> flask.Response:
        with state.lock:
            state.faults.clear()
        return flask.jsonify({"faults": []})

    @control.route("/config", methods=["GET", "POST"])
    def config() -> flask.Response:
        if flask.request.method == "GET":
            return flask.jsonify(dict(state.config))
        return flask.jsonify(state.configure(flask.request.get_json(force=True)))

    @control.post("/webhooks/flush")
    def flush_webhooks() -> flask.Response:
        idle = state.webhooks.wait_idle(float(flask.request.args.get("timeout", 5)))
        with state.lock:
            log = [asdict(d) for d in state.webhooks.log]
        return flask.jsonify({"idle": idle, "webhooks": log})

    @control.errorhandler(SandboxError)
    def sandbox_error(exc: SandboxError) -> tuple[flask.Response, int]:
        return flask.jsonify({"error": str(exc)}), 400

    app.register_blueprint(control)
    app.before_request(_make_fault_hook(state, fault_response))
    app.after_request(_make_log_hook(state))


def is_control_request() -> bool:
    """Whether the current request targets ``/_sandbox/*``."""
    return flask.request.path.startswith(CONTROL_PREFIX + "/")


def _make_fault_hook(
    state: BaseSandboxState, fault_response: FaultResponder
) -> Callable[[], flask.Response | None]:
    def apply_fault() -> flask.Response | None:
        if is_control_request():
            return None
        with state.lock:
            fault = state.faults.take(flask.request.method, flask.request.path)
        if fault is None:
            return None
        if fault.delay_seconds:
            time.sleep(fault.delay_seconds)  # outside the lock: other requests keep flowing
        return fault_response(fault) if fault.status is not None else None

    return apply_fault


def _make_log_hook(state: BaseSandboxState) -> Callable[[flask.Response], flask.Response]:
    def log_request(response: flask.Response) -> flask.Response:
        if is_control_request():
            return response
        request = flask.request
        body = request.get_data(as_text=True)
        entry = {
            "at": utc_iso(datetime.now(UTC)),
            "method": request.method,
            "path": request.path,
            "query": request.args.to_dict(flat=False),
            "headers": dict(request.headers),
            "json": request.get_json(silent=True),
            "body": body if len(body) <= 20000 else body[:20000],
            "status": response.status_code,
        }
        with state.lock:
            state.requests_log.append(entry)
        return response

    return log_request


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> flask.Response:
    """A JSON ``Response`` with ``status`` and extra ``headers``."""
    response = flask.Response(json.dumps(body), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class _QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler without the per-request access log line (noise in test output)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def run_sandbox_in_thread(
    app: WSGIApplication, host: str = "127.0.0.1", port: int = 0
) -> tuple[str, Callable[[], None]]:
    """Serve ``app`` from a daemon thread; return its base URL and an idempotent stop function.

    ``port=0`` picks a free port. ``stop()`` shuts the server down, closes its socket and, for
    a sandbox app, stops its webhook worker. Any WSGI app works (tests serve webhook receivers).
    """
    server = make_server(host, port, app, threaded=True, request_handler=_QuietRequestHandler)
    # A short poll interval keeps ``stop()`` fast (the default 0.5 s is paid on every shutdown).
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="sandbox-server",
        daemon=True,
    )
    thread.start()
    stopped = threading.Event()

    def stop() -> None:
        if stopped.is_set():
            return
        stopped.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
        state = getattr(app, "extensions", {}).get("sandbox_state")
        if isinstance(state, BaseSandboxState):
            state.close()

    return f"http://{host}:{server.port}", stop
