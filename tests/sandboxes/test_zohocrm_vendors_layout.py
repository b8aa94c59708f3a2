"""Zoho CRM sandbox: the Vendors module, products' vendor lookup, an organisation's layout
(custom fields listed and kept; a field the layout lacks is not stored; a text value longer
than its field is refused) and search by the sync packs' cross-reference fields."""

import pytest

from .test_zohocrm_oauth import make_client


@pytest.fixture
def client(serve, http):
    return make_client(serve, http)


def fields_of(client, module):
    answer = client.request("GET", "settings/fields", params={"module": module})
    assert answer.status_code == 200, answer.text
    return {f["api_name"]: f for f in answer.json()["fields"]}


def test_vendors_are_a_module_with_a_mandatory_name_and_checked_email(client):
    (vendor,) = client.insert(
        "Vendors",
        {"Vendor_Name": "Kea Components", "Email": "orders@kea.example", "City": "Nelson"},
    )
    stored = client.get("Vendors", vendor)
    assert (stored["Vendor_Name"], stored["City"]) == ("Kea Components", "Nelson")
    bad = client.request(
        "POST",
        "Vendors",
        json={"data": [{"Email": "x@y.example"}, {"Vendor_Name": "V", "Email": "no"}]},
    )
    assert bad.status_code == 400
    assert [(r["code"], r["details"]["api_name"]) for r in bad.json()["data"]] == [
        ("MANDATORY_NOT_FOUND", "Vendor_Name"),
        ("INVALID_DATA", "Email"),
    ]
    by_email = client.request("GET", "Vendors/search", params={"email": "ORDERS@kea.example"})
    assert [v["id"] for v in by_email.json()["data"]] == [vendor]
    upserted = client.request(
        "POST",
        "Vendors/upsert",
        json={"data": [{"Vendor_Name": "Kea Components", "Phone": "+64 3 555 0101"}]},
    )
    assert upserted.json()["data"][0]["action"] == "update"  # Vendor_Name is the default key
    modules = client.request("GET", "settings/modules").json()["modules"]
    assert "Vendors" in {m["api_name"] for m in modules}


def test_a_product_looks_up_its_vendor(client):
    (vendor,) = client.insert("Vendors", {"Vendor_Name": "Moa Freight"})
    (product,) = client.insert(
        "Products", {"Product_Name": "Crate", "Unit_Price": 12, "Vendor_Name": {"id": vendor}}
    )
    assert client.get("Products", product)["Vendor_Name"] == {"name": "Moa Freight", "id": vendor}
    lost = client.request(
        "POST", "Products", json={"data": [{"Product_Name": "Box", "Vendor_Name": {"id": "1"}}]}
    )
    assert lost.json()["data"][0]["details"]["api_name"] == "Vendor_Name"


def test_the_organisations_custom_fields_are_listed_and_kept(client):
    contacts = fields_of(client, "Contacts")
    custom = contacts["QuickBooks_Customer_Id"]
    assert (custom["custom_field"], custom["data_type"], custom["length"]) == (True, "text", 255)
    assert contacts["Last_Name"]["custom_field"] is False
    assert "Xero_Invoice_Id" in fields_of(client, "Invoices")
    (contact,) = client.insert("Contacts", {"Last_Name": "Ng", "QuickBooks_Customer_Id": "58"})
    assert client.get("Contacts", contact)["QuickBooks_Customer_Id"] == "58"


def test_a_field_the_layout_lacks_is_not_stored(serve, http):
    client = make_client(serve, http, {"custom_fields": {}})
    assert "QuickBooks_Customer_Id" not in fields_of(client, "Contacts")
    (contact,) = client.insert(
        "Contacts", {"Last_Name": "Ng", "QuickBooks_Customer_Id": "58", "Made_Up": 1}
    )
    stored = client.get("Contacts", contact)
    assert "QuickBooks_Customer_Id" not in stored and "Made_Up" not in stored
    search = client.request(
        "GET", "Contacts/search", params={"criteria": "(QuickBooks_Customer_Id:equals:58)"}
    )
    assert search.status_code == 400 and search.json()["code"] == "INVALID_QUERY"
    client.server.control("config", {"fields_missing": {"Contacts": ["Title"]}})
    client.request("PUT", f"Contacts/{contact}", json={"data": [{"Title": "Dr"}]})
    assert "Title" not in client.get("Contacts", contact)


def test_a_text_value_longer_than_its_field_is_refused(client):
    too_long = client.request(
        "POST", "Accounts", json={"data": [{"Account_Name": "A" * 256}]}
    ).json()["data"][0]
    assert (too_long["code"], too_long["details"]) == (
        "INVALID_DATA",
        {"api_name": "Account_Name", "maximum_length": 255},
    )
    assert client.insert("Accounts", {"Account_Name": "A" * 255})


def test_search_equals_on_a_cross_reference_also_finds_longer_ids(client):
    """Zoho's ``equals`` is a contains (vendor/zoho/NOTES.md §4): a pack that looked up
    QuickBooks customer 58 this way alone would also get customer 158's contact."""
    first, second = client.insert(
        "Contacts",
        {"Last_Name": "Fifty-eight", "QuickBooks_Customer_Id": "58"},
        {"Last_Name": "One-fifty-eight", "QuickBooks_Customer_Id": "158"},
    )
    found = client.request(
        "GET", "Contacts/search", params={"criteria": "(QuickBooks_Customer_Id:equals:58)"}
    )
    assert sorted(r["id"] for r in found.json()["data"]) == sorted([first, second])
