"""Gmail defined as data, against its sandbox: MIME messages sent through the API and read
back as Make's Gmail bundles; the watch trigger, attachments and replies."""

from __future__ import annotations

import pytest

from tests.apps.harness import AppSandboxes

INBOX = [
    {
        "id": "m1",
        "threadId": "t1",
        "labelIds": ["INBOX", "UNREAD"],
        "internalDate": 1_775_000_000_000,
        "from": "Ada Lovelace <ada@example.com>",
        "to": "sandbox@example.com",
        "subject": "Invoice 42",
        "text": "Please find the invoice attached.",
        "messageId": "<m1@example.com>",
        "attachments": [
            {"filename": "invoice.pdf", "mimeType": "application/pdf", "data": "%PDF-1"}
        ],
    },
    {
        "id": "m2",
        "threadId": "t2",
        "labelIds": ["INBOX"],
        "internalDate": 1_775_000_100_000,
        "from": "grace@example.com",
        "to": "sandbox@example.com",
        "subject": "Lunch?",
        "text": "Tomorrow at noon.",
    },
    {
        "id": "m3",
        "threadId": "t3",
        "labelIds": ["INBOX", "UNREAD"],
        "internalDate": 1_775_000_200_000,
        "from": "alan@example.com",
        "to": "sandbox@example.com",
        "subject": "Re: the machine",
        "html": "<p>It <b>halts</b>.</p>",
    },
]


@pytest.fixture
def gmail():
    with AppSandboxes(["google-email"]) as sandboxes:
        sandboxes.seed({"gmail_messages": INBOX})
        yield sandboxes


def _flow(*modules):
    return {"name": "t", "flow": list(modules), "metadata": {}}


def _module(id_, name, mapper=None, parameters=None, version=4):
    return {
        "id": id_,
        "module": f"google-email:{name}",
        "version": version,
        "mapper": mapper or {},
        "parameters": parameters or {},
    }


def _outputs(record, module_id):
    [module] = [m for m in record["modules"] if m["id"] == module_id]
    assert module["errors"] == 0, module["calls"][-1]["error"]
    return [bundle for call in module["calls"] for bundle in call["output"]]


def _sent(gmail):
    return [m for m in gmail.records("gmail_messages") if m["labelIds"] == ["SENT"]]


def test_send_an_email_builds_mime_with_html_and_attachments(gmail):
    mapper = {
        "to": ["ada@example.com", "grace@example.com"],
        "cc": ["alan@example.com"],
        "subject": "Report",
        "bodyType": "rawHtml",
        "content": "<h1>Weekly</h1><p>All good.</p>",
        "attachments": [{"filename": "report.csv", "data": "{{toBinary('a,b')}}"}],
    }
    record = gmail.run(_flow(_module(1, "sendAnEmail", mapper)))
    [output] = _outputs(record, 1)
    assert output["labelIds"] == ["SENT"] and output["id"].startswith("sent")
    [sent] = _sent(gmail)
    assert sent["to"] == "ada@example.com, grace@example.com" and sent["cc"] == "alan@example.com"
    assert sent["subject"] == "Report" and "<h1>Weekly</h1>" in sent["html"]
    assert "Weekly" in sent["text"]  # a plain alternative of the HTML
    [attachment] = sent["attachments"]
    assert attachment["filename"] == "report.csv" and attachment["mimeType"] == "text/csv"


def test_body_contents_become_html_with_inline_images(gmail):
    mapper = {
        "to": ["ada@example.com"],
        "subject": "Hi",
        "bodyType": "collection",
        "contents": [
            {"text": "Line one\nLine <two>", "image": {}},
            {"image": {"filename": "dot.png", "data": "{{toBinary('png')}}"}},
        ],
    }
    gmail.run(_flow(_module(1, "sendAnEmail", mapper)))
    [sent] = _sent(gmail)
    assert "Line one<br>Line &lt;two&gt;" in sent["html"]
    assert 'src="cid:image1@switchboard.local"' in sent["html"]


