"""`switchboard connection check` for Zoho CRM, through the command line against the sandbox: an
organisation as the modules expect it, and one that lacks a module, a field or a scope; the
data-centre pairing on real Zoho hosts."""

from __future__ import annotations

import pytest

from engine.connections import resolved_from_values
from engine.registry import default_registry
from modules.zohocrm import sandbox as zoho_sandbox
from modules.zohocrm.check import data_centre_finding
from modules.zohocrm.connection import ZOHOCRM_CONNECTION
from tests.connectors.conftest import Sandbox
from tests.connectors.test_zohocrm_support import connect_zohocrm
from tests.sandboxes.test_zohocrm_oauth import connect


def test_an_organisation_as_the_modules_expect_it_passes(check_command, serve, http):
    sandbox = Sandbox(serve(zoho_sandbox.create_app()), http)
    connect_zohocrm(check_command.store, default_registry(), http, sandbox, name="CRM")
    run = check_command.run("CRM")
    code, findings = run.code, run.findings
    assert code == 0, run.stderr
    assert run.verdicts() == {
        "data centre": "warning",  # the sandbox is no Zoho host
        "scope: records": "ok",
        "scope: search": "ok",
        "scope: notifications": "ok",
        "module Accounts": "ok",
        "module Contacts": "ok",
        "module Vendors": "ok",
        "module Products": "ok",
        "module Quotes": "ok",
        "module Invoices": "ok",
        "cross-reference fields (QuickBooks)": "ok",
        "cross-reference fields (Xero)": "ok",
        "limits": "ok",
    }
    assert findings["module Invoices"]["expected"] == "Subject, Invoiced_Items, Modified_Time"
    assert findings["module Vendors"]["expected"] == "Vendor_Name, Modified_Time"
    assert (
        "Products.QuickBooks_Item_Id" in findings["cross-reference fields (QuickBooks)"]["expected"]
    )
    assert findings["limits"]["found"] == (  # read from the organisation at sign-in
        "standard edition, 3 user(s): 50,750 API credits a day, 10 calls at once"
    )
    api_calls = [r for r in sandbox.state()["requests"] if r["path"].startswith("/crm/")]
    assert {r["method"] for r in api_calls} == {"GET"}  # read-only


def test_a_missing_module_and_field_are_problems(check_command, serve, http):
    config = {"modules_missing": ["Invoices"], "fields_missing": {"Quotes": ["Quoted_Items"]}}
    sandbox = Sandbox(serve(zoho_sandbox.create_app(config)), http)
    connect_zohocrm(check_command.store, default_registry(), http, sandbox, name="CRM")
    sandbox.control("config", {"edition": "enterprise", "licensed_users": 40})  # upgraded since
    run = check_command.run("CRM")
    code, findings = run.code, run.findings
    assert code == 1
    assert findings["limits"]["verdict"] == "warning"
    assert findings["limits"]["expected"] == "enterprise edition, 40 user(s)"
    assert findings["module Invoices"]["verdict"] == "problem"
    assert findings["module Invoices"]["found"] == "not in this organisation"
    assert findings["module Quotes"]["verdict"] == "problem"
    assert findings["module Quotes"]["found"] == "missing Quoted_Items"
    assert findings["module Accounts"]["verdict"] == "ok"


def test_missing_cross_reference_fields_are_a_warning_naming_them(check_command, serve, http):
    custom = {"Products": {"QuickBooks_Item_Id": "text"}}  # the other fields never added
    config = {"custom_fields": custom, "modules_missing": ["Vendors"]}
    sandbox = Sandbox(serve(zoho_sandbox.create_app(config)), http)
    connect_zohocrm(check_command.store, default_registry(), http, sandbox, name="CRM")
    run = check_command.run("CRM")
    code, findings = run.code, run.findings
    assert code == 1  # Vendors is missing: a problem
    quickbooks = findings["cross-reference fields (QuickBooks)"]
    assert quickbooks["verdict"] == "warning"
    assert quickbooks["found"] == (
        "missing Accounts.QuickBooks_Customer_Id, Contacts.QuickBooks_Customer_Id, "
        "Quotes.QuickBooks_Estimate_Id, Invoices.QuickBooks_Invoice_Id"
    )  # Vendors is reported as a missing module, not as a missing field
    assert "QuickBooks_Customer_Id" in quickbooks["hint"]
    assert findings["cross-reference fields (Xero)"]["verdict"] == "warning"


def test_a_grant_without_search_or_settings_is_reported(serve, http):
    sandbox = Sandbox(serve(zoho_sandbox.create_app()), http)
    tokens = connect(http, sandbox, scope="ZohoCRM.modules.ALL,ZohoCRM.notifications.ALL")
    connection = resolved_from_values(
        ZOHOCRM_CONNECTION,
        {"api_domain": tokens["api_domain"], "token_url": f"{sandbox.url}/oauth/v2/token"},
        {"access_token": tokens["access_token"]},
    )
    findings = {f.subject: f for f in ZOHOCRM_CONNECTION.check(connection, http)}
    assert findings["scope: search"].verdict == "problem"
    assert findings["scope: search"].expected == "ZohoSearch.securesearch.READ"
    assert findings["scope: notifications"].verdict == "ok"
    assert findings["scope: settings"].verdict == "warning"
    assert not any(subject.startswith("module ") for subject in findings)
    assert findings["limits"].verdict == "warning"  # the organisation's licence is unreadable


@pytest.mark.parametrize(
    ("api_domain", "token_url", "verdict", "found"),
    [
        ("https://www.zohoapis.ca", "https://accounts.zohocloud.ca/oauth/v2/token", "ok", "CA"),
        ("https://www.zohoapis.eu", "https://accounts.zoho.eu/oauth/v2/token", "ok", "EU"),
        ("https://www.zohoapis.ca", "https://accounts.zoho.com/oauth/v2/token", "problem", "API"),
        ("https://sandbox.zohoapis.com", "https://accounts.zoho.com/oauth/v2/token", "ok", "US"),
    ],
)
def test_the_data_centre_pairs_the_api_host_with_the_accounts_server(
    api_domain, token_url, verdict, found
):
    finding = data_centre_finding({"api_domain": api_domain, "token_url": token_url})
    assert finding.verdict == verdict and finding.found.startswith(found)
