"""Running a module's communication: requests in order, the answer through Make's directives.

For each request specification, in order: ``temp`` is merged into the ``temp`` scope, a false
``condition`` skips the request (its ``default`` is the output then), the URL is joined to the
base URL when it starts with ``/``, headers, query and body are the base's overlaid with the
request's, and the answer is decoded and handled::

    valid      falsy → the error directive's message and type (a 2xx that is an error)
    temp       merged into temp for the next request
    iterate    the container of items (its condition filters them); without it, one output
    output     each item's output (default: the item, or the body)
    limit      at most this many outputs, across pages
    pagination the next page's request, merged over this one, while its condition holds
    wrapper    the final output, with ``output`` the outputs made

The last request that ran gives the module's outputs. A request without a URL only evaluates
its response (Make's request-less mode). Switchboard's own ``each`` directive runs a request
once per element of an array (``{{each}}``), outputs joined: a list answer's items fetched one
by one (Gmail's messages). Error answers (4xx/5xx) become module errors in
``modules.apps.http``, with the message and type of the ``error`` directive for that status.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.errors import DataError, InvalidConfigurationError
from engine.mapping import CompiledValue
from engine.mapping.values import to_bool
from modules.apps.compile import BaseSpec, ErrorSpec, PaginationSpec, RequestSpec, ResponseSpec
from modules.apps.http import Answer, AppHttp, Outgoing, error_type_named
from modules.apps.iml import evaluate
from modules.connections import ApiResponse

MAX_PAGES = 100
"""Most pages one request follows (a pagination whose condition never turns false stops here)."""


@dataclass
class Produced:
    """One output of a request, with the item it was made of (a trigger reads its id/date)."""

    output: Any
    item: Any = None
    scopes: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Exchange:
    """What one communication runs with: the app's base, its HTTP, the scopes, the clock."""

    base: BaseSpec
    http: AppHttp
    scopes: dict[str, Any]
    now: Callable[[], datetime]
    stop: Callable[[Produced], bool] | None = None
    """Optional: stop paging once an output makes this true (a trigger meeting seen items)."""
    ignore_limit: bool = False
    """A polling trigger reads every item and applies its limit to the new ones itself."""

    def value(self, compiled: CompiledValue | None, scopes: Mapping[str, Any]) -> Any:
        if compiled is None:
            return None
        return without_undefined(compiled.source, evaluate(compiled, scopes, self.now))


def run_communication(requests: Sequence[RequestSpec], exchange: Exchange) -> list[Produced]:
    """The outputs of the last request that ran (see the module docstring)."""
    temp: dict[str, Any] = dict(exchange.scopes.get("temp") or {})
    produced: list[Produced] = []
    for request in requests:
        scopes = {**exchange.scopes, "temp": temp}
        if request.temp is not None:
            temp.update(_collection(exchange.value(request.temp, scopes), request.where, "temp"))
        if request.condition is not None and not to_bool(exchange.value(request.condition, scopes)):
            if request.condition_default is not None:
                produced = [Produced(exchange.value(request.condition_default, scopes))]
            continue
        if request.each is None:
            produced = _run_request(request, exchange, temp, {})
            continue
        produced = []
        for element in _container(exchange.value(request.each, scopes)):
            produced.extend(_run_request(request, exchange, temp, {"each": element}))
    return produced


def _run_request(
    request: RequestSpec, exchange: Exchange, temp: dict[str, Any], extra: Mapping[str, Any]
) -> list[Produced]:
    response = _merged_response(request.response, exchange.base.response)
    scopes = {**exchange.scopes, **extra, "temp": temp}
    if request.url is None:
        return _handle(response, None, scopes, exchange, temp, limit=None).produced
    limit = None if exchange.ignore_limit else limit_of(exchange.value(response.limit, scopes))
    outgoing = _outgoing(request, exchange, scopes)
    produced: list[Produced] = []
    for _page in range(MAX_PAGES):
        answer = exchange.http.send(
            outgoing, response.type, _error_reader(response, scopes, exchange)
        )
        remaining = None if limit is None else limit - len(produced)
        page = _handle(response, answer, scopes, exchange, temp, limit=remaining)
        produced.extend(page.produced)
        if not _next_page_wanted(request.pagination, page, produced, limit, exchange):
            break
        outgoing = _next_page(request.pagination, outgoing, exchange, page.scopes)
    return _wrapped(response, produced, exchange)


