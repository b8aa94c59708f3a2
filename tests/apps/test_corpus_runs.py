"""Corpus blueprints run end to end against the sandboxes of the apps they use.

Each test seeds the sandboxes with what the scenario's account would hold (a spreadsheet, an
inbox, a template …), binds every app module to its app's connection (what a user does after an
import), runs the blueprint as exported, and checks what the scenario did in the apps. APIs the
scenarios call through the HTTP modules answer from tests/apps/fixtures/corpus-apis.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.apps.harness import AppSandboxes

CORPUS_APIS = Path(__file__).parent / "fixtures" / "corpus-apis"


def _modules(record):
    return {m["id"]: m for m in record["modules"]}


def _outputs(record, module_id):
    module = _modules(record)[module_id]
    errors = [c["error"] for c in module["calls"] if c["error"]]
    assert not errors, errors
    return [bundle for call in module["calls"] for bundle in call["output"]]


def _grid(sandboxes, spreadsheet, sheet="Sheet1"):
    [found] = [s for s in sandboxes.records("spreadsheets") if s["id"] == spreadsheet]
    return found["sheets"][sheet]


def _sent(sandboxes):
    return [m for m in sandboxes.records("gmail_messages") if m["labelIds"] == ["SENT"]]


def test_certificates_from_a_sheet_a_docs_template_and_gmail():
    """Omoze5: a new row → a certificate from a Docs template → PDF → emailed (legacy Gmail)."""
    apps = ["google-sheets", "google-docs", "google-drive", "google-email"]
    with AppSandboxes(apps) as sandboxes:
        sandboxes.seed(
            {
                "spreadsheets": [
                    {
                        "id": "1f_fPqRa2ex4NzTk2GupCFXNjwvyvlqbKdFzRv4ZRv6M",
                        "sheets": {
                            "Sheet1": [
                                ["Name", "Full name", "Webinar", "Email"],
                                ["Ada", "Ada Lovelace", "Systematic reviews", "ada@example.com"],
                            ]
                        },
                    }
                ],
                "drive_files": [
                    {
                        "id": "1m-EYJh3JOK9V0OV4r0gwu8pN4pjh3d5zo5k842Fqf3M",
                        "name": "Certificate template",
                        "parents": ["root"],
                        "mimeType": "application/vnd.google-apps.document",
                        "content": "This certifies that {{Example Full Name}} attended.",
                    }
                ],
            }
        )
        record = sandboxes.run(
            "Omoze5__AI-Automation-Projects__Certificate-Invoice_Generation.blueprint.json",
            starts={1: {"type": "all"}},
        )
        assert record["status"] == "success"
        [document] = _outputs(record, 3)
        copy = next(f for f in sandboxes.records("drive_files") if f["id"] == document["id"])
        assert copy["content"] == "This certifies that Ada Lovelace attended."
        [email] = _sent(sandboxes)
        assert email["to"] == "ada@example.com" and email["cc"] == "effiongfortuneb@gmail.com"
        assert email["subject"] == "SRN CERTIFICATE" and "Dear Ada" in email["html"]
        [attachment] = email["attachments"]
        assert attachment["filename"] == "CERTIFICATE.pdf"


def test_invoice_emails_read_by_claude_into_a_sheet_notion_and_a_reminder():
    """cognflow M03: unread invoice emails → Claude extracts fields → sheet row, Notion page,
    and the reminder the due date calls for."""
    apps = ["google-email", "anthropic-claude", "google-sheets", "notion"]
    extracted = {
        "vendor": "Acme",
        "invoice_number": "INV-7",
        "invoice_date": "2026-03-20",
        "due_date": "2026-04-01",
        "amount": "120.50",
        "currency": "EUR",
        "status": "unpaid",
    }
    with AppSandboxes(apps) as sandboxes:
        sandboxes.seed(
            {
                "gmail_messages": [
                    {
                        "id": "m1",
                        "threadId": "t1",
                        "labelIds": ["INBOX", "UNREAD"],
                        "internalDate": 1_775_000_000_000,
                        "from": "billing@acme.example",
                        "to": "me@example.com",
                        "subject": "Invoice INV-7",
                        "text": "Please pay 120.50 EUR by 1 April.",
                    }
                ],
                "ai_replies": [
                    {
                        "match": "Extract the following fields",
                        "content": "```json\n" + json.dumps(extracted) + "\n```",
                    }
                ],
                "spreadsheets": [
                    {
                        "id": "1NxNBH13ljuyvsPwezNbcsoTjT23WlORI5Zu_ZrauDRw",
                        "sheets": {"Sheet1": [["Invoice", "Vendor", "Amount"]]},
                    }
                ],
            }
        )
        record = sandboxes.run(
            "cognflow__make-automation-templates__M03_-_AI_Invoice_Payment_Tracker.blueprint.json",
            starts={1: {"type": "all"}},
        )
        assert record["status"] == "success"
        assert _outputs(record, 8)[0]["result"].startswith("```json")
        row = _grid(sandboxes, "1NxNBH13ljuyvsPwezNbcsoTjT23WlORI5Zu_ZrauDRw")[1]
        assert row[:3] == ["INV-7", "Acme", "120.50"]
        [page] = sandboxes.records("notion_pages")
        assert page["properties"]["title"]["title"][0]["text"]["content"] == "INV-7"
        [reminder] = _sent(sandboxes)
        assert reminder["subject"] == "PAYMENT DUE TODAY: INV-7Acme"
        [inbox] = [m for m in sandboxes.records("gmail_messages") if m["id"] == "m1"]
        assert "UNREAD" not in inbox["labelIds"]


def test_invoice_attachments_read_by_gemini_into_a_sheet():
    """sadeedameen: an invoice email's PDF → uploaded to Gemini → its fields → a sheet row."""
    apps = ["google-email", "gemini-ai", "google-sheets"]
    answer = {
        "Invoice number": "F-2026-11",
        "Invoice date": "2026-03-30",
        "Vendor name": "Globex",
        "Total amount": 99.9,
        "Tax amount": 14.99,
        "Currency": "AED",
        "Due date": "2026-04-30",
    }
    with AppSandboxes(apps) as sandboxes:
        sandboxes.seed(
            {
                "gmail_messages": [
                    {
                        "id": "m9",
                        "labelIds": ["INBOX"],
                        "internalDate": 1_775_000_000_000,
                        "from": "ap@globex.example",
                        "to": "me@example.com",
                        "subject": "Invoice F-2026-11",
                        "text": "Attached.",
                        "attachments": [
                            {
                                "filename": "F-2026-11.pdf",
                                "mimeType": "application/pdf",
                                "data": "%PDF-1.4",
                            }
                        ],
                    }
                ],
                "ai_replies": [{"content": json.dumps(answer)}],
                "spreadsheets": [
                    {
                        "id": "1PWF_3pcmq0fZ5dmwXEKcfqxG7bw-9U1pdWtqhBjMebM",
                        "sheets": {"Sheet1": [["Invoice number", "Invoice date"]]},
                    }
                ],
            }
        )
        record = sandboxes.run(
            "sadeedameen__make-automation-blueprints__invoice-to-google-sheets-ai_blueprint.json",
            starts={1: {"type": "all"}},
        )
        assert record["status"] == "success"
        [uploaded] = _outputs(record, 3)
        assert uploaded["mimeType"] == "application/pdf"
        assert _outputs(record, 4)[0]["result"]["Vendor name"] == "Globex"
        row = _grid(sandboxes, "1PWF_3pcmq0fZ5dmwXEKcfqxG7bw-9U1pdWtqhBjMebM")[1]
        assert row[:3] == ["F-2026-11", "2026-03-30", "Globex"]


