"""The crm-quickbooks pack balances, found at random: a webhook CRM (this test is the CRM and
keeps its books) sends payments and invoice events — sent, updated lines, paid, voided, the
same webhook again — in any order; afterwards every payment is one QuickBooks sales receipt of
its amount, every sent invoice one QuickBooks invoice with the CRM's total to the cent, nothing
due once paid, zero once voided; reconciliation (``modules/reconcile/packs.py``'s
``Difference``) finds none. Seeded, bounded hypothesis stateful testing."""

from __future__ import annotations

import os
from decimal import Decimal

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from modules.reconcile.books import money
from modules.reconcile.compare import Difference
from tests.clock import SkippingClock
from tests.packs.conftest import PackWorld, make_service, succeeded

SOAK = os.environ.get("SWITCHBOARD_SOAK") == "1"
EXAMPLES, STEPS = (20, 15) if SOAK else (4, 12)
LINES = st.lists(st.tuples(st.integers(1, 3), st.integers(1, 200)), min_size=1, max_size=3)


def total(lines):
    return money(sum(Decimal(q) * Decimal(p) for q, p in lines) * Decimal("1.15"))


def test_crm_quickbooks_balances_after_random_crm_events(tmp_path_factory, serve, http):
    from modules.quickbooks import sandbox as qbo_sandbox
    from tests.connectors.conftest import Sandbox
    from tests.connectors.test_quickbooks_support import connect_quickbooks

    class Machine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            clock = SkippingClock()  # rate-limit windows and waits (``tests/clock.py``)
            qbo = Sandbox(serve(qbo_sandbox.create_app({}, monotonic=clock.monotonic)), http)
            self.service, self.close = make_service(tmp_path_factory.mktemp("world"), clock)
            connection = connect_quickbooks(self.service.store, self.service.registry, http, qbo)
            self.world = PackWorld(
                self.service, {"quickbooks": qbo}, {"quickbooks": connection.id}, http
            )
            self.flows = self.world.install("crm-quickbooks")
            self.payments: dict[str, Decimal] = {}
            self.invoices: dict[str, dict] = {}

        def send(self, flow, body):
            for execution in self.world.send(self.flows[flow], body):
                succeeded(execution)

        @rule(i=st.integers(0, 2), amount=st.integers(1, 500), again=st.booleans())
        def payment(self, i, amount, again):
            pid = f"P{len(self.payments)}"
            body = {
                "id": pid,
                "email": f"payer{i}@crm.example",
                "name": f"Payer {i}",
                "amount": amount,
                "date": "2026-05-04",
                "tax": "GST",
            }
            self.send("payments-crm-to-quickbooks.json", body)
            if again:  # the CRM retries the webhook
                self.send("payments-crm-to-quickbooks.json", body)
            self.payments[pid] = money(amount)

        @rule(
            i=st.integers(0, 3),
            lines=LINES,
            event=st.sampled_from(["sent", "updated", "paid", "voided"]),
        )
        def invoice(self, i, lines, event):
            number = f"{i}"
            state = self.invoices.get(number)
            if state is None and event != "sent":
                self.invoice(i, lines, "sent")  # the CRM sends an invoice before anything else
                state = self.invoices[number]
            if state is not None and state["status"] in ("paid", "voided"):
                return  # settled in the CRM: nothing more happens to it
            if event == "sent" and state is not None:
                event = "updated"
            current = lines if event in ("sent", "updated") else state["lines"]
            body = {
                "number": number,
                "email": f"buyer{i}@crm.example",
                "name": f"Buyer {i}",
                "date": "2026-05-04",
                "due_date": "2026-06-01",
                "paid_date": "2026-05-10",
                "lines": [
                    {"description": "Goods", "quantity": q, "unit_price": p, "tax": "GST"}
                    for q, p in current
                ],
                "total": float(total(current)),
                "status": event,
            }
            self.send("invoices-crm-to-quickbooks.json", body)
            self.invoices[number] = {"lines": current, "status": event}

        def teardown(self):
            try:
                realm = self.world.sandboxes["quickbooks"].state()["records"][
                    qbo_sandbox.DEFAULT_REALM_ID
                ]
                differences = []
                receipts = {r.get("DocNumber"): r for r in realm.get("SalesReceipt", [])}
                for pid, amount in self.payments.items():
                    got = receipts.get(pid)
                    if got is None or money(got["TotalAmt"]) != amount:
                        differences.append(
                            Difference(
                                "payment", pid, pid, "amount", amount, got and got["TotalAmt"]
                            )
                        )
                counts = {}
                for r in realm.get("SalesReceipt", []):
                    counts[r.get("DocNumber")] = counts.get(r.get("DocNumber"), 0) + 1
                differences += [
                    Difference("payment", k, k, "count", 1, n) for k, n in counts.items() if n > 1
                ]
                invoices = {i.get("DocNumber"): i for i in realm.get("Invoice", [])}
                for number, state in self.invoices.items():
                    got = invoices.get(number)
                    want_total = (
                        Decimal(0) if state["status"] == "voided" else total(state["lines"])
                    )
                    want_due = Decimal(0) if state["status"] in ("paid", "voided") else want_total
                    seen = got and (money(got["TotalAmt"]), money(got["Balance"]))
                    if seen != (want_total, want_due):
                        differences.append(
                            Difference(
                                "invoice",
                                number,
                                number,
                                "total, due",
                                (want_total, want_due),
                                seen,
                            )
                        )
                assert differences == [], differences
            finally:
                self.close()

    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            derandomize=True,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        ),
    )
