"""Saving records: what the server checks and fills in on every create and update.

A write is refused (400, nothing stored) when it names a field the model does not have, gives a
value the field's type does not take, leaves out a required field, or points an id field at a
record that is not there. Fields the server owns (``id``, dates, display names) are ignored in
client data; seeding may set ``id`` and the dates. Totals of invoices and quotes are stored as
the caller gives them: the docs' example supplies them itself (NOTES §5) and whether 1CRM
recomputes them is not known, so the sandbox does not.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modules.onecrm.sandbox.errors import InvalidRecord
from modules.onecrm.sandbox.schema import MODELS, ModelSchema
from modules.onecrm.sandbox.values import DATETIME_FORMAT, InvalidValue, stored

if TYPE_CHECKING:
    from modules.onecrm.sandbox.state import OneCrmSandboxState

Record = dict[str, Any]
SEEDABLE = frozenset({"id", "date_entered", "date_modified"})
"""Server-owned fields a fixture may set."""


@dataclass(frozen=True)
class Change:
    """One saved record, for the webhooks: ``event`` is ``create`` or ``update``;
    ``previous`` the record before an update."""

    model: str
    event: str
    record_id: str
    previous: Record | None


def save_record(
    state: OneCrmSandboxState,
    model: str,
    data: Mapping[str, Any],
    existing: Record | None,
    *,
    seeding: bool = False,
    record_id: str | None = None,
) -> tuple[Record, Change]:
    """Create (``existing`` None; with ``record_id`` when the caller chose it) or update a
    record. The caller holds the state's lock.

    Raises:
        InvalidRecord: every problem found; nothing is stored then.
    """
    schema = MODELS[model]
    changes = client_values(schema, data, seeding)
    now = state.now().strftime(DATETIME_FORMAT)
    base = existing or new_record(state, schema, record_id, now)
    record = json.loads(json.dumps({**base, **changes}))  # a copy: checks below may fail
    if not (seeding and "date_modified" in changes):
        record["date_modified"] = now
    if schema.fields.get("modified_user_id"):
        record["modified_user_id"] = state.config["user_id"]
    fill_in(state, schema, record, creating=existing is None)
    check_record(state, schema, record)
    state.records[model][record["id"]] = record
    return record, Change(model, "update" if existing else "create", record["id"], existing)


def client_values(schema: ModelSchema, data: Mapping[str, Any], seeding: bool) -> Record:
    """The fields a client may write, as 1CRM stores them.

    Raises:
        InvalidRecord: unknown fields and values their field does not take.
    """
    values: Record = {}
    problems: dict[str, str] = {}
    for name, value in data.items():
        spec = schema.fields.get(name)
        if spec is None:
            problems[name] = f"{schema.name} has no field {name}"
            continue
        if not spec.editable and not (seeding and name in SEEDABLE):
            continue
        try:
            values[name] = value if name == "id" else stored(spec, value)
        except InvalidValue as error:
            problems[name] = str(error)
    if problems:
        raise InvalidRecord(problems)
    return values


def new_record(
    state: OneCrmSandboxState, schema: ModelSchema, record_id: str | None, now: str
) -> Record:
    record: Record = {name: None for name in schema.fields}
    record.update(id=record_id or str(uuid.uuid4()), deleted="0", date_entered=now)
    if "created_by" in schema.fields:
        record["created_by"] = state.config["user_id"]
    return record


def fill_in(state: OneCrmSandboxState, schema: ModelSchema, record: Record, creating: bool) -> None:
    """Defaults on create, document numbers and every display name the server derives."""
    fields = schema.fields
    if creating:
        if "assigned_user_id" in fields and not record.get("assigned_user_id"):
            record["assigned_user_id"] = str(state.config["user_id"])
        if "currency_id" in fields and not record.get("currency_id"):
            record["currency_id"] = BASE_CURRENCY_ID
        if "exchange_rate" in fields and not record.get("exchange_rate"):
            record["exchange_rate"] = "1"
    if schema.number_field:
        if not record.get(schema.number_field):
            record[schema.number_field] = str(state.next_number(schema.name))
        if not record.get("prefix"):
            record["prefix"] = schema.number_prefix
    if schema.name == "Contact":
        parts = (record.get("first_name"), record.get("last_name"))
        record["name"] = " ".join(p for p in parts if p) or None
    if schema.name == "Payment":
        record["name"] = f"{record['prefix']}{record['payment_number']}"
    for name, spec in fields.items():
        if spec.type == "ref" and spec.id_name:
            record[name] = display_name(state, schema, spec.id_name, record.get(spec.id_name))


BASE_CURRENCY_ID = "-99"
"""1CRM's base currency id (``"currency_id": "-99"`` in docs data/related.md)."""


def display_name(state: OneCrmSandboxState, schema: ModelSchema, id_field: str, value: Any) -> Any:
    if value in (None, ""):
        return None
    if id_field == "assigned_user_id":
        return state.config["username"]
    target_model = schema.fields[id_field].ref_model
    target = state.records.get(target_model or "", {}).get(value)
    if target is None:
        return None
    if target_model == "Currency":
        return f"{target['name']}: {target.get('symbol') or ''}".strip()
    return target.get("name")


def check_record(state: OneCrmSandboxState, schema: ModelSchema, record: Record) -> None:
    """Required fields, ids that point at records, and the parts of a document that belong
    together (a line's group is a group of the same invoice).

    Raises:
        InvalidRecord: naming every problem.
    """
    problems = {
        name: "required"
        for name, spec in schema.fields.items()
        if spec.required and record.get(name) in (None, "")
    }
    for name, spec in schema.fields.items():
        value = record.get(name)
        pointing = spec.ref_model and value not in (None, "") and name not in problems
        if pointing and value not in state.records[str(spec.ref_model)]:
            problems[name] = f"no {spec.ref_model} with id {value}"
    if not problems:
        problems.update(document_part_problems(state, schema, record))
    if problems:
        raise InvalidRecord(problems)


def document_part_problems(
    state: OneCrmSandboxState, schema: ModelSchema, record: Record
) -> dict[str, str]:
    """A line, adjustment or comment must sit in a line group of its own document, and an
    adjustment's line in the same group."""
    if "line_group_id" not in schema.fields:
        return {}
    parent = schema.name.removesuffix("Line").removesuffix("Adjustment").removesuffix("Comment")
    group = state.records[f"{parent}LineGroup"][record["line_group_id"]]
    problems = {}
    owner_key = f"{parent.lower()}_id"
    if group.get("parent_id") != record.get(owner_key):
        problems["line_group_id"] = f"the line group belongs to another {parent}"
    line_id = record.get("line_id")
    if line_id and state.records[f"{parent}Line"][line_id].get("line_group_id") != group["id"]:
        problems["line_id"] = "the line is in another line group"
    return problems
