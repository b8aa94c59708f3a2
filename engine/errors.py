"""Switchboard's exceptions, one tree for the whole engine.

::

    SwitchboardError
    ├── UserError                     the user's mistake: says where, never retried
    │   ├── BlueprintError            a malformed or invalid blueprint (all problems at once)
    │   ├── ExpressionError           a mapping expression that does not parse or compile
    │   ├── UnknownModuleError        a module id no installed package provides
    │   └── InvalidJSON               JSON Switchboard does not take (``engine.jsonvalues``)
    └── ModuleError                   a module failed while running; ``type`` is Make's error name
        ├── DataError                 bad data for the module or the API (404, validation)
        ├── BundleValidationError     the mapped input does not fit the module's input model
        ├── InvalidConfigurationError the module's static settings are unusable
        ├── AccountValidationError    credentials refused (401/403); not handled by error routes
        ├── ConnectionError           the service could not be reached, or answered 5xx
        ├── ModuleTimeoutError        the service did not answer in time
        ├── RateLimitError            the service answered 429; ``retry_after`` in seconds
        ├── IncompleteDataError       the service returned partial data
        ├── DuplicateDataError        the service refused a duplicate
        └── RuntimeError              anything else a module reports (Make's RuntimeError)

Operational failures (``ConnectionError``, ``ModuleTimeoutError``, ``RateLimitError``) are the
ones worth retrying; the runner decides that from ``ModuleError.retryable``.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any, ClassVar


class SwitchboardError(Exception):
    """Root of every error Switchboard raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a blueprint, located by its JSON path (``flow[3].mapper.url``)."""

    path: str
    message: str
    module_id: int | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class UserError(SwitchboardError):
    """A mistake in what the user gave us; the message says where it is."""


class BlueprintError(UserError):
    """A blueprint that cannot be imported or compiled; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem], summary: str | None = None) -> None:
        self.problems = list(problems)
        head = summary or f"blueprint has {len(self.problems)} problem(s)"
        super().__init__(head + "".join(f"\n  {p}" for p in self.problems))


class ExpressionError(UserError):
    """A mapping expression that does not parse or names something unknown.

    Attributes:
        where: the place of the template, e.g. ``module 3, mapper.url``.
        column: 1-based column in the template text, when known.
        reason: the bare reason, without the location.
    """

    def __init__(self, reason: str, *, where: str = "", column: int | None = None) -> None:
        self.reason = reason
        self.where = where
        self.column = column
        location = ", ".join(
            part for part in (where, f"column {column}" if column is not None else "") if part
        )
        super().__init__(f"{location}: {reason}" if location else reason)


class UnknownModuleError(UserError, KeyError):
    """A module id that no installed module package provides."""

    def __init__(self, module: str, where: str = "") -> None:
        self.module = module
        self.where = where
        text = f"module {module} is not available in this installation"
        super().__init__(f"{text} ({where})" if where else text)

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class InvalidJSON(UserError, ValueError):
    """JSON text Switchboard does not take: not JSON, or holding a value no store could keep
    as it was sent (``NaN``, ``1e999``, a lone surrogate). ``path`` names the value at fault
    (``items[2].name``; empty for the text as a whole); ``reason`` says what is wrong with it,
    as a phrase that follows the path (``is NaN, which JSON does not have``).
    """

    def __init__(self, reason: str, path: str = "") -> None:
        self.reason = reason
        self.path = path
        super().__init__(f"{path or 'the JSON'} {reason}")


class ModuleError(SwitchboardError):
    """A module failed while running. ``type`` is the name Make shows (``DataError`` …)."""

    type: ClassVar[str] = "RuntimeError"
    retryable: ClassVar[bool] = False
    handleable: ClassVar[bool] = True

    def __init__(self, message: str, *, detail: Any = None) -> None:
        self.message = message
        self.detail = detail
        super().__init__(message)

    def as_bundle(self) -> dict[str, Any]:
        """The ``{{N.error}}`` collection an error route sees."""
        return {"message": self.message, "type": self.type, "detail": self.detail}


class DataError(ModuleError):
    type = "DataError"


class BundleValidationError(ModuleError):
    type = "BundleValidationError"


class InvalidConfigurationError(ModuleError):
    type = "InvalidConfigurationError"


class AccountValidationError(ModuleError):
    type = "AccountValidationError"
    handleable = False


class ConnectionError(ModuleError, builtins.ConnectionError):
    type = "ConnectionError"
    retryable = True
    retry_after: float | None = None
    """Seconds a 503 asked to wait (``Retry-After``), when it said."""


class ModuleTimeoutError(ModuleError):
    type = "ModuleTimeoutError"
    retryable = True


class RateLimitError(ModuleError):
    type = "RateLimitError"
    retryable = True

    def __init__(
        self, message: str, *, detail: Any = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, detail=detail)
        self.retry_after = retry_after


class IncompleteDataError(ModuleError):
    type = "IncompleteDataError"


class DuplicateDataError(ModuleError):
    type = "DuplicateDataError"


class RuntimeError(ModuleError, builtins.RuntimeError):
    type = "RuntimeError"


MODULE_ERROR_TYPES: dict[str, type[ModuleError]] = {
    cls.type: cls
    for cls in (
        DataError,
        BundleValidationError,
        InvalidConfigurationError,
        AccountValidationError,
        ConnectionError,
        ModuleTimeoutError,
        RateLimitError,
        IncompleteDataError,
        DuplicateDataError,
        RuntimeError,
    )
}
