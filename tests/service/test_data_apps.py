"""Apps defined as data in the service: activating a scenario whose instant trigger is a data
app's registers the webhook in the app (Tally's sandbox), deliveries become the trigger's
bundles, the data app's actions reach their sandbox through stored connections, and
deactivating removes the registration."""

from __future__ import annotations

import json

import pytest

from engine.config import Settings
from engine.service import Service, ServiceOptions
from engine.store import ExecutionStatus, open_store
from tests.apps.harness import AppSandboxes
from tests.service.test_service import post


@pytest.fixture
def sandboxes():
    with AppSandboxes(["tally", "slack"]) as running:
        yield running


@pytest.fixture
def local_service(tmp_path, queue, registry, clock):
    environ = {
        "SWITCHBOARD_VAR_DIR": str(tmp_path / "var"),
        "SWITCHBOARD_ALLOW_PRIVATE_NETWORK": "1",  # the sandboxes listen on loopback
    }
    settings = Settings.from_env(environ).with_secret_key_file()
    store = open_store(settings.database_url, secret_box=settings.secret_box(), clock=clock)
    options = ServiceOptions(base_url="https://switchboard.test", dispatch_grace_seconds=1)
    service = Service(store, queue, settings, registry, clock, options=options)
    yield service, store
    service.close()
    store.close()


def _connection(store, sandboxes, app):
    kind = sandboxes.registry.connection_kinds[app]
    values = sandboxes.definitions[app].connection_values(f"{sandboxes.base_url}/_app/{app}")
    data, secrets = kind.split_values(values)
    return store.create_connection(
        app, kind.auth.value, f"{app} sandbox", data=data, secrets=secrets
    )


def test_a_data_apps_instant_trigger_runs_from_registration_to_its_actions(
    local_service, sandboxes
):
    service, store = local_service
    tally = _connection(store, sandboxes, "tally")
    slack = _connection(store, sandboxes, "slack")
    text = json.dumps(
        {
            "name": "leads",
            "metadata": {"version": 1},
            "flow": [
                {
                    "id": 1,
                    "module": "tally:watchNewResponse",
                    "version": 1,
                    "parameters": {"__IMTCONN__": tally.id, "formId": "w4Ez"},
                },
                {
                    "id": 2,
                    "module": "slack:CreateMessage",
                    "version": 4,
                    "parameters": {"__IMTCONN__": slack.id},
                    "mapper": {
                        "channelWType": "list",
                        "channelType": "public",
                        "channel": "C0SANDBOX1",
                        "text": "New lead: {{1.fields.`Name?`}}",
                    },
                },
            ],
        }
    )
    result = service.import_scenario(text, active=True)
    webhook = result.webhooks[0]
    [registered] = sandboxes.records("tally_webhooks")
    assert registered["url"] == f"https://switchboard.test/hooks/{webhook.token}"
    assert registered["formId"] == "w4Ez" and registered["eventTypes"] == ["FORM_RESPONSE"]

    delivery = {
        "eventId": "e1",
        "eventType": "FORM_RESPONSE",
        "data": {
            "responseId": "r1",
            "formId": "w4Ez",
            "formName": "Intake",
            "fields": [{"key": "question_1", "label": "Name?", "value": "Ada"}],
        },
    }
    post(service, webhook.token, delivery)
    [execution_id] = service.process_webhook(webhook.id)
    execution = service.get_execution(execution_id)
    assert execution.status is ExecutionStatus.SUCCESS, execution.error
    [message] = sandboxes.records("messages")
    assert message["text"] == "New lead: Ada"

    service.deactivate_scenario(result.scenario.id)
    assert sandboxes.records("tally_webhooks") == []
