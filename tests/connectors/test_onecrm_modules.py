"""1CRM modules against the running 1CRM sandbox, over real HTTP, through ``run_scenario``."""

from __future__ import annotations

import pytest

from modules.onecrm.modules import webhook_bundles

from .conftest import node, outputs


def conn(connection, **extra):
    return {"__IMTCONN__": connection.id, **extra}


def records(onecrm, model):
    return onecrm.state()["records"][model]


def writes(onecrm):
    return [
        (r["method"], r["path"].removeprefix("/api.php/data/"))
        for r in onecrm.state()["requests"]
        if r["method"] in ("POST", "PATCH", "DELETE")
    ]


@pytest.fixture
def seeded(onecrm):
    onecrm.control(
        "seed",
        {
            "Account": [
                {"name": "Kauri Consulting", "email1": "info@kauri.example"},
                {"name": "Kauri Timber", "billing_address_city": "Auckland"},
                {"name": "Kauri", "billing_address_city": "Whangārei"},
                {"name": "Rimu Ltd"},
            ]
        },
    )
    return onecrm


def test_search_records_by_filter_text_with_fields_and_limit(runner, seeded, onecrm_connection):
    record = runner.one(
        "onecrm:SearchRecords",
        {"model": "Accounts", "filter_text": "kauri", "fields": "name,email1"},
        conn(onecrm_connection, limit=1),
    )
    found = outputs(record, 1)
    assert len(found) == 1 and found[0]["name"].startswith("Kauri")
    assert set(found[0]) == {"id", "name", "email1", "_display", "__IMTINDEX__", "__IMTLENGTH__"}
    every = runner.one(
        "onecrm:SearchRecords",
        {"filter_text": "kauri"},
        conn(onecrm_connection, model="Account", limit=0),
    )
    assert len(outputs(every, 1)) == 3
    assert "billing_address_city" in outputs(every, 1)[0]  # every field when none are named


def test_match_exactly_keeps_only_equal_records(runner, seeded, onecrm_connection):
    record = runner.one(
        "onecrm:SearchRecords",
        {"model": "Account", "filter_text": "KAURI", "match": {"name": "kauri"}},
        conn(onecrm_connection, limit=1),
    )
    assert [r["billing_address_city"] for r in outputs(record, 1)] == ["Whangārei"]


def test_search_takes_declared_filters_only(runner, seeded, onecrm, onecrm_connection):
    declared = runner.one(
        "onecrm:SearchRecords",
        {"model": "Account", "filters": {"address_city": "auck"}},
        conn(onecrm_connection, limit=0),
    )
    assert [r["name"] for r in outputs(declared, 1)] == ["Kauri Timber"]
    undeclared = runner.one(
        "onecrm:SearchRecords",
        {"model": "Invoice", "filters": {"integrated_id": "X-1"}},
        conn(onecrm_connection),
    )
    assert undeclared.status == "error"
    assert undeclared.error["type"] == "InvalidConfigurationError"
    assert "has no filter integrated_id" in undeclared.error["message"]
    assert not onecrm.requests_to("/api.php/data/Invoice")  # refused before asking


def test_search_pages_through_results(runner, onecrm, onecrm_connection):
    onecrm.control("seed", {"Account": [{"name": f"Company {n:03}"} for n in range(450)]})
    record = runner.one(
        "onecrm:SearchRecords",
        {"model": "Account", "order": "name", "fields": ["name"]},
        conn(onecrm_connection, limit=0),
    )
    assert record.modules[1].bundles_out == 450  # the record keeps the first 100 only
    assert outputs(record, 1)[0]["name"] == "Company 000"
    offsets = [r["query"]["offset"][0] for r in onecrm.requests_to("/api.php/data/Account")]
    assert offsets == ["0", "200", "400"]


