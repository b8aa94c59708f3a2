"""Telegram and Discord defined as data, against their sandboxes."""

from __future__ import annotations

import pytest

from tests.apps.harness import AppSandboxes


@pytest.fixture
def messengers():
    with AppSandboxes(["telegram", "discord"]) as sandboxes:
        yield sandboxes


def _run(sandboxes, module, mapper, version=1):
    blueprint = {
        "name": "t",
        "metadata": {},
        "flow": [
            {"id": 1, "module": module, "version": version, "parameters": {}, "mapper": mapper}
        ],
    }
    [call] = sandboxes.run(blueprint)["modules"][0]["calls"]
    return call


def test_telegram_sends_a_message_and_leaves_empty_options_out(messengers):
    call = _run(
        messengers,
        "telegram:SendReplyMessage",
        {
            "chatId": "-1001",
            "text": "Order 7 failed",
            "messageThreadId": "",
            "parseMode": "",
            "replyToMessageId": "",
            "replyMarkupAssembleType": "reply_markup_enter",
            "replyMarkup": "",
        },
    )
    [message] = call["output"]
    assert message["text"] == "Order 7 failed" and message["chat"]["id"] == "-1001"
    [sent] = messengers.requests("/bot123456:sandbox-bot-token/sendMessage")
    assert sent["json"] == {"chat_id": "-1001", "text": "Order 7 failed"}


def test_telegram_refusals_are_data_errors_with_its_description(messengers):
    call = _run(messengers, "telegram:SendReplyMessage", {"chatId": "nope", "text": "x"})
    assert call["error"]["type"] == "DataError"
    assert call["error"]["message"] == "Telegram Bot: Bad Request: chat not found"


def test_telegram_reply_markup_is_sent_as_json(messengers):
    markup = '{"inline_keyboard": [[{"text": "Open", "url": "https://example.com"}]]}'
    call = _run(
        messengers,
        "telegram:SendReplyMessage",
        {
            "chatId": "42",
            "text": "Hi",
            "parseMode": "HTML",
            "replyMarkup": markup,
            "disableWebPagePreview": True,
        },
    )
    assert call["error"] is None
    [sent] = messengers.requests("/bot123456:sandbox-bot-token/sendMessage")
    assert sent["json"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Open"
    assert sent["json"]["parse_mode"] == "HTML"
    assert sent["json"]["link_preview_options"] == {"is_disabled": True}


def test_discord_posts_to_a_channel_and_to_a_user(messengers):
    call = _run(
        messengers,
        "discord:createMessage",
        {
            "select": "channel",
            "content": "Transfer done",
            "message_reference": {},
            "channelId": "1280652667408089210",
        },
        version=2,
    )
    [message] = call["output"]
    assert message["channel_id"] == "1280652667408089210" and message["content"] == "Transfer done"
    [sent] = messengers.requests("/api/v10/channels/1280652667408089210/messages")
    assert sent["headers"]["Authorization"] == "Bot sandbox-discord-token"
    assert "message_reference" not in sent["json"]
    call = _run(
        messengers,
        "discord:createMessage",
        {"select": "user", "userId": "77", "content": "Psst"},
        version=2,
    )
    assert call["output"][0]["content"] == "Psst"
    call = _run(
        messengers,
        "discord:createMessage",
        {"select": "channel", "channelId": "0", "content": "x"},
        version=2,
    )
    assert call["error"]["message"] == "Discord: Unknown Channel"
