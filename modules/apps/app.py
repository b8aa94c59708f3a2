"""A compiled app and what its requests run with.

``CompiledApp`` is a checked definition with every template compiled (``modules.apps.build``);
``modules.apps.specs`` turns it into module specs, ``modules.apps.connection`` into a
connection kind. The helpers here give a request its scopes (``parameters``, ``connection``,
``common`` …) and its HTTP (``AppHttp``, rate-limited per connection).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from engine.errors import InvalidConfigurationError
from engine.spec import ModuleKind
from modules.apps.communication import Exchange, run_communication
from modules.apps.compile import BaseSpec, RequestSpec, WebhookSpec
from modules.apps.definition import AppDefinition, ConnectionDefinition, ModuleDefinition
from modules.apps.http import AppHttp
from modules.apps.params import ParameterSpec


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
        exchange = exchange_for(self, session, connection, dict(parameters))
        return [p.output for p in run_communication(rpc.requests, exchange)]


def exchange_for(
    app: CompiledApp,
    session: Any,
    connection: Mapping[str, Any] | None,
    parameters: dict[str, Any],
    sleep: Any = time.sleep,
    now: Any = None,
) -> Exchange:
    """What a request of ``app`` runs with outside a scenario run (a connection test, an RPC,
    a webhook's registration) or inside one (the run's ``sleep`` and clock)."""
    http = AppHttp(app.label, session, sleep, rate_key(app.name, connection))
    return Exchange(app.base, http, app_scopes(app, parameters, connection), now=now or utc_now)


def utc_now() -> datetime:
    return datetime.now(UTC)


def rate_key(app: str, connection: Mapping[str, Any] | None) -> str | None:
    """The key a connection's calls are counted under (none for a connection not stored)."""
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


def app_scopes(
    app: CompiledApp, parameters: dict[str, Any], connection: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The scopes of one call of ``app``'s requests."""
    return {
        "parameters": parameters,
        "connection": connection_scope(connection),
        "common": dict(app.definition.common),
        "data": {},
        "temp": {},
        "oauth": {"scope": list(all_scopes(app))},
    }


def all_scopes(app: CompiledApp) -> tuple[str, ...]:
    """The OAuth scopes the app's connection asks for: its own and every module's."""
    scopes: list[str] = list(app.connection.scope) if app.connection else []
    for module in app.definition.modules.values():
        scopes.extend(s for s in module.scope if s not in scopes)
    return tuple(scopes)
