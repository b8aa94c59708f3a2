"""Opening SMTP and IMAP sessions for an ``email`` connection.

A connection names its servers (host, port, security: ``tls`` from the first byte, ``starttls``
upgrade, or ``none``), one user and one password. Hosts pass the SSRF guard's address check
(``SWITCHBOARD_ALLOW_PRIVATE_NETWORK`` lets scenarios reach mail servers on a private network).
Failures become Make's error types: refused credentials ``AccountValidationError``, a server that
cannot be reached or times out ``ConnectionError``, a refused message ``DataError``.
"""

from __future__ import annotations

import imaplib
import smtplib
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from engine.errors import AccountValidationError, ConnectionError, InvalidConfigurationError
from engine.httpguard import check_host

TIMEOUT_SECONDS = 30.0
SECURITY = ("tls", "starttls", "none")


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    security: str


def server(connection: Mapping[str, Any], kind: str, default_port: int) -> Server:
    """The ``smtp`` or ``imap`` server of ``connection``."""
    host = str(connection.get(f"{kind}_host") or "").strip()
    if not host:
        raise InvalidConfigurationError(f"the email connection has no {kind.upper()} server")
    security = str(connection.get(f"{kind}_security") or "tls")
    if security not in SECURITY:
        raise InvalidConfigurationError(f"{kind.upper()} security must be tls, starttls or none")
    port = int(connection.get(f"{kind}_port") or default_port)
    return Server(host, port, security)


def _credentials(connection: Mapping[str, Any]) -> tuple[str, str]:
    return str(connection.get("username") or ""), str(connection.get("password") or "")


@contextmanager
def smtp_session(
    connection: Mapping[str, Any], *, allow_private_network: bool
) -> Iterator[smtplib.SMTP]:
    """A logged-in SMTP session (login skipped when the connection has no user)."""
    target = server(connection, "smtp", 587)
    check_host(target.host, target.port, allow_private_network=allow_private_network)
    try:
        session = _open_smtp(target)
    except (OSError, smtplib.SMTPException) as error:
        raise ConnectionError(f"cannot reach the SMTP server {target.host}: {error}") from None
    try:
        user, password = _credentials(connection)
        if user:
            try:
                session.login(user, password)
            except smtplib.SMTPAuthenticationError as error:
                raise AccountValidationError(
                    f"the SMTP server refused the login of {user}: {_reply(error)}"
                ) from None
        yield session
    except OSError as error:  # the server went away mid-way (SMTPServerDisconnected, timeouts)
        raise ConnectionError(f"the SMTP server {target.host} stopped answering: {error}") from None
    finally:
        try:
            session.quit()
        except (OSError, smtplib.SMTPException):
            session.close()


def _open_smtp(target: Server) -> smtplib.SMTP:
    if target.security == "tls":
        return smtplib.SMTP_SSL(
            target.host, target.port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    session = smtplib.SMTP(target.host, target.port, timeout=TIMEOUT_SECONDS)
    if target.security == "starttls":
        session.starttls(context=ssl.create_default_context())
    return session


def _reply(error: smtplib.SMTPResponseException) -> str:
    message = error.smtp_error
    text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
    return f"{error.smtp_code} {text}"


@contextmanager
def imap_session(
    connection: Mapping[str, Any], *, allow_private_network: bool
) -> Iterator[imaplib.IMAP4]:
    """A logged-in IMAP session."""
    target = server(connection, "imap", 993)
    check_host(target.host, target.port, allow_private_network=allow_private_network)
    try:
        session = _open_imap(target)
    except (OSError, imaplib.IMAP4.error) as error:
        raise ConnectionError(f"cannot reach the IMAP server {target.host}: {error}") from None
    try:
        user, password = _credentials(connection)
        try:
            session.login(user, password)
        except imaplib.IMAP4.error as error:
            raise AccountValidationError(
                f"the IMAP server refused the login of {user}: {error}"
            ) from None
        yield session
    except (OSError, imaplib.IMAP4.abort) as error:
        raise ConnectionError(f"the IMAP server {target.host} stopped answering: {error}") from None
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            session.logout()


def _open_imap(target: Server) -> imaplib.IMAP4:
    if target.security == "tls":
        return imaplib.IMAP4_SSL(
            target.host,
            target.port,
            ssl_context=ssl.create_default_context(),
            timeout=TIMEOUT_SECONDS,
        )
    session = imaplib.IMAP4(target.host, target.port, timeout=TIMEOUT_SECONDS)
    if target.security == "starttls":
        session.starttls(ssl_context=ssl.create_default_context())
    return session
