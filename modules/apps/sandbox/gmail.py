"""Route handlers of the Gmail sandbox (Gmail API v1, ``users/me``).

Messages are kept simply — ``{id, threadId, labelIds, internalDate, from, to, cc, subject,
text, html, attachments: [{filename, mimeType, data}], messageId}`` — and shown as Gmail's
message resources (a ``payload`` of MIME parts, base64url bodies, attachment ids). A sent
``raw`` message is parsed back into that form, so what a scenario sent can be read as a user
would read it. Searches understand ``is:unread``/``is:read``, ``from:``, ``to:``,
``subject:``, ``has:attachment``, ``in:``/``label:`` and plain words.
"""

from __future__ import annotations

import re
import shlex
from email import policy
from email.parser import BytesParser
from typing import Any

import flask

from modules.apps.functions.gmail import b64url_decode, b64url_encode
from modules.apps.sandbox.routes import AppSandbox, SandboxRequest
from modules.sandboxing import json_response

MESSAGES = "gmail_messages"


def _error(status: int, message: str) -> flask.Response:
    reason = {400: "invalidArgument", 404: "notFound"}.get(status, "failedPrecondition")
    body = {"error": {"code": status, "message": message, "errors": [{"reason": reason}]}}
    return json_response(body, status)


def _data(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value or "").encode("utf-8")


def resource(message: dict[str, Any], format_: str = "full") -> dict[str, Any]:
    """A stored message as Gmail's message resource."""
    headers = [
        {"name": name, "value": message[key]}
        for name, key in (
            ("From", "from"),
            ("To", "to"),
            ("Cc", "cc"),
            ("Subject", "subject"),
            ("Message-ID", "messageId"),
            ("In-Reply-To", "inReplyTo"),
        )
        if message.get(key)
    ]
    parts = []
    if message.get("text"):
        parts.append(_part("text/plain", _data(message["text"])))
    if message.get("html"):
        parts.append(_part("text/html", _data(message["html"])))
    for index, attachment in enumerate(message.get("attachments") or []):
        data = _data(attachment.get("data"))
        parts.append(
            {
                "partId": str(len(parts)),
                "mimeType": attachment.get("mimeType") or "application/octet-stream",
                "filename": attachment.get("filename"),
                "headers": [{"name": "Content-Disposition", "value": "attachment"}],
                "body": {"attachmentId": f"{message['id']}-{index}", "size": len(data)},
            }
        )
    payload: dict[str, Any] = {"mimeType": "multipart/mixed", "headers": headers, "parts": parts}
    if format_ == "metadata":
        payload = {"headers": headers}
    text = str(message.get("text") or message.get("html") or "")
    return {
        "id": message["id"],
        "threadId": message.get("threadId") or message["id"],
        "labelIds": list(message.get("labelIds") or []),
        "snippet": re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()[:100],
        "internalDate": str(message.get("internalDate") or 0),
        "historyId": str(message.get("historyId") or 1),
        "sizeEstimate": len(text),
        "payload": payload,
    }


def _part(kind: str, data: bytes) -> dict[str, Any]:
    return {
        "mimeType": kind,
        "filename": "",
        "body": {"size": len(data), "data": b64url_encode(data)},
    }


