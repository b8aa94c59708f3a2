"""1CRM sandbox: basic auth, lists, records, documents saved by a person, payments, webhooks,
rate limit and faults. What 1CRM's own docs say is checked line by line in
``test_onecrm_contract.py``."""

import time

DELETED_IS_FALSE = {
    "glue": "or",
    "conditions": [
        {"field": "deleted", "filter": "is_false", "value": "0", "when": "current_value"}
    ],
}


def seed_accounts(onecrm):
    onecrm.control(
        "seed",
        {
            "Account": [
                {"id": "acc-acme", "name": "ACME Ltd", "email1": "ap@acme.test"},
                {"id": "acc-hold", "name": "Acme Holdings", "email1": "info@holdings.test"},
                {
                    "id": "acc-fern",
                    "name": "Blue Fern",
                    "email1": "HELLO@bluefern.test",
                    "date_modified": "2020-01-01 00:00:00",
                },
            ]
        },
    )


def test_basic_auth_is_required(http, onecrm):
    anonymous = http.get(f"{onecrm.url}/api.php/data/Account")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic")
    assert anonymous.json()["error"] == "unauthorized"
    wrong = http.get(f"{onecrm.url}/api.php/data/Account", auth=("admin", "nope"))
    assert wrong.status_code == 401
    right = http.get(f"{onecrm.url}/api.php/data/Account", auth=("admin", "sandbox-password"))
    assert right.status_code == 200
    assert right.json() == {"records": [], "total_results": 0}


def test_filter_text_search_fields_limit_offset_order(onecrm, crm):
    seed_accounts(onecrm)
    response = crm.request("GET", "data/Account", params={"filter_text": "acme"})
    assert sorted(r["name"] for r in response.json()["records"]) == ["ACME Ltd", "Acme Holdings"]
    by_email = crm.request("GET", "data/Account", params={"filter_text": "hello@BLUEFERN"}).json()
    assert [r["name"] for r in by_email["records"]] == ["Blue Fern"]
    page = crm.request(
        "GET",
        "data/Account",
        params={"order": "name desc", "limit": 1, "offset": 1, "fields[]": ["name"]},
    ).json()
    assert page == {
        "records": [{"id": "acc-acme", "name": "ACME Ltd", "_display": "ACME Ltd"}],
        "total_results": 3,
    }
    unknown_field = crm.request("GET", "data/Account", params={"fields[]": ["nope"]})
    assert unknown_field.status_code == 400
    bad_order = crm.request("GET", "data/Account", params={"order": "nope desc"})
    assert bad_order.status_code == 400


def test_get_one_and_404(onecrm, crm):
    seed_accounts(onecrm)
    record = crm.get("Account", "acc-fern")
    assert record["date_modified"] == "2020-01-01 00:00:00"
    assert record["assigned_user_id"] == "1"
    assert record["currency_id"] == "-99" and record["currency"] == "US Dollar: $"
    missing = crm.request("GET", "data/Account/nope")
    assert missing.status_code == 404
    assert missing.json() == {"error": "", "message": "Not found", "hint": ""}


def test_a_person_saves_an_invoice_with_lines(onecrm, crm):
    seed_accounts(onecrm)
    invoice_id = crm.save_as_person(
        "Invoice",
        {
            "name": "March services",
            "billing_account_id": "acc-acme",
            "line_items": [
                {"name": "Consulting", "quantity": 3, "unit_price": 100, "tax_percentage": 15},
                {"name": "Travel", "quantity": 1, "unit_price": 80, "tax_amount": 4.5},
                {"name": "Book", "unit_price": 20},
            ],
        },
    )
    invoice = crm.get("Invoice", invoice_id)
    assert invoice["billing_account"] == "ACME Ltd"
    assert (invoice["subtotal"], invoice["total_tax"], invoice["amount"]) == (
        "400",
        "49.5",
        "449.5",
    )
    assert invoice["amount_due"] == "449.5" and invoice["integrated_id"] is None
    assert invoice["invoice_number"] == "1001" and invoice["prefix"] == "INV-"
    lines = crm.request(
        "GET",
        f"data/Invoice/{invoice_id}/lines_link",
        params={"fields[]": ["name", "quantity", "unit_price", "position"], "order": "position"},
    ).json()["records"]
    assert [(r["name"], r["quantity"], r["unit_price"]) for r in lines] == [
        ("Consulting", "3", "100"),
        ("Travel", "1", "80"),
        ("Book", "1", "20"),
    ]
    taxes = crm.request(
        "GET",
        f"data/Invoice/{invoice_id}/adjustments_link",
        params={"fields[]": ["line_id", "type", "rate", "amount", "name"], "order": "position"},
    ).json()["records"]
    assert [(t["line_id"], t["type"], t["rate"], t["amount"]) for t in taxes] == [
        (lines[0]["id"], "StandardTax", "15", "45"),
        (lines[1]["id"], "StandardTax", "5.63", "4.5"),
    ]
    assert taxes[0]["name"] == "GST"


