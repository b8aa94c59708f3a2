"""What every app client shares: one request path, a declared status→error table, retries for
idempotent calls, and a per-connection rate limit shared across workers.

An app client (``modules/<app>/client.py``) declares an ``ApiSettings`` (base URL, timeout,
rate limit, how to read its error envelope) and calls ``ApiClient.request``. Failures become
``engine.errors`` module errors through ``STATUS_ERRORS`` — declared, not branched on — the way
singer-io/tap-xero maps statuses to exceptions::

    401, 403              AccountValidationError   credentials refused or scope missing
    400, 404, 409, 422    DataError                the app's message, verbatim
    429                   RateLimitError           ``retry_after`` from ``Retry-After``
    5xx, unreachable      ConnectionError          retryable
    no answer in time     ModuleTimeoutError       retryable

Retries: only idempotent methods (GET, HEAD) are retried — a POST that timed out may have been
applied — up to ``max_retries`` times, waiting ``Retry-After`` (429/503) or an exponential
backoff. A caller may ask for a write refused with 429 to be sent again the same way
(``resend_refused``): the app refused it before doing anything, so it cannot be applied twice;
the steps of a multi-call write ask it, as giving up half-way costs an undo of several calls
under the very limit that refused the step; 1CRM's Update a Record asks it too (a write-back
left to the run's retry lets the other direction see the record without it). Waits go through
the run's ``sleep`` so a test run never really sleeps.

Rate limiting: before each request the client takes a slot from a limiter keyed per connection
(Xero: per tenant). ``shared_rate_limiter()`` is a Redis fixed-window counter when
``SWITCHBOARD_REDIS_URL`` is set — shared by every worker — and an in-process sliding window
otherwise. A held-back call is sent half a second after its slot frees in that count
(``RATE_SLACK_SECONDS``: the app counts from when calls arrive). A caller that cannot get
a slot after a few waits gets ``RateLimitError``.

Concurrency: an app that limits calls in flight per account (QuickBooks 10 per company, Zoho
by edition) sets ``max_concurrent``; each request then holds one of those slots of its
``concurrency_key`` (``modules.concurrency``, shared like the rate limit) while it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import requests
from pydantic import BaseModel

from engine.errors import (
    AccountValidationError,
    ConnectionError,
    DataError,
    InvalidConfigurationError,
    ModuleError,
    ModuleTimeoutError,
    RateLimitError,
)
from engine.queue import process_limits
from engine.ratelimit import RateLimiter
from engine.spec import ConnectionField, Effect, ModuleCall, ModuleKind, ModuleSpec, RecordNaming
from modules.concurrency import ConcurrencyLimiter, shared_concurrency_limiter

STATUS_ERRORS: Mapping[int, type[ModuleError]] = {
    400: DataError,
    401: AccountValidationError,
    403: AccountValidationError,
    404: DataError,
    409: DataError,
    422: DataError,
    429: RateLimitError,
}
"""Error type by HTTP status; other 4xx are ``DataError``, every 5xx ``ConnectionError``."""

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RATE_SLACK_SECONDS = 0.5
"""How long after a slot frees in our count a held-back call is sent: the app frees it only
when the window has passed since our oldest call *arrived*, a little after we counted it, so
a call sent at our count's edge is refused with 429 about half the time (seen at 1CRM's 120
calls a minute in the books test)."""
CONCURRENCY_WAIT_SECONDS = 0.1
CONCURRENCY_TRIES = 100
"""A call waits up to 10 s for a free concurrency slot, then gets ``RateLimitError``."""


def error_type_for(status: int) -> type[ModuleError]:
    """The module error an HTTP error status becomes."""
    if status in STATUS_ERRORS:
        return STATUS_ERRORS[status]
    return ConnectionError if status >= 500 else DataError


@dataclass(frozen=True)
class ApiResponse:
    """A finished HTTP answer, read and closed: status, headers, JSON body (or None), its text
    and its bytes (``content``: a file an app answers with)."""

    status: int
    headers: Mapping[str, str]
    body: Any
    text: str = ""
    content: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status < 400


@dataclass(frozen=True, kw_only=True)
class ApiSettings:
    """How to talk to one app for one connection.

    Attributes:
        label: the app's name in messages ("Xero").
        base_url: every request path is relative to it (a sandbox URL in tests).
        error_message: reads the app's error envelope into one clear sentence.
        headers: sent with every request (auth, tenant, ``Accept``).
        auth: HTTP Basic credentials, when the app uses them.
        timeout: seconds to wait for an answer.
        max_retries: extra attempts for idempotent calls.
        backoff_seconds: first backoff (doubles each retry) when the app gives no Retry-After.
        rate_key: the limiter key (connection or tenant); None disables limiting.
        rate_limit: calls allowed per ``rate_window`` seconds for ``rate_key``.
        concurrency_key: the account whose calls in flight are limited (None: no limit).
        max_concurrent: calls allowed in flight at once for ``concurrency_key``.
        error_type: the module error an error answer becomes, when the app declares one
            (an app defined as data names Make's error types); None: ``STATUS_ERRORS``.
    """

    label: str
    base_url: str
    error_message: Callable[[ApiResponse], str]
    headers: Mapping[str, str] = field(default_factory=dict)
    auth: tuple[str, str] | None = field(default=None, repr=False)
    timeout: float = 40.0
    max_retries: int = 3
    backoff_seconds: float = 1.0
    max_wait_seconds: float = 60.0
    rate_key: str | None = None
    rate_limit: int = 60
    rate_window: float = 60.0
    concurrency_key: str | None = None
    max_concurrent: int = 0
    error_type: Callable[[ApiResponse], type[ModuleError] | None] | None = None


class ApiClient:
    """Sends requests for one module call; see the module docstring for errors and retries.

    Args:
        settings: the app and connection specifics.
        session: the run's ``requests.Session`` (``RunContext.http``).
        sleep: the run's ``sleep`` (waits for retries and rate limits).
        limiter: the rate limiter (``shared_rate_limiter()`` by default).
        concurrency: the concurrency limiter (``shared_concurrency_limiter()`` by default).
    """

    def __init__(
        self,
        settings: ApiSettings,
        session: Any,
        sleep: Callable[[float], None],
        limiter: RateLimiter | None = None,
        concurrency: ConcurrencyLimiter | None = None,
    ) -> None:
        if session is None:
            raise ConnectionError("this run has no HTTP session")
        self.settings = settings
        self._session = session
        self._sleep = sleep
        self._limiter = limiter if limiter is not None else shared_rate_limiter()
        self._concurrency = concurrency if concurrency is not None else shared_concurrency_limiter()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        files: Any = None,
        timeout: float | None = None,
        resend_refused: bool = False,
    ) -> ApiResponse:
        """Send one request (retrying idempotent ones) and return its successful answer.

        ``path`` is relative to the base URL, or a whole ``http(s)://`` URL; ``data`` and
        ``files`` send a form, text or bytes instead of ``json`` (as ``requests`` does);
        ``timeout`` replaces the settings' for this request; ``resend_refused`` retries a
        write the app refused with 429 (it did nothing) as a read is retried.

        Raises:
            ModuleError: the mapped error of the last attempt (see ``STATUS_ERRORS``).
        """
        method = method.upper()
        idempotent = method in IDEMPOTENT_METHODS
        attempts = 1 + (self.settings.max_retries if idempotent or resend_refused else 0)
        body = _Body(json, data, files, timeout)
        for attempt in range(attempts):
            self._take_rate_slot()  # its own waits; a refusal here is not retried again
            try:
                with self._concurrency_slot():
                    return self._attempt(method, path, params, body, headers)
            except ModuleError as error:
                again = idempotent or (resend_refused and isinstance(error, RateLimitError))
                if not (again and error.retryable) or attempt == attempts - 1:
                    raise
                self._sleep(self._retry_wait(error, attempt))
        raise AssertionError("unreachable")  # the loop returns or raises

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).body

    def _attempt(
        self,
        method: str,
        path: str,
        params: Any,
        body: _Body,
        headers: Mapping[str, str] | None,
    ) -> ApiResponse:
        response = self._send(method, path, params, body, headers)
        if not response.ok:
            raise self._status_error(response)
        return response

    def _send(
        self,
        method: str,
        path: str,
        params: Any,
        body: _Body,
        headers: Mapping[str, str] | None,
    ) -> ApiResponse:
        url = path if _is_absolute(path) else f"{self.settings.base_url.rstrip('/')}/"
        url = url if _is_absolute(path) else url + path.lstrip("/")
        label = self.settings.label
        timeout = body.timeout or self.settings.timeout
        try:
            with self._session.request(
                method,
                url,
                params=params,
                json=body.json,
                data=body.data,
                files=body.files,
                headers={**self.settings.headers, **(headers or {})},
                auth=self.settings.auth,
                timeout=timeout,
            ) as response:
                return _read(response)
        except requests.Timeout:
            raise ModuleTimeoutError(f"{label} did not answer within {timeout:g} s") from None
        except requests.RequestException as error:
            raise ConnectionError(f"{label} could not be reached: {type(error).__name__}") from None

    def _status_error(self, response: ApiResponse) -> ModuleError:
        declared = self.settings.error_type(response) if self.settings.error_type else None
        error_type = declared or error_type_for(response.status)
        message = f"{self.settings.label}: {self.settings.error_message(response)}"
        detail = {"status": response.status, "body": response.body}
        if error_type is RateLimitError or response.status == 503:
            retry_after = _retry_after(response.headers)
            if error_type is RateLimitError:
                return RateLimitError(message, detail=detail, retry_after=retry_after)
            error = ConnectionError(message, detail=detail)
            error.retry_after = retry_after
            return error
        return error_type(message, detail=detail)

    def _retry_wait(self, error: ModuleError, attempt: int) -> float:
        given = getattr(error, "retry_after", None)
        wait = given if given is not None else self.settings.backoff_seconds * 2**attempt
        return min(float(wait), self.settings.max_wait_seconds)

    def _take_rate_slot(self) -> None:
        key = self.settings.rate_key
        if key is None:
            return
        for _ in range(3):
            wait = self._limiter.acquire(key, self.settings.rate_limit, self.settings.rate_window)
            if wait <= 0:
                return
            self._sleep(min(wait + RATE_SLACK_SECONDS, self.settings.max_wait_seconds))
        raise RateLimitError(
            f"{self.settings.label}: more than {self.settings.rate_limit} calls in "
            f"{self.settings.rate_window:g} s for this connection",
            retry_after=wait,
        )

    @contextmanager
    def _concurrency_slot(self) -> Iterator[None]:
        """Hold one of the account's concurrency slots while a request runs.

        Raises:
            RateLimitError: every slot stayed taken for ``CONCURRENCY_TRIES`` waits.
        """
        key, limit = self.settings.concurrency_key, self.settings.max_concurrent
        if key is None or limit <= 0:
            yield
            return
        lease = self.settings.timeout + 5.0  # a dead worker's slot frees itself
        for _ in range(CONCURRENCY_TRIES):
            token = self._concurrency.enter(key, limit, lease)
            if token is not None:
                break
            self._sleep(CONCURRENCY_WAIT_SECONDS)
        else:
            raise RateLimitError(
                f"{self.settings.label}: {limit} calls are already running for this account",
                retry_after=1.0,
            )
        try:
            yield
        finally:
            self._concurrency.leave(key, token)


@dataclass(frozen=True)
class _Body:
    """What a request sends: JSON, or a form / text / bytes (``data``) and ``files``."""

    json: Any = None
    data: Any = None
    files: Any = None
    timeout: float | None = None


def _is_absolute(path: str) -> bool:
    return path.startswith(("http://", "https://"))


def _read(response: Any) -> ApiResponse:
    content = response.content or b""
    text = response.text if _looks_textual(response, content) else ""
    try:
        body = response.json() if text.strip() else None
    except ValueError:
        body = None
    return ApiResponse(response.status_code, dict(response.headers), body, text, content)


def _looks_textual(response: Any, content: bytes) -> bool:
    """Whether an answer is text worth decoding (a PDF or an image is not)."""
    content_type = str(response.headers.get("content-type", "")).lower()
    if any(kind in content_type for kind in ("json", "text", "xml", "urlencoded", "javascript")):
        return True
    if content_type:
        return False
    return b"\x00" not in content[:1024]


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = {k.lower(): v for k, v in headers.items()}.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to the backoff


# -- rate limiting ----------------------------------------------------------------------------


@cache
def shared_rate_limiter() -> RateLimiter:
    """The installation's limiter, the backplane's (``engine.queue.process_limits``):
    Redis-backed when ``SWITCHBOARD_REDIS_URL`` is set, in-process otherwise."""
    return process_limits().rate


# -- helpers for module run functions ---------------------------------------------------------


def connection_of(call: ModuleCall) -> Mapping[str, Any]:
    """The connection named by the module's ``__IMTCONN__`` parameter.

    Raises:
        InvalidConfigurationError: the module has no connection chosen.
    """
    connection_id = getattr(call.parameters, "connection", None)
    if connection_id in (None, ""):
        raise InvalidConfigurationError("choose a connection for this module")
    return call.context.connection(connection_id)


def run_sleep(call: ModuleCall) -> Callable[[float], None]:
    """The run's sleep (a no-op in tests unless they give one)."""
    return call.context.run.sleep


def pages(fetch: Callable[[int], list[Any]], page_size: int) -> Iterator[Any]:
    """Every item of a paged list: pages 1, 2, … until one comes back short."""
    page = 1
    while True:
        items = fetch(page)
        yield from items
        if len(items) < page_size:
            return
        page += 1


def limited(items: Iterator[Any], limit: int | None) -> Iterator[Any]:
    """At most ``limit`` items (all when ``limit`` is falsy); stops fetching once reached."""
    for count, item in enumerate(items, start=1):
        yield item
        if limit and count >= limit:
            return


def with_position(items: Sequence[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """Search results as Make outputs them: each with ``__IMTINDEX__``/``__IMTLENGTH__``."""
    for position, item in enumerate(items, start=1):
        yield {**item, "__IMTINDEX__": position, "__IMTLENGTH__": len(items)}


def search_results(
    records: Sequence[Mapping[str, Any]], error_when_none: bool, nothing: Callable[[], str]
) -> Iterator[dict[str, Any]]:
    """A search's records as Make outputs them (``with_position``); with the search's
    ``errorWhenNoRes``, finding nothing is a ``DataError`` saying what was looked for
    (``nothing()``): a record whose prerequisite is not there yet goes to the error route,
    where Break retries it later, instead of ending quietly."""
    if not records and error_when_none:
        raise DataError(nothing())
    return with_position(records)


def starts_with_all(call: Any, start: str) -> bool:
    """Whether a watch trigger's first run takes every record: the user's "choose where to
    start" says ``all``, or (without a choice or cursor) its ``start`` parameter does."""
    cursor = cursor_or_start(call)
    if isinstance(cursor, Mapping) and cursor.get("type"):
        return cursor["type"] == "all"
    return cursor in (None, "") and start == "all"


def cursor_or_start(call: Any) -> Any:
    """A polling trigger's position: its committed cursor, or else the user's "choose where to
    start" (``{"type": "now" | "since" | "all" | "manual", …}``) for its very first run."""
    context = call.context
    return context.cursor if context.cursor is not None else context.start


# -- declaring an app's modules and connection ------------------------------------------------


def module_factory(
    app: str,
    *,
    parameters: type[BaseModel],
    input_model: type[BaseModel],
    output: type[BaseModel] | None = None,
    naming: RecordNaming | None = None,
) -> Callable[..., ModuleSpec]:
    """``spec(name, label, kind, run, effect=…, **overrides)`` for the modules of ``app``: its
    id prefix and the models and record naming most of its modules share, each overridable per
    module. Every module states its ``effect`` (``engine.spec.Effect``)."""
    defaults = {
        "parameters": parameters,
        "input_model": input_model,
        "output": output,
        "naming": naming,
    }

    def spec(
        name: str,
        label: str,
        kind: ModuleKind,
        run: Any,
        *,
        effect: Effect,
        hooks: Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> ModuleSpec:
        models = {**defaults, **overrides}
        return ModuleSpec(
            id=f"{app}:{name}",
            kind=kind,
            label=label,
            parameters=models["parameters"],
            input=models["input_model"],
            output=models["output"],
            run=run,
            hooks=dict(hooks or {}),
            effect=effect,
            naming=models["naming"],
            output_choice=models.get("output_choice"),
        )

    return spec


def oauth2_client_fields(registration: str) -> tuple[ConnectionField, ...]:
    """The client id and secret of an OAuth2 connection (``registration`` names where they come
    from); empty, the deployment's own client is used."""
    return (
        ConnectionField(
            name="client_id",
            label="Client ID",
            required=False,
            advanced=True,
            help=f"Your {registration} client id (the deployment's when empty).",
        ),
        ConnectionField(
            name="client_secret", label="Client secret", secret=True, required=False, advanced=True
        ),
    )


def oauth2_endpoint_fields(authorize_url: str, token_url: str) -> tuple[ConnectionField, ...]:
    """Where an OAuth2 connection signs in; a sandbox or a regional server replaces them."""
    return (
        ConnectionField(
            name="authorize_url", label="Authorize URL", default=authorize_url, advanced=True
        ),
        ConnectionField(name="token_url", label="Token URL", default=token_url, advanced=True),
    )
