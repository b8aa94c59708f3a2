"""The 1CRM sandbox against 1CRM's own API client and docs: each test names the line of
``shared/reference/vendor/1crm/NOTES.md`` (or the ``docs-pages/`` file) it checks. Where the
pack documents a rule, the sandbox is at least as strict as 1CRM."""

from __future__ import annotations

import pytest

DELETED_IS_FALSE = {
    "glue": "or",
    "conditions": [
        {"field": "deleted", "filter": "is_false", "value": "0", "when": "current_value"}
    ],
}


@pytest.fixture
def account(crm):
    return crm.create("Account", {"name": "1CRM Systems Corp.", "email1": "info@1crm.com"})


# -- auth (NOTES §1) ---------------------------------------------------------------------------


def test_basic_auth_can_be_off_as_on_a_new_instance(start_onecrm, http):
    """NOTES.md:27-28 — Basic auth "disabled by default — an admin must enable it"."""
    onecrm = start_onecrm({"basic_auth_enabled": False})
    refused = http.get(f"{onecrm.url}/api.php/data/Account", auth=("admin", "sandbox-password"))
    assert refused.status_code == 401
    body = refused.json()
    assert body["message"] == "Basic authentication is disabled"
    assert "administrator must enable Basic authentication" in body["hint"]
    onecrm.control("config", {"basic_auth_enabled": True})
    assert http.get(f"{onecrm.url}/api.php/data/Account", auth=("admin", "sandbox-password")).ok


def test_version_answers_without_credentials(onecrm, http):
    """NOTES.md:41-42 and docs-pages/utility.md — ``GET /version`` works unauthenticated:
    ``{"version", "authenticated", "products"}``."""
    anonymous = http.get(f"{onecrm.url}/api.php/version").json()
    assert set(anonymous) == {"version", "authenticated", "products"}
    assert anonymous["authenticated"] is False and anonymous["products"] == ["enterprise"]
    signed_in = http.get(f"{onecrm.url}/api.php/version", auth=("admin", "sandbox-password"))
    assert signed_in.json()["authenticated"] is True


def test_editions_without_the_rest_api_answer_403(start_onecrm, http):
    """NOTES.md:24 — "REST API exists only in Pro and Enterprise editions; Startup/Startup+
    answer 403"."""
    onecrm = start_onecrm({"edition": "startup"})
    answer = http.get(f"{onecrm.url}/api.php/data/Account", auth=("admin", "sandbox-password"))
    assert answer.status_code == 403 and answer.json()["error"] == "forbidden"


# -- data endpoints (NOTES §2) -----------------------------------------------------------------


def test_create_answers_only_the_id_with_200(crm):
    """NOTES.md:53 and :66 — create answers ``{"id": "<uuid>"}``; NOTES.md:87-88 — success is
    200 (1CRM's API docs)."""
    answer = crm.request("POST", "data/Account", json={"data": {"name": "Andrey"}})
    assert answer.status_code == 200
    assert list(answer.json()) == ["id"] and isinstance(answer.json()["id"], str)


def test_link_records_answer_a_list_of_ids(crm, account):
    """NOTES.md:53 — "(an array of ids for some link records)": ``invoices_payments``."""
    invoice = crm.create("Invoice", {"name": "Inv", "billing_account_id": account, "amount": 10})
    payment = crm.create("Payment", {"direction": "incoming", "amount": 10})
    answer = crm.request(
        "POST",
        "data/invoices_payments",
        json={"data": {"payment_id": payment, "invoice_id": invoice, "amount": 10}},
    ).json()
    assert isinstance(answer["id"], list) and len(answer["id"]) == 1


def test_patch_answers_result_true_and_never_the_record(crm, account):
    """NOTES.md:54 and :63-65; docs-pages/lowlevel.md (PATCH) — an update answers
    ``{"result": true}``, never the record."""
    answer = crm.request("PATCH", f"data/Account/{account}", json={"data": {"industry": "IT"}})
    assert answer.status_code == 200 and answer.json() == {"result": True}
    assert crm.get("Account", account)["industry"] == "IT"


def test_create_if_missing_is_the_body_key_create(crm):
    """NOTES.md:54 and :63-64 — ``{"data": {...}, "create": true}`` creates a missing record;
    ``create_if_missing`` is no such key."""
    ours = crm.request(
        "PATCH",
        "data/Account/a-new-id",
        params={"create_if_missing": 1},
        json={"data": {"name": "Ghost"}, "create_if_missing": True},
    )
    assert ours.status_code == 404
    theirs = crm.request(
        "PATCH", "data/Account/a-new-id", json={"data": {"name": "Ghost"}, "create": True}
    )
    assert theirs.json() == {"result": True}
    assert crm.get("Account", "a-new-id")["name"] == "Ghost"


