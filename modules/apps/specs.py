"""A compiled app's modules as ``ModuleSpec``s: Make-compatible ids (``slack:CreateMessage``),
models generated from their parameter specs, and a ``run`` that plays the communication —
actions and searches once per input bundle, polling triggers with their cursor
(``modules.apps.triggers``), instant triggers from their webhook (``modules.apps.webhooks``,
with the ``webhook_bundles``/``attach_webhook``/``detach_webhook`` hooks the service calls).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from engine.errors import DataError, InvalidConfigurationError
from engine.spec import Bundle, Effect, ModuleCall, ModuleKind, ModuleSpec
from modules.apps.app import CompiledApp, CompiledModule, app_scopes, exchange_for, utc_now
from modules.apps.build import HOOK_PARAMETER
from modules.apps.communication import Exchange, limit_of, run_communication
from modules.apps.definition import ActionCrud
from modules.apps.http import AppHttp
from modules.apps.iml import evaluate
from modules.apps.params import ParameterSpec, dump, parameter_model
from modules.apps.triggers import poll
from modules.apps.webhooks import attach, detach, request_scopes, webhook_outputs
from modules.connections import with_position


def module_specs(app: CompiledApp) -> list[ModuleSpec]:
    """Every module of ``app``, ready for the registry."""
    return [_module_spec(app, module) for module in app.modules.values()]


def _module_spec(app: CompiledApp, module: CompiledModule) -> ModuleSpec:
    prefix = f"{_model_name(app.name)}{module.name[:1].upper()}{module.name[1:]}"
    output = parameter_model(f"{prefix}Output", module.interface) if module.interface else None
    hooks: dict[str, Any] = {}
    if module.kind is ModuleKind.INSTANT_TRIGGER:
        hooks = _webhook_hooks(app, module)
    if app.rpcs:
        hooks["rpc"] = app.call_rpc  # a select's choices (the editor, engine/service/rpcs.py)
    return ModuleSpec(
        id=f"{app.name}:{module.name}",
        kind=module.kind,
        label=module.definition.label,
        version=module.definition.version,
        description=module.definition.description,
        run=_runner(app, module),
        parameters=parameter_model(f"{prefix}Parameters", _optional_connection(module)),
        input=parameter_model(f"{prefix}Input", module.expect),
        output=output,
        hooks=hooks,
        ignored_keys=dict(module.definition.ignored),
        effect=_effect(module),
    )


_KIND_EFFECTS = {
    ModuleKind.TRIGGER: Effect.WATCH,
    ModuleKind.INSTANT_TRIGGER: Effect.WATCH,
    ModuleKind.SEARCH: Effect.SEARCH,
}
_CRUD_EFFECTS = {
    ActionCrud.CREATE: Effect.CREATE,
    ActionCrud.READ: Effect.READ,
    ActionCrud.UPDATE: Effect.UPDATE,
    ActionCrud.DELETE: Effect.DELETE,
}


def _effect(module: CompiledModule) -> Effect | None:
    """Triggers watch, searches search, an action does what its ``crud`` says (else it is a
    call whose effect Switchboard does not know); a responder is control by its kind."""
    if module.kind in _KIND_EFFECTS:
        return _KIND_EFFECTS[module.kind]
    if module.kind is not ModuleKind.ACTION:
        return None
    crud = module.definition.crud
    return _CRUD_EFFECTS[crud] if crud is not None else Effect.CALL


def _optional_connection(module: CompiledModule) -> list[ParameterSpec]:
    """A missing connection is reported when the module runs ("choose a connection"), as for
    every module, not as a bad parameter."""
    return [
        replace(p, required=False) if p.name in (module.connection_parameter, HOOK_PARAMETER) else p
        for p in module.parameters
    ]


def _model_name(app: str) -> str:
    return "".join(part.capitalize() for part in app.replace("#", "-").split("-"))


def _runner(app: CompiledApp, module: CompiledModule) -> Any:
    def run(call: ModuleCall) -> Iterator[Bundle]:
        if module.kind is ModuleKind.INSTANT_TRIGGER:
            request = dump(call.input)
            yield from _bundles(_webhook_bundles(app, module, request, dump(call.parameters)))
            return
        exchange = _module_exchange(app, module, call)
        if module.kind is ModuleKind.TRIGGER:
            yield from _bundles(_poll(module, exchange, call))
            return
        outputs = [p.output for p in run_communication(module.requests, exchange)]
        bundles = list(_bundles(outputs))
        yield from with_position(bundles) if module.kind is ModuleKind.SEARCH else bundles

    return run


def _module_exchange(app: CompiledApp, module: CompiledModule, call: ModuleCall) -> Exchange:
    parameters = {**dump(call.parameters), **dump(call.input)}
    connection = _connection(module, call, parameters)
    context = call.context
    return exchange_for(app, context.http, connection, parameters, context.run.sleep, context.now)


def _connection(
    module: CompiledModule, call: ModuleCall, parameters: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    if module.connection_parameter is None:
        return None
    connection_id = parameters.get(module.connection_parameter)
    if connection_id in (None, ""):
        raise InvalidConfigurationError("choose a connection for this module")
    return call.context.connection(connection_id)


def _poll(module: CompiledModule, exchange: Exchange, call: ModuleCall) -> list[Any]:
    last = module.requests[-1]
    trigger = last.response.trigger
    assert trigger is not None  # compile_app checked it
    limit = limit_of(exchange.value(last.response.limit, exchange.scopes))
    exchange.ignore_limit = True
    outputs, cursor = poll(
        module.requests, trigger, exchange, call.context.cursor, call.context.start, limit
    )
    if cursor is not None:
        call.context.advance_cursor(cursor)
    return outputs


def _bundles(outputs: list[Any]) -> Iterator[dict[str, Any]]:
    for output in outputs:
        if output is None:
            continue
        if isinstance(output, list):
            yield from _bundles(output)
        elif isinstance(output, Mapping):
            yield dict(output)
        else:
            raise DataError(f"the module's output is not a collection: {str(output)[:100]}")


# -- instant triggers -------------------------------------------------------------------------


def _webhook_bundles(
    app: CompiledApp,
    module: CompiledModule,
    request: Mapping[str, Any],
    parameters: Mapping[str, Any],
) -> list[Any]:
    webhook = app.webhooks[str(module.webhook)]
    scopes = {**app_scopes(app, dict(parameters), None), **request_scopes(request)}

    def value(compiled: Any, here: Mapping[str, Any]) -> Any:
        return evaluate(compiled, here)

    outputs = webhook_outputs(webhook.spec, scopes, value)
    if not module.requests:
        return outputs
    shaped: list[Any] = []
    for output in outputs:
        http = AppHttp(app.label, None, time.sleep)  # reshaping only: no request to send
        exchange = Exchange(app.base, http, {**scopes, "body": output}, now=utc_now)
        shaped.extend(p.output for p in run_communication(module.requests, exchange))
    return shaped


def _webhook_hooks(app: CompiledApp, module: CompiledModule) -> dict[str, Any]:
    webhook = app.webhooks[str(module.webhook)]

    def webhook_bundles(
        request_bundle: Mapping[str, Any], parameters: Mapping[str, Any] | None = None
    ) -> list[Any]:
        return list(_bundles(_webhook_bundles(app, module, request_bundle, parameters or {})))

    hooks: dict[str, Any] = {"webhook_bundles": webhook_bundles}
    if webhook.attach:

        def attach_webhook(
            connection: Mapping[str, Any], session: Any, url: str, parameters: Mapping[str, Any]
        ) -> Any:
            return attach(
                webhook.attach, exchange_for(app, session, connection, dict(parameters)), url
            )

        hooks["attach_webhook"] = attach_webhook
    if webhook.detach:

        def detach_webhook(connection: Mapping[str, Any], session: Any, kept: Any) -> None:
            detach(webhook.detach, exchange_for(app, session, connection, {}), kept)

        hooks["detach_webhook"] = detach_webhook
    return hooks
