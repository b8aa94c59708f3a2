"""Xero's error answers: raised anywhere in the sandbox, rendered in one place
(``api.handle_xero_error``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

Record = dict[str, Any]


class XeroHttpError(Exception):
    """An answer other than 200, with Xero's body for it."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


class ValidationFailed(Exception):
    """One element failed Xero's validation; ``messages`` become its ``ValidationErrors``."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


def problem(status: int, title: str, detail: str) -> XeroHttpError:
    """Xero's identity/gateway error body (RFC 7807-like), used for 401/403/404/429/5xx."""
    body: dict[str, Any] = {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }
    return XeroHttpError(status, body)


def api_exception(number: int, type_name: str, message: str, **extra: Any) -> XeroHttpError:
    """Xero's API exception envelope (``ErrorNumber``/``Type``/``Message``) as a 400."""
    return XeroHttpError(
        400, {"ErrorNumber": number, "Type": type_name, "Message": message, **extra}
    )


def validation_exception(elements: list[Record]) -> XeroHttpError:
    """The 400 ``ValidationException`` envelope (ErrorNumber 10) over failed elements."""
    return api_exception(
        10, "ValidationException", "A validation exception occurred", Elements=elements
    )
