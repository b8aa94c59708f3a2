"""``switchboard connection check`` for Xero connections, through the command line, against
the Xero sandbox: scopes, organisation, currencies, the scenarios' tax rates and accounts."""

from __future__ import annotations

from engine.registry import default_registry

from .conftest import connect_xero


def test_a_sandbox_organisation_matches_what_the_modules_assume(check_command, start_xero, http):
    store = check_command.store
    sandbox = start_xero({"currencies": ["AUD"]})
    connect_xero(store, default_registry(), http, sandbox, name="Books")
    run = check_command.run("Books")
    code, findings = run.code, run.findings
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


def test_missing_scopes_tax_codes_and_payment_accounts_are_problems(
    check_command, start_xero, http
):
    store = check_command.store
    sandbox = start_xero({"tax_rates": {"OUTPUT2": None}})
    connection = connect_xero(store, default_registry(), http, sandbox, name="Old grant")
    # A grant from before the module set grew: no accounting.payments.
    narrower = {
        **connection.secrets,
        "scope": "offline_access accounting.contacts accounting.invoices accounting.settings",
    }
    store.update_connection_secrets(connection.id, narrower, connection.revision)
    run = check_command.run("Old grant")
    code, findings = run.code, run.findings
    assert code == 1
    assert findings["scopes"]["verdict"] == "problem"
    assert "accounting.payments" in findings["scopes"]["hint"]
    assert findings["tax rate OUTPUT2"]["verdict"] == "problem"
    assert findings["tax rate OUTPUT2"]["found"] == "not in GET /TaxRates"
    assert findings["tax rate NONE"]["verdict"] == "ok"


def test_a_legacy_grant_is_a_warning(check_command, start_xero, http):
    store = check_command.store
    older = start_xero({"app_created": "2025-10-01"})
    connection = connect_xero(store, default_registry(), http, older, name="Legacy")
    legacy = {
        **connection.secrets,
        "scope": "offline_access accounting.transactions accounting.contacts accounting.settings",
    }
    store.update_connection_secrets(connection.id, legacy, connection.revision)
    run = check_command.run("Legacy")
    code, findings = run.code, run.findings
    assert code == 0
    assert findings["scopes"]["verdict"] == "warning"
    assert "September 2027" in findings["scopes"]["hint"]