def test_create_get_and_update_a_record(runner, onecrm, onecrm_connection):
    created = runner.one(
        "onecrm:CreateRecord",
        {"model": "Account", "name": "Totara Tech", "email1": "", "billing_address_city": "Nelson"},
        conn(onecrm_connection),
    )
    assert created.status == "success", created.error
    account = outputs(created, 1)[0]
    assert account["assigned_user_id"] == "1"  # the connection's default Assigned ID
    assert account["date_modified"].endswith(".000Z")
    assert account["exchange_rate"] == 1  # 1CRM's text "1" as a number
    sent = onecrm.requests_to("/api.php/data/Account", "POST")[0]["json"]["data"]
    assert "email1" not in sent

    got = runner.one(
        "onecrm:GetRecord", {"model": "Account", "id": account["id"]}, conn(onecrm_connection)
    )
    assert outputs(got, 1)[0]["billing_address_city"] == "Nelson"

    updated = runner.one(
        "onecrm:UpdateRecord",
        {"model": "Account", "id": account["id"], "name": "Totara Technology"},
        conn(onecrm_connection),
    )
    assert updated.status == "success", updated.error
    assert outputs(updated, 1)[0]["name"] == "Totara Technology"
    assert outputs(updated, 1)[0]["billing_address_city"] == "Nelson"


def test_get_record_requires_fields_filled_in(runner, seeded, onecrm, onecrm_connection):
    """``require``: a record without those fields is an error a Break retries (a payment's
    invoice whose Integrated ID is not written back yet), one with them is the record."""
    account = records(onecrm, "Account")
    (bare,) = [a for a in account if a["name"] == "Rimu Ltd"]
    (mailed,) = [a for a in account if a["name"] == "Kauri Consulting"]
    waiting = runner.one(
        "onecrm:GetRecord",
        {"model": "Account", "id": bare["id"], "fields": "name", "require": "email1"},
        conn(onecrm_connection),
    )
    assert waiting.status == "error"
    assert waiting.error["type"] == "DataError"
    assert waiting.error["message"] == f"1CRM Account {bare['id']} has no email1 (yet)"
    got = runner.one(
        "onecrm:GetRecord",
        {"model": "Account", "id": mailed["id"], "fields": "name", "require": "email1"},
        conn(onecrm_connection),
    )
    assert outputs(got, 1)[0]["email1"] == "info@kauri.example"


def test_update_a_missing_record_fails_or_creates_when_asked(runner, onecrm, onecrm_connection):
    missing = runner.one(
        "onecrm:UpdateRecord",
        {"model": "Account", "id": "no-such-id", "name": "Ghost"},
        conn(onecrm_connection),
    )
    assert missing.status == "error"
    assert missing.error["type"] == "DataError"
    assert missing.error["message"] == "1CRM: Not found"
    created = runner.one(
        "onecrm:UpdateRecord",
        {"model": "Account", "id": "no-such-id", "name": "Ghost", "create_if_missing": True},
        conn(onecrm_connection),
    )
    assert created.status == "success", created.error
    assert (outputs(created, 1)[0]["id"], outputs(created, 1)[0]["name"]) == ("no-such-id", "Ghost")
    patch = onecrm.requests_to("/api.php/data/Account/no-such-id", "PATCH")[-1]["json"]
    assert patch == {"data": {"name": "Ghost", "assigned_user_id": "1"}, "create": True}