def test_delete_answers_result_true(crm, account):
    """NOTES.md:55 — delete answers ``{"result": true}``."""
    assert crm.request("DELETE", f"data/Account/{account}").json() == {"result": True}
    assert crm.request("GET", f"data/Account/{account}").status_code == 404


def test_values_come_back_as_text(crm, account):
    """NOTES.md:71-72 — record values are strings (``"deleted": "0"``, ``"balance":
    "3222.22"``), datetimes ``"2018-02-23 07:28:28"``."""
    crm.request("PATCH", f"data/Account/{account}", json={"data": {"is_supplier": True}})
    record = crm.get("Account", account)
    assert record["deleted"] == "0" and record["is_supplier"] == "1"
    assert record["exchange_rate"] == "1"
    assert len(record["date_entered"]) == len("2018-02-23 07:28:28")


def test_a_list_shows_few_fields_a_record_all(crm, account):
    """NOTES.md:69-70 — without ``fields`` a list returns a limited number of fields (id,
    ``name``/``_display``), a record GET all fields."""
    (row,) = crm.request("GET", "data/Account").json()["records"]
    assert set(row) == {"id", "name", "_display"}
    assert "email1" in crm.get("Account", account)
    chosen = crm.request("GET", "data/Account", params={"fields[]": ["email1"]}).json()
    assert chosen["records"][0]["email1"] == "info@1crm.com"


def test_a_page_holds_at_most_200_records(onecrm, crm):
    """NOTES.md:75-76 — a call returns at most 200 records; page with offset + limit."""
    onecrm.control("seed", {"Account": [{"name": f"Company {n:03}"} for n in range(210)]})
    first = crm.request("GET", "data/Account", params={"limit": 500}).json()
    assert len(first["records"]) == 200 and first["total_results"] == 210
    rest = crm.request("GET", "data/Account", params={"limit": 500, "offset": 200}).json()
    assert len(rest["records"]) == 10


def test_metadata_lists_fields_and_filters(crm):
    """NOTES.md:59 and :79-80; docs-pages/meta.md — ``GET /meta/fields/{Model}`` answers
    ``{"fields", "filters"}`` with ``filter_text``, ``filter_owner``, ``filter_favorites``."""
    meta = crm.request("GET", "meta/fields/Contact").json()
    assert set(meta) == {"fields", "filters"}
    assert meta["fields"]["id"]["type"] == "id"
    assert {"filter_text", "filter_owner", "filter_favorites", "first_name"} <= set(meta["filters"])
    assert "integrated_id" in crm.request("GET", "meta/fields/Invoice").json()["fields"]


# -- filters (NOTES §3) ------------------------------------------------------------------------


def test_undeclared_filters_are_refused(crm, account):
    """NOTES.md:79-81; docs-pages/examples/filter-contacts.md:47-48 — "You cannot use
    arbitrary fields for filtering"."""
    answer = crm.request("GET", "data/Invoice", params={"filters[integrated_id]": "X-1"})
    assert answer.status_code == 400
    assert answer.json()["message"] == "Unknown filter integrated_id for model Invoice"
    assert "filter_text" in answer.json()["hint"]
    account_email = crm.request("GET", "data/Account", params={"filters[email1]": "x"})
    assert account_email.status_code == 400


def test_a_declared_text_filter_matches_the_start(onecrm, crm):
    """docs-pages/examples/filter-contacts.md:10-43 — ``filters[first_name]=John`` finds
    Johnathan Burgher, John Eastham and John Smith."""
    onecrm.control(
        "seed",
        {
            "Contact": [
                {"first_name": first, "last_name": last}
                for first, last in [
                    ("Johnathan", "Burgher"),
                    ("John", "Eastham"),
                    ("John", "Smith"),
                    ("Mary", "Johnson"),
                ]
            ]
        },
    )
    answer = crm.request(
        "GET", "data/Contact", params={"filters[first_name]": "John", "order": "last_name"}
    ).json()
    assert answer["total_results"] == 3
    assert [r["name"] for r in answer["records"]] == [
        "Johnathan Burgher",
        "John Eastham",
        "John Smith",
    ]


# -- errors (NOTES §4) -------------------------------------------------------------------------


def test_errors_are_error_message_hint(crm):
    """NOTES.md:89-91 — error bodies are ``{"error", "message", "hint"}``."""
    answer = crm.request("POST", "data/Account", json={"data": {}})
    assert answer.status_code == 400
    assert set(answer.json()) == {"error", "message", "hint"}
    assert answer.json()["message"] == "Invalid data: name: required"


