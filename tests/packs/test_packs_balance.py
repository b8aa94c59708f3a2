"""The zoho-quickbooks pack balances, found at random: people create and edit contacts,
customers, products and items on both sides between syncs (the same e-mail or name on both
sides too, both sides changing one record between two syncs); the pack then syncs until a
round writes nothing, and

- reconciliation by the pack's match keys (``modules/reconcile/packs.py``) finds no
  difference: every contact is one customer with the same names and phone, every product one
  item with the same code and price;
- every run succeeded; the sync quiesces within ``MAX_ROUNDS`` (no loop).

Hypothesis' stateful testing draws the sequences, seeded (``derandomize``) and bounded by
example and step counts (the style of ``tests/scenarios/test_books_balance.py``);
``SWITCHBOARD_SOAK=1`` runs more.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from modules.reconcile.packs import compare_zoho_quickbooks
from tests.clock import SkippingClock
from tests.packs.conftest import PackWorld, make_service, succeeded

SOAK = os.environ.get("SWITCHBOARD_SOAK") == "1"
EXAMPLES, STEPS = (20, 15) if SOAK else (2, 8)
MAX_ROUNDS = 4
PEOPLE = 3
PRODUCTS = 3
ORDER = [
    "customers-quickbooks-to-zoho.json",
    "customers-zoho-to-quickbooks.json",
    "products-quickbooks-to-zoho.json",
    "products-zoho-to-quickbooks.json",
]
WRITES = {
    "customers-zoho-to-quickbooks.json": (5, 7, 9),
    "customers-quickbooks-to-zoho.json": (3, 5, 6, 7),
    "products-zoho-to-quickbooks.json": (4, 6, 8),
    "products-quickbooks-to-zoho.json": (4, 5, 6),
}


def email(i: int) -> str:
    return f"person{i}@balance.example"


def product(i: int) -> str:
    return f"Product {i}"


def test_zoho_quickbooks_balances_after_random_changes_on_both_sides(tmp_path_factory, serve, http):
    from modules.quickbooks import sandbox as qbo_sandbox
    from modules.zohocrm import sandbox as zoho_sandbox
    from tests.connectors.conftest import Sandbox
    from tests.connectors.test_quickbooks_support import connect_quickbooks
    from tests.connectors.test_zohocrm_support import connect_zohocrm

    class Machine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            clock = SkippingClock()  # rate-limit windows and waits (``tests/clock.py``)
            zoho = Sandbox(serve(zoho_sandbox.create_app({}, monotonic=clock.monotonic)), http)
            qbo = Sandbox(serve(qbo_sandbox.create_app({}, monotonic=clock.monotonic)), http)
            self.service, self.close = make_service(tmp_path_factory.mktemp("world"), clock)
            store, registry = self.service.store, self.service.registry
            connections = {
                "zohocrm": connect_zohocrm(store, registry, http, zoho).id,
                "quickbooks": connect_quickbooks(store, registry, http, qbo).id,
            }
            self.world = PackWorld(
                self.service, {"zohocrm": zoho, "quickbooks": qbo}, connections, http
            )
            flows = self.world.install("zoho-quickbooks", {"directions": {"vendors": "off"}})
            self.flows = {f: flows[f] for f in ORDER}
            self.zoho_people: dict[int, str] = {}
            self.qbo_people: dict[int, dict] = {}
            self.zoho_products: dict[int, str] = {}
            self.qbo_items: dict[int, dict] = {}

        # -- people change things between syncs --

        @rule(i=st.integers(0, PEOPLE - 1), phone=st.integers(100, 999))
        def zoho_contact(self, i, phone):
            if i in self.zoho_people:
                self.world.zoho_update("Contacts", self.zoho_people[i], {"Phone": f"z{phone}"})
                return
            found = [c for c in self.world.zoho_records("Contacts") if c.get("Email") == email(i)]
            if found:  # came from QuickBooks
                self.zoho_people[i] = found[0]["id"]
                return
            self.zoho_people[i] = self.world.zoho_create(
                "Contacts",
                {
                    "First_Name": "P",
                    "Last_Name": f"Person{i}",
                    "Email": email(i),
                    "Phone": f"z{phone}",
                },
            )

        @rule(i=st.integers(0, PEOPLE - 1), phone=st.integers(100, 999))
        def qbo_customer(self, i, phone):
            existing = {
                (c.get("PrimaryEmailAddr") or {}).get("Address"): c
                for c in self.world.qbo_records("Customer")
            }
            if email(i) in existing:
                current = existing[email(i)]
                body = {
                    "Id": current["Id"],
                    "SyncToken": current["SyncToken"],
                    "sparse": True,
                    "PrimaryPhone": {"FreeFormNumber": f"q{phone}"},
                }
            else:
                body = {
                    "DisplayName": f"P Person{i}",
                    "GivenName": "P",
                    "FamilyName": f"Person{i}",
                    "PrimaryEmailAddr": {"Address": email(i)},
                    "PrimaryPhone": {"FreeFormNumber": f"q{phone}"},
                }
            self.world.qbo("POST", "customer", body)

        @rule(i=st.integers(0, PRODUCTS - 1), price=st.integers(1, 500))
        def zoho_product(self, i, price):
            found = [
                p
                for p in self.world.zoho_records("Products")
                if p.get("Product_Name") == product(i)
            ]
            if found:
                self.world.zoho_update("Products", found[0]["id"], {"Unit_Price": price})
            else:
                self.world.zoho_create(
                    "Products", {"Product_Name": product(i), "Unit_Price": price}
                )

        @rule(i=st.integers(0, PRODUCTS - 1), price=st.integers(1, 500))
        def qbo_item(self, i, price):
            existing = {it["Name"]: it for it in self.world.qbo_records("Item")}
            if product(i) in existing:
                it = existing[product(i)]
                body = {
                    "Id": it["Id"],
                    "SyncToken": it["SyncToken"],
                    "sparse": True,
                    "UnitPrice": price,
                }
            else:
                body = {
                    "Name": product(i),
                    "Type": "Service",
                    "UnitPrice": price,
                    "IncomeAccountRef": {"value": "1"},
                }
            self.world.qbo("POST", "item", body)

        @rule()
        def sync(self):
            self.settle()

        def settle(self):
            for _ in range(MAX_ROUNDS):
                self.world.next_second()  # the stamps tell this round's writes from the last
                written = 0
                for flow, scenario in self.flows.items():
                    run = succeeded(self.world.run(scenario))
                    written += sum(self.world_ops(run, m) for m in WRITES[flow])
                if written == 0:
                    return
            raise AssertionError(f"the sync did not quiesce in {MAX_ROUNDS} rounds")

        @staticmethod
        def world_ops(run, module_id):
            from tests.packs.conftest import ops

            return ops(run, module_id)

        def teardown(self):
            try:
                self.settle()
                zoho = self.world.sandboxes["zohocrm"].state()["records"]
                realm = self.world.sandboxes["quickbooks"].state()["records"]
                realm = realm[qbo_sandbox.DEFAULT_REALM_ID]
                ours = {email(i) for i in range(PEOPLE)} | {
                    product(i).casefold() for i in range(PRODUCTS)
                }
                differences = [d for d in compare_zoho_quickbooks(zoho, realm) if d.key in ours]
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
