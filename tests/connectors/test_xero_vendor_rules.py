"""The Xero connector against Xero's 2026 rules (../shared/reference/vendor/xero/NOTES.md):
granular scopes chosen per connection, payments to accounts with payments enabled."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from engine.connections import authorization_url, exchange_code
from engine.errors import InvalidConfigurationError
from modules.xero.connection import XERO_CONNECTION

from .conftest import REDIRECT_URI, outputs, xero_client_data

GRANULAR = (
    "openid profile email offline_access accounting.contacts accounting.invoices "
    "accounting.payments accounting.settings"
)


def asked_scopes(data):
    url = authorization_url(XERO_CONNECTION, data, redirect_uri=REDIRECT_URI, state="s")
    return parse_qs(urlsplit(url).query)["scope"][0]


def test_a_connection_asks_for_the_granular_scopes_unless_it_chooses_legacy():
    """NOTES §2: apps created from 2 March 2026 must not ask for accounting.transactions."""
    assert asked_scopes({"client_id": "c"}) == GRANULAR
    assert "accounting.transactions" not in asked_scopes({"client_id": "c"})
    legacy = asked_scopes({"client_id": "c", "scope_set": "legacy"})
    assert "accounting.transactions" in legacy and "accounting.invoices" not in legacy
    with pytest.raises(InvalidConfigurationError, match=r"granular .* or legacy"):
        asked_scopes({"client_id": "c", "scope_set": "everything"})


def sign_in(http, sandbox, scope_set):
    data = {**xero_client_data(sandbox), "scope_set": scope_set}
    url = authorization_url(XERO_CONNECTION, data, redirect_uri=REDIRECT_URI, state="s1")
    answer = http.get(url, allow_redirects=False)
    return data, parse_qs(urlsplit(answer.headers["Location"]).query)


def test_a_legacy_connection_signs_in_only_to_an_app_created_before_2_march_2026(http, start_xero):
    _, refused = sign_in(http, start_xero(), "legacy")
    assert refused["error"] == ["invalid_scope"]
    data, granted = sign_in(http, start_xero({"app_created": "2025-09-01"}), "legacy")
    tokens = exchange_code(
        XERO_CONNECTION,
        data,
        "sandbox-client-secret",
        code=granted["code"][0],
        redirect_uri=REDIRECT_URI,
        session=http,
        now=datetime.now(UTC),
    )
    assert "accounting.transactions" in tokens["scope"].split()


def test_the_modules_work_with_the_granular_scopes(runner, xero, xero_connection):
    assert set(xero_connection.secrets["scope"].split()) == set(GRANULAR.split())
    contact = outputs(
        runner.one("xero:CreateContact", {"Name": "Kea Ltd"}, {"__IMTCONN__": xero_connection.id}),
        1,
    )[0]
    invoice = runner.one(
        "xero:CreateInvoice",
        {
            "ContactID": contact["ContactID"],
            "Status": "AUTHORISED",
            "DueDate": "2026-04-30",
            "LineItems": [{"Description": "Work", "Quantity": 1, "UnitAmount": 100}],
        },
        {"__IMTCONN__": xero_connection.id},
    )
    assert invoice.status == "success", invoice.error
    payment = runner.one(
        "xero:CreatePayment",
        {"InvoiceID": outputs(invoice, 1)[0]["InvoiceID"], "AccountCode": "970", "Amount": 15},
        {"__IMTCONN__": xero_connection.id},
    )
    # NOTES §9: an account with EnablePaymentsToAccount takes payments, not only BANK ones.
    assert payment.status == "success", payment.error
    assert outputs(payment, 1)[0]["Account"]["Code"] == "970"


def test_an_authorised_invoice_without_a_due_date_fails_with_xeros_message(runner, xero_connection):
    contact = outputs(
        runner.one("xero:CreateContact", {"Name": "Weka Ltd"}, {"__IMTCONN__": xero_connection.id}),
        1,
    )[0]
    record = runner.one(
        "xero:CreateInvoice",
        {
            "ContactID": contact["ContactID"],
            "Status": "AUTHORISED",
            "LineItems": [{"Description": "Work", "Quantity": 1, "UnitAmount": 100}],
        },
        {"__IMTCONN__": xero_connection.id},
    )
    assert record.status == "error"
    assert record.error["message"].endswith("The document DueDate field must be specified.")