def test_invoice_lines_and_payment_take_several_calls(runner, onecrm, onecrm_connection):
    onecrm.control("seed", {"Account": [{"id": "acc-p", "name": "Pohutukawa Inc"}]})
    created = runner.one(
        "onecrm:CreateRecord",
        {
            "model": "Invoice",
            "name": "INV for Pohutukawa",
            "billing_account_id": "acc-p",
            "integrated_id": "xero-invoice-1",
            "due_date": "2026-03-31T00:00:00",
            "currency": "NZD",
            "line_items": [
                {"name": "Widget", "quantity": 2, "unit_price": 50, "tax_percentage": 15},
                {"name": "Fee", "unit_price": 10, "tax_amount": 1},
                {"name": "Exempt", "unit_price": 5, "tax_percentage": 0},
            ],
        },
        conn(onecrm_connection),
    )
    assert created.status == "success", created.error
    invoice = outputs(created, 1)[0]
    assert (invoice["amount"], invoice["amount_due"], invoice["total_tax"]) == (131, 131, 16)
    assert invoice["due_date"] == "2026-03-31" and invoice["currency"] == "New Zealand Dollar: $"
    assert [line["tax_percentage"] for line in invoice["line_items"]] == [15, 10, 0]
    assert writes(onecrm) == [
        ("POST", "Invoice"),
        ("POST", "InvoiceLineGroup"),
        ("POST", "InvoiceLine"),
        ("POST", "InvoiceAdjustment"),
        ("POST", "InvoiceLine"),
        ("POST", "InvoiceAdjustment"),
        ("POST", "InvoiceLine"),
    ]

    lines = runner.one(
        "onecrm:ListLineItems", {"model": "Invoice", "id": invoice["id"]}, conn(onecrm_connection)
    )
    assert [
        (b["name"], b["quantity"], b["unit_price"], b["tax_percentage"], b["tax_amount"])
        for b in outputs(lines, 1)
    ] == [("Widget", 2, 50, 15, 15), ("Fee", 1, 10, 10, 1), ("Exempt", 1, 5, 0, 0)]

    payment = runner.one(
        "onecrm:CreateRecord",
        {
            "model": "Payment",
            "amount": 100,
            "account_id": "acc-p",
            "payment_date": "2026-04-01",
            "related_invoices": [{"integrated_id": "xero-invoice-1", "amount": 100}],
        },
        conn(onecrm_connection),
    )
    assert payment.status == "success", payment.error
    paid = outputs(payment, 1)[0]
    assert (paid["direction"], paid["total_amount"]) == ("incoming", 100)
    assert paid["related_invoices"][0]["invoice_id"] == invoice["id"]
    (link,) = records(onecrm, "invoices_payments")
    assert (link["invoice_id"], link["amount"]) == (invoice["id"], "100")
    assert records(onecrm, "Invoice")[0]["amount_due"] == "31"

    allocations = runner.one(
        "onecrm:ListPaymentInvoices", {"id": paid["id"]}, conn(onecrm_connection)
    )
    assert [(a["integrated_id"], a["amount"]) for a in outputs(allocations, 1)] == [
        ("xero-invoice-1", 100)
    ]


def test_a_payment_s_invoices_listed_with_require_wait_for_every_one(
    runner, onecrm, onecrm_connection
):
    """``require`` on List a Payment's Invoices: the payment's second invoice without its
    Integrated ID is an error naming it (a Break retries it: §3.6 waited for the first one
    only); once it has one, every invoice is listed."""
    onecrm.control("seed", {"Account": [{"id": "acc-m", "name": "Rata Ltd"}]})
    made = []
    for integrated in ("qbo-1", ""):
        created = runner.one(
            "onecrm:CreateRecord",
            {
                "model": "Invoice",
                "name": "Work",
                "billing_account_id": "acc-m",
                **({"integrated_id": integrated} if integrated else {}),
                "line_items": [{"name": "Advice", "unit_price": 50, "tax_percentage": 0}],
            },
            conn(onecrm_connection),
        )
        assert created.status == "success", created.error
        made.append(outputs(created, 1)[0]["id"])
    payment = runner.one(
        "onecrm:CreateRecord",
        {
            "model": "Payment",
            "amount": 30,
            "account_id": "acc-m",
            "related_invoices": [
                {"invoice_id": made[0], "amount": 10},
                {"invoice_id": made[1], "amount": 20},
            ],
        },
        conn(onecrm_connection),
    )
    assert payment.status == "success", payment.error
    paid = outputs(payment, 1)[0]["id"]
    asked = {"id": paid, "require": "integrated_id"}
    waiting = runner.one("onecrm:ListPaymentInvoices", asked, conn(onecrm_connection))
    assert waiting.status == "error" and waiting.error["type"] == "DataError"
    assert waiting.error["message"] == (
        f"1CRM Invoice {made[1]} (paid by payment {paid}) has no integrated_id (yet)"
    )
    synced = runner.one(
        "onecrm:UpdateRecord",
        {"model": "Invoice", "id": made[1], "integrated_id": "qbo-2"},
        conn(onecrm_connection),
    )
    assert synced.status == "success", synced.error
    listed = runner.one("onecrm:ListPaymentInvoices", asked, conn(onecrm_connection))
    assert [(a["integrated_id"], a["amount"]) for a in outputs(listed, 1)] == [
        ("qbo-1", 10),
        ("qbo-2", 20),
    ]


