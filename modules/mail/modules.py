"""Send an email (``email:ActionSendEmail``) and watch emails (``email:TriggerNewEmail``).

Mapper and parameter names are those of Make's exports (``to``/``cc``/``bcc`` arrays,
``contentType`` html or text with the body in ``html`` or ``text``, ``attachments``
``[{fileName, data, cid}]``, ``priority``, ``headers [{key, value}]``; the trigger's ``folder``,
``criteria``, ``from``, ``to``, ``subject``, ``text``, ``markSeen``, ``maxResults``).

The watch trigger's cursor is the mailbox's ``UIDVALIDITY`` and the last UID output: each run
outputs the next matching emails oldest first, at most ``maxResults``.
"""

from __future__ import annotations

import imaplib
import mimetypes
import re
import smtplib
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, make_msgid, parsedate_to_datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.errors import BundleValidationError, DataError, InvalidConfigurationError
from engine.spec import Bundle, Effect, ModuleCall, ModuleKind, ModuleSpec
from modules.mail.servers import imap_session, smtp_session

_LAX = ConfigDict(extra="allow", populate_by_name=True)


# -- send -------------------------------------------------------------------------------------


class Attachment(BaseModel):
    model_config = _LAX

    fileName: str = "attachment"
    data: Any = b""
    cid: str | None = Field(default=None, title="Content-ID")


class HeaderPair(BaseModel):
    model_config = _LAX

    key: str
    value: Any = ""


def _addresses(value: Any) -> list[str]:
    """Make's address arrays hold text, ``{value}`` items or comma-joined text."""
    items = value if isinstance(value, list) else [] if value in (None, "") else [value]
    found: list[str] = []
    for item in items:
        text = item.get("value") if isinstance(item, Mapping) else item
        found += [part.strip() for part in str(text or "").split(",") if part.strip()]
    return found


class SendEmailParameters(BaseModel):
    model_config = _LAX

    account: Any = None
    saveAfterSent: bool = Field(default=False, title="Save message after sending")


class SendEmailInput(BaseModel):
    model_config = _LAX

    to: list[str] = []
    cc: list[str] = Field(default=[], title="Copy recipient")
    bcc: list[str] = Field(default=[], title="Blind copy recipient")
    from_: str = Field(default="", alias="from")
    sender: str = ""
    replyTo: str = Field(default="", title="Reply-To")
    inReplyTo: str = Field(default="", title="In-Reply-To")
    references: list[str] = []
    subject: str = ""
    contentType: Literal["html", "text"] = "html"
    html: str = ""
    text: str = ""
    attachments: list[Attachment] = []
    priority: Literal["high", "normal", "low"] = "normal"
    headers: list[HeaderPair] = []

    @field_validator("to", "cc", "bcc", "references", mode="before")
    @classmethod
    def _address_list(cls, value: Any) -> list[str]:
        return _addresses(value)

    @field_validator(
        "subject", "html", "text", "from_", "sender", "replyTo", "inReplyTo", mode="before"
    )
    @classmethod
    def _text(cls, value: Any) -> str:
        return "" if value is None else str(value)


_PRIORITY = {"high": ("1 (Highest)", "high"), "low": ("5 (Lowest)", "low")}


def build_message(data: SendEmailInput, default_from: str, domain: str) -> EmailMessage:
    """The message Make would send; a header that cannot be sent names its field."""
    message = EmailMessage(policy=policy.SMTP)
    headers: list[tuple[str, str, str]] = [
        ("From", data.from_ or default_from, "from"),
        ("Sender", data.sender, "sender"),
        ("To", ", ".join(data.to), "to"),
        ("Cc", ", ".join(data.cc), "cc"),
        ("Reply-To", data.replyTo, "replyTo"),
        ("In-Reply-To", data.inReplyTo, "inReplyTo"),
        ("References", " ".join(data.references), "references"),
        ("Subject", data.subject, "subject"),
        ("Message-ID", make_msgid(domain=domain or None), "messageId"),
    ]
    if data.priority in _PRIORITY:
        x_priority, importance = _PRIORITY[data.priority]
        headers += [("X-Priority", x_priority, "priority"), ("Importance", importance, "priority")]
    headers += [(h.key, str(h.value), f"headers[{i}]") for i, h in enumerate(data.headers)]
    for name, value, where in headers:
        if value:
            _set_header(message, name, value, where)
    body = data.html if data.contentType == "html" else data.text
    message.set_content(body, subtype="html" if data.contentType == "html" else "plain")
    for index, attachment in enumerate(data.attachments):
        _attach(message, attachment, f"attachments[{index}]")
    return message


