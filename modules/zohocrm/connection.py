"""The Zoho CRM connection: OAuth2 authorization code (offline access), data-centre aware.

Zoho keeps each organisation in one data centre (``DATA_CENTRES``, vendor/zoho/NOTES.md §1).
The authorization callback names it (``location``, ``accounts-server``) and the token answer's
``api_domain`` names the API host to use. ``callback_data`` turns the callback's parameters
into public data (the token URL of the user's accounts server, which must be used for the code
exchange and every refresh), and ``remember_api_domain`` (``on_authorized``) stores
``api_domain``: the token answer's when the OAuth flow passed it in ``data``, else the API host
the data-centre table gives for the callback's accounts server. Neither host can be derived
from the other by pattern: Canada signs in at ``accounts.zohocloud.ca`` but its API is
``www.zohoapis.ca``.

Zoho refresh tokens do not rotate. Zoho reads the client id and secret from the token request's
form, not from HTTP Basic auth.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from engine.errors import AccountValidationError
from engine.spec import AuthType, CheckFinding, ConnectionField, ConnectionKind, OAuth2Settings
from modules.connections import ApiClient, oauth2_client_fields, oauth2_endpoint_fields
from modules.zohocrm.check import check_org
from modules.zohocrm.client import (
    DEFAULT_EDITION,
    EDITIONS,
    ZOHO_API_URL,
    licence_of,
    zoho_settings,
)
from modules.zohocrm.datacentres import api_domain_for

ACCOUNTS_URL = "https://accounts.zoho.com"
AUTHORIZE_URL = f"{ACCOUNTS_URL}/oauth/v2/auth"
TOKEN_URL = f"{ACCOUNTS_URL}/oauth/v2/token"
REQUIRED_SCOPES = (
    "ZohoCRM.modules.ALL",  # records
    "ZohoSearch.securesearch.READ",  # Search Records (vendor/zoho/NOTES.md §2)
    "ZohoCRM.notifications.ALL",  # New Event's watch channels
    "ZohoCRM.org.READ",  # the edition and licences, which set the API limits
    "ZohoCRM.settings.modules.READ",  # connection check: the org's modules
    "ZohoCRM.settings.fields.READ",  # connection check: their fields
)
SCOPES = (",".join(REQUIRED_SCOPES),)
"""One comma-separated string: Zoho separates scopes with commas, the engine joins with spaces."""


def callback_data(callback: Mapping[str, Any]) -> dict[str, Any]:
    """Public data from the authorization callback's parameters: the data centre
    (``location``), its accounts server and token URL (for the exchange and refreshes), and a
    provisional ``api_domain``."""
    server = str(callback.get("accounts-server") or callback.get("accounts_server") or "")
    if not server:
        return {}
    server = server.rstrip("/")
    return {
        "location": callback.get("location"),
        "accounts_server": server,
        "token_url": f"{server}/oauth/v2/token",
        "api_domain": api_domain_for(server),
    }


def remember_api_domain(data: Mapping[str, Any], access_token: str, session: Any) -> dict[str, Any]:
    """After the code exchange: the API host this organisation lives on, checked by one call,
    and the edition and licensed users that set its API limits (``org_licence``).

    Raises:
        AccountValidationError: the token cannot read the CRM there.
    """
    domain = data.get("api_domain")
    if not domain and data.get("accounts_server"):
        domain = api_domain_for(str(data["accounts_server"]))
    chosen = {"api_domain": str(domain or ZOHO_API_URL).rstrip("/")}
    connection = {**data, **chosen, "access_token": access_token}
    check_connection(connection, session)
    return {**chosen, **org_licence(connection, session)}


def org_licence(connection: Mapping[str, Any], session: Any) -> dict[str, Any]:
    """The organisation's edition and licensed users from ``GET /org`` (``license_details``:
    ``paid_type``, ``users_license_purchased``); nothing when the grant cannot read the org or
    names an edition the client does not know (the connection's defaults then apply)."""
    try:
        body = org_api(connection, session).request("GET", "org").body
    except AccountValidationError:
        return {}
    return licence_of(body)


def org_api(connection: Mapping[str, Any], session: Any) -> ApiClient:
    """A client for one-off calls outside a run (no retries, real sleep)."""
    return ApiClient(zoho_settings(connection, max_retries=0), session, time.sleep)


def check_connection(connection: Mapping[str, Any], session: Any) -> dict[str, Any]:
    """List one account: proves the token, its scope and the data centre.

    Raises:
        AccountValidationError: the token or its scope was refused.
    """
    params = {"fields": "Account_Name", "per_page": 1}
    org_api(connection, session).request("GET", "Accounts", params=params)  # 204 is fine
    return {"api_domain": connection.get("api_domain"), "location": connection.get("location")}


def check_account(connection: Mapping[str, Any], session: Any) -> list[CheckFinding]:
    """``switchboard connection check``: where the organisation differs from what the modules
    assume (``modules.zohocrm.check``); read-only."""
    return check_org(org_api(connection, session), connection)


ZOHOCRM_CONNECTION = ConnectionKind(
    id="zohocrm",
    label="Zoho CRM",
    auth=AuthType.OAUTH2,
    fields=(
        *oauth2_client_fields("Zoho API console"),
        ConnectionField(
            name="api_domain",
            label="API domain",
            required=False,
            advanced=True,
            help="Set from the authorization (the data centre's API host).",
        ),
        *oauth2_endpoint_fields(AUTHORIZE_URL, TOKEN_URL),
        ConnectionField(
            name="edition",
            label="Zoho CRM edition",
            default=DEFAULT_EDITION,
            required=False,
            advanced=True,
            help=f"{', '.join(EDITIONS)}: sets the API credits a day and calls at once to keep "
            "to; read from the organisation at sign-in.",
        ),
        ConnectionField(
            name="licensed_users",
            label="Licensed users",
            default="1",
            required=False,
            advanced=True,
            help="Paid editions get more API credits a day per licensed user.",
        ),
    ),
    oauth2=OAuth2Settings(
        authorize_url=AUTHORIZE_URL,
        token_url=TOKEN_URL,
        scopes=SCOPES,
        rotates_refresh_token=False,
        extra_authorize_params={"access_type": "offline", "prompt": "consent"},
        client_auth="form",
        token_data_keys=("api_domain",),
    ),
    test=check_connection,
    check=check_account,
    on_authorized=remember_api_domain,
    callback_data=callback_data,
)
