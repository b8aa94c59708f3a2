"""#20: §2.7 (Xero → 1CRM payments) keeps the books balanced — a payment whose invoice is not in
1CRM yet waits and is retried with backoff without blocking the payments after it or switching
the scenario off; a payment without a reference is not mistaken for another; a deleted
(reversed) payment is deleted in 1CRM. Reconcile is the judge."""

from __future__ import annotations

from datetime import timedelta

from engine.store import ExecutionStatus, IncompleteStatus, TriggerKind, utc_now
from tests.scenarios.conftest import ops
from tests.scenarios.test_xero_documents import LINES, customer, xero_invoice


def crm_invoice(library, account_id, xero):
    return library.crm_person(
        "Invoice",
        {
            "name": xero["InvoiceNumber"],
            "billing_account_id": account_id,
            "invoice_date": "2026-03-01",
            "due_date": "2026-03-31",
            "line_items": LINES,
            "integrated_id": xero["InvoiceID"],
        },
    )


def pay(library, invoice, amount, reference=None):
    body = {
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "Account": {"Code": "090"},
        "Amount": amount,
        "Date": "2026-03-12",
        **({"Reference": reference} if reference else {}),
    }
    (payment,) = library.xero_api("PUT", "Payments", body)["Payments"]
    return payment


def payment_differences(library):
    """Where the payments and what the invoices still owe differ (the fixtures' customers and
    currencies are not this scenario's business)."""
    return [
        d
        for d in library.differences("xero")
        if d.kind == "payment" or d.field in ("status", "amount_due")
    ]


def test_2_7_payment_of_an_invoice_not_yet_in_1crm_waits_and_blocks_nothing(library):
    account_id, contact_id = customer(library)
    synced, later = xero_invoice(library, contact_id), xero_invoice(library, contact_id, "PO-8")
    crm_invoice(library, account_id, synced)
    scenario = library.load("2.7")
    library.service.choose_where_to_start(scenario, 1, {"type": "all"})
    waiting = pay(library, later, 75, "EFT-1")  # its invoice is not in 1CRM yet
    pay(library, synced, 100, "EFT-2")
    pay(library, synced, 20)  # no reference: must not match EFT-… payments

    first = library.poll(scenario)
    assert first.status is ExecutionStatus.WARNING, first.error
    assert ops(first, 4) == 3 and len(library.crm_records("Payment")) == 2
    (incomplete,) = library.service.list_incomplete(scenario_id=scenario)
    assert incomplete.failed_module_id == 4 and incomplete.next_retry_at is not None
    for _ in range(3):  # later polls: no error, nothing repeated, still active
        assert library.poll(scenario).status is ExecutionStatus.SUCCESS
    assert library.service.get_scenario(scenario).active
    assert len(library.crm_records("Payment")) == 2
    now = utc_now()
    # The scenario keeps being scheduled while the payment waits (it does not pause).
    early = library.service.tick(now=now + timedelta(seconds=30))
    assert scenario in early.scheduled and early.retried == []  # first retry after 1 minute

    crm_invoice(library, account_id, later)  # the invoice arrives (2.4 synced it)
    report = library.service.tick(now=now + timedelta(minutes=2))
    assert report.retried == [incomplete.id]
    (retry,) = [
        e
        for e in library.service.list_executions(scenario_id=scenario).items
        if e.trigger_kind is TriggerKind.RETRY
    ]
    assert library.service.execute(retry.id).status is ExecutionStatus.SUCCESS
    assert library.service.get_incomplete(incomplete.id).status is IncompleteStatus.RESOLVED
    paid = [p for p in library.crm_records("Payment") if p["integrated_id"] == waiting["PaymentID"]]
    assert len(paid) == 1 and len(library.crm_records("Payment")) == 3
    assert payment_differences(library) == []


def test_2_7_a_payment_deleted_in_xero_is_deleted_in_1crm(library):
    account_id, contact_id = customer(library)
    invoice = xero_invoice(library, contact_id)
    mine = crm_invoice(library, account_id, invoice)
    scenario = library.load("2.7")
    library.service.choose_where_to_start(scenario, 1, {"type": "all"})
    payment = pay(library, invoice, 100, "EFT-3")
    library.poll(scenario)
    assert float(library.crm("GET", f"Invoice/{mine['id']}")["record"]["amount_due"]) == 375
    library.xero.control("config", {"clock_offset_seconds": 5})
    library.xero_api("POST", f"Payments/{payment['PaymentID']}", {"Status": "DELETED"})
    execution = library.poll(scenario)
    assert ops(execution, 8) == 1
    assert library.crm_records("Payment") == [] and library.crm_records("invoices_payments") == []
    assert float(library.crm("GET", f"Invoice/{mine['id']}")["record"]["amount_due"]) == 475
    assert payment_differences(library) == []