def list_messages(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    messages = list(sandbox.state.records[MESSAGES].values())
    labels = [x for x in str(request.query.get("labelIds") or "").split(",") if x]
    found = [
        m
        for m in messages
        if all(x in (m.get("labelIds") or []) for x in labels)
        and _matches(m, request.query.get("q"))
    ]
    found.sort(key=lambda m: int(m.get("internalDate") or 0), reverse=True)
    limit = int(request.query.get("maxResults") or 100)
    body: dict[str, Any] = {"resultSizeEstimate": len(found)}
    if found:
        body["messages"] = [
            {"id": m["id"], "threadId": m.get("threadId") or m["id"]} for m in found[:limit]
        ]
    return json_response(body)


def _matches(message: dict[str, Any], query: Any) -> bool:
    try:
        terms = shlex.split(str(query or ""))
    except ValueError:
        terms = str(query or "").split()
    labels = set(message.get("labelIds") or [])
    for term in terms:
        negate = term.startswith("-")
        term = term.lstrip("-")
        key, _, value = term.partition(":") if ":" in term else ("", "", term)
        value = value.strip("()").lower()
        if key == "is":
            holds = ("UNREAD" in labels) == (value == "unread")
        elif key in ("in", "label"):
            holds = value.upper() in labels
        elif key == "has":
            holds = bool(message.get("attachments")) if value == "attachment" else True
        elif key in ("from", "to", "subject"):
            holds = value in str(message.get(key) or "").lower()
        elif key in ("larger", "smaller"):
            holds = True
        elif key == "after":
            holds = int(message.get("internalDate") or 0) >= int(value) * 1000
        else:
            text = (
                f"{message.get('subject', '')} {message.get('text', '')} {message.get('html', '')}"
            )
            holds = term.lower() in text.lower()
        if holds == negate:
            return False
    return True


def _message(sandbox: AppSandbox, request: SandboxRequest) -> dict[str, Any] | None:
    return sandbox.state.records[MESSAGES].get(str(request.path.get("id")))


def get_message(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    message = _message(sandbox, request)
    if message is None:
        return _error(404, "Requested entity was not found.")
    return json_response(resource(message, str(request.query.get("format") or "full")))


def modify_message(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    message = _message(sandbox, request)
    if message is None:
        return _error(404, "Requested entity was not found.")
    body = request.body or {}
    labels = [
        x for x in message.get("labelIds") or [] if x not in (body.get("removeLabelIds") or [])
    ]
    labels += [x for x in body.get("addLabelIds") or [] if x not in labels]
    message["labelIds"] = labels
    return json_response(
        {"id": message["id"], "threadId": message.get("threadId"), "labelIds": labels}
    )


def get_attachment(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    message = _message(sandbox, request)
    _, _, index = str(request.path.get("attachment")).rpartition("-")
    attachments = (message or {}).get("attachments") or []
    if message is None or not index.isdigit() or int(index) >= len(attachments):
        return _error(404, "Requested entity was not found.")
    data = _data(attachments[int(index)].get("data"))
    return json_response({"size": len(data), "data": b64url_encode(data)})


def get_thread(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    thread = str(request.path.get("id"))
    messages = [
        m
        for m in sandbox.state.records[MESSAGES].values()
        if (m.get("threadId") or m["id"]) == thread
    ]
    if not messages:
        return _error(404, "Requested entity was not found.")
    messages.sort(key=lambda m: int(m.get("internalDate") or 0))
    format_ = str(request.query.get("format") or "full")
    return json_response({"id": thread, "messages": [resource(m, format_) for m in messages]})


def send_message(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    body = request.body or {}
    try:
        email = BytesParser(policy=policy.default).parsebytes(
            b64url_decode(str(body.get("raw") or ""))
        )
    except (ValueError, TypeError):
        return _error(400, "Invalid value for ByteString")
    if not email["To"] and not email["Cc"] and not email["Bcc"]:
        return _error(400, "Invalid To header")
    number = sandbox.state.next_number(MESSAGES)
    identifier = f"sent{number:06d}"
    record = {
        "id": identifier,
        "threadId": body.get("threadId") or identifier,
        "labelIds": ["SENT"],
        "internalDate": int(sandbox.state.now().timestamp() * 1000) + number,
        "from": str(email["From"] or "sandbox@example.com"),
        "to": str(email["To"] or ""),
        "cc": str(email["Cc"] or ""),
        "bcc": str(email["Bcc"] or ""),
        "subject": str(email["Subject"] or ""),
        "messageId": str(email["Message-ID"] or ""),
        "inReplyTo": str(email["In-Reply-To"] or ""),
        "text": _body_of(email, "plain"),
        "html": _body_of(email, "html"),
        "attachments": [
            {
                "filename": part.get_filename(),
                "mimeType": part.get_content_type(),
                "data": part.get_payload(decode=True),
            }
            for part in email.iter_attachments()
        ],
    }
    sandbox.state.records[MESSAGES][identifier] = record
    return json_response({"id": identifier, "threadId": record["threadId"], "labelIds": ["SENT"]})


def _body_of(email: Any, subtype: str) -> str:
    part = email.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return ""
    return str(part.get_content())
