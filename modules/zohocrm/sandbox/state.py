"""The Zoho CRM sandbox's in-memory state: the organisation's records, OAuth tokens,
notification channels and config.

Fixture format (API names; records may carry ``id``, ``Created_Time``, ``Modified_Time``;
lookups and line items point at ids seeded earlier)::

    {"Accounts": [...], "Contacts": [...], "Vendors": [...], "Products": [...],
     "Quotes": [...], "Invoices": [...]}

Quotes and Invoices carry their line items in ``Quoted_Items`` / ``Invoiced_Items``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modules.concurrency import MemoryConcurrencyLimiter
from modules.sandbox_oauth import OAuthStore
from modules.sandboxing import BaseSandboxState, Monotonic
from modules.zohocrm.crossref import cross_reference_layout

from .records import MODULES
from .store import Org

FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures"

DEFAULTS: dict[str, Any] = {
    "client_id": "1000.SANDBOXCLIENTID",
    "client_secret": "sandbox-client-secret",
    "redirect_uris": [],
    "auth_code_seconds": 120,
    "access_token_seconds": 3600,
    "location": "us",
    "accounts_server": None,  # None: this sandbox's own URL
    "api_domain": None,
    "edition": "standard",  # what GET /org reports (license_details.paid_type)
    "licensed_users": 3,
    "api_credits_per_day": 50000,  # Standard edition's base allowance (NOTES.md §8)
    "credit_window_seconds": 86400.0,  # a rolling day
    "max_concurrent_requests": 10,
    "modules_missing": [],  # modules the org's edition lacks (e.g. ["Invoices", "Quotes"])
    "fields_missing": {},  # fields an org's layout lacks, by module
    # custom fields by module ({api_name: data_type}): the sync packs' cross-reference fields
    "custom_fields": cross_reference_layout(),
    "utc_offset": "+00:00",
    "user_name": "Sandbox Admin",
    "user_id": "5843104000000400001",
    "user_email": "admin@sandbox.example",
    "unique_fields": {"Contacts": ["Email"], "Products": ["Product_Name"]},
    "max_channel_expiry_seconds": 7 * 86400,  # a week from API v4 on (NOTES.md §7)
    "fixture": None,
}


class ZohoSandboxState(BaseSandboxState):
    """One organisation, its tokens and its notification channels."""

    def __init__(
        self, config: Mapping[str, Any] | None = None, monotonic: Monotonic = time.monotonic
    ) -> None:
        super().__init__(DEFAULTS, config, monotonic)
        self.in_flight = MemoryConcurrencyLimiter()  # calls being answered
        self.clear_records()
        self.seed_initial_fixture()

    def clear_records(self) -> None:
        """Forget every record, token and channel."""
        self.org = Org(self.now, self.config)
        self.oauth = OAuthStore()  # codes, grants and tokens (modules.sandbox_oauth)
        self.channels: dict[str, dict[str, Any]] = {}
        self.page_tokens: dict[str, dict[str, Any]] = {}

    def load_fixture(self, fixture: Any) -> Mapping[str, Any]:
        """Also accept a fixture name from ``fixtures/`` (``"demo"``, ``"small"``)."""
        if isinstance(fixture, str) and (FIXTURE_DIR / f"{fixture}.json").exists():
            fixture = str(FIXTURE_DIR / f"{fixture}.json")
        return super().load_fixture(fixture)

    def seed(self, fixture: Mapping[str, Any]) -> dict[str, int]:
        """Insert the fixture's records module by module (no notifications)."""
        for module, spec in MODULES.items():
            for data in fixture.get(module, []):
                self.org.insert(spec, dict(data), seeding=True)
        return {module: len(fixture.get(module, [])) for module in MODULES}

    def records_snapshot(self) -> dict[str, Any]:
        """Records by module, plus the notification channels under ``_channels``."""
        snapshot: dict[str, Any] = {m: list(r.values()) for m, r in self.org.records.items()}
        snapshot["_channels"] = list(self.channels.values())
        return json.loads(json.dumps(snapshot))
