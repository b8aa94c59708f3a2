"""QuickBooks Online modules over real HTTP against the sandbox: OAuth with the realm id,
records, search escaping, sparse updates and the stale-SyncToken race, documents, watches,
errors, limits and signed webhooks."""

from __future__ import annotations

import pytest

from engine.connections import ResolvedConnection
from engine.errors import AccountValidationError, RateLimitError
from modules.quickbooks.modules import webhook_bundles

from . import test_quickbooks_support as support
from .conftest import barrier_threads, outputs
from .test_quickbooks_support import REALM, VERIFIER, conn, qbo_records

# The support module's fixtures, made visible to this module's tests.
start_quickbooks = support.start_quickbooks
quickbooks = support.quickbooks
qbo_connection = support.qbo_connection
intuit_receiver = support.intuit_receiver


def run_one(runner, module, mapper, connection, **parameters):
    record = runner.one(module, mapper, conn(connection, **parameters))
    assert record.status == "success", record.error
    return outputs(record, 1)


def failed(runner, module, mapper, connection, **parameters):
    record = runner.one(module, mapper, conn(connection, **parameters))
    assert record.status != "success"
    return record.modules[1].calls[-1].error


# -- connection ---------------------------------------------------------------------------------


def test_authorization_keeps_the_callbacks_realm_and_the_company_name(qbo_connection):
    assert qbo_connection.data["realm_id"] == REALM
    assert qbo_connection.data["company_name"]
    assert "access_token" not in qbo_connection.data


def test_test_connection_reads_the_company(resolver, qbo_connection):
    facts = resolver.test(qbo_connection.id)
    assert facts["realm_id"] == REALM and facts["company"]


def test_authorization_without_realm_is_refused(registry, http, quickbooks):
    kind = registry.connection_kind("quickbooks")
    with pytest.raises(AccountValidationError, match="realmId"):
        kind.on_authorized({"base_url": quickbooks.url}, "token", http)


def test_expired_token_is_refreshed_before_the_call(runner, clock, qbo_connection, resolver):
    clock.offset_seconds = 3600 * 2  # past the hour an access token lives
    before = qbo_connection.secrets["access_token"]
    found = run_one(runner, "quickbooks:GetCustomer", {"Id": "1"}, qbo_connection)
    assert found[0]["Id"] == "1"
    assert resolver.get(qbo_connection.id).access_token != before


# -- customers ----------------------------------------------------------------------------------


def test_create_get_and_search_a_customer_with_quotes_and_ampersand(runner, qbo_connection):
    created = run_one(
        runner,
        "quickbooks:CreateCustomer",
        {
            "DisplayName": "O'Brien & Sons",
            "CompanyName": "O'Brien & Sons",
            "PrimaryEmailAddr": "ob@obrien.example",
            "BillAddr": {"City": "Dunedin"},
        },
        qbo_connection,
    )[0]
    assert created["Id"] and created["SyncToken"] == "0"
    assert created["PrimaryEmailAddr"] == {"Address": "ob@obrien.example"}

    got = run_one(runner, "quickbooks:GetCustomer", {"Id": created["Id"]}, qbo_connection)
    assert got[0]["DisplayName"] == "O'Brien & Sons"

    found = run_one(
        runner, "quickbooks:SearchForCustomers", {"DisplayName": "O'Brien & Sons"}, qbo_connection
    )
    assert [c["Id"] for c in found] == [created["Id"]]
    assert found[0]["__IMTLENGTH__"] == 1

    by_start = run_one(
        runner,
        "quickbooks:SearchForCustomers",
        {"CompanyName": "O'Bri", "match": "startsWith"},
        qbo_connection,
    )
    assert [c["Id"] for c in by_start] == [created["Id"]]


