"""The Xero sandbox's memory: config, tenants with records, OAuth artefacts, sequences."""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import flask

from modules.sandbox_oauth import OAuthStore
from modules.sandbox_replays import ReplayStore
from modules.sandboxing import BaseSandboxState, Monotonic, SandboxError

from .errors import Record, ValidationFailed
from .organisation import TAX_RATES
from .resources import RESOURCES
from .tenant import Tenant, WriteContext
from .values import to_decimal

#: Fixture collections in the order they load (contacts and items before the documents).
SEED_ORDER = (
    "Contacts",
    "Items",
    "Invoices",
    "Quotes",
    "CreditNotes",
    "Overpayments",
    "Payments",
)
FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures"
DEFAULT_TENANT_ID = "8b5f9a2e-3c1d-4e7f-9a6b-2d4c8e1f0a35"

DEFAULTS: dict[str, Any] = {
    "client_id": "sandbox-client-id",
    "client_secret": "sandbox-client-secret",
    # When the Xero app was created: from 2 March 2026 only granular scopes are granted.
    "app_created": "2026-03-02",
    "redirect_uris": [],  # empty: any redirect URI is accepted
    "access_token_seconds": 1800,
    "refresh_grace_seconds": 1800.0,  # Xero keeps the previous refresh token for 30 minutes
    "refresh_token_days": 60,
    "authorization_code_seconds": 300,
    "rate_limit_per_minute": 60,
    "rate_limit_per_day": 5000,  # 1,000 on Xero's Starter tier (NOTES §3)
    "rate_limit_concurrent": 5,  # calls in progress per tenant
    "app_rate_limit_per_minute": 10000,
    "provider_name": "Switchboard Sandbox",
    "base_currency": "NZD",
    "currencies": [],  # currencies added to the organisation besides its base currency
    "fixture": None,
    "tax_rates": None,  # {TaxType: {"Name": ..., "Rate": 15} or null} to extend/override/drop
}


class XeroSandboxState(BaseSandboxState):
    """All of the Xero sandbox's memory: tenants with records, OAuth artefacts, sequences."""

    def __init__(
        self, config: Mapping[str, Any] | None = None, monotonic: Monotonic = time.monotonic
    ) -> None:
        super().__init__(DEFAULTS, config, monotonic)
        self.signing_secret = secrets.token_bytes(32)
        self.clear_records()
        self.seed_initial_fixture()

    def clear_records(self) -> None:
        """Forget tenants, tokens and codes; recreate the default tenant."""
        self.tenants: dict[str, Tenant] = {}
        self.oauth = OAuthStore()  # codes, grants and tokens (modules.sandbox_oauth)
        self.event_sequence = 0
        self.day_counts: dict[tuple[str, date], int] = {}
        self.replies = ReplayStore()  # answers by (tenant, Idempotency-Key)
        self.add_tenant(DEFAULT_TENANT_ID, "Demo Company (Sandbox)")

    def add_tenant(self, tenant_id: str, name: str) -> Tenant:
        """Create (or rename) a tenant; existing records are kept."""
        tenant = self.tenants.get(tenant_id)
        if tenant is None:
            tenant = self.tenants[tenant_id] = Tenant(tenant_id, name, self.now())
        tenant.name = name
        return tenant

    def load_fixture(self, fixture: Any) -> Mapping[str, Any]:
        """Also accept a fixture name from ``fixtures/`` (``"demo"``, ``"small"``)."""
        if isinstance(fixture, str) and (FIXTURE_DIR / f"{fixture}.json").exists():
            fixture = str(FIXTURE_DIR / f"{fixture}.json")
        return super().load_fixture(fixture)

    def seed(self, fixture: Mapping[str, Any]) -> dict[str, int]:
        """Load ``{"tenants": [{"tenantId", "tenantName", "Contacts": [...], "Items": [...],
        "Invoices": [...], "Quotes": [...], "CreditNotes": [...], "Overpayments": [...],
        "Payments": [...]}]}``. Records may carry their IDs and
        ``UpdatedDateUTC``; totals are recomputed. No webhooks fire.

        Raises:
            SandboxError: when a record fails validation (the message names it).
        """
        loaded = {"tenants": 0, **dict.fromkeys(SEED_ORDER, 0)}
        for spec in fixture.get("tenants", []):
            tenant_id = spec.get("tenantId", DEFAULT_TENANT_ID)
            tenant = self.add_tenant(tenant_id, spec.get("tenantName", "Demo Company"))
            loaded["tenants"] += 1
            for resource in SEED_ORDER:
                for item in spec.get(resource, []):
                    self._seed_one(tenant, resource, item)
                    loaded[resource] += 1
        return loaded

    def _seed_one(self, tenant: Tenant, resource: str, item: Record) -> None:
        context = WriteContext(self, tenant, seeding=True)
        try:
            RESOURCES[resource].write(context, copy.deepcopy(item))
        except ValidationFailed as exc:
            raise SandboxError(f"{resource} fixture record {item}: {exc}") from None

    def records_snapshot(self) -> dict[str, Any]:
        """Every tenant's records as the API renders them."""
        return {
            tenant_id: {
                "tenantName": tenant.name,
                **{
                    name: [RESOURCES[name].render(tenant, r) for r in collection.values()]
                    for name, collection in tenant.collections().items()
                },
            }
            for tenant_id, tenant in self.tenants.items()
        }

    def tax_rates(self) -> dict[str, tuple[str, Decimal]]:
        """The tax table, with ``config["tax_rates"]`` overrides applied."""
        rates = dict(TAX_RATES)
        for tax_type, spec in (self.config.get("tax_rates") or {}).items():
            if spec is None:  # the organisation has no such code (another region's table)
                rates.pop(tax_type, None)
                continue
            rates[tax_type] = (spec.get("Name", tax_type), to_decimal(spec.get("Rate")))
        return rates

    def currencies(self) -> list[str]:
        """The organisation's currencies (``GET /Currencies``): its base currency first."""
        base = str(self.config["base_currency"])
        return [base, *(c for c in self.config.get("currencies") or [] if c != base)]

    def next_sequence(self) -> int:
        """Webhook event sequence number (monotonic per sandbox)."""
        self.event_sequence += 1
        return self.event_sequence


def sandbox_state() -> XeroSandboxState:
    """The state of the app serving the current request."""
    return flask.current_app.extensions["sandbox_state"]
