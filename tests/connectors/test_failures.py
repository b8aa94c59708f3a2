"""Operational failures over real HTTP: rate limits, server errors, Break, retries."""

from __future__ import annotations

from .conftest import node, outputs


def conn(connection, **extra):
    return {"__IMTCONN__": connection.id, **extra}


def test_429_then_success_waits_retry_after_and_succeeds(runner, xero, xero_connection):
    xero.fault(
        status=429, count=1, retry_after=7, method="GET", path_prefix="/api.xro/2.0/Contacts"
    )
    record = runner.one(
        "xero:SearchContacts", {"searchBy": "term", "term": "x"}, conn(xero_connection)
    )
    assert record.status == "success", record.error
    assert runner.sleeps == [7.0]
    assert len(xero.requests_to("/api.xro/2.0/Contacts", "GET")) == 2


def test_get_is_retried_with_backoff_on_5xx_then_gives_up(runner, onecrm, onecrm_connection):
    onecrm.fault(
        status=503, count=10, retry_after=2, method="GET", path_prefix="/api.php/data/Account"
    )
    record = runner.one("onecrm:SearchRecords", {"model": "Account"}, conn(onecrm_connection))
    assert record.status == "error"
    assert record.error["type"] == "ConnectionError"
    assert "1CRM: Injected by the sandbox" in record.error["message"]
    assert runner.sleeps == [2.0, 2.0, 2.0]  # three retries, each after Retry-After
    assert len(onecrm.requests_to("/api.php/data/Account")) == 4


def test_500_on_a_create_is_not_retried_and_break_stores_the_bundle(runner, xero, xero_connection):
    xero.fault(status=500, count=1, method="PUT", path_prefix="/api.xro/2.0/Contacts")
    flow = [
        node(
            1,
            "xero:CreateContact",
            {"Name": "Pukeko Ltd"},
            conn(xero_connection),
            onerror=[
                {
                    "id": 2,
                    "module": "builtin:Break",
                    "mapper": {"retry": True, "count": 3, "interval": 1},
                }
            ],
        )
    ]
    record = runner.run(flow)
    assert record.status == "warning"
    (incomplete,) = record.incomplete
    assert incomplete.module_id == 1 and incomplete.error["type"] == "ConnectionError"
    assert runner.sleeps == []
    assert len(xero.requests_to("/api.xro/2.0/Contacts", "PUT")) == 1


def test_xero_429_without_retry_leaves_a_rate_limit_error(runner, xero, xero_connection):
    xero.fault(status=429, count=1, retry_after=3, method="PUT")
    record = runner.one("xero:CreateContact", {"Name": "Weka"}, conn(xero_connection))
    assert record.error["type"] == "RateLimitError"
    assert "rate limit" in record.error["message"]


def test_ignore_on_a_failed_search_drops_only_that_bundle(runner, onecrm, onecrm_connection):
    onecrm.control("seed", {"Account": [{"name": "Tawa"}]})
    onecrm.fault(status=500, count=4, method="GET")
    flow = [
        node(
            1,
            "onecrm:SearchRecords",
            {"model": "Account"},
            conn(onecrm_connection),
            onerror=[{"id": 3, "module": "builtin:Ignore"}],
        ),
        node(2, "util:SetVariable2", {"name": "x", "value": "{{1.name}}"}),
    ]
    record = runner.run(flow)
    assert record.status == "success"
    assert 2 not in record.modules or record.modules[2].operations == 0
    onecrm.control("faults", method="DELETE")
    assert outputs(runner.run(flow), 2)


def test_an_update_refused_with_429_is_sent_again_after_retry_after(
    runner, onecrm, onecrm_connection
):
    """1CRM did nothing on a 429, so Update a Record sends the PATCH again after Retry-After
    (within the retry bound), as the steps of a multi-call write do."""
    onecrm.control("seed", {"Account": [{"name": "Rimu Ltd"}]})
    (account,) = onecrm.state()["records"]["Account"]
    onecrm.fault(
        status=429, count=2, retry_after=4, method="PATCH", path_prefix="/api.php/data/Account"
    )
    updated = runner.one(
        "onecrm:UpdateRecord",
        {"model": "Account", "id": account["id"], "name": "Rimu Limited"},
        conn(onecrm_connection),
    )
    assert updated.status == "success", updated.error
    assert runner.sleeps == [4.0, 4.0]
    assert len(onecrm.requests_to(f"/api.php/data/Account/{account['id']}", "PATCH")) == 3