def test_2_6_and_2_7_a_1crm_payment_without_reference_does_not_come_back(library):
    account_id, contact_id = customer(library)
    invoice = xero_invoice(library, contact_id)
    mine = crm_invoice(library, account_id, invoice)
    outgoing, incoming = library.load("2.6"), library.load("2.7")
    library.service.choose_where_to_start(incoming, 1, {"type": "all"})
    library.crm_person(
        "Payment",
        {
            "account_id": account_id,
            "amount": 42,
            "payment_date": "2026-03-10",
            "related_invoices": [{"invoice_id": mine["id"], "amount": 42}],
        },
    )
    library.deliver(outgoing)
    (sent,) = library.xero_records("Payments")
    (payment,) = library.crm_records("Payment")
    assert payment["integrated_id"] == sent["PaymentID"]
    execution = library.poll(incoming)
    assert ops(execution, 4) == 0 and len(library.crm_records("Payment")) == 1
    assert payment_differences(library) == []


def test_2_7_a_payment_that_keeps_waiting_is_shown_as_needing_attention(library):
    account_id, contact_id = customer(library)
    synced, missing = xero_invoice(library, contact_id), xero_invoice(library, contact_id, "PO-8")
    crm_invoice(library, account_id, synced)
    scenario = library.load("2.7")
    library.service.choose_where_to_start(scenario, 1, {"type": "all"})
    waiting = pay(library, missing, 75, "EFT-1")
    library.poll(scenario)

    def entry():
        (found,) = [
            e for e in library.service.sync_log(scenario) if e.source_key == waiting["PaymentID"]
        ]
        return found

    assert entry().status == "Error"
    assert "no 1CRM invoice has Integrated ID" in entry().message
    assert "waiting: retry 1 of 8 at" in entry().message
    now = utc_now()
    for attempt in range(1, 9):  # the invoice never comes: every retry fails
        report = library.service.tick(now=now + timedelta(days=attempt))
        assert len(report.retried) == 1
        (retry,) = [
            e
            for e in library.service.list_executions(scenario_id=scenario).items
            if e.trigger_kind is TriggerKind.RETRY and e.status is ExecutionStatus.QUEUED
        ]
        library.service.execute(retry.id)
    (incomplete,) = library.service.list_incomplete(scenario_id=scenario)
    assert incomplete.next_retry_at is None and incomplete.status is IncompleteStatus.PENDING
    assert "needs attention: after 8 retries" in entry().message
    assert library.service.get_scenario(scenario).active
    pay(library, synced, 10, "EFT-2")  # the payments after it still sync
    library.xero.control("config", {"clock_offset_seconds": 5})
    assert ops(library.poll(scenario), 4) == 1


def test_2_7_never_copies_a_1crm_payment_whose_write_back_waits(library):
    """#20: §2.6 creates the Xero payment, then 1CRM's rate limit refuses the write-back of its
    Integrated ID past the connector's resends, so the run waits to retry it. §2.7's poll in
    between used to find no 1CRM payment with that Integrated ID and create a copy ("Duplicate
    of …", taken back by §2.6 later). §2.6 now marks the Xero payment's Reference (the
    customer's reference, then ``[1CRM <payment>]``) and §2.7 never brings a marked one back:
    no copy is ever created. A Xero user's reference mentioning 1CRM is not a mark."""
    account_id, contact_id = customer(library)
    invoice = xero_invoice(library, contact_id)
    mine = crm_invoice(library, account_id, invoice)
    outgoing, incoming = library.load("2.6"), library.load("2.7")
    library.service.choose_where_to_start(incoming, 1, {"type": "all"})
    made = library.crm_person(
        "Payment",
        {
            "account_id": account_id,
            "amount": 42,
            "payment_date": "2026-03-10",
            "customer_reference": "DD-0310",
            "related_invoices": [{"invoice_id": mine["id"], "amount": 42}],
        },
    )
    library.onecrm.fault(
        status=429, count=4, retry_after=1, method="PATCH", path_prefix="/api.php/data/Payment"
    )
    (execution,) = library.deliver(outgoing)
    assert execution.status is ExecutionStatus.WARNING, execution.error
    (sent,) = library.xero_records("Payments")
    (waiting,) = library.crm_records("Payment")
    assert not waiting.get("integrated_id")  # the write-back waits

    polled = library.poll(incoming)
    assert [p["id"] for p in library.crm_records("Payment")] == [made["id"]]
    assert ops(polled, 4) == 0
    assert sent["Reference"] == f"DD-0310 [1CRM {waiting['name']}]"

    report = library.service.tick(now=utc_now() + timedelta(minutes=2))
    (incomplete,) = library.service.list_incomplete(scenario_id=outgoing)
    assert report.retried == [incomplete.id]
    (retry,) = [
        e
        for e in library.service.list_executions(scenario_id=outgoing).items
        if e.trigger_kind is TriggerKind.RETRY and e.status is ExecutionStatus.QUEUED
    ]
    library.service.execute(retry.id)
    (payment,) = library.crm_records("Payment")
    assert payment["integrated_id"] == sent["PaymentID"]
    assert payment_differences(library) == []

    # A payment a person makes in Xero is brought back, whatever its reference says.
    library.xero.control("config", {"clock_offset_seconds": 5})
    pay(library, invoice, 10, "1CRM [refund] PMT-7")
    assert ops(library.poll(incoming), 4) == 1
    assert len(library.crm_records("Payment")) == 2
    assert payment_differences(library) == []
