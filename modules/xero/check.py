"""``switchboard connection check`` for Xero: read-only calls that compare a real organisation
with what the Xero modules and the prebuilt 1CRM ⇄ Xero scenarios assume.

Looks at: the scopes the grant holds against the ones the modules need (granular or legacy,
NOTES §2); the organisation the connection reaches (its tenant); its base and other currencies
(the scenarios send no ``CurrencyCode``, so documents are in the base currency); the tax types
the scenarios map (``OUTPUT2``, ``OUTPUT``, ``NONE``: New Zealand codes, NOTES §7 — another
region has other codes) in ``GET /TaxRates``; and the accounts they use (sales ``200``, payments
into ``090``, which must be a bank account or have payments enabled, NOTES §9).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from engine.errors import ModuleError
from engine.spec import CheckFinding, CheckVerdict
from modules.connections import ApiClient
from modules.xero.client import xero_settings
from modules.xero.scopes import BROAD, RESOURCE_SCOPES, missing_scopes

OK, WARNING, PROBLEM = CheckVerdict.OK, CheckVerdict.WARNING, CheckVerdict.PROBLEM

SCENARIO_TAX_TYPES: Mapping[str, str] = {
    "OUTPUT2": "15 % lines of invoices and quotes (2.3, 2.5)",
    "OUTPUT": "10 % lines (2.3, 2.5)",
    "NONE": "0 % lines (2.3, 2.5)",
}
SALES_ACCOUNT = "200"  # lines of 2.3/2.5 when the contact has no default sales account
PAYMENT_ACCOUNT = "090"  # 2.6 pays into it


def check_xero_account(connection: Mapping[str, Any], session: Any) -> list[CheckFinding]:
    """Every finding, scopes first; the calls read only.

    Raises:
        ModuleError: the organisation cannot be reached at all (no tenant, refused token).
    """
    api = ApiClient(xero_settings(connection, max_retries=1), session, time.sleep)
    findings = [scope_finding(str(connection.get("scope") or ""))]
    organisation = _first(api.get("Organisation"), "Organisations")
    findings.append(tenant_finding(connection, organisation))
    findings.append(currency_finding(organisation, _items(api, "Currencies")))
    findings.extend(tax_findings(_items(api, "TaxRates")))
    findings.extend(account_findings(_items(api, "Accounts")))
    return findings


def _items(api: ApiClient, resource: str) -> list[Mapping[str, Any]]:
    try:
        body = api.get(resource) or {}
    except ModuleError as error:
        raise ModuleError(f"GET {resource}: {error}") from error
    return [item for item in body.get(resource) or [] if isinstance(item, Mapping)]


def _first(body: Any, key: str) -> dict[str, Any]:
    items = (body or {}).get(key) or [{}] if isinstance(body, Mapping) else [{}]
    return dict(items[0])


def scope_finding(granted: str) -> CheckFinding:
    """The grant's scopes against what every Xero module needs."""
    scopes = granted.split()
    needed = sorted({choices[0] for choices in RESOURCE_SCOPES.values()})
    missing = missing_scopes(scopes, RESOURCE_SCOPES)
    if missing:
        return CheckFinding(
            subject="scopes",
            verdict=PROBLEM,
            expected=" ".join(needed),
            found=granted or "none recorded",
            hint=f"sign in again to grant {', '.join(missing)} (the connection's Scopes: "
            "granular for apps created from 2 March 2026, legacy for older ones)",
        )
    if set(BROAD.values()) & set(scopes):
        return CheckFinding(
            subject="scopes",
            verdict=WARNING,
            expected=" ".join(needed),
            found=granted,
            hint="legacy accounting.transactions: Xero retires it for older apps by September "
            "2027; switch the connection's Scopes to granular and sign in again",
        )
    return CheckFinding(subject="scopes", verdict=OK, expected=" ".join(needed), found=granted)


def tenant_finding(connection: Mapping[str, Any], organisation: Mapping[str, Any]) -> CheckFinding:
    tenant = str(connection.get("tenant_id") or "")
    found = f"{organisation.get('Name') or '?'} ({tenant})"
    return CheckFinding(
        subject="organisation",
        verdict=OK,
        expected="the organisation chosen at sign-in",
        found=found,
    )


def currency_finding(
    organisation: Mapping[str, Any], currencies: Sequence[Mapping[str, Any]]
) -> CheckFinding:
    base = str(organisation.get("BaseCurrency") or "?")
    others = [str(c.get("Code")) for c in currencies if c.get("Code") and c.get("Code") != base]
    found = base + (f" (also {', '.join(others)})" if others else "")
    return CheckFinding(
        subject="currency",
        verdict=OK,
        expected="invoices, quotes and payments in the base currency (the prebuilt scenarios "
        "send no CurrencyCode)",
        found=found,
        hint="" if not others else "documents in another currency need a CurrencyCode mapped",
    )


def tax_findings(rates: Sequence[Mapping[str, Any]]) -> list[CheckFinding]:
    """Each tax type the scenarios map must exist, be active and apply to revenue."""
    by_type = {str(rate.get("TaxType")): rate for rate in rates}
    findings = []
    for tax_type, use in SCENARIO_TAX_TYPES.items():
        rate = by_type.get(tax_type)
        subject = f"tax rate {tax_type}"
        if rate is None:
            found, verdict = "not in GET /TaxRates", PROBLEM
        elif rate.get("Status") != "ACTIVE" or rate.get("CanApplyToRevenue") is False:
            found, verdict = f"{rate.get('Name')}: {rate.get('Status')}, not for revenue", PROBLEM
        else:
            found, verdict = f"{rate.get('Name')} ({rate.get('EffectiveRate')} %)", OK
        hint = (
            ""
            if verdict is OK
            else f"map {use} to one of this organisation's codes: "
            + ", ".join(sorted(t for t, r in by_type.items() if r.get("CanApplyToRevenue")))
        )
        findings.append(
            CheckFinding(subject=subject, verdict=verdict, expected=use, found=found, hint=hint)
        )
    return findings


def account_findings(accounts: Sequence[Mapping[str, Any]]) -> list[CheckFinding]:
    by_code = {str(account.get("Code")): account for account in accounts}
    sales = by_code.get(SALES_ACCOUNT)
    payments = by_code.get(PAYMENT_ACCOUNT)
    return [
        _account_finding(
            SALES_ACCOUNT,
            sales,
            "a revenue account for invoice and quote lines",
            sales is not None and sales.get("Type") in ("REVENUE", "SALES", "OTHERINCOME"),
        ),
        _account_finding(
            PAYMENT_ACCOUNT,
            payments,
            "where 2.6 puts payments: a bank account or one with payments enabled",
            payments is not None
            and (payments.get("Type") == "BANK" or payments.get("EnablePaymentsToAccount") is True),
        ),
    ]


def _account_finding(
    code: str, account: Mapping[str, Any] | None, expected: str, fits: bool
) -> CheckFinding:
    active = account is not None and account.get("Status", "ACTIVE") == "ACTIVE"
    found = (
        f"{account.get('Name')} ({account.get('Type')}, {account.get('Status', 'ACTIVE')})"
        if account
        else "no such account"
    )
    ok = fits and active
    return CheckFinding(
        subject=f"account {code}",
        verdict=OK if ok else PROBLEM,
        expected=expected,
        found=found,
        hint="" if ok else f"change account {code} in the scenario to one of this organisation's",
    )
