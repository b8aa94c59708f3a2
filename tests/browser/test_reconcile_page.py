"""The reconciliation page against the 1CRM and Xero sandboxes: the differences of the two
books, each with the sync-log entry of its record, which opens that scenario's sync log."""

from __future__ import annotations

import json

import pytest
import requests

from engine.connections import StoreConnections
from engine.store import utc_now
from modules.onecrm import sandbox as onecrm_sandbox
from modules.onecrm.modules import webhook_bundles
from modules.sandboxing import run_sandbox_in_thread
from modules.xero import sandbox as xero_sandbox
from switchboard.cli import _demo_oauth_connection
from tests.browser.conftest import ROOT, shot
from tests.browser.helpers import api_session

CRM_AUTH = ("admin", "sandbox-password")


@pytest.fixture
def books(service):
    """Empty 1CRM and Xero sandboxes, a connection to each, and 2.3 imported with them."""
    onecrm_url, stop_onecrm = run_sandbox_in_thread(onecrm_sandbox.create_app())
    xero_url, stop_xero = run_sandbox_in_thread(xero_sandbox.create_app())
    onecrm = service.store.create_connection(
        "onecrm",
        "basic",
        "1CRM sandbox",
        data={"url": onecrm_url, "username": "admin", "assigned_user_id": "1"},
        secrets={"password": "sandbox-password"},
    )
    xero = _demo_oauth_connection(service.store, service.registry, "xero", xero_url)
    text = (ROOT / "scenarios" / "xero" / "2.3-invoices-1crm-to-xero.json").read_bytes()
    imported = service.import_scenario(text, connections={"onecrm": onecrm.id, "xero": xero.id})
    with requests.Session() as http:
        yield http, onecrm_url, xero_url, xero, imported.scenario
    stop_xero()
    stop_onecrm()


def xero_contact(service, http, xero_url, xero, name, email):
    connection = StoreConnections(service.store, service.registry, utc_now, http).get(xero.id)
    headers = {
        "Authorization": f"Bearer {connection['access_token']}",
        "xero-tenant-id": connection["tenant_id"],
        "Accept": "application/json",
    }
    body = {"Contacts": [{"Name": name, "EmailAddress": email}]}
    answer = http.put(f"{xero_url}/api.xro/2.0/Contacts", json=body, headers=headers, timeout=30)
    assert answer.ok, answer.text


def crm_account(http, onecrm_url, name, email):
    answer = http.post(
        f"{onecrm_url}/api.php/data/Account",
        json={"data": {"name": name, "email1": email}},
        auth=CRM_AUTH,
        timeout=30,
    )
    assert answer.ok, answer.text
    return answer.json()["id"]


def crm_invoice(http, onecrm_url, account_id):
    """An invoice saved in 1CRM's own screens, read back as its webhook carries it."""
    saved = http.post(
        f"{onecrm_url}/_sandbox/ui/Invoice",
        json={"name": "Lost", "billing_account_id": account_id, "due_date": "2026-03-31"},
        timeout=30,
    ).json()
    answer = http.get(f"{onecrm_url}/api.php/data/Invoice/{saved['id']}", auth=CRM_AUTH, timeout=30)
    return answer.json()["record"]


def test_reconciliation_lists_differences_linked_to_their_sync_log(
    signed_in, server, service, books
):
    page = signed_in
    http, onecrm_url, xero_url, xero, scenario = books
    crm_account(http, onecrm_url, "Harakeke Ltd", "a@h.example")
    xero_contact(service, http, xero_url, xero, "Harakeke Ltd", "a@h.example")
    stranger = crm_account(http, onecrm_url, "Nobody Ltd", "n@n.example")
    invoice = crm_invoice(http, onecrm_url, stranger)
    number = f"{invoice['prefix']}{invoice['invoice_number']}"
    # 2.3 runs for the invoice: Xero has no contact "Nobody Ltd", so it does not sync.
    answer = page.request.post(
        f"{server}/api/scenarios/{scenario.id}/run",
        data=json.dumps({"bundle": webhook_bundles(invoice)[0]}),
        headers={**api_session(page, server), "Content-Type": "application/json"},
    )
    assert answer.ok, answer.text()
    log = page.request.get(f"{server}/api/scenarios/{scenario.id}/sync-log").json()
    (entry,) = [e for e in log if e["source_key"] == invoice["id"]]
    assert entry["status"] != "Synced" and entry["message"], entry

    page.locator(".topbar").get_by_role("link", name="Reconciliation").click()
    page.get_by_role("heading", name="Reconciliation").wait_for()
    page.get_by_label("Library").select_option("xero")
    page.get_by_role("button", name="Compare").click()
    table = page.get_by_test_id("reconcile-table")
    table.wait_for()
    summary = page.get_by_test_id("reconcile-summary").inner_text()
    assert "1CRM (1CRM sandbox): 2 customers, 1 invoices, 0 payments" in summary, summary
    lost = table.locator("tr[data-kind='invoice'][data-field='exists']")
    assert number in lost.inner_text()
    assert entry["status"] in lost.inner_text()
    assert entry["message"] in lost.inner_text()  # why it did not sync, from its sync log
    nobody = table.locator("tr[data-kind='customer']")
    assert "Nobody Ltd" in nobody.inner_text() and "no entry" in nobody.inner_text()
    assert table.locator("tbody tr").count() == 2  # Harakeke Ltd is the same on both sides
    shot(page, "pages-reconcile")

    page.get_by_role("tab", name="Invoices 1", exact=True).click()
    page.wait_for_function(
        "() => document.querySelectorAll(\"[data-testid='reconcile-table'] tbody tr\").length === 1"
    )
    # The entry leads to the scenario's sync log, where the same record says the same.
    lost.get_by_role("link", name=scenario.name).click()
    page.get_by_role("heading", name=f"Sync log · {scenario.name}").wait_for()
    row = page.get_by_test_id("sync-log-table").locator(f"tr[data-status='{entry['status']}']")
    assert number in row.inner_text()


def test_reconciliation_says_what_to_choose_when_it_cannot_tell(signed_in, server, service):
    page = signed_in
    page.goto(f"{server}/#/reconcile?library=quickbooks")
    assert page.get_by_label("Library").input_value() == "quickbooks"
    page.get_by_role("button", name="Compare").click()
    page.get_by_text(
        "which onecrm connection should the quickbooks reconciliation read?"
    ).wait_for()