def test_linkedin_posts_prepared_by_openai_and_shared():
    """Hard2290: rows to prepare → OpenAI writes the post and an image → Drive → sheet; rows
    to post → the image from Drive → LinkedIn → sheet."""
    apps = ["google-sheets", "openai-gpt-3", "google-drive", "linkedin"]
    sheet = "1yEgtgfWXRTXARy0UNyr143c31R5K4BHPOifeWSxQA9s"
    with AppSandboxes(apps) as sandboxes:
        sandboxes.seed(
            {
                "spreadsheets": [
                    {
                        "id": sheet,
                        "sheets": {
                            "Sheet1": [
                                ["Platform", "Topic", "Post", "Image", "Status"],
                                ["LinkedIn", "AI agents in finance", "", "", "Prepare Content"],
                                ["LinkedIn", "Old topic", "Ready text", "img-1", "Post Content"],
                                ["Twitter", "Elsewhere", "", "", "Prepare Content"],
                            ]
                        },
                    }
                ],
                "drive_files": [
                    {
                        "id": "img-1",
                        "name": "ready.png",
                        "mimeType": "image/png",
                        "parents": ["root"],
                        "data": "PNG",
                    }
                ],
                "ai_replies": [
                    {"match": "elite LinkedIn copywriter", "content": "Agents close the books."},
                    {"match": "visual content strategist", "content": "A robot accountant"},
                ],
            }
        )
        record = sandboxes.run(
            "Hard2290__LinkedInPostGenerator_AgenticAI_GenAI__scenario.blueprint.json"
        )
        assert record["status"] == "success"
        grid = _grid(sandboxes, sheet)
        [uploaded] = _outputs(record, 12)
        assert grid[1][2:] == ["Agents close the books.", uploaded["id"], "Ready for review"]
        assert grid[2][4] == "Posted Content" and grid[3][4] == "Prepare Content"
        assert [f["name"] for f in sandboxes.records("drive_files")] == ["ready.png", "New Image"]
        [post] = sandboxes.records("linkedin_posts")
        assert post["commentary"] == "Ready text"


