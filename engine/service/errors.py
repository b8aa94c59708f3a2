"""What the service refuses, each with the HTTP status and code the web layer answers with.

::

    SwitchboardError
    └── ServiceError                 a request the service will not carry out (status, code)
        ├── WebhookNotFound          404  no webhook has that token
        ├── WebhookDisabled          410  the webhook was switched off
        ├── PayloadTooLarge          413  the body is over SWITCHBOARD_WEBHOOK_MAX_BYTES
        ├── InvalidPayload           400  e.g. JSON content type with a body that is not JSON
        ├── RateLimited              429  over SWITCHBOARD_WEBHOOK_RATE_LIMIT per window
        ├── WebhookQueueFull         503  SWITCHBOARD_WEBHOOK_QUEUE_LIMIT requests wait already
        ├── StoreUnavailable         503  the database cannot be reached or stays locked
        ├── InvalidRequest           400  a bad argument (scheduling, start choice …)
        ├── Conflict                 409  the thing is not in a state that allows this
        ├── LimitExceeded            422  over a limit of the expression preview (``path``)
        └── Busy                     503  as many previews run as the process allows

Store errors (``NotFound`` …) and ``BlueprintError`` pass through unchanged.
"""

from __future__ import annotations

from typing import ClassVar

from engine.errors import SwitchboardError


class ServiceError(SwitchboardError):
    """Root of the service's refusals."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"


class WebhookNotFound(ServiceError):
    status, code = 404, "webhook_not_found"


class WebhookDisabled(ServiceError):
    status, code = 410, "webhook_disabled"


class PayloadTooLarge(ServiceError):
    status, code = 413, "payload_too_large"


class InvalidPayload(ServiceError):
    """A request body the webhook cannot take; ``path`` names the JSON value at fault."""

    status, code = 400, "invalid_payload"

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class RateLimited(ServiceError):
    status, code = 429, "rate_limited"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class WebhookQueueFull(ServiceError):
    status, code = 503, "queue_full"


class StoreUnavailable(ServiceError):
    """The database refused or dropped the connection, or stayed locked past the busy timeout:
    nothing was stored, so the caller must send again (``Retry-After``)."""

    status, code = 503, "store_unavailable"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidRequest(ServiceError):
    status, code = 400, "invalid_request"


class InvalidField(ServiceError):
    """A request field the service refuses; ``path`` names it (``data.username``)."""

    status, code = 422, "invalid"

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class Conflict(ServiceError):
    status, code = 409, "conflict"


class LimitExceeded(ServiceError):
    """A request over one of the service's limits; ``path`` names the part that is too large,
    when one is (``template``)."""

    status, code = 422, "limit_exceeded"

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class Busy(ServiceError):
    """The service already does as much of this at once as it allows; try again shortly."""

    status, code = 503, "busy"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