def test_an_unknown_model_and_a_missing_record_are_404(crm):
    """docs-pages/examples/errors.md:23 ("Model Acount not found") and :74 ("Not found"), with
    neither type nor hint; NOTES.md:92 — 405 for a method not allowed."""
    typo = crm.request("POST", "data/Acount", json={"data": {"name": "New Account"}})
    assert (typo.status_code, typo.json()) == (
        404,
        {"error": "", "message": "Model Acount not found", "hint": ""},
    )
    missing = crm.request("GET", "data/Account/this-does-not-exist")
    assert (missing.status_code, missing.json()["message"]) == (404, "Not found")
    assert crm.request("PUT", "data/Account/x", json={}).status_code == 405


# -- tally objects (NOTES §5) ------------------------------------------------------------------


def test_an_invoice_takes_no_inline_lines(crm, account):
    """NOTES.md:96-99 — invoices are built from line group, line and adjustment records; the
    API has no "invoice with lines" call."""
    answer = crm.request(
        "POST",
        "data/Invoice",
        json={
            "data": {
                "name": "x",
                "billing_account_id": account,
                "line_items": [{"name": "a", "unit_price": 1}],
            }
        },
    )
    assert answer.status_code == 400
    assert answer.json()["message"] == "Invalid data: line_items: Invoice has no field line_items"
    payment = crm.request(
        "POST",
        "data/Payment",
        json={"data": {"direction": "incoming", "amount": 1, "related_invoices": []}},
    )
    assert "Payment has no field related_invoices" in payment.json()["message"]


def test_the_docs_invoice_with_payment_example_runs_call_by_call(crm, account):
    """docs-pages/examples/create-invoice.md (NOTES.md:99-111 and :117-123), replayed: Invoice,
    InvoiceLineGroup, InvoiceLine, InvoiceAdjustment, Payment, invoices_payments, then the
    caller sets ``amount_due``; the parts are read back through ``line_groups_link``,
    ``lines_link`` and ``adjustments_link`` (NOTES.md:115-116)."""
    contact = crm.create("Contact", {"first_name": "Andrey", "last_name": "Demenev"})
    invoice = crm.create(
        "Invoice",
        {
            "name": "1CRM On Premise Annual Subscription for 1 User (Enterprise Edition)",
            "shipping_stage": "None",
            "terms": "Due on Receipt",
            "description": "Annual Subscription",
            "invoice_date": "2020-01-01",
            "due_date": "2020-01-01",
            "billing_contact_id": contact,
            "billing_account_id": account,
            "amount": "224.55",
            "amount_due": "224.55",
        },
    )
    group = crm.create(
        "InvoiceLineGroup",
        {
            "parent_id": invoice,
            "name": "",
            "position": 1,
            "status": "Draft",
            "cost": "138.00",
            "subtotal": "248.40",
            "total": "224.55",
            "group_type": "products",
        },
    )
    line = crm.create(
        "InvoiceLine",
        {
            "invoice_id": invoice,
            "line_group_id": group,
            "name": "1CRM On Premise Annual Subscription for 1 User (Enterprise Edition)",
            "position": 1,
            "quantity": 1,
            "related_type": "ProductCatalog",
            "related_id": "4c5bb842-9e2e-8cd0-f483-55b9b036661c",
            "mfr_part_no": "1CRM-SW-Ent",
            "tax_class_id": "standard-tax_-code-0000-000000000001",
            "cost_price": "138.00",
            "list_price": "276.00",
            "unit_price": "248.40",
            "net_price": "198.72",
        },
    )
    (tax_rate,) = [
        r
        for r in crm.request("GET", "data/TaxRate", params={"fields[]": ["rate"]}).json()["records"]
        if r["rate"] == "15"
    ]
    crm.create(
        "InvoiceAdjustment",
        {
            "invoice_id": invoice,
            "line_group_id": group,
            "name": "HST",
            "position": 1,
            "related_type": "TaxRates",
            "related_id": tax_rate["id"],
            "rate": 13,
            "type": "StandardTax",
            "amount": "25.83",
        },
    )
    payment = crm.create(
        "Payment",
        {
            "account_id": account,
            "direction": "incoming",
            "payment_date": "2020-01-01",
            "payment_type": "Credit Card",
            "amount": "224.55",
            "total_amount": "224.55",
            "related_invoice_id": invoice,
            "applied_amount": "224.55",
        },
    )
    link = {"payment_id": payment, "invoice_id": invoice, "amount": "224.55"}
    assert crm.request("POST", "data/invoices_payments", json={"data": link}).ok
    assert crm.get("Invoice", invoice)["amount_due"] == "224.55"  # the link changes nothing
    crm.request("PATCH", f"data/Invoice/{invoice}", json={"data": {"amount_due": 0}})
    assert crm.get("Invoice", invoice)["amount_due"] == "0"

    def related(link_name, fields):
        return crm.request(
            "GET", f"data/Invoice/{invoice}/{link_name}", params={"fields[]": fields}
        ).json()["records"]

    assert [g["id"] for g in related("line_groups_link", ["position"])] == [group]
    (read_line,) = related("lines_link", ["position", "line_group_id", "net_price"])
    assert (read_line["id"], read_line["line_group_id"], read_line["net_price"]) == (
        line,
        group,
        "198.72",
    )
    (tax,) = related("adjustments_link", ["line_id", "type", "related_type", "rate"])
    assert (tax["line_id"], tax["type"], tax["related_type"], tax["rate"]) == (
        None,
        "StandardTax",
        "TaxRates",
        "13",
    )


