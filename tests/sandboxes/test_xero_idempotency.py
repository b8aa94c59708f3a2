"""Xero sandbox: a write sent again with the same ``Idempotency-Key`` creates nothing more."""

from .conftest import XeroClient, connect_xero

OTHER_TENANT = "11111111-2222-3333-4444-555555555555"
KEY = {"Idempotency-Key": "sb-0123456789abcdef0123456789abcdef"}


def contacts(xero_client):
    return xero_client.get("Contacts").json()["Contacts"]


def test_a_replayed_create_answers_the_first_answer_and_creates_nothing(xero_client):
    body = {"Contacts": [{"Name": "Kiwi Widgets"}]}
    first = xero_client.put("Contacts", body, headers=KEY)
    again = xero_client.put("Contacts", body, headers=KEY)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert [c["Name"] for c in contacts(xero_client)] == ["Kiwi Widgets"]


def test_without_a_key_or_with_a_new_key_the_write_happens(xero_client):
    invoice = {"Type": "ACCREC", "Contact": {"Name": "Someone"}, "LineItems": []}
    body = {"Invoices": [{**invoice, "Status": "DRAFT"}]}
    xero_client.put("Invoices", body)
    xero_client.put("Invoices", body)
    xero_client.put("Invoices", body, headers=KEY)
    xero_client.put("Invoices", body, headers={"Idempotency-Key": "another"})
    assert len(xero_client.get("Invoices").json()["Invoices"]) == 4


def test_the_same_key_on_a_different_request_is_refused(xero_client):
    xero_client.put("Contacts", {"Contacts": [{"Name": "First"}]}, headers=KEY)
    other = xero_client.put("Contacts", {"Contacts": [{"Name": "Second"}]}, headers=KEY)
    assert other.status_code == 422
    assert "different request" in other.json()["Detail"]
    assert [c["Name"] for c in contacts(xero_client)] == ["First"]


def test_a_refused_write_is_not_remembered(xero_client):
    xero_client.put("Contacts", {"Contacts": [{"Name": "Taken"}]})
    body = {"Contacts": [{"Name": "Taken"}]}
    assert xero_client.put("Contacts", body, headers=KEY).status_code == 400
    xero_client.post(f"Contacts/{contacts(xero_client)[0]['ContactID']}", {"Name": "Renamed"})
    assert xero_client.put("Contacts", body, headers=KEY).status_code == 200
    assert sorted(c["Name"] for c in contacts(xero_client)) == ["Renamed", "Taken"]


def test_keys_are_kept_per_organisation(http, xero):
    xero.control("seed", {"tenants": [{"tenantId": OTHER_TENANT, "tenantName": "Two"}]})
    tokens, first_tenant = connect_xero(http, xero)
    first = XeroClient(http, xero, tokens["access_token"], first_tenant)
    second = XeroClient(http, xero, tokens["access_token"], OTHER_TENANT)
    body = {"Contacts": [{"Name": "Same Name"}]}
    one = first.put("Contacts", body, headers=KEY).json()["Contacts"][0]
    two = second.put("Contacts", body, headers=KEY).json()["Contacts"][0]
    assert one["ContactID"] != two["ContactID"]


def test_a_key_longer_than_128_characters_is_refused(xero_client):
    answer = xero_client.put("Contacts", {"Name": "X"}, headers={"Idempotency-Key": "k" * 129})
    assert answer.status_code == 400
    assert contacts(xero_client) == []
