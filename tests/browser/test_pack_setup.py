"""The sync packs' setup page in Chromium against the Zoho CRM and QuickBooks Online sandboxes:
choose the connections, the directions, a static field, a record filter and the tax table read
live from both systems, install, see the scenarios' health, then sync historical data from a
date with progress — and the records arrive on both sides."""

from __future__ import annotations

import pytest
import requests

from modules.quickbooks import sandbox as qbo_sandbox
from modules.sandboxing import run_sandbox_in_thread
from modules.zohocrm import sandbox as zoho_sandbox
from tests.browser.conftest import shot
from tests.connectors.conftest import Sandbox
from tests.connectors.test_quickbooks_support import connect_quickbooks
from tests.connectors.test_zohocrm_support import connect_zohocrm

PACK = "zoho-quickbooks"


@pytest.fixture
def systems(service):
    zoho_url, stop_zoho = run_sandbox_in_thread(zoho_sandbox.create_app({"fixture": "small"}))
    qbo_url, stop_qbo = run_sandbox_in_thread(qbo_sandbox.create_app({"fixture": "small"}))
    with requests.Session() as http:
        zoho, qbo = Sandbox(zoho_url, http), Sandbox(qbo_url, http)
        registry = service.registry
        connect_zohocrm(service.store, registry, http, zoho, name="Zoho sandbox")
        connect_quickbooks(service.store, registry, http, qbo, name="QuickBooks sandbox")
        yield zoho, qbo
    stop_qbo()
    stop_zoho()


def test_a_pack_installs_from_its_setup_page_and_syncs_both_ways(
    signed_in, server, service, systems
):
    page = signed_in
    zoho, qbo = systems
    page.get_by_role("link", name="Sync packs").click()
    page.get_by_role("link", name="Zoho CRM ⇄ QuickBooks Online").click()
    page.get_by_role("heading", name="Zoho CRM ⇄ QuickBooks Online").wait_for()
    page.get_by_label("Zoho CRM connection").select_option(label="Zoho sandbox")
    page.get_by_label("QuickBooks Online connection").select_option(label="QuickBooks sandbox")
    page.get_by_label("Direction of vendors").select_option("off")
    # A static value (ZBrains' "Static Field"): every customer from Zoho gets the same notes.
    page.get_by_label("Static Notes").check()
    page.get_by_label("Static value of Notes").fill("Synced from Zoho CRM")
    # A record filter on Zoho → QuickBooks contacts: only e-mails at acmeltd.example.
    filters = page.get_by_label("Filters of customers-zoho-to-quickbooks.json")
    filters.get_by_role("button", name="+ Add a filter").click()
    filters.get_by_label("Filter condition").select_option("text:contain")
    filters.get_by_label("Filter value").fill("@acmeltd.example")
    # The tax table, read live: Zoho's taxes in use against QuickBooks' tax codes.
    page.get_by_role("button", name="Read taxes from both systems").click()
    page.get_by_label("Tax for GST").select_option("4")
    shot(page, "pack-setup-filled")
    page.get_by_role("button", name="Install").click()
    page.get_by_text("Installed: 9 scenarios (9 created or updated).").wait_for()
    health = page.get_by_label("Scenario health")
    health.get_by_text("Zoho CRM → QuickBooks: contacts to customers").wait_for()
    assert health.locator("tbody tr").count() == 9
    scenarios = {s.name: s for s in service.list_scenarios()}
    assert not scenarios["Zoho CRM → QuickBooks: vendors"].active
    assert scenarios["Zoho CRM → QuickBooks: contacts to customers"].active

    page.get_by_label("Historical date").fill("2020-01-01")
    page.get_by_role("button", name="Sync historical data").click()
    page.get_by_text("Done: 7 of 7 scenarios").wait_for(timeout=120_000)
    shot(page, "pack-setup-health")

    # Zoho → QuickBooks: the fixture's Ada (acmeltd) passed the filter, with the static notes;
    # the other contacts were stopped by it.
    realm = qbo.state()["records"][qbo_sandbox.DEFAULT_REALM_ID]
    by_email = {(c.get("PrimaryEmailAddr") or {}).get("Address"): c for c in realm["Customer"]}
    assert by_email["ada@acmeltd.example"]["Notes"] == "Synced from Zoho CRM"
    # QuickBooks → Zoho: the fixture's customers are Zoho contacts, linked by their ids.
    contacts = {c.get("Email"): c for c in zoho.state()["records"]["Contacts"]}
    assert contacts["accounts@acmeltd.example"]["QuickBooks_Customer_Id"]
    page.reload()
    not_valid = page.get_by_label("Scenario health").locator("tbody tr").first.locator("td").nth(4)
    assert int(not_valid.inner_text()) >= 1  # the contacts the filter stopped


