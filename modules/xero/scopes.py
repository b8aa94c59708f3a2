"""Which OAuth2 scopes a Xero connection asks for, and which scope each API resource needs.

Xero apps created on or after 2 March 2026 must ask for the granular scopes
(``accounting.invoices``, ``accounting.payments``, ...); asking for the broad
``accounting.transactions`` fails their sign-in with ``invalid_scope``. Apps created before may
keep the broad scopes until September 2027 (``../shared/reference/vendor/xero/NOTES.md`` §2).
A connection therefore chooses its scope set: ``granular`` (the default) or ``legacy``.

Do not derive scopes from Xero's OpenAPI file: version 16.1.0 still lists only the broad ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.errors import InvalidConfigurationError

SIGN_IN = ("openid", "profile", "email", "offline_access")

GRANULAR = "granular"
LEGACY = "legacy"

SCOPE_SETS: Mapping[str, tuple[str, ...]] = {
    GRANULAR: (
        *SIGN_IN,
        "accounting.contacts",
        "accounting.invoices",
        "accounting.payments",
        "accounting.settings",
    ),
    LEGACY: (*SIGN_IN, "accounting.transactions", "accounting.contacts", "accounting.settings"),
}
"""What each choice asks for: enough for every Xero module of Switchboard."""

RESOURCE_SCOPES: Mapping[str, tuple[str, ...]] = {
    "Contacts": ("accounting.contacts",),
    "Invoices": ("accounting.invoices",),
    "Quotes": ("accounting.invoices",),
    "CreditNotes": ("accounting.invoices",),
    "Items": ("accounting.invoices", "accounting.settings"),
    "Payments": ("accounting.payments",),
    "Overpayments": ("accounting.payments",),
    "Accounts": ("accounting.settings",),
    "TaxRates": ("accounting.settings",),
    "Organisation": ("accounting.settings",),
    "Currencies": ("accounting.settings",),
}
"""The granular scopes, any one of which lets a module write (and read) each resource; the
first is the one to ask for."""

BROAD: Mapping[str, str] = {
    "accounting.invoices": "accounting.transactions",
    "accounting.payments": "accounting.transactions",
    "accounting.banktransactions": "accounting.transactions",
}
"""Granular scope → the broad legacy scope that covered it."""


def scope_set(data: Mapping[str, Any]) -> str:
    """The connection's scope set (``granular`` unless it says ``legacy``).

    Raises:
        InvalidConfigurationError: any other value.
    """
    choice = str(data.get("scope_set") or GRANULAR).strip().lower()
    if choice not in SCOPE_SETS:
        raise InvalidConfigurationError(
            f"Xero scope set '{choice}' is unknown: choose granular (apps created from "
            "2 March 2026) or legacy (older apps using accounting.transactions)"
        )
    return choice


def requested_scopes(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The scopes a connection with public ``data`` asks for when it signs in."""
    return SCOPE_SETS[scope_set(data)]


def missing_scopes(granted: Iterable[str], resources: Iterable[str]) -> list[str]:
    """The scopes ``resources`` need that ``granted`` lacks (a broad legacy scope, or a
    granular one, covers its resources; ``.read`` variants do not cover writes)."""
    have = set(granted)
    missing: list[str] = []
    for resource in resources:
        choices = RESOURCE_SCOPES[resource]
        covered = any(scope in have or BROAD.get(scope) in have for scope in choices)
        if not covered and choices[0] not in missing:
            missing.append(choices[0])
    return missing
