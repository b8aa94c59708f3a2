"""Sending one request of an app defined as data, through the connectors' shared client.

Every request goes through ``modules.connections.ApiClient``: the run's SSRF-guarded session,
retries of idempotent calls, the per-connection rate limit shared by workers, and error answers
mapped to Make's error types (``STATUS_ERRORS``, or the type the definition's ``error``
directive names). This module only encodes the body as the definition's ``type`` says, decodes
the answer as its ``response.type`` says, and lends the client the definition's error message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from engine.errors import MODULE_ERROR_TYPES, AccountValidationError, DataError, ModuleError
from engine.mapping.values import CoercionError, to_json, to_text
from modules.builtin.xml_tools import parse_document
from modules.connections import ApiClient, ApiResponse, ApiSettings

DEFAULT_TIMEOUT_SECONDS = 40.0
RATE_LIMIT_CALLS = 600
"""Calls per minute per connection an app defined as data may make (an API's own limit answers
429, which is retried or handed to the error route like any rate limit)."""

_ERROR_TYPE_NAMES: dict[str, type[ModuleError]] = {
    **MODULE_ERROR_TYPES,
    "InvalidAccessTokenError": AccountValidationError,
    "UnexpectedError": MODULE_ERROR_TYPES["RuntimeError"],
    "OutOfSpaceError": MODULE_ERROR_TYPES["RuntimeError"],
}


def error_type_named(name: Any) -> type[ModuleError]:
    """The module error of one of Make's error type names (``RuntimeError`` for others)."""
    return _ERROR_TYPE_NAMES.get(str(name or ""), MODULE_ERROR_TYPES["RuntimeError"])


@dataclass(frozen=True)
class Outgoing:
    """One request, evaluated: what goes on the wire."""

    method: str
    url: str
    qs: Mapping[str, Any]
    headers: Mapping[str, str]
    body: Any
    type: str  # json | urlencoded | multipart/form-data | text | string | raw | binary
    timeout: float | None = None


@dataclass(frozen=True)
class Answer:
    """A successful answer, decoded: what the response directives read."""

    status: int
    headers: dict[str, str]  # names in lower case, as Make's (Node's) are
    body: Any


ErrorReader = Callable[[ApiResponse, Any], tuple[str | None, str | None]]
"""``reader(response, decoded body)`` → the definition's error message and Make type name."""


class AppHttp:
    """Sends the requests of one module call (or connection test, or RPC).

    Args:
        label: the app's name in messages.
        session: the run's ``requests`` session (SSRF-guarded in the service).
        sleep: the run's sleep, for retries and rate-limit waits.
        rate_key: the connection the calls are counted against (None: not limited).
    """

    def __init__(
        self,
        label: str,
        session: Any,
        sleep: Callable[[float], None],
        rate_key: str | None = None,
    ) -> None:
        self.label = label
        self.session = session
        self.sleep = sleep
        self.rate_key = rate_key

    def send(self, outgoing: Outgoing, response_type: Any, errors: ErrorReader) -> Answer:
        """Send ``outgoing``; decode its answer by ``response_type``.

        Raises:
            ModuleError: an error answer (message and type from ``errors`` when the
                definition says), an unreachable app, or an answer not of its declared type.
        """

        def message(response: ApiResponse) -> str:
            text, _ = errors(response, decode(response, response_type))
            return text or default_error_message(response)

        def declared_type(response: ApiResponse) -> type[ModuleError] | None:
            _, name = errors(response, decode(response, response_type))
            return error_type_named(name) if name else None

        settings = ApiSettings(
            label=self.label,
            base_url="",
            error_message=message,
            error_type=declared_type,
            timeout=DEFAULT_TIMEOUT_SECONDS,
            rate_key=self.rate_key,
            rate_limit=RATE_LIMIT_CALLS,
        )
        client = ApiClient(settings, self.session, self.sleep)
        data, files, content_type = encode_body(outgoing)
        headers = dict(outgoing.headers)
        if content_type and not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = content_type
        response = client.request(
            outgoing.method,
            outgoing.url,
            params=dict(outgoing.qs) or None,
            data=data,
            files=files,
            headers=headers,
            timeout=outgoing.timeout,
        )
        headers = {name.lower(): value for name, value in response.headers.items()}
        return Answer(response.status, headers, decode(response, response_type, strict=True))


