"""The smaller apps defined as data, each against its sandbox: Lokalise, lemlist, Tally,
Twilio, Google Forms, Google Calendar, ClickUp and LinkedIn."""

from __future__ import annotations

import pytest
import requests

from tests.apps.harness import AppSandboxes

APPS = [
    "lokalise",
    "lemlist",
    "tally",
    "twilio",
    "google-forms",
    "google-calendar",
    "clickup",
    "linkedin",
]


@pytest.fixture(scope="module")
def apps():
    with AppSandboxes(APPS) as sandboxes:
        yield sandboxes


def _run(sandboxes, module, mapper=None, parameters=None, version=1, **context):
    blueprint = {
        "name": "t",
        "metadata": {},
        "flow": [
            {
                "id": 1,
                "module": module,
                "version": version,
                "parameters": parameters or {},
                "mapper": mapper or {},
            }
        ],
    }
    [module_record] = sandboxes.run(blueprint, **context)["modules"]
    return module_record["calls"]


def _output(calls):
    [call] = calls
    assert call["error"] is None, call["error"]
    return call["output"]


def test_lokalise_creates_and_gets_a_task_and_makes_any_call(apps):
    apps.seed(
        {
            "lokalise_translations": [
                {"translation_id": n, "is_unverified": n % 2 == 0} for n in range(1, 6)
            ]
        }
    )
    [created] = _output(
        _run(
            apps,
            "lokalise:createATask",
            {
                "project_id": "p1.23",
                "title": "Batch 1",
                "task_type": "translation",
                "keys": "11, 12",
                "languages": [
                    {"language_iso": "es", "Type": {"users": [{"team_id": 1, "user_id": [176168]}]}}
                ],
                "source_language_iso": "en",
                "auto_close_task": True,
            },
        )
    )
    task_id = created["task"]["task_id"]
    [sent] = apps.requests("/api2/projects/p1.23/tasks")
    assert sent["json"]["keys"] == [11, 12]
    assert sent["json"]["languages"] == [{"language_iso": "es", "users": [176168]}]
    [got] = _output(_run(apps, "lokalise:getATask", {"project_id": "p1.23", "task_id": task_id}))
    assert got["task"]["title"] == "Batch 1" and got["project_id"] == "p1.23"
    [call] = _output(
        _run(
            apps,
            "lokalise:lokaliseRest",
            {
                "url": "/api2/projects/p1.23/translations?filter_unverified=1&page=1&limit=1",
                "method": "GET",
                "headers": [{"key": "accept", "value": "application/json"}],
            },
        )
    )
    assert call["statusCode"] == 200 and len(call["body"]["translations"]) == 1
    assert call["headers"]["x-pagination-page-count"] == "2"


def test_lemlist_gets_a_lead_and_patches_its_variables(apps):
    apps.seed({"lemlist_leads": [{"_id": "lea_1", "email": "ada@example.com", "variables": {}}]})
    [lead] = _output(_run(apps, "lemlist:getLeadbyIDorEmail", {"leadId": "lea_1"}))
    assert lead["email"] == "ada@example.com"
    [call] = _output(
        _run(
            apps,
            "lemlist:makeApiCall",
            {
                "url": "/leads/lea_1/variables?icebreaker=Hi",
                "method": "PATCH",
                "headers": [{"key": "Content-Type", "value": "application/json"}],
            },
        )
    )
    assert call["body"]["variables"] == {"icebreaker": "Hi"}


def test_tally_registers_its_webhook_and_reads_responses(apps):
    from engine.registry import default_registry

    spec = default_registry()["tally:watchNewResponse"]
    with requests.Session() as http:
        kept = spec.hooks["attach_webhook"](
            apps.connection("tally"), http, "https://sb.example/hooks/t1", {"formId": "w4Ez"}
        )
        assert apps.records("tally_webhooks")[0]["formId"] == "w4Ez"
        spec.hooks["detach_webhook"](apps.connection("tally"), http, kept)
    assert apps.records("tally_webhooks") == []
    delivery = {
        "eventId": "e1",
        "eventType": "FORM_RESPONSE",
        "data": {
            "responseId": "r1",
            "formId": "w4Ez",
            "formName": "Intake",
            "createdAt": "2026-04-01T08:00:00Z",
            "fields": [
                {"key": "question_1", "label": "Name?", "type": "INPUT_TEXT", "value": "Ada"},
                {
                    "key": "question_2",
                    "label": "Budget?",
                    "type": "MULTIPLE_CHOICE",
                    "value": ["o2"],
                    "options": [{"id": "o1", "text": "Small"}, {"id": "o2", "text": "Large"}],
                },
            ],
        },
    }
    [bundle] = spec.hooks["webhook_bundles"](delivery, {})
    assert bundle["fields"] == {"Name?": "Ada", "Budget?": ["Large"]}
    assert bundle["fieldsById"]["question_2"] == ["Large"] and bundle["responseId"] == "r1"


