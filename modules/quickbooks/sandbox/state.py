"""The QuickBooks sandbox's in-memory state: companies (realms), OAuth grants, config.

Fixture format (API field names; records may carry ``Id``, ``SyncToken`` and ``MetaData``)::

    {"realms": [{"realmId", "companyName", "country", "currency", "Preferences": {...},
                 "TaxRate": [...], "TaxCode": [...], "Account": [...], "PaymentMethod": [...],
                 "Item": [...], "Customer": [...], "Vendor": [...], "Estimate": [...],
                 "Invoice": [...], "SalesReceipt": [...], "CreditMemo": [...],
                 "Payment": [...]}]}

``Preferences`` (optional) is merged over the defaults of ``Realm.default_preferences``
(``TaxPrefs``, ``CurrencyPrefs``, ``SalesFormsPrefs``, ``ProductAndServicesPrefs``). A company
given no ``Account`` or ``PaymentMethod`` list gets ``REFERENCE_LISTS``'.

Without a fixture there is one company with the baseline reference data below (a "Services"
item and GST tax codes as in a New Zealand company: 4 = 15 %, 8 = 10 %, 5 zero-rated, 6 exempt;
the accounts and payment methods of ``REFERENCE_LISTS``).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modules.concurrency import MemoryConcurrencyLimiter
from modules.sandbox_oauth import OAuthStore
from modules.sandbox_replays import ReplayStore
from modules.sandboxing import BaseSandboxState, Monotonic

from .entities import ENTITIES, SEED_ORDER
from .realm import Realm

FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures"
DEFAULT_REALM_ID = "9341453050000001"

DEFAULTS: dict[str, Any] = {
    "client_id": "sandbox-client-id",
    "client_secret": "sandbox-client-secret",
    "redirect_uris": [],
    "auth_code_seconds": 600,
    "access_token_seconds": 3600,
    "refresh_token_days": 100,
    "refresh_rotate_after_seconds": 0,
    "rate_limit_per_minute": 500,
    "max_concurrent_requests": 10,
    "utc_offset": "-08:00",
    "default_terms_days": None,  # net days of the company's sales terms; None: no terms
    "cdc_max_days": 30,
    "webhook_format": "cloudevents",  # or "legacy" (eventNotifications)
    "fixture": None,
}


def _rate(rate_id: str, name: str, value: float) -> dict[str, Any]:
    return {
        "Id": rate_id,
        "Name": name,
        "RateValue": value,
        "Active": True,
        "AgencyRef": {"value": "1"},
        "SpecialTaxType": "NONE",
        "DisplayType": "ReadOnly",
    }


def _code(code_id: str, name: str, rate_id: str, rate_name: str) -> dict[str, Any]:
    detail = {
        "TaxRateRef": {"value": rate_id, "name": rate_name},
        "TaxTypeApplicable": "TaxOnAmount",
        "TaxOrder": 0,
    }
    return {
        "Id": code_id,
        "Name": name,
        "Description": name,
        "Active": True,
        "Taxable": True,
        "TaxGroup": False,
        "SalesTaxRateList": {"TaxRateDetail": [detail]},
        "PurchaseTaxRateList": {"TaxRateDetail": []},
    }


def _account(
    account_id: str, name: str, account_type: str, sub_type: str, classification: str
) -> dict[str, Any]:
    return {
        "Id": account_id,
        "Name": name,
        "FullyQualifiedName": name,
        "AccountType": account_type,
        "AccountSubType": sub_type,
        "Classification": classification,
        "Active": True,
        "SubAccount": False,
        "CurrentBalance": 0,
    }


REFERENCE_LISTS: dict[str, list[dict[str, Any]]] = {
    "Account": [
        _account("1", "Sales", "Income", "SalesOfProductIncome", "Revenue"),
        _account("2", "Services", "Income", "ServiceFeeIncome", "Revenue"),
        _account("4", "Undeposited Funds", "Other Current Asset", "UndepositedFunds", "Asset"),
        _account("35", "Cheque Account", "Bank", "Checking", "Asset"),
        _account("80", "Cost of Sales", "Cost of Goods Sold", "SuppliesMaterialsCogs", "Expense"),
        _account("81", "Inventory Asset", "Other Current Asset", "Inventory", "Asset"),
        _account(
            "84", "Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", "Asset"
        ),
        _account("86", "Purchases", "Expense", "SuppliesMaterials", "Expense"),
    ],
    "PaymentMethod": [
        {"Id": str(n), "Name": name, "Type": kind, "Active": True}
        for n, (name, kind) in enumerate(
            [
                ("Cash", "NON_CREDIT_CARD"),
                ("Cheque", "NON_CREDIT_CARD"),
                ("Direct Debit", "NON_CREDIT_CARD"),
                ("Visa", "CREDIT_CARD"),
                ("MasterCard", "CREDIT_CARD"),
            ],
            start=1,
        )
    ],
}
"""The accounts and payment methods of every company a fixture gives none: an income account
(1 Sales, the one items post to), Cost of Goods Sold (80), Inventory Asset (81) and
Undeposited Funds (4, where sales receipts' money goes by default), as a new New Zealand
company has them with inventory tracking on."""

BASELINE: dict[str, list[dict[str, Any]]] = {
    "TaxRate": [
        _rate("9", "GST (Sales)", 15),
        _rate("10", "Zero-rated (Sales)", 0),
        _rate("11", "Exempt (Sales)", 0),
        _rate("12", "GST 10% (Sales)", 10),
    ],
    "TaxCode": [
        _code("4", "GST", "9", "GST (Sales)"),
        _code("5", "Zero-rated", "10", "Zero-rated (Sales)"),
        _code("6", "Exempt", "11", "Exempt (Sales)"),
        _code("8", "GST 10%", "12", "GST 10% (Sales)"),
    ],
    "Item": [
        {
            "Id": "1",
            "Name": "Services",
            "Type": "Service",
            "UnitPrice": 0,
            "SalesTaxCodeRef": {"value": "4"},
            "IncomeAccountRef": {"value": "1"},
        }
    ],
}


class QboSandboxState(BaseSandboxState):
    """Realms by id and the OAuth token store."""

    def __init__(
        self, config: Mapping[str, Any] | None = None, monotonic: Monotonic = time.monotonic
    ) -> None:
        super().__init__(DEFAULTS, config, monotonic)
        self.in_flight = MemoryConcurrencyLimiter()  # requests being answered, per realm
        self.clear_records()
        self.seed_initial_fixture()
        if not self.realms:
            self.seed({"realms": [{"realmId": DEFAULT_REALM_ID, **BASELINE}]})

    def clear_records(self) -> None:
        """Forget every company and token."""
        self.realms: dict[str, Realm] = {}
        self.oauth = OAuthStore()  # codes, grants and tokens (modules.sandbox_oauth)
        self.replies = ReplayStore()  # answers by (realm, requestid)

    def reset(self) -> None:
        """As ``BaseSandboxState.reset`` and, without a fixture, the default company again."""
        super().reset()
        with self.lock:
            if not self.realms:
                self.seed({"realms": [{"realmId": DEFAULT_REALM_ID, **BASELINE}]})

    def load_fixture(self, fixture: Any) -> Mapping[str, Any]:
        """Also accept a fixture name from ``fixtures/`` (``"demo"``, ``"small"``)."""
        if isinstance(fixture, str) and (FIXTURE_DIR / f"{fixture}.json").exists():
            fixture = str(FIXTURE_DIR / f"{fixture}.json")
        return super().load_fixture(fixture)

    def seed(self, fixture: Mapping[str, Any]) -> dict[str, int]:
        """Add the fixture's companies (or records to existing ones, by ``realmId``)."""
        loaded: dict[str, int] = dict.fromkeys(SEED_ORDER, 0)
        for data in fixture.get("realms", []):
            realm = self._realm_for(data)
            for entity in SEED_ORDER:
                spec = ENTITIES[entity.lower()]
                records = data.get(entity)
                if records is None and not realm.records[entity]:
                    records = REFERENCE_LISTS.get(entity)
                for record in records or []:
                    realm.create(spec, copy.deepcopy(record), seeding=True)
                    loaded[entity] += 1
        return loaded

    def _realm_for(self, data: Mapping[str, Any]) -> Realm:
        realm_id = str(data.get("realmId") or DEFAULT_REALM_ID)
        if realm_id not in self.realms:
            self.realms[realm_id] = Realm(
                realm_id,
                str(data.get("companyName", "Sandbox Company_NZ_1")),
                self.config,
                self.now,
                country=str(data.get("country", "NZ")),
                currency=str(data.get("currency", "NZD")),
                preferences=dict(data.get("Preferences") or {}),
            )
        return self.realms[realm_id]

    def records_snapshot(self) -> dict[str, Any]:
        """``{realmId: {"companyName", entity: [records...], "_deleted": [...]}}``."""
        snapshot = {
            realm_id: {
                "companyName": realm.company_name,
                "_deleted": realm.deleted,
                **{name: list(records.values()) for name, records in realm.records.items()},
            }
            for realm_id, realm in self.realms.items()
        }
        return json.loads(json.dumps(snapshot))