def test_updating_an_invoice_with_lines_replaces_them(runner, onecrm, onecrm_connection):
    """An edit made in the accounting system: the new lines are written, the old ones go, the
    totals follow, and the invoice owes the new total less what was paid on it."""
    onecrm.control("seed", {"Account": [{"id": "acc-e", "name": "Kowhai Ltd"}]})
    first = [{"name": "Widget", "quantity": 2, "unit_price": 50, "tax_percentage": 15}]
    created = runner.one(
        "onecrm:CreateRecord",
        {"model": "Invoice", "name": "INV", "billing_account_id": "acc-e", "line_items": first},
        conn(onecrm_connection),
    )
    invoice = outputs(created, 1)[0]
    paid = runner.one(
        "onecrm:CreateRecord",
        {
            "model": "Payment",
            "amount": 15,
            "account_id": "acc-e",
            "payment_date": "2026-04-01",
            "related_invoices": [{"invoice_id": invoice["id"], "amount": 15}],
        },
        conn(onecrm_connection),
    )
    assert paid.status == "success", paid.error
    edited = runner.one(
        "onecrm:UpdateRecord",
        {
            "model": "Invoice",
            "id": invoice["id"],
            "due_date": "2026-05-31",
            "line_items": [
                {"name": "Advice", "quantity": 3, "unit_price": 20, "tax_percentage": 15},
                {"name": "Freight", "unit_price": 7, "tax_percentage": 0},
            ],
        },
        conn(onecrm_connection),
    )
    assert edited.status == "success", edited.error
    invoice = outputs(edited, 1)[0]
    assert (invoice["amount"], invoice["total_tax"], invoice["amount_due"]) == (76, 9, 61)
    assert invoice["due_date"] == "2026-05-31"
    listed = runner.one(
        "onecrm:ListLineItems", {"model": "Invoice", "id": invoice["id"]}, conn(onecrm_connection)
    )
    assert [(b["name"], b["quantity"], b["tax_amount"]) for b in outputs(listed, 1)] == [
        ("Advice", 3, 9),
        ("Freight", 1, 0),
    ]
    assert len(records(onecrm, "InvoiceLineGroup")) == 1


def test_discounts_kept_tax_amounts_and_rounding_per_line(runner, onecrm, onecrm_connection):
    """A line's discount and tax are rounded to the cent each; the totals are their sums; a
    tax amount given with its percentage is kept (another system's rounding)."""
    onecrm.control("seed", {"Account": [{"id": "acc-p", "name": "Pohutukawa Inc"}]})
    created = runner.one(
        "onecrm:CreateRecord",
        {
            "model": "Invoice",
            "name": "Discounted",
            "billing_account_id": "acc-p",
            "line_items": [
                # 3 x 10.05 = 30.15, less 10 % (3.015 rounds up) = 27.13, GST 4.07 (4.0695)
                {
                    "name": "Pen",
                    "quantity": 3,
                    "unit_price": 10.05,
                    "discount_percentage": 10,
                    "tax_percentage": 15,
                },
                # 28.98666… keeps 4 decimals: 3 x 28.9867 = 86.96; the tax stays 13.04
                {
                    "name": "Net of GST",
                    "quantity": 3,
                    "unit_price": 86.96 / 3,
                    "tax_percentage": 15,
                    "tax_amount": 13.04,
                },
                {"name": "Fee", "unit_price": 20, "discount_amount": 5, "tax_percentage": 15},
            ],
        },
        conn(onecrm_connection),
    )
    assert created.status == "success", created.error
    invoice = outputs(created, 1)[0]
    assert (invoice["subtotal"], invoice["total_tax"], invoice["amount"]) == (137.11, 19.36, 148.45)
    stored = records(onecrm, "Invoice")[0]
    assert (stored["total_discount"], stored["pretax"]) == ("8.02", "129.09")
    adjustments = sorted(
        (a["type"], a["rate"], a["amount"]) for a in records(onecrm, "InvoiceAdjustment")
    )
    assert adjustments == [
        ("StandardDiscount", None, "5"),
        ("StandardTax", "15", "13.04"),
        ("StandardTax", "15", "2.25"),
        ("StandardTax", "15", "4.07"),
        ("StdPercentDiscount", "10", "3.02"),
    ]
    lines = runner.one(
        "onecrm:ListLineItems", {"model": "Invoice", "id": invoice["id"]}, conn(onecrm_connection)
    )
    assert [
        (
            b["unit_price"],
            b["discount_percentage"],
            b["discount_amount"],
            b["ext_price"],
            b["tax_amount"],
        )
        for b in outputs(lines, 1)
    ] == [
        (10.05, 10, 3.02, 27.13, 4.07),
        (28.9867, None, 0, 86.96, 13.04),
        (20, None, 5, 15, 2.25),
    ]


