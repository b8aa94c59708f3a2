"""Zoho CRM sandbox: Zoho Accounts OAuth (code, refresh, revoke, multi-DC answer) and the
header every API call needs. Also home of the small client the other ``test_zohocrm_*`` files
import."""

from urllib.parse import parse_qs, urlsplit

import pytest

from modules.zohocrm import sandbox as zoho_sandbox

from .conftest import Server

CLIENT_ID, CLIENT_SECRET = "1000.SANDBOXCLIENTID", "sandbox-client-secret"
SCOPE = (
    "ZohoCRM.modules.ALL,ZohoSearch.securesearch.READ,ZohoCRM.notifications.ALL,"
    "ZohoCRM.settings.modules.READ,ZohoCRM.settings.fields.READ"
)
REDIRECT = "http://localhost/zoho/callback"


def start_zoho(serve, http, config=None):
    return Server(serve(zoho_sandbox.create_app(config)), http)


def authorize(http, server, scope=SCOPE, access_type="offline"):
    response = http.get(
        f"{server.url}/oauth/v2/auth",
        allow_redirects=False,
        params={
            "scope": scope,
            "client_id": CLIENT_ID,
            "response_type": "code",
            "access_type": access_type,
            "redirect_uri": REDIRECT,
            "state": "z-1",
        },
    )
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def token_request(http, server, **params):
    # Zoho documents the token call with its parameters in the query string.
    params = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **params}
    return http.post(f"{server.url}/oauth/v2/token", params=params)


def connect(http, server, scope=SCOPE):
    callback = authorize(http, server, scope)
    response = token_request(
        http, server, grant_type="authorization_code", code=callback["code"], redirect_uri=REDIRECT
    )
    assert response.status_code == 200 and "error" not in response.json(), response.text
    return response.json()


class ZohoClient:
    """``{api_domain}/crm/v8/...`` with the ``Zoho-oauthtoken`` header."""

    def __init__(self, http, api_domain, token):
        self.http, self.api_domain, self.token = http, api_domain, token

    def request(self, method, path, **kwargs):
        headers = {"Authorization": f"Zoho-oauthtoken {self.token}", **kwargs.pop("headers", {})}
        return self.http.request(
            method, f"{self.api_domain}/crm/v8/{path.lstrip('/')}", headers=headers, **kwargs
        )

    def insert(self, module, *records):
        response = self.request("POST", module, json={"data": list(records)})
        assert response.status_code == 201, response.text
        return [r["details"]["id"] for r in response.json()["data"]]

    def get(self, module, record_id):
        response = self.request("GET", f"{module}/{record_id}")
        assert response.status_code == 200, response.text
        return response.json()["data"][0]


def make_client(serve, http, config=None):
    server = start_zoho(serve, http, config)
    tokens = connect(http, server)
    client = ZohoClient(http, tokens["api_domain"], tokens["access_token"])
    client.server = server
    return client


@pytest.fixture
def zoho(serve, http):
    return start_zoho(serve, http)


def test_authorize_names_the_data_centre_and_the_token_names_the_api_domain(serve, http):
    server = start_zoho(serve, http)
    callback = authorize(http, server)
    assert callback["state"] == "z-1"
    assert (callback["location"], callback["accounts-server"]) == ("us", server.url)
    tokens = token_request(
        http, server, grant_type="authorization_code", code=callback["code"], redirect_uri=REDIRECT
    ).json()
    assert tokens["api_domain"] == server.url
    assert (tokens["token_type"], tokens["expires_in"]) == ("Bearer", 3600)
    assert tokens["refresh_token"].startswith("1000.")
    eu = start_zoho(serve, http, {"location": "eu", "accounts_server": "https://accounts.zoho.eu"})
    assert authorize(http, eu)["accounts-server"] == "https://accounts.zoho.eu"


def test_refresh_keeps_the_refresh_token_and_errors_answer_200(http, zoho):
    tokens = connect(http, zoho)
    refreshed = token_request(
        http, zoho, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refreshed.status_code == 200
    assert "refresh_token" not in refreshed.json()
    assert refreshed.json()["access_token"] != tokens["access_token"]
    bad_code = token_request(
        http, zoho, grant_type="authorization_code", code="nope", redirect_uri=REDIRECT
    )
    assert (bad_code.status_code, bad_code.json()) == (200, {"error": "invalid_code"})
    bad_client = token_request(
        http,
        zoho,
        grant_type="refresh_token",
        client_secret="x",
        refresh_token=tokens["refresh_token"],
    )
    assert bad_client.json() == {"error": "invalid_client"}
    http.post(f"{zoho.url}/oauth/v2/token/revoke", params={"token": tokens["refresh_token"]})
    revoked = token_request(
        http, zoho, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert revoked.json() == {"error": "invalid_code"}
    client = ZohoClient(http, zoho.url, refreshed.json()["access_token"])
    assert client.request("GET", "Accounts").status_code == 401


def test_online_access_has_no_refresh_token(http, zoho):
    callback = authorize(http, zoho, access_type="online")
    tokens = token_request(
        http, zoho, grant_type="authorization_code", code=callback["code"], redirect_uri=REDIRECT
    ).json()
    assert "refresh_token" not in tokens and tokens["access_token"]


def test_calls_need_the_zoho_oauthtoken_header_and_a_matching_scope(http, zoho):
    tokens = connect(http, zoho, scope="ZohoCRM.modules.Accounts.READ")
    for header in (
        {},
        {"Authorization": "Zoho-oauthtoken nope"},
        {"Authorization": f"Bearer {tokens['access_token']}"},
    ):
        response = http.get(f"{zoho.url}/crm/v8/Accounts", headers=header)
        assert response.status_code == 401
        assert response.json() == {
            "code": "INVALID_TOKEN",
            "details": {},
            "message": "invalid oauth token",
            "status": "error",
        }
    client = ZohoClient(http, tokens["api_domain"], tokens["access_token"])
    fields = {"fields": "Account_Name"}
    assert client.request("GET", "Accounts", params=fields).status_code == 204  # empty module
    denied = client.request("GET", "Contacts", params=fields)
    assert (denied.status_code, denied.json()["code"]) == (401, "OAUTH_SCOPE_MISMATCH")
    search = client.request("GET", "Accounts/search", params={"word": "x"})
    assert search.json()["code"] == "OAUTH_SCOPE_MISMATCH"  # needs ZohoSearch.securesearch.READ
    zoho.control("config", {"clock_offset_seconds": 3601})
    assert client.request("GET", "Accounts", params=fields).json()["code"] == "INVALID_TOKEN"
