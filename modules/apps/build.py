"""Compiling an app definition: every part checked, every template compiled, once.

``compile_app`` returns a ``CompiledApp`` (``modules.apps.app``) or raises an
``AppDefinitionError`` naming the file, the JSON path and the reason of the first problem:
an unsupported module type, an instant trigger without its webhook, a polling trigger whose
last request has no ``response.trigger``, an OAuth 2 connection without its endpoints, a
template that does not compile, a directive Make does not have.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.spec import ModuleKind
from modules.apps.app import CompiledApp, CompiledModule, CompiledRpc, CompiledWebhook
from modules.apps.compile import (
    RequestSpec,
    Where,
    compile_base,
    compile_communication,
    compile_webhook,
)
from modules.apps.definition import (
    AppDefinition,
    ConnectionDefinition,
    ConnectionType,
    ModuleDefinition,
    ModuleType,
)
from modules.apps.params import CONNECTION_TYPE, ParameterSpec
from modules.apps.params import read_specs as _read_specs

CONNECTION_PARAMETER = "__IMTCONN__"
HOOK_PARAMETER = "__IMTHOOK__"

_KINDS = {
    ModuleType.ACTION: ModuleKind.ACTION,
    ModuleType.UNIVERSAL: ModuleKind.ACTION,
    ModuleType.SEARCH: ModuleKind.SEARCH,
    ModuleType.TRIGGER: ModuleKind.TRIGGER,
    ModuleType.INSTANT_TRIGGER: ModuleKind.INSTANT_TRIGGER,
}


def compile_app(definition: AppDefinition, source: str | Path) -> CompiledApp:
    """Check and compile ``definition`` (read from ``source``).

    Raises:
        AppDefinitionError: the first problem, with the file, JSON path and reason.
    """
    root = Where(str(source), "")
    connection_name = definition.connection_name
    connection = definition.connections.get(connection_name) if connection_name else None
    webhooks = {
        name: _compile_webhook(name, hook.model_dump(), root / "webhooks" / name)
        for name, hook in definition.webhooks.items()
    }
    modules = {
        name: _compile_module(name, module, root / "modules" / name, definition, webhooks)
        for name, module in definition.modules.items()
    }
    rpcs = {
        name: CompiledRpc(
            name, compile_communication(rpc.communication, root / "rpcs" / name / "communication")
        )
        for name, rpc in definition.rpcs.items()
    }
    test: tuple[RequestSpec, ...] = ()
    if connection is not None:
        test = _connection_test(connection, root / "connections" / str(connection_name))
    return CompiledApp(
        definition=definition,
        source=str(source),
        base=compile_base(definition.base, root / "base"),
        connection=connection,
        connection_test=test,
        modules=modules,
        webhooks=webhooks,
        rpcs=rpcs,
    )


def _compile_module(
    name: str,
    module: ModuleDefinition,
    where: Where,
    definition: AppDefinition,
    webhooks: Mapping[str, CompiledWebhook],
) -> CompiledModule:
    kind = _KINDS.get(module.type)
    if kind is None:
        raise (where / "type").error(f"{module.type.value} modules are not supported")
    parameters = _specs(module.parameters, where / "parameters")
    connection_parameter = _connection_parameter(module, parameters, definition)
    if connection_parameter is not None and not any(
        p.name == connection_parameter for p in parameters
    ):
        parameters = [_implicit(connection_parameter, "Connection", "account"), *parameters]
    if kind is ModuleKind.INSTANT_TRIGGER:
        if not module.webhook or module.webhook not in webhooks:
            raise (where / "webhook").error("an instant trigger names one of the app's webhooks")
        if not any(p.name == HOOK_PARAMETER for p in parameters):
            parameters = [_implicit(HOOK_PARAMETER, "Webhook", "hook"), *parameters]
        # Make asks for the webhook's own parameters when the webhook is made; here they are
        # the trigger's, which attach reads as parameters.
        hook = definition.webhooks[module.webhook]
        known = {p.name for p in parameters}
        extra = _specs(
            hook.parameters, where.__class__(where.source, f"webhooks.{module.webhook}.parameters")
        )
        parameters += [p for p in extra if p.name not in known]
    requests = compile_communication(module.communication, where / "communication")
    if kind is ModuleKind.TRIGGER and (not requests or requests[-1].response.trigger is None):
        raise (where / "communication").error(
            "a polling trigger's last request needs response.trigger (type, order, id)"
        )
    return CompiledModule(
        name=name,
        definition=module,
        kind=kind,
        requests=requests,
        parameters=tuple(parameters),
        expect=tuple(_specs(module.expect, where / "expect")),
        interface=tuple(_specs(module.interface, where / "interface")),
        connection_parameter=connection_parameter,
        webhook=module.webhook,
    )


def _specs(specs: Any, where: Where) -> list[ParameterSpec]:
    try:
        return _read_specs(specs, "")
    except ValueError as error:
        path, _, reason = str(error).partition(": ")
        raise Where(where.source, where.path + path).error(reason) from None


def _implicit(name: str, label: str, kind: str) -> ParameterSpec:
    return ParameterSpec(name, kind, label, "", False, None, (), False, {"name": name})


def _connection_parameter(
    module: ModuleDefinition, parameters: list[ParameterSpec], definition: AppDefinition
) -> str | None:
    for spec in parameters:
        if CONNECTION_TYPE.match(spec.type):
            return spec.name
    if module.connection in (None, False) or not definition.connections:
        return None
    return CONNECTION_PARAMETER


def _compile_webhook(name: str, hook: Mapping[str, Any], where: Where) -> CompiledWebhook:
    return CompiledWebhook(
        name=name,
        spec=compile_webhook(hook.get("communication") or {}, where / "communication"),
        attach=compile_communication(hook.get("attach") or {}, where / "attach"),
        detach=compile_communication(hook.get("detach") or {}, where / "detach"),
    )


def _connection_test(connection: ConnectionDefinition, where: Where) -> tuple[RequestSpec, ...]:
    communication = connection.communication
    if connection.type is ConnectionType.OAUTH:
        unknown = set(communication) - {
            "preauthorize",
            "authorize",
            "token",
            "info",
            "refresh",
            "invalidate",
        }
        if unknown:
            raise (where / "communication" / sorted(unknown)[0]).error(
                "is not an OAuth 2 step (authorize, token, info, refresh, invalidate)"
            )
        for step in ("authorize", "token"):
            if not isinstance(communication.get(step), Mapping) or "url" not in communication[step]:
                raise (where / "communication" / step).error(
                    f"an OAuth 2 connection needs {step}.url"
                )
        info = communication.get("info")
        return compile_communication(info, where / "communication" / "info") if info else ()
    return compile_communication(communication, where / "communication")
