"""People using 1CRM, Xero and QuickBooks Online between syncs, through each system's own API
(or, for 1CRM documents, its screens): what the randomized books test does to the sandboxes.

Every system gets the same verbs — a customer made or edited, an invoice made, a payment
recorded — so that the test's rules are written once. Invoices are known by a ``Ref``: the
side that made them and their id there; the other side's copy is found by the Integrated ID
1CRM keeps.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from modules.reconcile.books import FROM_QUICKBOOKS, money
from tests.scenarios.conftest import QBO_REALM, Library

ACCOUNT_CODE = "200"  # Xero's sales account
BANK_CODE = "090"  # Xero's bank account that takes payments
QBO_TAX_CODES = {Decimal(15): "4", Decimal(0): "5", Decimal(10): "8"}


@dataclass(frozen=True)
class LineSpec:
    """One line as a person types it: quantity, unit price (net in exclusive mode), tax rate
    and a discount percentage."""

    description: str
    quantity: int
    price: Decimal
    tax: Decimal
    discount: Decimal = Decimal(0)


@dataclass(frozen=True)
class Ref:
    """An invoice: the side that made it (``crm`` or ``app``) and its id there."""

    side: str
    id: str


def xero_phones(phone: str) -> dict[str, Any]:
    return {"Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": phone}]} if phone else {}


def items_of(lines: list[LineSpec]) -> list[dict[str, Any]]:
    """1CRM line items as a person types them."""
    return [
        {
            "name": line.description,
            "quantity": line.quantity,
            "unit_price": str(line.price),
            "tax_percentage": str(line.tax),
            **({"discount_percentage": str(line.discount)} if line.discount else {}),
        }
        for line in lines
    ]


class CrmUser:
    """A person in 1CRM."""

    def __init__(self, library: Library) -> None:
        self.library = library

    def currency_id(self, code: str) -> str:
        currencies = self.library.crm_records("Currency")
        return next(c["id"] for c in currencies if c["iso4217"] == code)

    def account_id(self, name: str) -> str | None:
        found = [a for a in self.library.crm_records("Account") if a["name"] == name]
        return found[0]["id"] if found else None

    def create_customer(self, name: str, email: str, city: str, phone: str = "") -> None:
        fields = {"name": name, "email1": email, "billing_address_city": city}
        self.library.crm(
            "POST", "Account", {**fields, **({"phone_office": phone} if phone else {})}
        )

    def edit_customer(self, name: str, email: str, city: str, phone: str = "") -> bool:
        account = self.account_id(name)
        if account is None:
            return False
        fields = {"email1": email, "billing_address_city": city}
        if phone:
            fields["phone_office"] = phone
        self.library.crm("PATCH", f"Account/{account}", fields)
        return True

    def rename_customer(self, name: str, renamed: str) -> bool:
        account = self.account_id(name)
        if account is None:
            return False
        self.library.crm("PATCH", f"Account/{account}", {"name": renamed})
        return True

    def create_invoice(
        self, customer: str, lines: list[LineSpec], currency: str, due: str
    ) -> Ref | None:
        account = self.account_id(customer)
        if account is None:
            return None
        items = items_of(lines)
        saved = self.library.crm_person(
            "Invoice",
            {
                "name": f"Work for {customer}",
                "billing_account_id": account,
                "invoice_date": "2026-03-01",
                "due_date": due,
                "currency_id": self.currency_id(currency),
                "line_items": items,
            },
        )
        return Ref("crm", saved["id"])

    def invoice(self, ref: Ref) -> dict[str, Any] | None:
        """The 1CRM invoice of ``ref`` (``None`` while it is only on the other side)."""
        for invoice in self.library.crm_records("Invoice"):
            if (ref.side == "crm" and invoice["id"] == ref.id) or (
                ref.side == "app" and invoice.get("integrated_id") == ref.id
            ):
                return invoice
        return None

    def due(self, ref: Ref) -> Decimal | None:
        invoice = self.invoice(ref)
        return None if invoice is None else money(invoice["amount_due"])

    def pay(self, ref: Ref, allocated: Decimal, received: Decimal, date: str) -> bool:
        """A payment of ``received`` of which ``allocated`` goes to the invoice."""
        return self.pay_invoices([(ref, allocated)], received, date) is not None

    def pay_invoices(
        self, shares: list[tuple[Ref, Decimal]], received: Decimal, date: str
    ) -> str | None:
        """One payment of ``received`` allocated to several invoices of one account (each its
        share, in this order); its id, ``None`` when an invoice is not in 1CRM."""
        invoices = [self.invoice(ref) for ref, _ in shares]
        if not invoices or None in invoices:
            return None
        first = invoices[0]
        assert first is not None
        links = [
            {"invoice_id": invoice["id"], "amount": str(share)}
            for invoice, (_, share) in zip(invoices, shares, strict=True)
            if invoice is not None
        ]
        saved = self.library.crm_person(
            "Payment",
            {
                "account_id": first["billing_account_id"],
                "amount": str(received),
                "payment_date": date,
                "currency_id": first["currency_id"],
                "related_invoices": links,
            },
        )
        return str(saved["id"])

    def credit(
        self, ref: Ref, amount: Decimal, date: str, allocated: Decimal | None = None
    ) -> bool:
        """Credit given on the invoice: a payment of type Credit Note (what reconcile reads
        as a credit) of ``amount``, ``allocated`` of it to the invoice (all by default; none:
        the account's credit, on no invoice)."""
        invoice = self.invoice(ref)
        if invoice is None:
            return False
        allocated = amount if allocated is None else allocated
        links = [{"invoice_id": invoice["id"], "amount": str(allocated)}] if allocated else []
        self.library.crm_person(
            "Payment",
            {
                "account_id": invoice["billing_account_id"],
                "amount": str(amount),
                "payment_date": date,
                "payment_type": "Credit Note",
                "currency_id": invoice["currency_id"],
                "related_invoices": links,
            },
        )
        return True

    def untouched(self, ref: Ref) -> bool:
        """Whether nothing was paid on the 1CRM invoice of ``ref`` (or it is not in 1CRM)."""
        invoice = self.invoice(ref)
        return invoice is None or money(invoice["amount_due"]) == money(invoice["amount"])

    def edit_invoice(self, ref: Ref, lines: list[LineSpec], due: str) -> bool:
        """New lines and due date, saved in 1CRM's screens (the invoice still owes the new
        total less what was paid on it)."""
        invoice = self.invoice(ref)
        if invoice is None:
            return False
        self.library.crm_edit(
            "Invoice", invoice["id"], {"due_date": due, "line_items": items_of(lines)}
        )
        return True

    def cancel_invoice(self, ref: Ref) -> bool:
        """Cancel the invoice, as 1CRM's screens do: it stays, marked cancelled."""
        invoice = self.invoice(ref)
        if invoice is None:
            return False
        self.library.crm("PATCH", f"Invoice/{invoice['id']}", {"cancelled": True})
        return True

    def delete_invoice(self, ref: Ref) -> bool:
        invoice = self.invoice(ref)
        if invoice is None:
            return False
        self.library.crm("DELETE", f"Invoice/{invoice['id']}")
        return True

    def synced_payments(self) -> list[str]:
        """The ids of the payments that have their twin in the accounting system."""
        return [
            p["id"]
            for p in self.library.crm_records("Payment")
            if p.get("integrated_id") and p.get("payment_type") != "Credit Note"
        ]

    def unsynced_payments(self) -> list[str]:
        """The ids of the payments and credits made in 1CRM that have no twin in the
        accounting system yet (no Integrated ID: not synced, or waiting)."""
        return [p["id"] for p in self.library.crm_records("Payment") if not p.get("integrated_id")]

    def synced_credits(self) -> list[str]:
        """The ids of the credits (payments of type Credit Note) that have their twin, a
        credit note's allocation, in the accounting system."""
        return [
            p["id"]
            for p in self.library.crm_records("Payment")
            if p.get("integrated_id") and p.get("payment_type") == "Credit Note"
        ]

    def payments_on(self, ref: Ref) -> list[str]:
        """The ids of the payments and credits allocated to the 1CRM invoice of ``ref``."""
        invoice = self.invoice(ref)
        if invoice is None:
            return []
        links = self.library.crm_records("invoices_payments")
        return sorted({k["payment_id"] for k in links if k["invoice_id"] == invoice["id"]})

    def clear_invoice(self, ref: Ref) -> int:
        """Delete every payment and credit on the invoice, as a person does before cancelling
        or editing one that is paid (Xero refuses to void or edit it until nothing is
        allocated: scenarios/README.md, "Paid invoices changed"); how many went."""
        payments = self.payments_on(ref)
        for payment in payments:
            self.delete_payment(payment)
        return len(payments)

    def delete_payment(self, payment_id: str) -> None:
        """Delete a payment as a person does: its invoices owe again what it paid (the
        caller keeps ``amount_due`` in 1CRM, NOTES §5), its links and the payment go."""
        links = self.library.crm_records("invoices_payments")
        invoices = {i["id"]: i for i in self.library.crm_records("Invoice")}
        for link in (k for k in links if k["payment_id"] == payment_id):
            invoice = invoices.get(link["invoice_id"])
            if invoice is not None:
                due = money(invoice["amount_due"]) + money(link["amount"])
                self.library.crm("PATCH", f"Invoice/{invoice['id']}", {"amount_due": str(due)})
            self.library.crm("DELETE", f"invoices_payments/{link['id']}")
        self.library.crm("DELETE", f"Payment/{payment_id}")


class XeroUser:
    """A person in Xero."""

    def __init__(self, library: Library) -> None:
        self.library = library

    def contact_id(self, name: str) -> str | None:
        found = [c for c in self.library.xero_records("Contacts") if c["Name"] == name]
        return found[0]["ContactID"] if found else None

    def create_customer(self, name: str, email: str, city: str, phone: str = "") -> None:
        contact = {
            "Name": name,
            "EmailAddress": email,
            "Addresses": [{"AddressType": "POBOX", "City": city}],
            **xero_phones(phone),
        }
        self.library.xero_api("PUT", "Contacts", {"Contacts": [contact]})

    def edit_customer(self, name: str, email: str, city: str, phone: str = "") -> bool:
        change = {
            "EmailAddress": email,
            "Addresses": [{"AddressType": "POBOX", "City": city}],
            **xero_phones(phone),
        }
        return self.change_customer(name, change)

    def rename_customer(self, name: str, renamed: str) -> bool:
        return self.change_customer(name, {"Name": renamed})

    def change_customer(self, name: str, change: dict[str, Any]) -> bool:
        """The contact ``name`` updated with ``change``; False: no such one."""
        contact = self.contact_id(name)
        if contact is None:
            return False
        body = {"ContactID": contact, **change}
        self.library.xero_api("POST", f"Contacts/{contact}", {"Contacts": [body]})
        return True

    def create_invoice(
        self, customer: str, lines: list[LineSpec], mode: str, due: str, currency: str = "NZD"
    ) -> Ref | None:
        contact = self.contact_id(customer)
        if contact is None:
            return None
        items = [
            {
                "Description": line.description,
                "Quantity": line.quantity,
                "UnitAmount": float(line.price),
                "AccountCode": ACCOUNT_CODE,
                "TaxType": "NONE" if mode == "NoTax" or not line.tax else "OUTPUT2",
                **({"DiscountRate": float(line.discount)} if line.discount else {}),
            }
            for line in lines
        ]
        body = {
            "Type": "ACCREC",
            "Contact": {"ContactID": contact},
            "Date": "2026-03-01",
            "DueDate": due,
            "LineAmountTypes": mode,
            "CurrencyCode": currency,
            "Status": "AUTHORISED",
            "LineItems": items,
        }
        (invoice,) = self.library.xero_api("PUT", "Invoices", {"Invoices": [body]})["Invoices"]
        return Ref("app", invoice["InvoiceID"])

    def invoice(self, ref: Ref, crm: CrmUser) -> dict[str, Any] | None:
        wanted = ref.id if ref.side == "app" else (crm.invoice(ref) or {}).get("integrated_id")
        found = [i for i in self.library.xero_records("Invoices") if i["InvoiceID"] == wanted]
        return found[0] if found else None

    def due(self, ref: Ref, crm: CrmUser) -> Decimal | None:
        invoice = self.invoice(ref, crm)
        if invoice is None or invoice["Status"] != "AUTHORISED":
            return None
        return money(invoice["AmountDue"])

    def pay(self, ref: Ref, crm: CrmUser, amount: Decimal, date: str, reference: str) -> bool:
        invoice = self.invoice(ref, crm)
        if invoice is None:
            return False
        payment = {
            "Invoice": {"InvoiceID": invoice["InvoiceID"]},
            "Account": {"Code": BANK_CODE},
            "Amount": float(amount),
            "Date": date,
            **({"Reference": reference} if reference else {}),
        }
        self.library.xero_api("PUT", "Payments", payment)
        return True

    def untouched(self, ref: Ref, crm: CrmUser) -> bool:
        """Whether nothing was paid or credited on the Xero invoice of ``ref`` (or it is not
        in Xero)."""
        invoice = self.invoice(ref, crm)
        return invoice is None or not (invoice.get("AmountPaid") or invoice.get("AmountCredited"))

    def edit_invoice(self, ref: Ref, crm: CrmUser, lines: list[LineSpec], due: str) -> bool:
        """New lines and due date on an approved invoice (Xero refuses it once something is
        paid on it); its tax mode stays."""
        invoice = self.invoice(ref, crm)
        if invoice is None or invoice["Status"] != "AUTHORISED":
            return False
        mode = invoice["LineAmountTypes"]
        change = {
            "InvoiceID": invoice["InvoiceID"],
            "DueDate": due,
            "LineItems": [
                {
                    "Description": line.description,
                    "Quantity": line.quantity,
                    "UnitAmount": float(line.price),
                    "AccountCode": ACCOUNT_CODE,
                    "TaxType": "NONE" if mode == "NoTax" or not line.tax else "OUTPUT2",
                    **({"DiscountRate": float(line.discount)} if line.discount else {}),
                }
                for line in lines
            ],
        }
        self.library.xero_api("POST", f"Invoices/{invoice['InvoiceID']}", {"Invoices": [change]})
        return True

    def credit(
        self, ref: Ref, crm: CrmUser, amount: Decimal, date: str, allocated: Decimal | None = None
    ) -> bool:
        """A sales credit note of ``amount`` (no tax) to the invoice's contact, in its
        currency, approved; ``allocated`` of it allocated to the invoice (all by default,
        none: the contact's free credit)."""
        invoice = self.invoice(ref, crm)
        if invoice is None or invoice["Status"] != "AUTHORISED":
            return False
        note = {
            "Type": "ACCRECCREDIT",
            "Contact": {"ContactID": invoice["Contact"]["ContactID"]},
            "Date": date,
            "Status": "AUTHORISED",
            "LineAmountTypes": "NoTax",
            "CurrencyCode": invoice["CurrencyCode"],
            "LineItems": [
                {
                    "Description": "Goodwill",
                    "Quantity": 1,
                    "UnitAmount": float(amount),
                    "AccountCode": ACCOUNT_CODE,
                    "TaxType": "NONE",
                }
            ],
        }
        answer = self.library.xero_api("PUT", "CreditNotes", {"CreditNotes": [note]})
        (created,) = answer["CreditNotes"]
        allocated = amount if allocated is None else allocated
        if not allocated:
            return True
        allocation = {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Amount": float(allocated)}
        path = f"CreditNotes/{created['CreditNoteID']}/Allocations"
        self.library.xero_api("PUT", path, {"Allocations": [{**allocation, "Date": date}]})
        return True

    def allocated_credit_notes(self) -> list[str]:
        """The ids of the approved or paid sales credit notes allocated to an invoice."""
        return [
            n["CreditNoteID"]
            for n in self.library.xero_records("CreditNotes")
            if n["Type"] == "ACCRECCREDIT"
            and n["Status"] in ("AUTHORISED", "PAID")
            and n.get("Allocations")
        ]

    def void_credit_note(self, credit_note_id: str) -> None:
        """Void a credit note as Xero lets one: its allocations deleted first (Xero refuses to
        change an allocated credit note), so each invoice owes that credit again."""
        (note,) = [
            n
            for n in self.library.xero_records("CreditNotes")
            if n["CreditNoteID"] == credit_note_id
        ]
        for allocation in note.get("Allocations") or []:
            path = f"CreditNotes/{credit_note_id}/Allocations/{allocation['AllocationID']}"
            self.library.xero_api("DELETE", path)
        change = {"CreditNoteID": credit_note_id, "Status": "VOIDED"}
        self.library.xero_api("POST", f"CreditNotes/{credit_note_id}", {"CreditNotes": [change]})

    def clear_invoice(self, ref: Ref, crm: CrmUser) -> int:
        """What a person does in Xero before voiding or editing a paid invoice (Xero refuses
        either while a payment or credit note is allocated to it): delete its payments
        (``Status: DELETED``) and the allocations of credit notes to it (the credit notes keep
        that credit, unallocated); how many went."""
        invoice = self.invoice(ref, crm)
        if invoice is None:
            return 0
        cleared = 0
        for payment in self.library.xero_records("Payments"):
            paid = (payment.get("Invoice") or {}).get("InvoiceID")
            if payment.get("Status") != "DELETED" and paid == invoice["InvoiceID"]:
                self.delete_payment(payment["PaymentID"])
                cleared += 1
        for note in self.library.xero_records("CreditNotes"):
            for allocation in note.get("Allocations") or []:
                if allocation["Invoice"]["InvoiceID"] == invoice["InvoiceID"]:
                    path = f"CreditNotes/{note['CreditNoteID']}/Allocations/"
                    self.library.xero_api("DELETE", path + allocation["AllocationID"])
                    cleared += 1
        return cleared

    def void_invoice(self, ref: Ref, crm: CrmUser) -> bool:
        """Void an approved invoice (Xero refuses it once something is paid on it)."""
        invoice = self.invoice(ref, crm)
        if invoice is None or invoice["Status"] != "AUTHORISED":
            return False
        change = {"InvoiceID": invoice["InvoiceID"], "Status": "VOIDED"}
        self.library.xero_api("POST", f"Invoices/{invoice['InvoiceID']}", {"Invoices": [change]})
        return True

    def payments(self) -> list[str]:
        """The ids of the payments one may delete (not deleted yet)."""
        payments = self.library.xero_records("Payments")
        return [p["PaymentID"] for p in payments if p.get("Status") != "DELETED"]

    def delete_payment(self, payment_id: str) -> None:
        self.library.xero_api("POST", f"Payments/{payment_id}", {"Status": "DELETED"})


def qbo_lines(lines: list[LineSpec]) -> list[dict[str, Any]]:
    """QuickBooks sales lines for ``lines``, and one ``DiscountLineDetail`` line when some are
    discounted: QuickBooks discounts the whole invoice, not a line (vendor NOTES §5; a
    non-US company takes the discount off before tax, shared among the lines). One discounted
    line: a percent discount of its rate; more: an amount, what their discounts come to."""
    items: list[dict[str, Any]] = [
        {
            "DetailType": "SalesItemLineDetail",
            "Amount": float(money(line.price * line.quantity)),
            "Description": line.description,
            "SalesItemLineDetail": {
                "Qty": line.quantity,
                "UnitPrice": float(line.price),
                "TaxCodeRef": {"value": QBO_TAX_CODES[line.tax]},
            },
        }
        for line in lines
    ]
    discounted = [line for line in lines if line.discount]
    if len(discounted) == 1:
        detail = {"PercentBased": True, "DiscountPercent": float(discounted[0].discount)}
        items.append({"DetailType": "DiscountLineDetail", "DiscountLineDetail": detail})
    elif discounted:
        amount = money(sum(ln.price * ln.quantity * ln.discount / 100 for ln in discounted))
        items.append(
            {
                "DetailType": "DiscountLineDetail",
                "Amount": float(amount),
                "DiscountLineDetail": {"PercentBased": False},
            }
        )
    return items


class QuickBooksUser:
    """A person in QuickBooks Online."""

    def __init__(self, library: Library) -> None:
        self.library = library

    def customer(self, name: str) -> dict[str, Any] | None:
        found = [c for c in self.library.qbo_records("Customer") if c["DisplayName"] == name]
        return found[0] if found else None

    def customer_in(self, customer: dict[str, Any], currency: str) -> dict[str, Any]:
        """The customer itself when it is in ``currency``, else its customer of that currency
        "<name> (<currency>)" (what QuickBooks users make; §3.3 makes the same)."""
        if customer.get("CurrencyRef", {}).get("value", currency) == currency:
            return customer
        name = f"{customer['DisplayName']} ({currency})"
        found = self.customer(name)
        if found is not None:
            return found
        body = {"DisplayName": name, "CurrencyRef": {"value": currency}}
        created: dict[str, Any] = self.library.qbo_api("POST", "customer", body)["Customer"]
        return created

    def create_customer(self, name: str, email: str, city: str, phone: str = "") -> None:
        body = {
            "DisplayName": name,
            "PrimaryEmailAddr": {"Address": email},
            "BillAddr": {"City": city},
            **({"PrimaryPhone": {"FreeFormNumber": phone}} if phone else {}),
        }
        self.library.qbo_api("POST", "customer", body)

    def edit_customer(self, name: str, email: str, city: str, phone: str = "") -> bool:
        change = {
            "PrimaryEmailAddr": {"Address": email},
            "BillAddr": {"City": city},
            **({"PrimaryPhone": {"FreeFormNumber": phone}} if phone else {}),
        }
        return self.change_customer(name, change)

    def rename_customer(self, name: str, renamed: str) -> bool:
        return self.change_customer(name, {"DisplayName": renamed})

    def change_customer(self, name: str, change: dict[str, Any]) -> bool:
        """A sparse update of the customer ``name`` at its SyncToken; False: no such one."""
        customer = self.customer(name)
        if customer is None:
            return False
        body = {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True}
        self.library.qbo_api("POST", "customer", {**body, **change})
        return True

    def create_invoice(
        self, customer: str, lines: list[LineSpec], mode: str, due: str, currency: str = "NZD"
    ) -> Ref | None:
        """An invoice of ``lines``; their discounts become QuickBooks' one discount of the
        whole invoice (``qbo_lines``). QuickBooks gives a customer one currency: an invoice in
        another goes to the customer's "<name> (<currency>)", made the first time."""
        found = self.customer(customer)
        if found is None:
            return None
        found = self.customer_in(found, currency)
        body = {
            "CustomerRef": {"value": found["Id"]},
            "TxnDate": "2026-03-01",
            "DueDate": due,
            "GlobalTaxCalculation": mode,
            "CurrencyRef": {"value": currency},
            "Line": qbo_lines(lines),
        }
        invoice = self.library.qbo_api("POST", "invoice", body)["Invoice"]
        return Ref("app", invoice["Id"])

    def invoice(self, ref: Ref, crm: CrmUser) -> dict[str, Any] | None:
        wanted = ref.id if ref.side == "app" else (crm.invoice(ref) or {}).get("integrated_id")
        found = [i for i in self.library.qbo_records("Invoice") if i["Id"] == wanted]
        return found[0] if found else None

    def due(self, ref: Ref, crm: CrmUser) -> Decimal | None:
        invoice = self.invoice(ref, crm)
        return None if invoice is None else money(invoice["Balance"])

    def pay(self, ref: Ref, crm: CrmUser, amount: Decimal, date: str, reference: str) -> bool:
        invoice = self.invoice(ref, crm)
        if invoice is None:
            return False
        body = {
            "CustomerRef": invoice["CustomerRef"],
            "TotalAmt": float(amount),
            "TxnDate": date,
            **({"PaymentRefNum": reference} if reference else {}),
            "Line": [
                {
                    "Amount": float(amount),
                    "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}],
                }
            ],
        }
        self.library.qbo_api("POST", "payment", body)
        return True

    def untouched(self, ref: Ref, crm: CrmUser) -> bool:
        """Whether no payment is applied to the QuickBooks invoice of ``ref`` (or it is not in
        QuickBooks)."""
        invoice = self.invoice(ref, crm)
        return invoice is None or (
            money(invoice["Balance"]) == money(invoice["TotalAmt"])
            and not any(link.get("TxnType") == "Payment" for link in invoice.get("LinkedTxn") or [])
        )

    def edit_invoice(self, ref: Ref, crm: CrmUser, lines: list[LineSpec], due: str) -> bool:
        """New lines (a discount as ``create_invoice`` makes it) and due date: a sparse update
        at the invoice's SyncToken (the lines sent replace every line); its tax mode stays.
        Not a voided invoice."""
        invoice = self.invoice(ref, crm)
        if invoice is None or str(invoice.get("PrivateNote") or "").startswith("Voided"):
            return False
        body = {
            "Id": invoice["Id"],
            "SyncToken": invoice["SyncToken"],
            "sparse": True,
            "DueDate": due,
            "Line": qbo_lines(lines),
        }
        self.library.qbo_api("POST", "invoice", body)
        return True

    def delete_invoice(self, ref: Ref, crm: CrmUser) -> bool:
        """Delete an invoice (QuickBooks Online lets one delete an invoice: it is gone, its
        payments, if any, become unapplied)."""
        invoice = self.invoice(ref, crm)
        if invoice is None:
            return False
        body = {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}
        self.library.qbo_api("POST", "invoice?operation=delete", body)
        return True

    def void_invoice(self, ref: Ref, crm: CrmUser) -> bool:
        """Void an invoice (QuickBooks keeps it with every amount zero, memo "Voided")."""
        invoice = self.invoice(ref, crm)
        if invoice is None or str(invoice.get("PrivateNote") or "").startswith("Voided"):
            return False
        body = {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}
        self.library.qbo_api("POST", "invoice?operation=void", body)
        return True

    def credit(
        self,
        ref: Ref,
        crm: CrmUser,
        amount: Decimal,
        date: str,
        allocated: Decimal | None = None,
        *,
        money_too: Decimal = Decimal(0),
    ) -> bool:
        """A credit memo of ``amount`` (no tax) to the invoice's customer, in its currency,
        ``allocated`` of it (all by default; none: the customer's free credit,
        ``RemainingCredit``) applied to the invoice as QuickBooks' Receive Payment does: a
        payment of 0.00 whose lines link the invoice and the credit memo — or, with
        ``money_too``, a payment of that money whose invoice line takes the money and the
        credit together."""
        memo = self.credit_memo(ref, crm, amount, date)
        if memo is None:
            return False
        invoice = self.invoice(ref, crm)
        assert invoice is not None
        applied = amount if allocated is None else allocated
        if applied:
            self.apply_credit(invoice, memo, applied, date, money_too)
        return True

    def credit_memo(
        self, ref: Ref, crm: CrmUser, amount: Decimal, date: str
    ) -> dict[str, Any] | None:
        """A credit memo of ``amount`` (no tax) to the invoice's customer, in its currency, not
        applied to anything (its credit free: ``RemainingCredit``); ``None`` for an invoice
        not in QuickBooks or voided."""
        invoice = self.invoice(ref, crm)
        if invoice is None or str(invoice.get("PrivateNote") or "").startswith("Voided"):
            return None
        memo = {
            "CustomerRef": invoice["CustomerRef"],
            "TxnDate": date,
            "GlobalTaxCalculation": "NotApplicable",
            "CurrencyRef": invoice["CurrencyRef"],
            **({"ExchangeRate": invoice["ExchangeRate"]} if "ExchangeRate" in invoice else {}),
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": float(amount),
                    "Description": "Goodwill",
                    "SalesItemLineDetail": {"Qty": 1, "UnitPrice": float(amount)},
                }
            ],
        }
        created: dict[str, Any] = self.library.qbo_api("POST", "creditmemo", memo)["CreditMemo"]
        return created

    def apply_credit(
        self,
        invoice: dict[str, Any],
        memo: dict[str, Any],
        credit: Decimal,
        date: str,
        money_too: Decimal = Decimal(0),
    ) -> None:
        """Receive Payment: ``credit`` of the memo and ``money_too`` of money pay the invoice."""
        body = {
            "CustomerRef": invoice["CustomerRef"],
            "TotalAmt": float(money_too),
            "TxnDate": date,
            "CurrencyRef": invoice["CurrencyRef"],
            "Line": [
                {
                    "Amount": float(credit + money_too),
                    "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}],
                },
                {
                    "Amount": float(credit),
                    "LinkedTxn": [{"TxnId": memo["Id"], "TxnType": "CreditMemo"}],
                },
            ],
        }
        self.library.qbo_api("POST", "payment", body)

    def payments(self) -> list[str]:
        return [p["Id"] for p in self.library.qbo_records("Payment")]

    def credit_memos(self) -> list[str]:
        return [m["Id"] for m in self.library.qbo_records("CreditMemo")]

    def delete_credit_memo(self, memo_id: str) -> bool:
        """Delete a credit memo: QuickBooks takes back the credit it applied to invoices."""
        found = [m for m in self.library.qbo_records("CreditMemo") if m["Id"] == memo_id]
        if not found:
            return False
        body = {"Id": memo_id, "SyncToken": found[0]["SyncToken"]}
        self.library.qbo_api("POST", "creditmemo?operation=delete", body)
        return True

    def void_credit_memo(self, memo_id: str) -> bool:
        """Void a credit memo in QuickBooks' screens (the API has no void for one): it stays
        with every amount zero, and the credit it applied to invoices is taken back."""
        found = [m for m in self.library.qbo_records("CreditMemo") if m["Id"] == memo_id]
        if not found or str(found[0].get("PrivateNote") or "").startswith("Voided"):
            return False
        self.library.qbo_void_in_screens("creditmemo", memo_id)
        return True

    def delete_payment(self, payment_id: str) -> None:
        (payment,) = [p for p in self.library.qbo_records("Payment") if p["Id"] == payment_id]
        body = {"Id": payment_id, "SyncToken": payment["SyncToken"]}
        self.library.qbo_api("POST", "payment?operation=delete", body)

    def edited_payments(self) -> list[str]:
        """Payments a person may edit the lines of: money on invoices, no credit applied."""
        return [
            p["Id"]
            for p in self.library.qbo_records("Payment")
            if money(p["TotalAmt"]) > 0
            and p.get("Line")
            and all(line["LinkedTxn"][0]["TxnType"] == "Invoice" for line in p["Line"])
        ]

    def edit_payment(self, payment_id: str, applied: Decimal) -> Decimal:
        """Edit the payment's one line to ``applied``; returns what it applied before."""
        (before,) = self.edit_payment_lines(payment_id, [applied])
        return before

    def edit_payment_lines(self, payment_id: str, applied: list[Decimal]) -> list[Decimal]:
        """Edit each line of the payment to its new amount, less or more (more: at most what
        its invoice owes with the line's old amount — QuickBooks refuses more); its total
        moves by as much (what was received beyond the lines stays unapplied). Returns what
        the lines applied before."""
        (payment,) = [p for p in self.library.qbo_records("Payment") if p["Id"] == payment_id]
        lines = payment["Line"]
        before = [money(line["Amount"]) for line in lines]
        total = money(payment["TotalAmt"]) - sum(before, Decimal(0)) + sum(applied, Decimal(0))
        body = {
            "Id": payment_id,
            "SyncToken": payment["SyncToken"],
            "sparse": True,
            "TotalAmt": float(total),
            "Line": [
                {"Amount": float(amount), "LinkedTxn": line["LinkedTxn"]}
                for line, amount in zip(lines, applied, strict=True)
            ],
        }
        self.library.qbo_api("POST", "payment", body)
        return before

    def line_room(self, payment_id: str) -> list[Decimal]:
        """How high each line of the payment may go: its amount and what its invoice still
        owes."""
        (payment,) = [p for p in self.library.qbo_records("Payment") if p["Id"] == payment_id]
        balances = {i["Id"]: money(i["Balance"]) for i in self.library.qbo_records("Invoice")}
        return [
            money(line["Amount"]) + balances.get(line["LinkedTxn"][0]["TxnId"], Decimal(0))
            for line in payment["Line"]
        ]

    def edit_credit(self, payment_id: str, credit: Decimal) -> Decimal:
        """Edit a payment that applies one credit memo to one invoice (Receive Payment in
        QuickBooks' screens) to apply ``credit`` of the memo: its credit memo line becomes
        ``credit`` and its invoice line the payment's money and that credit (what the memo no
        longer applies is its free credit again, ``RemainingCredit``); returns the credit it
        applied before."""
        (payment,) = [p for p in self.library.qbo_records("Payment") if p["Id"] == payment_id]
        (paid,) = [ln for ln in payment["Line"] if ln["LinkedTxn"][0]["TxnType"] == "Invoice"]
        (used,) = [ln for ln in payment["Line"] if ln["LinkedTxn"][0]["TxnType"] == "CreditMemo"]
        before = money(used["Amount"])
        body = {
            "Id": payment_id,
            "SyncToken": payment["SyncToken"],
            "sparse": True,
            "TotalAmt": payment["TotalAmt"],
            "Line": [
                {
                    "Amount": float(money(paid["Amount"]) - before + credit),
                    "LinkedTxn": paid["LinkedTxn"],
                },
                {"Amount": float(credit), "LinkedTxn": used["LinkedTxn"]},
            ],
        }
        self.library.qbo_api("POST", "payment", body)
        return before


