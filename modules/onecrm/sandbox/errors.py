"""The sandbox's error answers, in 1CRM's envelope ``{"error", "message", "hint"}``.

1CRM's client reads a failed call's JSON body as ``error`` (the type), ``message`` and
``hint`` (a suggested fix) [NOTES §4; client ``Error.php``]. The 404s of the docs carry a
message and neither type nor hint ("Model Acount not found", "Not found" —
``docs-pages/examples/errors.md``); so do ours. The other type names are our choice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class CrmHttpError(Exception):
    """An error answer with ``status``; ``body()`` is its JSON."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        hint: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.hint = status, error, message, hint
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "message": self.message, "hint": self.hint}


class NotFound(CrmHttpError):
    """404 with 1CRM's bare message (no type, no hint)."""

    def __init__(self, message: str = "Not found") -> None:
        super().__init__(404, "", message)


class InvalidRecord(CrmHttpError):
    """400 naming every field that is wrong and why."""

    def __init__(self, problems: Mapping[str, str], hint: str = "") -> None:
        self.problems = dict(problems)
        summary = "; ".join(f"{name}: {problem}" for name, problem in self.problems.items())
        super().__init__(400, "invalid_data", f"Invalid data: {summary}", hint)


class BadRequest(CrmHttpError):
    """400 for a malformed request (not JSON, unknown filter, unknown field asked for …)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(400, "bad_request", message, hint)
