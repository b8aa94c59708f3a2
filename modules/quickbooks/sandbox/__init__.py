"""Local emulator of the QuickBooks Online Accounting API v3 (and Intuit OAuth 2.0).

Follows Intuit's v3 REST reference (minor version 75 field names), the "Data queries" page for
the query language, the OAuth 2.0 and webhooks guides, and the entity models of
``intuit/QuickBooks-V3-Java-SDK``. Pieces:

- ``query``: the query language, parsed and evaluated without I/O;
- ``documents``: invoice/estimate lines, tax and totals without I/O;
- ``entities``: the entity table and per-entity checks; ``realm``: one company's records and
  the create / sparse update / delete rules (SyncToken, payments → balances);
- ``oauth``: authorize, token (rotation) and revoke; ``api``: the HTTP routes, auth, rate
  limit, CDC and signed webhooks; ``state``: config, fixtures and the realms.

See ``docs/sandboxes.md`` for the behaviour and where it differs from the real API.
"""

from __future__ import annotations

import time
from typing import Any

import flask

from modules.sandboxing import Monotonic, register_control_routes, run_sandbox_in_thread

from . import api, oauth
from .state import DEFAULT_REALM_ID, QboSandboxState

__all__ = ["DEFAULT_REALM_ID", "QboSandboxState", "create_app", "run_sandbox_in_thread"]


def create_app(
    config: dict[str, Any] | None = None, *, monotonic: Monotonic = time.monotonic
) -> flask.Flask:
    """Build a QuickBooks Online sandbox app. ``config`` overrides ``state.DEFAULTS`` and the
    common sandbox keys; ``config["fixture"]`` may name a fixture (``"demo"``, ``"small"``), a
    path or a dict.
    ``monotonic`` counts its rate-limit windows (a test passes the clock its connectors
    wait on).
    """
    app = flask.Flask(__name__)
    state = QboSandboxState(config, monotonic)
    register_control_routes(app, state, api.fault_response)
    oauth.register(app)
    api.register(app)
    return app
