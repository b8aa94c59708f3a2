"""Request specifications (Make's Communication) compiled once into immutable objects.

Every directive is checked against the ones Make documents (an unknown key is a typo, refused
with its JSON path), every template compiled in the app dialect. What Switchboard does not do
is refused here, at load, with the reason: AWS and OAuth 1 signing, custom certificate
authorities.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.errors import ExpressionError
from engine.mapping import CompiledValue
from modules.apps.definition import AppDefinitionError
from modules.apps.iml import compile_value

REQUEST_TYPES = frozenset(
    {"json", "urlencoded", "multipart/form-data", "text", "string", "raw", "binary"}
)
RESPONSE_TYPES = frozenset(
    {"automatic", "json", "urlencoded", "text", "string", "raw", "binary", "xml"}
)

_REQUEST_KEYS = frozenset(
    {
        "url",
        "baseUrl",
        "encodeUrl",
        "method",
        "headers",
        "qs",
        "body",
        "type",
        "temp",
        "condition",
        "response",
        "pagination",
        "followRedirects",
        "followAllRedirects",
        "gzip",
        "log",
        "timeout",
        "shared",
        "each",
    }
)
_REFUSED_REQUEST_KEYS = {
    "aws": "AWS request signing is not supported",
    "oauth": "OAuth 1 request signing is not supported",
    "ca": "custom certificate authorities are not supported",
}
_RESPONSE_KEYS = frozenset(
    {
        "type",
        "valid",
        "limit",
        "error",
        "iterate",
        "temp",
        "output",
        "wrapper",
        "trigger",
        "data",
        "metadata",
        "uid",
        "expires",
    }
)
_PAGINATION_KEYS = frozenset(
    {"mergeWithParent", "url", "method", "headers", "qs", "body", "condition"}
)
_TRIGGER_KEYS = frozenset({"type", "order", "id", "date"})
_WEBHOOK_KEYS = frozenset({"iterate", "output", "condition", "respond", "verification"})


class Where:
    """A place in a definition: the file and the JSON path, for compile errors."""

    def __init__(self, source: str, path: str) -> None:
        self.source = source
        self.path = path

    def __truediv__(self, key: str | int) -> Where:
        step = f"[{key}]" if isinstance(key, int) else (f".{key}" if self.path else str(key))
        return Where(self.source, self.path + step)

    def error(self, reason: str) -> AppDefinitionError:
        return AppDefinitionError(self.source, self.path, reason)

    def compile(self, value: Any) -> CompiledValue:
        try:
            return compile_value(value, f"{self.source}: {self.path}")
        except ExpressionError as error:
            column = f" (column {error.column})" if error.column is not None else ""
            raise AppDefinitionError(self.source, self.path, error.reason + column) from None

    def optional(self, spec: Mapping[str, Any], key: str) -> CompiledValue | None:
        return (self / key).compile(spec[key]) if key in spec else None


@dataclass(frozen=True)
class ErrorSpec:
    """The ``error`` directive: a message (and Make error type) in general and per status."""

    message: CompiledValue | None = None
    type: CompiledValue | None = None
    by_status: Mapping[int, ErrorSpec] = field(default_factory=dict)

    def for_status(self, status: int) -> ErrorSpec:
        return self.by_status.get(status, self)


@dataclass(frozen=True)
class TriggerSpec:
    """``response.trigger``: how a polling trigger tells items apart and orders them."""

    type: str  # id | date
    order: str  # asc | desc | unordered
    id: CompiledValue
    date: CompiledValue | None


@dataclass(frozen=True)
class ResponseSpec:
    type: Any = "automatic"  # a type, or {"*": type, "400-499": type, "404": type}
    valid: CompiledValue | None = None
    valid_error: ErrorSpec | None = None
    limit: CompiledValue | None = None
    error: ErrorSpec | None = None
    iterate: CompiledValue | None = None
    iterate_condition: CompiledValue | None = None
    temp: CompiledValue | None = None
    output: CompiledValue | None = None
    wrapper: CompiledValue | None = None
    trigger: TriggerSpec | None = None
    data: CompiledValue | None = None
    metadata: CompiledValue | None = None
    uid: CompiledValue | None = None


@dataclass(frozen=True)
class PaginationSpec:
    merge_with_parent: bool = True
    url: CompiledValue | None = None
    method: CompiledValue | None = None
    headers: CompiledValue | None = None
    qs: CompiledValue | None = None
    body: CompiledValue | None = None
    condition: CompiledValue | None = None


@dataclass(frozen=True)
class RequestSpec:
    """One request (or a request-less step when ``url`` is ``None``)."""

    where: str
    url: CompiledValue | None = None
    method: CompiledValue | None = None
    headers: CompiledValue | None = None
    qs: CompiledValue | None = None
    body: CompiledValue | None = None
    type: CompiledValue | None = None
    temp: CompiledValue | None = None
    condition: CompiledValue | None = None
    condition_default: CompiledValue | None = None
    encode_url: bool = True
    timeout: float | None = None
    each: CompiledValue | None = None
    """Switchboard's own: run this request once per element of an array (``{{each}}``)."""
    response: ResponseSpec = field(default_factory=ResponseSpec)
    pagination: PaginationSpec | None = None


