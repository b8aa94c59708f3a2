"""Make's Webhooks app: the custom webhook trigger and the webhook response.

The service turns each queued HTTP request into the trigger's bundle with
``engine.webhooks.request_to_bundle``; the trigger module itself passes that bundle on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engine.errors import BundleValidationError
from engine.spec import Bundle, ModuleCall, ModuleKind, ModuleSpec

_LAX = ConfigDict(extra="allow")


def custom_webhook(call: ModuleCall) -> Iterator[Bundle]:
    yield call.input.model_dump()


class RespondHeader(BaseModel):
    model_config = _LAX

    key: str = ""
    value: Any = ""


class RespondInput(BaseModel):
    model_config = _LAX

    status: Any = "200"
    body: Any = ""
    headers: list[RespondHeader] = Field(default_factory=list)


def respond(call: ModuleCall) -> Iterator[Bundle]:
    """Answer the HTTP request that started the run (the caller waits for it, up to a limit)."""
    data: RespondInput = call.input  # type: ignore[assignment]
    try:
        status = int(str(data.status).strip() or "200")
    except ValueError:
        raise BundleValidationError(f"status '{data.status}' is not an HTTP status") from None
    if not 100 <= status <= 599:
        raise BundleValidationError(f"status {status} is not an HTTP status")
    headers = {
        header.key: "" if header.value is None else str(header.value) for header in data.headers
    }
    call.context.respond(status, data.body, headers)
    yield {}


WEBHOOK_MODULES: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        id="gateway:CustomWebHook",
        kind=ModuleKind.INSTANT_TRIGGER,
        label="Custom webhook",
        run=custom_webhook,
    ),
    ModuleSpec(
        id="gateway:WebhookRespond",
        kind=ModuleKind.RESPONDER,
        label="Webhook response",
        input=RespondInput,
        run=respond,
    ),
)
