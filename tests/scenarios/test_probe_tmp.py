from decimal import Decimal

import pytest

from tests.scenarios.test_books_balance import Scripted, machine_for
from tests.scenarios.users import LineSpec, crm_quotes


@pytest.mark.parametrize(
    "library,what", [("xero", "edit"), ("quickbooks", "edit"), ("quickbooks", "status")]
)
def test_probe(library, what):
    machine = machine_for(library)()
    try:
        machine.create_customer(side="crm", name="Kauri & Rimu", city="Napier", phone="")
        machine.sync()
        lines = [LineSpec("Widget", 3, Decimal("33.33"), Decimal(15), Decimal("12.5"))]
        machine.crm_quote(Scripted("Kauri & Rimu 1", lines, "NZD"), "2026-04-30")
        machine.sync()
        (quote,) = crm_quotes(machine.crm)
        if what == "edit":
            machine.crm_edit_quote(Scripted(quote, lines * 2), "2026-03-31")
        else:
            machine.quote_status(Scripted("1"), "app", True)
        try:
            machine.world.assert_balanced()
        except AssertionError as exc:
            print("FOUND", library, what, str(exc)[:400])
    finally:
        machine.stack.close()