__all__ = ["QBO_REALM", "CrmUser", "LineSpec", "QuickBooksUser", "Ref", "XeroUser"]


# -- quotes (issue #20: books-quotes) ----------------------------------------------------------


def crm_create_quote(
    crm: CrmUser, customer: str, lines: list[LineSpec], currency: str, expiry: str
) -> str | None:
    """A quote saved in 1CRM's screens; its id (``None`` without the account)."""
    account = crm.account_id(customer)
    if account is None:
        return None
    saved = crm.library.crm_person(
        "Quote",
        {
            "name": f"Proposal for {customer}",
            "billing_account_id": account,
            "valid_until": expiry,
            "currency_id": crm.currency_id(currency),
            "line_items": items_of(lines),
        },
    )
    return str(saved["id"])


def qbo_create_estimate(
    app: QuickBooksUser, customer: str, lines: list[LineSpec], mode: str, expiry: str, currency: str
) -> str | None:
    """An estimate made in QuickBooks (its discounts one of the whole estimate, ``qbo_lines``),
    to the customer's customer of its currency (``QuickBooksUser.customer_in``)."""
    found = app.customer(customer)
    if found is None:
        return None
    found = app.customer_in(found, currency)
    body = {
        "CustomerRef": {"value": found["Id"]},
        "TxnDate": "2026-03-01",
        "ExpirationDate": expiry,
        "GlobalTaxCalculation": mode,
        "CurrencyRef": {"value": currency},
        "Line": qbo_lines(lines),
    }
    return str(app.library.qbo_api("POST", "estimate", body)["Estimate"]["Id"])


