"""The QuickBooks Online connection: OAuth2 authorization code, the company (realm id) and
"Test connection".

Intuit names the company a grant is for in the callback's ``realmId`` parameter, not in the
token answer. The OAuth callback must put it into the connection's public data (``realmId``)
before ``on_authorized`` runs; ``remember_company`` then checks it against the API and stores
``realm_id`` and ``company_name``. Endpoints default to Intuit's production ones; a connection
pointed at the sandbox carries ``base_url``, ``authorize_url`` and ``token_url``.

Intuit rotates refresh tokens (about once a day; the old one then stops working), so refreshes
must be single — the engine's refresh lock and compare-and-set take care of that.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from engine.errors import AccountValidationError
from engine.spec import AuthType, CheckFinding, ConnectionField, ConnectionKind, OAuth2Settings
from modules.connections import ApiClient, oauth2_client_fields, oauth2_endpoint_fields
from modules.quickbooks.check import check_company
from modules.quickbooks.client import QBO_API_URL, QuickBooksClient, qbo_settings

AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
SCOPES = ("com.intuit.quickbooks.accounting",)
CALLBACK_REALM_KEYS = ("realmId", "realm_id")
"""Where the callback's company id may arrive in ``data`` (Intuit's name first)."""


def company_client(connection: Mapping[str, Any], session: Any) -> QuickBooksClient:
    """A client for one-off calls outside a run (no retries, real sleep)."""
    return QuickBooksClient(ApiClient(qbo_settings(connection, max_retries=0), session, time.sleep))


def remember_company(data: Mapping[str, Any], access_token: str, session: Any) -> dict[str, Any]:
    """After the code exchange: keep the callback's realm id and the company's name.

    Raises:
        AccountValidationError: the callback named no company, or the token cannot read it.
    """
    realm = next((data[k] for k in CALLBACK_REALM_KEYS if data.get(k)), None)
    if not realm:
        raise AccountValidationError(
            "QuickBooks did not name the company (realmId) on the authorization callback"
        )
    connection = {**data, "realm_id": str(realm), "access_token": access_token}
    info = company_client(connection, session).company_info()
    return {"realm_id": str(realm), "company_name": info.get("CompanyName")}


def check_connection(connection: Mapping[str, Any], session: Any) -> dict[str, Any]:
    """Read the company's info; its name is what the UI shows."""
    info = company_client(connection, session).company_info()
    return {"company": info.get("CompanyName"), "realm_id": connection.get("realm_id")}


def check_account(connection: Mapping[str, Any], session: Any) -> list[CheckFinding]:
    """``switchboard connection check``: where the company differs from what the modules and
    the prebuilt scenarios assume (``modules.quickbooks.check``); read-only."""
    return check_company(company_client(connection, session), connection)


QUICKBOOKS_CONNECTION = ConnectionKind(
    id="quickbooks",
    label="QuickBooks Online",
    auth=AuthType.OAUTH2,
    fields=(
        *oauth2_client_fields("Intuit app's"),
        ConnectionField(
            name="realm_id",
            label="Company ID",
            required=False,
            help="Set from the authorization (Intuit's realmId).",
        ),
        ConnectionField(
            name="base_url",
            label="API base URL",
            default=QBO_API_URL,
            advanced=True,
            help="https://sandbox-quickbooks.api.intuit.com for Intuit sandbox companies.",
        ),
        *oauth2_endpoint_fields(AUTHORIZE_URL, TOKEN_URL),
        ConnectionField(
            name="verifier_token",
            label="Webhooks verifier token",
            secret=True,
            required=False,
            advanced=True,
            help="From the Intuit app's Webhooks page; checks New Event deliveries "
            "(SWITCHBOARD_QUICKBOOKS_VERIFIER_TOKEN when empty).",
        ),
    ),
    oauth2=OAuth2Settings(
        authorize_url=AUTHORIZE_URL,
        token_url=TOKEN_URL,
        scopes=SCOPES,
        rotates_refresh_token=True,
    ),
    test=check_connection,
    check=check_account,
    on_authorized=remember_company,
    callback_data=lambda callback: (
        {"realmId": callback["realmId"]} if callback.get("realmId") else {}
    ),
)