@pytest.mark.parametrize(("threshold", "sent"), [(None, False), ("3000", True)])
def test_a_price_check_that_transfers_and_tells_discord(threshold, sent):
    """bicced: a price from an API → a transfer when it passes the threshold → Discord."""

    def lower_threshold(blueprint):
        variables = blueprint.flow[1].mapper["variables"]
        [entry] = [v for v in variables if v["name"] == "threshold"]
        entry["value"] = threshold

    with AppSandboxes(["discord"], custom=[CORPUS_APIS]) as sandboxes:
        record = sandboxes.run(
            "bicced__make-integromat-crypto-workflows__price_base_bnb_sender_with_discord_notification.json",
            edit=lower_threshold if threshold else None,
        )
        assert record["status"] == "success"
        messages = sandboxes.records("discord_messages")
        assert bool(messages) is sent and bool(sandboxes.records("transfers")) is sent
        if sent:
            assert messages[0]["content"].startswith("✅ BNB Transfer Successful")
            assert messages[0]["channel_id"] == "1280652667408089210"


ORDER = {
    "order_id": "ORD-1001",
    "order_timestamp": "2026-04-01T07:55:00Z",
    "customer_name": "Ada Lovelace",
    "customer_email": "ada@example.com",
    "payment_status": "paid",
    "total_amount": 42.5,
    "line_items": [
        {
            "item_id": "i1",
            "product_name": "Notebook",
            "sku": "NB-1",
            "quantity": 2,
            "unit_price": 10,
            "line_total": 20,
        },
        {
            "item_id": "i2",
            "product_name": "Pen",
            "sku": "PN-1",
            "quantity": 1,
            "unit_price": 22.5,
            "line_total": 22.5,
        },
    ],
}


def _orders(sandboxes):
    sandboxes.seed(
        {
            "spreadsheets": [
                {
                    "id": "SPREADSHEET_ID_PLACEHOLDER",
                    "sheets": {
                        "Sheet1": [
                            [
                                "Order",
                                "Time",
                                "Customer",
                                "Email",
                                "Payment",
                                "Total",
                                "Items",
                                "At",
                                "Status",
                                "Notified",
                            ],
                            # The duplicate check must find a row, or the route stops there
                            # (a search without results ends its route, as in Make).
                            ["ORD-1001", "2026-04-01T07:55:00Z", "Ada Lovelace"],
                        ]
                    },
                }
            ],
            "channels": [{"id": "SLACK_CHANNEL_PLACEHOLDER", "name": "orders"}],
            "telegram_chats": [{"id": "TELEGRAM_CHAT_PLACEHOLDER", "type": "group"}],
        }
    )


@pytest.mark.parametrize("slack_fails", [False, True])
def test_paid_orders_logged_in_sheets_and_airtable_and_announced(slack_fails):
    """6302Mohamed project 2: an order webhook → duplicate check → rows, an Airtable invoice,
    a Slack message (Telegram when Slack fails), the row marked processed."""
    apps = ["google-sheets", "airtable", "slack", "telegram"]
    with AppSandboxes(apps) as sandboxes:
        _orders(sandboxes)
        if slack_fails:
            sandboxes.fault(status=500, count=10, path_prefix="/_app/slack/api/chat.postMessage")
        record = sandboxes.run(
            "6302Mohamed__make-automation-projects__project-02-blueprint-sanitized-reference.json",
            trigger_bundles=[ORDER],
            stubs=["email:ActionSendEmail"],
        )
        grid = _grid(sandboxes, "SPREADSHEET_ID_PLACEHOLDER")
        assert any("ORD-1001" in row for row in grid[1:])
        [invoice] = sandboxes.records("airtable_records")
        assert "ORD-1001" in json.dumps(invoice["fields"])
        if slack_fails:
            assert sandboxes.records("messages") == []
            [warning] = sandboxes.records("telegram_messages")
            assert "Slack order notification failed" in warning["text"]
        else:
            assert record["status"] == "success"
            [message] = sandboxes.records("messages")
            assert (
                "ORD-1001" in message["text"] and message["channel"] == "SLACK_CHANNEL_PLACEHOLDER"
            )
            assert any(row[8:10] == ["Processed", "Sent_to_Slack"] for row in grid[1:])


