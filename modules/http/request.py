"""Sending one HTTP request for a module, and turning the answer into a bundle.

Shared by every HTTP module (``http:MakeRequest``, ``http:ActionSendData`` and its auth
variants). Requests go through the run's session (``RunContext.http``), every URL and redirect
hop passes the SSRF guard, and failures become Make's error types.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from engine.errors import (
    ConnectionError,
    DataError,
    ModuleTimeoutError,
    RateLimitError,
)
from engine.httpguard import check_url

MAX_REDIRECTS = 10
DEFAULT_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class HttpRequest:
    """What to send. ``body`` is raw bytes/text; ``form``/``files`` build a form body instead."""

    method: str
    url: str
    headers: Sequence[tuple[str, str]] = ()
    params: Sequence[tuple[str, str]] = ()
    body: bytes | str | None = None
    form: Sequence[tuple[str, str]] | None = None
    files: Sequence[tuple[str, tuple[str, bytes | str, str | None]]] | None = None
    auth: tuple[str, str] | None = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    follow_redirects: bool = True
    parse_response: bool = False
    status_errors: bool = True
    extra: Mapping[str, Any] = field(default_factory=dict)
    credentials: Sequence[str] = ()
    """Names of the headers and query parameters that carry the connection's secrets."""


def send(session: Any, request: HttpRequest, *, allow_private_network: bool) -> dict[str, Any]:
    """Send ``request`` and return the module's output bundle.

    Raises:
        BlockedAddressError: the URL (or a redirect) points at a refused address.
        ConnectionError, ModuleTimeoutError: the server could not be reached in time.
        RateLimitError, DataError, ConnectionError: an error status, when ``status_errors``.
    """
    if session is None:
        raise ConnectionError("this run has no HTTP session")
    response = _send_following_redirects(session, request, allow_private_network)
    if request.status_errors and response.status_code >= 400:
        raise _status_error(response)
    return response_bundle(response, parse=request.parse_response)


def _send_following_redirects(
    session: Any, request: HttpRequest, allow_private_network: bool
) -> requests.Response:
    method, url, body = request.method.upper(), request.url, request
    for _ in range(MAX_REDIRECTS + 1):
        check_url(url, allow_private_network=allow_private_network)
        response = _send_once(session, body, method, url)
        if not (request.follow_redirects and response.is_redirect):
            return response
        url, previous = urljoin(url, response.headers["location"]), url
        if response.status_code in (301, 302, 303) and method != "HEAD":
            method, body = (
                "GET",
                HttpRequest(
                    method="GET",
                    url=url,
                    headers=request.headers,
                    auth=request.auth,
                    timeout=request.timeout,
                    credentials=request.credentials,
                ),
            )
        if _origin(url) != _origin(previous):
            body = _without_credentials(body)  # as browsers and requests do: keys stay home
        response.close()
    raise DataError(f"more than {MAX_REDIRECTS} redirects, last to {url}")


_ALWAYS_SECRET = frozenset({"authorization", "proxy-authorization", "cookie"})


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return (
        parts.scheme.lower(),
        parts.hostname,
        port or {"http": 80, "https": 443}.get(parts.scheme.lower()),
    )


def _without_credentials(request: HttpRequest) -> HttpRequest:
    secret = _ALWAYS_SECRET | {name.lower() for name in request.credentials}
    return replace(
        request,
        headers=[(k, v) for k, v in request.headers if k.lower() not in secret],
        params=[(k, v) for k, v in request.params if k.lower() not in secret],
        auth=None,
    )


def _send_once(session: Any, request: HttpRequest, method: str, url: str) -> requests.Response:
    try:
        return session.request(
            method,
            url,
            headers=list(request.headers) and dict(request.headers),
            params=list(request.params) or None,
            data=request.body if request.form is None else list(request.form),
            files=list(request.files) if request.files else None,
            auth=request.auth,
            timeout=request.timeout,
            allow_redirects=False,
        )
    except requests.Timeout:
        raise ModuleTimeoutError(
            f"{url} did not answer within {request.timeout:g} seconds"
        ) from None
    except requests.RequestException as error:
        raise ConnectionError(f"cannot reach {url}: {_without_query(error)}") from None


_QUERY = re.compile(r"\?[^\s'\")]*")


def _without_query(error: Exception) -> str:
    """The error's text with query strings cut: requests names the URL it tried, query and all,
    and an API key may sit there (placement "query"); the message goes to the execution record."""
    return _QUERY.sub("?…", str(error))


def _status_error(response: requests.Response) -> Exception:
    text = response.text[:1000]
    message = f"[{response.status_code}] {text or response.reason}"
    if response.status_code == 429:
        retry_after = response.headers.get("retry-after")
        seconds = float(retry_after) if retry_after and retry_after.isdigit() else None
        return RateLimitError(message, retry_after=seconds)
    if response.status_code >= 500:
        return ConnectionError(message)
    return DataError(message)


def response_bundle(response: requests.Response, *, parse: bool) -> dict[str, Any]:
    """Make's HTTP output: ``statusCode``, ``headers`` (name/value), ``data``, ``fileSize``."""
    return {
        "statusCode": response.status_code,
        "headers": [
            {"name": name.lower(), "value": value} for name, value in response.headers.items()
        ],
        "cookieHeaders": response.headers.get("set-cookie", "").split(", ")
        if "set-cookie" in response.headers
        else [],
        "data": _data(response, parse),
        "fileSize": len(response.content),
    }


def _data(response: requests.Response, parse: bool) -> Any:
    content_type = response.headers.get("content-type", "").lower()
    if parse and "json" in content_type and response.content:
        try:
            return response.json()
        except json.JSONDecodeError as error:
            raise DataError(f"the response is not valid JSON: {error}") from None
    if _is_text(content_type):
        return response.text
    return response.content


def _is_text(content_type: str) -> bool:
    return not content_type or any(
        kind in content_type for kind in ("text/", "json", "xml", "javascript", "x-www-form")
    )