def default_error_message(response: ApiResponse) -> str:
    """``[404] Not Found: …`` from the status and the start of the body."""
    text = response.text.strip()[:300] if response.text else ""
    return f"[{response.status}] {text}" if text else f"[{response.status}]"


# -- bodies -----------------------------------------------------------------------------------


def encode_body(outgoing: Outgoing) -> tuple[Any, Any, str | None]:
    """``(data, files, content type)`` for ``requests`` from the body and its ``type``; JSON
    is written as Make writes it (dates as ISO 8601, binary data as its text)."""
    body = outgoing.body
    if body is None or outgoing.method in ("GET", "HEAD"):
        return None, None, None
    kind = outgoing.type
    if kind == "json":
        return _json(body).encode("utf-8"), None, "application/json"
    if kind == "urlencoded":
        return _form_pairs(body), None, None
    if kind == "multipart/form-data":
        return None, _multipart(body), None
    if kind == "binary":
        return body if isinstance(body, bytes) else str(body).encode(), None, None
    text = body if isinstance(body, str | bytes) else _json(body)
    return (text.encode() if isinstance(text, str) else text), None, None


def _json(value: Any) -> str:
    try:
        return to_json(value)
    except CoercionError as error:
        raise DataError(f"the request body cannot be sent as JSON: {error}") from None


def _form_pairs(body: Any) -> list[tuple[str, str]]:
    if not isinstance(body, Mapping):
        raise DataError("a urlencoded body is a collection of names and values")
    pairs: list[tuple[str, str]] = []
    for name, value in body.items():
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                pairs.append((str(name), _form_text(item)))
    return pairs


def _form_text(value: Any) -> str:
    if isinstance(value, dict | list):
        return _json(value)
    return to_text(value)


def _multipart(body: Any) -> list[tuple[str, tuple[str | None, Any, str | None]]]:
    """Make's multipart body: plain values, or files as ``{value, options: {filename,
    contentType}}``."""
    if not isinstance(body, Mapping):
        raise DataError("a multipart body is a collection of names and values")
    parts: list[tuple[str, tuple[str | None, Any, str | None]]] = []
    for name, value in body.items():
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if isinstance(item, Mapping) and "value" in item:
                options = item.get("options") or {}
                data = item["value"]
                content = data if isinstance(data, bytes) else str(data).encode()
                parts.append(
                    (
                        str(name),
                        (options.get("filename") or "file", content, options.get("contentType")),
                    )
                )
            else:
                parts.append((str(name), (None, _form_text(item), None)))
    return parts


# -- answers ----------------------------------------------------------------------------------


def decode(response: ApiResponse, response_type: Any, *, strict: bool = False) -> Any:
    """An answer's body as ``response_type`` says (``automatic``: by its Content-Type).

    Raises:
        DataError: ``strict`` and the body is not of the declared type.
    """
    kind = type_for_status(response_type, response.status)
    if kind == "automatic":
        kind = _type_of(response)
    if kind == "json":
        if response.body is not None or not response.text.strip():
            return response.body
        if strict:
            raise DataError(f"the answer is not JSON: {response.text[:200]}")
        return response.text
    if kind == "urlencoded":
        return dict(parse_qsl(response.text, keep_blank_values=True))
    if kind == "xml":
        try:
            return parse_document(response.text)
        except DataError:
            if strict:
                raise
            return response.text
    if kind == "binary":
        return response.content
    return response.text


def type_for_status(response_type: Any, status: int) -> str:
    """The type for ``status`` of a per-status type map (the narrowest range wins)."""
    if not isinstance(response_type, Mapping):
        return str(response_type or "automatic")
    best, width = str(response_type.get("*", "automatic")), 10_000
    for key, kind in response_type.items():
        low, _, high = str(key).partition("-")
        if not low.isdigit():
            continue
        top = int(high) if high.isdigit() else int(low)
        if int(low) <= status <= top and top - int(low) < width:
            best, width = str(kind), top - int(low)
    return best


def _type_of(response: ApiResponse) -> str:
    content_type = str(
        {k.lower(): v for k, v in response.headers.items()}.get("content-type", "")
    ).lower()
    if "json" in content_type:
        return "json"
    if "x-www-form-urlencoded" in content_type:
        return "urlencoded"
    if "xml" in content_type:
        return "xml"
    if content_type.startswith("text/") or not response.content:
        return "text"
    if not content_type and response.body is not None:
        return "json"
    return "binary" if not response.text else "text"