def test_search_with_a_backslash_and_by_email_and_rules(runner, qbo_connection):
    name = "Back\\slash 'Ltd'"
    created = run_one(runner, "quickbooks:CreateCustomer", {"DisplayName": name}, qbo_connection)
    found = run_one(runner, "quickbooks:SearchForCustomers", {"DisplayName": name}, qbo_connection)
    assert [c["Id"] for c in found] == [created[0]["Id"]]

    by_email = run_one(
        runner,
        "quickbooks:SearchForCustomers",
        {"PrimaryEmailAddr": "accounts@acmeltd.example"},
        qbo_connection,
    )
    assert [c["DisplayName"] for c in by_email] == ["ACME Ltd"]

    by_rule = run_one(
        runner,
        "quickbooks:SearchForCustomers",
        {"filter": [[{"field": "DisplayName", "operator": "contains", "value": "ACME"}]]},
        qbo_connection,
    )
    assert "ACME Ltd" in [c["DisplayName"] for c in by_rule]


def test_search_limit_is_maxresults_and_pages(runner, quickbooks, qbo_connection):
    found = run_one(runner, "quickbooks:SearchForCustomers", {}, qbo_connection, limit=2)
    assert len(found) == 2
    queries = [r["query"]["query"][0] for r in quickbooks.requests_to(f"/v3/company/{REALM}/query")]
    assert "MAXRESULTS 2" in queries[-1]
    everyone = run_one(runner, "quickbooks:SearchForCustomers", {}, qbo_connection, limit=0)
    assert len(everyone) == len(qbo_records(quickbooks, "Customer"))


def test_search_without_results_continues_when_asked(runner, qbo_connection):
    flow = [
        {
            "id": 1,
            "module": "quickbooks:SearchForCustomers",
            "version": 1,
            "parameters": conn(qbo_connection, continueWhenNoRes=True),
            "mapper": {"DisplayName": "Nobody At All"},
        },
        {
            "id": 2,
            "module": "util:SetVariable2",
            "version": 1,
            "parameters": {},
            "mapper": {"name": "reached", "scope": "roundtrip", "value": "yes"},
        },
    ]
    record = runner.run(flow)
    assert record.status == "success", record.error
    assert record.modules[1].bundles_out == 0
    assert record.modules[2].operations == 1


def test_sparse_update_changes_only_the_mapped_fields(runner, quickbooks, qbo_connection):
    updated = run_one(
        runner,
        "quickbooks:UpdateCustomer",
        {"Id": "1", "Notes": "Key account", "PrimaryPhone": "+64 9 555 0100"},
        qbo_connection,
    )[0]
    assert updated["Notes"] == "Key account"
    assert updated["PrimaryPhone"] == {"FreeFormNumber": "+64 9 555 0100"}
    assert updated["DisplayName"] == "ACME Ltd" and updated["SyncToken"] == "1"
    posted = quickbooks.requests_to(f"/v3/company/{REALM}/customer", "POST")[-1]["json"]
    assert posted["sparse"] is True and set(posted) >= {"Id", "SyncToken", "Notes"}
    assert "DisplayName" not in posted


def test_stale_sync_token_is_reread_and_retried_once(runner, quickbooks, qbo_connection):
    run_one(runner, "quickbooks:UpdateCustomer", {"Id": "1", "Notes": "first"}, qbo_connection)
    reads_before = len(quickbooks.requests_to(f"/v3/company/{REALM}/customer/1", "GET"))
    updated = run_one(
        runner,
        "quickbooks:UpdateCustomer",
        {"Id": "1", "SyncToken": "0", "Title": "Dr"},
        qbo_connection,
    )[0]
    assert updated["Title"] == "Dr" and updated["Notes"] == "first"
    assert updated["SyncToken"] == "2"
    reads = quickbooks.requests_to(f"/v3/company/{REALM}/customer/1", "GET")
    assert len(reads) == reads_before + 1  # the re-read after 5010


