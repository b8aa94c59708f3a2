"""Xero identity: code flow, rotating refresh tokens, tenants, token checks on data calls."""

import base64
import json
import threading
import time

import pytest

from .conftest import LEGACY_XERO_SCOPES, XeroClient, authorize, connect_xero, token_request


def test_authorize_auto_approves_and_redirects_with_code_and_state(http, xero):
    query = authorize(http, xero, state="s-123")
    assert query["state"] == "s-123"
    assert query["code"]
    assert "accounting.contacts" in query["scope"]


def test_code_exchange_returns_xero_token_answer_and_connections(http, xero):
    tokens, tenant_id = connect_xero(http, xero)
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 1800
    assert tokens["refresh_token"] and tokens["id_token"]
    claims = json.loads(base64.urlsafe_b64decode(tokens["access_token"].split(".")[1] + "=="))
    assert claims["exp"] - claims["nbf"] == 1800
    assert claims["authentication_event_id"]
    connections = http.get(
        f"{xero.url}/connections", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).json()
    assert connections[0]["tenantType"] == "ORGANISATION"
    assert connections[0]["tenantId"] == tenant_id


def test_code_is_single_use_and_client_secret_is_checked(http, xero):
    code = authorize(http, xero)["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "http://localhost/callback",
    }
    bad_client = http.post(f"{xero.url}/connect/token", data=form, auth=("sandbox-client-id", "x"))
    assert bad_client.status_code == 400
    assert bad_client.json() == {"error": "invalid_client"}
    assert token_request(http, xero, **form).status_code == 200
    reused = token_request(http, xero, **form)
    assert reused.status_code == 400
    assert reused.json() == {"error": "invalid_grant"}


def test_refresh_rotates_and_old_token_dies_after_grace(http, start_xero):
    xero = start_xero({"refresh_grace_seconds": 0.2})
    tokens, _ = connect_xero(http, xero)
    first = token_request(
        http, xero, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert rotated["access_token"] != tokens["access_token"]
    # Within the grace period, the old token answers the same successor (a retried refresh).
    again = token_request(
        http, xero, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert again.json()["refresh_token"] == rotated["refresh_token"]
    time.sleep(0.3)
    late = token_request(
        http, xero, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert late.status_code == 400
    assert late.json() == {"error": "invalid_grant"}
    newest = token_request(
        http, xero, grant_type="refresh_token", refresh_token=rotated["refresh_token"]
    )
    assert newest.status_code == 200


def test_two_concurrent_refreshes_with_one_token_one_wins(http, start_xero):
    xero = start_xero({"refresh_grace_seconds": 0})
    tokens, _ = connect_xero(http, xero)
    results = []
    barrier = threading.Barrier(2)

    def refresh():
        barrier.wait()
        answer = token_request(
            http, xero, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
        )
        results.append((answer.status_code, answer.json()))

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in results) == [200, 400]
    assert [body for status, body in results if status == 400] == [{"error": "invalid_grant"}]


def test_data_call_without_or_with_bad_token_is_401(http, xero):
    plain = http.get(f"{xero.url}/api.xro/2.0/Contacts")
    assert plain.status_code == 401
    body = plain.json()
    assert (body["Title"], body["Status"], body["Detail"]) == (
        "Unauthorized",
        401,
        "AuthenticationUnsuccessful",
    )
    bogus = http.get(f"{xero.url}/api.xro/2.0/Contacts", headers={"Authorization": "Bearer nope"})
    assert bogus.status_code == 401


def test_expired_access_token_is_401_token_expired(http, xero):
    tokens, tenant_id = connect_xero(http, xero)
    xero.control("config", {"clock_offset_seconds": 1801})
    client = XeroClient(http, xero, tokens["access_token"], tenant_id)
    response = client.get("Contacts")
    assert response.status_code == 401
    assert response.json()["Detail"].startswith("TokenExpired")


def test_wrong_or_missing_tenant_is_refused(xero_client):
    wrong = xero_client.get(
        "Contacts", headers={"xero-tenant-id": "00000000-0000-0000-0000-000000000001"}
    )
    assert wrong.status_code == 403
    assert wrong.json()["Title"] == "Forbidden"
    malformed = xero_client.get("Contacts", headers={"xero-tenant-id": "not-a-guid"})
    assert malformed.status_code == 400
    ok = xero_client.get("Contacts")
    assert ok.status_code == 200
    assert ok.json()["Status"] == "OK"


def test_scope_is_enforced(http, xero):
    tokens, tenant_id = connect_xero(http, xero, scope="offline_access accounting.contacts.read")
    client = XeroClient(http, xero, tokens["access_token"], tenant_id)
    assert client.get("Contacts").status_code == 200
    assert client.put("Contacts", {"Name": "Nope"}).status_code == 403
    assert client.get("Invoices").status_code == 403


def test_an_app_created_from_2_march_2026_is_refused_the_broad_scope(http, xero):
    """NOTES §2: new apps must ask for granular scopes; accounting.transactions fails sign-in."""
    query = authorize(http, xero, scope=LEGACY_XERO_SCOPES, state="s-9")
    assert query["error"] == "invalid_scope" and query["state"] == "s-9"
    assert "code" not in query and "accounting.transactions" in query["error_description"]


def test_an_older_app_may_keep_the_broad_scope(http, start_xero):
    older = start_xero({"app_created": "2025-11-20"})
    tokens, tenant_id = connect_xero(http, older, scope=LEGACY_XERO_SCOPES)
    client = XeroClient(http, older, tokens["access_token"], tenant_id)
    assert client.get("Invoices").status_code == 200
    assert client.get("Payments").status_code == 200


@pytest.mark.parametrize(
    ("scope", "allowed", "refused"),
    [
        ("accounting.invoices", ["Invoices", "Quotes", "CreditNotes", "Items"], ["Payments"]),
        ("accounting.payments", ["Payments", "Overpayments"], ["Invoices", "Contacts"]),
        ("accounting.settings", ["Organisation", "TaxRates", "Accounts", "Items"], ["Invoices"]),
        ("accounting.contacts.read", ["Contacts"], ["Payments", "Organisation"]),
    ],
)
def test_each_endpoint_needs_its_granular_scope(http, xero, scope, allowed, refused):
    tokens, tenant_id = connect_xero(http, xero, scope=f"offline_access {scope}")
    client = XeroClient(http, xero, tokens["access_token"], tenant_id)
    assert {name: client.get(name).status_code for name in allowed + refused} == {
        **dict.fromkeys(allowed, 200),
        **dict.fromkeys(refused, 403),
    }


def test_a_read_scope_does_not_allow_writes(http, xero):
    tokens, tenant_id = connect_xero(http, xero, scope="offline_access accounting.invoices.read")
    client = XeroClient(http, xero, tokens["access_token"], tenant_id)
    assert client.get("Invoices").status_code == 200
    assert client.put("Invoices", {"Invoices": [{"Type": "ACCREC"}]}).status_code == 403


def test_revocation_ends_the_grant(http, xero):
    tokens, tenant_id = connect_xero(http, xero)
    revoked = http.post(
        f"{xero.url}/connect/revocation",
        data={"token": tokens["refresh_token"]},
        auth=("sandbox-client-id", "sandbox-client-secret"),
    )
    assert revoked.status_code == 200
    client = XeroClient(http, xero, tokens["access_token"], tenant_id)
    assert client.get("Contacts").status_code == 401
