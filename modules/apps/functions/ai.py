"""Helpers for the AI apps (OpenAI, Anthropic Claude, Google Gemini, Perplexity): the text of a
model's answer, read as JSON when it is JSON (as Make's ``result``), and Make's message parts
as each API's."""

from __future__ import annotations

import json
import mimetypes
import re
from collections.abc import Mapping
from typing import Any

from modules.apps.functions import helper

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL | re.IGNORECASE)


@helper("aiResult", (1, 2))
def ai_result(ctx: Any, text: Any, parse: Any = True) -> Any:
    """A model's answer: the collection or array its text is when it is JSON (a Markdown code
    fence around it is taken off), else the text."""
    if not isinstance(text, str) or not parse:
        return text
    fenced = _FENCE.match(text)
    candidate = fenced.group(1) if fenced else text.strip()
    if candidate[:1] in ("{", "["):
        try:
            return json.loads(candidate)
        except ValueError:
            return text
    return text


@helper("aiText", (1, 1))
def ai_text(ctx: Any, blocks: Any) -> str:
    """The text blocks of an answer joined (Anthropic's ``content``, Gemini's ``parts``)."""
    if isinstance(blocks, str):
        return blocks
    texts = [
        str(block.get("text"))
        for block in blocks or []
        if isinstance(block, Mapping) and block.get("text") is not None and not block.get("thought")
    ]
    return "".join(texts)


@helper("geminiContents", (1, 1))
def gemini_contents(ctx: Any, contents: Any) -> list[Any]:
    """Make's Gemini messages as the API's ``contents``: each part keeps the field its
    ``type`` names (``text``, ``file_data``, …)."""
    messages = []
    for message in contents or []:
        if not isinstance(message, Mapping):
            continue
        parts = []
        for part in message.get("parts") or []:
            if not isinstance(part, Mapping):
                continue
            kind = part.get("type") or "text"
            field = {
                "file": "file_data",
                "functionCall": "function_call",
                "functionResponse": "function_response",
            }.get(kind, kind)
            value = part.get(field, part.get(kind))
            if value not in (None, ""):
                parts.append({field: value})
        messages.append({"role": message.get("role") or "user", "parts": parts})
    return messages


@helper("mimeType", (1, 1))
def mime_type(ctx: Any, filename: Any) -> str:
    """The MIME type a file name suggests (``application/octet-stream`` when none)."""
    return mimetypes.guess_type(str(filename or ""))[0] or "application/octet-stream"
