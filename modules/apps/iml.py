"""The IML of app definitions: Switchboard's mapping language in its app dialect.

Templates of a definition read named roots instead of module bundles::

    parameters   the module's static and mapped parameters (the RPC's, the webhook's)
    connection   the connection's fields; ``accessToken`` for OAuth 2
    common       the app's common data          data      the trigger's state (lastId …)
    temp         values set by ``temp``         webhook   the webhook's data (attach/detach)
    body, headers, statusCode                   the answer being handled
    item         the item being iterated        output    ``wrapper``: what ``output`` made
    iterate      ``iterate.container.first``/``last`` after iterating
    query        a webhook request's query      oauth     ``oauth.scope``, ``oauth.redirectUri``
    each         the element a request with ``each`` runs for (Switchboard's own)
    environment, scenario, metadata             accepted, empty

They are compiled once, when the definition loads (an unknown function or a syntax error names
the file and the JSON path), and evaluated with ``EvalContext.scopes``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

from engine.mapping import CompiledValue, Dialect, EvalContext, compile_mapper
from engine.mapping.functions import FUNCTIONS

ROOTS = frozenset(
    {
        "parameters",
        "connection",
        "common",
        "data",
        "temp",
        "body",
        "headers",
        "statusCode",
        "item",
        "output",
        "iterate",
        "webhook",
        "query",
        "oauth",
        "environment",
        "scenario",
        "metadata",
        "trigger",
        "request",
        "path",
        "vars",
        "each",
    }
)
"""Every root an app definition (and a sandbox definition: ``request``, ``path``, ``vars``)
may read."""

SPREAD_KEY = "{{...}}"


@cache
def app_dialect() -> Dialect:
    """The dialect of app definitions, with the helpers of ``modules.apps.functions``."""
    from modules.apps.functions import APP_FUNCTIONS

    return Dialect(
        roots=ROOTS,
        comma_arguments=True,
        functions=FUNCTIONS.extended(APP_FUNCTIONS),
        spread_key=SPREAD_KEY,
    )


def compile_value(value: Any, where: str) -> CompiledValue:
    """Compile a directive's value (a template, or any JSON with templates inside).

    Raises:
        ExpressionError: a template that does not parse or calls an unknown function; ``where``
            is its place (``app.yaml: modules.addRow.communication.url``).
    """
    if isinstance(value, str) and "{{" not in value and where.endswith(".iterate"):
        value = "{{" + value + "}}"  # Make's older docs write iterate as a bare path
    return compile_mapper(value, where, app_dialect())


def evaluate(
    compiled: CompiledValue | None,
    scopes: Mapping[str, Any],
    now: Callable[[], datetime] | None = None,
) -> Any:
    """``compiled``'s value with ``scopes`` (``None`` for no directive)."""
    if compiled is None:
        return None
    context = EvalContext(bundles={}, scopes=scopes, now=now or _utc_now)
    return compiled.evaluate(context)


def _utc_now() -> datetime:
    return datetime.now(UTC)