def test_get_an_email_reads_gmails_message_as_makes_bundle(gmail):
    record = gmail.run(_flow(_module(1, "getAnEmail", {"messageId": "m1", "format": "full"})))
    [email] = _outputs(record, 1)
    assert (email["fromName"], email["fromEmail"]) == ("Ada Lovelace", "ada@example.com")
    assert email["subject"] == "Invoice 42" and email["threadId"] == "t1"
    assert email["fullTextBody"] == "Please find the invoice attached."
    assert email["to"] == [{"name": "", "email": "sandbox@example.com"}]
    assert email["hasAttachment"] is True and email["attachments"][0]["filename"] == "invoice.pdf"
    assert email["internalDate"].startswith("2026-03-")
    assert {"id": "UNREAD", "name": "UNREAD"} in email["sysFolders"]


def test_watch_emails_outputs_matches_oldest_first_and_marks_them_read(gmail):
    parameters = {
        "filterType": "simpleSearch",
        "criteria": "is:unread",
        "folder": "INBOX",
        "markSeen": True,
        "limit": 10,
        "format": "full",
    }
    trigger = _flow(_module(1, "triggerWatchNewEmails", parameters=parameters))
    cursors = {}
    record = gmail.run(trigger, starts={1: {"type": "all"}}, commit_cursor=cursors.__setitem__)
    assert [e["id"] for e in _outputs(record, 1)] == ["m1", "m3"]
    labels = {m["id"]: m["labelIds"] for m in gmail.records("gmail_messages")}
    assert labels["m1"] == ["INBOX"] and labels["m3"] == ["INBOX"]
    assert cursors[1]["lastId"] == "m3"
    [listed] = gmail.requests("/gmail/v1/users/me/messages")
    assert listed["query"]["q"] == ["is:unread"] and listed["query"]["labelIds"] == ["INBOX"]


def test_iterate_attachments_returns_their_data(gmail):
    mapper = {"messageId": "m1", "include": ["attachment", "media"], "returnAttachmentData": True}
    record = gmail.run(_flow(_module(1, "listEmailAttachments", mapper)))
    [attachment] = _outputs(record, 1)
    assert attachment["filename"] == "invoice.pdf" and attachment["data"] == "%PDF-1"
    assert attachment["__IMTLENGTH__"] == 1


def test_reply_goes_to_the_sender_in_the_same_thread(gmail):
    mapper = {"threadId": "t1", "replyMode": "reply", "bodyType": "rawHtml", "content": "Thanks!"}
    record = gmail.run(_flow(_module(1, "replyToAnEmail", mapper)))
    assert _outputs(record, 1)[0]["threadId"] == "t1"
    [reply] = _sent(gmail)
    assert reply["to"] == "Ada Lovelace <ada@example.com>"
    assert reply["subject"] == "Re: Invoice 42" and reply["inReplyTo"] == "<m1@example.com>"


def test_the_legacy_modules_keep_their_connection_in_account(gmail):
    send = _module(
        1,
        "ActionSendEmail",
        {
            "to": ["ada@example.com"],
            "subject": "Legacy",
            "html": "<p>Old</p>",
            "cc": [],
            "bcc": [],
            "attachments": [{"fileName": "a.txt", "data": "x", "cid": ""}],
        },
        version=2,
    )
    record = gmail.run(_flow(send))
    assert _outputs(record, 1)[0]["labelIds"] == ["SENT"]
    assert _sent(gmail)[0]["attachments"][0]["filename"] == "a.txt"
    parameters = {
        "searchType": "simple",
        "folder": "INBOX",
        "criteria": "UNSEEN",
        "maxResults": 1,
        "markSeen": False,
        "from": "",
        "subject": "",
        "text": "",
    }
    record = gmail.run(
        _flow(_module(1, "TriggerNewEmail", parameters=parameters, version=2)),
        starts={1: {"type": "all"}},
    )
    [email] = _outputs(record, 1)
    assert email["from"] == {"address": "ada@example.com", "name": "Ada Lovelace"}
    assert email["text"] == "Please find the invoice attached."