def test_document_parts_must_belong_together(crm, account):
    """NOTES.md:96-98 — a document's lines sit in its line groups: a line of another
    invoice's group, or an adjustment type the docs do not show, is refused."""
    first = crm.create("Invoice", {"name": "A", "billing_account_id": account})
    second = crm.create("Invoice", {"name": "B", "billing_account_id": account})
    group = crm.create("InvoiceLineGroup", {"parent_id": first, "group_type": "products"})
    stray = crm.request(
        "POST",
        "data/InvoiceLine",
        json={"data": {"invoice_id": second, "line_group_id": group, "name": "x"}},
    )
    assert stray.json()["message"] == (
        "Invalid data: line_group_id: the line group belongs to another Invoice"
    )
    odd = crm.request(
        "POST",
        "data/InvoiceAdjustment",
        json={"data": {"invoice_id": first, "line_group_id": group, "type": "Surcharge"}},
    )
    assert odd.status_code == 400 and "is not one of StandardTax" in odd.json()["message"]


def test_quotes_have_their_own_part_models(crm, account):
    """NOTES.md:112-114 — ``QuoteLineGroup``/``QuoteLine``/``QuoteComment``/``QuoteAdjustment``
    with ``quote_id`` (docs-pages/examples/create-quote.md)."""
    quote = crm.create("Quote", {"name": "Offer", "billing_account_id": account, "amount": 1})
    group = crm.create("QuoteLineGroup", {"parent_id": quote, "position": 1})
    line = {"quote_id": quote, "line_group_id": group, "name": "x", "position": 1}
    crm.create("QuoteLine", line)
    crm.create(
        "QuoteComment",
        {"quote_id": quote, "line_group_id": group, "position": 2, "body": "Upgrade instance"},
    )
    discount = {
        "quote_id": quote,
        "line_group_id": group,
        "name": "Preferred Customer",
        "position": 0,
        "related_type": "Discounts",
        "rate": 20,
        "type": "StandardDiscount",
        "amount": "49.68",
    }
    crm.create("QuoteAdjustment", discount)
    comments = crm.request(
        "GET", f"data/Quote/{quote}/comments_link", params={"fields[]": ["body"]}
    ).json()
    assert comments["records"][0]["body"] == "Upgrade instance"


# -- webhooks (NOTES §6) -----------------------------------------------------------------------


def test_a_webhook_needs_type_model_url_and_a_filter(crm, receiver_factory):
    """NOTES.md:131-138 — ``POST /api.php/webhooks`` with ``type``, ``url``, ``model``,
    ``filters {glue, conditions[{field, filter, value, when}]}``; "the webhook will not
    trigger without or with a wrong filter"."""
    _, url = receiver_factory()
    without = crm.request(
        "POST", "webhooks", json={"type": "create", "url": url, "model": "Account"}
    )
    assert without.status_code == 400
    assert "filters: required" in without.json()["message"]
    assert "is_false" in without.json()["hint"]
    ours = crm.request(
        "POST",
        "webhooks",
        json={"event": "create_or_update", "url": url, "model": "Account", "filters": {}},
    )
    assert ours.status_code == 400 and "type: one of create, update" in ours.json()["message"]
    good = crm.request(
        "POST",
        "webhooks",
        json={"type": "create", "url": url, "model": "Account", "filters": DELETED_IS_FALSE},
    )
    assert good.status_code == 200 and set(good.json()) == {"id"}


def test_a_delivery_is_the_flat_record_and_unsigned(onecrm, crm, receiver_factory):
    """NOTES.md:139-141 — the delivery body is the changed record's fields; no signature
    header is documented."""
    onecrm.control("config", {"webhook_key": "would-sign-if-it-could"})
    receiver, url = receiver_factory()
    crm.request(
        "POST",
        "webhooks",
        json={"type": "create", "url": url, "model": "Account", "filters": DELETED_IS_FALSE},
    )
    account = crm.create("Account", {"name": "Hooked Ltd"})
    (delivery,) = receiver.wait_for(1)
    assert delivery["json"]["id"] == account and delivery["json"]["name"] == "Hooked Ltd"
    assert "record" not in delivery["json"] and "webhook_id" not in delivery["json"]
    assert not [h for h in delivery["headers"] if "signature" in h.lower()]