def invoice_of_p(onecrm, price):
    """An invoice of account P (seeded) with one line at ``price``, saved in 1CRM's screens."""
    onecrm.control("seed", {"Account": [{"id": "acc-p", "name": "P"}]})
    crm_invoice = {
        "name": "I",
        "billing_account_id": "acc-p",
        "line_items": [{"name": "a", "unit_price": price}],
    }
    return onecrm.http.post(f"{onecrm.url}/_sandbox/ui/Invoice", json=crm_invoice).json()["id"]


def test_a_payment_larger_than_the_amount_due_writes_nothing(runner, onecrm, onecrm_connection):
    invoice_id = invoice_of_p(onecrm, 10)
    before = len(onecrm.state()["requests"])
    record = runner.one(
        "onecrm:CreateRecord",
        {
            "model": "Payment",
            "amount": 20,
            "related_invoices": [{"invoice_id": invoice_id, "amount": 20}],
        },
        conn(onecrm_connection),
    )
    assert record.status == "error" and record.error["type"] == "DataError"
    assert "exceeds what invoice I still has due (10)" in record.error["message"]
    assert not [r for r in onecrm.state()["requests"][before:] if r["method"] != "GET"]


def test_a_payment_is_allocated_again_and_its_invoice_owes_the_difference(
    runner, onecrm, onecrm_connection
):
    """Update a Record with a payment's ``related_invoices`` (a payment edited in the other
    system): the old share is given back, the new one taken, the totals follow; the same
    allocation again writes nothing."""
    invoice_id = invoice_of_p(onecrm, 100)
    paid = runner.one(
        "onecrm:CreateRecord",
        {
            "model": "Payment",
            "amount": 60,
            "related_invoices": [{"invoice_id": invoice_id, "amount": 60}],
        },
        conn(onecrm_connection),
    )
    assert paid.status == "success", paid.error
    (payment,) = records(onecrm, "Payment")
    payment_id = payment["id"]
    again = {
        "model": "Payment",
        "id": payment_id,
        "amount": 25,
        "related_invoices": [{"invoice_id": invoice_id, "amount": 25}],
    }
    update = runner.one("onecrm:UpdateRecord", again, conn(onecrm_connection))
    assert update.status == "success", update.error
    (invoice,) = records(onecrm, "Invoice")
    assert float(invoice["amount_due"]) == 75
    (payment,) = records(onecrm, "Payment")
    assert (float(payment["amount"]), float(payment["total_amount"])) == (25, 25)
    (link,) = records(onecrm, "invoices_payments")
    assert float(link["amount"]) == 25
    before = len(writes(onecrm))
    assert runner.one("onecrm:UpdateRecord", again, conn(onecrm_connection)).status == "success"
    assert len(writes(onecrm)) == before


def test_a_failed_line_takes_the_invoice_back(runner, onecrm, onecrm_connection):
    onecrm.control("seed", {"Account": [{"id": "acc-p", "name": "P"}]})
    onecrm.fault(status=500, count=1, method="POST", path_prefix="/api.php/data/InvoiceAdj")
    record = runner.one(
        "onecrm:CreateRecord",
        {
            "model": "Invoice",
            "name": "Half",
            "billing_account_id": "acc-p",
            "line_items": [{"name": "a", "unit_price": 10, "tax_percentage": 15}],
        },
        conn(onecrm_connection),
    )
    assert record.status == "error" and record.error["type"] == "ConnectionError"
    for model in ("Invoice", "InvoiceLineGroup", "InvoiceLine", "InvoiceAdjustment"):
        assert records(onecrm, model) == []
    assert [(method, path.split("/")[0]) for method, path in writes(onecrm)] == [
        ("POST", "Invoice"),
        ("POST", "InvoiceLineGroup"),
        ("POST", "InvoiceLine"),
        ("POST", "InvoiceAdjustment"),
        ("DELETE", "InvoiceLine"),
        ("DELETE", "InvoiceLineGroup"),
        ("DELETE", "Invoice"),
    ]


