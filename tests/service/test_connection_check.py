"""`switchboard connection check`: an app's read-only account check, through the service and
the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from engine.errors import AccountValidationError, InvalidConfigurationError
from engine.secrets import generate_key
from engine.spec import AuthType, CheckFinding, CheckVerdict, ConnectionField, ConnectionKind
from engine.store import open_store
from tests.conftest import REPO_ROOT

SCOPES_OK = CheckFinding(subject="scopes", verdict=CheckVerdict.OK, found="read write")
NO_USD = CheckFinding(
    subject="currency USD",
    verdict=CheckVerdict.PROBLEM,
    expected="enabled",
    found="not enabled",
    hint="enable USD in the account's currency settings",
)


def checked_kind(check) -> ConnectionKind:
    return ConnectionKind(
        id="demo",
        label="Demo",
        auth=AuthType.API_KEY,
        fields=(ConnectionField(name="key", label="Key", secret=True),),
        check=check,
    )


def account_check(connection, session):
    if connection["key"] != "good":
        raise AccountValidationError("the key was refused")
    return [SCOPES_OK, NO_USD]


def test_the_service_runs_the_apps_check_with_the_connections_secrets(service):
    service.registry.register_connection_kind(checked_kind(account_check))
    good = service.create_connection("demo", "Good", {}, {"key": "good"})
    bad = service.create_connection("demo", "Bad", {}, {"key": "bad"})
    assert service.check_connection(good.id) == [SCOPES_OK, NO_USD]
    with pytest.raises(AccountValidationError, match="refused"):
        service.check_connection(bad.id)


def test_an_app_without_a_check_says_so(service):
    service.registry.register_connection_kind(checked_kind(None))
    connection = service.create_connection("demo", "Plain", {}, {"key": "k"})
    with pytest.raises(InvalidConfigurationError, match="app 'demo' have no check"):
        service.check_connection(connection.id)


def test_findings_serialise_with_their_verdict():
    assert NO_USD.to_dict() == {
        "subject": "currency USD",
        "verdict": "problem",
        "expected": "enabled",
        "found": "not enabled",
        "hint": "enable USD in the account's currency settings",
    }


@pytest.fixture
def cli_environment(tmp_path):
    environ = {
        "SWITCHBOARD_VAR_DIR": str(tmp_path),
        "SWITCHBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "SWITCHBOARD_SECRET_KEY": generate_key(),
        "PATH": "/usr/bin:/bin",
    }
    return environ


def switchboard(environ, *args):
    return subprocess.run(
        [sys.executable, "-m", "switchboard.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=environ,
        timeout=60,
        check=False,
    )


def test_the_command_names_a_connection_that_is_not_there(cli_environment):
    result = switchboard(cli_environment, "connection", "check", "Nobody")
    assert result.returncode == 1
    assert "no connection is named 'Nobody': give its id" in result.stderr
    missing_id = switchboard(cli_environment, "connection", "check", "404")
    assert missing_id.returncode == 1 and "404" in missing_id.stderr


def test_the_command_reports_an_app_without_a_check(cli_environment):
    from engine.config import Settings

    settings = Settings.from_env(cli_environment)
    store = open_store(settings.database_url, secret_box=settings.secret_box())
    try:
        store.create_connection("demo", "api_key", "Stub", data={}, secrets={"key": "k"})
    finally:
        store.close()
    result = switchboard(cli_environment, "connection", "check", "Stub", "--json")
    assert result.returncode == 1
    assert "connection 'Stub':" in result.stderr and "have no check" in result.stderr
    assert json.loads(result.stdout or "[]") == []
