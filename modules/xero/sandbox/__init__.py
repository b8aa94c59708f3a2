"""Local emulator of the Xero Accounting API and Xero's OAuth2 identity service.

Modelled on ``xero_accounting.yaml`` from XeroAPI/Xero-OpenAPI (``info.version: 16.1.0``) for
paths, envelopes, field names and error shapes, and on the vendor pack's notes
(``../shared/reference/vendor/xero/NOTES.md``) for OAuth2 and granular scopes, limits and
webhooks. What it emulates (see ``docs/sandboxes.md`` for what differs):

- OAuth2: ``GET /identity/connect/authorize`` auto-approves and redirects with ``code`` and
  ``state``; ``POST /connect/token`` (authorization_code, refresh_token; rotating refresh tokens
  with a grace period; broad scopes refused to apps created from 2 March 2026);
  ``POST /connect/revocation``; ``GET/DELETE /connections``.
- ``/api.xro/2.0/`` Contacts, Invoices, Quotes, Payments, CreditNotes, Items (GET list/one,
  PUT, POST), Overpayments (GET), credit note and overpayment Allocations (PUT; a credit
  note's also DELETE), read-only Accounts, TaxRates, Currencies, Organisation; granular
  scopes per endpoint; ``where``, ``order``,
  ``page``/``pageSize``, ``If-Modified-Since``, ``summarizeErrors``; Xero's envelopes and
  error bodies.
- ``Idempotency-Key`` on writes (max 128 characters, per tenant): a repeat gets the first
  answer and writes nothing; the same key on a different request is refused with 422.
- Per-tenant minute/day limits and 5 calls in progress with Xero's headers; signed webhooks.

Internally records keep Python types (``Decimal``, ``date``, ``datetime``) under Xero's field
names, so ``where`` expressions evaluate on them directly; ``values.to_wire`` renders Xero's JSON.

Pieces: ``errors`` (Xero's error bodies), ``values`` (dates and numbers in and out), ``where``
(filters and ordering, without I/O); ``organisation`` (tax rates, chart of accounts),
``tenant`` (one organisation's records), ``contacts``, ``documents`` (invoices, credit notes,
overpayments and quotes: lines, tax, totals), ``payments``, ``credits`` (allocations) and
``items`` (the write rules), ``resources`` (the collections declared once); ``state`` (config,
fixtures, tenants, grants); ``oauth`` (identity service), ``api`` (the routes, gates,
envelopes, idempotency), ``concurrency`` (calls in progress) and ``webhooks`` (signed
deliveries, intent to receive).
"""

from __future__ import annotations

import time
from typing import Any

import flask

from modules.sandboxing import Monotonic, register_control_routes, run_sandbox_in_thread

from . import api, oauth, webhooks
from .concurrency import ConcurrencyGate
from .state import DEFAULT_TENANT_ID, XeroSandboxState

__all__ = [
    "DEFAULT_TENANT_ID",
    "SPEC_VERSION",
    "XeroSandboxState",
    "create_app",
    "run_sandbox_in_thread",
]

SPEC_VERSION = "XeroAPI/Xero-OpenAPI xero_accounting.yaml 16.1.0"


def create_app(
    config: dict[str, Any] | None = None, *, monotonic: Monotonic = time.monotonic
) -> flask.Flask:
    """Build a Xero sandbox app. ``config`` overrides ``state.DEFAULTS`` (and the common sandbox
    keys); ``config["fixture"]`` may name a fixture (``"demo"``, ``"small"``), a path or a dict.
    ``monotonic`` counts its rate-limit windows (a test passes the clock its connectors
    wait on).
    """
    app = flask.Flask(__name__)
    state = XeroSandboxState(config, monotonic)
    register_control_routes(app, state, api.fault_response)
    webhooks.register(app)
    oauth.register(app)
    api.register(app)
    # Flask's documented way to wrap an app in WSGI middleware.
    app.wsgi_app = ConcurrencyGate(app.wsgi_app, state)  # type: ignore[method-assign]  # see above
    return app
