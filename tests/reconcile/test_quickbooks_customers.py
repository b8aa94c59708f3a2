"""Reconcile reads a QuickBooks customer "<name> (<currency>)" in that currency as the account
<name> when a customer <name> exists (QuickBooks gives a customer one currency; §3.3 makes one
such customer per currency of an account)."""

from decimal import Decimal

from modules.reconcile.quickbooks import account_names, of_account, unapplied_of


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


def test_a_currency_customers_free_credit_is_its_accounts():
    """Money a USD payment applied to no invoice is the account's free credit in USD (reconcile
    compares free credit per customer and currency: under "Rata Ltd (USD)" it matched no 1CRM
    account)."""
    names = account_names(
        [customer("1", "Rata Ltd", "NZD"), customer("2", "Rata Ltd (USD)", "USD")]
    )
    payment = {
        "Id": "7",
        "CustomerRef": {"value": "2", "name": "Rata Ltd (USD)"},
        "CurrencyRef": {"value": "USD"},
        "UnappliedAmt": 12.5,
    }
    credit = unapplied_of(payment)
    assert credit is not None
    paired = of_account(credit, payment, names)
    assert (paired.customer, paired.currency, paired.amount) == (
        "Rata Ltd",
        "USD",
        Decimal("12.50"),
    )
