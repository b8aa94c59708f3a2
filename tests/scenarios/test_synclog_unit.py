"""The sync log's pure functions on hand-made execution records.

Records carry lineage (``bundle`` on every operation and rejection, ``resumed``), as the runner
writes them (docs/execution-record.md); the statuses come from those facts and from the
modules' declared effects and record naming, never from module names or value overlap."""

from __future__ import annotations

from engine.service.synclog import SyncEntry, format_table, latest_by_record, sync_entries


def call(input_=None, output=None, error=None, bundle=None, directive=None):
    return {
        "input": input_,
        "output": output or [],
        "output_count": len(output or []),
        "error": error,
        "directive": directive,
        "bundle": bundle,
    }


def module(module_id, name, calls=(), rejections=(), **extra):
    return {
        "id": module_id,
        "module": name,
        "calls": list(calls),
        "rejections": list(rejections),
        "filtered": len(rejections),
        **extra,
    }


def record(*modules, error=None, resumed=None):
    return {"modules": list(modules), "error": error, "resumed": resumed}


def failed(a, o, b=None, a_value=None, b_value=None, where="conditions[0][0]"):
    return {"where": where, "a": a, "o": o, "b": b, "a_value": a_value, "b_value": b_value}


ACCOUNT_EXISTS_BUT_NOT_ACCREC = {
    "bundle": 1,
    "filter": "Account exists",
    "failed": [
        failed("{{1.Type}}", "text:equal", "ACCREC", "ACCPAY", "ACCREC", "conditions[0][2]")
    ],
}


def test_each_record_of_a_polling_run_gets_its_own_status_from_its_lineage():
    entries = sync_entries(
        record(
            module(
                1,
                "xero:WatchInvoices",
                [
                    call(
                        output=[
                            {"InvoiceID": "x-1", "InvoiceNumber": "INV-1"},
                            {"InvoiceID": "x-2", "InvoiceNumber": "INV-2"},
                            {"InvoiceID": "x-3", "InvoiceNumber": "INV-3"},
                        ]
                    )
                ],
                bundles_out=3,
            ),
            module(
                4,
                "onecrm:CreateRecord",
                # The inputs share no value with their invoices: lineage alone says whose.
                [
                    call({"name": "A"}, [{"id": "crm-1", "name": "A"}], bundle=0),
                    call({"name": "C"}, error={"message": "1CRM: name taken"}, bundle=2),
                ],
                [ACCOUNT_EXISTS_BUT_NOT_ACCREC],
            ),
        )
    )
    by_name = {e.source_name: e for e in entries}
    assert [e.bundle for e in entries] == [0, 1, 2]
    synced = by_name["INV-1"]
    assert (synced.status, synced.source_key, synced.target_key, synced.writes) == (
        "Synced",
        "x-1",
        "crm-1",
        1,
    )
    invalid = by_name["INV-2"]
    assert invalid.status == "Not Valid"
    # The condition that failed, with the values compared, not the filter's label alone.
    assert invalid.message == (
        'stopped by Account exists: {{1.Type}} equal to ACCREC (it was "ACCPAY")'
    )
    error = by_name["INV-3"]
    assert error.status == "Error"
    assert error.message == "[4] onecrm:CreateRecord: 1CRM: name taken"


def test_a_filter_on_lines_into_an_aggregator_does_not_stop_the_record():
    """3.4: "Sales lines" drops the subtotal line from the aggregate; the invoice goes on, and
    only "Account exists" can stop it."""
    lines = [{"DetailType": "SalesItemLineDetail"}, {"DetailType": "SubTotalLineDetail"}]
    sales_lines = {
        "bundle": 0,
        "filter": "Sales lines",
        "failed": [failed("{{3.DetailType}}", "text:equal", "SalesItemLineDetail")],
    }
    flow = [
        module(1, "quickbooks:NewEvent", [call(output=[{"name": "Invoice", "id": "130"}])]),
        module(
            2,
            "quickbooks:GetInvoice",
            [call(output=[{"Id": "130", "DocNumber": "1037"}], bundle=0)],
        ),
        module(3, "builtin:BasicFeeder", [call(output=lines, bundle=0)]),
        module(
            4, "builtin:BasicAggregator", [call(output=[{"array": []}], bundle=0)], [sales_lines]
        ),
        module(5, "onecrm:SearchRecords", [call(output=[], bundle=0)]),
    ]
    account_exists = {
        "bundle": 0,
        "filter": "Account exists",
        "failed": [failed("{{5.id}}", "exist")],
    }
    (stopped,) = sync_entries(record(*flow, module(7, "onecrm:CreateRecord", [], [account_exists])))
    assert (stopped.status, stopped.source_key, stopped.source_name) == ("Not Valid", "130", "1037")
    assert stopped.message == "stopped by Account exists: {{5.id}} exists (it was empty)"

    created = module(7, "onecrm:CreateRecord", [call({}, [{"id": "crm-9"}], bundle=0)])
    (synced,) = sync_entries(record(*flow, created))
    assert (synced.status, synced.message, synced.target_key) == ("Synced", None, "crm-9")


