"""The zoho-xero pack balances, found at random: invoices made in Zoho CRM and in Xero between
syncs (lines of products at whole-dollar prices, GST or none); the pack's invoice flows then
sync until a round writes nothing, and reconciliation by the Xero invoice id
(``modules/reconcile/packs.py``) finds every invoice once on each side with the same total to
the cent. Seeded, bounded hypothesis stateful testing, as ``test_packs_balance.py``."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from modules.reconcile.packs import compare_zoho_xero
from tests.clock import SkippingClock
from tests.packs.conftest import PackWorld, make_service, ops, succeeded

SOAK = os.environ.get("SWITCHBOARD_SOAK") == "1"
EXAMPLES, STEPS = (20, 12) if SOAK else (2, 6)
MAX_ROUNDS = 4
ORDER = {"invoices-zoho-to-xero.json": (10, 11), "invoices-xero-to-zoho.json": (9, 10)}
LINE = st.tuples(st.integers(1, 3), st.integers(1, 300), st.booleans())


def test_zoho_xero_invoices_balance_after_random_invoices_on_both_sides(
    tmp_path_factory, serve, http
):
    from modules.xero import sandbox as xero_sandbox
    from modules.zohocrm import sandbox as zoho_sandbox
    from tests.connectors.conftest import Sandbox, connect_xero
    from tests.connectors.test_zohocrm_support import connect_zohocrm

    class Machine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            clock = SkippingClock()  # rate-limit windows and waits (``tests/clock.py``)
            zoho = Sandbox(serve(zoho_sandbox.create_app({}, monotonic=clock.monotonic)), http)
            xero = Sandbox(serve(xero_sandbox.create_app({}, monotonic=clock.monotonic)), http)
            self.service, self.close = make_service(tmp_path_factory.mktemp("world"), clock)
            store, registry = self.service.store, self.service.registry
            connections = {
                "zohocrm": connect_zohocrm(store, registry, http, zoho).id,
                "xero": connect_xero(store, registry, http, xero).id,
            }
            self.world = PackWorld(self.service, {"zohocrm": zoho, "xero": xero}, connections, http)
            flows = self.world.install("zoho-xero")
            self.flows = {f: flows[f] for f in ORDER}
            self.account = self.world.zoho_create("Accounts", {"Account_Name": "Balance Ltd"})
            self.product = self.world.zoho_create(
                "Products", {"Product_Name": "Balance kit", "Unit_Price": 1}
            )
            self.count = 0

        @rule(lines=st.lists(LINE, min_size=1, max_size=3))
        def zoho_invoice(self, lines):
            self.count += 1
            items = [
                {
                    "Product_Name": {"id": self.product},
                    "Quantity": qty,
                    "ListPrice": price,
                    "Line_Tax": [{"name": "GST", "percentage": 15}] if gst else [],
                }
                for qty, price, gst in lines
            ]
            self.world.zoho_create(
                "Invoices",
                {
                    "Subject": f"Z {self.count}",
                    "Invoice_Number": f"{self.count}",
                    "Invoice_Date": "2026-05-04",
                    "Due_Date": "2026-06-01",
                    "Account_Name": {"id": self.account},
                    "Invoiced_Items": items,
                },
            )

        @rule(lines=st.lists(LINE, min_size=1, max_size=3))
        def xero_invoice(self, lines):
            self.count += 1
            body = {
                "Invoices": [
                    {
                        "Type": "ACCREC",
                        "Contact": {"Name": "Balance Ltd"},
                        "InvoiceNumber": f"X-{self.count}",
                        "Date": "2026-05-04",
                        "DueDate": "2026-06-01",
                        "Status": "AUTHORISED",
                        "LineAmountTypes": "Exclusive",
                        "LineItems": [
                            {
                                "Description": "Balance kit",
                                "Quantity": qty,
                                "UnitAmount": price,
                                "AccountCode": "200",
                                "TaxType": "OUTPUT2" if gst else "NONE",
                            }
                            for qty, price, gst in lines
                        ],
                    }
                ]
            }
            self.world.xero("PUT", "Invoices", body)

        @rule()
        def sync(self):
            self.settle()

        def settle(self):
            for _ in range(MAX_ROUNDS):
                self.world.next_second()
                written = 0
                for flow, writes in ORDER.items():
                    run = succeeded(self.world.run(self.flows[flow]))
                    written += sum(ops(run, m) for m in writes)
                if written == 0:
                    return
            raise AssertionError(f"the sync did not quiesce in {MAX_ROUNDS} rounds")

        def teardown(self):
            try:
                self.settle()
                zoho = self.world.sandboxes["zohocrm"].state()["records"]
                (tenant,) = self.world.sandboxes["xero"].state()["records"].values()
                differences = compare_zoho_xero(zoho, tenant)
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
