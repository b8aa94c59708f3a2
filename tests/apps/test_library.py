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


def test_switchboard_sandbox_serves_apps_defined_as_data_and_says_how_to_connect():
    import json
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "switchboard.cli", "sandbox", "slack", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("slack sandbox on http://127.0.0.1:")
        connection = json.loads(process.stdout.readline().split(": ", 1)[1])
        with requests.post(
            f"{connection['base_url']}/auth.test",
            headers={"Authorization": f"Bearer {connection['token']}"},
            timeout=10,
        ) as answer:
            assert answer.json()["ok"] is True
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()
