"""1CRM's reference data the library maps to: currencies and tax rates.

A record's currency is ``currency_id`` — the base currency is ``-99`` (docs data/related.md);
others are ``Currency`` records with their ISO 4217 code. A tax on a line is an adjustment
pointing at a ``TaxRates`` record (NOTES §5). The model names ``Currency`` and ``TaxRate`` are
the singular of those modules, as every 1CRM model name is; ``switchboard connection check``
reports when an instance has neither.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from engine.errors import DataError
from modules.onecrm.client import OneCrmClient

CURRENCY_FIELDS = ["name", "iso4217", "symbol", "status"]
TAX_RATE_FIELDS = ["name", "rate"]


def currencies(client: OneCrmClient) -> list[dict[str, Any]]:
    """Every currency of the instance (a short list)."""
    return list(client.search("Currency", fields=CURRENCY_FIELDS))


def currency_id(client: OneCrmClient, code: str) -> str:
    """The id of the currency whose ISO code (or name) is ``code``.

    Raises:
        DataError: the instance has no such currency.
    """
    wanted = code.strip().casefold()
    known = currencies(client)
    for currency in known:
        names = (currency.get("iso4217"), currency.get("name"))
        if any(str(name or "").strip().casefold() == wanted for name in names):
            return str(currency["id"])
    have = ", ".join(str(c.get("iso4217") or c.get("name")) for c in known) or "none"
    raise DataError(
        f"1CRM has no currency {code} (it has {have}): add it in 1CRM (Currencies) first"
    )


def tax_rates(client: OneCrmClient) -> dict[Decimal, dict[str, Any]]:
    """The instance's tax rates by percentage (the first of each)."""
    rates: dict[Decimal, dict[str, Any]] = {}
    for record in client.search("TaxRate", fields=TAX_RATE_FIELDS):
        try:
            rates.setdefault(Decimal(str(record.get("rate"))), record)
        except InvalidOperation:
            continue
    return rates


def percent(rate: Decimal) -> str:
    return f"{rate.normalize():f} %"