def test_validation_errors_name_every_field(onecrm, crm):
    seed_accounts(onecrm)
    nameless = crm.request("POST", "data/Account", json={"data": {"email1": "x@y.test"}})
    assert nameless.status_code == 400
    assert nameless.json() == {
        "error": "invalid_data",
        "message": "Invalid data: name: required",
        "hint": "",
    }
    wrong = crm.request(
        "POST",
        "data/Invoice",
        json={"data": {"name": "x", "due_date": "31/03/2026", "amount": "lots", "colour": "red"}},
    )
    assert wrong.status_code == 400
    message = wrong.json()["message"]
    assert "colour: Invoice has no field colour" in message
    assert "due_date: '31/03/2026' is not a date (YYYY-MM-DD)" in message
    assert "amount: 'lots' is not a number" in message
    dangling = crm.request(
        "POST", "data/Invoice", json={"data": {"name": "x", "billing_account_id": "no"}}
    )
    assert dangling.json()["message"] == "Invalid data: billing_account_id: no Account with id no"
    not_wrapped = crm.request("POST", "data/Account", json={"name": "x"})
    assert not_wrapped.status_code == 400
    bad_line = http_person_error(crm, "Invoice", {"name": "x", "line_items": [{"unit_price": 1}]})
    assert bad_line == "Invalid data: line_items[1].name: required"
    assert crm.request("GET", "data/Invoice").json()["total_results"] == 0  # nothing half-saved


def http_person_error(crm, model, data):
    response = crm.http.post(f"{crm.server.url}/_sandbox/ui/{model}", json=data)
    assert response.status_code == 400
    return response.json()["message"]


def test_patch_updates_fields_and_date_modified(onecrm, crm):
    seed_accounts(onecrm)
    invoice_id = crm.create("Invoice", {"name": "Inv", "billing_account_id": "acc-fern"})
    before = crm.get("Invoice", invoice_id)
    onecrm.control("config", {"clock_offset_seconds": 5})  # timestamps have whole seconds
    response = crm.request(
        "PATCH", f"data/Invoice/{invoice_id}", json={"data": {"integrated_id": "xero-123"}}
    )
    assert response.json() == {"result": True}
    after = crm.get("Invoice", invoice_id)
    assert after["integrated_id"] == "xero-123"
    assert after["date_modified"] > before["date_modified"]
    assert after["date_entered"] == before["date_entered"]


def test_a_person_records_a_payment_of_an_invoice(onecrm, crm):
    seed_accounts(onecrm)
    invoice_id = crm.save_as_person(
        "Invoice",
        {
            "name": "Inv",
            "billing_account_id": "acc-acme",
            "line_items": [{"name": "a", "unit_price": 100}],
        },
    )
    payment_id = crm.save_as_person(
        "Payment",
        {
            "amount": 60,
            "account_id": "acc-acme",
            "payment_date": "2024-04-01",
            "customer_reference": "REF-9",
            "related_invoices": [{"invoice_id": invoice_id, "amount": 60}],
        },
    )
    payment = crm.get("Payment", payment_id)
    assert (payment["direction"], payment["total_amount"], payment["account"]) == (
        "incoming",
        "60",
        "ACME Ltd",
    )
    assert payment["name"] == "PMT-1001"
    (link,) = crm.request(
        "GET", "data/invoices_payments", params={"filters[payment_id]": payment_id}
    ).json()["records"]
    assert (link["invoice_id"], link["amount"]) == (invoice_id, "60")
    assert crm.get("Invoice", invoice_id)["amount_due"] == "40"


