"""The organisation's settings: tax rates and the chart of accounts (read-only in the sandbox)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .errors import Record

#: TaxType → (display name, percentage). NZ rates as in the Xero demo company plus AU-style 10%.
TAX_RATES: dict[str, tuple[str, Decimal]] = {
    "OUTPUT2": ("15% GST on Income", Decimal("15")),
    "INPUT2": ("15% GST on Expenses", Decimal("15")),
    "OUTPUT": ("GST on Income", Decimal("10")),
    "INPUT": ("GST on Expenses", Decimal("10")),
    "NONE": ("No GST", Decimal("0")),
    "EXEMPTOUTPUT": ("GST Free Income", Decimal("0")),
    "EXEMPTINPUT": ("GST Free Expenses", Decimal("0")),
    "ZERORATED": ("Zero Rated", Decimal("0")),
}

#: Chart of accounts: Code → (Name, Type, default TaxType, EnablePaymentsToAccount). Bank
#: accounts take payments; so does 970, a non-bank account with payments enabled, as in the
#: spec's own ``PUT /Payments`` example (NOTES §9).
ACCOUNTS: dict[str, tuple[str, str, str, bool]] = {
    "090": ("Business Bank Account", "BANK", "NONE", False),
    "091": ("Business Savings Account", "BANK", "NONE", False),
    "200": ("Sales", "REVENUE", "OUTPUT2", False),
    "260": ("Other Revenue", "REVENUE", "OUTPUT2", False),
    "310": ("Cost of Goods Sold", "DIRECTCOSTS", "INPUT2", False),
    "400": ("Advertising", "EXPENSE", "INPUT2", False),
    "429": ("General Expenses", "EXPENSE", "INPUT2", False),
    "610": ("Accounts Receivable", "CURRENT", "NONE", False),
    "630": ("Inventory", "INVENTORY", "NONE", False),
    "800": ("Accounts Payable", "CURRLIAB", "NONE", False),
    "970": ("Owner A Funds Introduced", "EQUITY", "NONE", True),
}

ACCOUNT_CLASSES = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "INVENTORY": "ASSET",
    "REVENUE": "REVENUE",
    "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE",
    "CURRLIAB": "LIABILITY",
    "EQUITY": "EQUITY",
}


def find_account(ref: Any) -> tuple[str, Record] | None:
    """A chart-of-accounts entry by ``Code`` or ``AccountID``."""
    if not isinstance(ref, Mapping):
        return None
    for code in ACCOUNTS:
        if ref.get("Code") == code or str(ref.get("AccountID", "")).lower() == account_id(code):
            return code, account_summary(code)
    return None


def account_summary(code: str) -> Record:
    """The account as embedded in a payment."""
    name, acc_type, _tax, _payments = ACCOUNTS[code]
    return {"AccountID": account_id(code), "Code": code, "Name": name, "Type": acc_type}


def account_record(code: str) -> Record:
    """The account as ``GET /Accounts`` lists it."""
    _name, acc_type, tax, payments = ACCOUNTS[code]
    return {
        **account_summary(code),
        "Status": "ACTIVE",
        "Class": ACCOUNT_CLASSES[acc_type],
        "TaxType": tax,
        "EnablePaymentsToAccount": payments,
        **({"BankAccountType": "BANK"} if acc_type == "BANK" else {}),
    }


def accepts_payments(code: str) -> bool:
    """Xero applies payments to bank accounts and to accounts with payments enabled."""
    _name, acc_type, _tax, payments = ACCOUNTS[code]
    return acc_type == "BANK" or payments


def account_id(code: str) -> str:
    """Stable UUID for an account code, identical across sandbox runs."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"switchboard-sandbox/xero/account/{code}"))
