"""1CRM modules: New Event (webhook trigger), Search for Records, Get, Create and Update a
Record — for any model (Account, Contact, Invoice, Quote, Payment …).

Every module takes ``parameters.__IMTCONN__`` (a 1CRM connection). The model is chosen in the
parameters or mapped as ``model``; "Accounts" and "Account" both work.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel

from engine.errors import InvalidConfigurationError
from engine.spec import Bundle, ModuleCall, ModuleKind, ModuleSpec
from modules.connections import ApiClient, limited, module_factory, with_position
from modules.onecrm.client import client_for, from_onecrm, onecrm_settings
from modules.onecrm.models import (
    CreateInput,
    GetInput,
    ModelInput,
    NewEventParameters,
    OneCrmParameters,
    RecordOutput,
    SearchInput,
    SearchParameters,
    UpdateInput,
    model_name,
)

CONTROL_FIELDS = frozenset({"model", "id", "create_if_missing"})
"""Mapper keys that steer the module rather than being record fields."""

# -- New Event (instant trigger) --------------------------------------------------------------


def webhook_bundles(
    request_bundle: Mapping[str, Any], parameters: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The trigger's bundles from a 1CRM webhook request: the record it carries.

    1CRM posts ``{"webhook_id", "model", "event", "timestamp", "record": {...}}``; the scenario
    maps the record's fields (``1.name``, ``1.date_modified``), so the bundle is the record.
    A body without ``record`` is taken as the record itself.
    """
    record = request_bundle.get("record")
    return [from_onecrm(record if isinstance(record, Mapping) else request_bundle)]


def new_event(call: ModuleCall) -> Iterator[Bundle]:
    """Run with a request bundle ("run once" with a sample): the record it carries."""
    yield from webhook_bundles(call.input.model_dump())


def attach_webhook(
    connection: Mapping[str, Any], session: Any, url: str, parameters: Mapping[str, Any]
) -> str:
    """Subscribe ``url`` to the trigger's model and event in 1CRM; returns the 1CRM hook id.

    For the service to call when a scenario with ``onecrm:NewEvent`` is activated.
    """
    settings = NewEventParameters.model_validate(parameters)
    model = model_name(settings.model)
    if model is None:
        raise InvalidConfigurationError("choose the 1CRM module (Account, Invoice …) to watch")
    api = ApiClient(onecrm_settings(connection, max_retries=0), session, time.sleep)
    body = {"url": url, "model": model, "event": settings.event}
    answer = api.request("POST", "webhooks", json=body).body or {}
    return str(answer.get("id"))


def detach_webhook(connection: Mapping[str, Any], session: Any, hook_id: str) -> None:
    """Remove a subscription made by ``attach_webhook`` (when the scenario is deactivated)."""
    api = ApiClient(onecrm_settings(connection, max_retries=0), session, time.sleep)
    api.request("DELETE", f"webhooks/{hook_id}")


# -- records ------------------------------------------------------------------------------------


def _model(call: ModuleCall) -> str:
    data: ModelInput = call.input  # type: ignore[assignment]
    parameters: OneCrmParameters = call.parameters  # type: ignore[assignment]
    model = model_name(data.model) or model_name(parameters.model)
    if model is None:
        raise InvalidConfigurationError("choose the 1CRM module (Account, Invoice …)")
    return model


def search_records(call: ModuleCall) -> Iterator[Bundle]:
    data: SearchInput = call.input  # type: ignore[assignment]
    parameters: SearchParameters = call.parameters  # type: ignore[assignment]
    params: dict[str, Any] = {f"filters[{k}]": v for k, v in data.filters.items()}
    params.update(filter_text=data.filter_text or None, order=data.order or None)
    if data.fields:
        params["fields[]"] = data.fields
    query = {k: v for k, v in params.items() if v is not None}
    limit = data.limit if data.limit is not None else parameters.limit
    found = list(limited(client_for(call).search(_model(call), query, limit), limit))
    yield from with_position(found)


def get_record(call: ModuleCall) -> Iterator[Bundle]:
    data: GetInput = call.input  # type: ignore[assignment]
    yield client_for(call).get(_model(call), data.id, data.fields or None)


def create_record(call: ModuleCall) -> Iterator[Bundle]:
    yield client_for(call).create(_model(call), _fields(call.input))


def update_record(call: ModuleCall) -> Iterator[Bundle]:
    data: UpdateInput = call.input  # type: ignore[assignment]
    if not data.id:
        raise InvalidConfigurationError("map the Record ID to update")
    client = client_for(call)
    yield client.update(_model(call), data.id, _fields(data), data.create_if_missing)


def _fields(data: BaseModel) -> dict[str, Any]:
    """The mapped record fields: no control keys, nothing left empty (Make sends only what the
    user filled in)."""
    fields = data.model_dump(exclude=set(CONTROL_FIELDS), exclude_none=True)
    return {k: v for k, v in fields.items() if v not in ("", [], {})}


# -- specs ------------------------------------------------------------------------------------


_spec = module_factory(
    "onecrm", parameters=OneCrmParameters, input_model=ModelInput, output=RecordOutput
)


ONECRM_MODULES: tuple[ModuleSpec, ...] = (
    _spec(
        "NewEvent",
        "New Event",
        ModuleKind.INSTANT_TRIGGER,
        new_event,
        parameters=NewEventParameters,
        hooks={
            "webhook_bundles": webhook_bundles,
            "attach_webhook": attach_webhook,
            "detach_webhook": detach_webhook,
        },
    ),
    _spec(
        "SearchRecords",
        "Search for Records",
        ModuleKind.SEARCH,
        search_records,
        parameters=SearchParameters,
        input_model=SearchInput,
    ),
    _spec("GetRecord", "Get a Record", ModuleKind.ACTION, get_record, input_model=GetInput),
    _spec(
        "CreateRecord", "Create a Record", ModuleKind.ACTION, create_record, input_model=CreateInput
    ),
    _spec(
        "UpdateRecord", "Update a Record", ModuleKind.ACTION, update_record, input_model=UpdateInput
    ),
)
