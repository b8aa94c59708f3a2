"""Golden tests of the crm-quickbooks pack (the CRM Connect seed): a generic CRM posts webhooks
to the real ingress; payments become sales receipts, invoices follow every status change one
way, QuickBooks customers reach the CRM, and the first invoice paid in full fires the action."""

from __future__ import annotations

from tests.packs.conftest import ops, succeeded

PAYMENTS = "payments-crm-to-quickbooks.json"
INVOICES = "invoices-crm-to-quickbooks.json"


def install(world, **options):
    return world.install(
        "crm-quickbooks",
        {
            "options": {
                "first_paid_url": f"{world.crm_url}/reviews",
                "crm_contacts_url": f"{world.crm_url}/contacts",
                **options,
            }
        },
    )


def customers(world):
    return {
        (c.get("PrimaryEmailAddr") or {}).get("Address"): c for c in world.qbo_records("Customer")
    }


def test_a_payment_becomes_a_sales_receipt_for_the_customer_by_email(crm_quickbooks):
    world = crm_quickbooks
    flows = install(world)
    payment = {
        "id": "P-100",
        "email": "ana@kiwi.example",
        "name": "Ana Kiwi",
        "amount": 115,
        "date": "2026-05-04",
        "reference": "ORDER-7",
        "description": "Order form",
        "tax": "GST",
    }
    (run,) = world.send(flows[PAYMENTS], payment)
    succeeded(run)
    customer = customers(world)["ana@kiwi.example"]  # created: no customer had the e-mail
    (receipt,) = [r for r in world.qbo_records("SalesReceipt") if r.get("DocNumber") == "P-100"]
    assert receipt["CustomerRef"]["value"] == customer["Id"]
    assert receipt["TotalAmt"] == 115 and receipt["PaymentRefNum"] == "ORDER-7"
    # The same payment again (a retried webhook) is not recorded twice; a second payment by the
    # same e-mail goes to the same customer.
    (again,) = world.send(flows[PAYMENTS], payment)
    assert ops(succeeded(again), 9) == 0
    world.send(flows[PAYMENTS], {**payment, "id": "P-101", "amount": 23})
    assert (
        len([c for c in world.qbo_records("Customer") if c.get("DisplayName") == "Ana Kiwi"]) == 1
    )
    receipts = [
        r for r in world.qbo_records("SalesReceipt") if r.get("DocNumber") in ("P-100", "P-101")
    ]
    assert len(receipts) == 2


def test_an_invoice_follows_every_status_change_and_the_first_paid_fires_once(crm_quickbooks):
    world = crm_quickbooks
    flows = install(world, invoice_prefix="C-")
    lines = [{"description": "Coaching", "quantity": 2, "unit_price": 100, "tax": "GST"}]
    invoice = {
        "number": "901",
        "email": "rua@kiwi.example",
        "name": "Rua",
        "date": "2026-05-04",
        "due_date": "2026-06-01",
        "lines": lines,
        "total": 230,
        "status": "sent",
    }
    succeeded(world.send(flows[INVOICES], invoice)[0])
    (created,) = [i for i in world.qbo_records("Invoice") if i.get("DocNumber") == "C-901"]
    assert created["TotalAmt"] == 230  # 2 x 100 + 15 % GST

    # A discount added in the CRM: the QuickBooks invoice follows.
    succeeded(
        world.send(flows[INVOICES], {**invoice, "status": "updated", "discount": 20, "total": 207})[
            0
        ]
    )
    (updated,) = [i for i in world.qbo_records("Invoice") if i.get("DocNumber") == "C-901"]
    assert updated["TotalAmt"] == 207

    # Paid in the CRM: a payment clears it; the first-paid action is sent once.
    world.run(flows["first-invoice-paid-quickbooks-to-crm.json"])
    world.next_second()
    succeeded(
        world.send(
            flows[INVOICES], {**invoice, "status": "paid", "paid_date": "2026-05-10", "total": 207}
        )[0]
    )
    (paid,) = [i for i in world.qbo_records("Invoice") if i.get("DocNumber") == "C-901"]
    assert paid["Balance"] == 0
    succeeded(world.run(flows["first-invoice-paid-quickbooks-to-crm.json"]))
    (action,) = world.crm.to("reviews")
    assert action["json"]["email"] == "rua@kiwi.example"
    assert action["key"] == f"first-invoice-paid-{paid['CustomerRef']['value']}"

    # A second invoice of the same customer, sent then voided: voided in QuickBooks, no action.
    second = {**invoice, "number": "902", "status": "sent"}
    succeeded(world.send(flows[INVOICES], second)[0])
    succeeded(world.send(flows[INVOICES], {**second, "status": "voided"})[0])
    (voided,) = [i for i in world.qbo_records("Invoice") if i.get("DocNumber") == "C-902"]
    assert voided["TotalAmt"] == 0
    succeeded(world.run(flows["first-invoice-paid-quickbooks-to-crm.json"]))
    assert len(world.crm.to("reviews")) == 1


def test_quickbooks_customers_reach_the_crm_including_the_existing_ones(crm_quickbooks):
    world = crm_quickbooks
    install(world)
    state = world.service.sync_historical("crm-quickbooks", "2000-01-01")
    assert state.finished and not state.errors
    emails = {r["json"]["email"] for r in world.crm.to("contacts")}
    assert "accounts@acmeltd.example" in emails  # a fixture customer, created before the pack
