"""An app definition → the module specs and the connection kind the registry holds.

``compile_app`` checks and compiles a whole definition once (every problem an
``AppDefinitionError`` naming the file, JSON path and field); ``CompiledApp.module_specs()`` and
``CompiledApp.connection_kind()`` are what ``modules.apps.register_apps`` registers. Modules of
an app defined as data are modules like any other: Make-compatible ids (``slack:CreateMessage``),
models generated from their parameter specs, a ``run`` that plays the communication.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from engine.errors import DataError, InvalidConfigurationError
from engine.spec import (
    AuthType,
    Bundle,
    ConnectionField,
    ConnectionKind,
    ModuleCall,
    ModuleKind,
    ModuleSpec,
    OAuth2Settings,
)
from modules.apps.communication import Exchange, Produced, limit_of, run_communication
from modules.apps.compile import (
    BaseSpec,
    RequestSpec,
    WebhookSpec,
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
from modules.apps.http import AppHttp
from modules.apps.iml import evaluate
from modules.apps.params import CONNECTION_TYPE, ParameterSpec, dump, parameter_model
from modules.apps.params import read_specs as _read_specs
from modules.apps.triggers import poll
from modules.apps.webhooks import attach, detach, request_scopes, webhook_outputs
from modules.connections import oauth2_client_fields, oauth2_endpoint_fields, with_position

CONNECTION_PARAMETER = "__IMTCONN__"
HOOK_PARAMETER = "__IMTHOOK__"

_KINDS = {
    ModuleType.ACTION: ModuleKind.ACTION,
    ModuleType.UNIVERSAL: ModuleKind.ACTION,
    ModuleType.SEARCH: ModuleKind.SEARCH,
    ModuleType.TRIGGER: ModuleKind.TRIGGER,
    ModuleType.INSTANT_TRIGGER: ModuleKind.INSTANT_TRIGGER,
}


@dataclass(frozen=True)
class CompiledModule:
    name: str
    definition: ModuleDefinition
    kind: ModuleKind
    requests: tuple[RequestSpec, ...]
    parameters: tuple[ParameterSpec, ...]
    expect: tuple[ParameterSpec, ...]
    interface: tuple[ParameterSpec, ...]
    connection_parameter: str | None
    webhook: str | None


@dataclass(frozen=True)
class CompiledWebhook:
    name: str
    spec: WebhookSpec
    attach: tuple[RequestSpec, ...]
    detach: tuple[RequestSpec, ...]


@dataclass(frozen=True)
class CompiledRpc:
    name: str
    requests: tuple[RequestSpec, ...]


@dataclass(frozen=True)
class CompiledApp:
    """A checked definition, every template compiled; see the module docstring."""

    definition: AppDefinition
    source: str
    base: BaseSpec
    connection: ConnectionDefinition | None
    connection_test: tuple[RequestSpec, ...]
    modules: Mapping[str, CompiledModule]
    webhooks: Mapping[str, CompiledWebhook]
    rpcs: Mapping[str, CompiledRpc] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def label(self) -> str:
        return self.definition.label

    def module_specs(self) -> list[ModuleSpec]:
        return [_module_spec(self, module) for module in self.modules.values()]

    def connection_kind(self) -> ConnectionKind | None:
        return _connection_kind(self) if self.connection is not None else None

    def call_rpc(
        self, name: str, connection: Mapping[str, Any], session: Any, parameters: Mapping[str, Any]
    ) -> list[Any]:
        """The items an RPC returns (``[{"label", "value"}, …]`` for a field's choices).

        Raises:
            InvalidConfigurationError: no such RPC. ModuleError: the app refused.
        """
        rpc = self.rpcs.get(name)
        if rpc is None:
            raise InvalidConfigurationError(f"the {self.label} app has no RPC '{name}'")
        exchange = self._exchange(session, connection, dict(parameters))
        return [p.output for p in run_communication(rpc.requests, exchange)]

    def _exchange(
        self, session: Any, connection: Mapping[str, Any] | None, parameters: dict[str, Any]
    ) -> Exchange:
        http = AppHttp(self.label, session, time.sleep, _rate_key(self.name, connection))
        scopes = _scopes(self, parameters, connection)
        return Exchange(self.base, http, scopes, now=_now)


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


# -- running ----------------------------------------------------------------------------------


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _rate_key(app: str, connection: Mapping[str, Any] | None) -> str | None:
    identifier = getattr(connection, "id", None) if connection is not None else None
    return f"{app}:{identifier}" if identifier else None


def connection_scope(connection: Mapping[str, Any] | None) -> dict[str, Any]:
    """What ``{{connection.…}}`` reads: the connection's fields, secrets over public data, and
    ``accessToken`` for OAuth 2 (Make's name for it)."""
    if connection is None:
        return {}
    scope = dict(connection)
    token = getattr(connection, "access_token", None) or scope.get("access_token")
    if token:
        scope.setdefault("accessToken", token)
    return scope


def _scopes(
    app: CompiledApp, parameters: dict[str, Any], connection: Mapping[str, Any] | None
) -> dict[str, Any]:
    return {
        "parameters": parameters,
        "connection": connection_scope(connection),
        "common": dict(app.definition.common),
        "data": {},
        "temp": {},
        "oauth": {"scope": list(_all_scopes(app))},
    }


def _module_spec(app: CompiledApp, module: CompiledModule) -> ModuleSpec:
    prefix = f"{_model_name(app.name)}{module.name[:1].upper()}{module.name[1:]}"
    output = parameter_model(f"{prefix}Output", module.interface) if module.interface else None
    hooks: dict[str, Any] = {}
    if module.kind is ModuleKind.INSTANT_TRIGGER:
        hooks = _webhook_hooks(app, module)
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
    )


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
    http = AppHttp(app.label, context.http, context.run.sleep, _rate_key(app.name, connection))
    return Exchange(app.base, http, _scopes(app, parameters, connection), now=context.now)


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
    scopes = {**_scopes(app, dict(parameters), None), **request_scopes(request)}

    def value(compiled: Any, here: Mapping[str, Any]) -> Any:
        return evaluate(compiled, here)

    outputs = webhook_outputs(webhook.spec, scopes, value)
    if not module.requests:
        return outputs
    shaped = []
    for output in outputs:
        exchange = Exchange(
            app.base, AppHttp(app.label, None, time.sleep), {**scopes, "body": output}, now=_now
        )
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
            return attach(webhook.attach, app._exchange(session, connection, dict(parameters)), url)

        hooks["attach_webhook"] = attach_webhook
    if webhook.detach:

        def detach_webhook(connection: Mapping[str, Any], session: Any, kept: Any) -> None:
            detach(webhook.detach, app._exchange(session, connection, {}), kept)

        hooks["detach_webhook"] = detach_webhook
    return hooks


# -- connections ------------------------------------------------------------------------------


def _all_scopes(app: CompiledApp) -> tuple[str, ...]:
    scopes: list[str] = list(app.connection.scope) if app.connection else []
    for module in app.definition.modules.values():
        scopes.extend(s for s in module.scope if s not in scopes)
    return tuple(scopes)


def _connection_kind(app: CompiledApp) -> ConnectionKind:
    connection = app.connection
    assert connection is not None
    fields = tuple(_connection_field(spec) for spec in _read_specs(connection.parameters, ""))
    if connection.type is ConnectionType.OAUTH:
        oauth = _oauth_settings(app, connection)
        known = {f.name for f in fields}
        extra = oauth2_client_fields(app.label) + oauth2_endpoint_fields(
            oauth.authorize_url, oauth.token_url
        )
        fields = tuple(f for f in extra if f.name not in known) + fields
        auth = AuthType.OAUTH2
    else:
        oauth = None
        auth = (
            AuthType.API_KEY
            if connection.type is not ConnectionType.BASIC
            or not any(f.name in ("username", "user") for f in fields)
            else AuthType.BASIC
        )
    return ConnectionKind(
        id=app.name,
        label=connection.label or app.label,
        auth=auth,
        fields=fields,
        oauth2=oauth,
        test=_connection_tester(app) if app.connection_test else None,
    )


def _connection_field(spec: ParameterSpec) -> ConnectionField:
    return ConnectionField(
        name=spec.name,
        label=spec.label,
        secret=spec.type == "password",
        required=spec.required,
        default=spec.default,
        advanced=bool(spec.raw.get("advanced")),
        help=spec.help,
    )


def _oauth_settings(app: CompiledApp, connection: ConnectionDefinition) -> OAuth2Settings:
    communication = connection.communication
    authorize, token = communication["authorize"], communication["token"]
    common = {**dict(app.definition.common), **dict(connection.common)}
    scopes = {"common": common, "oauth": {"scope": list(_all_scopes(app))}}
    where = Where(app.source, "connections")
    authorize_url = evaluate((where / "authorize.url").compile(authorize["url"]), scopes)
    token_url = evaluate((where / "token.url").compile(token["url"]), scopes)
    standard = {"client_id", "redirect_uri", "scope", "state", "response_type"}
    extra = {
        str(k): str(v)
        for k, v in (authorize.get("qs") or {}).items()
        if k not in standard and isinstance(v, str | int | bool) and "{{" not in str(v)
    }
    body = token.get("body") or {}
    form = isinstance(body, Mapping) and "client_secret" in body
    return OAuth2Settings(
        authorize_url=str(authorize_url),
        token_url=str(token_url),
        scopes=_all_scopes(app),
        rotates_refresh_token=False,
        extra_authorize_params=extra,
        client_auth="form" if form else "basic",
    )


def _connection_tester(app: CompiledApp) -> Any:
    def test(connection: Mapping[str, Any], session: Any) -> Mapping[str, Any]:
        values = connection_scope(connection)
        exchange = app._exchange(session, connection, values)
        produced: list[Produced] = run_communication(app.connection_test, exchange)
        facts: dict[str, Any] = {}
        for spec in app.connection_test:
            if spec.response.metadata is not None and produced:
                metadata = exchange.value(spec.response.metadata, produced[-1].scopes) or {}
                if isinstance(metadata, Mapping) and metadata.get("value") not in (None, ""):
                    facts["account"] = metadata["value"]
        return facts

    return test
