"""Zoho CRM instant notifications: ``/crm/v8/actions/watch`` channels and their callbacks.

A channel (``channel_id``, ``events`` like ``Accounts.create`` / ``Accounts.edit`` /
``Accounts.delete`` / ``Accounts.all``, ``notify_url``, ``token`` of at most 50 characters,
``channel_expiry`` at most a week ahead, one hour when not given — vendor/zoho/NOTES.md §7)
receives, for every API request that changes matching records, one POST::

    {"server_time", "query_params", "module", "resource_uri", "ids", "affected_fields",
     "operation": "insert" | "update" | "delete", "channel_id", "token"}

``query_params`` are the ``notify_url``'s own query parameters, as Zoho sends them. The
``token`` is the only proof a callback came from Zoho: there is no signature.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import flask

from modules.sandboxing import json_response, new_delivery

from .records import MODULES, RecordError
from .store import Change

if TYPE_CHECKING:
    from .state import ZohoSandboxState

OPERATIONS = {"create": "insert", "edit": "update", "delete": "delete"}
MAX_TOKEN = 50
API_PATH = "/crm/v8"


def _state() -> ZohoSandboxState:
    return flask.current_app.extensions["sandbox_state"]


def _parse_events(events: Any) -> list[tuple[str, str]]:
    if not isinstance(events, list) or not events:
        raise RecordError("MANDATORY_NOT_FOUND", "required field not found", api_name="events")
    parsed = []
    for event in events:
        module, _, action = str(event).partition(".")
        if module not in MODULES or action not in (*OPERATIONS, "all"):
            raise RecordError("INVALID_DATA", "invalid data", api_name="events")
        parsed.append((module, action))
    return parsed


def _channel(state: ZohoSandboxState, item: dict[str, Any], base: str) -> dict[str, Any]:
    for name in ("channel_id", "notify_url"):
        if not item.get(name):
            raise RecordError("MANDATORY_NOT_FOUND", "required field not found", api_name=name)
    events = _parse_events(item.get("events"))
    if item.get("token") is not None and len(str(item["token"])) > MAX_TOKEN:
        raise RecordError(
            "INVALID_DATA", "invalid data", api_name="token", maximum_length=MAX_TOKEN
        )
    now = state.now()
    expiry = now + timedelta(hours=1)
    if item.get("channel_expiry"):
        try:
            expiry = datetime.fromisoformat(str(item["channel_expiry"]))
        except ValueError as exc:
            raise RecordError("INVALID_DATA", "invalid data", api_name="channel_expiry") from exc
        limit = now + timedelta(seconds=float(state.config["max_channel_expiry_seconds"]))
        if expiry.tzinfo is None or expiry > limit or expiry <= now:
            raise RecordError("INVALID_DATA", "invalid data", api_name="channel_expiry")
    return {
        "channel_id": str(item["channel_id"]),
        "notify_url": str(item["notify_url"]),
        "token": item.get("token"),
        "events": [f"{m}.{a}" for m, a in events],
        "channel_expiry": expiry.isoformat(timespec="seconds"),
        "resource_names": sorted({m for m, _ in events}),
        "api_domain": base,
    }


def enable() -> tuple[flask.Response, int]:
    """``POST /actions/watch``: subscribe each ``watch`` item; answer per item."""
    state = _state()
    body = flask.request.get_json(silent=True) or {}
    base = flask.request.host_url.rstrip("/")
    results, status = [], 200
    for item in body.get("watch") or []:
        try:
            with state.lock:
                channel = _channel(state, item, base)
                state.channels[channel["channel_id"]] = channel
        except RecordError as error:
            results.append(error.body())
            status = 400
            continue
        results.append(
            {
                "code": "SUCCESS",
                "status": "success",
                "message": "Successfully subscribed for actions-watch of the given module",
                "details": {"events": [_resource(channel, m) for m in channel["resource_names"]]},
            }
        )
    if not results:
        return json_response(
            {
                "code": "MANDATORY_NOT_FOUND",
                "details": {"api_name": "watch"},
                "message": "required field not found",
                "status": "error",
            }
        ), 400
    return json_response({"watch": results}), status


def _resource(channel: dict[str, Any], module: str) -> dict[str, Any]:
    return {
        "channel_expiry": channel["channel_expiry"],
        "resource_name": module,
        "resource_uri": f"{channel['api_domain']}{API_PATH}/{module}",
        "resource_id": "5843104000000002175",
        "channel_id": channel["channel_id"],
    }


def details() -> flask.Response:
    """``GET /actions/watch``: the active channels (204 when none)."""
    state = _state()
    with state.lock:
        channels = [
            {k: v for k, v in c.items() if k not in ("resource_names", "api_domain")}
            for c in state.channels.values()
        ]
    if not channels:
        return flask.Response(status=204)
    return json_response({"watch": channels})


def disable() -> flask.Response:
    """``DELETE /actions/watch?channel_ids=1,2``."""
    state = _state()
    ids = [i for i in flask.request.args.get("channel_ids", "").split(",") if i]
    results = []
    with state.lock:
        for channel_id in ids:
            if state.channels.pop(channel_id, None) is None:
                results.append(
                    RecordError("INVALID_DATA", "invalid data", api_name="channel_id").body()
                )
            else:
                results.append(
                    {
                        "code": "SUCCESS",
                        "details": {"channel_id": channel_id},
                        "message": "Successfully unsubscribed from actions-watch",
                        "status": "success",
                    }
                )
    return json_response({"watch": results})


def notify(state: ZohoSandboxState, changes: list[Change]) -> None:
    """Queue one callback per (channel, module, operation) for a request's changes (lock
    held)."""
    now = state.now()
    for channel in list(state.channels.values()):
        if datetime.fromisoformat(channel["channel_expiry"]) <= now:
            continue
        for (module, operation), ids, fields in _grouped(changes, channel):
            url = channel["notify_url"]
            body = {
                "server_time": int(now.timestamp() * 1000),
                "query_params": dict(parse_qsl(urlsplit(url).query)),
                "module": module,
                "resource_uri": f"{channel['api_domain']}{API_PATH}/{module}",
                "ids": ids,
                "affected_fields": fields,
                "operation": operation,
                "channel_id": int(channel["channel_id"])
                if channel["channel_id"].isdigit()
                else channel["channel_id"],
                "token": channel["token"],
            }
            raw = json.dumps(body).encode()
            delivery = new_delivery(url, body, {"Content-Type": "application/json"}, operation)
            state.webhooks.enqueue(delivery, raw)


def _grouped(
    changes: list[Change], channel: dict[str, Any]
) -> list[tuple[tuple[str, str], list[str], list[Any]]]:
    wanted: set[tuple[str, str]] = set()
    for event in channel["events"]:
        module, _, action = event.partition(".")
        operations = OPERATIONS.values() if action == "all" else [OPERATIONS[action]]
        wanted.update((module, op) for op in operations)
    groups: dict[tuple[str, str], tuple[list[str], list[Any]]] = {}
    for change in changes:
        key = (change.module, change.operation)
        if key in wanted:
            ids, fields = groups.setdefault(key, ([], []))
            ids.append(change.id)
            if change.operation == "update":
                fields.append({change.id: sorted(change.fields)})
    return [(key, ids, fields) for key, (ids, fields) in groups.items()]


def register(app: flask.Flask, prefix: str) -> None:
    """Install the watch routes under ``prefix`` (``/crm/v8``)."""
    url = f"{prefix}/actions/watch"
    app.add_url_rule(url, "zoho_watch_enable", enable, methods=["POST"])
    app.add_url_rule(url, "zoho_watch_details", details, methods=["GET"])
    app.add_url_rule(url, "zoho_watch_disable", disable, methods=["DELETE"])
