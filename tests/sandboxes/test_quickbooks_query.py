"""QuickBooks sandbox: the query language over HTTP (escaping, LIKE, IN, ORDERBY, paging,
count, dotted fields, inactive names, parse errors)."""

import pytest

from .test_quickbooks_oauth import fault, make_client

NAMES = ["O'Brien & Sons", "ACME Ltd", "Acme Holdings", "Blue Fern Studio", "Kauri Logistics"]


@pytest.fixture
def client(serve, http):
    client = make_client(serve, http)
    for name in NAMES:
        client.create(
            "customer",
            {
                "DisplayName": name,
                "PrimaryEmailAddr": {"Address": f"{name.split()[0].lower()}@example.test"},
            },
        )
    return client


def found(response, entity="Customer"):
    assert response.status_code == 200, response.text
    return [r["DisplayName"] for r in response.json()["QueryResponse"].get(entity, [])]


def test_escaped_quote_finds_obrien(client):
    response = client.query(r"select * from Customer where DisplayName = 'O\'Brien & Sons'")
    assert found(response) == ["O'Brien & Sons"]
    body = response.json()
    assert body["QueryResponse"]["startPosition"] == 1
    assert body["QueryResponse"]["maxResults"] == 1
    assert "time" in body


def test_like_in_and_case_insensitive_keywords(client):
    like = client.query("SELECT * FROM Customer WHERE DisplayName LIKE 'acme%'")
    assert sorted(found(like)) == ["ACME Ltd", "Acme Holdings"]
    inside = client.query(
        "select * from Customer where DisplayName in ('Kauri Logistics', "
        "'Blue Fern Studio', 'Nobody')"
    )
    assert sorted(found(inside)) == ["Blue Fern Studio", "Kauri Logistics"]
    both = client.query(
        "select * from Customer where DisplayName like '%o%' "
        "and PrimaryEmailAddr = 'kauri@example.test'"
    )
    assert found(both) == ["Kauri Logistics"]


def test_orderby_paging_and_count(client):
    ordered = client.query("select * from Customer orderby DisplayName desc")
    assert found(ordered) == sorted(NAMES, key=str.casefold, reverse=True)
    page = client.query("select * from Customer orderby DisplayName STARTPOSITION 2 MAXRESULTS 2")
    assert found(page) == ["ACME Ltd", "Blue Fern Studio"]  # after "Acme Holdings"
    assert page.json()["QueryResponse"]["startPosition"] == 2
    count = client.query("select count(*) from Customer where DisplayName like 'A%'")
    assert count.json()["QueryResponse"] == {"totalCount": 2}
    capped = client.query("select * from Customer maxresults 5000")
    assert capped.status_code == 200 and len(found(capped)) == 5


def test_dotted_fields_and_inactive_customers(client):
    acme = client.query("select * from Customer where DisplayName = 'ACME Ltd'").json()
    record = acme["QueryResponse"]["Customer"][0]
    client.server.control("config", {"clock_offset_seconds": 5})  # timestamps have seconds
    client.post(
        "customer",
        {"Id": record["Id"], "SyncToken": record["SyncToken"], "sparse": True, "Active": False},
    )
    assert "ACME Ltd" not in found(client.query("select * from Customer"))
    inactive = client.query("select * from Customer where Active = false")
    assert found(inactive) == ["ACME Ltd"]
    since = record["MetaData"]["LastUpdatedTime"]
    changed = client.query(
        "select * from Customer where "
        f"MetaData.LastUpdatedTime > '{since}' and Active in (true, false)"
    )
    assert found(changed) == ["ACME Ltd"]


def test_no_match_has_no_entity_key(client):
    response = client.query("select * from Invoice where TotalAmt > '100'")
    assert response.status_code == 200
    assert response.json()["QueryResponse"] == {}


@pytest.mark.parametrize(
    "text, code",
    [
        ("select * from Customer where DisplayName = 'a' or DisplayName = 'b'", "4000"),
        ("select * from Customer where DisplayName = 'unterminated", "4000"),
        ("select * Customer", "4000"),
        ("select * from Customer order by DisplayName", "4000"),
        ("select * from Widget", "4001"),
        ("select Id, DisplayName from Customer", "4000"),  # no projections (NOTES.md:64)
        ("select * from customer", "4001"),  # entity names are case-sensitive (NOTES.md:64)
    ],
)
def test_parse_errors_are_query_faults(client, text, code):
    response = client.query(text)
    assert response.status_code == 400
    error = fault(response)
    assert error["code"] == code
    if code == "4000":
        assert error["Detail"].startswith("QueryParserError")
    assert response.json()["Fault"]["type"] == "ValidationFault"


def test_invoice_queries_by_reference_date_and_number(serve, http):
    client = make_client(serve, http, {"fixture": "small"})
    acme = client.query("select * from Customer where DisplayName = 'ACME Ltd'").json()
    acme_id = acme["QueryResponse"]["Customer"][0]["Id"]
    mine = client.query(f"select * from Invoice where CustomerRef = '{acme_id}'").json()
    invoices = mine["QueryResponse"]["Invoice"]
    assert {i["CustomerRef"]["name"] for i in invoices} == {"ACME Ltd"}
    first = invoices[0]
    by_number = client.query(
        f"select * from Invoice where DocNumber = '{first['DocNumber']}' "
        f"and TxnDate >= '{first['TxnDate']}' and TotalAmt > 0"
    ).json()
    assert [i["Id"] for i in by_number["QueryResponse"]["Invoice"]] == [first["Id"]]
    numeric = client.query("select count(*) from Item where Id < '10'").json()
    assert numeric["QueryResponse"] == {"totalCount": 5}  # as text only '1' < '10'
    later = client.query("select count(*) from Invoice where TxnDate > '2099-01-01'").json()
    assert later["QueryResponse"] == {"totalCount": 0}


def test_control_reset_and_seed(serve, http):
    client = make_client(serve, http)
    client.create("customer", {"DisplayName": "Temporary"})
    client.server.control(
        "seed",
        {
            "realms": [
                {"realmId": client.realm_id, "Customer": [{"Id": "77", "DisplayName": "Seeded Co"}]}
            ]
        },
    )
    assert client.read("customer", "77")["DisplayName"] == "Seeded Co"
    client.server.control("reset")
    state = client.server.state()["records"]
    assert list(state) == [client.realm_id]
    assert state[client.realm_id]["Customer"] == []
    assert [i["Name"] for i in state[client.realm_id]["Item"]] == ["Services"]
