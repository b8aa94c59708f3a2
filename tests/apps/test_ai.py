"""The AI apps defined as data (OpenAI, Anthropic Claude, Gemini, Perplexity) against their
sandboxes: Make's module keys to each API, and Make's ``result`` of the answer."""

from __future__ import annotations

import pytest

from tests.apps.harness import AppSandboxes

APPS = ["openai-gpt-3", "anthropic-claude", "gemini-ai", "perplexity-ai"]


@pytest.fixture
def ai():
    with AppSandboxes(APPS) as sandboxes:
        sandboxes.seed(
            {
                "ai_replies": [
                    {
                        "match": "invoice",
                        "content": '```json\n{"vendor": "Acme", "total": 12.5}\n```',
                    },
                    {"match": "haiku", "content": "Old pond, frog jumps in."},
                ]
            }
        )
        yield sandboxes


def _run(sandboxes, module, mapper):
    blueprint = {
        "name": "t",
        "metadata": {},
        "flow": [{"id": 1, "module": module, "version": 1, "parameters": {}, "mapper": mapper}],
    }
    record = sandboxes.run(blueprint)
    [call] = record["modules"][0]["calls"]
    assert call["error"] is None, call["error"]
    [output] = call["output"]
    return output


def test_openai_chat_completion_and_its_result(ai):
    output = _run(
        ai,
        "openai-gpt-3:CreateCompletion",
        {
            "select": "chat",
            "model": "gpt-4o",
            "max_tokens": "300",
            "temperature": "0.2",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Write a haiku"},
            ],
        },
    )
    assert output["result"] == "Old pond, frog jumps in."
    assert output["choices"][0]["message"]["content"] == "Old pond, frog jumps in."
    [sent] = ai.requests("/v1/chat/completions")
    assert sent["json"]["max_completion_tokens"] == 300 and sent["json"]["temperature"] == 0.2
    assert "response_format" not in sent["json"]


def test_openai_json_response_format_parses_the_result(ai):
    output = _run(
        ai,
        "openai-gpt-3:CreateCompletion",
        {
            "select": "chat",
            "model": "gpt-4o",
            "response_format": "json_object",
            "messages": [{"role": "user", "content": "Read this invoice"}],
        },
    )
    assert output["result"] == {"vendor": "Acme", "total": 12.5}
    [sent] = ai.requests("/v1/chat/completions")
    assert sent["json"]["response_format"] == {"type": "json_object"}


def test_openai_generated_image_is_downloaded_without_the_api_key(ai):
    output = _run(
        ai,
        "openai-gpt-3:GenerateImage",
        {
            "model": "dall-e-3",
            "prompt": "a lighthouse",
            "size": "1024x1024",
            "response_format": "url",
        },
    )
    assert output["resImgData"].startswith("\ufffdPNG") or "PNG" in output["resImgData"]
    assert output["resImgName"].startswith("image-") and output["resImgName"].endswith(".png")
    [download] = [r for r in ai.requests() if r["path"].startswith("/_images/")]
    assert "Authorization" not in download["headers"]


def test_claude_prompt_and_message(ai):
    output = _run(
        ai,
        "anthropic-claude:simpleTextPrompt",
        {"model": "claude-sonnet-4-5", "textPrompt": "a haiku please", "max_tokens": "100"},
    )
    assert output["result"] == "Old pond, frog jumps in."
    output = _run(
        ai,
        "anthropic-claude:createAMessage",
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 100,
            "system": "Be brief.",
            "messages": [{"role": "user", "content": "Hello"}],
        },
    )
    assert output["textResponse"] == "Sandbox reply to: Hello"
    sent = ai.requests("/v1/messages")[-1]
    assert sent["headers"]["Anthropic-Version"] == "2023-06-01"
    assert sent["json"]["system"] == "Be brief."


def test_gemini_reads_an_uploaded_file_and_answers_json(ai):
    uploaded = _run(ai, "gemini-ai:uploadAFile", {"file_name": "invoice.pdf", "file_data": "%PDF"})
    assert uploaded["mimeType"] == "application/pdf" and uploaded["uri"].endswith("/files/sandbox1")
    output = _run(
        ai,
        "gemini-ai:createACompletionGeminiPro",
        {
            "model": "gemini-2.5-flash",
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {
                            "type": "file",
                            "file_data": {
                                "file_uri": uploaded["uri"],
                                "mime_type": "application/pdf",
                            },
                        },
                        {"type": "text", "text": "Extract the invoice"},
                    ],
                }
            ],
            "system_instruction": {"parts": [{"text": "You read invoices."}]},
            "generationConfig": {"imageConfig": {}, "thinkingConfig": {}},
        },
    )
    assert output["result"] == {"vendor": "Acme", "total": 12.5}
    sent = ai.requests("/v1beta/models/gemini-2.5-flash:generateContent")[-1]
    assert sent["json"]["contents"][0]["parts"][0] == {
        "file_data": {"file_uri": uploaded["uri"], "mime_type": "application/pdf"}
    }


def test_perplexity_answers_with_citations(ai):
    output = _run(
        ai,
        "perplexity-ai:createAChatCompletion",
        {"model": "sonar-reasoning", "messages": [{"role": "user", "content": "news of Acme"}]},
    )
    assert output["citations"] == ["https://example.com/sandbox-source"]
    assert output["choices"][0]["message"]["content"] == "Sandbox reply to: news of Acme"