def test_webhooks_fire_per_type_and_filter(onecrm, crm, receiver_factory):
    receiver, url = receiver_factory()
    both = crm.request(
        "POST",
        "webhooks",
        json={"url": url, "model": "Account", "type": "create_update", "filters": DELETED_IS_FALSE},
    )
    assert both.status_code == 200
    crm.request(
        "POST",
        "webhooks",
        json={"url": url, "model": "Invoice", "type": "create", "filters": DELETED_IS_FALSE},
    )
    retail_only = {
        "glue": "and",
        "conditions": [
            {"field": "industry", "filter": "eq", "value": "Retail", "when": "current_value"}
        ],
    }
    crm.request(
        "POST",
        "webhooks",
        json={"url": url, "model": "Account", "type": "update", "filters": retail_only},
    )
    account_id = crm.create("Account", {"name": "Hooked Ltd"})
    crm.request("PATCH", f"data/Account/{account_id}", json={"data": {"industry": "Retail"}})
    invoice_id = crm.create("Invoice", {"name": "Inv", "billing_account_id": account_id})
    crm.request("PATCH", f"data/Invoice/{invoice_id}", json={"data": {"integrated_id": "z"}})
    received = receiver.wait_for(4)
    time.sleep(0.2)  # the invoice update must *not* arrive: its hook is create-only
    assert len(receiver.received) == 4
    bodies = [r["json"] for r in received]
    assert [(b["name"], b.get("industry")) for b in bodies] == [
        ("Hooked Ltd", None),
        ("Hooked Ltd", "Retail"),
        ("Hooked Ltd", "Retail"),  # the Retail-only update hook
        ("Inv", None),
    ]
    assert bodies[3]["billing_account_id"] == account_id
    deliveries = onecrm.control("webhooks/flush")["webhooks"]
    assert [d["status"] for d in deliveries] == [200, 200, 200, 200]
    assert crm.request("DELETE", f"webhooks/{both.json()['id']}").json() == {"result": True}
    assert crm.request("DELETE", f"webhooks/{both.json()['id']}").status_code == 404


def test_a_deletion_is_announced_as_an_update_marked_deleted(onecrm, crm, receiver_factory):
    """1CRM marks a deleted record and announces it: the default filter leaves it out, a
    filter asking for deleted records gets it as it was."""
    receiver, url = receiver_factory()
    deleted = {
        "glue": "and",
        "conditions": [
            {"field": "deleted", "filter": "is_true", "value": "1", "when": "current_value"}
        ],
    }
    for filters in (DELETED_IS_FALSE, deleted):
        hook = {"url": url, "model": "Account", "type": "update", "filters": filters}
        assert crm.request("POST", "webhooks", json=hook).status_code == 200
    account_id = crm.create("Account", {"name": "Gone Ltd"})
    assert crm.request("DELETE", f"data/Account/{account_id}").json() == {"result": True}
    (delivery,) = receiver.wait_for(1)
    time.sleep(0.2)  # the default filter's hook must not get it
    assert len(receiver.received) == 1
    assert (delivery["json"]["id"], delivery["json"]["deleted"]) == (account_id, "1")
    assert crm.request("GET", f"data/Account/{account_id}").status_code == 404


def test_a_person_edits_an_invoice_s_lines(onecrm, crm, http):
    """``PATCH /_sandbox/ui/Invoice/{id}``: the lines replaced, the totals recomputed, what
    was paid still paid."""
    account_id = crm.create("Account", {"name": "Edited Ltd"})
    ui = f"{onecrm.url}/_sandbox/ui"
    lines = [{"name": "A", "quantity": 2, "unit_price": "50", "tax_percentage": "15"}]
    body = {"name": "Inv", "billing_account_id": account_id, "line_items": lines}
    invoice_id = http.post(f"{ui}/Invoice", json=body).json()["id"]
    allocation = {"invoice_id": invoice_id, "amount": "15"}
    pay = {"account_id": account_id, "amount": "15", "related_invoices": [allocation]}
    assert http.post(f"{ui}/Payment", json=pay).status_code == 200
    new_lines = [{"name": "B", "quantity": 1, "unit_price": "40", "tax_percentage": "0"}]
    edit = {"due_date": "2026-05-31", "line_items": new_lines}
    assert http.patch(f"{ui}/Invoice/{invoice_id}", json=edit).status_code == 200
    invoice = crm.get("Invoice", invoice_id)
    assert (invoice["amount"], invoice["amount_due"], invoice["due_date"]) == (
        "40",
        "25",
        "2026-05-31",
    )
    related = crm.request("GET", f"data/Invoice/{invoice_id}/lines_link").json()["records"]
    assert [line["name"] for line in related] == ["B"]


def test_rate_limit_and_injected_faults(start_onecrm, http):
    onecrm = start_onecrm({"rate_limit_per_minute": 2, "rate_limit_window_seconds": 0.5})
    url, auth = f"{onecrm.url}/api.php/data/Account", ("admin", "sandbox-password")
    assert [http.get(url, auth=auth).status_code for _ in range(2)] == [200, 200]
    limited = http.get(url, auth=auth)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    time.sleep(0.55)
    assert http.get(url, auth=auth).status_code == 200
    onecrm.control("faults", {"status": 503, "count": 1, "path_prefix": "/api.php/data"})
    failed = http.get(url, auth=auth)
    assert failed.status_code == 503
    assert failed.json()["error"] == "service_unavailable"
