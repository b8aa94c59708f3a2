"""What Make makes of a webhook request: the trigger bundle of its query and body; and which
headers an answer can carry at all (``header_problem``).

Pure (no I/O): the service turns each queued request into the bundle with
``request_to_bundle`` before a run, and refuses at the door a body it could not turn into one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from engine.errors import DataError, InvalidJSON
from engine.jsonvalues import MAX_DEPTH, load_json


class UnreadableBody(DataError):
    """A request body the webhook refuses at the door (a 400); ``path`` names the JSON value at
    fault, empty when it is the body as a whole."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


def request_to_bundle(
    *,
    method: str,
    headers: Mapping[str, str],
    query: Mapping[str, Any],
    body: bytes,
    include_headers: bool = False,
    include_method: bool = False,
) -> dict[str, Any]:
    """The bundle Make makes of a webhook request: query fields, then the body's fields.

    The body's fields: a JSON object's keys (``value`` for any other JSON document); form
    fields for ``application/x-www-form-urlencoded``; for ``multipart/form-data`` each text
    field as text and each file as Make's file collection ``{name, mime, data}`` (``data`` the
    file's bytes), a name sent more than once as an array; ``value`` with the text for anything
    else.

    Raises:
        UnreadableBody: the body claims to be JSON but is not, or holds a value JSON text from
            outside may not (``engine.jsonvalues``: a lone surrogate, ``NaN``, ``1e999``, deeper
            than ``MAX_DEPTH``); the message and ``path`` say where.
    """
    bundle: dict[str, Any] = dict(query)
    bundle.update(_body_fields(headers, body))
    if include_headers:
        bundle["__IMTHEADERS__"] = [{"name": k.lower(), "value": v} for k, v in headers.items()]
    if include_method:
        bundle["__IMTMETHOD__"] = method.upper()
    return bundle


def _body_fields(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    kind = content_type.lower()
    if not body:
        return {}
    if "json" in kind:
        return _json_fields(body)
    if "x-www-form-urlencoded" in kind:
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    if kind.startswith("multipart/form-data"):
        fields = _multipart_fields(content_type, body)
        if fields is not None:
            return fields
    return {"value": body.decode("utf-8", "replace")}


def _json_fields(body: bytes) -> dict[str, Any]:
    try:
        document = load_json(body, max_depth=MAX_DEPTH)
    except InvalidJSON as error:
        where = f" is refused: {error.path}" if error.path else ""
        raise UnreadableBody(f"the JSON request body{where} {error.reason}", error.path) from None
    return document if isinstance(document, dict) else {"value": document}


def _multipart_fields(content_type: str, body: bytes) -> dict[str, Any] | None:
    """The fields of a ``multipart/form-data`` body, or ``None`` when it is not one (no
    boundary, or none found: the body is then kept as text, as any other)."""
    head = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n"
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        return None
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str) and name:
            _add(fields, name, _part_value(part))
    return fields


def _part_value(part: Any) -> Any:
    """A text field's text, or a file as Make's file collection (``data`` is its bytes)."""
    data = part.get_payload(decode=True) or b""
    filename = part.get_filename()
    if filename is not None:
        return {"name": filename, "mime": part.get_content_type(), "data": data}
    try:
        return data.decode(part.get_content_charset() or "utf-8", "replace")
    except LookupError:  # a charset Python does not know
        return data.decode("utf-8", "replace")


def _add(fields: dict[str, Any], name: str, value: Any) -> None:
    """Add a field; a name sent again turns into an array of its values, in order (a file
    input with ``multiple`` sends every file under one name)."""
    if name not in fields:
        fields[name] = value
    elif isinstance(fields[name], list):
        fields[name].append(value)
    else:
        fields[name] = [fields[name], value]


# -- answers ----------------------------------------------------------------------------------

_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token
_HEADER_VALUE_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # tab is allowed


def header_problem(name: str, value: str) -> str | None:
    """Why ``name: value`` cannot go out as an HTTP header, or ``None`` when it can. A line
    break would start a header of its own; servers refuse the rest with a 500."""
    if _HEADER_NAME.fullmatch(name) is None:
        return f"{name[:50]!r} is not a header name (letters, digits and !#$%&'*+-.^_`|~)"
    if _HEADER_VALUE_CONTROL.search(value):
        return "the value holds a line break or another control character"
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return "the value holds characters beyond Latin-1 (percent-encode them)"
    return None
