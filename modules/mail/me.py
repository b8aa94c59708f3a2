"""``email:ActionSendMeEmail`` — Make's "Send me an email": a note to the installation's own
people, through the installation's mail server, without a connection.

Make sends it from its own servers to an address of the user's account. Switchboard has no
account addresses, so the installation names them and its mail server:

- ``SWITCHBOARD_ME_EMAIL``: the addresses "me" may be, comma-separated; the mapper's ``to``
  must be one of them (the first when it is empty), as Make's ``to`` is a choice among the
  account's verified addresses.
- ``SWITCHBOARD_SMTP_URL``: ``smtp://user:password@host:587`` (STARTTLS), ``smtps://…:465``
  (TLS from the first byte) or ``smtp://…?security=none`` (neither, a local relay).
- ``SWITCHBOARD_MAIL_FROM``: the sender (default: the SMTP user, else the first "me" address).

Mapper keys as Make exports them: ``to``, ``subject``, ``html`` (the content).
"""

from __future__ import annotations

import os
import smtplib
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import BaseModel, ConfigDict, field_validator

from engine.errors import BundleValidationError, DataError, InvalidConfigurationError
from engine.spec import Bundle, Effect, ModuleCall, ModuleKind, ModuleSpec
from modules.mail.modules import SendEmailInput, build_message
from modules.mail.servers import smtp_session

_SCHEMES = {"smtp": ("starttls", 587), "smtps": ("tls", 465)}


class SendMeInput(BaseModel):
    model_config = ConfigDict(extra="allow")

    to: str = ""
    subject: str = ""
    html: str = ""

    @field_validator("to", "subject", "html", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        if isinstance(value, list):  # a select exported as a one-item array
            value = value[0] if value else ""
        return "" if value is None else str(value)


def me_addresses(environ: Mapping[str, str]) -> list[str]:
    text = environ.get("SWITCHBOARD_ME_EMAIL", "")
    return [part.strip() for part in text.split(",") if part.strip()]


def smtp_connection(environ: Mapping[str, str]) -> dict[str, Any]:
    """``SWITCHBOARD_SMTP_URL`` as the fields of an email connection (``modules.mail.servers``)."""
    url = environ.get("SWITCHBOARD_SMTP_URL", "").strip()
    if not url:
        raise InvalidConfigurationError(
            "Send me an email needs the installation's mail server: set SWITCHBOARD_SMTP_URL"
        )
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES or not parts.hostname:
        raise InvalidConfigurationError(
            "SWITCHBOARD_SMTP_URL must look like smtp://user:password@host:587 or smtps://…"
        )
    security, port = _SCHEMES[parts.scheme]
    security = parse_qs(parts.query).get("security", [security])[0]
    return {
        "smtp_host": parts.hostname,
        "smtp_port": parts.port or port,
        "smtp_security": security,
        "username": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
    }


def send_me_email(call: ModuleCall) -> Iterator[Bundle]:
    data = call.input_as(SendMeInput)
    yield send_me(data, os.environ, allow_private_network=call.context.run.allow_private_network)


def send_me(
    data: SendMeInput, environ: Mapping[str, str], *, allow_private_network: bool
) -> Bundle:
    """Send the note; ``messageId`` and the address it went to."""
    addresses = me_addresses(environ)
    if not addresses:
        raise InvalidConfigurationError(
            "Send me an email needs your address: set SWITCHBOARD_ME_EMAIL"
        )
    to = data.to or addresses[0]
    if to not in addresses:
        raise BundleValidationError(f"to: {to} is not one of the addresses in SWITCHBOARD_ME_EMAIL")
    connection = smtp_connection(environ)
    sender = environ.get("SWITCHBOARD_MAIL_FROM") or connection["username"] or addresses[0]
    message = build_message(
        SendEmailInput(to=[to], subject=data.subject, html=data.html),
        sender,
        sender.rpartition("@")[2],
    )
    with smtp_session(connection, allow_private_network=allow_private_network) as smtp:
        try:
            smtp.send_message(message, to_addrs=[to])
        except smtplib.SMTPException as error:
            raise DataError(f"the SMTP server refused the email to {to}: {error}") from None
    return {"messageId": message["Message-ID"], "to": to}


SEND_ME_EMAIL = ModuleSpec(
    id="email:ActionSendMeEmail",
    kind=ModuleKind.ACTION,
    label="Send me an email",
    version=7,
    description="Sends a note to your own address through the installation's mail server.",
    input=SendMeInput,
    run=send_me_email,
    effect=Effect.CREATE,
)