def test_lines_need_a_tax_rate_1crm_has(runner, onecrm, onecrm_connection):
    onecrm.control("seed", {"Account": [{"id": "acc-p", "name": "P"}]})
    record = runner.one(
        "onecrm:CreateRecord",
        {
            "model": "Quote",
            "name": "Q",
            "billing_account_id": "acc-p",
            "line_items": [{"name": "a", "unit_price": 10, "tax_percentage": 12.5}],
        },
        conn(onecrm_connection),
    )
    assert record.status == "error" and record.error["type"] == "DataError"
    assert record.error["message"] == (
        "1CRM has no tax rate of 12.5 % (it has 10 %, 15 %): add it in 1CRM (Tax Rates) "
        "before syncing these lines"
    )
    assert writes(onecrm) == []


def test_validation_errors_name_the_line(runner, onecrm, onecrm_connection):
    record = runner.one(
        "onecrm:CreateRecord",
        {
            "model": "Invoice",
            "name": "Bad",
            "line_items": [
                {"name": "ok", "unit_price": 1},
                {"name": "x", "unit_price": 1, "discount_percentage": 5, "discount_amount": 1},
            ],
        },
        conn(onecrm_connection),
    )
    assert record.status == "error" and record.error["type"] == "DataError"
    assert (
        "line_items[2]: discount_percentage or discount_amount, not both" in record.error["message"]
    )
    assert writes(onecrm) == []


def test_an_unknown_currency_is_a_data_error(runner, onecrm, onecrm_connection):
    record = runner.one(
        "onecrm:CreateRecord",
        {"model": "Account", "name": "A", "currency": "JPY"},
        conn(onecrm_connection),
    )
    assert record.status == "error"
    assert record.error["message"] == (
        "1CRM has no currency JPY (it has USD, NZD, AUD, EUR, GBP): add it in 1CRM (Currencies) "
        "first"
    )


def test_parts_are_written_only_with_their_record(runner, onecrm, onecrm_connection):
    lines = [{"name": "a", "unit_price": 1}]
    allocations = [{"invoice_id": "i1", "amount": 1}]
    for model, mapped in [
        ("Invoice", {"related_invoices": allocations}),
        ("Account", {"line_items": lines}),
    ]:
        update = runner.one(
            "onecrm:UpdateRecord", {"model": model, "id": "i1", **mapped}, conn(onecrm_connection)
        )
        assert update.status == "error" and update.error["type"] == "InvalidConfigurationError"
        assert "1CRM keeps them as records of their own" in update.error["message"]
    for model, mapped in [
        ("Invoice", {"line_items": lines, "related_invoices": allocations}),
        ("Account", {"line_items": lines}),
    ]:
        create = runner.one(
            "onecrm:CreateRecord", {"model": model, "name": "x", **mapped}, conn(onecrm_connection)
        )
        assert create.error["type"] == "InvalidConfigurationError", create.error
    assert writes(onecrm) == []


def test_new_event_bundle_is_the_flat_record():
    flat = {"id": "a1", "name": "X", "date_modified": "2026-01-02 03:04:05", "amount": "12.5"}
    expected = {
        "id": "a1",
        "name": "X",
        "date_modified": "2026-01-02T03:04:05.000Z",
        "amount": 12.5,
    }
    assert webhook_bundles(flat) == [expected]
    assert webhook_bundles({"webhook_id": "w", "record": flat}) == [expected]
    assert webhook_bundles({"hello": "world"}) == []


def test_new_event_run_once_with_a_sample(runner):
    flow = [
        node(
            1,
            "onecrm:NewEvent",
            {"record": {"id": "a1", "name": "Sample"}},
            {"__IMTCONN__": 1, "model": "Account", "event": "create"},
        )
    ]
    record = runner.run(flow)
    assert outputs(record, 1)[0]["name"] == "Sample"


def test_wrong_password_is_an_account_validation_error(runner, store, onecrm):
    from .conftest import connect_onecrm

    bad = connect_onecrm(store, onecrm, password="wrong")
    record = runner.one("onecrm:SearchRecords", {"model": "Account"}, conn(bad))
    assert record.status == "error" and record.error["type"] == "AccountValidationError"
    assert "Basic authentication is probably disabled" in record.error["message"]
