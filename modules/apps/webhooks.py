"""Instant triggers of apps defined as data: webhook requests into bundles, and registering the
webhook's address in the app (Make's webhook ``attach`` / ``detach``).

A webhook request arrives as the ingress's bundle (query fields, then the body's); its IML sees
it as ``body`` (Switchboard's ``__IMT…`` keys taken out) and ``headers`` (when the webhook keeps
them). The webhook's ``condition`` drops requests, ``iterate`` splits one into several items,
``output`` shapes each (default: the item, or the body).

``attach`` runs when a scenario with the trigger is activated, with ``webhook.url`` the address
to register; its ``response.data`` (Make's: the app's hook id …) is kept and given back to
``detach`` as ``webhook`` when the scenario is deactivated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.errors import InvalidConfigurationError
from engine.mapping.values import to_bool
from modules.apps.communication import Exchange, run_communication
from modules.apps.compile import RequestSpec, WebhookSpec

_META = "__IMT"


def request_scopes(request_bundle: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` and ``headers`` of a webhook request bundle."""
    body = {k: v for k, v in request_bundle.items() if not str(k).startswith(_META)}
    headers = {
        str(h.get("name", "")).lower(): h.get("value")
        for h in request_bundle.get("__IMTHEADERS__") or []
        if isinstance(h, Mapping)
    }
    return {"body": body, "headers": headers}


def webhook_outputs(
    spec: WebhookSpec, scopes: Mapping[str, Any], value: Callable[[Any, Mapping[str, Any]], Any]
) -> list[Any]:
    """The outputs one webhook request makes (see the module docstring)."""
    if spec.condition is not None and not to_bool(value(spec.condition, scopes)):
        return []
    if spec.iterate is None:
        output = value(spec.output, scopes) if spec.output else scopes.get("body")
        return [output]
    container = value(spec.iterate, scopes)
    items = container if isinstance(container, list) else [] if container is None else [container]
    outputs = []
    for item in items:
        here = {**scopes, "item": item}
        if spec.iterate_condition is not None and not to_bool(value(spec.iterate_condition, here)):
            continue
        outputs.append(value(spec.output, here) if spec.output else item)
    return outputs


def attach(request: tuple[RequestSpec, ...], exchange: Exchange, url: str) -> dict[str, Any]:
    """Register ``url`` in the app; what to keep for ``detach`` (the response's ``data``).

    Raises:
        ModuleError: the app refused.
    """
    exchange.scopes["webhook"] = {"url": url, "id": url.rsplit("/", 1)[-1]}
    data: dict[str, Any] = {}
    for spec in request:
        produced = run_communication((spec,), exchange)
        if spec.response.data is not None and produced:
            scopes = produced[-1].scopes
            data.update(exchange.value(spec.response.data, scopes) or {})
    return data or {"url": url}


def detach(request: tuple[RequestSpec, ...], exchange: Exchange, kept: Any) -> None:
    """Remove the registration ``attach`` made (``kept`` is what it returned)."""
    if not isinstance(kept, Mapping):
        raise InvalidConfigurationError("this webhook's registration cannot be read to remove it")
    exchange.scopes["webhook"] = dict(kept)
    run_communication(request, exchange)