def test_a_router_whose_every_route_refused_names_each_route_and_its_condition():
    account = {"id": "a-1", "name": "Acme"}
    entries = sync_entries(
        record(
            module(1, "onecrm:NewEvent", [call(output=[account])]),
            module(2, "xero:SearchContacts", [call(output=[{"ContactID": "c-1"}], bundle=0)]),
            module(3, "builtin:BasicRouter"),
            module(
                4,
                "xero:CreateContact",
                rejections=[
                    {
                        "bundle": 0,
                        "filter": "New Accounts",
                        "failed": [failed("{{2.ContactID}}", "notexist", a_value="c-1")],
                    }
                ],
            ),
            module(
                5,
                "xero:UpdateContact",
                rejections=[
                    {
                        "bundle": 0,
                        "filter": "Update Accounts",
                        "failed": [
                            failed(
                                "{{1.date_modified}}",
                                "date:greater",
                                "{{2.UpdatedDateUTC}}",
                                "2026-03-01T10:00:00Z",
                                "2026-03-02T09:00:00Z",
                                "conditions[0][1]",
                            )
                        ],
                    }
                ],
            ),
        )
    )
    (entry,) = entries
    assert (entry.status, entry.source_key, entry.source_name) == ("Not Valid", "a-1", "Acme")
    assert entry.message == (
        'stopped by New Accounts: {{2.ContactID}} does not exist (it was "c-1"); '
        "Update Accounts: {{1.date_modified}} later than {{2.UpdatedDateUTC}} "
        '(it was "2026-03-01T10:00:00Z"; {{2.UpdatedDateUTC}} was "2026-03-02T09:00:00Z")'
    )


def test_a_route_the_record_left_by_another_route_is_not_what_stopped_it():
    """An event router: "Invoices created" refuses a Delete event, which goes down the other
    route and finds nothing to cancel. It is Not Synced there, not Not Valid."""
    created_only = {
        "bundle": 0,
        "filter": "Invoices created",
        "failed": [failed("{{1.operation}}", "text:equal", "Create", "Delete")],
        "rerouted": True,
    }
    (entry,) = sync_entries(
        record(
            module(1, "quickbooks:NewEvent", [call(output=[{"name": "Invoice", "id": "130"}])]),
            module(2, "builtin:BasicRouter"),
            module(3, "quickbooks:GetInvoice", rejections=[created_only]),
            module(9, "onecrm:SearchRecords", [call({}, [], bundle=0)]),
        )
    )
    assert (entry.status, entry.message) == ("Not Synced", "[9] onecrm:SearchRecords found nothing")


def test_a_write_after_an_aggregator_over_the_trigger_counts_for_every_record():
    entries = sync_entries(
        record(
            module(1, "gateway:CustomWebHook", [call(output=[{"id": "r1"}, {"id": "r2"}])]),
            module(2, "builtin:BasicAggregator", [call(output=[{"array": []}])]),
            module(3, "xero:CreateInvoice", [call({}, [{"InvoiceID": "x-1"}])]),
        )
    )
    assert [(e.source_key, e.status, e.target_key) for e in entries] == [
        ("r1", "Synced", "x-1"),
        ("r2", "Synced", "x-1"),
    ]


def test_not_synced_says_where_it_ended():
    run = record(
        module(1, "onecrm:NewEvent", [call(output=[{"id": "a-1"}, {"id": "a-2"}])]),
        module(2, "xero:SearchContacts", [call({"term": "A"}, [], bundle=0)]),
        error=None,
    )
    first, second = sync_entries(run)
    assert (first.status, first.message) == ("Not Synced", "[2] xero:SearchContacts found nothing")
    assert (second.status, second.message) == ("Not Synced", "it reached no module that writes")

    stopped = record(
        *run["modules"][:1],
        module(2, "xero:SearchContacts", [call({}, error={"message": "Xero: 401"}, bundle=0)]),
        error={"message": "Xero: 401", "module_id": 2},
    )
    first, second = sync_entries(stopped)
    assert (first.status, first.message) == ("Error", "[2] xero:SearchContacts: Xero: 401")
    assert second.status == "Not Synced"
    assert second.message == "the run stopped before it: Xero: 401"


