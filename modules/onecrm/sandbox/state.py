"""The sandbox's memory: records by model, webhook subscriptions, document counters, and the
reference data a new 1CRM instance has (currencies, tax rates, a standard tax code)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modules.onecrm.sandbox.documents import save_as_person
from modules.onecrm.sandbox.records import BASE_CURRENCY_ID, Record, save_record
from modules.onecrm.sandbox.schema import MODELS
from modules.sandboxing import BaseSandboxState, Monotonic, SandboxError

FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures"
STANDARD_TAX_CODE_ID = "standard-tax_-code-0000-000000000001"
"""The tax code id of the docs' invoice example (create-invoice.md)."""

CURRENCY_NAMES = {
    "USD": ("US Dollar", "$"),
    "NZD": ("New Zealand Dollar", "$"),
    "AUD": ("Australian Dollar", "$"),
    "EUR": ("Euro", "€"),
    "GBP": ("British Pound", "£"),
    "CAD": ("Canadian Dollar", "$"),
}

DEFAULTS: dict[str, Any] = {
    "username": "admin",
    "password": "sandbox-password",
    "user_id": "1",
    "rate_limit_per_minute": 120,
    # 1CRM ships with Basic auth off; the sandbox starts with it on so that tests and the
    # demo can sign in. False answers every Basic-authenticated call 401.
    "basic_auth_enabled": True,
    "edition": "enterprise",  # "startup": the REST API answers 403 (NOTES §1)
    "version": "8.6.7",
    "default_currency": "USD",
    "currencies": ["NZD", "AUD", "EUR", "GBP"],
    "tax_rates": [{"name": "GST", "rate": 15}, {"name": "Reduced rate", "rate": 10}],
    "fixture": None,
}


def reference_id(kind: str, name: str) -> str:
    """A stable id for seeded reference data (the same in every sandbox)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"onecrm-sandbox:{kind}:{name}"))


class OneCrmSandboxState(BaseSandboxState):
    """Records by model, webhook subscriptions and document counters."""

    def __init__(
        self, config: Mapping[str, Any] | None = None, monotonic: Monotonic = time.monotonic
    ) -> None:
        super().__init__(DEFAULTS, config, monotonic)
        self.clear_records()
        self.seed_initial_fixture()

    def clear_records(self) -> None:
        """Forget every record and subscription; keep a new instance's reference data."""
        self.records: dict[str, dict[str, Record]] = {model: {} for model in MODELS}
        self.subscriptions: dict[str, Record] = {}
        self.counters = {"Invoice": 1000, "Quote": 1000, "Payment": 1000}
        self.seed_reference_data()

    def seed_reference_data(self) -> None:
        base = str(self.config["default_currency"]).upper()
        codes = [base, *(c.upper() for c in self.config["currencies"] if c.upper() != base)]
        for code in codes:
            name, symbol = CURRENCY_NAMES.get(code, (code, code))
            currency_id = BASE_CURRENCY_ID if code == base else reference_id("currency", code)
            currency = {"name": name, "symbol": symbol, "iso4217": code, "status": "Active"}
            currency.update(id=currency_id, conversion_rate="1")
            save_record(self, "Currency", currency, None, seeding=True)
        for rate in self.config["tax_rates"]:
            rate_id = reference_id("tax-rate", str(rate["name"]))
            save_record(self, "TaxRate", {"id": rate_id, **rate}, None, seeding=True)
        standard = {"id": STANDARD_TAX_CODE_ID, "name": "Standard", "code": "STD"}
        save_record(self, "TaxCode", standard, None, seeding=True)

    def load_fixture(self, fixture: Any) -> Mapping[str, Any]:
        """Also accept a fixture name from ``fixtures/`` (``"demo"``, ``"small"``)."""
        if isinstance(fixture, str) and (FIXTURE_DIR / f"{fixture}.json").exists():
            fixture = str(FIXTURE_DIR / f"{fixture}.json")
        return super().load_fixture(fixture)

    def seed(self, fixture: Mapping[str, Any]) -> dict[str, int]:
        """Load ``{"Account": [...], "Invoice": [...], ...}`` model by model in dependency
        order. Records may carry ``id``, ``date_entered`` and ``date_modified``; invoices and
        quotes may give ``line_items`` and payments ``related_invoices``, stored as 1CRM's
        screens store them (``documents.py``). No webhooks fire."""
        unknown = sorted(set(fixture) - set(MODELS) - {"_about"})
        if unknown:
            raise SandboxError(f"the fixture names models the sandbox lacks: {', '.join(unknown)}")
        loaded = {}
        for model in MODELS:
            for data in fixture.get(model, []):
                save_as_person(self, model, data, seeding=True)
            if model in fixture:
                loaded[model] = len(fixture[model])
        return loaded

    def records_snapshot(self) -> dict[str, Any]:
        """Every record by model, plus the webhook subscriptions under ``_webhooks``."""
        snapshot: dict[str, Any] = {m: list(rs.values()) for m, rs in self.records.items()}
        snapshot["_webhooks"] = list(self.subscriptions.values())
        return json.loads(json.dumps(snapshot))

    def next_number(self, model: str) -> int:
        """Sequential document number per model (``invoice_number`` …)."""
        self.counters[model] = self.counters.get(model, 1000) + 1
        return self.counters[model]
