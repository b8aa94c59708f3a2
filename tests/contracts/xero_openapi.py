"""Xero's own OpenAPI files as a contract: every request the Xero connector sends and every
response the Xero sandbox returns must validate against ``xero_accounting.yaml`` (openapi-core),
and every webhook body against ``xero-webhooks.yaml``.

The files live in the vendor pack beside the repository (``../shared/reference/vendor/xero``);
without them these checks fail loudly instead of passing unread.

``ExchangeTap`` wraps the sandbox's WSGI app and records each API exchange; the fixtures of
``tests/connectors``, ``tests/scenarios`` and ``tests/sandboxes`` wrap their Xero sandboxes in
it and call ``assert_exchanges_conform`` when a test ends, so every module test and golden is
also a contract test. Two deliberate liberties, both in ``_loaded``: the spec's
``securitySchemes`` are dropped (they name only the broad scopes that apps created from
2 March 2026 may not ask for, NOTES §2; scopes are tested in the sandbox's own tests), and
openapi-core's check of the spec document itself is off (the file has ``default: 'false'``
strings for booleans, which its validator refuses; the schemas themselves are sound).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource

from tests.conftest import REPO_ROOT

VENDOR_DIR = REPO_ROOT.parent / "shared" / "reference" / "vendor" / "xero"
ACCOUNTING = VENDOR_DIR / "xero_accounting.yaml"
WEBHOOKS = VENDOR_DIR / "xero-webhooks.yaml"
API_PREFIX = "/api.xro/2.0"
HOST = "https://api.xero.com"


class VendorSpecMissing(AssertionError):
    """The vendor pack is not beside the repository: the contract cannot be checked."""


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise VendorSpecMissing(
            f"{path} is missing: the Xero contract tests read Xero's OpenAPI files from the "
            "vendor pack in ../shared/reference/vendor/xero (see its README.md)"
        )
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _loaded() -> OpenAPI:
    spec = _read(ACCOUNTING)
    spec.pop("security", None)
    for operations in spec["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict):
                operation.pop("security", None)
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


_load_lock = threading.Lock()


def accounting_api() -> OpenAPI:
    """The accounting spec, parsed once per test session (it is 926 KB)."""
    with _load_lock:
        return _loaded()


@dataclass
class Exchange:
    """One API request to the sandbox and its answer."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""

    def label(self) -> str:
        return f"{self.method} {self.path}{'?' + self.query if self.query else ''} → {self.status}"


class ExchangeTap:
    """WSGI middleware recording every ``/api.xro/2.0`` exchange of the app it wraps."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(API_PREFIX):
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        exchange = Exchange(
            method=environ["REQUEST_METHOD"],
            path=path,
            query=environ.get("QUERY_STRING", ""),
            headers={
                key[5:].replace("_", "-").lower(): value
                for key, value in environ.items()
                if key.startswith("HTTP_")
            },
            body=body,
        )
        if environ.get("CONTENT_TYPE"):
            exchange.headers["content-type"] = environ["CONTENT_TYPE"]

        def recording_start(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            exchange.status = int(status.split()[0])
            exchange.response_headers = {k.lower(): v for k, v in headers}
            return start_response(status, headers, *rest)

        chunks = list(self.app(environ, recording_start))
        exchange.response_body = b"".join(chunks)
        with self._lock:
            self.exchanges.append(exchange)
        return chunks


def _mock_request(exchange: Exchange) -> MockRequest:
    args = {key: values[-1] for key, values in parse_qs(exchange.query).items()}
    return MockRequest(
        HOST,
        exchange.method.lower(),
        exchange.path,
        headers=exchange.headers,
        args=args,
        data=exchange.body or None,
        content_type=exchange.headers.get("content-type", "application/json").split(";")[0],
    )


def request_problems(exchange: Exchange) -> list[str]:
    """What is wrong with one request by Xero's spec (empty when it conforms)."""
    try:
        accounting_api().validate_request(_mock_request(exchange))
    except Exception as error:  # openapi-core raises one of many classes; report them all
        return [f"request {exchange.label()}: {_explain(error)}"]
    return []


def response_problems(exchange: Exchange) -> list[str]:
    """What is wrong with one response by Xero's spec. A status the spec does not declare for
    the operation (401, 403, 404, 429, 5xx), or an operation it does not have (a sandbox test's
    ``PUT /Overpayments``: 405), has no schema to check and is skipped; ``request_problems``
    reports an undeclared operation a connector calls."""
    response = MockResponse(
        exchange.response_body,
        status_code=exchange.status,
        content_type=exchange.response_headers.get("content-type", "").split(";")[0],
    )
    try:
        accounting_api().validate_response(_mock_request(exchange), response)
    except (ResponseNotFound, PathNotFound, OperationNotFound):
        return []
    except Exception as error:
        return [f"response {exchange.label()}: {_explain(error)}"]
    return []


def _explain(error: BaseException) -> str:
    causes = []
    seen: BaseException | None = error
    while seen is not None and len(causes) < 4:
        details = getattr(seen, "schema_errors", None)
        text = "; ".join(str(e.message) for e in details) if details else str(seen)
        causes.append(f"{type(seen).__name__}: {text}"[:600])
        seen = seen.__cause__
    return " ← ".join(causes)


def exchange_problems(exchanges: Iterable[Exchange], *, requests: bool = True) -> list[str]:
    """Every problem of ``exchanges``; ``requests=False`` checks the answers only (for tests
    that send malformed requests on purpose)."""
    problems: list[str] = []
    for exchange in exchanges:
        if requests:
            problems.extend(request_problems(exchange))
        problems.extend(response_problems(exchange))
    return problems


def assert_exchanges_conform(tap: ExchangeTap, *, requests: bool = True) -> None:
    problems = exchange_problems(tap.exchanges, requests=requests)
    assert not problems, "Xero's OpenAPI spec refuses:\n" + "\n".join(problems)


@lru_cache(maxsize=1)
def _webhook_validators() -> tuple[OAS31Validator, OAS31Validator]:
    spec = _read(WEBHOOKS)
    registry = Registry().with_resource("urn:xero-webhooks", Resource.opaque(spec))
    schemas = spec["components"]["schemas"]

    def validator(name: str) -> OAS31Validator:
        # By reference into the whole file, so the schemas' own "#/components/..." refs resolve.
        assert name in schemas, f"xero-webhooks.yaml has no schema {name}"
        ref = {"$ref": f"urn:xero-webhooks#/components/schemas/{name}"}
        return OAS31Validator(ref, registry=registry)

    return validator("WebhookEvent"), validator("CreditNoteWebhookEvent")


def webhook_problems(body: Any) -> list[str]:
    """What is wrong with one webhook delivery by ``xero-webhooks.yaml`` (credit note events
    against ``CreditNoteWebhookEvent``, the rest against ``WebhookEvent``)."""
    plain, credit_note = _webhook_validators()
    events = body.get("events") if isinstance(body, dict) else None
    is_credit_note = bool(events) and all(
        e.get("eventCategory") == "CREDITNOTE" for e in events if isinstance(e, dict)
    )
    chosen = credit_note if is_credit_note else plain
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _errors(chosen, body)]


def _errors(validator: OAS31Validator, body: Any) -> Iterator[Any]:
    yield from sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
