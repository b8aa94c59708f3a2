"""QuickBooks client calls and error paths with ``responses`` standing in for Intuit, query
escaping, request bodies, and webhook signatures."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from engine.connections import resolved_from_values
from engine.errors import (
    AccountValidationError,
    ConnectionError,
    DataError,
    InvalidConfigurationError,
    RateLimitError,
)
from engine.ratelimit import MemoryRateLimiter
from modules.connections import ApiClient
from modules.quickbooks.client import (
    QuickBooksClient,
    condition,
    fault_codes,
    qbo_settings,
    quote,
)
from modules.quickbooks.connection import QUICKBOOKS_CONNECTION, remember_company
from modules.quickbooks.forms import (
    CreateInvoiceInput,
    CreatePaymentInput,
    payment_body,
    sales_document,
    with_line_taxes,
)
from modules.quickbooks.models import SearchCustomersInput
from modules.quickbooks.modules import webhook_bundles
from modules.quickbooks.search import SEARCHES, conditions
from modules.quickbooks.webhooks import (
    change_events,
    intuit_signature,
    intuit_webhook_status,
    verify_intuit_signature,
)

HOST = "https://quickbooks.api.intuit.com"
REALM = "9341453050000001"
API = f"{HOST}/v3/company/{REALM}"


def fault(code, message, detail, status=400, kind="ValidationFault"):
    return {
        "json": {
            "Fault": {
                "Error": [{"Message": message, "Detail": detail, "code": code, "element": ""}],
                "type": kind,
            },
            "time": "2024-01-08T02:05:00.000-08:00",
        },
        "status": status,
    }


STALE = fault(
    "5010",
    "Stale Object Error",
    "Stale Object Error : You and another user were working on the same thing.",
)


@pytest.fixture
def session():
    with requests.Session() as opened:
        yield opened


@pytest.fixture
def mocked():
    with responses.RequestsMock() as mock:
        yield mock


def connection(**data):
    return resolved_from_values(
        QUICKBOOKS_CONNECTION,
        {"realm_id": REALM, **data},
        {"access_token": "at-1", "refresh_token": "rt-1"},
    )


def qbo(session, sleeps=None, **overrides):
    settings = qbo_settings(connection(), **overrides)
    api = ApiClient(settings, session, (sleeps if sleeps is not None else []).append)
    return QuickBooksClient(api)


def query_of(call):
    return parse_qs(urlsplit(call.request.url).query)


# -- settings -----------------------------------------------------------------------------------


def test_settings_use_the_realm_bearer_token_and_per_realm_limit():
    settings = qbo_settings(connection())
    assert settings.base_url == API
    assert settings.headers["Authorization"] == "Bearer at-1"
    assert settings.rate_key == f"quickbooks:{REALM}" and settings.rate_limit == 500


def test_settings_need_a_realm_and_a_token():
    with pytest.raises(InvalidConfigurationError, match="realm"):
        qbo_settings(resolved_from_values(QUICKBOOKS_CONNECTION, {}, {"access_token": "x"}))
    with pytest.raises(InvalidConfigurationError, match="not authorized"):
        qbo_settings(resolved_from_values(QUICKBOOKS_CONNECTION, {"realm_id": REALM}, {}))


def test_a_sandbox_base_url_replaces_intuits():
    settings = qbo_settings(connection(base_url="http://127.0.0.1:9/"))
    assert settings.base_url == f"http://127.0.0.1:9/v3/company/{REALM}"


# -- calls --------------------------------------------------------------------------------------


def test_get_sends_minorversion_and_returns_the_entity(session, mocked):
    mocked.get(f"{API}/customer/7", json={"Customer": {"Id": "7", "SyncToken": "3"}})
    assert qbo(session).get("Customer", "7") == {"Id": "7", "SyncToken": "3"}
    assert query_of(mocked.calls[0])["minorversion"] == ["75"]


def test_create_posts_the_body(session, mocked):
    mocked.post(f"{API}/customer", json={"Customer": {"Id": "8", "DisplayName": "Kea"}})
    assert qbo(session).create("Customer", {"DisplayName": "Kea"})["Id"] == "8"
    assert json.loads(mocked.calls[0].request.body) == {"DisplayName": "Kea"}


def test_update_reads_the_sync_token_when_not_given(session, mocked):
    mocked.get(f"{API}/customer/7", json={"Customer": {"Id": "7", "SyncToken": "3"}})
    mocked.post(f"{API}/customer", json={"Customer": {"Id": "7", "SyncToken": "4"}})
    assert qbo(session).update("Customer", {"Id": "7", "Notes": "n"})["SyncToken"] == "4"
    body = json.loads(mocked.calls[1].request.body)
    assert body == {"Id": "7", "Notes": "n", "SyncToken": "3", "sparse": True}


def test_update_on_5010_rereads_and_retries_once_with_the_fresh_token(session, mocked):
    mocked.post(f"{API}/customer", **STALE)
    mocked.get(f"{API}/customer/7", json={"Customer": {"Id": "7", "SyncToken": "5"}})
    mocked.post(f"{API}/customer", json={"Customer": {"Id": "7", "SyncToken": "6"}})
    updated = qbo(session).update("Customer", {"Id": "7", "SyncToken": "4", "Notes": "n"})
    assert updated["SyncToken"] == "6"
    assert json.loads(mocked.calls[2].request.body)["SyncToken"] == "5"


def test_update_gives_up_after_a_second_5010(session, mocked):
    mocked.post(f"{API}/customer", **STALE)
    mocked.get(f"{API}/customer/7", json={"Customer": {"Id": "7", "SyncToken": "5"}})
    mocked.post(f"{API}/customer", **STALE)
    with pytest.raises(DataError, match="Stale Object Error") as raised:
        qbo(session).update("Customer", {"Id": "7", "SyncToken": "4", "Notes": "n"})
    assert fault_codes(raised.value) == {"5010"}
    assert len(mocked.calls) == 3


def test_other_faults_are_not_retried_by_update(session, mocked):
    mocked.post(f"{API}/customer", **fault("6240", "Duplicate Name Exists Error", "Id=1"))
    with pytest.raises(DataError, match="Duplicate Name Exists Error: Id=1"):
        qbo(session).update("Customer", {"Id": "7", "SyncToken": "4", "DisplayName": "ACME"})
    assert len(mocked.calls) == 1


def test_query_reads_the_entity_list_and_empty_answers(session, mocked):
    mocked.get(f"{API}/query", json={"QueryResponse": {"Customer": [{"Id": "1"}], "maxResults": 1}})
    mocked.get(f"{API}/query", json={"QueryResponse": {}})
    client = qbo(session)
    assert client.query("SELECT * FROM Customer") == [{"Id": "1"}]
    assert client.query("SELECT * FROM Customer WHERE Id = '9'") == []


def test_query_all_pages_with_startposition_and_stops_at_the_limit(session, mocked):
    page = {"QueryResponse": {"Customer": [{"Id": str(i)} for i in range(1000)]}}
    mocked.get(f"{API}/query", json=page)
    mocked.get(f"{API}/query", json={"QueryResponse": {"Customer": [{"Id": "x"}]}})
    found = list(qbo(session).query_all("SELECT * FROM Customer"))
    assert len(found) == 1001
    statements = [query_of(c)["query"][0] for c in mocked.calls]
    assert statements[0].endswith("STARTPOSITION 1 MAXRESULTS 1000")
    assert statements[1].endswith("STARTPOSITION 1001 MAXRESULTS 1000")
    mocked.get(f"{API}/query", json={"QueryResponse": {"Customer": [{"Id": "1"}, {"Id": "2"}]}})
    assert len(list(qbo(session).query_all("SELECT * FROM Customer", limit=2))) == 2
    assert query_of(mocked.calls[-1])["query"][0].endswith("MAXRESULTS 2")


def test_changed_since_flattens_the_cdc_answer(session, mocked):
    mocked.get(
        f"{API}/cdc",
        json={
            "CDCResponse": [
                {
                    "QueryResponse": [
                        {"Customer": [{"Id": "1"}], "startPosition": 1},
                        {"Invoice": [{"Id": "9", "status": "Deleted"}]},
                    ]
                }
            ]
        },
    )
    changed = qbo(session).changed_since(["Customer", "Invoice"], "2024-01-01T00:00:00Z")
    assert changed == {"Customer": [{"Id": "1"}], "Invoice": [{"Id": "9", "status": "Deleted"}]}
    assert query_of(mocked.calls[0])["entities"] == ["Customer,Invoice"]


def test_company_info_and_on_authorized_keep_the_callback_realm(session, mocked):
    mocked.get(f"{API}/companyinfo/{REALM}", json={"CompanyInfo": {"CompanyName": "Demo NZ"}})
    data = remember_company({"realmId": REALM}, "at-1", session)
    assert data == {"realm_id": REALM, "company_name": "Demo NZ"}
    assert mocked.calls[0].request.headers["Authorization"] == "Bearer at-1"


def test_an_answer_without_the_entity_is_a_data_error(session, mocked):
    mocked.get(f"{API}/customer/7", json={"time": "now"})
    with pytest.raises(DataError, match="without a Customer"):
        qbo(session).get("Customer", "7")


# -- errors -------------------------------------------------------------------------------------


def test_fault_envelope_message_and_detail_are_kept_verbatim(session, mocked):
    mocked.post(
        f"{API}/invoice",
        **fault(
            "6000",
            "A business validation error has occurred while processing your request",
            "Business Validation Error: Make sure all your transactions have a GST rate before "
            "you save.",
        ),
    )
    with pytest.raises(DataError) as raised:
        qbo(session).create("Invoice", {"Line": []})
    assert raised.value.message == (
        "QuickBooks: A business validation error has occurred while processing your request: "
        "Business Validation Error: Make sure all your transactions have a GST rate before you "
        "save."
    )
    assert raised.value.detail["status"] == 400


def test_401_gateway_fault_is_an_account_validation_error(session, mocked):
    body = {
        "fault": {
            "error": [
                {
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": "Token expired or invalid",
                    "code": "3200",
                }
            ],
            "type": "AUTHENTICATION",
        }
    }
    mocked.get(f"{API}/customer/1", json=body, status=401)
    with pytest.raises(AccountValidationError, match=r"AuthenticationFailed.*Token expired"):
        qbo(session).get("Customer", "1")


def test_403_is_an_account_validation_error(session, mocked):
    mocked.get(f"{API}/customer/1", json={"fault": {"error": [{"message": "x"}]}}, status=403)
    with pytest.raises(AccountValidationError):
        qbo(session).get("Customer", "1")


def test_429_is_a_rate_limit_error_with_retry_after(session, mocked):
    throttled = fault(
        "3001",
        "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        "The request limit was reached.",
        status=429,
        kind="SERVICE",
    )
    mocked.post(f"{API}/customer", headers={"Retry-After": "12"}, **throttled)
    with pytest.raises(RateLimitError) as raised:
        qbo(session).create("Customer", {"DisplayName": "Kea"})
    assert raised.value.retry_after == 12
    assert "ThrottleExceeded" in raised.value.message


def test_429_on_a_read_waits_and_retries(session, mocked):
    mocked.get(f"{API}/customer/1", status=429, headers={"Retry-After": "3"}, json={})
    mocked.get(f"{API}/customer/1", json={"Customer": {"Id": "1"}})
    sleeps = []
    assert qbo(session, sleeps).get("Customer", "1") == {"Id": "1"}
    assert sleeps == [3.0]


def test_5xx_is_a_connection_error_after_retries(session, mocked):
    for _ in range(4):
        mocked.get(f"{API}/customer/1", status=503, body="")
    sleeps = []
    with pytest.raises(ConnectionError, match="HTTP 503"):
        qbo(session, sleeps).get("Customer", "1")
    assert len(sleeps) == 3


def test_5xx_on_a_write_is_not_retried(session, mocked):
    mocked.post(f"{API}/customer", status=500, json=fault("500", "Internal", "x")["json"])
    with pytest.raises(ConnectionError, match="Internal: x"):
        qbo(session).create("Customer", {"DisplayName": "Kea"})
    assert len(mocked.calls) == 1


def test_rate_limiter_is_shared_by_connections_to_one_realm(session, mocked):
    mocked.get(f"{API}/customer/1", json={"Customer": {"Id": "1"}})
    limiter = MemoryRateLimiter()
    first = qbo_settings(connection(), rate_limit=1, max_retries=0)
    other = qbo_settings(
        resolved_from_values(QUICKBOOKS_CONNECTION, {"realmId": REALM}, {"access_token": "b"}),
        rate_limit=1,
        max_retries=0,
    )
    QuickBooksClient(ApiClient(first, session, lambda s: None, limiter)).get("Customer", "1")
    with pytest.raises(RateLimitError):
        QuickBooksClient(ApiClient(other, session, lambda s: None, limiter)).get("Customer", "1")


# -- query escaping -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("O'Brien & Sons", r"'O\'Brien & Sons'"),
        ("C:\\temp", r"'C:\\temp'"),
        ("a\\'b", r"'a\\\'b'"),
        ("", "''"),
        (12, "12"),
        (True, "true"),
    ],
)
def test_quote_escapes_backslashes_then_quotes(value, literal):
    assert quote(value) == literal


def test_conditions_per_operator():
    assert condition("DisplayName", "equals", "O'Brien") == r"DisplayName = 'O\'Brien'"
    assert condition("DisplayName", "contains", "O'B") == r"DisplayName LIKE '%O\'B%'"
    assert condition("DisplayName", "startsWith", "A") == "DisplayName LIKE 'A%'"
    assert condition("Id", "in", ["1", "2"]) == "Id IN ('1', '2')"
    assert condition("Balance", "greaterThan", 10) == "Balance > 10"
    with pytest.raises(InvalidConfigurationError):
        condition("Id", "notEquals", "1")


def test_customer_search_conditions_escape_every_field():
    data = SearchCustomersInput(
        DisplayName="O'Brien & Sons",
        PrimaryEmailAddr="a'b@x.example",
        Active=True,
        filter=[[{"field": "CompanyName", "operator": "startsWith", "value": "O'"}]],
    )
    assert conditions(SEARCHES["Customer"], data) == [
        r"DisplayName = 'O\'Brien & Sons'",
        r"PrimaryEmailAddr = 'a\'b@x.example'",
        "Active = true",
        r"CompanyName LIKE 'O\'%'",
    ]
    with pytest.raises(InvalidConfigurationError):
        conditions(SEARCHES["Customer"], SearchCustomersInput(DisplayName="x", match="regex"))


# -- request bodies -----------------------------------------------------------------------------


def test_invoice_lines_items_tax_codes_and_discounts():
    data = CreateInvoiceInput.model_validate(
        {
            "CustomerRef": 5,
            "TxnDate": "2024-03-01",
            "Line": [
                {"ItemRef": "2", "Qty": 3, "UnitPrice": 10.5, "TaxCodeRef": "4"},
                {"DetailType": "DescriptionOnly", "Description": "Note"},
                {"DetailType": "DiscountLineDetail", "Amount": 5},
            ],
            "DiscountPercent": 10,
            "TxnTaxDetail": {"TotalTax": 4.2},
        }
    )
    body = sales_document(data)
    assert body["CustomerRef"] == {"value": "5"}
    assert body["TxnTaxDetail"] == {"TotalTax": 4.2}
    item, note, amount_off, percent_off = body["Line"]
    assert item == {
        "DetailType": "SalesItemLineDetail",
        "Amount": 31.5,
        "SalesItemLineDetail": {
            "ItemRef": {"value": "2"},
            "Qty": 3.0,
            "UnitPrice": 10.5,
            "TaxCodeRef": {"value": "4"},
        },
    }
    assert note == {"DetailType": "DescriptionOnly", "Description": "Note"}
    assert amount_off["DiscountLineDetail"] == {"PercentBased": False}
    assert percent_off["DiscountLineDetail"] == {"PercentBased": True, "DiscountPercent": 10.0}


def test_invoice_needs_lines_and_one_kind_of_discount():
    with pytest.raises(InvalidConfigurationError, match="line"):
        sales_document(CreateInvoiceInput.model_validate({"CustomerRef": "1"}))
    both = {"CustomerRef": "1", "Line": [{"Amount": 1}], "DiscountPercent": 1, "DiscountAmount": 1}
    with pytest.raises(InvalidConfigurationError, match="percent or an amount"):
        sales_document(CreateInvoiceInput.model_validate(both))


def test_payment_lines_link_their_invoices():
    data = CreatePaymentInput.model_validate(
        {
            "CustomerRef": "3",
            "TotalAmt": 70,
            "Line": [{"Amount": 50, "InvoiceId": 12}, {"Amount": 20, "InvoiceId": "13"}],
        }
    )
    assert payment_body(data)["Line"] == [
        {"Amount": 50.0, "LinkedTxn": [{"TxnId": "12", "TxnType": "Invoice"}]},
        {"Amount": 20.0, "LinkedTxn": [{"TxnId": "13", "TxnType": "Invoice"}]},
    ]
    shortcut = CreatePaymentInput.model_validate(
        {"CustomerRef": "3", "TotalAmt": 9, "InvoiceId": "4"}
    )
    assert payment_body(shortcut)["Line"] == [
        {"Amount": 9.0, "LinkedTxn": [{"TxnId": "4", "TxnType": "Invoice"}]}
    ]
    unapplied = CreatePaymentInput.model_validate({"CustomerRef": "3", "TotalAmt": 9})
    assert "Line" not in payment_body(unapplied)


def test_a_payment_line_may_apply_a_credit_memo():
    data = CreatePaymentInput.model_validate(
        {
            "CustomerRef": "3",
            "TotalAmt": 0,
            "Line": [{"Amount": 7.5, "InvoiceId": 12}, {"Amount": 7.5, "CreditMemoId": 14}],
        }
    )
    body = payment_body(data)
    assert body["TotalAmt"] == 0
    assert body["Line"] == [
        {"Amount": 7.5, "LinkedTxn": [{"TxnId": "12", "TxnType": "Invoice"}]},
        {"Amount": 7.5, "LinkedTxn": [{"TxnId": "14", "TxnType": "CreditMemo"}]},
    ]


# -- webhooks -----------------------------------------------------------------------------------

DELIVERY = {
    "eventNotifications": [
        {
            "realmId": REALM,
            "dataChangeEvent": {
                "entities": [
                    {"name": "Customer", "id": "1", "operation": "Create", "lastUpdated": "t1"},
                    {"name": "Invoice", "id": "9", "operation": "Update", "lastUpdated": "t2"},
                ]
            },
        },
        {
            "realmId": "other",
            "dataChangeEvent": {
                "entities": [
                    {"name": "Customer", "id": "3", "operation": "Merge", "deletedId": "2"}
                ]
            },
        },
    ]
}
RAW = json.dumps(DELIVERY).encode()


def test_signature_good_bad_and_missing():
    signature = intuit_signature("verifier", RAW)
    assert verify_intuit_signature("verifier", RAW, signature)
    assert intuit_webhook_status("verifier", RAW, signature) == 200
    assert intuit_webhook_status("verifier", RAW + b" ", signature) == 401  # body changed
    assert intuit_webhook_status("other", RAW, signature) == 401  # wrong verifier token
    assert intuit_webhook_status("verifier", RAW, None) == 401
    assert intuit_webhook_status("verifier", RAW, "") == 401
    assert intuit_webhook_status("", RAW, signature) == 401  # no verifier configured
    assert intuit_webhook_status("verifier", RAW, "not base64 ✓") == 401


def test_one_bundle_per_changed_entity():
    assert change_events(RAW) == [
        {
            "realmId": REALM,
            "name": "Customer",
            "id": "1",
            "operation": "Create",
            "lastUpdated": "t1",
        },
        {
            "realmId": REALM,
            "name": "Invoice",
            "id": "9",
            "operation": "Update",
            "lastUpdated": "t2",
        },
        {"realmId": "other", "name": "Customer", "id": "3", "operation": "Merge", "deletedId": "2"},
    ]


def test_webhook_bundles_keep_the_chosen_entities_and_operations():
    assert [b["id"] for b in webhook_bundles(DELIVERY)] == ["1", "9", "3"]
    chosen = webhook_bundles(DELIVERY, {"entities": "customer", "operations": ["Create"]})
    assert [b["id"] for b in chosen] == ["1"]
    assert webhook_bundles({"unrelated": True}) == []


def test_line_tax_amounts_become_one_tax_line_per_rate():
    """A line's mapped ``TaxAmount`` is summed per rate of its code into QuickBooks' tax
    override; a code of several rates (or none) cannot take it."""
    data = CreateInvoiceInput.model_validate(
        {
            "CustomerRef": "1",
            "Line": [
                {"Amount": 10.1, "TaxCodeRef": "4", "TaxAmount": "1.52"},
                {"Amount": 10.1, "TaxCodeRef": "4", "TaxAmount": 1.52},
                {"Amount": 5, "TaxCodeRef": "5", "TaxAmount": 0},
            ],
        }
    )
    codes = {"4": [("9", 15)], "5": [("10", 0)], "7": [("9", 15), ("12", 10)]}
    body = with_line_taxes(sales_document(data), lambda: codes)
    assert body["TxnTaxDetail"] == {
        "TaxLine": [
            {
                "Amount": 3.04,
                "DetailType": "TaxLineDetail",
                "TaxLineDetail": {"TaxRateRef": {"value": "9"}},
            },
            {
                "Amount": 0.0,
                "DetailType": "TaxLineDetail",
                "TaxLineDetail": {"TaxRateRef": {"value": "10"}},
            },
        ],
        "TotalTax": 3.04,
    }
    assert all("TaxAmount" not in line for line in body["Line"])
    untaxed = sales_document(
        CreateInvoiceInput.model_validate({"CustomerRef": "1", "Line": [{"Amount": 1}]})
    )
    assert with_line_taxes(untaxed, lambda: pytest.fail("codes read")) == untaxed
    grouped = CreateInvoiceInput.model_validate(
        {"CustomerRef": "1", "Line": [{"Amount": 1, "TaxCodeRef": "7", "TaxAmount": 0.25}]}
    )
    with pytest.raises(InvalidConfigurationError, match="one rate"):
        with_line_taxes(sales_document(grouped), lambda: codes)