def _set_header(message: EmailMessage, name: str, value: str, where: str) -> None:
    try:
        message[name] = value
    except (ValueError, TypeError) as error:
        raise BundleValidationError(f"{where}: {error}") from None


def _attach(message: EmailMessage, attachment: Attachment, where: str) -> None:
    data = attachment.data
    content = data if isinstance(data, bytes) else str(data if data is not None else "").encode()
    kind = mimetypes.guess_type(attachment.fileName)[0] or "application/octet-stream"
    maintype, subtype = kind.split("/", 1)
    headers = [f"Content-ID: <{attachment.cid}>"] if attachment.cid else None
    try:
        message.add_attachment(
            content,
            maintype=maintype,
            subtype=subtype,
            filename=attachment.fileName,
            headers=headers,
        )
    except (ValueError, TypeError) as error:
        raise BundleValidationError(f"{where}: {error}") from None


def send_email(call: ModuleCall) -> Iterator[Bundle]:
    """Send the message; ``messageId``, ``accepted`` and ``rejected`` recipients."""
    parameters = call.parameters_as(SendEmailParameters)
    data = call.input_as(SendEmailInput)
    if not (data.to or data.cc or data.bcc):
        raise BundleValidationError("to: the email has no recipient")
    connection = _connection(call, parameters.account)
    user = str(connection.get("username") or "")
    message = build_message(data, user, user.rpartition("@")[2])
    recipients = [*data.to, *data.cc, *data.bcc]
    allow = call.context.run.allow_private_network
    with smtp_session(connection, allow_private_network=allow) as smtp:
        try:
            refused = smtp.send_message(message, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as error:
            raise DataError(f"every recipient was refused: {_refusals(error.recipients)}") from None
        except smtplib.SMTPResponseException as error:
            raise DataError(f"the SMTP server refused the email: {error.smtp_code}") from None
    if parameters.saveAfterSent:
        _save_copy(connection, message, allow)
    yield {
        "messageId": message["Message-ID"],
        "accepted": [r for r in recipients if r not in refused],
        "rejected": sorted(refused),
    }


def _refusals(recipients: Mapping[str, Any]) -> str:
    return ", ".join(f"{address} ({code})" for address, (code, _) in recipients.items())


def _save_copy(connection: Mapping[str, Any], message: EmailMessage, allow: bool) -> None:
    folder = str(connection.get("sent_folder") or "Sent")
    with imap_session(connection, allow_private_network=allow) as imap:
        status, answer = imap.append(
            _mailbox(folder), r"(\Seen)", imaplib.Time2Internaldate(time.time()), message.as_bytes()
        )
    if status != "OK":
        raise DataError(f"the sent email could not be saved in {folder}: {answer}")


def _connection(call: ModuleCall, account: Any) -> Mapping[str, Any]:
    if account in (None, ""):
        raise InvalidConfigurationError("choose an email connection (parameters.account)")
    connection = call.context.connection(account)
    app = getattr(connection, "app", "email")
    if app != "email":
        raise InvalidConfigurationError(f"connection {account} is a {app} connection, not email")
    return connection


# -- watch ------------------------------------------------------------------------------------


class WatchEmailParameters(BaseModel):
    model_config = _LAX

    account: Any = None
    folder: str = "INBOX"
    criteria: Literal["ALL", "SEEN", "UNSEEN"] = "ALL"
    from_: str = Field(default="", alias="from")
    to: str = ""
    subject: str = ""
    text: str = ""
    markSeen: bool = False
    maxResults: int = Field(default=1, ge=1, strict=False, title="Maximum number of results")


def watch_emails(call: ModuleCall) -> Iterator[Bundle]:
    """New emails in ``folder`` matching the search, oldest first, at most ``maxResults``."""
    settings = call.parameters_as(WatchEmailParameters)
    connection = _connection(call, settings.account)
    allow = call.context.run.allow_private_network
    with imap_session(connection, allow_private_network=allow) as imap:
        validity = _select(imap, settings.folder, readonly=not settings.markSeen)
        last = _last_uid(call.context.cursor, validity)
        if last is None:
            last = _start_after(imap, call)
        uids = [uid for uid in _search(imap, settings, after=last) if uid > last]
        chosen = sorted(uids)[: settings.maxResults]
        call.context.advance_cursor({"uidvalidity": validity, "uid": max([last, *chosen])})
        for uid in chosen:
            raw = _fetch(imap, uid)
            if settings.markSeen:
                imap.uid("STORE", str(uid), "+FLAGS", r"(\Seen)")
            yield email_bundle(raw, uid, settings.folder)


def _mailbox(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _select(imap: imaplib.IMAP4, folder: str, *, readonly: bool) -> int:
    status, answer = imap.select(_mailbox(folder), readonly=readonly)
    if status != "OK":
        raise DataError(f"the folder {folder!r} cannot be opened: {_text(answer)}")
    validity = imap.response("UIDVALIDITY")[1]
    return int(validity[0]) if validity and validity[0] else 0


def _last_uid(cursor: Any, validity: int) -> int | None:
    if isinstance(cursor, Mapping) and cursor.get("uidvalidity") == validity:
        return int(cursor.get("uid") or 0)
    return None  # no cursor yet, or the mailbox was rebuilt: its UIDs mean something else


def _start_after(imap: imaplib.IMAP4, call: ModuleCall) -> int:
    """The UID to start after when the trigger has no cursor ("choose where to start")."""
    choice = call.context.start or {"type": "now"}
    if choice.get("type") == "all":
        return 0
    if choice.get("type") == "since":
        since = datetime.fromisoformat(str(choice.get("date")).replace("Z", "+00:00"))
        older = _uid_search(imap, ["BEFORE", since.strftime("%d-%b-%Y")])
        return max(older, default=0)
    return max(_uid_search(imap, ["ALL"]), default=0)


def _search(imap: imaplib.IMAP4, settings: WatchEmailParameters, *, after: int) -> list[int]:
    terms = [settings.criteria, "UID", f"{after + 1}:*"]
    for key, value in (
        ("FROM", settings.from_),
        ("TO", settings.to),
        ("SUBJECT", settings.subject),
        ("TEXT", settings.text),
    ):
        if value:
            terms += [key, _quoted(value)]
    return _uid_search(imap, terms)


def _quoted(value: str) -> str:
    if re.search(r"[\r\n]", value):
        raise InvalidConfigurationError("a search value cannot contain a line break")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _uid_search(imap: imaplib.IMAP4, terms: Sequence[str]) -> list[int]:
    status, answer = imap.uid("SEARCH", *terms)
    if status != "OK":
        raise DataError(f"the IMAP search failed: {_text(answer)}")
    return [int(uid) for uid in b" ".join(a for a in answer if a).split()]


def _fetch(imap: imaplib.IMAP4, uid: int) -> bytes:
    status, answer = imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
    for part in answer or []:
        if isinstance(part, tuple) and len(part) == 2:
            return part[1]
    raise DataError(f"email {uid} could not be read: {status} {_text(answer)}")


def _text(answer: Any) -> str:
    parts = answer if isinstance(answer, list) else [answer]
    return " ".join(p.decode(errors="replace") if isinstance(p, bytes) else str(p) for p in parts)


def email_bundle(raw: bytes, uid: int, folder: str) -> dict[str, Any]:
    """One email as Make's Watch emails outputs it."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    return {
        "id": uid,
        "messageId": message.get("Message-ID"),
        "date": _date(message.get("Date")),
        "from": next(iter(_people(message, "from")), None),
        "to": _people(message, "to"),
        "cc": _people(message, "cc"),
        "replyTo": _people(message, "reply-to"),
        "subject": message.get("Subject") or "",
        "text": text_part.get_content() if text_part else "",
        "html": html_part.get_content() if html_part else "",
        "attachments": [_attachment(part) for part in message.iter_attachments()],
        "headers": _headers(message),
        "size": len(raw),
        "folder": folder,
    }


def _people(message: Message, header: str) -> list[dict[str, str]]:
    values = [str(v) for v in message.get_all(header) or []]
    return [{"name": name, "address": address} for name, address in getaddresses(values) if address]


def _date(value: Any) -> str | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _attachment(part: Message) -> dict[str, Any]:
    data = part.get_payload(decode=True) or b""
    content_id = (part.get("Content-ID") or "").strip("<>") or None
    return {
        "fileName": part.get_filename() or "attachment",
        "contentType": part.get_content_type(),
        "fileSize": len(data),
        "data": data,
        "contentId": content_id,
    }


def _headers(message: Message) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in message.items():
        headers.setdefault(name.lower(), []).append(str(value))
    return headers


EMAIL_MODULES: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        id="email:ActionSendEmail",
        kind=ModuleKind.ACTION,
        label="Send an email",
        version=7,
        parameters=SendEmailParameters,
        input=SendEmailInput,
        run=send_email,
        effect=Effect.CREATE,
    ),
    ModuleSpec(
        id="email:TriggerNewEmail",
        kind=ModuleKind.TRIGGER,
        label="Watch emails",
        version=7,
        parameters=WatchEmailParameters,
        run=watch_emails,
        effect=Effect.WATCH,
    ),
)
