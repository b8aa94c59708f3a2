"""What Make makes of a webhook request: the trigger bundle of its query and body; and which
headers an answer can carry at all (``header_problem``).

Pure (no I/O): the service turns each queued request into the bundle with
``request_to_bundle`` before a run, and refuses at the door a body it could not turn into one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from engine.errors import DataError


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

    Raises:
        DataError: the body claims to be JSON but is not (the message says where).
    """
    bundle: dict[str, Any] = dict(query)
    bundle.update(_body_fields(headers, body))
    if include_headers:
        bundle["__IMTHEADERS__"] = [{"name": k.lower(), "value": v} for k, v in headers.items()]
    if include_method:
        bundle["__IMTMETHOD__"] = method.upper()
    return bundle


def _body_fields(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "").lower()
    if not body:
        return {}
    if "json" in content_type:
        try:
            document = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise DataError(f"the request body is not valid JSON: {error}") from None
        except RecursionError:
            raise DataError("the request body is not valid JSON: nested too deeply") from None
        except ValueError as error:  # an integer of more than 4,300 digits
            raise DataError(f"the request body is not valid JSON: {error}") from None
        if _depth_over(document, MAX_BODY_DEPTH):
            raise DataError(
                f"the JSON request body is nested more than {MAX_BODY_DEPTH} levels deep"
            )
        return document if isinstance(document, dict) else {"value": document}
    if "x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return {"value": body.decode("utf-8", "replace")}


MAX_BODY_DEPTH = 200
"""Deepest JSON body accepted. json.loads reads ~990 levels, but a run could not store such a
bundle in its execution record (RecursionError while encoding): the request would be retried
forever instead of ending in an execution."""


def _depth_over(document: Any, limit: int) -> bool:
    stack = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if depth >= limit:  # depth counts from 0: this value is level depth + 1
            return True
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return False


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
