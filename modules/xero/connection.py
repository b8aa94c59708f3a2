"""The Xero connection: OAuth2 authorization code, tenant selection, "Test connection".

Endpoints default to Xero's; a connection pointed at the sandbox carries ``base_url``,
``authorize_url`` and ``token_url`` in its public data. ``client_id`` is public data and
``client_secret`` a secret of the connection, so the engine can refresh tokens on its own.
``scope_set`` chooses the scopes asked for at sign-in: ``granular`` (the default; required of
apps created from 2 March 2026) or ``legacy`` (``accounting.transactions``, older apps).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from engine.errors import AccountValidationError
from engine.spec import AuthType, ConnectionField, ConnectionKind, OAuth2Settings
from modules.connections import ApiClient, ApiSettings, oauth2_client_fields, oauth2_endpoint_fields
from modules.xero.check import check_xero_account
from modules.xero.client import XERO_API_URL, api_base, xero_error_message, xero_settings
from modules.xero.scopes import GRANULAR, SCOPE_SETS, requested_scopes

AUTHORIZE_URL = "https://login.xero.com/identity/connect/authorize"
TOKEN_URL = "https://identity.xero.com/connect/token"
SCOPES = SCOPE_SETS[GRANULAR]


def list_tenants(data: Mapping[str, Any], access_token: str, session: Any) -> list[dict[str, Any]]:
    """The organisations a token reaches (``GET /connections``)."""
    settings = ApiSettings(
        label="Xero",
        base_url=api_base(data),
        error_message=xero_error_message,
        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        max_retries=1,
    )
    body = ApiClient(settings, session, time.sleep).get("connections") or []
    return [
        {
            "tenantId": t["tenantId"],
            "tenantName": t.get("tenantName"),
            "tenantType": t.get("tenantType"),
        }
        for t in body
        if isinstance(t, Mapping) and t.get("tenantId")
    ]


def select_tenant(data: Mapping[str, Any], access_token: str, session: Any) -> dict[str, Any]:
    """After the code exchange: remember the reachable tenants and pick one.

    The tenant already named in ``data["tenant_id"]`` stays when the grant reaches it;
    otherwise the first organisation is selected (the UI may change it later).

    Raises:
        AccountValidationError: the grant reaches no organisation.
    """
    tenants = list_tenants(data, access_token, session)
    organisations = [t for t in tenants if t.get("tenantType") in (None, "ORGANISATION")]
    if not organisations:
        raise AccountValidationError("the Xero authorization reaches no organisation")
    wanted = data.get("tenant_id")
    chosen = next((t for t in organisations if t["tenantId"] == wanted), organisations[0])
    return {
        "tenants": tenants,
        "tenant_id": chosen["tenantId"],
        "tenant_name": chosen["tenantName"],
    }


def check_connection(connection: Mapping[str, Any], session: Any) -> dict[str, Any]:
    """Read the selected organisation; its name is what the UI shows."""
    api = ApiClient(xero_settings(connection, max_retries=0), session, time.sleep)
    body = api.get("Organisation") or {}
    organisation = (body.get("Organisations") or [{}])[0]  # Xero's envelope key, plural
    return {"organisation": organisation.get("Name"), "tenant_id": connection.get("tenant_id")}


XERO_CONNECTION = ConnectionKind(
    id="xero",
    label="Xero",
    auth=AuthType.OAUTH2,
    fields=(
        *oauth2_client_fields("Xero app's"),
        ConnectionField(
            name="scope_set",
            label="Scopes",
            required=False,
            default=GRANULAR,
            help="granular (apps created from 2 March 2026, the default) or legacy (older Xero "
            "apps still on accounting.transactions).",
        ),
        ConnectionField(
            name="tenant_id",
            label="Organisation",
            required=False,
            help="Chosen after authorization; every module can override it.",
        ),
        ConnectionField(
            name="base_url",
            label="API base URL",
            default=XERO_API_URL,
            advanced=True,
            help="Point at a sandbox to test offline.",
        ),
        *oauth2_endpoint_fields(AUTHORIZE_URL, TOKEN_URL),
        ConnectionField(
            name="webhook_key",
            label="Webhooks key",
            secret=True,
            required=False,
            advanced=True,
            help="From the Xero app's Webhooks page; checks New Event deliveries.",
        ),
    ),
    oauth2=OAuth2Settings(
        authorize_url=AUTHORIZE_URL,
        token_url=TOKEN_URL,
        scopes=SCOPES,
        scopes_for=requested_scopes,
        rotates_refresh_token=True,
    ),
    test=check_connection,
    check=check_xero_account,
    on_authorized=select_tenant,
)
