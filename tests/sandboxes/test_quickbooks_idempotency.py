"""QuickBooks sandbox: a write sent again with the same ``requestid`` writes nothing more."""

import pytest

from modules.quickbooks.sandbox import DEFAULT_REALM_ID

from .test_quickbooks_oauth import (
    REDIRECT,
    QboClient,
    authorize,
    fault,
    make_client,
    start_qbo,
    token_request,
)

REQUEST_ID = "sb-0123456789abcdef0123456789abcdef"


@pytest.fixture
def client(serve, http):
    return make_client(serve, http)


def customers(client):
    answer = client.query("SELECT * FROM Customer").json()["QueryResponse"]
    return answer.get("Customer", [])


def test_a_replayed_create_answers_the_original_answer_and_creates_nothing(client):
    body = {"DisplayName": "Kiwi Widgets"}
    first = client.post("customer", body, requestid=REQUEST_ID)
    again = client.post("customer", body, requestid=REQUEST_ID)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert [c["DisplayName"] for c in customers(client)] == ["Kiwi Widgets"]


def test_a_seen_requestid_answers_the_original_whatever_the_body(client):
    """Intuit: "instead of performing the operation again or returning an error, the service
    sends the same response as it did for the original request"."""
    first = client.post("customer", {"DisplayName": "First"}, requestid=REQUEST_ID)
    other = client.post("customer", {"DisplayName": "Second"}, requestid=REQUEST_ID)
    assert other.json() == first.json()
    assert [c["DisplayName"] for c in customers(client)] == ["First"]


def test_a_replayed_sparse_update_is_not_applied_twice(client):
    created = client.create("customer", {"DisplayName": "Ada"})
    update = {"Id": created["Id"], "SyncToken": "0", "sparse": True, "Notes": "once"}
    first = client.post("customer", update, requestid=REQUEST_ID)
    again = client.post("customer", update, requestid=REQUEST_ID)
    assert first.status_code == again.status_code == 200, again.text
    assert client.read("customer", created["Id"])["SyncToken"] == "1"


def test_without_a_requestid_or_with_a_new_one_the_write_happens(client):
    client.post("customer", {"DisplayName": "One"})
    client.post("customer", {"DisplayName": "Two"}, requestid=REQUEST_ID)
    client.post("customer", {"DisplayName": "Three"}, requestid="another")
    assert len(customers(client)) == 3


def test_a_refused_write_is_not_remembered(client):
    client.create("customer", {"DisplayName": "Taken"})
    refused = client.post("customer", {"DisplayName": "Taken"}, requestid=REQUEST_ID)
    assert (refused.status_code, fault(refused)["code"]) == (400, "6240")
    accepted = client.post("customer", {"DisplayName": "Free"}, requestid=REQUEST_ID)
    assert accepted.status_code == 200


def test_a_requestid_longer_than_50_characters_is_refused(client):
    answer = client.post("customer", {"DisplayName": "X"}, requestid="r" * 51)
    assert answer.status_code == 400
    assert customers(client) == []


def test_requestids_are_kept_per_company(serve, http):
    server = start_qbo(serve, http)
    server.control("seed", {"realms": [{"realmId": "4620816365000002", "companyName": "Two"}]})
    clients = []
    for realm_id in (DEFAULT_REALM_ID, "4620816365000002"):
        callback = authorize(http, server, realmId=realm_id)
        form = {"grant_type": "authorization_code", "code": callback["code"]}
        token = token_request(http, server, redirect_uri=REDIRECT, **form).json()["access_token"]
        clients.append(QboClient(http, server, token, realm_id))
    for client in clients:
        answer = client.post("customer", {"DisplayName": "Same Name"}, requestid=REQUEST_ID)
        assert answer.status_code == 200, answer.text
    assert [len(customers(client)) for client in clients] == [1, 1]
