"""The mailhook receiver: a local SMTP server (aiosmtpd) whose accepted emails become queued
webhook requests of ``gateway:CustomMailHook`` scenarios.

``switchboard serve`` starts it when ``SWITCHBOARD_MAILHOOK_PORT`` is set (listening on
``SWITCHBOARD_MAILHOOK_HOST``, 127.0.0.1 by default; put the MX host's relay or a TLS-terminating
proxy in front of it). An address is ``<webhook token>@<SWITCHBOARD_MAILHOOK_DOMAIN>``.

The answers follow SMTP: a recipient that is not a mailhook is refused at ``RCPT`` (550), so the
sender learns it at once; an email is acknowledged (250) only after it was stored for every
recipient; a full queue, the rate limit or an unreachable store answers 451 (try again later),
which a sending server honours by retrying.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from typing import Any

from aiosmtpd.controller import Controller
from urllib3 import encode_multipart_formdata

from engine.maildelivery import EMAIL_FIELD, MAILHOOK, RECIPIENTS_FIELD
from engine.service import (
    PayloadTooLarge,
    RateLimited,
    Service,
    ServiceError,
    StoreUnavailable,
    WebhookQueueFull,
)

log = logging.getLogger("switchboard.mailhooks")

_TRY_LATER = (StoreUnavailable, RateLimited, WebhookQueueFull)


class MailhookHandler:
    """aiosmtpd handler: ``RCPT`` checks the address, ``DATA`` stores the email."""

    def __init__(self, service: Service, domain: str) -> None:
        self.service = service
        self.domain = domain.lower()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        token = self._token(address)
        if token is None or not await _in_thread(self._is_mailhook, token):
            return "550 5.1.1 no mailhook has this address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        body, content_type = encode_multipart_formdata(
            {
                # octet-stream, not message/rfc822: a parser would open that as a nested message
                EMAIL_FIELD: ("message.eml", bytes(raw), "application/octet-stream"),
                RECIPIENTS_FIELD: ",".join(envelope.rcpt_tos),
            }
        )
        for address in envelope.rcpt_tos:
            answer = await _in_thread(self._accept, self._token(address) or "", body, content_type)
            if answer is not None:
                return answer
        return "250 OK: queued"

    def _token(self, address: str) -> str | None:
        local, _, domain = address.rpartition("@")
        return local if local and domain.lower() == self.domain else None

    def _is_mailhook(self, token: str) -> bool:
        try:
            webhook = self.service.probe_webhook(token)
            if webhook.scenario_id is None:
                return False
            scenario = self.service.store.get_scenario(webhook.scenario_id)
            trigger = self.service.current_plan(scenario).trigger
        except ServiceError:
            return False
        except Exception:  # the store or the plan: refuse this address, keep serving
            log.exception("mailhook %s… could not be looked up", token[:6])
            return False
        return trigger is not None and trigger.module == MAILHOOK

    def _accept(self, token: str, body: bytes, content_type: str) -> str | None:
        """Store the email for one recipient; an SMTP error answer, or ``None`` when stored."""
        try:
            self.service.accept_webhook(
                token,
                method="POST",
                headers={"Content-Type": content_type},
                query={},
                body=body,
                content_type=content_type,
            )
        except PayloadTooLarge:
            return "552 5.3.4 the email is too large for this mailhook"
        except _TRY_LATER as error:
            return f"451 4.3.0 {error}; try again later"
        except ServiceError as error:
            return f"550 5.1.1 {error}"
        return None


async def _in_thread(function: Any, *args: Any) -> Any:
    """The service is synchronous: it runs beside the SMTP loop, never blocking it."""
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)


class MailhookReceiver:
    """The SMTP server, started and stopped with ``switchboard serve``."""

    def __init__(self, service: Service, *, host: str, port: int, domain: str) -> None:
        limit = service.settings.webhook_max_payload_bytes
        self.controller = Controller(
            MailhookHandler(service, domain),
            hostname=host,
            port=port,
            data_size_limit=limit,
            server_hostname=domain,
        )

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def receiver_from_env(
    service: Service, environ: Mapping[str, str] = os.environ
) -> MailhookReceiver | None:
    """The receiver ``SWITCHBOARD_MAILHOOK_*`` configure, or ``None`` when no port is set."""
    port = environ.get("SWITCHBOARD_MAILHOOK_PORT", "").strip()
    if not port:
        return None
    return MailhookReceiver(
        service,
        host=environ.get("SWITCHBOARD_MAILHOOK_HOST", "127.0.0.1"),
        port=int(port),
        domain=environ.get("SWITCHBOARD_MAILHOOK_DOMAIN", "localhost"),
    )
