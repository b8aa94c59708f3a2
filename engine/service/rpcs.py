"""Dynamic options: the choices of a select that a module's app fills by a request (Make's
RPCs, ``"options": "rpc://name"`` in an app defined as data), for the editor.

A module offers them through its spec's ``rpc`` hook, ``rpc(name, connection, session,
parameters) -> items``; the service resolves the stored connection (refreshing an OAuth 2.0
token as a run would) and hands the hook an HTTP session behind the SSRF guard.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from engine.errors import UnknownModuleError
from engine.registry import ModuleRegistry
from engine.service.base import HttpFactory
from engine.service.connections import ConnectionOperations
from engine.service.errors import InvalidRequest

MAX_OPTIONS = 1000
"""Choices one RPC answer keeps: a select of more is unusable, and the answer stays small."""


class RpcOperations:
    """The choices of selects that apps fill by a request, with a stored connection."""

    def __init__(
        self,
        registry: ModuleRegistry,
        http_factory: HttpFactory,
        *,
        connections: ConnectionOperations,
    ) -> None:
        self.registry = registry
        self.http_factory = http_factory
        self.connections = connections

    def module_options(
        self,
        module: str,
        rpc: str,
        *,
        connection_id: int | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """The choices RPC ``rpc`` of ``module``'s app gives: ``[{"label", "value"}]``, at most
        ``MAX_OPTIONS``.

        Raises:
            InvalidRequest: an unknown module, a module without RPCs, or no connection where
                the app needs one. NotFound: no such connection. ModuleError: the app's API
                refused or failed (the message says why).
        """
        hook = self._rpc_hook(module)
        with contextlib.closing(self.http_factory()) as session:
            connection = None
            if connection_id is not None:
                connection = self.connections.resolver(session).get(connection_id)
            elif module.partition(":")[0] in self.registry.connection_kinds:
                raise InvalidRequest(f"choose a connection to load the choices of {module}")
            items = hook(rpc, connection, session, dict(parameters or {}))
        return [_option(item) for item in list(items)[:MAX_OPTIONS]]

    def _rpc_hook(self, module: str) -> Any:
        try:
            spec = self.registry[module]
        except UnknownModuleError:
            raise InvalidRequest(f"no module {module} is installed") from None
        hook = spec.hooks.get("rpc")
        if hook is None:
            raise InvalidRequest(f"{module} has no choices to load (its app defines no RPCs)")
        return hook


def _option(item: Any) -> dict[str, Any]:
    """An RPC item as a choice: Make's ``{label, value}``; a bare value is its own label."""
    if isinstance(item, Mapping) and "value" in item:
        label = item.get("label")
        return {
            "label": str(item["value"] if label in (None, "") else label),
            "value": item["value"],
        }
    return {"label": str(item), "value": item}
