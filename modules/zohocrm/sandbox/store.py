"""One Zoho CRM organisation's records and the insert / update / upsert / delete rules.

Callers hold the sandbox lock. Writes return ``(record, Change)``; the API turns changes into
notifications. Ids are 19-digit strings, like Zoho's. A write keeps to the module's layout
(``fields``: the standard fields, config ``custom_fields``, less ``fields_missing``): a field
the layout lacks is not stored — whatever Zoho answers for it, the value is not kept, so a
read-back (or ``connection check``) shows it missing.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .records import (
    MODULES,
    SYSTEM_FIELDS,
    ModuleSpec,
    Record,
    RecordError,
    check_fields,
    check_lengths,
    field_list,
)

ID_PREFIX = "5843104000000"


@dataclass(frozen=True)
class Change:
    """One record inserted, updated or deleted by a request."""

    module: str
    id: str
    operation: str  # insert | update | delete
    fields: tuple[str, ...] = ()


def parse_offset(text: str) -> timezone:
    """``"+05:30"`` → a fixed ``timezone``."""
    sign = -1 if text.startswith("-") else 1
    hours, minutes = text.lstrip("+-").split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


@dataclass
class Org:
    """Records by module and id, plus the user every change is attributed to."""

    clock: Callable[[], datetime]
    config: Mapping[str, Any]
    records: dict[str, dict[str, Record]] = field(
        default_factory=lambda: {name: {} for name in MODULES}
    )
    ids: itertools.count = field(default_factory=lambda: itertools.count(412001))

    @property
    def user(self) -> Record:
        return {
            "name": self.config["user_name"],
            "id": self.config["user_id"],
            "email": self.config["user_email"],
        }

    def now(self) -> str:
        """Zoho's timestamp: ``2024-01-08T10:05:00+00:00`` in the user's zone."""
        zone = parse_offset(str(self.config["utc_offset"]))
        return self.clock().astimezone(zone).isoformat(timespec="seconds")

    def new_id(self) -> str:
        while True:
            candidate = f"{ID_PREFIX}{next(self.ids)}"
            if not any(candidate in records for records in self.records.values()):
                return candidate

    def fields(self, spec: ModuleSpec) -> list[Record]:
        """The module's layout: standard fields and the org's custom ones, less those the
        org lacks (``GET /settings/fields`` lists exactly these)."""
        custom = (self.config.get("custom_fields") or {}).get(spec.name) or {}
        missing = set((self.config.get("fields_missing") or {}).get(spec.name) or [])
        return [f for f in field_list(spec, custom) if f["api_name"] not in missing]

    def _in_layout(self, spec: ModuleSpec, data: Mapping[str, Any]) -> Record:
        """The client's fields the layout has (``$`` keys such as ``$line_tax`` pass)."""
        names = {f["api_name"] for f in self.fields(spec)}
        fields = _client_fields(data)
        return {k: v for k, v in fields.items() if k in names or k.startswith("$")}

    def lookup(self, module: str, record_id: str) -> Record | None:
        return self.records[module].get(record_id)

    def check_unique(self, spec: ModuleSpec, record: Record) -> None:
        """``DUPLICATE_DATA`` when a field configured unique repeats another record's value."""
        for name in self.config["unique_fields"].get(spec.name, []):
            value = record.get(name)
            if value in (None, ""):
                continue
            for other in self.records[spec.name].values():
                same = str(other.get(name, "")).casefold() == str(value).casefold()
                if same and other["id"] != record["id"]:
                    raise RecordError(
                        "DUPLICATE_DATA", "duplicate data", api_name=name, id=other["id"]
                    )

    def insert(
        self, spec: ModuleSpec, data: Record, *, seeding: bool = False
    ) -> tuple[Record, Change]:
        """Store a new record (``data`` may carry id and times only when seeding)."""
        now = self.now()
        record: Record = {**copy.deepcopy(dict(spec.defaults)), **self._in_layout(spec, data)}
        if seeding:
            record.update(
                {k: data[k] for k in ("id", "Created_Time", "Modified_Time") if k in data}
            )
        record["id"] = str(record.get("id") or self.new_id())
        record.setdefault("Created_Time", now)
        record.setdefault("Modified_Time", record["Created_Time"])
        record.update(
            {
                "Owner": data.get("Owner") or self.user,
                "Created_By": self.user,
                "Modified_By": self.user,
                "$approved": True,
                "$editable": True,
            }
        )
        self._check(spec, record)
        self.records[spec.name][record["id"]] = record
        return record, Change(spec.name, record["id"], "insert", tuple(record))

    def update(self, spec: ModuleSpec, record_id: str, data: Record) -> tuple[Record, Change]:
        """Merge ``data`` into a stored record (line items are replaced whole).

        Raises:
            RecordError: ``INVALID_DATA`` for an unknown id, or the record's first problem.
        """
        existing = self.records[spec.name].get(record_id)
        if existing is None:
            raise RecordError("INVALID_DATA", "the id given seems to be invalid", api_name="id")
        changes = self._in_layout(spec, data)
        record = {**copy.deepcopy(existing), **copy.deepcopy(changes)}
        self._check(spec, record)
        record["Modified_Time"], record["Modified_By"] = self.now(), self.user
        self.records[spec.name][record_id] = record
        return record, Change(spec.name, record_id, "update", tuple(changes))

    def delete(self, spec: ModuleSpec, record_id: str) -> Change:
        if self.records[spec.name].pop(record_id, None) is None:
            raise RecordError("INVALID_DATA", "the id given seems to be invalid", api_name="id")
        return Change(spec.name, record_id, "delete")

    def find_duplicate(
        self, spec: ModuleSpec, data: Record, fields: list[str]
    ) -> tuple[Record, str] | None:
        """The first record matching ``data`` on a duplicate-check field, in field order."""
        for name in fields:
            value = data.get(name)
            if value in (None, ""):
                continue
            for record in self.records[spec.name].values():
                if str(record.get(name, "")).casefold() == str(value).casefold():
                    return record, name
        return None

    def _check(self, spec: ModuleSpec, record: Record) -> None:
        check_fields(spec, record, self.lookup)
        check_lengths(record, self.fields(spec))
        for item in record.get(spec.line_items or "", None) or []:
            item.setdefault("id", self.new_id())
        self.check_unique(spec, record)


def _client_fields(data: Mapping[str, Any]) -> Record:
    return {k: copy.deepcopy(v) for k, v in data.items() if k not in SYSTEM_FIELDS}
