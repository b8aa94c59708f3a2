"""Small blueprints the service tests run."""

from __future__ import annotations

import json
from typing import Any


def blueprint(*flow: dict[str, Any], name: str = "Test", **settings: Any) -> str:
    scenario = {
        "roundtrips": 1,
        "maxErrors": 3,
        "autoCommit": True,
        "sequential": False,
        "dlq": False,
        **settings,
    }
    return json.dumps(
        {"name": name, "flow": list(flow), "metadata": {"version": 1, "scenario": scenario}},
        indent=4,
    )


def webhook_trigger(module_id: int = 1) -> dict[str, Any]:
    return {
        "id": module_id,
        "module": "gateway:CustomWebHook",
        "version": 1,
        "parameters": {"hook": 1234, "maxResults": 1},
        "mapper": {},
    }


def set_variable(module_id: int = 2, value: str = "{{1.n}}") -> dict[str, Any]:
    return {
        "id": module_id,
        "module": "util:SetVariable2",
        "version": 1,
        "parameters": {},
        "mapper": {"name": "n", "scope": "roundtrip", "value": value},
    }


def respond(module_id: int = 3, body: str = "got {{1.n}}", status: str = "201") -> dict[str, Any]:
    return {
        "id": module_id,
        "module": "gateway:WebhookRespond",
        "version": 1,
        "parameters": {},
        "mapper": {
            "status": status,
            "body": body,
            "headers": [{"key": "X-Answer", "value": "yes"}],
        },
    }


def module(module_id: int, name: str, **mapper: Any) -> dict[str, Any]:
    return {"id": module_id, "module": name, "version": 1, "parameters": {}, "mapper": mapper}


SOMETIMES_SLOW = blueprint(
    webhook_trigger(),
    set_variable(),
    {
        **module(3, "util:FunctionSleep", duration="{{1.pause}}"),
        "filter": {"name": "only when asked", "conditions": [[{"a": "{{1.pause}}", "o": "exist"}]]},
    },
    name="Hook to variable, sometimes slow",
)
"""Runs that pause when the request says ``"pause": seconds``: a kill can land mid-run."""

HOOK_TO_VARIABLE = blueprint(webhook_trigger(), set_variable(), name="Hook to variable")
HOOK_WITH_RESPONSE = blueprint(webhook_trigger(), set_variable(), respond(), name="Responder")

SLOW_RESPONDER = blueprint(
    webhook_trigger(),
    module(2, "util:FunctionSleep", duration="{{ifempty(1.pause; 0)}}"),
    respond(3),
    name="Responder, sometimes slow",
)
"""Each caller waits for the run's own answer (201 ``got N``); a request saying ``"pause"``
keeps its caller waiting that long: a kill can land while callers wait."""
