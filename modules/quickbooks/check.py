"""``switchboard connection check`` for QuickBooks Online: read-only calls that compare a real
company with what the modules and the prebuilt scenarios assume.

Looked at (``CompanyInfo``, ``Preferences``, ``TaxCode``/``TaxRate`` queries — reads only):

- the grant: the company can be read with ``com.intuit.quickbooks.accounting``;
- sales tax: a non-US company must have sales tax on and take a ``TaxCodeRef`` per line, which
  is what the scenarios send; a US company takes one code per transaction and ``TAX``/``NON``
  on lines (automated sales tax), which they do not (vendor/quickbooks/NOTES.md §5);
- the tax codes the scenarios map (``LIBRARY_TAX_CODES``): present, active, at the rate the
  scenarios assume; a rate the scenarios do not map gets no code, which QuickBooks refuses;
- currencies: the home currency, and whether multicurrency is on (the scenarios send no
  ``CurrencyRef``, so their documents are in the home currency);
- custom fields: the scenarios use none; the company's sales-form fields are listed;
- webhooks: a verifier token, without which every New Event delivery is refused;
- for the sync packs' items and receipts (``Account`` query; vendor/quickbooks/NOTES.md §5
  lists IncomeAccountRef, ExpenseAccountRef, AssetAccountRef, QtyOnHand, InvStartDate): an
  income account every item posts to; for inventory items (the ZBrains seed syncs products as
  inventory items) quantity tracking, a Cost of Goods Sold and an inventory asset account; for
  sales receipts Undeposited Funds or a bank account to deposit to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from engine.spec import CheckFinding, CheckVerdict
from modules.quickbooks.client import QuickBooksClient
from modules.quickbooks.webhooks import VERIFIER_ENV, verifier_token_of

OK, WARNING, PROBLEM = CheckVerdict.OK, CheckVerdict.WARNING, CheckVerdict.PROBLEM

ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"

LIBRARY_TAX_CODES: Mapping[str, Decimal] = {"4": Decimal(15), "8": Decimal(10), "5": Decimal(0)}
"""Tax code → sales rate (%) that scenarios 3.3 and 3.5a write (``switch(tax %; 15; 4; 10;
8; null)``) and 3.4 and 3.5b read back (``4`` → 15, ``8`` → 10)."""

SCENARIOS = "scenarios 3.3, 3.4, 3.5a and 3.5b"


def check_company(client: QuickBooksClient, connection: Mapping[str, Any]) -> list[CheckFinding]:
    """The findings for one company, in a fixed order (see the module docstring).

    Raises:
        ModuleError: the company cannot be read at all (a refused token: reauthorize).
    """
    info = client.company_info()
    preferences = client.preferences()
    codes = {c["Id"]: c for c in client.query_all("SELECT * FROM TaxCode")}
    rates = {r["Id"]: r for r in client.query_all("SELECT * FROM TaxRate")}
    accounts = list(client.query_all("SELECT * FROM Account"))
    return [
        grant_finding(connection, info),
        sales_tax_finding(info, preferences),
        *tax_code_findings(codes, rates),
        unmapped_rates_finding(codes, rates),
        currency_finding(preferences),
        custom_fields_finding(preferences),
        webhooks_finding(connection),
        income_account_finding(accounts),
        inventory_finding(preferences, accounts),
        deposit_account_finding(accounts),
    ]


def grant_finding(connection: Mapping[str, Any], info: Mapping[str, Any]) -> CheckFinding:
    granted = str(connection.get("scope") or "").split()
    if granted and ACCOUNTING_SCOPE not in granted:
        return CheckFinding(
            subject="scopes",
            verdict=PROBLEM,
            expected=ACCOUNTING_SCOPE,
            found=" ".join(granted),
            hint="sign in again and grant access to the company's accounting data",
        )
    company = info.get("CompanyName") or connection.get("realm_id")
    return CheckFinding(
        subject="scopes",
        verdict=OK,
        expected=ACCOUNTING_SCOPE,
        found=f"granted (company {company} readable)",
    )


def sales_tax_finding(info: Mapping[str, Any], preferences: Mapping[str, Any]) -> CheckFinding:
    country = str(info.get("Country") or "")
    tax = preferences.get("TaxPrefs") or {}
    if country.upper() in ("US", "USA"):
        automated = " with automated sales tax" if tax.get("PartnerTaxEnabled") else ""
        return CheckFinding(
            subject="sales tax",
            verdict=PROBLEM,
            expected="a non-US company: a tax code on every line",
            found=f"a US company{automated}: one tax code per transaction, TAX/NON on lines",
            hint=f"{SCENARIOS} send a tax code per line; map TAX/NON and TxnTaxCodeRef instead",
        )
    if not tax.get("UsingSalesTax"):
        return CheckFinding(
            subject="sales tax",
            verdict=PROBLEM,
            expected="sales tax switched on (TaxPrefs.UsingSalesTax)",
            found="off",
            hint="switch sales tax (GST/VAT) on in QuickBooks: lines with tax codes are refused",
        )
    return CheckFinding(
        subject="sales tax",
        verdict=OK,
        expected="a tax code on every line",
        found=f"{country or 'non-US'} company, sales tax on",
    )


def sales_rate(code: Mapping[str, Any], rates: Mapping[str, Mapping[str, Any]]) -> Decimal | None:
    """The total sales rate (%) a tax code applies; None when one of its rates is unknown."""
    details = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
    total = Decimal(0)
    for detail in details:
        rate = rates.get(str((detail.get("TaxRateRef") or {}).get("value")))
        if rate is None:
            return None
        total += Decimal(str(rate.get("RateValue") or 0))
    return total


def tax_code_findings(
    codes: Mapping[str, Mapping[str, Any]], rates: Mapping[str, Mapping[str, Any]]
) -> list[CheckFinding]:
    findings = []
    for code_id, percent in LIBRARY_TAX_CODES.items():
        subject, expected = f"tax code {code_id}", f"active, sales rate {percent} %"
        code = codes.get(code_id)
        if code is None or code.get("Active") is False:
            findings.append(
                CheckFinding(
                    subject=subject,
                    verdict=PROBLEM,
                    expected=expected,
                    found="inactive" if code else "no such tax code",
                    hint=f"map {percent} % to one of this company's tax codes in {SCENARIOS}",
                )
            )
            continue
        found_rate = sales_rate(code, rates)
        found = f"{code.get('Name')}, sales rate {found_rate} %"
        if found_rate != percent:
            findings.append(
                CheckFinding(
                    subject=subject,
                    verdict=PROBLEM,
                    expected=expected,
                    found=found,
                    hint=f"map {percent} % to the right tax code in {SCENARIOS}",
                )
            )
        else:
            findings.append(
                CheckFinding(subject=subject, verdict=OK, expected=expected, found=found)
            )
    return findings


def unmapped_rates_finding(
    codes: Mapping[str, Mapping[str, Any]], rates: Mapping[str, Mapping[str, Any]]
) -> CheckFinding:
    """Active sales codes at a rate the scenarios do not map: a 1CRM line at that rate gets no
    tax code, and QuickBooks refuses the document (it applies no default)."""
    mapped = set(LIBRARY_TAX_CODES.values())
    others = sorted(
        {
            f"{code.get('Name')} ({rate} %)"
            for code in codes.values()
            if code.get("Active", True) is not False
            and (rate := sales_rate(code, rates)) is not None
            and rate not in mapped
        }
    )
    if not others:
        return CheckFinding(subject="tax rates the scenarios do not map", verdict=OK, found="none")
    return CheckFinding(
        subject="tax rates the scenarios do not map",
        verdict=WARNING,
        expected=", ".join(f"{p} %" for p in sorted(mapped)),
        found=", ".join(others),
        hint="a line at one of these rates gets no tax code and QuickBooks refuses the document",
    )


def currency_finding(preferences: Mapping[str, Any]) -> CheckFinding:
    """The library sends each document in its 1CRM currency and makes a customer per currency
    (scenarios/README.md, "One customer per currency"); QuickBooks takes other currencies than
    the home one only with multicurrency on (Intuit, "Manage multiple currencies")."""
    currency = preferences.get("CurrencyPrefs") or {}
    home = (currency.get("HomeCurrency") or {}).get("value") or "?"
    if currency.get("MultiCurrencyEnabled"):
        return CheckFinding(
            subject="currencies",
            verdict=OK,
            expected="multicurrency on",
            found=f"multicurrency on, home currency {home}",
        )
    return CheckFinding(
        subject="currencies",
        verdict=WARNING,
        expected="multicurrency on",
        found=f"multicurrency off, home currency {home}",
        hint=f"QuickBooks refuses every invoice, quote, payment and customer in another "
        f"currency than {home}: turn multicurrency on (Settings, Advanced, Currency) if 1CRM "
        "invoices in other currencies",
    )


def custom_fields_finding(preferences: Mapping[str, Any]) -> CheckFinding:
    groups = (preferences.get("SalesFormsPrefs") or {}).get("CustomField") or []
    names = [
        str(field.get("StringValue"))
        for group in groups
        for field in group.get("CustomField") or []
        if field.get("Type") == "StringType" and field.get("StringValue")
    ]
    return CheckFinding(
        subject="custom fields",
        verdict=OK,
        expected="none (the scenarios use no custom field)",
        found=", ".join(names) or "none",
    )


def webhooks_finding(connection: Mapping[str, Any]) -> CheckFinding:
    if verifier_token_of(connection):
        return CheckFinding(subject="webhooks verifier token", verdict=OK, found="set")
    return CheckFinding(
        subject="webhooks verifier token",
        verdict=WARNING,
        expected="set",
        found="not set",
        hint=f"copy it from the Intuit app's Webhooks page into {VERIFIER_ENV}: without it "
        "New Event refuses every delivery",
    )


# -- what the sync packs' items and receipts need -----------------------------------------------

PACKS = "the sync packs"


def _names(accounts: Sequence[Mapping[str, Any]], *, kind: str, sub_type: str | None = None) -> str:
    """The active accounts of a type (and subtype), by name; "" when there are none."""
    return ", ".join(
        str(a.get("Name"))
        for a in accounts
        if a.get("Active", True) is not False
        and a.get("AccountType") == kind
        and (sub_type is None or a.get("AccountSubType") == sub_type)
    )


def income_account_finding(accounts: Sequence[Mapping[str, Any]]) -> CheckFinding:
    """Every item QuickBooks sells posts to an income account (IncomeAccountRef)."""
    income = _names(accounts, kind="Income")
    if not income:
        return CheckFinding(
            subject="income accounts",
            verdict=PROBLEM,
            expected="an active Income account for items (IncomeAccountRef)",
            found="none",
            hint=f"add an income account in QuickBooks: {PACKS} cannot create items without one",
        )
    return CheckFinding(
        subject="income accounts", verdict=OK, expected="an active Income account", found=income
    )


def inventory_finding(
    preferences: Mapping[str, Any], accounts: Sequence[Mapping[str, Any]]
) -> CheckFinding:
    """Inventory items need quantity tracking (QuickBooks Online Plus or Advanced), a Cost of
    Goods Sold account (ExpenseAccountRef) and an inventory asset account (AssetAccountRef)."""
    expected = "quantity on hand tracked, a Cost of Goods Sold and an Inventory asset account"
    tracked = (preferences.get("ProductAndServicesPrefs") or {}).get("QuantityOnHand") is True
    cogs = _names(accounts, kind="Cost of Goods Sold")
    asset = _names(accounts, kind="Other Current Asset", sub_type="Inventory")
    missing = [
        what
        for what, present in (
            ("quantity-on-hand tracking", tracked),
            ("Cost of Goods Sold account", cogs),
            ("Inventory asset account", asset),
        )
        if not present
    ]
    if missing:
        return CheckFinding(
            subject="inventory items",
            verdict=WARNING,
            expected=expected,
            found="no " + ", no ".join(missing),
            hint=f"{PACKS} can then sync products only as non-inventory or service items: "
            "turn on inventory tracking (QuickBooks Online Plus or Advanced) and add the "
            "accounts",
        )
    return CheckFinding(
        subject="inventory items",
        verdict=OK,
        expected=expected,
        found=f"tracked; cost of goods sold: {cogs}; inventory asset: {asset}",
    )


def deposit_account_finding(accounts: Sequence[Mapping[str, Any]]) -> CheckFinding:
    """A sales receipt deposits to Undeposited Funds unless told which bank account."""
    undeposited = _names(accounts, kind="Other Current Asset", sub_type="UndepositedFunds")
    banks = _names(accounts, kind="Bank")
    if not (undeposited or banks):
        return CheckFinding(
            subject="sales receipt deposits",
            verdict=WARNING,
            expected="Undeposited Funds or a bank account",
            found="neither",
            hint="sales receipts need an account to deposit to (DepositToAccountRef)",
        )
    return CheckFinding(
        subject="sales receipt deposits",
        verdict=OK,
        expected="Undeposited Funds or a bank account",
        found=", ".join(n for n in (undeposited, banks) if n),
    )
