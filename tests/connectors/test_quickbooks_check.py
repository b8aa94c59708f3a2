"""`switchboard connection check` for QuickBooks Online, through the command line against the
sandbox: a company as the prebuilt scenarios and sync packs expect it, and one that differs
where they would fail (a US company, a missing tax code, a rate that moved, multicurrency, no
income account, no inventory tracking)."""

from __future__ import annotations

import re
from decimal import Decimal

from engine.registry import default_registry
from modules.quickbooks import sandbox as qbo_sandbox
from modules.quickbooks.check import LIBRARY_TAX_CODES
from tests.conftest import REPO_ROOT
from tests.connectors.conftest import Sandbox
from tests.connectors.test_quickbooks_support import connect_quickbooks


def test_a_company_as_the_scenarios_expect_it_passes(check_command, serve, http):
    sandbox = Sandbox(serve(qbo_sandbox.create_app({"fixture": "small"})), http)
    connect_quickbooks(check_command.store, default_registry(), http, sandbox, name="Books")
    run = check_command.run("Books")
    code, findings = run.code, run.findings
    assert code == 0, run.stderr
    assert run.verdicts() == {
        "scopes": "ok",
        "sales tax": "ok",
        "tax code 4": "ok",
        "tax code 8": "ok",
        "tax code 5": "ok",
        "tax rates the scenarios do not map": "ok",  # zero-rated lines are mapped (#20)
        "currencies": "ok",
        "custom fields": "ok",
        "webhooks verifier token": "ok",
        "income accounts": "ok",
        "inventory items": "ok",
        "sales receipt deposits": "ok",
    }
    assert findings["tax code 4"]["found"] == "GST, sales rate 15 %"
    assert findings["inventory items"]["found"] == (
        "tracked; cost of goods sold: Cost of Sales; inventory asset: Inventory Asset"
    )
    assert findings["sales receipt deposits"]["found"] == "Undeposited Funds, Cheque Account"
    # the demo's company invoices in several currencies (#20): multicurrency on
    assert findings["currencies"]["found"] == "multicurrency on, home currency NZD"
    api_calls = [r for r in sandbox.state()["requests"] if r["path"].startswith("/v3/")]
    assert api_calls and {r["method"] for r in api_calls} == {"GET"}  # read-only


US_COMPANY = {
    "realms": [
        {
            "realmId": qbo_sandbox.DEFAULT_REALM_ID,
            "companyName": "Yankee Trading",
            "country": "US",
            "currency": "USD",
            "Preferences": {
                "CurrencyPrefs": {"MultiCurrencyEnabled": False},
                "ProductAndServicesPrefs": {"QuantityOnHand": False},
                "SalesFormsPrefs": {
                    "CustomField": [
                        {
                            "CustomField": [
                                {
                                    "Name": "SalesFormsPrefs.SalesCustomName1",
                                    "Type": "StringType",
                                    "StringValue": "PO number",
                                }
                            ]
                        }
                    ]
                },
            },
            "TaxRate": [{"Id": "9", "Name": "State", "RateValue": 8.5, "Active": True}],
            "Account": [
                {"Id": "35", "Name": "Checking", "AccountType": "Bank", "Active": True},
                {"Id": "1", "Name": "Old sales", "AccountType": "Income", "Active": False},
            ],
            "TaxCode": [
                {
                    "Id": "4",
                    "Name": "TAX",
                    "Active": True,
                    "SalesTaxRateList": {"TaxRateDetail": [{"TaxRateRef": {"value": "9"}}]},
                }
            ],
        }
    ]
}


def test_a_company_that_differs_is_reported_with_what_to_change(check_command, serve, http):
    sandbox = Sandbox(serve(qbo_sandbox.create_app({"fixture": US_COMPANY})), http)
    connect_quickbooks(check_command.store, default_registry(), http, sandbox, name="Books")
    run = check_command.run("Books")
    code, findings = run.code, run.findings
    assert code == 1
    assert run.verdicts() == {
        "scopes": "ok",
        "sales tax": "problem",
        "tax code 4": "problem",
        "tax code 8": "problem",
        "tax code 5": "problem",
        "tax rates the scenarios do not map": "warning",
        "currencies": "warning",
        "custom fields": "ok",
        "webhooks verifier token": "ok",
        "income accounts": "problem",
        "inventory items": "warning",
        "sales receipt deposits": "ok",
    }
    assert "US company with automated sales tax" in findings["sales tax"]["found"]
    assert findings["income accounts"]["found"] == "none"  # an inactive one does not count
    assert findings["inventory items"]["found"] == (
        "no quantity-on-hand tracking, no Cost of Goods Sold account, no Inventory asset account"
    )
    assert findings["tax code 4"]["found"] == "TAX, sales rate 8.5 %"
    assert findings["tax code 8"]["found"] == "no such tax code"
    assert findings["currencies"]["found"] == "multicurrency off, home currency USD"
    assert findings["custom fields"]["found"] == "PO number"


def test_the_checked_tax_codes_are_the_ones_the_scenarios_map():
    """``LIBRARY_TAX_CODES`` follows the scenario files: 3.3/3.5a/3.10/3.13 write
    ``switch(tax %; 15; 4; 10; 8; 0; 5; null)``; a scenario reading codes back would map
    ``switch(code; "4"; 15; "8"; 10; "5"; 0; 0)`` (3.4 and 3.5b read each line's rate from
    QuickBooks' tax rates). Only switches of a tax field count: 3.5b and 3.13 also switch on a
    quote's status."""
    library = REPO_ROOT / "scenarios" / "quickbooks"
    written = {"3.3", "3.5a", "3.10", "3.13"}
    for path in sorted(library.glob("3.*.json")):
        text = path.read_text()
        found = [
            pairs
            for subject, pairs in re.findall(r"switch\(([^;]+); ([^)]*)\)", text.replace('\\"', ""))
            if "tax" in subject.lower() or "taxcode" in subject.lower()
        ]
        if not found:
            continue
        pairs, *_ = found
        values = [v.strip() for v in pairs.split(";")]
        mapping = dict(zip(values[0:-1:2], values[1::2], strict=True))
        if path.name.split("-")[0] in written:
            assert {v: Decimal(k) for k, v in mapping.items()} == LIBRARY_TAX_CODES
        else:
            assert {k: Decimal(v) for k, v in mapping.items()} == LIBRARY_TAX_CODES
