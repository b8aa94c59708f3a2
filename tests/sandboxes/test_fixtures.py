"""The shipped fixtures load cleanly and describe the same companies in both apps."""

import pytest


@pytest.mark.parametrize("name", ["demo", "small"])
def test_fixtures_load_with_paid_invoices_and_shared_company_names(start_xero, start_onecrm, name):
    xero = start_xero({"fixture": name}).state()["records"]
    tenant = next(iter(xero.values()))
    crm = start_onecrm({"fixture": name}).state()["records"]
    assert {c["Name"] for c in tenant["Contacts"]} == {a["name"] for a in crm["Account"]}
    synced = {i["integrated_id"] for i in crm["Invoice"] if i.get("integrated_id")}
    assert synced <= {i["InvoiceID"] for i in tenant["Invoices"]}
    assert any(i["Status"] == "PAID" for i in tenant["Invoices"]) or name == "small"
    paid_in_crm = [i for i in crm["Invoice"] if float(i["amount_due"]) < float(i["amount"])]
    assert len(paid_in_crm) == len(crm["Payment"]) == len(crm["invoices_payments"])


def test_demo_fixture_sizes(start_onecrm):
    records = start_onecrm({"fixture": "demo"}).state()["records"]
    sizes = {model: len(records[model]) for model in ("Account", "Contact", "Invoice")}
    assert sizes == {"Account": 20, "Contact": 20, "Invoice": 50}
    with_lines = {line["invoice_id"] for line in records["InvoiceLine"]}
    assert with_lines == {invoice["id"] for invoice in records["Invoice"]}


def test_reset_reloads_the_configured_fixture(start_xero, http):
    xero = start_xero({"fixture": "small"})
    xero.control("reset")
    tenant = next(iter(xero.state()["records"].values()))
    assert len(tenant["Contacts"]) == 3