def test_tally_leads_drafted_by_ai_into_airtable_and_slack():
    """6302Mohamed scenario 1: a Tally response → an Airtable lead → an AI draft (Groq over
    HTTP) → Airtable records for review → Slack."""
    from engine.registry import default_registry

    delivery = {
        "eventId": "ev1",
        "eventType": "FORM_RESPONSE",
        "data": {
            "responseId": "r1",
            "submissionId": "s1",
            "respondentId": "p1",
            "formId": "f1",
            "formName": "Intake",
            "createdAt": "2026-04-01T07:59:00Z",
            "fields": [
                {
                    "key": "question_6x2QXJ",
                    "label": "What is your full name?",
                    "value": "Ada Lovelace",
                },
                {
                    "key": "question_7Z298R",
                    "label": "What email should we use to contact you?",
                    "value": "ada@example.com",
                },
                {"key": "question_A8LbVz", "label": "Company name?", "value": "Analytical Ltd"},
                {
                    "key": "question_K0lBqV",
                    "label": "Please describe what you want to automate or improve.",
                    "value": "Invoice intake",
                },
                {
                    "key": "question_BBkbPK",
                    "label": "What do you need help with?",
                    "value": ["o1"],
                    "options": [{"id": "o1", "text": "Automation"}],
                },
                {
                    "key": "question_kZ6RVe",
                    "label": "What budget range are you considering?",
                    "value": ["o2"],
                    "options": [{"id": "o2", "text": "$1k-$5k"}],
                },
            ],
        },
    }
    [bundle] = default_registry()["tally:watchNewResponse"].hooks["webhook_bundles"](delivery, {})
    draft = {
        "category": "Sales Inquiry",
        "priority": "High",
        "summary": "Wants invoice intake",
        "draft_reply": "Hello Ada, thanks for reaching out.",
        "confidence_notes": "clear",
    }
    with AppSandboxes(["tally", "airtable", "slack"], custom=[CORPUS_APIS]) as sandboxes:
        sandboxes.seed(
            {
                "channels": [{"id": "<SLACK_CHANNEL_ID>", "name": "leads"}],
                "ai_replies": [{"content": json.dumps(draft)}],
            }
        )
        record = sandboxes.run(
            "6302Mohamed__make-automation-projects__scenario-1-lead-intake-ai-draft-sanitized.json",
            trigger_bundles=[bundle],
        )
        assert record["status"] == "success", record
        records = sandboxes.records("airtable_records")
        assert len(records) == 3  # the lead, the AI draft, the review
        lead = records[0]["fields"]
        assert (
            lead["fldki3RiDMx8wY1n3"] == "Ada Lovelace" and lead["fldA3KBmmA2lvdrmM"] == "$1k-$5k"
        )
        assert lead["fld8wqAQdB0lKsrae"] == "Pending Review"  # updated at the end
        assert records[1]["fields"]["fldEexFBa4knRHEdp"] == "Hello Ada, thanks for reaching out."
        [message] = sandboxes.records("messages")
        assert "Priority: High" in message["text"]


