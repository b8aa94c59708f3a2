"""``switchboard connection check`` for Xero connections, through the command line, against
the Xero sandbox: scopes, organisation, currencies, the scenarios' tax rates and accounts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from engine.config import Settings
from engine.registry import default_registry
from engine.secrets import generate_key
from engine.store import open_store
from tests.conftest import REPO_ROOT

from .conftest import connect_xero


@pytest.fixture
def cli(tmp_path):
    environ = {
        "SWITCHBOARD_VAR_DIR": str(tmp_path),
        "SWITCHBOARD_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "SWITCHBOARD_SECRET_KEY": generate_key(),
        "SWITCHBOARD_ALLOW_PRIVATE_NETWORK": "1",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
    settings = Settings.from_env(environ)
    store = open_store(settings.database_url, secret_box=settings.secret_box())
    yield environ, store
    store.close()


def check(environ, name):
    result = subprocess.run(
        [sys.executable, "-m", "engine.cli", "connection", "check", name, "--json"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=environ,
        timeout=120,
        check=False,
    )
    assert result.stdout, result.stderr
    return result.returncode, {f["subject"]: f for f in json.loads(result.stdout)}


def test_a_sandbox_organisation_matches_what_the_modules_assume(cli, start_xero, http):
    environ, store = cli
    sandbox = start_xero({"currencies": ["AUD"]})
    connect_xero(store, default_registry(), http, sandbox, name="Books")
    code, findings = check(environ, "Books")
    assert code == 0
    assert {subject: f["verdict"] for subject, f in findings.items()} == {
        "scopes": "ok",
        "organisation": "ok",
        "currency": "ok",
        "tax rate OUTPUT2": "ok",
        "tax rate OUTPUT": "ok",
        "tax rate NONE": "ok",
        "account 200": "ok",
        "account 090": "ok",
    }
    assert findings["currency"]["found"] == "NZD (also AUD)"
    assert findings["organisation"]["found"].startswith("Demo Company (Sandbox) (")


def test_missing_scopes_tax_codes_and_payment_accounts_are_problems(cli, start_xero, http):
    environ, store = cli
    sandbox = start_xero({"tax_rates": {"OUTPUT2": None}})
    connection = connect_xero(store, default_registry(), http, sandbox, name="Old grant")
    # A grant from before the module set grew: no accounting.payments.
    narrower = {
        **connection.secrets,
        "scope": "offline_access accounting.contacts accounting.invoices accounting.settings",
    }
    store.update_connection_secrets(connection.id, narrower, connection.revision)
    code, findings = check(environ, "Old grant")
    assert code == 1
    assert findings["scopes"]["verdict"] == "problem"
    assert "accounting.payments" in findings["scopes"]["hint"]
    assert findings["tax rate OUTPUT2"]["verdict"] == "problem"
    assert findings["tax rate OUTPUT2"]["found"] == "not in GET /TaxRates"
    assert findings["tax rate NONE"]["verdict"] == "ok"


def test_a_legacy_grant_is_a_warning(cli, start_xero, http):
    environ, store = cli
    older = start_xero({"app_created": "2025-10-01"})
    connection = connect_xero(store, default_registry(), http, older, name="Legacy")
    legacy = {
        **connection.secrets,
        "scope": "offline_access accounting.transactions accounting.contacts accounting.settings",
    }
    store.update_connection_secrets(connection.id, legacy, connection.revision)
    code, findings = check(environ, "Legacy")
    assert code == 0
    assert findings["scopes"]["verdict"] == "warning"
    assert "September 2027" in findings["scopes"]["hint"]
