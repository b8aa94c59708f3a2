"""QuickBooks sandbox: one currency per customer, as multicurrency QuickBooks Online keeps it —
set at creation (the home currency, NZD here, by default), fixed once a transaction names the
customer; an invoice, estimate, credit memo, sales receipt or payment is in its customer's
currency (a mismatch is a 6000 Business Validation Error), and one sent without ``CurrencyRef``
takes it. Sources: modules/quickbooks/sandbox/entities.py ``_in_customer_currency``."""

import pytest

from modules.quickbooks.sandbox.state import BASELINE, DEFAULT_REALM_ID

from .test_quickbooks_oauth import fault, make_client
from .test_quickbooks_records import sales_line


@pytest.fixture
def client(serve, http):
    return make_client(serve, http)


@pytest.fixture
def customers(client):
    """Kea Ltd in the home currency (NZD) and "Kea Ltd (USD)", the same firm's USD customer."""
    home = client.create("customer", {"DisplayName": "Kea Ltd"})
    usd = client.create(
        "customer", {"DisplayName": "Kea Ltd (USD)", "CurrencyRef": {"value": "USD"}}
    )
    return home, usd


def sparse(record, **change):
    """A sparse update of ``record`` at its SyncToken."""
    return {"Id": record["Id"], "SyncToken": record["SyncToken"], "sparse": True, **change}


def document(entity, customer, **extra):
    body = {"CustomerRef": {"value": customer["Id"]}, **extra}
    if entity == "payment":
        return {**body, "TotalAmt": 10}
    return {**body, "Line": [sales_line(1, 10, "5")]}


def test_a_customer_has_the_home_currency_unless_it_is_given_one(customers):
    home, usd = customers
    assert home["CurrencyRef"]["value"] == "NZD"
    assert usd["CurrencyRef"]["value"] == "USD"


@pytest.mark.parametrize("entity", ["invoice", "estimate", "creditmemo", "salesreceipt", "payment"])
def test_a_transaction_in_another_currency_than_its_customer_is_refused(client, customers, entity):
    home, usd = customers
    refused = client.post(entity, document(entity, home, CurrencyRef={"value": "USD"}))
    assert refused.status_code == 400
    error = fault(refused)
    assert (error["code"], error["element"]) == ("6000", "CurrencyRef")
    assert "currency of customer Kea Ltd (NZD)" in error["Detail"]
    # the same document for the customer in that currency, with or without CurrencyRef
    given = client.create(entity, document(entity, usd, CurrencyRef={"value": "USD"}))
    taken = client.create(entity, document(entity, usd))
    assert given["CurrencyRef"]["value"] == taken["CurrencyRef"]["value"] == "USD"
    assert client.create(entity, document(entity, home))["CurrencyRef"]["value"] == "NZD"


def test_an_update_cannot_move_a_transaction_to_another_currency(client, customers):
    home, _ = customers
    invoice = client.create("invoice", document("invoice", home))
    moved = client.post(
        "invoice",
        sparse(invoice, CurrencyRef={"value": "USD"}),
    )
    assert fault(moved)["code"] == "6000"
    assert client.read("invoice", invoice["Id"])["CurrencyRef"]["value"] == "NZD"


def test_a_customer_currency_is_fixed_once_it_has_transactions(client, customers):
    home, _ = customers
    changed = client.create(
        "customer",
        sparse(home, CurrencyRef={"value": "AUD"}),
    )
    assert changed["CurrencyRef"]["value"] == "AUD"  # no transaction yet: it may change
    client.create("invoice", document("invoice", changed))
    again = client.post(
        "customer",
        sparse(changed, CurrencyRef={"value": "NZD"}),
    )
    assert again.status_code == 400
    assert fault(again)["code"] == "6000"
    assert "cannot be changed" in fault(again)["Detail"]
    # an update that leaves the currency out keeps it
    renamed = client.create(
        "customer",
        sparse(changed, DisplayName="Kea Limited"),
    )
    assert renamed["CurrencyRef"]["value"] == "AUD"


def test_a_payment_applies_only_to_invoices_of_its_customer_and_currency(client, customers):
    home, usd = customers
    nzd_invoice = client.create("invoice", document("invoice", home))
    link = [{"Amount": 5, "LinkedTxn": [{"TxnId": nzd_invoice["Id"], "TxnType": "Invoice"}]}]
    refused = client.post(
        "payment", {"CustomerRef": {"value": usd["Id"]}, "TotalAmt": 5, "Line": link}
    )
    assert fault(refused)["code"] == "6000"
    paid = client.create(
        "payment", {"CustomerRef": {"value": home["Id"]}, "TotalAmt": 5, "Line": link}
    )
    assert paid["CurrencyRef"]["value"] == "NZD"


HOME_CURRENCY_ONLY = {
    "realms": [
        {
            "realmId": DEFAULT_REALM_ID,
            "currency": "NZD",
            "Preferences": {"CurrencyPrefs": {"MultiCurrencyEnabled": False}},
            **BASELINE,
        }
    ]
}
"""The sandbox's baseline company with multicurrency off (Intuit's default)."""


def test_the_demo_company_says_multicurrency_is_on(client):
    """It takes customers and transactions in other currencies: its Preferences say so (they
    said ``MultiCurrencyEnabled: false`` while it took them, #20)."""
    prefs = client.request("GET", "preferences").json()["Preferences"]["CurrencyPrefs"]
    assert prefs == {"MultiCurrencyEnabled": True, "HomeCurrency": {"value": "NZD"}}


def test_a_company_without_multicurrency_takes_its_home_currency_only(serve, http):
    """Intuit, "Manage multiple currencies": multicurrency "must be enabled in order to track
    transactions with currencies other than the company's home currency" (the 6000 answer is
    inferred)."""
    client = make_client(serve, http, {"fixture": HOME_CURRENCY_ONLY})
    prefs = client.request("GET", "preferences").json()["Preferences"]["CurrencyPrefs"]
    assert prefs["MultiCurrencyEnabled"] is False
    refused = client.post(
        "customer", {"DisplayName": "Kea Ltd (USD)", "CurrencyRef": {"value": "USD"}}
    )
    assert (fault(refused)["code"], fault(refused)["element"]) == ("6000", "CurrencyRef")
    assert "multicurrency is off" in fault(refused)["Detail"]
    home = client.create("customer", {"DisplayName": "Kea Ltd"})
    assert home["CurrencyRef"]["value"] == "NZD"
    moved = client.post(
        "customer",
        sparse(home, CurrencyRef={"value": "USD"}),
    )
    assert fault(moved)["code"] == "6000"
    for entity in ("invoice", "estimate", "creditmemo", "salesreceipt", "payment"):
        foreign = client.post(entity, document(entity, home, CurrencyRef={"value": "USD"}))
        assert "multicurrency is off" in fault(foreign)["Detail"], entity
        taken = client.create(entity, document(entity, home, CurrencyRef={"value": "NZD"}))
        assert taken["CurrencyRef"]["value"] == "NZD"
