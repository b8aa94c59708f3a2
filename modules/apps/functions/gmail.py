"""Helpers for Gmail: MIME messages for ``users.messages.send`` (``raw``, base64url), Gmail's
message resources as Make's bundles, search queries and attachment parts."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses, make_msgid
from typing import Any

from engine.mapping.functions.registry import FunctionError
from modules.apps.functions import helper

SYSTEM_LABELS = frozenset(
    {"INBOX", "SENT", "DRAFT", "SPAM", "TRASH", "UNREAD", "STARRED", "IMPORTANT", "CHAT"}
)


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@helper("base64url", (1, 1))
def base64url(ctx: Any, value: Any) -> str:
    """``value`` (text or binary) in base64url without padding, as Gmail's ``raw`` wants."""
    data = value if isinstance(value, bytes) else str(value or "").encode("utf-8")
    return b64url_encode(data)


@helper("fromBase64url", (1, 1))
def from_base64url(ctx: Any, text: Any) -> bytes:
    """The binary data of base64url text (an attachment's ``data``)."""
    try:
        return b64url_decode(str(text or ""))
    except ValueError as error:
        raise FunctionError(f"not base64url: {error}") from None


@helper("mimeMessage", (1, 1))
def mime_message(ctx: Any, message: Any) -> str:
    """A whole email as base64url MIME, from a collection of ``from``, ``to``, ``cc``, ``bcc``
    (addresses or lists of them), ``subject``, ``html`` or ``contents`` (Make's body parts:
    ``[{text, image: {filename, data}}]``), ``text``, ``attachments`` (``[{filename|fileName,
    data, cid?, mimeType?}]``), ``headers`` (``[{key, value}]``), ``inReplyTo``, ``references``."""
    if not isinstance(message, Mapping):
        raise FunctionError("mimeMessage needs a collection")
    email = EmailMessage()
    for header, key in (("From", "from"), ("To", "to"), ("Cc", "cc"), ("Bcc", "bcc")):
        addresses = _addresses(message.get(key))
        if addresses:
            email[header] = ", ".join(addresses)
    email["Subject"] = str(message.get("subject") or "")
    if message.get("inReplyTo"):
        email["In-Reply-To"] = str(message["inReplyTo"])
    if message.get("references"):
        email["References"] = str(message["references"])
    for header in message.get("headers") or []:
        value = header.get("value") if isinstance(header, Mapping) else None
        if isinstance(header, Mapping) and header.get("key") and value is not None:
            email[str(header["key"])] = str(value)
    body, inline = _body(message)
    text = message.get("text")
    if body is not None:
        email.set_content(str(text) if text else _plain(body))
        email.add_alternative(body, subtype="html")
        *_, html_part = email.iter_parts()  # [text, html] once the alternative is added
        for image in inline:
            html_part.add_related(
                image["data"], *_mime(image), cid=f"<{image['cid']}>", filename=image["filename"]
            )
    else:
        email.set_content(str(text or ""))
    for attachment in message.get("attachments") or []:
        attachment = attachment.get("value", attachment) if isinstance(attachment, Mapping) else {}
        data = attachment.get("data")
        if data in (None, ""):
            continue
        name = str(attachment.get("filename") or attachment.get("fileName") or "attachment")
        content = data if isinstance(data, bytes) else str(data).encode("utf-8")
        main, sub = _mime({"filename": name, "mimeType": attachment.get("mimeType")})
        email.add_attachment(content, maintype=main, subtype=sub, filename=name)
    if "Message-ID" not in email:
        email["Message-ID"] = make_msgid(domain="switchboard.local")
    return b64url_encode(email.as_bytes())