def test_a_resumed_run_continues_the_record_it_names():
    (entry,) = sync_entries(
        record(
            module(
                5,
                "xero:CreateInvoice",
                [call({}, [{"InvoiceID": "x-7", "InvoiceNumber": "INV-7"}], bundle=0)],
            ),
            module(6, "onecrm:UpdateRecord", [call({}, [{"id": "i-1"}], bundle=0)]),
            resumed={
                "module_id": 5,
                "trigger": {
                    "id": 1,
                    "module": "onecrm:NewEvent",
                    "bundle": {"id": "i-1", "name": "Good"},
                },
            },
        )
    )
    assert (entry.status, entry.source_key, entry.source_name, entry.target_key) == (
        "Synced",
        "i-1",
        "Good",
        "x-7",  # the write on the other side, not the write-back into 1CRM
    )
    assert entry.writes == 2


def test_an_error_an_ignore_settled_does_not_undo_the_write_after_it():
    trigger = module(1, "onecrm:NewEvent", [call(output=[{"id": "a-1"}, {"id": "a-2"}])])
    search = module(
        2,
        "xero:SearchContacts",
        [
            call({}, error={"message": "Xero: 503"}, bundle=0, directive="ignore"),
            call({}, error={"message": "Xero: 503"}, bundle=1, directive="ignore"),
        ],
    )
    create = module(4, "xero:CreateContact", [call({}, [{"ContactID": "c-1"}], bundle=0)])
    written, nothing = sync_entries(record(trigger, search, create))
    assert (written.status, written.target_key) == ("Synced", "c-1")
    assert written.message == "after an error its route settled: [2] xero:SearchContacts: Xero: 503"
    assert (nothing.status, nothing.message) == ("Error", "[2] xero:SearchContacts: Xero: 503")


def test_an_error_kept_to_retry_says_so():
    (entry,) = sync_entries(
        record(
            module(1, "onecrm:NewEvent", [call(output=[{"id": "p-1"}])]),
            module(
                3,
                "xero:CreatePayment",
                [
                    call(
                        {},
                        error={"message": "Xero: invoice not found"},
                        bundle=0,
                        directive="break",
                    )
                ],
            ),
        )
    )
    assert entry.status == "Error"
    assert entry.message == (
        "[3] xero:CreatePayment: Xero: invoice not found (kept as an incomplete execution to retry)"
    )


def old_module(module_id, name, calls, filtered=0):
    """A module as records stored it before lineage: no ``bundle``, no ``rejections``."""
    return {"id": module_id, "module": name, "filtered": filtered, "calls": calls}


def test_records_stored_before_lineage_still_read():
    """Old records have no ``bundle``/``rejections``/``resumed``: one record takes everything;
    several cannot be told apart, and their entries say so instead of guessing."""
    old_single = {
        "modules": [
            old_module(1, "onecrm:NewEvent", [{"output": [{"id": "i-1", "name": "Good"}]}]),
            old_module(5, "xero:CreateInvoice", [{"output": [{"InvoiceID": "x-1"}]}]),
        ]
    }
    (entry,) = sync_entries(old_single)
    assert (entry.status, entry.source_key, entry.target_key) == ("Synced", "i-1", "x-1")
    old_filtered = {
        "modules": [
            old_module(1, "onecrm:NewEvent", [{"output": [{"id": "i-2"}]}]),
            old_module(5, "xero:CreateInvoice", [], filtered=1),
        ]
    }
    (entry,) = sync_entries(old_filtered)
    assert (entry.status, entry.message) == (
        "Not Valid",
        "stopped by the filter into [5] xero:CreateInvoice",
    )
    old_several = {
        "modules": [
            old_module(
                1, "xero:WatchContacts", [{"output": [{"ContactID": "c-1"}, {"ContactID": "c-2"}]}]
            ),
            old_module(
                4, "onecrm:CreateRecord", [{"input": {"note": "c-1"}, "output": [{"id": "a"}]}]
            ),
        ]
    }
    assert {(e.source_key, e.status) for e in sync_entries(old_several)} == {
        ("c-1", "Not Synced"),
        ("c-2", "Not Synced"),
    }
    assert "before the sync log could tell" in sync_entries(old_several)[0].message


def test_a_run_that_failed_before_any_record_is_one_error_and_latest_keeps_the_newest():
    (broken,) = sync_entries(
        {
            "modules": [{"id": 1, "module": "x:Watch", "calls": []}],
            "error": {"message": "token expired"},
        }
    )
    assert broken.status == "Error" and broken.message == "token expired"
    newer = SyncEntry("Synced", "k", "A", "t", None, "2026-03-02T10:00", "e2")
    older = SyncEntry("Error", "k", "A", None, "boom", "2026-03-02T09:00", "e1")
    assert latest_by_record([newer, older]) == [newer]
    table = format_table([newer])
    assert table.splitlines()[0].split() == [
        "time",
        "status",
        "record",
        "key",
        "other",
        "side",
        "message",
    ]
    assert "Synced" in table.splitlines()[1]
