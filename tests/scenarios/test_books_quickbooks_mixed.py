"""A QuickBooks payment of money and credit together (§3.7, §3.12): one Receive Payment whose
lines link an invoice and a credit memo and that also receives money (``TotalAmt`` above 0).
Both reach 1CRM exactly once — the money as a payment (§3.7), the credit as a payment of type
Credit Note (§3.12, Integrated ID ``<payment>:credit``) — and a deletion in QuickBooks takes
both back; reconcile reads the one QuickBooks payment as those two."""

from __future__ import annotations

from decimal import Decimal

from modules.reconcile.books import CREDIT, PAYMENT, Allocation, money
from tests.scenarios.books import open_world
from tests.scenarios.users import CrmUser, LineSpec, QuickBooksUser


def test_money_and_credit_paid_together_in_quickbooks_reach_1crm_once_each():
    """On main neither §3.7 (it left payments applying credit to §3.12) nor §3.12 (only
    payments of 0.00) wrote it: 1CRM owed 46.00, QuickBooks 16.00."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        line = LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))
        ref = crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "2026-03-31")
        world.assert_balanced()
        assert app.credit(ref, crm, Decimal("12.50"), "2026-03-07", money_too=Decimal("17.50"))
        world.assert_balanced()
        assert crm.due(ref) == app.due(ref, crm) == Decimal("16.00")
        (payment,) = world.library.qbo_records("Payment")
        found = sorted(
            (p["payment_type"], money(p["amount"]), p["integrated_id"])
            for p in world.library.crm_records("Payment")
        )
        assert found == [
            ("Credit Note", Decimal("12.50"), f"{payment['Id']}:credit"),
            ("Receipt", Decimal("17.50"), payment["Id"]),
        ]
        app.delete_payment(payment["Id"])
        world.assert_balanced()
        assert world.library.crm_records("Payment") == []
        assert crm.due(ref) == Decimal("46.00")


def line(txn_id: str, txn_type: str, amount: float) -> dict[str, object]:
    return {"Amount": amount, "LinkedTxn": [{"TxnId": txn_id, "TxnType": txn_type}]}


def test_reconcile_reads_money_and_credit_together_as_a_payment_and_a_credit():
    """The credit pays the invoice lines first, in order; the money the rest."""
    from modules.reconcile.quickbooks import payments_of  # new: main read it as one payment

    paid, used = payments_of(
        {
            "Id": "8",
            "TxnDate": "2026-03-07",
            "TotalAmt": 12,
            "Line": [
                line("3", "Invoice", 15),
                line("5", "CreditMemo", 5),
                line("4", "Invoice", 2),
            ],
        }
    )
    assert (paid.key, paid.kind, paid.amount) == ("8", PAYMENT, Decimal("12.00"))
    assert paid.allocations == (Allocation("3", Decimal("10.00")), Allocation("4", Decimal(2)))
    assert (used.key, used.kind, used.amount) == ("8:credit", CREDIT, Decimal("5.00"))
    assert used.allocations == (Allocation("3", Decimal("5.00")),)
