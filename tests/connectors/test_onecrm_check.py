"""``switchboard connection check`` for 1CRM: the command line against the 1CRM sandbox (set
up as different real instances would be), and the findings for a missing custom field."""

from __future__ import annotations

import requests
import responses

from engine.connections import resolved_from_values
from modules.onecrm.check import check_connection
from modules.onecrm.connection import ONECRM_CONNECTION


def stored_connection(check_command, sandbox, name="Our 1CRM"):
    check_command.store.create_connection(
        "onecrm",
        "basic",
        name,
        data={"url": sandbox.url, "username": "admin", "assigned_user_id": "1"},
        secrets={"password": "sandbox-password"},
    )
    return name


def test_a_ready_instance_passes_with_what_to_know(check_command, start_onecrm):
    onecrm = start_onecrm({"fixture": "small"})
    run = check_command.run(stored_connection(check_command, onecrm))
    code, findings = run.code, run.findings
    assert code == 0, findings
    assert findings["REST API"]["found"] == "1CRM 8.6.7, enterprise"
    assert run.verdicts() == {
        "REST API": "ok",
        "instance URL": "warning",  # http:// — the sandbox; a real instance is https://
        "sign-in (Basic auth)": "ok",
        **{f"fields of {model}": "ok" for model in FIELD_MODELS},
        "list filter Invoice.integrated_id": "warning",
        "line lists of Invoice": "ok",
        "line lists of Quote": "ok",
        "tax rate 15 %": "ok",
        "tax rate 10 %": "ok",
        "currencies": "ok",
    }
    assert findings["currencies"]["found"] == "base USD; USD, NZD, AUD, EUR, GBP"
    requests_made = {(r["method"], r["path"]) for r in onecrm.state()["requests"]}
    assert {method for method, _ in requests_made} == {"GET"}  # read-only


FIELD_MODELS = (
    "Account",
    "Invoice",
    "InvoiceLineGroup",
    "InvoiceLine",
    "InvoiceAdjustment",
    "Quote",
    "QuoteLineGroup",
    "QuoteLine",
    "QuoteAdjustment",
    "Payment",
    "invoices_payments",
    "Currency",
    "TaxRate",
)


def test_basic_auth_off_is_the_problem_to_fix_first(check_command, start_onecrm):
    onecrm = start_onecrm({"basic_auth_enabled": False})
    run = check_command.run(stored_connection(check_command, onecrm))
    code, findings = run.code, run.findings
    assert code == 1
    assert list(findings) == ["REST API", "instance URL", "sign-in (Basic auth)"]
    sign_in = findings["sign-in (Basic auth)"]
    assert sign_in["verdict"] == "problem"
    assert sign_in["found"].startswith("1CRM: Basic authentication is disabled")
    assert "administrator enables it" in sign_in["hint"]


def test_missing_tax_rates_and_a_lone_currency_are_reported(check_command, start_onecrm):
    onecrm = start_onecrm({"tax_rates": [{"name": "GST", "rate": 15}], "currencies": []})
    run = check_command.run(stored_connection(check_command, onecrm))
    code, findings = run.code, run.findings
    assert code == 1
    assert findings["tax rate 10 %"]["verdict"] == "problem"
    assert findings["tax rate 10 %"]["found"] == "15 %"
    assert findings["currencies"]["verdict"] == "warning"


def test_an_edition_without_the_api_is_a_problem(check_command, start_onecrm):
    onecrm = start_onecrm({"edition": "startup"})
    run = check_command.run(stored_connection(check_command, onecrm))
    code, findings = run.code, run.findings
    assert code == 1
    assert findings["REST API"]["verdict"] == "problem"
    assert "Professional and Enterprise" in findings["REST API"]["hint"]


def test_a_missing_integrated_id_field_says_how_to_add_it():
    """A real instance without the Integrated ID custom field (the sandbox always has it)."""
    api = "https://crm.example.test/api.php"
    connection = resolved_from_values(
        ONECRM_CONNECTION, {"url": "https://crm.example.test", "username": "u"}, {"password": "p"}
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.get(f"{api}/version", json={"version": "8.6", "products": ["professional"]})
        mocked.get(f"{api}/me", json={"id": "Users:1", "last_name": "Admin"})
        for model in FIELD_MODELS:
            mocked.get(f"{api}/meta/fields/{model}", json=without_integrated_id(model))
        mocked.get(f"{api}/data/Invoice", json={"records": [], "total_results": 0})
        mocked.get(f"{api}/data/Quote", json={"records": [], "total_results": 0})
        mocked.get(f"{api}/data/TaxRate", json={"records": [], "total_results": 0})
        mocked.get(f"{api}/data/Currency", json={"records": [], "total_results": 0})
        with requests.Session() as session:
            findings = {f.subject: f for f in check_connection(connection, session)}
    missing = findings["field Invoice.integrated_id"]
    assert missing.verdict == "problem"
    assert "add a text field named integrated_id" in missing.hint
    assert "fields of Invoice" not in findings
    assert findings["fields of Payment"].verdict == "ok"


def without_integrated_id(model):
    """The metadata of ``model`` with every field the library uses but Invoice's
    ``integrated_id``."""
    from modules.onecrm.check import LIBRARY_FIELDS, LIBRARY_FILTERS

    names = [n for n in LIBRARY_FIELDS[model] if not (model == "Invoice" and n == "integrated_id")]
    return {
        "fields": {name: {"name": name} for name in names},
        "filters": {name: {"name": name} for name in LIBRARY_FILTERS.get(model, ())},
    }