@pytest.fixture
def xero_systems(service):
    from modules.xero import sandbox as xero_sandbox
    from tests.connectors.conftest import connect_xero

    zoho_url, stop_zoho = run_sandbox_in_thread(zoho_sandbox.create_app({"fixture": "small"}))
    xero_url, stop_xero = run_sandbox_in_thread(xero_sandbox.create_app({"fixture": "small"}))
    with requests.Session() as http:
        zoho, xero = Sandbox(zoho_url, http), Sandbox(xero_url, http)
        connect_zohocrm(service.store, service.registry, http, zoho, name="Zoho sandbox")
        connect_xero(service.store, service.registry, http, xero, name="Xero sandbox")
        yield zoho, xero
    stop_xero()
    stop_zoho()


def test_zoho_xero_installs_with_its_options_and_syncs_both_ways(signed_in, service, xero_systems):
    page = signed_in
    zoho, xero = xero_systems
    page.goto(page.base_url + "/#/packs/zoho-xero")
    page.get_by_label("Zoho CRM connection").select_option(label="Zoho sandbox")
    page.get_by_label("Xero connection").select_option(label="Xero sandbox")
    prefix = page.get_by_label("Invoice number prefix")
    prefix.fill("ABCDEFG")
    assert prefix.input_value() == "ABCD"  # at most 4 characters
    prefix.fill("ZX-")
    page.get_by_label("Invoice status in Xero").select_option("DRAFT")
    page.get_by_label("Invoice customer in Xero").select_option("online_sale")
    page.get_by_label("Direction of quotes").select_option("off")
    page.get_by_role("button", name="Read taxes from both systems").click()
    page.get_by_label("Tax for GST").select_option("OUTPUT2")
    page.get_by_role("button", name="Install").click()
    page.get_by_text("Installed: 5 scenarios (5 created or updated).").wait_for()
    shot(page, "pack-setup-zoho-xero")
    page.get_by_label("Historical date").fill("2020-01-01")
    page.get_by_role("button", name="Sync historical data").click()
    page.get_by_text("Done:").wait_for(timeout=120_000)
    (tenant,) = xero.state()["records"].values()
    numbers = {i["InvoiceNumber"]: i for i in tenant["Invoices"]}
    # Zoho → Xero: the fixture's Zoho invoice 2001, prefixed, a draft for the Online Sale customer.
    assert numbers["ZX-2001"]["Status"] == "DRAFT"
    assert numbers["ZX-2001"]["Contact"]["Name"] == "Online Sale"
    # Xero → Zoho: the fixture's Xero contacts are Zoho accounts.
    accounts = {a["Account_Name"] for a in zoho.state()["records"]["Accounts"]}
    assert {c["Name"] for c in tenant["Contacts"] if c["Name"] != "Online Sale"} <= accounts


def test_crm_quickbooks_installs_with_one_connection_and_shows_its_webhooks(
    signed_in, service, systems
):
    page = signed_in
    _, qbo = systems
    page.goto(page.base_url + "/#/packs/crm-quickbooks")
    page.get_by_label("QuickBooks Online connection").select_option(label="QuickBooks sandbox")
    assert page.get_by_label("CRM connection").count() == 0  # the CRM only sends webhooks
    page.get_by_label("Action URL (e.g. the CRM's review request)").fill(
        "http://127.0.0.1:9/reviews"
    )
    page.get_by_role("button", name="Install").click()
    page.get_by_text("Installed: 4 scenarios (4 created or updated).").wait_for()
    hook = page.get_by_label("Scenario health").locator("code").first
    url = hook.inner_text()
    shot(page, "pack-setup-crm-quickbooks")
    # The CRM posts a payment to the URL shown: QuickBooks gets the sales receipt.
    answer = requests.post(
        url,
        json={
            "id": "B-1",
            "email": "pay@kiwi.example",
            "name": "Pay",
            "amount": 50,
            "date": "2026-05-04",
        },
        timeout=30,
    )
    assert answer.ok, answer.text
    realm = qbo.state()["records"][qbo_sandbox.DEFAULT_REALM_ID]
    import time

    for _ in range(100):  # the webhook's run happens on the service's workers
        realm = qbo.state()["records"][qbo_sandbox.DEFAULT_REALM_ID]
        if any(r.get("DocNumber") == "B-1" for r in realm.get("SalesReceipt", [])):
            break
        time.sleep(0.2)
    assert any(r.get("DocNumber") == "B-1" for r in realm["SalesReceipt"])
