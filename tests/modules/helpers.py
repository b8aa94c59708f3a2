"""Calling one module's run function directly, as the runner would."""

from __future__ import annotations

from datetime import UTC, datetime

import requests

from engine.runtime import ModuleContext, RunContext, RunVariables, Transaction
from engine.spec import ModuleCall


def call_module(spec, mapped=None, parameters=None, *, run_context=None, cursor=None):
    """Validate ``mapped``/``parameters`` with the spec's models and run it; a list of bundles."""
    run = run_context or RunContext(clock=lambda: datetime(2026, 1, 2, tzinfo=UTC))
    context = ModuleContext(
        run=run, variables=RunVariables(), transaction=Transaction(), module_id=7, cursor=cursor
    )
    call = ModuleCall(
        module_id=7,
        parameters=spec.parameters.model_validate(parameters or {}),
        input=spec.input.model_validate(mapped or {}),
        context=context,
    )
    return list(spec.run(call))


def http_context(**extra):
    return RunContext(
        clock=lambda: datetime(2026, 1, 2, tzinfo=UTC), http=requests.Session(), **extra
    )
