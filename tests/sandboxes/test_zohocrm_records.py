"""Zoho CRM sandbox: insert / get / update / delete, per-record errors, upsert, search
(criteria, email, phone, word; 204 when empty), line items, paging and If-Modified-Since."""

import pytest

from .test_zohocrm_oauth import make_client


@pytest.fixture
def client(serve, http):
    return make_client(serve, http)


@pytest.fixture
def acme(client):
    (account_id,) = client.insert(
        "Accounts", {"Account_Name": "ACME Ltd", "Phone": "+64 9 555 1000"}
    )
    return account_id


def test_insert_answers_per_record_and_get_renders_lookups(client, acme):
    response = client.request(
        "POST",
        "Contacts",
        json={
            "data": [
                {
                    "First_Name": "Ada",
                    "Last_Name": "Lovelace",
                    "Email": "ada@acme.test",
                    "Account_Name": {"id": acme},
                }
            ]
        },
    )
    assert response.status_code == 201
    result = response.json()["data"][0]
    assert (result["code"], result["message"], result["status"]) == (
        "SUCCESS",
        "record added",
        "success",
    )
    assert set(result["details"]) == {
        "Modified_Time",
        "Modified_By",
        "Created_Time",
        "id",
        "Created_By",
    }
    contact = client.get("Contacts", result["details"]["id"])
    assert contact["Full_Name"] == "Ada Lovelace"
    assert contact["Account_Name"] == {"name": "ACME Ltd", "id": acme}
    assert contact["Owner"]["name"] == "Sandbox Admin"
    assert client.request("GET", "Contacts/5843104000000999999").status_code == 204
    assert client.request("GET", "Widgets").json()["code"] == "INVALID_MODULE"


def test_per_record_errors_and_mixed_batches(client, acme):
    mixed = client.request(
        "POST",
        "Contacts",
        json={
            "data": [
                {"Last_Name": "Ok", "Email": "ok@acme.test"},
                {"First_Name": "No last name"},
                {"Last_Name": "Bad", "Email": "not-an-email"},
                {"Last_Name": "Lost", "Account_Name": {"id": "123"}},
                {"Last_Name": "Twin", "Email": "OK@acme.test"},
            ]
        },
    )
    assert mixed.status_code == 207
    codes = [(r["code"], r["details"].get("api_name")) for r in mixed.json()["data"]]
    assert codes == [
        ("SUCCESS", None),
        ("MANDATORY_NOT_FOUND", "Last_Name"),
        ("INVALID_DATA", "Email"),
        ("INVALID_DATA", "Account_Name"),
        ("DUPLICATE_DATA", "Email"),
    ]
    assert mixed.json()["data"][2]["details"]["expected_data_type"] == "email"
    all_bad = client.request("POST", "Accounts", json={"data": [{"Phone": "1"}]})
    assert all_bad.status_code == 400
    unwrapped = client.request("POST", "Accounts", json={"Account_Name": "x"})
    assert unwrapped.status_code == 400 and unwrapped.json()["code"] == "MANDATORY_NOT_FOUND"


def test_update_by_body_or_path_then_delete(client, acme):
    client.server.control("config", {"clock_offset_seconds": 5})
    response = client.request(
        "PUT",
        "Accounts",
        json={
            "data": [
                {"id": acme, "Industry": "Retail"},
                {"id": "5843104000000999999", "Industry": "x"},
            ]
        },
    )
    assert response.status_code == 207
    assert response.json()["data"][0]["message"] == "record updated"
    assert response.json()["data"][1]["code"] == "INVALID_DATA"
    by_path = client.request("PUT", f"Accounts/{acme}", json={"data": [{"Phone": "555"}]})
    assert by_path.status_code == 200
    account = client.get("Accounts", acme)
    assert (account["Industry"], account["Phone"]) == ("Retail", "555")
    assert account["Modified_Time"] > account["Created_Time"]
    deleted = client.request("DELETE", "Accounts", params={"ids": acme})
    assert deleted.json()["data"][0]["message"] == "record deleted"
    assert client.request("GET", f"Accounts/{acme}").status_code == 204


def test_upsert_matches_duplicate_check_fields_in_order(client, acme):
    response = client.request(
        "POST",
        "Accounts/upsert",
        json={
            "duplicate_check_fields": ["Account_Name"],
            "data": [
                {"Account_Name": "acme ltd", "Industry": "Retail"},
                {"Account_Name": "Blue Fern Studio"},
            ],
        },
    )
    assert response.status_code == 200
    results = response.json()["data"]
    assert [(r["action"], r["duplicate_field"], r["message"]) for r in results] == [
        ("update", "Account_Name", "record updated"),
        ("insert", None, "record added"),
    ]
    assert results[0]["details"]["id"] == acme
    assert client.get("Accounts", acme)["Industry"] == "Retail"
    (contact_id,) = client.insert("Contacts", {"Last_Name": "Cho", "Email": "bruce@fern.test"})
    by_default = client.request(
        "POST",
        "Contacts/upsert",
        json={"data": [{"Last_Name": "Cho", "First_Name": "Bruce", "Email": "BRUCE@fern.test"}]},
    )
    assert by_default.json()["data"][0]["details"]["id"] == contact_id