def test_two_updates_racing_on_one_customer_both_apply(runner, quickbooks, qbo_connection):
    """Two scenario runs update customer 1 at once with the SyncToken they both read: one
    gets 5010 from QuickBooks, re-reads the customer and applies its change on top."""
    token = run_one(runner, "quickbooks:GetCustomer", {"Id": "1"}, qbo_connection)[0]["SyncToken"]

    def update(field, value):
        return lambda: runner.one(
            "quickbooks:UpdateCustomer",
            {"Id": "1", "SyncToken": token, field: value},
            conn(qbo_connection),
        )

    first, second = barrier_threads(2, _alternating(update("Notes", "A"), update("Title", "Ms")))
    assert first.status == "success", first.error
    assert second.status == "success", second.error
    customer = next(c for c in qbo_records(quickbooks, "Customer") if c["Id"] == "1")
    assert customer["Notes"] == "A" and customer["Title"] == "Ms"
    assert customer["SyncToken"] == str(int(token) + 2)
    writes = quickbooks.requests_to(f"/v3/company/{REALM}/customer", "POST")
    assert [w["status"] for w in writes].count(400) == 1  # exactly one stale answer
    assert len(quickbooks.requests_to(f"/v3/company/{REALM}/customer/1", "GET")) == 2


def _alternating(*targets):
    """A thread target calling ``targets`` in turn, one per thread."""
    import itertools
    import threading

    lock = threading.Lock()
    order = itertools.cycle(targets)

    def target():
        with lock:
            chosen = next(order)
        return chosen()

    return target


def test_duplicate_name_fault_is_a_clear_data_error(runner, qbo_connection):
    error = failed(runner, "quickbooks:CreateCustomer", {"DisplayName": "ACME Ltd"}, qbo_connection)
    assert error["type"] == "DataError"
    assert error["message"].startswith("QuickBooks: Duplicate Name Exists Error: ")
    assert "The name supplied already exists. : Id=1" in error["message"]


def test_unknown_customer_is_object_not_found(runner, qbo_connection):
    error = failed(runner, "quickbooks:GetCustomer", {"Id": "999"}, qbo_connection)
    assert error["type"] == "DataError" and "Object Not Found" in error["message"]


def test_revoked_token_is_an_account_validation_error(runner, http, quickbooks, qbo_connection):
    http.post(
        f"{quickbooks.url}/v2/oauth2/tokens/revoke",
        json={"token": qbo_connection.secrets["refresh_token"]},
        auth=("sandbox-client-id", "sandbox-client-secret"),
    )
    error = failed(runner, "quickbooks:GetCustomer", {"Id": "1"}, qbo_connection)
    assert error["type"] == "AccountValidationError"
    assert "AuthenticationFailed" in error["message"]


def test_429_is_retried_after_retry_after_on_reads(runner, quickbooks, qbo_connection):
    quickbooks.fault(status=429, count=1, retry_after=7, method="GET")
    found = run_one(runner, "quickbooks:GetCustomer", {"Id": "1"}, qbo_connection)
    assert found[0]["Id"] == "1"
    assert 7 in runner.sleeps


def test_429_on_a_write_is_a_rate_limit_error(runner, quickbooks, qbo_connection):
    quickbooks.fault(status=429, count=1, retry_after=9, method="POST")
    error = failed(runner, "quickbooks:CreateCustomer", {"DisplayName": "Kea Ltd"}, qbo_connection)
    assert error["type"] == "RateLimitError" and "ThrottleExceeded" in error["message"]


def test_the_client_limit_is_per_realm(runner, limiter, qbo_connection, resolver, http):
    from modules.connections import ApiClient
    from modules.quickbooks.client import QuickBooksClient, qbo_settings

    connection = resolver.get(qbo_connection.id)
    settings = qbo_settings(connection, rate_limit=2, max_retries=0)
    assert settings.rate_key == f"quickbooks:{REALM}"
    sleeps = []
    client = QuickBooksClient(ApiClient(settings, http, sleeps.append, limiter))
    client.get("Customer", "1")
    client.get("Customer", "1")
    with pytest.raises(RateLimitError):  # the sleep is a no-op here, so no slot frees up
        client.get("Customer", "1")
    assert len(sleeps) == 3 and all(0 < wait <= 60 for wait in sleeps)


# -- documents ----------------------------------------------------------------------------------


