"""1CRM modules against the running 1CRM sandbox, over real HTTP, through ``run_scenario``."""

from __future__ import annotations

import pytest

from modules.onecrm.modules import webhook_bundles

from .conftest import node, outputs


def conn(connection, **extra):
    return {"__IMTCONN__": connection.id, **extra}


@pytest.fixture
def seeded(onecrm):
    onecrm.control(
        "seed",
        {
            "Account": [
                {"name": "Kauri Consulting", "email1": "info@kauri.example"},
                {"name": "Kauri Timber", "billing_address_city": "Auckland"},
                {"name": "Rimu Ltd"},
            ]
        },
    )
    return onecrm


def test_search_records_by_filter_text_with_fields_and_limit(runner, seeded, onecrm_connection):
    record = runner.one(
        "onecrm:SearchRecords",
        {"model": "Accounts", "filter_text": "kauri", "fields": "name,email1"},
        conn(onecrm_connection, limit=1),
    )
    found = outputs(record, 1)
    assert len(found) == 1 and found[0]["name"].startswith("Kauri")
    assert set(found[0]) == {"id", "name", "email1", "__IMTINDEX__", "__IMTLENGTH__"}
    every = runner.one(
        "onecrm:SearchRecords",
        {"filter_text": "kauri"},
        conn(onecrm_connection, model="Account", limit=0),
    )
    assert len(outputs(every, 1)) == 2


def test_search_pages_through_results(runner, onecrm, onecrm_connection):
    onecrm.control("seed", {"Account": [{"name": f"Company {n:03}"} for n in range(450)]})
    record = runner.one(
        "onecrm:SearchRecords",
        {"model": "Account", "order": "name"},
        conn(onecrm_connection, limit=0),
    )
    assert record.modules[1].bundles_out == 450  # the record keeps the first 100 only
    assert outputs(record, 1)[0]["name"] == "Company 000"
    offsets = [r["query"]["offset"][0] for r in onecrm.requests_to("/api.php/data/Account")]
    assert offsets == ["0", "200", "400"]


def test_create_get_and_update_a_record(runner, onecrm, onecrm_connection):
    created = runner.one(
        "onecrm:CreateRecord",
        {"model": "Account", "name": "Totara Tech", "email1": "", "billing_address_city": "Nelson"},
        conn(onecrm_connection),
    )
    assert created.status == "success", created.error
    account = outputs(created, 1)[0]
    assert account["assigned_user_id"] == "1"  # the connection's default Assigned ID
    assert account["date_modified"].endswith(".000Z")
    sent = onecrm.requests_to("/api.php/data/Account", "POST")[0]["json"]["data"]
    assert "email1" not in sent

    got = runner.one(
        "onecrm:GetRecord", {"model": "Account", "id": account["id"]}, conn(onecrm_connection)
    )
    assert outputs(got, 1)[0]["billing_address_city"] == "Nelson"

    updated = runner.one(
        "onecrm:UpdateRecord",
        {"model": "Account", "id": account["id"], "name": "Totara Technology"},
        conn(onecrm_connection),
    )
    assert outputs(updated, 1)[0]["name"] == "Totara Technology"
    assert outputs(updated, 1)[0]["billing_address_city"] == "Nelson"


def test_update_a_missing_record_fails_or_creates_when_asked(runner, onecrm_connection):
    missing = runner.one(
        "onecrm:UpdateRecord",
        {"model": "Account", "id": "no-such-id", "name": "Ghost"},
        conn(onecrm_connection),
    )
    assert missing.status == "error"
    assert missing.error["type"] == "DataError"
    assert "Account no-such-id not found" in missing.error["message"]
    created = runner.one(
        "onecrm:UpdateRecord",
        {"model": "Account", "id": "no-such-id", "name": "Ghost", "create_if_missing": True},
        conn(onecrm_connection),
    )
    assert outputs(created, 1)[0]["name"] == "Ghost"


def test_invoice_with_line_items_integrated_id_and_payment(runner, onecrm, onecrm_connection):
    onecrm.control("seed", {"Account": [{"name": "Pohutukawa Inc"}]})
    invoice = outputs(
        runner.one(
            "onecrm:CreateRecord",
            {
                "model": "Invoice",
                "name": "INV for Pohutukawa",
                "billing_account": "Pohutukawa Inc",
                "integrated_id": "xero-invoice-1",
                "line_items": [
                    {"name": "Widget", "quantity": 2, "unit_price": 50, "tax_percentage": 15},
                    {"name": "Fee", "unit_price": 10, "tax_amount": 1},
                ],
            },
            conn(onecrm_connection),
        ),
        1,
    )[0]
    assert invoice["billing_account_id"] and invoice["amount"] == 126.0
    payment = runner.one(
        "onecrm:CreateRecord",
        {
            "model": "Payment",
            "amount": 100,
            "account": "Pohutukawa Inc",
            "related_invoices": [{"integrated_id": "xero-invoice-1", "amount": 100}],
        },
        conn(onecrm_connection),
    )
    assert payment.status == "success", payment.error
    allocation = outputs(payment, 1)[0]["related_invoices"][0]
    assert allocation["invoice_id"] == invoice["id"]


def test_validation_errors_name_the_fields(runner, onecrm_connection):
    record = runner.one(
        "onecrm:CreateRecord",
        {
            "model": "Invoice",
            "name": "Bad",
            "line_items": [{"name": "x", "unit_price": 1, "tax_percentage": 15, "tax_amount": 1}],
        },
        conn(onecrm_connection),
    )
    assert record.status == "error" and record.error["type"] == "DataError"
    assert "line_items[1]" in record.error["message"]


def test_new_event_bundle_is_the_record():
    body = {
        "webhook_id": "w",
        "model": "Account",
        "event": "create",
        "record": {"id": "a1", "name": "X", "date_modified": "2026-01-02 03:04:05"},
    }
    assert webhook_bundles(body) == [
        {"id": "a1", "name": "X", "date_modified": "2026-01-02T03:04:05.000Z"}
    ]


def test_new_event_run_once_with_a_sample(runner):
    flow = [
        node(
            1,
            "onecrm:NewEvent",
            {"record": {"id": "a1", "name": "Sample"}},
            {"__IMTCONN__": 1, "model": "Account", "event": "create"},
        )
    ]
    record = runner.run(flow)
    assert outputs(record, 1)[0]["name"] == "Sample"


def test_wrong_password_is_an_account_validation_error(runner, store, onecrm):
    from .conftest import connect_onecrm

    bad = connect_onecrm(store, onecrm, password="wrong")
    record = runner.one("onecrm:SearchRecords", {"model": "Account"}, conn(bad))
    assert record.status == "error" and record.error["type"] == "AccountValidationError"