def test_search_criteria_email_phone_word_and_204(client, acme):
    client.insert(
        "Accounts",
        {"Account_Name": "Acme Holdings (NZ)", "Phone": "09 555 2000"},
        {"Account_Name": "Blue Fern Studio", "Phone": "04 555 1001"},
    )
    client.insert(
        "Contacts", {"Last_Name": "Lovelace", "Email": "a@b.com", "Account_Name": {"id": acme}}
    )

    def names(response, field="Account_Name"):
        assert response.status_code == 200, response.text
        return sorted(r[field] for r in response.json()["data"])

    search = "Accounts/search"
    starts = client.request("GET", search, params={"criteria": "(Account_Name:starts_with:ac)"})
    assert names(starts) == ["ACME Ltd", "Acme Holdings (NZ)"]
    escaped = client.request(
        "GET", search, params={"criteria": r"(Account_Name:equals:Acme Holdings \(NZ\))"}
    )
    assert names(escaped) == ["Acme Holdings (NZ)"]
    either = client.request(
        "GET",
        search,
        params={
            "criteria": "((Account_Name:equals:Blue Fern Studio)or(Phone:equals:+64 9 555 1000))"
        },
    )
    assert names(either) == ["ACME Ltd", "Blue Fern Studio"]
    both = client.request(
        "GET",
        "Contacts/search",
        params={"criteria": "((Email:equals:a@b.com)and(Account_Name:starts_with:Ac))"},
    )
    assert names(both, "Last_Name") == ["Lovelace"]
    assert names(
        client.request("GET", "Contacts/search", params={"email": "A@B.com"}), "Last_Name"
    ) == ["Lovelace"]
    assert names(client.request("GET", search, params={"phone": "555 1001"})) == [
        "Blue Fern Studio"
    ]
    assert names(client.request("GET", search, params={"word": "holdings"})) == [
        "Acme Holdings (NZ)"
    ]
    empty = client.request("GET", search, params={"criteria": "(Account_Name:equals:Nobody)"})
    assert (empty.status_code, empty.content) == (204, b"")
    broken = client.request("GET", search, params={"criteria": "(Account_Name:equals"})
    assert broken.status_code == 400 and broken.json()["code"] == "INVALID_QUERY"
    bad_operator = client.request("GET", search, params={"criteria": "(Phone:like:5)"})
    assert bad_operator.json()["details"]["operator"] == "like"
    created = client.get("Accounts", acme)["Created_Time"]  # e.g. 2026-11-23T13:10:21+00:00
    shifted = client.request(
        "GET", search, params={"criteria": f"(Created_Time:greater_equal:{created[:19]}+05:30)"}
    )
    assert len(shifted.json()["data"]) == 3  # +05:30 is earlier than +00:00: all match
    missing = client.request("GET", search)
    assert missing.json()["code"] == "REQUIRED_PARAM_MISSING"


def test_invoice_line_items_and_totals(client, acme):
    (product,) = client.insert("Products", {"Product_Name": "Consulting hour", "Unit_Price": 150})
    (invoice_id,) = client.insert(
        "Invoices",
        {
            "Subject": "March",
            "Account_Name": {"id": acme},
            "Adjustment": -5,
            "Invoiced_Items": [
                {
                    "Product_Name": {"id": product},
                    "Quantity": 2,
                    "Line_Tax": [{"name": "GST", "percentage": 15}],
                },
                {"Product_Name": {"id": product}, "Quantity": 1, "ListPrice": 100, "Discount": 10},
            ],
        },
    )
    invoice = client.get("Invoices", invoice_id)
    first, second = invoice["Invoiced_Items"]
    assert (first["Total"], first["Tax"], first["Net_Total"]) == (300.0, 45.0, 345.0)
    assert first["Product_Name"]["name"] == "Consulting hour"
    assert (second["Total_After_Discount"], second["Net_Total"]) == (90.0, 90.0)
    assert (invoice["Sub_Total"], invoice["Grand_Total"]) == (435.0, 430.0)
    no_lines = client.request("POST", "Invoices", json={"data": [{"Subject": "Empty"}]})
    assert no_lines.json()["data"][0]["details"] == {"api_name": "Invoiced_Items"}
    v2_lines = {"Subject": "Old", "Product_Details": [{"product": {"id": product}}]}
    refused = client.request("POST", "Invoices", json={"data": [v2_lines]})
    assert refused.json()["data"][0]["details"] == {"api_name": "Invoiced_Items"}


def test_paging_sorting_and_if_modified_since(client, acme):
    client.server.control("config", {"clock_offset_seconds": 10})
    later = client.insert("Accounts", *({"Account_Name": f"Company {n}"} for n in range(3)))
    listing = {"fields": "Account_Name,Created_Time"}
    page = client.request(
        "GET",
        "Accounts",
        params={
            "per_page": 2,
            "page": 2,
            "sort_by": "Created_Time",
            "sort_order": "desc",
            **listing,
        },
    )
    body = page.json()
    assert {k: body["info"][k] for k in ("per_page", "count", "page", "more_records")} == {
        "per_page": 2,
        "count": 2,
        "page": 2,
        "more_records": False,
    }
    assert body["info"]["next_page_token"] is None
    assert body["data"][-1]["id"] == acme
    since = client.get("Accounts", later[0])["Created_Time"]
    acme_time = client.get("Accounts", acme)["Modified_Time"]  # ISO with an offset
    changed = client.request(
        "GET", "Accounts", params=listing, headers={"If-Modified-Since": acme_time}
    )
    assert sorted(r["id"] for r in changed.json()["data"]) == sorted(later)
    nothing = client.request(
        "GET", "Accounts", params=listing, headers={"If-Modified-Since": since}
    )
    assert nothing.status_code == 304
    fields = client.request("GET", "Accounts", params={"fields": "Account_Name"}).json()
    assert set(fields["data"][0]) == {"id", "Account_Name"}