def _addresses(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    items = value if isinstance(value, list) else [value]
    found: list[str] = []
    for item in items:
        if isinstance(item, Mapping):
            item = item.get("value") or item.get("email") or item.get("address")
        if item not in (None, ""):
            found.extend(part.strip() for part in str(item).split(",") if part.strip())
    return found


def _body(message: Mapping[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
    """The HTML body and the inline images of Make's body contents."""
    if message.get("html") not in (None, ""):
        return str(message["html"]), []
    contents = message.get("contents")
    if not contents:
        return None, []
    parts: list[str] = []
    inline: list[dict[str, Any]] = []
    for index, content in enumerate(contents):
        content = content.get("value", content) if isinstance(content, Mapping) else {}
        if content.get("text"):
            parts.append(html.escape(str(content["text"])).replace("\n", "<br>"))
        image = content.get("image") or {}
        if image.get("data") not in (None, ""):
            cid = f"image{index}@switchboard.local"
            data = (
                image["data"] if isinstance(image["data"], bytes) else str(image["data"]).encode()
            )
            filename = str(image.get("filename") or f"image{index}")
            inline.append({"cid": cid, "data": data, "filename": filename})
            parts.append(f'<img src="cid:{cid}" alt="{html.escape(filename)}">')
    return "<br>".join(parts), inline


def _plain(markup: str) -> str:
    import re

    text = re.sub(r"<br\s*/?>|</p>|</div>", "\n", markup, flags=re.I)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def _mime(part: Mapping[str, Any]) -> tuple[str, str]:
    import mimetypes

    kind = part.get("mimeType") or mimetypes.guess_type(str(part.get("filename") or ""))[0]
    main, _, sub = str(kind or "application/octet-stream").partition("/")
    return main, sub or "octet-stream"


# -- reading ----------------------------------------------------------------------------------


@helper("gmailMessage", (1, 1))
def gmail_message(ctx: Any, resource: Any) -> dict[str, Any]:
    """A Gmail message resource (``format=full``) as Make's Gmail bundle: headers by name,
    ``subject``, ``fromName``/``fromEmail``, ``to``/``cc``/``bcc`` (``[{name, email}]``),
    ``fullTextBody``, ``htmlBody``, ``attachments`` and the message's folders."""
    if not isinstance(resource, Mapping):
        raise FunctionError("gmailMessage needs a message resource")
    payload = resource.get("payload") or {}
    headers = {h.get("name"): h.get("value") for h in payload.get("headers") or []}
    texts, htmls, attachments = _walk(payload)
    labels = list(resource.get("labelIds") or [])
    sender = _people(headers.get("From"))
    milliseconds = int(resource.get("internalDate") or 0)
    return {
        "id": resource.get("id"),
        "threadId": resource.get("threadId"),
        "internalDate": datetime.fromtimestamp(milliseconds / 1000, UTC),
        "subject": headers.get("Subject", ""),
        "fromName": sender[0]["name"] if sender else "",
        "fromEmail": sender[0]["email"] if sender else "",
        "to": _people(headers.get("To")),
        "cc": _people(headers.get("Cc")),
        "bcc": _people(headers.get("Bcc")),
        "replyTo": headers.get("Reply-To", ""),
        "snippet": resource.get("snippet", ""),
        "fullTextBody": "\n".join(texts),
        "htmlBody": "\n".join(htmls),
        "hasAttachment": any(not a["inline"] for a in attachments),
        "hasMedia": any(a["inline"] for a in attachments),
        "attachments": [{k: v for k, v in a.items() if k != "inline"} for a in attachments],
        "sysFolders": [{"id": x, "name": x} for x in labels if x in SYSTEM_LABELS],
        "categoryFolders": [{"id": x, "name": x} for x in labels if x.startswith("CATEGORY_")],
        "userLabelFolders": [{"id": x, "name": x} for x in labels if x.startswith("Label_")],
        "labelIds": labels,
        "headers": headers,
        "sizeEstimate": resource.get("sizeEstimate"),
        "historyId": resource.get("historyId"),
    }


@helper("gmailLegacyMessage", (1, 1))
def gmail_legacy_message(ctx: Any, resource: Any) -> dict[str, Any]:
    """A Gmail message as the legacy (v2) Gmail trigger's bundle, shaped like the Email app's:
    ``from``/``to`` as ``{address, name}``, ``subject``, ``text``, ``html``, ``date``."""
    message = gmail_message(ctx, resource)
    sender = {"address": message["fromEmail"], "name": message["fromName"]}
    return {
        "id": message["id"],
        "threadId": message["threadId"],
        "date": message["internalDate"],
        "from": sender,
        "to": [{"address": p["email"], "name": p["name"]} for p in message["to"]],
        "cc": [{"address": p["email"], "name": p["name"]} for p in message["cc"]],
        "subject": message["subject"],
        "text": message["fullTextBody"],
        "html": message["htmlBody"],
        "attachments": message["attachments"],
        "headers": message["headers"],
    }


@helper("gmailAttachmentParts", (1, 2))
def gmail_attachment_parts(ctx: Any, resource: Any, include: Any = None) -> list[Any]:
    """The attachment parts of a message resource (``include``: ``attachment`` and/or
    ``media``, the inline images): ``[{attachmentId, filename, mimeType, size}]``."""
    wanted = set(include or ["attachment", "media"])
    _, _, attachments = _walk((resource or {}).get("payload") or {})
    return [
        {k: v for k, v in a.items() if k != "inline"}
        for a in attachments
        if ("media" if a["inline"] else "attachment") in wanted
    ]


def _walk(part: Mapping[str, Any]) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[dict[str, Any]] = []
    kind = str(part.get("mimeType") or "")
    body = part.get("body") or {}
    if part.get("filename"):
        headers = {h.get("name", "").lower(): h.get("value", "") for h in part.get("headers") or []}
        attachments.append(
            {
                "attachmentId": body.get("attachmentId"),
                "filename": part["filename"],
                "mimeType": kind,
                "size": body.get("size"),
                "inline": "inline" in headers.get("content-disposition", "").lower(),
            }
        )
    elif kind == "text/plain" and body.get("data"):
        texts.append(b64url_decode(body["data"]).decode("utf-8", "replace"))
    elif kind == "text/html" and body.get("data"):
        htmls.append(b64url_decode(body["data"]).decode("utf-8", "replace"))
    for child in part.get("parts") or []:
        more_texts, more_htmls, more_attachments = _walk(child)
        texts += more_texts
        htmls += more_htmls
        attachments += more_attachments
    return texts, htmls, attachments


def _people(value: Any) -> list[dict[str, str]]:
    return [
        {"name": name, "email": email} for name, email in getaddresses([str(value or "")]) if email
    ]


@helper("gmailQuery", (1, 1))
def gmail_query(ctx: Any, parameters: Any) -> str:
    """Gmail's search query from the watch trigger's settings: a Gmail filter as it is, or
    the simple search's criteria, sender, subject, words, attachment and size."""
    settings = parameters if isinstance(parameters, Mapping) else {}
    if settings.get("filterType") not in (None, "", "simpleSearch"):
        return " ".join(str(settings.get("q") or "").split())  # a Gmail search as written
    terms = [str(settings.get("criteria") or "")]
    if settings.get("from"):
        terms.append(f"from:({settings['from']})")
    if settings.get("subject"):
        terms.append(f"subject:({settings['subject']})")
    if settings.get("includeWords"):
        terms.append(str(settings["includeWords"]))
    if settings.get("excludeWords"):
        terms.extend(f"-{word}" for word in str(settings["excludeWords"]).split())
    if settings.get("hasAttachment") is True:
        terms.append("has:attachment")
    size = settings.get("size") or {}
    if isinstance(size, Mapping) and size.get("amount") not in (None, ""):
        terms.append(
            f"{size.get('criteria') or 'larger'}:{size['amount']}{size.get('unit') or 'M'}"
        )
    return " ".join(term for term in terms if term)


@helper("gmailLegacyQuery", (1, 1))
def gmail_legacy_query(ctx: Any, parameters: Any) -> str:
    """Gmail's search query from the legacy trigger's settings (criteria UNSEEN/SEEN/ALL,
    sender, subject, search phrase; a Gmail filter's phrase as it is)."""
    settings = parameters if isinstance(parameters, Mapping) else {}
    if settings.get("searchType") == "gmail":
        return str(settings.get("text") or "")
    criteria = {"UNSEEN": "is:unread", "SEEN": "is:read"}.get(str(settings.get("criteria")), "")
    terms = [criteria]
    if settings.get("from"):
        terms.append(f"from:({settings['from']})")
    if settings.get("subject"):
        terms.append(f"subject:({settings['subject']})")
    if settings.get("text"):
        terms.append(str(settings["text"]))
    return " ".join(term for term in terms if term)


@helper("gmailReply", (1, 2))
def gmail_reply(ctx: Any, resource: Any, mode: Any = "reply") -> dict[str, Any]:
    """The recipients, subject and threading headers of a reply to a message resource (the
    thread's last message): its ``Reply-To`` or sender, and for ``replyAll`` its other
    recipients too."""
    headers = {
        h.get("name", "").lower(): h.get("value", "")
        for h in ((resource or {}).get("payload") or {}).get("headers") or []
    }
    subject = str(headers.get("subject") or "")
    reply: dict[str, Any] = {
        "to": headers.get("reply-to") or headers.get("from") or "",
        "subject": subject if subject.lower().startswith("re:") else f"Re: {subject}".strip(),
        "inReplyTo": headers.get("message-id") or "",
        "references": " ".join(
            part for part in (headers.get("references"), headers.get("message-id")) if part
        ),
    }
    if str(mode) == "replyAll":
        reply["cc"] = ", ".join(part for part in (headers.get("to"), headers.get("cc")) if part)
    return reply


@helper("gmailAfter", (1, 1))
def gmail_after(ctx: Any, last_date: Any) -> str:
    """``after:<seconds>``: the search term for mail newer than a trigger's last date (Gmail
    compares whole seconds, so the trigger still drops what it already output)."""
    if last_date in (None, ""):
        return ""
    moment = (
        last_date if isinstance(last_date, datetime) else datetime.fromisoformat(str(last_date))
    )
    return f"after:{int(moment.timestamp())}"
