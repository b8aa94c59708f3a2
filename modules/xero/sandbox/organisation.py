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

#: Chart of accounts: Code → (Name, Type, default TaxType).
ACCOUNTS: dict[str, tuple[str, str, str]] = {
    "090": ("Business Bank Account", "BANK", "NONE"),
    "091": ("Business Savings Account", "BANK", "NONE"),
    "200": ("Sales", "REVENUE", "OUTPUT2"),
    "260": ("Other Revenue", "REVENUE", "OUTPUT2"),
    "310": ("Cost of Goods Sold", "DIRECTCOSTS", "INPUT2"),
    "400": ("Advertising", "EXPENSE", "INPUT2"),
    "429": ("General Expenses", "EXPENSE", "INPUT2"),
    "610": ("Accounts Receivable", "CURRENT", "NONE"),
    "800": ("Accounts Payable", "CURRLIAB", "NONE"),
}


def find_account(ref: Any) -> tuple[str, Record] | None:
    """A chart-of-accounts entry by ``Code`` or ``AccountID``."""
    if not isinstance(ref, Mapping):
        return None
    for code, (name, acc_type, _tax) in ACCOUNTS.items():
        if ref.get("Code") == code or str(ref.get("AccountID", "")).lower() == account_id(code):
            return code, {
                "AccountID": account_id(code),
                "Code": code,
                "Name": name,
                "Type": acc_type,
            }
    return None


def account_id(code: str) -> str:
    """Stable UUID for an account code, identical across sandbox runs."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"switchboard-sandbox/xero/account/{code}"))
