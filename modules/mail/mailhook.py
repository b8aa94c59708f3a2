"""``gateway:CustomMailHook`` — Make's custom mailhook: a scenario started by each email sent to
its address.

A mailhook scenario's webhook token is the local part of its address,
``<token>@SWITCHBOARD_MAILHOOK_DOMAIN``. The SMTP receiver of ``switchboard serve``
(``webui.mailhooks``) accepts an email for such an address and queues it like a webhook request
(a ``multipart/form-data`` body whose ``email`` file is the message, byte for byte), so it is
stored before it is acknowledged and runs exactly once; this trigger's ``webhook_bundles`` hook
turns the stored message into the bundle.

Output: the email as ``email:TriggerNewEmail`` outputs it (``messageId``, ``date``, ``from``,
``to``, ``cc``, ``replyTo``, ``subject``, ``text``, ``html``, ``attachments``, ``headers``,
``size``), with Make's mailhook fields ``sender`` (``{name, email}``) and ``recipients`` (the
envelope's addresses).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engine.errors import DataError
from engine.maildelivery import EMAIL_FIELD, MAILHOOK, RECIPIENTS_FIELD
from engine.spec import Bundle, Effect, ModuleCall, ModuleKind, ModuleSpec
from modules.mail.modules import email_bundle


class MailhookParameters(BaseModel):
    model_config = ConfigDict(extra="allow")

    hook: Any = None
    maxResults: int = Field(default=1, title="Maximum number of results")


def mail_bundles(request: Mapping[str, Any], parameters: Mapping[str, Any]) -> list[Bundle]:
    """The trigger's bundle for one queued email (the ``webhook_bundles`` hook)."""
    attached = request.get(EMAIL_FIELD)
    raw = attached.get("data") if isinstance(attached, Mapping) else None
    if not isinstance(raw, bytes | bytearray):
        raise DataError("the mailhook request holds no email (field 'email')")
    bundle = email_bundle(bytes(raw), 0, "")
    for key in ("id", "folder"):
        bundle.pop(key, None)
    sender = bundle.get("from") or {}
    bundle["sender"] = {"name": sender.get("name", ""), "email": sender.get("address", "")}
    recipients = request.get(RECIPIENTS_FIELD) or ""
    bundle["recipients"] = [part for part in str(recipients).split(",") if part]
    return [bundle]


def pass_on(call: ModuleCall) -> Iterator[Bundle]:
    """Run by itself (Run once without an email): nothing arrived."""
    yield from ()


CUSTOM_MAILHOOK = ModuleSpec(
    id=MAILHOOK,
    kind=ModuleKind.INSTANT_TRIGGER,
    label="Custom mailhook",
    description="Starts the scenario with each email sent to its address.",
    parameters=MailhookParameters,
    run=pass_on,
    effect=Effect.WATCH,
    hooks={"webhook_bundles": mail_bundles},
)
