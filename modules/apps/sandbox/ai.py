"""Route handlers of the AI sandboxes (OpenAI, Anthropic, Gemini, Perplexity): each answers in
its vendor's shape with a reply chosen from the ``ai_replies`` collection.

A reply is ``{"match": "text in the prompt", "content": "what the model says"}``; the first
whose ``match`` occurs in the request's prompt (every message's text, joined) answers, a reply
without ``match`` answers anything; with none, the model says ``Sandbox reply to: <the last
message>``. Tests seed the replies their scenario's next steps parse (JSON, sections …).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import flask

from modules.apps.sandbox.routes import AppSandbox, SandboxRequest
from modules.sandboxing import json_response

REPLIES = "ai_replies"
IMAGE = b"\x89PNG\r\n\x1a\nsandbox-image"


def _texts(value: Any) -> Iterable[str]:
    """Every text inside messages, whatever the vendor's nesting."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key in ("text", "content", "parts", "system", "system_instruction", "prompt"):
            if key in value:
                yield from _texts(value[key])
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def reply_for(sandbox: AppSandbox, prompt: str, last: str) -> str:
    for reply in sandbox.state.records[REPLIES].values():
        match = reply.get("match")
        if not match or str(match) in prompt:
            return str(reply.get("content") or "")
    return f"Sandbox reply to: {last[:200]}"


def _prompt(body: Mapping[str, Any], *keys: str) -> tuple[str, str]:
    texts = [text for key in keys for text in _texts(body.get(key))]
    return "\n".join(texts), texts[-1] if texts else ""


def _usage(prompt: str, answer: str) -> dict[str, int]:
    tokens_in, tokens_out = len(prompt.split()), len(answer.split())
    return {
        "prompt_tokens": tokens_in,
        "completion_tokens": tokens_out,
        "total_tokens": tokens_in + tokens_out,
    }


def _refuse(message: str) -> flask.Response:
    return json_response({"error": {"message": message, "type": "invalid_request_error"}}, 400)


def openai_chat(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    body = request.body or {}
    if not body.get("model") or not body.get("messages"):
        return _refuse("you must provide a model parameter and messages")
    prompt, last = _prompt(body, "messages")
    answer = reply_for(sandbox, prompt, last)
    number = sandbox.state.next_number(REPLIES)
    choices = [
        {
            "index": index,
            "message": {"role": "assistant", "content": answer, "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
        for index in range(int(body.get("n") or 1))
    ]
    result = {
        "id": f"chatcmpl-sandbox{number}",
        "object": "chat.completion",
        "created": int(sandbox.state.now().timestamp()),
        "model": body["model"],
        "choices": choices,
        "usage": _usage(prompt, answer),
    }
    if request.vars.get("vendor") == "perplexity":
        result["citations"] = ["https://example.com/sandbox-source"]
    return json_response(result)


def openai_image(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    body = request.body or {}
    if not body.get("prompt"):
        return _refuse("prompt is required")
    number = sandbox.state.next_number(REPLIES)
    if body.get("response_format") == "b64_json":
        import base64

        item = {"b64_json": base64.b64encode(IMAGE).decode()}
    else:
        host = request.headers.get("Host", "localhost")
        item = {"url": f"http://{host}/_images/img-{number}.png"}
    item["revised_prompt"] = str(body["prompt"])
    return json_response({"created": int(sandbox.state.now().timestamp()), "data": [item]})


def image_file(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    return flask.Response(IMAGE, mimetype="image/png")


def anthropic_messages(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    body = request.body or {}
    if not body.get("model") or not body.get("messages") or not body.get("max_tokens"):
        return json_response(
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "message": "model, messages and max_tokens are required",
                },
            },
            400,
        )
    prompt, last = _prompt(body, "system", "messages")
    answer = reply_for(sandbox, prompt, last)
    usage = _usage(prompt, answer)
    return json_response(
        {
            "id": f"msg_sandbox{sandbox.state.next_number(REPLIES)}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [{"type": "text", "text": answer}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": usage["prompt_tokens"],
                "output_tokens": usage["completion_tokens"],
            },
        }
    )


def gemini_generate(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    body = request.body or {}
    if not body.get("contents"):
        return json_response(
            {
                "error": {
                    "code": 400,
                    "message": "contents is not specified",
                    "status": "INVALID_ARGUMENT",
                }
            },
            400,
        )
    files = [
        part["file_data"].get("file_uri")
        for message in body["contents"]
        for part in message.get("parts") or []
        if isinstance(part.get("file_data"), Mapping)
    ]
    known = {f"{record.get('uri')}" for record in sandbox.state.records["gemini_files"].values()}
    missing = [uri for uri in files if uri not in known]
    if missing:
        return json_response(
            {
                "error": {
                    "code": 403,
                    "message": f"You do not have permission to access the File {missing[0]}",
                    "status": "PERMISSION_DENIED",
                }
            },
            403,
        )
    prompt, last = _prompt(body, "system_instruction", "contents")
    answer = reply_for(sandbox, prompt, last)
    usage = _usage(prompt, answer)
    return json_response(
        {
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"text": answer}]},
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": usage["prompt_tokens"],
                "candidatesTokenCount": usage["completion_tokens"],
                "totalTokenCount": usage["total_tokens"],
            },
            "modelVersion": str(request.path.get("model", "")).partition(":")[0],
        }
    )


def gemini_upload(sandbox: AppSandbox, request: SandboxRequest) -> flask.Response:
    data = request.raw
    if not data:
        return json_response(
            {"error": {"code": 400, "message": "No file data", "status": "INVALID_ARGUMENT"}}, 400
        )
    number = sandbox.state.next_number("gemini_files")
    name = f"files/sandbox{number}"
    host = request.headers.get("Host", "localhost")
    record = {
        "name": name,
        "displayName": request.headers.get("X-Goog-Upload-File-Name") or name,
        "mimeType": request.headers.get("Content-Type") or "application/octet-stream",
        "sizeBytes": str(len(data)),
        "uri": f"http://{host}/v1beta/{name}",
        "state": "ACTIVE",
    }
    sandbox.state.records["gemini_files"][name] = record
    return json_response({"file": record})