def test_twilio_sends_a_form_encoded_sms(apps):
    [message] = _output(
        _run(
            apps,
            "twilio:SendSMS",
            {
                "fromType": "phone",
                "from": "+27110108325",
                "to": "+27820000000",
                "messageBody": "body",
                "body": "Thanks for visiting!",
            },
            version=2,
        )
    )
    assert message["sid"].startswith("SM") and message["status"] == "queued"
    [sent] = apps.requests("/2010-04-01/Accounts/AC00000000000000000000000000sandbox/Messages.json")
    assert sent["body"] == "To=%2B27820000000&From=%2B27110108325&Body=Thanks+for+visiting%21"
    [call] = _run(
        apps,
        "twilio:SendSMS",
        {"fromType": "phone", "from": "+1", "to": "0820000000", "messageBody": "body", "body": "x"},
        version=2,
    )
    assert call["error"]["message"] == "Twilio: Invalid 'To' Phone Number"


def test_google_forms_watches_responses(apps):
    answers = {
        "7721141b": {"questionId": "7721141b", "textAnswers": {"answers": [{"value": "Great"}]}}
    }
    apps.seed(
        {
            "form_responses": [
                {
                    "responseId": "r1",
                    "formId": "f1",
                    "lastSubmittedTime": "2026-04-01T08:00:00Z",
                    "answers": answers,
                },
                {
                    "responseId": "r2",
                    "formId": "f1",
                    "lastSubmittedTime": "2026-04-02T08:00:00Z",
                    "answers": answers,
                },
            ]
        }
    )
    outputs = _output(
        _run(
            apps,
            "google-forms:watchResponses",
            parameters={"formId": "f1", "limit": 5},
            version=2,
            starts={1: {"type": "all"}},
        )
    )
    assert [o["responseId"] for o in outputs] == ["r1", "r2"]
    assert outputs[0]["answers"]["7721141b"]["textAnswers"]["answers"][0]["value"] == "Great"


def test_google_calendar_creates_an_event_with_guests(apps):
    [event] = _output(
        _run(
            apps,
            "google-calendar:createAnEvent",
            {
                "select": "detail",
                "calendar": "ada@example.com",
                "summary": "Review",
                "start": "2026-04-02T10:00:00Z",
                "end": "",
                "allDayEvent": False,
                "attendees": [{"email": "grace@example.com"}],
                "visibility": "default",
                "transparency": "opaque",
                "conferenceDate": True,
                "guestPermissions": {
                    "guestsCanModify": False,
                    "guestsCanInviteOthers": True,
                    "guestsCanSeeOtherGuests": True,
                },
            },
            version=5,
        )
    )
    assert event["start"] == {"dateTime": "2026-04-02T10:00:00+00:00"}
    assert event["end"] == {"dateTime": "2026-04-02T11:00:00+00:00"}
    assert event["conferenceData"]["createRequest"]["conferenceSolutionKey"] == {
        "type": "hangoutsMeet"
    }
    [sent] = apps.requests("/calendar/v3/calendars/ada%40example.com/events") or apps.requests(
        "/calendar/v3/calendars/ada@example.com/events"
    )
    assert sent["query"]["conferenceDataVersion"] == ["1"]


def test_clickup_creates_lists_and_archives_tasks(apps):
    [task] = _output(
        _run(
            apps,
            "clickup:createTaskInList",
            {
                "team_id": "9",
                "space_id": "9",
                "folder_id": "folderlessList",
                "list_id": "901212627935",
                "name": "Double booking",
                "content": "Check it",
                "notify_all": False,
                "due_date": "2026-04-03T00:00:00Z",
                "due_date_time": False,
                "start_date_time": False,
            },
            version=2,
        )
    )
    assert task["name"] == "Double booking"
    [sent] = apps.requests("/api/v2/list/901212627935/task")
    assert (
        sent["json"]["due_date"] == 1775174400000
        and sent["headers"]["Authorization"] == "pk_sandbox_token"
    )
    found = _output(
        _run(
            apps,
            "clickup:getListTasks",
            {
                "map_or_select": "select",
                "list_id": "901212627935",
                "archived": False,
                "statuses": ["to do"],
                "limit": "5",
            },
            version=2,
        )
    )
    assert [t["id"] for t in found] == [task["id"]]
    [edited] = _output(
        _run(
            apps,
            "clickup:editATaskAdvanced",
            {
                "task_id": task["id"],
                "archived": True,
                "assignees": {},
                "notify_all": False,
                "due_date_time": False,
                "start_date_time": False,
            },
            version=2,
        )
    )
    assert edited["archived"] is True
    [sent] = [r for r in apps.requests() if r["method"] == "PUT"]
    assert "assignees" not in sent["json"]


def test_linkedin_uploads_the_image_then_posts(apps):
    [post] = _output(
        _run(
            apps,
            "linkedin:ShareImage",
            {
                "data": "{{toBinary('png')}}",
                "content": "Our new post",
                "fileName": "image.png",
                "visibility": "PUBLIC",
                "feedDistribution": "MAIN_FEED",
                "isReshareDisabledByAuthor": False,
            },
            version=2,
        )
    )
    assert post["id"].startswith("urn:li:share:") and post["image"].startswith("urn:li:image:")
    [image] = apps.records("linkedin_images")
    assert image["status"] == "AVAILABLE" and image["size"] == 3
    [stored] = apps.records("linkedin_posts")
    assert (
        stored["commentary"] == "Our new post" and stored["author"] == "urn:li:person:sandboxMember"
    )
