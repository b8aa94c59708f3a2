"""One organisation's records, and what a write into them needs."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .errors import Record
from .values import parse_timestamp

if TYPE_CHECKING:
    from .state import XeroSandboxState

Event = tuple[str, str, str]  # (eventCategory, eventType, resourceId)


@dataclass
class Tenant:
    """One Xero organisation and its records (keyed by their IDs, insertion-ordered)."""

    tenant_id: str
    name: str
    created: datetime
    contacts: dict[str, Record] = field(default_factory=dict)
    invoices: dict[str, Record] = field(default_factory=dict)
    quotes: dict[str, Record] = field(default_factory=dict)
    payments: dict[str, Record] = field(default_factory=dict)
    credit_notes: dict[str, Record] = field(default_factory=dict)
    items: dict[str, Record] = field(default_factory=dict)
    overpayments: dict[str, Record] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=lambda: {"INV": 0, "QU": 0, "CN": 0})

    def collections(self) -> dict[str, dict[str, Record]]:
        """The record collections by API resource name."""
        return {
            "Contacts": self.contacts,
            "Invoices": self.invoices,
            "Quotes": self.quotes,
            "Payments": self.payments,
            "CreditNotes": self.credit_notes,
            "Items": self.items,
            "Overpayments": self.overpayments,
        }

    def save_point(self) -> tuple[dict[str, dict[str, Record]], dict[str, int]]:
        """A deep copy of the records, for ``rollback`` (batch writes are all-or-nothing)."""
        return copy.deepcopy(self.collections()), dict(self.counters)

    def rollback(self, save_point: tuple[dict[str, dict[str, Record]], dict[str, int]]) -> None:
        """Restore a ``save_point``."""
        saved, counters = save_point
        for name, collection in self.collections().items():
            collection.clear()
            collection.update(saved[name])
        self.counters = counters


@dataclass
class WriteContext:
    """What a write needs: the state (time, config), the tenant, and whether we are seeding
    (seeding keeps given IDs and UpdatedDateUTC and emits no events)."""

    state: XeroSandboxState
    tenant: Tenant
    seeding: bool = False
    events: list[Event] = field(default_factory=list)

    def new_id(self, given: Any) -> str:
        """A fresh UUID, or the given one while seeding."""
        return str(given).lower() if self.seeding and given else str(uuid.uuid4())

    def stamp(self, record: Record, given: Any = None) -> None:
        """Set ``UpdatedDateUTC`` to now (or to the fixture's value while seeding)."""
        seeded = parse_timestamp(given) if self.seeding else None
        record["UpdatedDateUTC"] = seeded or self.state.now()

    def event(self, category: str, event_type: str, resource_id: str) -> None:
        """Queue a webhook event, sent once the whole request has committed."""
        if not self.seeding:
            self.events.append((category, event_type, resource_id))


def find_by_id(collection: Mapping[str, Record], record_id: Any) -> Record | None:
    """Look a record up by (case-insensitive) UUID."""
    return collection.get(str(record_id).lower()) if record_id else None
