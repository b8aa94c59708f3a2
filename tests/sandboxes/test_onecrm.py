"""1CRM sandbox: basic auth, search, create/patch with line items, payments, webhooks."""

import time


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
    assert anonymous.json()["error"]["code"] == "unauthorized"
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
    assert page == {"records": [{"id": "acc-acme", "name": "ACME Ltd"}], "total_results": 3}
    exact = crm.request("GET", "data/Account", params={"filters[name]": "acme ltd"}).json()
    assert exact["total_results"] == 1


def test_get_one_and_404(onecrm, crm):
    seed_accounts(onecrm)
    record = crm.get("Account", "acc-fern")
    assert record["date_modified"] == "2020-01-01 00:00:00"
    assert record["assigned_user_id"] == "1"
    missing = crm.request("GET", "data/Account/nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    unknown_model = crm.request("GET", "data/Widget")
    assert unknown_model.status_code == 404


def test_create_invoice_with_line_items_computes_totals(onecrm, crm):
    seed_accounts(onecrm)
    invoice_id = crm.create(
        "Invoice",
        {
            "name": "March services",
            "billing_account_id": "acc-acme",
            "line_items": [
                {"name": "Consulting", "quantity": 3, "unit_price": 100, "tax_percentage": 15},
                {"name": "Travel", "quantity": 1, "unit_price": 80, "tax_amount": 4.5},
            ],
        },
    )
    invoice = crm.get("Invoice", invoice_id)
    assert invoice["billing_account"] == "ACME Ltd"
    assert (invoice["subtotal"], invoice["tax"], invoice["amount"]) == (380.0, 49.5, 429.5)
    assert invoice["amount_due"] == 429.5
    assert [line["total"] for line in invoice["line_items"]] == [345.0, 84.5]
    assert invoice["date_entered"] == invoice["date_modified"]
    assert len(invoice["date_modified"]) == len("2024-01-01 00:00:00")
    assert invoice["integrated_id"] is None


def test_validation_errors_are_clear(onecrm, crm):
    seed_accounts(onecrm)
    both = crm.request(
        "POST",
        "data/Invoice",
        json={
            "data": {
                "name": "x",
                "line_items": [
                    {"name": "a", "unit_price": 1, "tax_percentage": 10, "tax_amount": 1}
                ],
            }
        },
    )
    assert both.status_code == 400
    assert both.json()["error"]["fields"] == {
        "line_items[1]": "give tax_percentage or tax_amount, not both"
    }
    nameless = crm.request("POST", "data/Account", json={"data": {"email1": "x@y.test"}})
    assert nameless.status_code == 400
    assert nameless.json()["error"] == {
        "code": "validation_error",
        "message": "Invalid record: name: required",
        "fields": {"name": "required"},
    }
    not_wrapped = crm.request("POST", "data/Account", json={"name": "x"})
    assert not_wrapped.status_code == 400


def test_patch_updates_fields_and_date_modified(onecrm, crm):
    seed_accounts(onecrm)
    invoice_id = crm.create(
        "Invoice",
        {
            "name": "Inv",
            "billing_account": "Blue Fern",
            "line_items": [{"name": "a", "unit_price": 10}],
        },
    )
    before = crm.get("Invoice", invoice_id)
    onecrm.control("config", {"clock_offset_seconds": 5})  # timestamps have whole seconds
    response = crm.request(
        "PATCH",
        f"data/Invoice/{invoice_id}",
        json={
            "data": {
                "integrated_id": "xero-123",
                "line_items": [
                    {"name": "b", "quantity": 2, "unit_price": 10, "tax_percentage": 10}
                ],
            }
        },
    )
    assert response.status_code == 200, response.text
    after = crm.get("Invoice", invoice_id)
    assert after["integrated_id"] == "xero-123"
    assert after["amount"] == 22.0
    assert after["date_modified"] > before["date_modified"]
    assert after["date_entered"] == before["date_entered"]


def test_patch_missing_record_404_unless_create_if_missing(crm):
    missing = crm.request("PATCH", "data/Account/nope", json={"data": {"name": "x"}})
    assert missing.status_code == 404
    created = crm.request(
        "PATCH",
        "data/Account/nope",
        params={"create_if_missing": 1},
        json={"data": {"name": "Created Co"}},
    )
    assert created.status_code == 200
    assert crm.get("Account", created.json()["id"])["name"] == "Created Co"


def test_payment_reduces_amount_due_and_resolves_integrated_id(onecrm, crm):
    seed_accounts(onecrm)
    invoice_id = crm.create(
        "Invoice",
        {
            "name": "Inv",
            "billing_account_id": "acc-acme",
            "line_items": [{"name": "a", "unit_price": 100}],
        },
    )
    crm.request("PATCH", f"data/Invoice/{invoice_id}", json={"data": {"integrated_id": "X-1"}})
    payment_id = crm.create(
        "Payment",
        {
            "amount": 60,
            "account_id": "acc-acme",
            "payment_date": "2024-04-01",
            "customer_reference": "REF-9",
            "related_invoices": [{"integrated_id": "X-1", "amount": 60}],
        },
    )
    payment = crm.get("Payment", payment_id)
    assert payment["total_allocated"] == 60.0
    assert payment["related_invoices"][0]["invoice_id"] == invoice_id
    assert payment["account"] == "ACME Ltd"
    assert crm.get("Invoice", invoice_id)["amount_due"] == 40.0
    over = crm.request(
        "POST",
        "data/Payment",
        json={
            "data": {"amount": 50, "related_invoices": [{"invoice_id": invoice_id, "amount": 50}]}
        },
    )
    assert over.status_code == 400
    assert "exceeds the amount due" in over.json()["error"]["message"]


def test_webhooks_fire_on_create_and_update(onecrm, crm, receiver_factory):
    receiver, url = receiver_factory()
    both = crm.request(
        "POST", "webhooks", json={"url": url, "model": "Account", "event": "create_or_update"}
    )
    assert both.status_code == 201
    crm.request("POST", "webhooks", json={"url": url, "model": "Invoice", "event": "create"})
    account_id = crm.create("Account", {"name": "Hooked Ltd"})
    crm.request("PATCH", f"data/Account/{account_id}", json={"data": {"industry": "Retail"}})
    invoice_id = crm.create("Invoice", {"name": "Inv", "billing_account_id": account_id})
    crm.request("PATCH", f"data/Invoice/{invoice_id}", json={"data": {"integrated_id": "z"}})
    received = receiver.wait_for(3)
    time.sleep(0.2)  # the invoice update must *not* arrive: its hook is create-only
    assert len(receiver.received) == 3
    bodies = [r["json"] for r in received]
    assert [(b["model"], b["event"]) for b in bodies] == [
        ("Account", "create"),
        ("Account", "update"),
        ("Invoice", "create"),
    ]
    assert bodies[1]["record"]["industry"] == "Retail"
    assert bodies[0]["webhook_id"] == both.json()["id"]
    deliveries = onecrm.control("webhooks/flush")["webhooks"]
    assert [d["status"] for d in deliveries] == [200, 200, 200]


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
    assert failed.json()["error"]["code"] == "service_unavailable"