def test_create_an_invoice_with_items_tax_codes_and_a_discount(runner, qbo_connection):
    invoice = run_one(
        runner,
        "quickbooks:CreateInvoice",
        {
            "CustomerRef": "2",
            "TxnDate": "2024-03-01",
            "Line": [
                {"ItemRef": "2", "Qty": 2, "UnitPrice": 100, "TaxCodeRef": "4"},
                {"Description": "Travel", "ItemRef": "1", "Amount": 50, "TaxCodeRef": "6"},
            ],
            "DiscountPercent": 10,
            "CustomerMemo": "Thanks",
        },
        qbo_connection,
    )[0]
    assert invoice["CustomerRef"]["value"] == "2"
    assert invoice["CustomerMemo"] == {"value": "Thanks"}
    details = [line["DetailType"] for line in invoice["Line"]]
    assert details.count("SalesItemLineDetail") == 2 and "DiscountLineDetail" in details
    assert invoice["TxnTaxDetail"]["TotalTax"] == pytest.approx(27.0)  # 15 % of 200, less 10 %
    assert invoice["TotalAmt"] == pytest.approx(225 + 27.0)
    got = run_one(runner, "quickbooks:GetInvoice", {"Id": invoice["Id"]}, qbo_connection)
    assert got[0]["DocNumber"] == invoice["DocNumber"]


def test_create_an_estimate_and_get_it(runner, qbo_connection):
    estimate = run_one(
        runner,
        "quickbooks:CreateEstimate",
        {
            "CustomerRef": {"value": "1"},
            "ExpirationDate": "2024-04-30",
            "Line": [{"ItemRef": "3", "Qty": 1, "UnitPrice": 80, "TaxCodeRef": "4"}],
        },
        qbo_connection,
    )[0]
    assert estimate["TxnStatus"] == "Pending" and estimate["TotalAmt"] == pytest.approx(92.0)
    got = run_one(runner, "quickbooks:GetEstimate", {"Id": estimate["Id"]}, qbo_connection)
    assert got[0]["ExpirationDate"] == "2024-04-30"


def test_create_a_payment_linked_to_an_invoice(runner, qbo_connection):
    invoice = run_one(
        runner,
        "quickbooks:CreateInvoice",
        {
            "CustomerRef": "3",
            "Line": [{"ItemRef": "1", "Qty": 1, "UnitPrice": 100, "TaxCodeRef": "6"}],
        },
        qbo_connection,
    )[0]
    payment = run_one(
        runner,
        "quickbooks:CreatePayment",
        {"CustomerRef": "3", "TotalAmt": 40, "Line": [{"Amount": 40, "InvoiceId": invoice["Id"]}]},
        qbo_connection,
    )[0]
    assert payment["Line"][0]["LinkedTxn"] == [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]
    got = run_one(runner, "quickbooks:GetPayment", {"Id": payment["Id"]}, qbo_connection)
    assert got[0]["TotalAmt"] == 40
    after = run_one(runner, "quickbooks:GetInvoice", {"Id": invoice["Id"]}, qbo_connection)[0]
    assert after["Balance"] == pytest.approx(60)


def test_over_applied_payment_fault_message_is_verbatim(runner, qbo_connection):
    error = failed(
        runner,
        "quickbooks:CreatePayment",
        {"CustomerRef": "1", "TotalAmt": 99999, "InvoiceId": "1"},
        qbo_connection,
    )
    assert error["type"] == "DataError"
    assert "A business validation error has occurred" in error["message"]


# -- watches ------------------------------------------------------------------------------------


def test_watch_customers_all_then_only_changes(runner, quickbooks, qbo_connection):
    flow = [
        {
            "id": 1,
            "module": "quickbooks:WatchCustomers",
            "version": 1,
            "parameters": conn(qbo_connection, start="all", limit=50),
            "mapper": {},
        }
    ]
    first = runner.run(flow)
    assert first.status == "success", first.error
    assert first.modules[1].bundles_out == len(qbo_records(quickbooks, "Customer"))
    assert runner.run(flow).modules[1].bundles_out == 0

    run_one(runner, "quickbooks:UpdateCustomer", {"Id": "2", "Notes": "changed"}, qbo_connection)
    tui = run_one(runner, "quickbooks:CreateCustomer", {"DisplayName": "Tui Ltd"}, qbo_connection)
    third = runner.run(flow)
    assert [b["Id"] for b in outputs(third, 1)] == ["2", tui[0]["Id"]]
    assert runner.run(flow).modules[1].bundles_out == 0


