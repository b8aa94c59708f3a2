"""Xero's minute limit counted on the skipping clock the scenario tests share with the
connectors (``tests/clock.py``): the vendor's 60 calls a minute per tenant refuses exactly the
calls real time would, and a wait of ``Retry-After`` on the clock — skipped, not sat
through — is what lets the next call in."""

from __future__ import annotations

import pytest

from engine.errors import RateLimitError
from engine.ratelimit import MemoryRateLimiter
from modules.connections import ApiClient
from modules.xero import sandbox as xero_sandbox
from modules.xero.client import TENANT_CALLS_PER_MINUTE, xero_settings
from tests.clock import SkippingClock

from .conftest import Server, XeroClient, connect_xero


@pytest.fixture
def clock():
    return SkippingClock()


@pytest.fixture
def xero(serve, http, clock):
    """Xero's own limits (60 calls in a 60 s window per tenant), on the skipping clock."""
    return Server(serve(xero_sandbox.create_app(monotonic=clock.monotonic)), http)


@pytest.fixture
def tenant(http, xero):
    tokens, tenant_id = connect_xero(http, xero)
    return XeroClient(http, xero, tokens["access_token"], tenant_id)


def spend_the_minute(tenant: XeroClient) -> None:
    for _ in range(TENANT_CALLS_PER_MINUTE):
        assert tenant.get("Contacts").status_code == 200


def test_the_61st_call_of_a_minute_is_refused_until_the_clock_passes_the_window(tenant, clock):
    spend_the_minute(tenant)
    refused = tenant.get("Contacts")
    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Problem"] == "minute"
    retry_after = int(refused.headers["Retry-After"])
    assert 0 < retry_after <= 60  # what is left of the minute since the first call
    assert tenant.get("Contacts").status_code == 429  # no wait: still refused
    clock.sleep(retry_after)
    assert tenant.get("Contacts").status_code == 200
    assert clock.waits == [retry_after]


def test_a_connector_holds_back_its_61st_call_a_minute(tenant, xero, http, clock):
    """The connector counts its own calls on the same clock: its 61st waits out the minute
    (a wait the clock skips) and Xero refuses nothing."""
    connection = {"access_token": tenant.token, "tenant_id": tenant.tenant_id, "base_url": xero.url}
    api = ApiClient(
        xero_settings(connection), http, clock.sleep, MemoryRateLimiter(clock.monotonic)
    )
    for _ in range(TENANT_CALLS_PER_MINUTE + 1):
        api.get("Contacts")
    ((wait,),) = [clock.waits]
    assert 0 < wait <= 60.5  # the rest of the minute, and the half second allowed for arrival
    statuses = [r["status"] for r in xero.state()["requests"] if r["path"].endswith("Contacts")]
    assert statuses == [200] * (TENANT_CALLS_PER_MINUTE + 1)


def test_a_read_refused_with_429_is_sent_again_after_retry_after(tenant, xero, http, clock):
    """Another client spent the tenant's minute: Xero refuses the connector's read with 429,
    the connector waits ``Retry-After`` on the clock and its resend is answered."""
    spend_the_minute(tenant)
    connection = {"access_token": tenant.token, "tenant_id": tenant.tenant_id, "base_url": xero.url}
    api = ApiClient(
        xero_settings(connection), http, clock.sleep, MemoryRateLimiter(clock.monotonic)
    )
    api.get("Contacts")
    statuses = [r["status"] for r in xero.state()["requests"] if r["path"].endswith("Contacts")]
    assert statuses == [200] * TENANT_CALLS_PER_MINUTE + [429, 200]
    ((wait,),) = [clock.waits]
    assert wait == int(wait) and 0 < wait <= 60  # Xero's Retry-After: whole seconds


def test_a_write_refused_with_429_is_not_sent_again(tenant, xero, http, clock):
    """Unless its caller asks (``resend_refused``), a refused write is the run's error: the
    skipping clock changes no decision of the client's."""
    spend_the_minute(tenant)
    connection = {"access_token": tenant.token, "tenant_id": tenant.tenant_id, "base_url": xero.url}
    api = ApiClient(
        xero_settings(connection), http, clock.sleep, MemoryRateLimiter(clock.monotonic)
    )
    with pytest.raises(RateLimitError):
        api.request("PUT", "Contacts", json={"Contacts": [{"Name": "Kea Ltd"}]})
    assert clock.waits == []
