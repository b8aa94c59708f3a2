"""The data store modules: add, update, get, check, search, delete, delete all, count."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.errors import DataError, InvalidConfigurationError
from engine.filters import OPERATORS
from engine.mapping import EvalContext
from engine.mapping.values import CoercionError
from engine.runtime.record import to_json_value
from engine.spec import Bundle, Effect, ModuleCall, ModuleKind, ModuleSpec, RecordNaming
from engine.store.errors import DataStoreFull, DuplicateKey, NotFound, UnstorableText
from engine.store.records import DataRecord

_LAX = ConfigDict(extra="allow")


class StoreParameters(BaseModel):
    """``parameters`` of every data store module."""

    model_config = _LAX

    datastore: int = Field(strict=False)
    limit: int | None = Field(default=None, strict=False, title="Limit")


class KeyInput(BaseModel):
    model_config = _LAX

    key: Any = Field(default=None, title="Key")

    @field_validator("key")
    @classmethod
    def _text_key(cls, key: Any) -> str | None:
        return None if key in (None, "") else str(key)


class AddInput(KeyInput):
    data: dict[str, Any] = Field(default_factory=dict, title="Record")
    overwrite: bool = Field(default=False, title="Overwrite an existing record")


class UpdateInput(KeyInput):
    data: dict[str, Any] = Field(default_factory=dict, title="Record")
    upsert: bool = Field(default=False, title="Insert missing record")
    overwriteArrays: bool = Field(default=True, title="Overwrite an existing array in the record")
    """False ("Overwrite an existing array in the record: No"): a mapped array is added to the
    items of the record's array of the same name instead of replacing it."""


class GetInput(KeyInput):
    returnWrapped: bool = Field(default=False, title="Return wrapped output")


class SortBy(BaseModel):
    model_config = _LAX

    key: str = "key"
    order: int = Field(default=1, strict=False)


class SearchInput(BaseModel):
    model_config = _LAX

    filter: list[list[dict[str, Any]]] = Field(default_factory=list)
    sort: list[SortBy] = Field(default_factory=list)


