"""Make's Webhooks app: the custom webhook trigger and the webhook response.

The service turns each queued HTTP request into the trigger's bundle with
``engine.webhooks.request_to_bundle``; the trigger module itself passes that bundle on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engine.errors import BundleValidationError
from engine.spec import Bundle, Effect, ModuleCall, ModuleKind, ModuleSpec
from engine.webhooks import header_problem

_LAX = ConfigDict(extra="allow")


def custom_webhook(call: ModuleCall) -> Iterator[Bundle]:
    yield call.input.model_dump()


class RespondHeader(BaseModel):
    model_config = _LAX

    key: str = ""
    value: Any = ""


class RespondInput(BaseModel):
    model_config = _LAX

    status: Any = Field(default="200", title="Status")
    body: Any = Field(default="", title="Body")
    headers: list[RespondHeader] = Field(default_factory=list, title="Custom headers")


def respond(call: ModuleCall) -> Iterator[Bundle]:
    """Answer the HTTP request that started the run (the caller waits for it, up to a limit).

    The web app sends the status, body and headers on, but leaves out the headers that belong
    to the app (cookies, security headers: ``webui.hook_safety``) and runs the page sandboxed.

    Raises:
        BundleValidationError: the status is not a final HTTP status (200-599), or a header
            could not be sent (its place, ``headers[i]``, is named); rows without a name are
            skipped, as Make does.
    """
    data = call.input_as(RespondInput)
    call.context.respond(_status(data.status), data.body, _headers(data.headers))
    yield {}


def _status(given: Any) -> int:
    try:
        status = int(str(given).strip() or "200")
    except ValueError:
        raise BundleValidationError(f"status '{given}' is not an HTTP status") from None
    if not 200 <= status <= 599:
        # 1xx are interim answers: sent as the final one, they would hang or confuse proxies.
        raise BundleValidationError(f"status {status} is not a final HTTP status (200-599)")
    return status


def _headers(rows: list[RespondHeader]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for index, row in enumerate(rows):
        name = row.key.strip()
        value = "" if row.value is None else str(row.value)
        if not name:
            continue
        problem = header_problem(name, value)
        if problem is not None:
            raise BundleValidationError(f"headers[{index}]: {problem}")
        headers[name] = value
    return headers


class WebhookParameters(BaseModel):
    """The webhook the trigger listens to (Make's hook id; the service keeps its own URL)."""

    model_config = ConfigDict(extra="allow")

    hook: Any = None


WEBHOOK_MODULES: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        id="gateway:CustomWebHook",
        kind=ModuleKind.INSTANT_TRIGGER,
        label="Custom webhook",
        parameters=WebhookParameters,
        run=custom_webhook,
        ignored_keys={
            "maxResults": "every accepted webhook starts its own execution; workers drain the "
            "queue one request at a time, not in batches"
        },
        effect=Effect.WATCH,
    ),
    ModuleSpec(
        id="gateway:WebhookRespond",
        kind=ModuleKind.RESPONDER,
        label="Webhook response",
        input=RespondInput,
        run=respond,
    ),
)
