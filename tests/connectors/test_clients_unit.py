"""Every client call and error path, with ``responses`` standing in for the APIs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
import responses

from engine.connections import resolved_from_values
from engine.errors import (
    AccountValidationError,
    ConnectionError,
    DataError,
    InvalidConfigurationError,
    ModuleTimeoutError,
    RateLimitError,
)
from engine.ratelimit import MemoryRateLimiter, RedisRateLimiter
from modules.connections import (
    RATE_SLACK_SECONDS,
    ApiClient,
    ApiSettings,
    error_type_for,
    limited,
    pages,
)
from modules.xero.client import XeroClient, from_xero, if_modified_since, xero_settings
from modules.xero.connection import XERO_CONNECTION, select_tenant

BASE = "https://api.example.test"
XERO = "https://api.xero.com/api.xro/2.0"
TENANT = "8b5f9a2e-3c1d-4e7f-9a6b-2d4c8e1f0a35"


@pytest.fixture
def session():
    with requests.Session() as opened:
        yield opened


@pytest.fixture
def mocked():
    with responses.RequestsMock() as mock:
        yield mock


def client(session, sleeps=None, limiter=None, **settings):
    defaults = {"label": "Demo", "base_url": BASE, "error_message": lambda r: f"HTTP {r.status}"}
    return ApiClient(
        ApiSettings(**{**defaults, **settings}),
        session,
        (sleeps if sleeps is not None else []).append,
        limiter or MemoryRateLimiter(),
    )


def xero_connection(**data):
    values = {"tenant_id": TENANT, **data}
    return resolved_from_values(XERO_CONNECTION, values, {"access_token": "tok"})


def xero_client(session, sleeps=None):
    api = ApiClient(
        xero_settings(xero_connection()),
        session,
        (sleeps if sleeps is not None else []).append,
        MemoryRateLimiter(),
    )
    return XeroClient(api)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, DataError),
        (401, AccountValidationError),
        (403, AccountValidationError),
        (404, DataError),
        (409, DataError),
        (418, DataError),
        (422, DataError),
        (429, RateLimitError),
        (500, ConnectionError),
        (502, ConnectionError),
        (503, ConnectionError),
        (504, ConnectionError),
    ],
)
def test_status_table(status, error):
    assert error_type_for(status) is error


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_error_statuses_raise_their_error_without_retry(session, mocked, status):
    mocked.get(f"{BASE}/things", status=status, json={})
    sleeps = []
    with pytest.raises(error_type_for(status), match=f"Demo: HTTP {status}"):
        client(session, sleeps).request("GET", "things")
    assert sleeps == [] and len(mocked.calls) == 1


def test_get_retries_5xx_with_exponential_backoff(session, mocked):
    mocked.get(f"{BASE}/things", status=502)
    mocked.get(f"{BASE}/things", status=500)
    mocked.get(f"{BASE}/things", json={"ok": True})
    sleeps = []
    assert client(session, sleeps, backoff_seconds=0.5).get("things") == {"ok": True}
    assert sleeps == [0.5, 1.0]


def test_429_waits_retry_after_capped(session, mocked):
    mocked.get(f"{BASE}/things", status=429, headers={"Retry-After": "120"})
    mocked.get(f"{BASE}/things", json=[])
    sleeps = []
    client(session, sleeps, max_wait_seconds=60).get("things")
    assert sleeps == [60.0]


def test_429_error_carries_retry_after(session, mocked):
    mocked.post(f"{BASE}/things", status=429, headers={"Retry-After": "9"})
    with pytest.raises(RateLimitError) as caught:
        client(session).request("POST", "things", json={})
    assert caught.value.retry_after == 9.0


def test_post_is_never_retried(session, mocked):
    mocked.post(f"{BASE}/things", status=503)
    sleeps = []
    with pytest.raises(ConnectionError):
        client(session, sleeps).request("POST", "things", json={"a": 1})
    assert sleeps == [] and len(mocked.calls) == 1


def test_a_write_refused_with_429_is_sent_again_only_when_asked(session, mocked):
    """A step of a multi-call write (1CRM's invoice and its lines) asks for it: 429 means the
    app did nothing, so the write cannot land twice; a 503 write is still never resent."""
    mocked.post(f"{BASE}/things", status=429, headers={"Retry-After": "2"})
    mocked.post(f"{BASE}/things", json={"id": 7})
    sleeps = []
    answer = client(session, sleeps).request("POST", "things", json={}, resend_refused=True)
    assert answer.body == {"id": 7} and sleeps == [2.0] and len(mocked.calls) == 2

    mocked.post(f"{BASE}/other", status=503)
    with pytest.raises(ConnectionError):
        client(session, sleeps).request("POST", "other", json={}, resend_refused=True)
    assert sleeps == [2.0] and len(mocked.calls) == 3


def test_timeout_and_unreachable(session, mocked):
    mocked.get(f"{BASE}/slow", body=requests.ReadTimeout("slow"))
    mocked.post(f"{BASE}/down", body=requests.ConnectionError("refused"))
    with pytest.raises(ModuleTimeoutError, match="did not answer within 5 s"):
        client(session, timeout=5, max_retries=0).request("GET", "slow")
    with pytest.raises(ConnectionError, match="Demo could not be reached"):
        client(session).request("POST", "down")


def test_timeouts_on_get_are_retried(session, mocked):
    mocked.get(f"{BASE}/slow", body=requests.ReadTimeout("slow"))
    mocked.get(f"{BASE}/slow", json={"ok": 1})
    assert client(session).get("slow") == {"ok": 1}


def test_rate_limit_waits_then_refuses(session, mocked):
    mocked.get(f"{BASE}/things", json={})
    now = [0.0]
    limiter = MemoryRateLimiter(monotonic=lambda: now[0])
    sleeps = []
    api = client(session, sleeps, limiter, rate_key="k", rate_limit=2, rate_window=60)
    api.get("things")
    api.get("things")
    with pytest.raises(RateLimitError, match="more than 2 calls in 60 s"):
        api.get("things")
    assert sleeps == [60.0, 60.0, 60.0]
    now[0] = 61.0
    api.get("things")


def test_a_call_held_back_is_sent_a_moment_after_the_slot_frees(session, mocked):
    """The app counts a call when it arrives, a little after the client counted it: sent at
    the very moment the client's count frees a slot, it may still be over the app's."""
    mocked.get(f"{BASE}/things", json={})
    now = [0.0]
    limiter = MemoryRateLimiter(monotonic=lambda: now[0])
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    api = ApiClient(
        ApiSettings(
            label="Demo",
            base_url=BASE,
            error_message=lambda r: "",
            rate_key="k",
            rate_limit=1,
            rate_window=10,
        ),
        session,
        sleep,
        limiter,
    )
    api.get("things")
    now[0] = 4.0
    api.get("things")
    assert sleeps == [6.0 + RATE_SLACK_SECONDS]


def test_redis_rate_limiter_fixed_window():
    class FakePipeline:
        def __init__(self, counts):
            self.counts, self.name = counts, None

        def incr(self, name):
            self.name = name

        def expire(self, name, seconds):
            assert seconds == 61

        def execute(self):
            self.counts[self.name] = self.counts.get(self.name, 0) + 1
            return self.counts[self.name], True

    class FakeRedis:
        def __init__(self):
            self.counts = {}

        def pipeline(self):
            return FakePipeline(self.counts)

    limiter = RedisRateLimiter(FakeRedis(), clock=lambda: 130.0)
    assert [limiter.acquire("k", 2, 60) for _ in range(3)] == [0.0, 0.0, 50.0]


def test_pages_and_limited():
    calls = []

    def fetch(page):
        calls.append(page)
        return list(range(3)) if page < 3 else [9]

    assert list(pages(fetch, 3)) == [0, 1, 2, 0, 1, 2, 9]
    calls.clear()
    assert list(limited(pages(fetch, 3), 4)) == [0, 1, 2, 0]
    assert calls == [1, 2]


# -- Xero -------------------------------------------------------------------------------------


def test_xero_requests_carry_token_tenant_and_accept(session, mocked):
    mocked.get(f"{XERO}/Contacts", json={"Contacts": []})
    list(xero_client(session).list("Contacts", params={"where": 'Name=="A"'}))
    sent = mocked.calls[0].request
    assert sent.headers["Authorization"] == "Bearer tok"
    assert sent.headers["xero-tenant-id"] == TENANT
    assert sent.headers["Accept"] == "application/json"
    assert "page=1" in sent.url and "where=Name" in sent.url


def test_xero_list_pages_until_a_short_page_and_converts_dates(session, mocked):
    first = [
        {"ContactID": str(n), "UpdatedDateUTC": "/Date(1573755038314+0000)/"} for n in range(100)
    ]
    mocked.get(f"{XERO}/Contacts", json={"Contacts": first})
    mocked.get(f"{XERO}/Contacts", json={"Contacts": [{"ContactID": "x"}]})
    since = datetime(2024, 1, 31, 12, 0, 5, 123000, tzinfo=UTC)
    found = list(xero_client(session).list("Contacts", modified_since=since))
    assert len(found) == 101
    assert found[0]["UpdatedDateUTC"] == "2019-11-14T18:10:38.314Z"
    assert mocked.calls[1].request.headers["If-Modified-Since"] == "2024-01-31T12:00:05Z"


def test_xero_validation_errors_verbatim(session, mocked):
    body = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": [
            {
                "ValidationErrors": [
                    {"Message": "A Contact must be specified for this type of transaction"},
                    {"Message": "One or more line items must be specified"},
                ]
            }
        ],
    }
    mocked.put(f"{XERO}/Invoices", status=400, json=body)
    with pytest.raises(DataError) as caught:
        xero_client(session).create("Invoices", {"Type": "ACCREC"})
    assert caught.value.message == (
        "Xero: A Contact must be specified for this type of transaction; "
        "One or more line items must be specified"
    )
    assert caught.value.detail["status"] == 400


def test_xero_problem_details_and_rate_limit_messages(session, mocked):
    mocked.get(
        f"{XERO}/Contacts/1",
        status=401,
        json={"Title": "Unauthorized", "Detail": "TokenExpired: token expired"},
    )
    mocked.get(
        f"{XERO}/Contacts/2",
        status=429,
        headers={"Retry-After": "1", "X-Rate-Limit-Problem": "day"},
    )
    with pytest.raises(AccountValidationError, match="Xero: TokenExpired"):
        xero_client(session).get("Contacts", "1")
    with pytest.raises(RateLimitError, match=r"rate limit reached \(day limit\)"):
        XeroClient(
            ApiClient(
                xero_settings(xero_connection(), max_retries=0),
                session,
                lambda s: None,
                MemoryRateLimiter(),
            )
        ).get("Contacts", "2")


def test_xero_update_posts_to_the_record(session, mocked):
    mocked.post(f"{XERO}/Contacts/c1", json={"Contacts": [{"ContactID": "c1", "Name": "N"}]})
    assert xero_client(session).update("Contacts", "c1", {"Name": "N"})["Name"] == "N"
    assert mocked.calls[0].request.body == b'{"Contacts": [{"Name": "N"}]}'


def test_xero_answer_without_records_is_a_data_error(session, mocked):
    mocked.put(f"{XERO}/Contacts", json={"Contacts": []})
    with pytest.raises(DataError, match="without Contacts"):
        xero_client(session).create("Contacts", {"Name": "x"})


def test_xero_settings_need_a_tenant_and_a_token():
    with pytest.raises(InvalidConfigurationError, match="organisation"):
        xero_settings(resolved_from_values(XERO_CONNECTION, {}, {"access_token": "t"}))
    with pytest.raises(InvalidConfigurationError, match="not authorized"):
        xero_settings(resolved_from_values(XERO_CONNECTION, {"tenant_id": "t"}, {}))


def test_xero_base_url_points_at_a_sandbox():
    settings = xero_settings(xero_connection(base_url="http://127.0.0.1:5000/"))
    assert settings.base_url == "http://127.0.0.1:5000/api.xro/2.0"
    assert settings.rate_key == f"xero:{TENANT}" and settings.rate_limit == 60


def test_tenant_selection_keeps_the_chosen_tenant(session, mocked):
    tenants = [
        {"tenantId": "t1", "tenantName": "One", "tenantType": "ORGANISATION"},
        {"tenantId": "t2", "tenantName": "Two", "tenantType": "ORGANISATION"},
        {"tenantId": "p", "tenantName": "Me", "tenantType": "PRACTICEMANAGER"},
    ]
    mocked.get("https://api.xero.com/connections", json=tenants)
    mocked.get("https://api.xero.com/connections", json=tenants)
    mocked.get("https://api.xero.com/connections", json=[])
    assert select_tenant({}, "tok", session)["tenant_id"] == "t1"
    chosen = select_tenant({"tenant_id": "t2"}, "tok", session)
    assert chosen["tenant_name"] == "Two" and len(chosen["tenants"]) == 3
    with pytest.raises(AccountValidationError, match="no organisation"):
        select_tenant({}, "tok", session)


def test_from_xero_and_if_modified_since():
    assert from_xero({"a": ["/Date(0)/", {"b": "/Date(1000+1300)/"}], "c": "x"}) == {
        "a": ["1970-01-01T00:00:00.000Z", {"b": "1970-01-01T00:00:01.000Z"}],
        "c": "x",
    }
    assert (
        if_modified_since(datetime(2024, 5, 1, 1, 2, 3, 999, tzinfo=UTC)) == "2024-05-01T01:02:03Z"
    )


def test_redis_rate_limiter_is_shared_by_workers_on_a_real_redis():
    """Two limiters (two worker processes' views) on the real Redis share one budget."""
    import threading
    import uuid

    import redis

    client = redis.Redis.from_url("redis://127.0.0.1:6379/12")
    client.ping()  # a missing Redis fails here, loudly
    key = f"test-{uuid.uuid4().hex}"
    workers = [RedisRateLimiter(client, clock=lambda: 1000.0) for _ in range(2)]
    granted = []
    lock = threading.Lock()

    def calls(limiter):
        for _ in range(10):
            wait = limiter.acquire(key, 7, 60)
            with lock:
                granted.append(wait == 0.0)

    threads = [threading.Thread(target=calls, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    try:
        assert granted.count(True) == 7 and len(granted) == 20
        assert 0 < client.ttl(f"switchboard:rate:{key}:16") <= 61
    finally:
        client.delete(f"switchboard:rate:{key}:16")
        client.close()