class _Access:
    """One module call's view of its data store, with undo registered for each write."""

    def __init__(self, call: ModuleCall) -> None:
        self.call = call
        self.stores = call.context.data_stores
        if self.stores is None:
            raise InvalidConfigurationError("no data stores are available to this run")
        self.store_id: int = call.parameters_as(StoreParameters).datastore
        self.run(lambda: self.stores.get_data_store(self.store_id))  # a missing store is an error

    def run(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except NotFound as error:
            raise DataError(str(error)) from None
        except DuplicateKey as error:
            raise DataError(str(error)) from None
        except DataStoreFull as error:
            raise DataError(str(error)) from None
        except UnstorableText as error:  # a key with NUL: named, never the driver's message
            raise DataError(f"the record {error}") from None

    def get(self, key: str) -> dict[str, Any] | None:
        return self.run(lambda: self.stores.get_record(self.store_id, key))

    def undo_by_restoring(self, key: str, previous: Mapping[str, Any] | None) -> None:
        def restore() -> None:
            if previous is None:
                self.stores.delete_record(self.store_id, key)
            else:
                self.stores.put_record(self.store_id, key, previous, overwrite=True)

        self.call.context.transaction.on_rollback(restore)


def _record(key: str, data: Mapping[str, Any]) -> dict[str, Any]:
    return {"key": key, "data": dict(data)}


def add_record(call: ModuleCall) -> Iterator[Bundle]:
    """Add a record (or replace it when ``overwrite``); a missing key gets a generated one."""
    data = call.input_as(AddInput)
    access = _Access(call)
    previous = access.get(data.key) if data.key is not None else None
    stored = access.run(
        lambda: access.stores.put_record(
            access.store_id, data.key, to_json_value(data.data), overwrite=data.overwrite
        )
    )
    access.undo_by_restoring(stored.key, previous)
    yield _record(stored.key, stored.data)


def update_record(call: ModuleCall) -> Iterator[Bundle]:
    """Merge fields into a record; with ``upsert`` a missing record is created."""
    data = call.input_as(UpdateInput)
    if data.key is None:
        raise DataError("a key is required to update a record")
    access = _Access(call)
    previous = access.get(data.key)
    fields = to_json_value(data.data)
    if not data.overwriteArrays and previous is not None:
        fields = _appending_arrays(previous, fields)
    stored = access.run(
        lambda: access.stores.update_record(
            access.store_id, data.key, fields, insert_missing=data.upsert
        )
    )
    access.undo_by_restoring(stored.key, previous)
    yield _record(stored.key, stored.data)


def _appending_arrays(previous: Mapping[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with each array added to the items of the record's array of that name."""
    merged = dict(fields)
    for name, value in fields.items():
        if isinstance(value, list) and isinstance(previous.get(name), list):
            merged[name] = [*previous[name], *value]
    return merged


def get_record(call: ModuleCall) -> Iterator[Bundle]:
    """The record's fields (or ``{key, data}`` when wrapped); nothing when the key is absent."""
    data = call.input_as(GetInput)
    if data.key is None:
        raise DataError("a key is required to get a record")
    found = _Access(call).get(data.key)
    if found is not None:
        yield _record(data.key, found) if data.returnWrapped else dict(found)


def exist_record(call: ModuleCall) -> Iterator[Bundle]:
    data = call.input_as(KeyInput)
    found = _Access(call).get(data.key) if data.key is not None else None
    yield {"exist": found is not None}


def delete_record(call: ModuleCall) -> Iterator[Bundle]:
    data = call.input_as(KeyInput)
    if data.key is None:
        raise DataError("a key is required to delete a record")
    access = _Access(call)
    previous = access.get(data.key)
    if previous is not None:
        access.run(lambda: access.stores.delete_record(access.store_id, data.key))
        access.undo_by_restoring(data.key, previous)
    yield {}


def delete_all_records(call: ModuleCall) -> Iterator[Bundle]:
    access = _Access(call)
    every = access.run(lambda: access.stores.search_records(access.store_id))
    access.run(lambda: access.stores.delete_all_records(access.store_id))
    for record in every:
        access.undo_by_restoring(record.key, record.data)
    yield {"count": len(every)}


def count_records(call: ModuleCall) -> Iterator[Bundle]:
    access = _Access(call)
    yield {"count": access.run(lambda: access.stores.count_records(access.store_id))}


def search_records(call: ModuleCall) -> Iterator[Bundle]:
    """Records matching Make's filter (OR of AND groups over fields), sorted, up to ``limit``."""
    data = call.input_as(SearchInput)
    access = _Access(call)
    every = access.run(lambda: access.stores.search_records(access.store_id))
    context = EvalContext(bundles={}, timezone=call.context.run.timezone, now=call.context.now)
    matching = [r for r in every if _matches(_fields(r.key, r.data), data.filter, context)]
    for sort in reversed(data.sort):
        matching.sort(key=partial(_record_sort_key, sort.key), reverse=sort.order < 0)
    limit = call.parameters_as(StoreParameters).limit
    found = matching[:limit] if limit else matching
    for position, record in enumerate(found, start=1):
        yield {
            **_record(record.key, record.data),
            "__IMTINDEX__": position,
            "__IMTLENGTH__": len(found),
        }


def _fields(key: str, data: Mapping[str, Any]) -> dict[str, Any]:
    return {**data, "key": key}


def _value(fields: Mapping[str, Any], path: str) -> Any:
    value: Any = fields
    for part in str(path).split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _matches(
    fields: Mapping[str, Any], groups: list[list[dict[str, Any]]], ctx: EvalContext
) -> bool:
    if not groups:
        return True
    return any(all(_holds(fields, condition, ctx) for condition in group) for group in groups)


def _holds(fields: Mapping[str, Any], condition: Mapping[str, Any], ctx: EvalContext) -> bool:
    code = condition.get("o", "exist")
    operator = OPERATORS.get(code)
    if operator is None:
        raise DataError(f"unknown filter operator '{code}'")
    try:
        return bool(operator(_value(fields, condition.get("a", "key")), condition.get("b"), ctx))
    except CoercionError:
        return False  # a value that cannot be compared does not match


def _record_sort_key(path: str, record: DataRecord) -> tuple[int, str, Any]:
    return _sort_key(_fields(record.key, record.data), path)


def _sort_key(fields: Mapping[str, Any], path: str) -> tuple[int, str, Any]:
    value = _value(fields, path)
    if value is None:
        return (2, "", "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, "", value)
    return (1, str(value), "")


def _spec(
    name: str,
    label: str,
    run: Any,
    input_model: type[BaseModel],
    effect: Effect,
    kind: ModuleKind = ModuleKind.ACTION,
) -> ModuleSpec:
    return ModuleSpec(
        id=f"datastore:{name}",
        kind=kind,
        label=label,
        parameters=StoreParameters,
        input=input_model,
        run=run,
        effect=effect,
        naming=RECORD_NAMING,
    )


RECORD_NAMING = RecordNaming(key=("key",))
"""A data store record is its key (its fields are the user's own)."""


class _NoInput(BaseModel):
    model_config = _LAX


DATASTORE_MODULES: tuple[ModuleSpec, ...] = (
    _spec("AddRecord", "Add/replace a record", add_record, AddInput, Effect.UPSERT),
    _spec("UpdateRecord", "Update a record", update_record, UpdateInput, Effect.UPDATE),
    _spec("GetRecord", "Get a record", get_record, GetInput, Effect.READ, ModuleKind.SEARCH),
    _spec("ExistRecord", "Check the existence of a record", exist_record, KeyInput, Effect.READ),
    _spec(
        "SearchRecord",
        "Search records",
        search_records,
        SearchInput,
        Effect.SEARCH,
        ModuleKind.SEARCH,
    ),
    _spec("DeleteRecord", "Delete a record", delete_record, KeyInput, Effect.DELETE),
    _spec("DeleteAllRecords", "Delete all records", delete_all_records, _NoInput, Effect.DELETE),
    _spec("CountRecords", "Count records", count_records, _NoInput, Effect.SEARCH),
)