@dataclass
class _Page:
    produced: list[Produced]
    scopes: dict[str, Any]
    items: int


def _handle(
    response: ResponseSpec,
    answer: Answer | None,
    scopes: Mapping[str, Any],
    exchange: Exchange,
    temp: dict[str, Any],
    limit: int | None,
) -> _Page:
    here = dict(scopes)
    if answer is not None:
        here.update(body=answer.body, headers=answer.headers, statusCode=answer.status)
    _check_valid(response, here, exchange)
    if response.temp is not None:
        temp.update(_collection(exchange.value(response.temp, here), "response", "temp"))
        here["temp"] = temp
    if response.iterate is None:
        default = here.get("body")
        output = exchange.value(response.output, here) if response.output else default
        return _Page([Produced(output, default, here)], here, 1)
    items = _container(exchange.value(response.iterate, here))
    here["iterate"] = {
        "container": {"first": items[0] if items else None, "last": items[-1] if items else None}
    }
    produced: list[Produced] = []
    for item in items:
        if limit is not None and len(produced) >= limit:
            break
        with_item = {**here, "item": item}
        if response.iterate_condition is not None and not to_bool(
            exchange.value(response.iterate_condition, with_item)
        ):
            continue
        output = exchange.value(response.output, with_item) if response.output else item
        produced.append(Produced(output, item, with_item))
    return _Page(produced, here, len(items))


def _wrapped(
    response: ResponseSpec, produced: list[Produced], exchange: Exchange
) -> list[Produced]:
    if response.wrapper is None or not produced:
        return produced
    last = produced[-1].scopes
    outputs: Any = (
        [p.output for p in produced] if response.iterate is not None else produced[0].output
    )
    return [Produced(exchange.value(response.wrapper, {**last, "output": outputs}), None, last)]


def _check_valid(response: ResponseSpec, scopes: Mapping[str, Any], exchange: Exchange) -> None:
    if response.valid is None or to_bool(exchange.value(response.valid, scopes)):
        return
    spec = response.valid_error or response.error or ErrorSpec()
    spec = spec.for_status(int(scopes.get("statusCode") or 200))
    message = exchange.value(spec.message, scopes) or "the app's answer was not valid"
    raise error_type_named(exchange.value(spec.type, scopes))(
        str(message), detail=scopes.get("body")
    )


def _error_reader(
    response: ResponseSpec, scopes: Mapping[str, Any], exchange: Exchange
) -> Callable[[ApiResponse, Any], tuple[str | None, str | None]]:
    def read(api_response: ApiResponse, body: Any) -> tuple[str | None, str | None]:
        if response.error is None:
            return None, None
        spec = response.error.for_status(api_response.status)
        headers = {k.lower(): v for k, v in api_response.headers.items()}
        here = {**scopes, "body": body, "headers": headers, "statusCode": api_response.status}
        message = exchange.value(spec.message, here)
        kind = exchange.value(spec.type, here)
        return (str(message) if message not in (None, "") else None), (str(kind) if kind else None)

    return read


def _merged_response(response: ResponseSpec, base: ResponseSpec) -> ResponseSpec:
    """A request's response directives, the base's ``error``, ``valid`` and ``type`` where the
    request declares none."""
    return ResponseSpec(
        **{
            **response.__dict__,
            "error": response.error or base.error,
            "valid": response.valid if response.valid is not None else base.valid,
            "valid_error": response.valid_error or base.valid_error,
            "type": response.type if response.type != "automatic" else base.type,
        }
    )


# -- building requests -----------------------------------------------------------------------


