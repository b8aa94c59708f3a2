"""The comparison of two sides' books (pure: books built by hand)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from modules.reconcile import Books, Difference, compare
from modules.reconcile.books import (
    ACCEPTED,
    CREDIT,
    DECLINED,
    DRAFT,
    INVOICED,
    OPEN,
    PAYMENT,
    VOID,
    Allocation,
    Customer,
    Invoice,
    Line,
    Payment,
    Quote,
    money,
    quantity,
)


def invoice(key="X1", **changes) -> Invoice:
    fields = {
        "key": key,
        "label": "INV-0001",
        "customer": "ACME",
        "date": "2026-03-01",
        "due_date": "2026-03-31",
        "currency": "NZD",
        "rate": Decimal(1),
        "status": OPEN,
        "lines": (Line("Widget", Decimal(2), money(100), money(15)),),
        "subtotal": money(100),
        "tax": money(15),
        "total": money(115),
        "amount_due": money(115),
    }
    return Invoice(**{**fields, **changes})


def payment(key="P1", invoice_key="X1", amount=50, **changes) -> Payment:
    fields = {
        "key": key,
        "label": "PMT-1",
        "kind": PAYMENT,
        "date": "2026-03-05",
        "amount": money(amount),
        "allocations": (Allocation(invoice_key, money(amount)),),
    }
    return Payment(**{**fields, **changes})


def books(customers=(), invoices=(), payments=()) -> Books:
    return Books(list(customers), list(invoices), list(payments))


def fields(differences: list[Difference]) -> list[tuple[str, str, str]]:
    return [(d.kind, d.label, d.field) for d in differences]


def test_the_same_books_have_no_difference():
    side = books([Customer("ACME", email="a@x")], [invoice()], [payment()])
    other = books([Customer("ACME", email="a@x")], [invoice()], [payment()])
    assert compare("xero", side, other) == []


def test_a_customer_field_names_both_values():
    crm = books([Customer("ACME", phone="+64 9 1")])
    accounting = books([Customer("ACME", phone=None)])
    (difference,) = compare("xero", crm, accounting)
    assert (difference.kind, difference.key, difference.field) == ("customer", "acme", "phone")
    assert (difference.crm, difference.accounting) == ("+64 9 1", None)
    assert "1CRM '+64 9 1'" in str(difference)


def test_missing_and_duplicated_records_are_listed():
    crm = books([Customer("A"), Customer("A"), Customer("B")], [invoice(), invoice(key="")])
    accounting = books([Customer("A"), Customer("C")], [invoice(), invoice(key="X2")])
    assert sorted(fields(compare("xero", crm, accounting))) == [
        ("customer", "A", "count"),
        ("customer", "B", "exists"),
        ("customer", "C", "exists"),
        ("invoice", "INV-0001", "exists"),  # the 1CRM invoice never synced
        ("invoice", "INV-0001", "exists"),  # X2, not in 1CRM
    ]


def test_drafts_and_invoices_voided_before_syncing_are_not_expected_in_1crm():
    accounting = books([], [invoice(key="D", status=DRAFT), invoice(key="V", status=VOID)])
    assert compare("xero", books(), accounting) == []
    crm = books([], [invoice(key="V", status=OPEN)])
    assert fields(compare("xero", crm, accounting)) == [("invoice", "INV-0001", "status")]


def test_lines_are_compared_one_by_one():
    crm = invoice(lines=(Line("Widget", Decimal(2), money(100), money(15.01)),))
    (difference,) = compare("xero", books([], [crm]), books([], [invoice()]))
    assert difference.field == "line 1 tax"
    assert (difference.crm, difference.accounting) == (money(15.01), money(15))
    # QuickBooks keeps tax per rate: a line's share is not compared, the document's tax is.
    assert compare("quickbooks", books([], [crm]), books([], [invoice()])) == []


def test_payments_pair_by_key_then_by_money():
    crm = books([], [], [payment(key="P1"), payment(key="", date="2026-03-07", label="PMT-2")])
    accounting = books([], [], [payment(key="P1"), payment(key="P2", date="2026-03-07")])
    assert compare("xero", crm, accounting) == []
    accounting.payments.append(payment(key="P3", amount=5))
    assert fields(compare("xero", crm, accounting)) == [("payment", "PMT-1", "exists")]


def test_a_payment_twice_in_1crm_is_a_duplicate():
    crm = books([], [], [payment(), payment()])
    assert fields(compare("xero", crm, books([], [], [payment()]))) == [
        ("payment", "PMT-1", "count")
    ]


def test_over_payments_count_where_the_accounting_system_keeps_them():
    over = payment(amount=80, allocations=(Allocation("X1", money(50)),))
    crm, accounting = books([], [], [over]), books([], [], [payment()])
    assert compare("xero", crm, accounting) == []  # Xero keeps what was allocated
    (difference,) = compare("quickbooks", crm, accounting)
    assert (difference.field, difference.crm, difference.accounting) == (
        "amount",
        money(80),
        money(50),
    )


def test_credit_notes_are_not_payments():
    credit = payment(kind=CREDIT)
    (difference,) = compare("xero", books([], [], [credit]), books([], [], [payment()]))
    assert (difference.field, difference.crm, difference.accounting) == ("kind", CREDIT, PAYMENT)


def test_values_are_normalised():
    assert money("12.345") == Decimal("12.35") and money(None) == Decimal("0.00")
    assert quantity("2.000") == quantity(2) == Decimal(2)
    with pytest.raises(ValueError, match="not an amount"):
        money("abc")


def test_an_unknown_library_is_refused():
    with pytest.raises(KeyError):
        compare("zoho", books(), books())


def quote(status: str, id_: str = "Q1") -> Quote:
    line = (Line("Widget", Decimal(1), money(100), money(15)),)
    return Quote(
        "1CRM 7",
        id_,
        "QUO-7",
        "ACME",
        "2026-03-01",
        "2026-03-31",
        "NZD",
        Decimal(1),
        status,
        line,
        money(100),
        money(15),
        money(115),
    )


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_quote_statuses_are_compared_through_the_mapping(library):
    """1CRM has no *invoiced* stage: an accounting quote invoiced is accepted in 1CRM (issue
    #20, quote statuses); every other status must be the same, named as each side has it."""

    def differs(crm: str, accounting: str) -> list[tuple[str, object, object]]:
        found = compare(
            library, Books([], [], [], [quote(crm)]), Books([], [], [], [quote(accounting, "X")])
        )
        return [(d.field, d.crm, d.accounting) for d in found]

    assert differs(ACCEPTED, INVOICED) == []
    assert differs(ACCEPTED, ACCEPTED) == differs(DECLINED, DECLINED) == []
    assert differs(OPEN, INVOICED) == [("status", OPEN, INVOICED)]
    assert differs(DECLINED, ACCEPTED) == [("status", DECLINED, ACCEPTED)]


def test_a_1crm_payment_over_two_invoices_pairs_with_its_two_xero_payments():
    """§2.6 makes one Xero payment per invoice of a 1CRM payment over several and writes
    their ids comma-joined as its Integrated ID: the Xero payments are compared as one —
    equal, no difference; one missing in Xero, its allocation differs."""
    crm_payment = payment(
        "P1,P2",
        amount=50,
        allocations=(Allocation("X1", money(20)), Allocation("X2", money(30))),
    )
    both = [payment("P1", "X1", 20), payment("P2", "X2", 30)]
    assert compare("xero", books(payments=[crm_payment]), books(payments=both)) == []
    left = compare("xero", books(payments=[crm_payment]), books(payments=both[:1]))
    assert fields(left) == [("payment", "PMT-1", "allocations")]
