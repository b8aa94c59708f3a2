"""The ``email`` connection: SMTP and IMAP servers, one user and one password."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.httpguard import allows_private_network
from engine.spec import AuthType, ConnectionField, ConnectionKind
from modules.mail.servers import imap_session, smtp_session

_SECURITY_HELP = "tls (from the first byte), starttls (upgrade after connecting) or none"


def test_connection(connection: Mapping[str, Any], session: Any) -> dict[str, Any]:
    """Log in to each server the connection names."""
    allow = allows_private_network(session)
    tested: dict[str, Any] = {"user": connection.get("username")}
    if connection.get("smtp_host"):
        with smtp_session(connection, allow_private_network=allow):
            tested["smtp"] = connection.get("smtp_host")
    if connection.get("imap_host"):
        with imap_session(connection, allow_private_network=allow) as imap:
            tested["imap"] = connection.get("imap_host")
            tested["folders"] = len(imap.list()[1] or [])
    return tested


EMAIL_CONNECTION = ConnectionKind(
    id="email",
    label="Email (SMTP/IMAP)",
    auth=AuthType.BASIC,
    fields=(
        ConnectionField(name="smtp_host", label="SMTP server", required=False),
        ConnectionField(name="smtp_port", label="SMTP port", default=587, required=False),
        ConnectionField(
            name="smtp_security",
            label="SMTP security",
            default="starttls",
            required=False,
            help=_SECURITY_HELP,
        ),
        ConnectionField(name="imap_host", label="IMAP server", required=False),
        ConnectionField(name="imap_port", label="IMAP port", default=993, required=False),
        ConnectionField(
            name="imap_security",
            label="IMAP security",
            default="tls",
            required=False,
            help=_SECURITY_HELP,
        ),
        ConnectionField(name="username", label="User name"),
        ConnectionField(name="password", label="Password", secret=True),
        ConnectionField(
            name="sent_folder",
            label="Sent folder",
            default="Sent",
            required=False,
            advanced=True,
            help='Where "Save message after sending" puts a copy (IMAP).',
        ),
    ),
    test=test_connection,
)
