"""The Zoho CRM connection: OAuth2 authorization code (offline access), data-centre aware.

Zoho keeps each organisation in one data centre. The authorization callback names it
(``location``, ``accounts-server``) and the token answer's ``api_domain`` names the API host to
use. ``callback_data`` turns the callback's parameters into public data (the token URL of the
user's accounts server, which must be used for the code exchange and every refresh), and
``remember_api_domain`` (``on_authorized``) stores ``api_domain``: the token answer's when the
OAuth flow passed it in ``data``, else the API host of the callback's accounts server.

Zoho refresh tokens do not rotate. Zoho reads the client id and secret from the token request's
form, not from HTTP Basic auth.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from engine.spec import AuthType, ConnectionField, ConnectionKind, OAuth2Settings
from modules.connections import ApiClient, oauth2_client_fields, oauth2_endpoint_fields
from modules.zohocrm.client import ZOHO_API_URL, zoho_settings

ACCOUNTS_URL = "https://accounts.zoho.com"
AUTHORIZE_URL = f"{ACCOUNTS_URL}/oauth/v2/auth"
TOKEN_URL = f"{ACCOUNTS_URL}/oauth/v2/token"
SCOPES = ("ZohoCRM.modules.ALL,ZohoCRM.notifications.ALL",)
"""One comma-separated string: Zoho separates scopes with commas, the engine joins with spaces."""


def api_domain_for(accounts_server: str) -> str:
    """The API host of a data centre from its accounts server: ``https://accounts.zoho.eu`` →
    ``https://www.zohoapis.eu``. A server that is not Zoho's (a sandbox) serves the API too."""
    parts = urlsplit(accounts_server)
    host = parts.hostname or ""
    if host.startswith("accounts.zoho."):
        return f"https://www.zohoapis.{host.removeprefix('accounts.zoho.')}"
    return accounts_server.rstrip("/")


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
    """After the code exchange: the API host this organisation lives on, checked by one call.

    Raises:
        AccountValidationError: the token cannot read the CRM there.
    """
    domain = data.get("api_domain")
    if not domain and data.get("accounts_server"):
        domain = api_domain_for(str(data["accounts_server"]))
    chosen = {"api_domain": str(domain or ZOHO_API_URL).rstrip("/")}
    check_connection({**data, **chosen, "access_token": access_token}, session)
    return chosen


def check_connection(connection: Mapping[str, Any], session: Any) -> dict[str, Any]:
    """List one account: proves the token, its scope and the data centre.

    Raises:
        AccountValidationError: the token or its scope was refused.
    """
    api = ApiClient(zoho_settings(connection, max_retries=0), session, time.sleep)
    api.request("GET", "Accounts", params={"per_page": 1})  # 204 (no accounts) is fine
    return {"api_domain": connection.get("api_domain"), "location": connection.get("location")}


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
    on_authorized=remember_api_domain,
    callback_data=callback_data,
)