@dataclass(frozen=True)
class BaseSpec:
    """What every request of the app inherits (Make's Base)."""

    base_url: CompiledValue | None = None
    headers: CompiledValue | None = None
    qs: CompiledValue | None = None
    body: CompiledValue | None = None
    response: ResponseSpec = field(default_factory=ResponseSpec)


@dataclass(frozen=True)
class WebhookSpec:
    """A webhook's own communication: how one request becomes the trigger's bundles."""

    iterate: CompiledValue | None = None
    iterate_condition: CompiledValue | None = None
    output: CompiledValue | None = None
    condition: CompiledValue | None = None


def compile_base(base: Mapping[str, Any], where: Where) -> BaseSpec:
    _check_keys(base, _REQUEST_KEYS | {"baseUrl"}, where)
    return BaseSpec(
        base_url=where.optional(base, "baseUrl"),
        headers=where.optional(base, "headers"),
        qs=where.optional(base, "qs"),
        body=where.optional(base, "body"),
        response=compile_response(base.get("response") or {}, where / "response"),
    )


def compile_communication(value: Any, where: Where) -> tuple[RequestSpec, ...]:
    """One request spec or a list of them (run in order; the last one's output counts)."""
    if isinstance(value, Mapping):
        return (compile_request(value, where),) if value else ()
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(compile_request(item, where / index) for index, item in enumerate(value))
    raise where.error("communication is a request specification or a list of them")


def compile_request(spec: Any, where: Where) -> RequestSpec:
    if not isinstance(spec, Mapping):
        raise where.error("a request specification is an object")
    _check_keys(spec, _REQUEST_KEYS, where)
    condition, default = _condition(spec.get("condition"), where / "condition")
    request_type = spec.get("type")
    fixed = isinstance(request_type, str) and "{{" not in request_type
    if fixed and request_type not in REQUEST_TYPES:
        raise (where / "type").error(f"'{request_type}' is not one of {_names(REQUEST_TYPES)}")
    return RequestSpec(
        where=f"{where.source}: {where.path}",
        url=where.optional(spec, "url"),
        method=where.optional(spec, "method"),
        headers=_flat(spec, "headers", where),
        qs=_flat(spec, "qs", where),
        body=where.optional(spec, "body"),
        type=where.optional(spec, "type"),
        temp=where.optional(spec, "temp"),
        condition=condition,
        condition_default=default,
        encode_url=bool(spec.get("encodeUrl", True)),
        timeout=_timeout(spec.get("timeout"), where / "timeout"),
        each=where.optional(spec, "each"),
        response=compile_response(spec.get("response") or {}, where / "response"),
        pagination=_pagination(spec.get("pagination"), where / "pagination"),
    )


def compile_response(spec: Any, where: Where) -> ResponseSpec:
    if not isinstance(spec, Mapping):
        raise where.error("response is an object of directives")
    _check_keys(spec, _RESPONSE_KEYS, where)
    response_type = spec.get("type", "automatic")
    _check_response_type(response_type, where / "type")
    iterate, iterate_condition = _iterate(spec.get("iterate"), where / "iterate")
    valid, valid_error = _valid(spec.get("valid"), where / "valid")
    return ResponseSpec(
        type=response_type,
        valid=valid,
        valid_error=valid_error,
        limit=where.optional(spec, "limit"),
        error=_error(spec.get("error"), where / "error") if "error" in spec else None,
        iterate=iterate,
        iterate_condition=iterate_condition,
        temp=where.optional(spec, "temp"),
        output=where.optional(spec, "output"),
        wrapper=where.optional(spec, "wrapper"),
        trigger=_trigger(spec.get("trigger"), where / "trigger") if "trigger" in spec else None,
        data=where.optional(spec, "data"),
        metadata=where.optional(spec, "metadata"),
        uid=where.optional(spec, "uid"),
    )


def compile_webhook(spec: Mapping[str, Any], where: Where) -> WebhookSpec:
    _check_keys(spec, _WEBHOOK_KEYS, where)
    iterate, iterate_condition = _iterate(spec.get("iterate"), where / "iterate")
    condition, _ = _condition(spec.get("condition"), where / "condition")
    return WebhookSpec(
        iterate=iterate,
        iterate_condition=iterate_condition,
        output=where.optional(spec, "output"),
        condition=condition,
    )