def test_lokalise_task_events_become_notion_database_items():
    """silbersteine: a Lokalise webhook → the task from Lokalise → a Notion database item."""
    database = "12e84d32-43c5-8088-996c-f5914c12cf99"
    schema = {
        "Title": {"id": "title", "type": "title"},
        "Created by": {"id": "OfjJ", "type": "email"},
        "Type": {"id": "XFeP", "type": "select"},
        "Progress": {"id": "gvhH", "type": "number"},
        "Keys": {"id": "wF_B", "type": "number"},
        "Task ID": {"id": "xA~e", "type": "rich_text"},
        "Words": {"id": "%3BATM", "type": "number"},
        "Due": {"id": "F%7CsG", "type": "date"},
        "Status": {"id": "q_%5Dy", "type": "status"},
        "Parent": {"id": "%60w%7C%3C", "type": "rich_text"},
    }
    task = {
        "task_id": 77,
        "project_id": "p1",
        "title": "Spanish batch",
        "progress": 10,
        "keys_count": 4,
        "words_count": 30,
        "created_by_email": "pm@example.com",
        "task_type": "translation",
        "due_date": "2026-04-10 00:00:00 (Etc/UTC)",
        "parent_task_id": None,
    }
    with AppSandboxes(["lokalise", "notion"]) as sandboxes:
        sandboxes.seed(
            {
                "lokalise_tasks": [task],
                "notion_databases": [{"id": database, "title": "Tasks", "properties": schema}],
            }
        )
        record = sandboxes.run(
            "silbersteine__make.com-workflow-blueprints__NotionTaskDashboardWebhook.json",
            trigger_bundles=[
                {"event": "project.task.created", "task": {"id": 77}, "project": {"id": "p1"}}
            ],
        )
        assert record["status"] == "success", record
        [page] = sandboxes.records("notion_pages")
        properties = page["properties"]
        assert properties["Title"]["title"][0]["text"]["content"] == "Spanish batch"
        assert properties["Type"] == {"select": {"name": "translation"}}
        assert properties["Status"] == {"status": {"name": "In progress"}}
        assert (
            properties["Keys"] == {"number": 4}
            and properties["Task ID"]["rich_text"][0]["text"]["content"] == "77"
        )


def test_instructor_onboarding_across_docs_docusign_slack_canvas_stripe_and_hubspot():
    """mrlmbrown: a new instructor's row → an onboarding Doc exported as PDF → a DocuSign
    envelope → Slack → a Canvas enrollment → a Stripe customer → HubSpot custom object."""
    apps = [
        "google-sheets",
        "google-docs",
        "google-drive",
        "docusign",
        "slack",
        "canvas-lms",
        "stripe",
        "hubspotcrm",
    ]
    header = ["First", "Last", "Email", "Role", "Department", "Approved", "Employee"]
    ADA, GRACE = ["Ada", "Lovelace", "ada@example.com"], ["Grace", "Hopper", "grace@example.com"]
    with AppSandboxes(apps) as sandboxes:
        sandboxes.seed(
            {
                "spreadsheets": [
                    {
                        "id": "17P7d1Ufrzb__XmS45oMwLc6M8dVwD-UwqFgHzv1ePas",
                        "sheets": {
                            "Sheet1": [
                                header,
                                [*ADA, "Instructor", "Maths", "2026-03-30", "E-7"],
                                [*GRACE, "Student", "CS", "2026-03-30", "E-8"],
                            ]
                        },
                    }
                ],
                "channels": [{"id": "C09UE52CG4Q", "name": "instructors"}],
            }
        )
        record = sandboxes.run(
            "mrlmbrown__make-blueprints__Instructor_Onboarding_Automation.blueprint.json",
            starts={33: {"type": "all"}},
            stubs=["email:ActionSendEmail"],
        )
        assert record["status"] == "success", record
        # The blueprint doubles its braces ({{{{33.`0`}}}}): the outer pair stays as text.
        [document] = _outputs(record, 3)
        assert document["name"] == "Udemy Onboarding - {{Ada}} {{Lovelace}}"
        [envelope] = sandboxes.records("docusign_envelopes")
        assert envelope["signers"] == ["ada@example.com"] and envelope["status"] == "sent"
        assert envelope["documents"] == [document["name"] + ".pdf"]
        [message] = sandboxes.records("messages")
        assert message["channel"] == "C09UE52CG4Q" and "Ada Lovelace" in message["text"]
        [enrolment] = sandboxes.records("canvas_users")
        assert enrolment["course"] == "13582973"
        assert enrolment["request"]["pseudonym"] == {"unique_id": "{{ada@example.com}}"}
        [customer] = sandboxes.records("stripe_customers")
        assert customer["name"] == "{{Ada}} {{Lovelace}}" and customer["email"] == "ada@example.com"
        assert customer["form"]["metadata[job_title]"] == "{{Instructor}}"
        [instructor] = sandboxes.records("hubspot_objects")
        assert instructor["objectType"] == "2-222183686"
        assert instructor["properties"]["work_email"] == "ada@example.com"
        assert instructor["properties"]["employee_id"] == "E-7"