def account_of(document: dict[str, Any]) -> str:
    """The customer a QuickBooks document is for, a currency's customer "<name> (<currency>)"
    read as <name> (as §3.4 and reconcile read it)."""
    name = str(document["CustomerRef"].get("name") or "")
    currency = document.get("CurrencyRef", {}).get("value", "")
    return name.removesuffix(f" ({currency})") if currency else name


def qbo_estimates(app: QuickBooksUser, customers: Collection[str]) -> list[str]:
    """The ids of the estimates of ``customers`` made in QuickBooks (not those §3.5a sent
    from 1CRM, which §3.13 keeps as 1CRM has them)."""
    return [
        e["Id"]
        for e in app.library.qbo_records("Estimate")
        if account_of(e) in customers and not str(e.get("PrivateNote") or "").startswith("1CRM ")
    ]


def qbo_edit_estimate(
    app: QuickBooksUser, estimate_id: str, lines: list[LineSpec], expiry: str
) -> None:
    """New lines (a discount as ``qbo_create_estimate`` makes it) and expiry: a sparse update
    at the estimate's SyncToken (the lines sent replace every line); its tax mode stays."""
    found = next(e for e in app.library.qbo_records("Estimate") if e["Id"] == estimate_id)
    body = {"Id": estimate_id, "SyncToken": found["SyncToken"], "sparse": True}
    app.library.qbo_api(
        "POST", "estimate", {**body, "ExpirationDate": expiry, "Line": qbo_lines(lines)}
    )


