"""Zoho CRM modules' pydantic models: parameters, mapped input and outputs.

Record fields are mapped with Zoho's API names (``Account_Name``, ``Email``,
``Invoiced_Items`` …) as extra keys beside the control keys (``module``, ``id`` …), the way the
1CRM modules take theirs; every key the user leaves empty is left out of the request.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

_LAX = ConfigDict(extra="allow", populate_by_name=True)


def _split(value: Any) -> Any:
    """A list parameter also accepts one comma-separated string; empty is an empty list."""
    if value in (None, ""):
        return []
    return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value


class ZohoParameters(BaseModel):
    """Static settings of every Zoho CRM module: the connection and (optionally) the module
    (Accounts, Contacts, Vendors, Products, Quotes, Invoices)."""

    model_config = _LAX

    connection: Any = Field(default=None, alias="__IMTCONN__")
    module: str | None = None


class NewEventParameters(ZohoParameters):
    """The notifications trigger: its webhook, the operations to subscribe (``all``,
    ``create``, ``edit``, ``delete``) and the channel's verification token (a secret of at
    most 50 characters that Zoho echoes in every notification)."""

    hook: Any = Field(default=None, alias="__IMTHOOK__")
    operations: list[str] = Field(default_factory=lambda: ["all"])
    token: str | None = Field(default=None, max_length=50)

    _operations = field_validator("operations", mode="before")(_split)


class WatchParameters(ZohoParameters):
    """Watch Records. ``start``: ``now``, ``date`` (since ``startDate``) or ``all``; read only
    while the trigger has no cursor yet. ``fields``: the API names to output (at most 50; the
    module's usual fields when empty)."""

    start: str = "now"
    startDate: Any = None
    limit: int = Field(default=100, ge=1)
    fields: list[str] = Field(default_factory=list)

    _fields = field_validator("fields", mode="before")(_split)


class SearchParameters(ZohoParameters):
    limit: int | None = Field(default=10, ge=0)
    continueWhenNoRes: bool = False


class ModuleInput(BaseModel):
    model_config = _LAX

    module: str | None = None


class CriteriaRule(BaseModel):
    """One AND rule: ``Account_Name`` ``starts_with`` ``Smith, Jones (NZ)`` (escaped)."""

    model_config = _LAX

    field: str
    operator: str = "equals"
    value: Any = None


class SearchInput(ModuleInput):
    """Search Records by one of: ``filter`` rules (AND, escaped), a raw ``criteria`` string,
    ``email`` (exact, any e-mail field), ``phone`` or ``word`` (any text field); ``name`` is a
    helper for the module's name field (``Account_Name``, ``Full_Name``, ``Product_Name`` …)
    compared as ``match`` says: ``starts_with`` (default) or ``equals`` (exactly)."""

    filter: list[CriteriaRule] = Field(default_factory=list)
    criteria: str | None = None
    email: str | None = None
    phone: str | None = None
    word: str | None = None
    name: str | None = None
    match: str = "starts_with"

    @field_validator("filter", mode="before")
    @classmethod
    def _flatten(cls, value: Any) -> Any:
        if value in (None, ""):
            return []
        if isinstance(value, list) and value and isinstance(value[0], list):
            return [rule for group in value[:1] for rule in group]  # Make's [[AND rules]]
        return value


class GetInput(ModuleInput):
    id: str

    _id = field_validator("id", mode="before")(lambda v: str(v) if isinstance(v, int) else v)


class CreateInput(ModuleInput):
    """The record's fields are the extra keys."""


class UpdateInput(ModuleInput):
    """``id`` of the record; the record's changed fields are the extra keys."""

    id: str

    _id = field_validator("id", mode="before")(lambda v: str(v) if isinstance(v, int) else v)


class UpsertInput(ModuleInput):
    """The record's fields are the extra keys; ``duplicate_check_fields`` (in order) decide
    which existing record is updated (Zoho's defaults per module when empty)."""

    duplicate_check_fields: list[str] = Field(default_factory=list)

    _fields = field_validator("duplicate_check_fields", mode="before")(_split)


class RecordOutput(BaseModel):
    """A Zoho CRM record: ``id``, the audit fields and every field of the module."""

    model_config = _LAX

    id: str
    Created_Time: str | None = None
    Modified_Time: str | None = None
    Owner: dict[str, Any] | None = None
    Created_By: dict[str, Any] | None = None
    Modified_By: dict[str, Any] | None = None


class EventOutput(BaseModel):
    """One changed record of a notification."""

    model_config = _LAX

    module: str | None = None
    id: str | None = None
    operation: str | None = None
    affected_fields: list[str] | None = None
    channel_id: Any = None
    server_time: Any = None