def _outgoing(request: RequestSpec, exchange: Exchange, scopes: Mapping[str, Any]) -> Outgoing:
    base = exchange.base
    url = _text(exchange.value(request.url, scopes))
    if url.startswith("/"):
        url = _text(exchange.value(base.base_url, scopes)).rstrip("/") + url
    if not url.startswith(("http://", "https://")):
        raise InvalidConfigurationError(f"{request.where}: the URL '{url}' is not http(s)")
    body = exchange.value(request.body, scopes)
    base_body = exchange.value(base.body, scopes)
    if isinstance(base_body, Mapping) and isinstance(body, Mapping):
        body = {**base_body, **body}
    elif body is None:
        body = base_body
    return Outgoing(
        method=_text(exchange.value(request.method, scopes) or "GET").upper(),
        url=url,
        qs=_flat(exchange.value(base.qs, scopes), exchange.value(request.qs, scopes)),
        headers={
            k: _header(v)
            for k, v in _flat(
                exchange.value(base.headers, scopes), exchange.value(request.headers, scopes)
            ).items()
        },
        body=body,
        type=_text(exchange.value(request.type, scopes) or "json"),
        timeout=request.timeout,
    )


def _next_page_wanted(
    pagination: PaginationSpec | None,
    page: _Page,
    produced: list[Produced],
    limit: int | None,
    exchange: Exchange,
) -> bool:
    if pagination is None or page.items == 0:
        return False
    if limit is not None and len(produced) >= limit:
        return False
    if exchange.stop is not None and any(exchange.stop(p) for p in page.produced):
        return False
    if pagination.condition is None:
        return True
    return to_bool(exchange.value(pagination.condition, page.scopes))


def _next_page(
    pagination: PaginationSpec | None,
    previous: Outgoing,
    exchange: Exchange,
    scopes: Mapping[str, Any],
) -> Outgoing:
    assert pagination is not None
    merge = pagination.merge_with_parent
    qs = exchange.value(pagination.qs, scopes) or {}
    headers = exchange.value(pagination.headers, scopes) or {}
    body = exchange.value(pagination.body, scopes)
    url = _text(exchange.value(pagination.url, scopes)) if pagination.url else previous.url
    if url.startswith("/"):
        url = _text(exchange.value(exchange.base.base_url, scopes)).rstrip("/") + url
    method = exchange.value(pagination.method, scopes)
    return Outgoing(
        method=_text(method).upper() if method else previous.method,
        url=url,
        qs=_flat(previous.qs if merge and not pagination.url else {}, qs),
        headers={
            **(previous.headers if merge else {}),
            **{k: _header(v) for k, v in headers.items()},
        },
        body=body if body is not None else (previous.body if merge else None),
        type=previous.type,
        timeout=previous.timeout,
    )


# -- values -----------------------------------------------------------------------------------


def without_undefined(source: Any, value: Any) -> Any:
    """``value`` without the keys whose template read nothing: IML's ``undefined``, which a
    JSON body, a query or a header leaves out (a literal ``null`` in the definition stays)."""
    if isinstance(value, dict) and isinstance(source, Mapping):
        result = {}
        for key, item in value.items():
            origin = source.get(key)
            if item is None and isinstance(origin, str) and "{{" in origin:
                continue
            result[key] = without_undefined(origin, item) if origin is not None else item
        return result
    if isinstance(value, list) and isinstance(source, list) and len(source) == len(value):
        return [without_undefined(s, v) for s, v in zip(source, value, strict=True)]
    return value


def _flat(*layers: Any) -> dict[str, Any]:
    """Layers of names and values merged; a later layer's ``null`` (written in the definition:
    an undefined template value is gone already) removes the name (a base header a request
    must not send)."""
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer in (None, ""):
            continue
        if not isinstance(layer, Mapping):
            raise DataError(
                f"expected a collection of names and values, got {type(layer).__name__}"
            )
        for key, value in layer.items():
            if value is None:
                merged.pop(str(key), None)
            else:
                merged[str(key)] = value
    return {k: _query_value(v) for k, v in merged.items()}


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [_query_value(item) for item in value]
    return value


def _header(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _text(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def limit_of(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return max(0, int(float(value)))
    except (TypeError, ValueError):
        raise DataError(f"limit must be a number, not '{value}'") from None


def _container(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        return [value]
    raise DataError(f"iterate needs an array, got {type(value).__name__}")


def _collection(value: Any, where: str, directive: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise DataError(f"{where}: {directive} must be a collection")
    return value