# -- the pieces -------------------------------------------------------------------------------


def _check_keys(spec: Mapping[str, Any], known: frozenset[str], where: Where) -> None:
    for key in spec:
        if key in _REFUSED_REQUEST_KEYS and known is not _RESPONSE_KEYS:
            raise (where / key).error(_REFUSED_REQUEST_KEYS[key])
        if key not in known:
            raise (where / key).error(f"is not a directive here (known: {_names(known)})")


def _names(values: frozenset[str]) -> str:
    return ", ".join(sorted(values))


def _flat(spec: Mapping[str, Any], key: str, where: Where) -> CompiledValue | None:
    if key not in spec:
        return None
    value = spec[key]
    if not isinstance(value, Mapping) and not (isinstance(value, str) and "{{" in value):
        raise (where / key).error(f"{key} is a collection of names and values")
    return (where / key).compile(value)


def _condition(value: Any, where: Where) -> tuple[CompiledValue | None, CompiledValue | None]:
    if value is None:
        return None, None
    if isinstance(value, Mapping):
        _check_keys(value, frozenset({"condition", "default"}), where)
        return where.optional(value, "condition"), where.optional(value, "default")
    return where.compile(value), None


def _timeout(value: Any, where: Where) -> float | None:
    if value is None:
        return None
    if not isinstance(value, int | float) or not 1 <= value <= 300_000:
        raise where.error("timeout is milliseconds between 1 and 300000")
    return value / 1000


def _check_response_type(value: Any, where: Where) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _check_response_type(item, where / key)
        return
    if isinstance(value, str) and "{{" not in value and value not in RESPONSE_TYPES:
        raise where.error(f"'{value}' is not one of {_names(RESPONSE_TYPES)}")


def _iterate(value: Any, where: Where) -> tuple[CompiledValue | None, CompiledValue | None]:
    if value is None:
        return None, None
    if isinstance(value, Mapping):
        _check_keys(value, frozenset({"container", "condition"}), where)
        if "container" not in value:
            raise where.error("iterate needs a container")
        return (where / "container").compile(value["container"]), where.optional(value, "condition")
    return where.compile(value), None


def _valid(value: Any, where: Where) -> tuple[CompiledValue | None, ErrorSpec | None]:
    if value is None:
        return None, None
    if isinstance(value, Mapping):
        _check_keys(value, frozenset({"condition", "message", "type"}), where)
        error = ErrorSpec(
            message=where.optional(value, "message"), type=where.optional(value, "type")
        )
        return where.optional(value, "condition"), error
    return where.compile(value), None


def _error(value: Any, where: Where) -> ErrorSpec:
    if isinstance(value, str):
        return ErrorSpec(message=where.compile(value))
    if not isinstance(value, Mapping):
        raise where.error("error is a message or an object of message and type")
    by_status: dict[int, ErrorSpec] = {}
    for key, item in value.items():
        if key in ("message", "type"):
            continue
        if not (isinstance(key, str | int) and str(key).isdigit() and len(str(key)) == 3):
            raise (where / str(key)).error("is not message, type or a status code")
        by_status[int(key)] = _error(item, where / str(key))
    return ErrorSpec(
        message=where.optional(value, "message"),
        type=where.optional(value, "type"),
        by_status=by_status,
    )


def _trigger(value: Any, where: Where) -> TriggerSpec:
    if not isinstance(value, Mapping):
        raise where.error("trigger is an object of type, order, id and date")
    _check_keys(value, _TRIGGER_KEYS, where)
    kind = value.get("type")
    order = value.get("order", "unordered")
    if kind not in ("id", "date"):
        raise (where / "type").error("trigger type is 'id' or 'date'")
    if order not in ("asc", "desc", "unordered"):
        raise (where / "order").error("trigger order is 'asc', 'desc' or 'unordered'")
    if "id" not in value:
        raise where.error("a trigger needs id (the item's id)")
    if kind == "date" and "date" not in value:
        raise where.error("a trigger of type date needs date (the item's date)")
    return TriggerSpec(
        type=kind,
        order=order,
        id=(where / "id").compile(value["id"]),
        date=where.optional(value, "date"),
    )


def _pagination(value: Any, where: Where) -> PaginationSpec | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise where.error("pagination is an object of directives")
    _check_keys(value, _PAGINATION_KEYS, where)
    return PaginationSpec(
        merge_with_parent=bool(value.get("mergeWithParent", True)),
        url=where.optional(value, "url"),
        method=where.optional(value, "method"),
        headers=where.optional(value, "headers"),
        qs=where.optional(value, "qs"),
        body=where.optional(value, "body"),
        condition=where.optional(value, "condition"),
    )