def test_watch_starting_now_outputs_only_later_changes(runner, quickbooks, qbo_connection):
    flow = [
        {
            "id": 1,
            "module": "quickbooks:WatchInvoices",
            "version": 1,
            "parameters": conn(qbo_connection, start="now"),
            "mapper": {},
        }
    ]
    assert runner.run(flow).modules[1].bundles_out == 0
    assert runner.cursors[1]["since"]
    run_one(
        runner,
        "quickbooks:CreateInvoice",
        {
            "CustomerRef": "1",
            "Line": [{"ItemRef": "1", "Qty": 1, "UnitPrice": 5, "TaxCodeRef": "6"}],
        },
        qbo_connection,
    )
    assert runner.run(flow).modules[1].bundles_out == 1


def test_watch_payments_limit_and_same_second_records(runner, quickbooks, qbo_connection):
    for amount in (1, 2, 3):
        run_one(
            runner,
            "quickbooks:CreatePayment",
            {"CustomerRef": "2", "TotalAmt": amount},
            qbo_connection,
        )
    flow = [
        {
            "id": 1,
            "module": "quickbooks:WatchPayments",
            "version": 1,
            "parameters": conn(qbo_connection, start="date", startDate="2024-01-01", limit=2),
            "mapper": {},
        }
    ]
    seen = []
    for _ in range(4):
        record = runner.run(flow)
        assert record.status == "success", record.error
        seen += [b["Id"] for b in outputs(record, 1)]
    assert sorted(seen) == sorted({p["Id"] for p in qbo_records(quickbooks, "Payment")})
    assert len(seen) == len(set(seen))


# -- New Event ----------------------------------------------------------------------------------


def test_signed_webhooks_become_one_bundle_per_changed_entity(
    runner, quickbooks, qbo_connection, intuit_receiver
):
    quickbooks.control("config", {"webhook_url": intuit_receiver.url, "webhook_key": VERIFIER})
    run_one(runner, "quickbooks:CreateCustomer", {"DisplayName": "Weka Ltd"}, qbo_connection)
    bundles = webhook_bundles(intuit_receiver.next())
    assert [(b["realmId"], b["name"], b["operation"]) for b in bundles] == [
        (REALM, "Customer", "Create")
    ]
    assert bundles[0]["id"] and bundles[0]["lastUpdated"]


def test_wrongly_signed_webhooks_are_refused(runner, quickbooks, qbo_connection, intuit_receiver):
    quickbooks.control("config", {"webhook_url": intuit_receiver.url, "webhook_key": "other"})
    run_one(runner, "quickbooks:CreateCustomer", {"DisplayName": "Kiwi Ltd"}, qbo_connection)
    quickbooks.control("webhooks/flush")
    assert intuit_receiver.refused == 1 and not intuit_receiver.accepted


def test_resolved_connection_keeps_the_verifier_secret(resolver, qbo_connection):
    connection = resolver.get(qbo_connection.id)
    assert isinstance(connection, ResolvedConnection)
    assert connection["verifier_token"] == VERIFIER
    assert VERIFIER not in repr(connection)


def test_a_search_that_must_find_something_fails_when_nothing_matches(runner, qbo_connection):
    """``errorWhenNoRes``: nothing found is an error (a Break handler retries the record),
    not a quiet end — how §3.11 waits until the QuickBooks invoice owes the credit."""
    assert (
        run_one(runner, "quickbooks:SearchForCustomers", {"DisplayName": "Nobody"}, qbo_connection)
        == []
    )
    error = failed(
        runner,
        "quickbooks:SearchForCustomers",
        {"DisplayName": "Nobody"},
        qbo_connection,
        errorWhenNoRes=True,
    )
    assert error["type"] == "DataError"
    assert "Nobody" in error["message"] and "(yet)" in error["message"]
