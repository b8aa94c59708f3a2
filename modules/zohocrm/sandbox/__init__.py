"""Local emulator of the Zoho CRM REST API v8 (and Zoho Accounts OAuth 2.0).

Follows vendor/zoho/NOTES.md (Zoho's v8 OpenAPI files and SDK: records, upsert, search,
notifications, limits, status codes) and the OAuth 2.0 / multi-DC pages. Pieces:

- ``criteria``: the search criteria syntax, parsed and evaluated without I/O;
- ``records``: the modules as data, field checks, line items and totals without I/O;
- ``store``: the organisation's records and the insert / update / upsert / delete rules;
- ``oauth``: authorize and token endpoints; ``notifications``: ``/actions/watch`` channels and
  callbacks; ``api``: the HTTP routes, auth, scopes, API credits and concurrency, module and
  field metadata; ``state``: config and fixtures.

See ``docs/sandboxes.md`` for the behaviour and where it differs from the real API.
"""

from __future__ import annotations

import time
from typing import Any

import flask

from modules.sandboxing import Monotonic, register_control_routes, run_sandbox_in_thread

from . import api, oauth
from .state import ZohoSandboxState

__all__ = ["ZohoSandboxState", "create_app", "run_sandbox_in_thread"]


def create_app(
    config: dict[str, Any] | None = None, *, monotonic: Monotonic = time.monotonic
) -> flask.Flask:
    """Build a Zoho CRM sandbox app. ``config`` overrides ``state.DEFAULTS`` and the common
    sandbox keys; ``config["fixture"]`` may name a fixture (``"demo"``, ``"small"``), a path or
    a dict.
    ``monotonic`` counts its rate-limit windows (a test passes the clock its connectors
    wait on).
    """
    app = flask.Flask(__name__)
    state = ZohoSandboxState(config, monotonic)
    register_control_routes(app, state, api.fault_response)
    oauth.register(app)
    api.register(app)
    return app
