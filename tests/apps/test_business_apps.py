"""HubSpot CRM's custom objects, DocuSign's envelopes, Stripe's customers and Canvas' API
calls, each defined as data and run against its sandbox with the corpus' mapper keys."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import pytest

from tests.apps.harness import AppSandboxes

APPS = ["hubspotcrm", "docusign", "stripe", "canvas-lms"]


@pytest.fixture(scope="module")
def apps():
    with AppSandboxes(APPS) as sandboxes:
        yield sandboxes


def _run(sandboxes, module, mapper, version=1):
    blueprint = {
        "name": "t",
        "metadata": {},
        "flow": [
            {"id": 1, "module": module, "version": version, "parameters": {}, "mapper": mapper}
        ],
    }
    [module_record] = sandboxes.run(blueprint)["modules"]
    return module_record["calls"]


def _output(calls):
    [call] = calls
    assert call["error"] is None, call["error"]
    [bundle] = call["output"]
    return bundle


def test_hubspot_creates_then_updates_a_custom_object_record(apps):
    created = _output(
        _run(
            apps,
            "hubspotcrm:createCustomObject",
            {
                "objectType": "2-222183686",
                "properties": [
                    {"key": "first_name", "value": "Ada"},
                    {"key": "work_email", "value": "ada@example.com"},
                    {"key": "", "value": "left out"},
                ],
            },
            version=2,
        )
    )
    assert created["properties"] == {"first_name": "Ada", "work_email": "ada@example.com"}
    [sent] = apps.requests("/crm/v3/objects/2-222183686")
    assert sent["headers"]["Authorization"] == "Bearer pat-na1-sandbox"
    updated = _output(
        _run(
            apps,
            "hubspotcrm:updateCustomObject",
            {
                "objectType": "2-222183686",
                "id": created["id"],
                "parseCustomFields": True,
                "properties": [{"key": "days_inactive", "value": "12"}],
            },
            version=2,
        )
    )
    assert updated["id"] == created["id"]
    assert updated["properties"] == {
        "first_name": "Ada",
        "work_email": "ada@example.com",
        "days_inactive": "12",
    }


def test_hubspot_names_a_missing_record(apps):
    [call] = _run(
        apps,
        "hubspotcrm:updateCustomObject",
        {"objectType": "2-1", "id": "999999", "properties": []},
        version=2,
    )
    assert "Object not found" in call["error"]["message"]


def test_docusign_sends_an_envelope_with_base64_documents_and_signers(apps):
    envelope = _output(
        _run(
            apps,
            "docusign:CreateEnvelope",
            {
                "select_account": '{"accountId": "acct-1", "baseUri": "https://demo.docusign.net"}',
                "status": False,
                "recipients": {
                    "Signers": [
                        {
                            "email": "ada@example.com",
                            "name": "Ada",
                            "recipientId": "1",
                            "addAccessCodeToEmail": False,
                            "tabs": {},
                        }
                    ]
                },
                "emailSubject": "Please sign",
                "emailBlurb": "Hi Ada",
                "documents": [
                    {
                        "name": "certificate.pdf",
                        "documentBase64": "%PDF-1.4",
                        "documentId": "1",
                        "fileExtension": "pdf",
                        "display": "inline",
                    }
                ],
            },
        )
    )
    assert envelope["status"] == "sent" and envelope["uri"].startswith("/envelopes/")
    [sent] = apps.requests("/restapi/v2.1/accounts/acct-1/envelopes")
    [document] = sent["json"]["documents"]
    assert base64.b64decode(document["documentBase64"]) == b"%PDF-1.4"
    assert sent["json"]["recipients"] == {
        "signers": [
            {
                "email": "ada@example.com",
                "name": "Ada",
                "recipientId": "1",
                "addAccessCodeToEmail": "false",
            }
        ]
    }
    [stored] = apps.records("docusign_envelopes")
    assert stored["signers"] == ["ada@example.com"] and stored["documents"] == ["certificate.pdf"]


def test_docusign_refuses_an_envelope_without_signers(apps):
    [call] = _run(
        apps,
        "docusign:CreateEnvelope",
        {
            "select_account": '{"accountId": "acct-1", "baseUri": "https://demo.docusign.net"}',
            "status": True,
            "recipients": {},
            "emailSubject": "Draft",
            "documents": [{"name": "a.pdf", "documentBase64": "x", "documentId": "1"}],
        },
    )
    assert "not Complete" in call["error"]["message"]


def test_stripe_creates_a_customer_from_bracketed_form_fields(apps):
    customer = _output(
        _run(
            apps,
            "stripe:createCustomer",
            {
                "name": "Ada Lovelace",
                "email": "ada@example.com",
                "phone": "",
                "address": {"city": "London", "line1": "", "country": "GB"},
                "metadata": [{"key": "job_title", "value": "Analyst"}],
                "shipping": {"name": "", "address": {"city": ""}},
                "preferred_locales": ["en", "fr"],
                "tax_id_data": [],
                "balance": "",
            },
        )
    )
    assert customer["id"].startswith("cus_") and customer["email"] == "ada@example.com"
    [sent] = apps.requests("/v1/customers")
    assert parse_qs(sent["body"]) == {
        "name": ["Ada Lovelace"],
        "email": ["ada@example.com"],
        "address[city]": ["London"],
        "address[country]": ["GB"],
        "metadata[job_title]": ["Analyst"],
        "preferred_locales[0]": ["en"],
        "preferred_locales[1]": ["fr"],
    }


def test_stripe_reports_an_invalid_email(apps):
    [call] = _run(apps, "stripe:createCustomer", {"email": "not-an-address"})
    assert call["error"]["message"] == "Stripe: Invalid email address"


def test_canvas_makes_an_api_call_to_a_whole_url_on_its_host(apps):
    call = _output(
        _run(
            apps,
            "canvas-lms:makeApiCall",
            {
                "url": "https://canvas.instructure.com/courses/13582973",
                "method": "POST",
                "headers": [{"key": "Content-Type", "value": "application/json"}],
                "body": '{"user": {"name": "Ada"}}',
            },
        )
    )
    assert call["statusCode"] == 200
    assert call["body"]["course"] == "13582973"
    assert call["body"]["request"] == {"user": {"name": "Ada"}}
    [sent] = apps.requests("/courses/13582973")
    assert sent["headers"]["Authorization"] == "Bearer canvas-sandbox-token"
