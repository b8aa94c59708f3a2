"""Every app of the library loads, has a sandbox whose templates compile, and its connection
test passes against that sandbox with the connection the sandbox describes."""

from __future__ import annotations

import pytest
import requests

from engine.registry import default_registry
from modules.apps import library_apps
from tests.apps.harness import AppSandboxes

APPS = sorted(app.name for app in library_apps())


def test_the_library_has_the_most_used_apps():
    assert {
        "google-sheets",
        "google-email",
        "google-drive",
        "google-docs",
        "slack",
        "openai-gpt-3",
        "anthropic-claude",
        "gemini-ai",
        "airtable",
        "notion",
        "telegram",
        "discord",
    } <= set(APPS)


@pytest.mark.parametrize("app", APPS)
def test_an_apps_sandbox_serves_and_its_connection_passes_the_test(app):
    kind = default_registry().connection_kinds[app]
    with AppSandboxes([app]) as sandboxes, requests.Session() as http:
        connection = sandboxes.connection(app)
        if kind.test is not None:
            assert kind.test(connection, http) is not None
        assert sandboxes.requests() or kind.test is None


@pytest.mark.parametrize("app", APPS)
def test_every_module_of_an_app_has_a_label_and_a_make_id(app):
    specs = [spec for spec in default_registry().values() if spec.app == app]
    assert specs
    for spec in specs:
        assert spec.label and spec.id.startswith(f"{app}:")
        schema = spec.input.model_json_schema()
        assert all("title" in field for field in schema.get("properties", {}).values())
