"""Reconcile reads a QuickBooks customer "<name> (<currency>)" in that currency as the account
<name> when a customer <name> exists (QuickBooks gives a customer one currency; §3.3 makes one
such customer per currency of an account)."""

from modules.reconcile.quickbooks import account_names


def customer(customer_id, name, currency):
    return {"Id": customer_id, "DisplayName": name, "CurrencyRef": {"value": currency}}


def test_a_currency_customer_is_its_account():
    names = account_names(
        [
            customer("1", "Rata Ltd", "NZD"),
            customer("2", "Rata Ltd (USD)", "USD"),
            customer("3", "Kea (AUD)", "AUD"),  # no customer "Kea": a customer of its own
            customer("4", "Tui (USD)", "NZD"),  # its currency is not the one named
            customer("5", "Tui", "NZD"),
        ]
    )
    assert names == {
        "1": "Rata Ltd",
        "2": "Rata Ltd",
        "3": "Kea (AUD)",
        "4": "Tui (USD)",
        "5": "Tui",
    }
