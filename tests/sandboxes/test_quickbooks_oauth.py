"""QuickBooks sandbox: Intuit OAuth 2.0 (code, refresh rotation, revoke) and data-call auth.

Also home of the small client the other ``test_quickbooks_*`` files import.
"""

from urllib.parse import parse_qs, urlsplit

import pytest

from modules.quickbooks import sandbox as qbo_sandbox

from .conftest import Server

CLIENT = ("sandbox-client-id", "sandbox-client-secret")
SCOPE = "com.intuit.quickbooks.accounting"
REDIRECT = "http://localhost/callback"


def start_qbo(serve, http, config=None):
    return Server(serve(qbo_sandbox.create_app(config)), http)


def authorize(http, server, **extra):
    params = {
        "client_id": CLIENT[0],
        "redirect_uri": REDIRECT,
        "scope": SCOPE,
        "response_type": "code",
        "state": "st-1",
        **extra,
    }
    response = http.get(f"{server.url}/connect/oauth2", params=params, allow_redirects=False)
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def token_request(http, server, **form):
    return http.post(
        f"{server.url}/oauth2/v1/tokens/bearer",
        data=form,
        auth=CLIENT,
        headers={"Accept": "application/json"},
    )


def connect(http, server):
    """The whole dance; return (token answer, realmId)."""
    callback = authorize(http, server)
    response = token_request(
        http, server, grant_type="authorization_code", code=callback["code"], redirect_uri=REDIRECT
    )
    assert response.status_code == 200, response.text
    return response.json(), callback["realmId"]


class QboClient:
    """What a connector does: bearer token, realm in the path, ``minorversion``."""

    def __init__(self, http, server, token, realm_id):
        self.http, self.server, self.token, self.realm_id = http, server, token, realm_id

    def request(self, method, path, **kwargs):
        url = f"{self.server.url}/v3/company/{self.realm_id}/{path.lstrip('/')}"
        params = {"minorversion": "75", **kwargs.pop("params", {})}
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        return self.http.request(method, url, params=params, headers=headers, **kwargs)

    def post(self, entity, body, **params):
        return self.request("POST", entity, json=body, params=params)

    def create(self, entity, body):
        response = self.post(entity, body)
        assert response.status_code == 200, response.text
        return entity_of(response)

    def read(self, entity, record_id):
        response = self.request("GET", f"{entity}/{record_id}")
        assert response.status_code == 200, response.text
        return entity_of(response)

    def query(self, text):
        return self.request("GET", "query", params={"query": text})


def entity_of(response):
    """The one record of an answer (``{"SalesReceipt": {...}, "time": ...}``)."""
    (record,) = [v for k, v in response.json().items() if k != "time"]
    return record


def make_client(serve, http, config=None):
    server = start_qbo(serve, http, config)
    tokens, realm_id = connect(http, server)
    return QboClient(http, server, tokens["access_token"], realm_id)


def fault(response):
    """The single Error element of a Fault answer."""
    errors = response.json()["Fault"]["Error"]
    assert len(errors) == 1
    return errors[0]


@pytest.fixture
def qbo(serve, http):
    return start_qbo(serve, http)


def test_authorize_redirects_back_with_code_state_and_realm(http, qbo):
    callback = authorize(http, qbo)
    assert callback["state"] == "st-1"
    assert callback["realmId"] == qbo_sandbox.DEFAULT_REALM_ID
    assert callback["code"]


def test_code_exchange_then_refresh_rotates_and_old_token_is_refused(http, qbo):
    callback = authorize(http, qbo)
    first = token_request(
        http, qbo, grant_type="authorization_code", code=callback["code"], redirect_uri=REDIRECT
    )
    assert first.status_code == 200
    tokens = first.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 3600
    assert tokens["x_refresh_token_expires_in"] > 86400 * 99
    reused = token_request(
        http, qbo, grant_type="authorization_code", code=callback["code"], redirect_uri=REDIRECT
    )
    assert (reused.status_code, reused.json()) == (400, {"error": "invalid_grant"})
    second = token_request(
        http, qbo, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    ).json()
    assert second["refresh_token"] != tokens["refresh_token"]
    stale = token_request(
        http, qbo, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert (stale.status_code, stale.json()) == (400, {"error": "invalid_grant"})
    third = token_request(
        http, qbo, grant_type="refresh_token", refresh_token=second["refresh_token"]
    )
    assert third.status_code == 200
    client = QboClient(http, qbo, third.json()["access_token"], callback["realmId"])
    assert client.request("GET", "companyinfo/" + callback["realmId"]).status_code == 200


def test_daily_rotation_keeps_the_refresh_token_until_it_is_a_day_old(serve, http):
    server = start_qbo(serve, http, {"refresh_rotate_after_seconds": 86400})
    tokens, _ = connect(http, server)
    again = token_request(
        http, server, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    ).json()
    assert again["refresh_token"] == tokens["refresh_token"]
    server.control("config", {"clock_offset_seconds": 86401})
    rotated = token_request(
        http, server, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    ).json()
    assert rotated["refresh_token"] != tokens["refresh_token"]


def test_bad_client_unknown_grant_and_revoke(http, qbo):
    tokens, _ = connect(http, qbo)
    wrong = http.post(
        f"{qbo.url}/oauth2/v1/tokens/bearer",
        auth=("sandbox-client-id", "x"),
        data={"grant_type": "refresh_token", "refresh_token": "r"},
    )
    assert (wrong.status_code, wrong.json()) == (401, {"error": "invalid_client"})
    odd = token_request(http, qbo, grant_type="password")
    assert odd.json() == {"error": "unsupported_grant_type"}
    revoked = http.post(
        f"{qbo.url}/oauth2/v1/tokens/revoke", auth=CLIENT, json={"token": tokens["refresh_token"]}
    )
    assert revoked.status_code == 200
    after = token_request(
        http, qbo, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert after.json() == {"error": "invalid_grant"}


def test_data_calls_need_a_valid_token_and_a_known_realm(http, qbo):
    tokens, realm_id = connect(http, qbo)
    url = f"{qbo.url}/v3/company/{realm_id}/customer/1"
    anonymous = http.get(url)
    assert anonymous.status_code == 401
    error = anonymous.json()["fault"]["error"][0]
    assert error["code"] == "3200" and "AuthenticationFailed" in error["message"]
    bogus = http.get(url, headers={"Authorization": "Bearer nope"})
    assert bogus.status_code == 401
    unknown_realm = QboClient(http, qbo, tokens["access_token"], "123")
    assert unknown_realm.request("GET", "customer/1").status_code == 401
    client = QboClient(http, qbo, tokens["access_token"], realm_id)
    missing = client.request("GET", "customer/1")
    assert missing.status_code == 400 and fault(missing)["code"] == "610"
    assert missing.headers["intuit_tid"]
    qbo.control("config", {"clock_offset_seconds": 3601})
    expired = client.request("GET", "customer/1")
    assert expired.status_code == 401