def crm_quotes(crm: CrmUser) -> list[str]:
    """The ids of 1CRM's quotes."""
    return [q["id"] for q in crm.library.crm_records("Quote")]


def crm_made_quotes(crm: CrmUser) -> list[str]:
    """The ids of the quotes made in 1CRM (not those §3.5b brought from QuickBooks, named
    ``QuickBooks estimate <number>``, whose lines QuickBooks keeps: §3.13 sends the lines of
    1CRM's own quotes only, as §3.5b those of QuickBooks' own estimates — ``qbo_estimates``)."""
    return [
        q["id"]
        for q in crm.library.crm_records("Quote")
        if not str(q.get("name") or "").startswith(FROM_QUICKBOOKS)
    ]


def crm_edit_quote(crm: CrmUser, quote_id: str, lines: list[LineSpec], expiry: str) -> None:
    """New lines and expiry, saved in 1CRM's screens."""
    crm.library.crm_edit("Quote", quote_id, {"valid_until": expiry, "line_items": items_of(lines)})


def crm_quote_stage(crm: CrmUser, quote_id: str, stage: str) -> None:
    """The quote accepted or lost, as 1CRM's screens set its stage."""
    crm.library.crm("PATCH", f"Quote/{quote_id}", {"quote_stage": stage})


def qbo_estimate_status(app: QuickBooksUser, estimate_id: str, status: str) -> None:
    """The estimate accepted or rejected in QuickBooks (a sparse update of ``TxnStatus``)."""
    found = next(e for e in app.library.qbo_records("Estimate") if e["Id"] == estimate_id)
    body = {"Id": estimate_id, "SyncToken": found["SyncToken"], "sparse": True}
    app.library.qbo_api("POST", "estimate", {**body, "TxnStatus": status})


def xero_quotes(app: XeroUser) -> list[str]:
    """The ids of the Xero quotes §2.5 sent (reference ``1CRM …``) a person may still answer
    (not invoiced or deleted)."""
    return [
        q["QuoteID"]
        for q in app.library.xero_records("Quotes")
        if str(q.get("Reference") or "").startswith("1CRM ")
        and q.get("Status") not in ("INVOICED", "DELETED")
    ]


def xero_quote_status(app: XeroUser, quote_id: str, status: str) -> None:
    """The quote accepted or declined in Xero's screens: Xero answers only a sent quote, so a
    draft is marked sent first, and an answer changed is undone (back to SENT) first."""
    (quote,) = [q for q in app.library.xero_records("Quotes") if q["QuoteID"] == quote_id]
    if quote["Status"] == status:
        return
    steps = [status] if quote["Status"] == "SENT" else ["SENT", status]
    for step in steps:
        body = {
            "QuoteID": quote_id,
            "Contact": {"ContactID": quote["Contact"]["ContactID"]},
            "Date": str(quote.get("DateString") or quote["Date"])[:10],
            "Status": step,
        }
        app.library.xero_api("POST", f"Quotes/{quote_id}", {"Quotes": [body]})
