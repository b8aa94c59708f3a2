"""The REST API under ``/api`` (the contract: ``docs/api.md``; the document:
``/api/openapi.json``).

Every request passes ``check_access`` first: who is asking (``webui.auth``), the CSRF token of
cookie-authenticated writes, the least role the endpoint needs and whether it needs a browser
session rather than an API token (``webui.api.access``).
Views validate input with the models of ``webui.api.models``, call the service and answer JSON;
failures are answered by ``webui.api.problems``.
"""

from __future__ import annotations

from flask import Flask, request

from webui import auth
from webui.api import problems
from webui.api.access import ACCESS, CSRF_EXEMPT, SESSION_ONLY
from webui.api.converters import CONVERTERS
from webui.api.problems import ApiError
from webui.api.routing import ENDPOINTS, api


def check_access() -> None:
    """Refuse the request unless its principal may call the endpoint (401/403/500)."""
    needed = ACCESS.get(request.endpoint or "")
    if needed is None:
        raise ApiError(500, "internal", f"no access rule for {request.endpoint}; refusing")
    principal = auth.authenticate()
    exempt = request.endpoint in CSRF_EXEMPT
    if principal is not None and not exempt and not auth.csrf_ok(principal):
        raise ApiError(
            403,
            "forbidden",
            f"missing or wrong {auth.CSRF_HEADER} header (GET /api/auth/state gives the token)",
        )
    if needed is auth.Role.PUBLIC:
        return
    if principal is None:
        raise ApiError(401, "unauthorized", "sign in, or send an API token")
    if principal.role < needed:
        raise ApiError(403, "forbidden", f"this needs the {needed.label} role")
    if principal.session is None and request.endpoint in SESSION_ONLY:
        raise ApiError(
            403,
            "forbidden",
            "this needs a signed-in browser session: an API token cannot create tokens, "
            "change a password or add and change users",
        )


api.before_request(check_access)
problems.install(api)


def register_api(app: Flask) -> None:
    """Mount the API on ``app`` (once per app; the blueprint is shared)."""
    # Importing the view modules declares their routes on the blueprint.
    from webui import openapi  # noqa: F401
    from webui.api import (  # noqa: F401
        accounts,
        catalogue,
        connections,
        datastores,
        inspect,
        packs,
        reconcile,
        runs,
        scenarios,
        webhooks,
    )

    auth.install_throttle(app)
    # Before the blueprint's rules are bound: ids out of the columns' range match no route.
    app.url_map.converters.update(CONVERTERS)
    app.register_blueprint(api)


__all__ = ["ENDPOINTS", "api", "register_api"]
