"""Books that balance, found at random: people change 1CRM and the accounting system between
syncs (customers made and edited on both sides, invoices with mixed tax rates and modes,
payments in part or in full); the whole library then syncs until a round writes nothing, and

- reconciliation finds no difference (no record lost or twice, every amount to the cent),
- every run succeeded and no scenario switched itself off,
- the sync quiesces within ``MAX_ROUNDS`` (no loop).

Hypothesis' stateful testing draws the sequences (``RuleBasedStateMachine``), seeded
(``derandomize``) and bounded by example and step counts; ``SWITCHBOARD_SOAK=1`` (``make soak``)
runs many more. Each library runs only the actions it balances today (``ACTIONS``); the
failing sequences found so far are goldens at the end of this file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    precondition,
    rule,
    run_state_machine_as_test,
)

from modules.reconcile.books import money
from modules.reconcile.compare import UNALLOCATED_CREDIT_RULE
from tests.scenarios.books import FOREIGN_CURRENCIES, World, open_world
from tests.scenarios.users import (
    CrmUser,
    LineSpec,
    QuickBooksUser,
    Ref,
    XeroUser,
    crm_create_quote,
    crm_edit_quote,
    crm_made_quotes,
    crm_quote_stage,
    crm_quotes,
    qbo_create_estimate,
    qbo_edit_estimate,
    qbo_estimate_status,
    qbo_estimates,
    xero_quote_status,
    xero_quotes,
)

SOAK = os.environ.get("SWITCHBOARD_SOAK") == "1"
EXAMPLES, STEPS = (100, 25) if SOAK else (2, 10)
EXAMPLES = int(os.environ.get("SWITCHBOARD_BOOKS_EXAMPLES", EXAMPLES))
STEPS = int(os.environ.get("SWITCHBOARD_BOOKS_STEPS", STEPS))
"""Sequences per library and steps per sequence (``make test``; ``make soak``); the
environment's ``SWITCHBOARD_BOOKS_EXAMPLES`` and ``SWITCHBOARD_BOOKS_STEPS`` set them."""

BATCH = 3
"""Changes people make between two syncs, at least (the teardown syncs what is left)."""

RUNS: dict[str, int] = {}
"""Sequences and steps run, by library (printed by ``-s``; the soak figures)."""


@dataclass(frozen=True)
class Actions:
    """What people may do in a library's run: the variations it keeps balanced today."""

    crm_tax_rates: tuple[Decimal, ...]
    crm_currencies: tuple[str, ...]
    crm_discounts: tuple[Decimal, ...]
    crm_payments: bool
    crm_over_payments: bool
    app_modes: tuple[str, ...]
    app_currencies: tuple[str, ...]
    app_tax_rates: tuple[Decimal, ...]
    app_discounts: tuple[Decimal, ...]
    app_payment_references: tuple[str, ...]
    app_payment_deletions: bool
    crm_invoice_cancels: bool = False
    """Invoices cancelled or deleted in 1CRM (nothing paid on them: Xero refuses to void a
    paid invoice)."""
    app_invoice_voids: bool = False
    """Approved invoices voided in the accounting system (nothing paid on them)."""
    crm_payment_deletions: bool = False
    """Synced payments deleted in 1CRM."""
    crm_credits: bool = False
    """Credit given in 1CRM (a payment of type Credit Note)."""
    crm_invoice_edits: bool = False
    """Synced invoices nothing is paid on, edited in 1CRM (lines, due date)."""
    app_credit_notes: bool = False
    """Credit notes allocated to invoices in the accounting system."""
    app_invoice_edits: bool = False
    """Approved invoices nothing is paid on, edited in the accounting system (lines, due
    date)."""
    crm_credit_deletions: bool = False
    """Synced credits (payments of type Credit Note) deleted in 1CRM."""
    app_credit_note_voids: bool = False
    """Allocated credit notes voided in the accounting system (their allocations deleted
    first, as Xero requires)."""
    crm_unsynced_deletions: bool = False
    """Invoices nothing is paid on, payments and credits made in 1CRM and deleted before
    their first sync (they must not reach the accounting system, nor wait)."""
    crm_account_renames: bool = False
    """Accounts renamed in 1CRM, their records synced (QuickBooks: §3.1 finds the account's
    customers by their note, not by the name; Xero: §2.1 finds the contact by its
    ``ContactNumber``)."""
    app_account_renames: bool = False
    """Contacts renamed in the accounting system, their records synced (Xero: §2.2 finds the
    1CRM account by the contact's ``ContactNumber``, not by the name). Not QuickBooks: a
    person renaming a customer there leaves its currency customers ``<old name> (<currency>)``
    under the old name, and §3.4/§3.7 find the account of their documents by that name."""
    app_invoice_deletes: bool = False
    """Invoices nothing is paid on, deleted in the accounting system (QuickBooks Online lets
    one delete an invoice; Xero only voids an approved one)."""
    # -- quotes (books-quotes) --
    crm_quotes: bool = False
    """Quotes made in 1CRM (mixed tax rates, discounts, currencies: §2.5, §3.5a)."""
    app_quotes: bool = False
    """Quotes (estimates) made in the accounting system (mixed tax modes, discounts,
    currencies: §3.5b; Xero quotes are not synced to 1CRM)."""
    crm_quote_edits: bool = False
    """Quotes edited in 1CRM (lines, expiry): §2.12 updates the Xero quote, §3.13 the
    QuickBooks estimate (§2.5 and §3.5a run on 1CRM's Quote *create* events only)."""
    app_quote_edits: bool = False
    """Estimates made in QuickBooks edited there (lines, expiry): §3.5b rewrites the 1CRM quote
    (it ran on Create only)."""
    quote_statuses: bool = False
    """Quotes accepted or declined: 1CRM's stage (§2.12, §3.13 send it), a Xero quote's
    ``Status`` (§2.13 brings it back), a QuickBooks estimate's ``TxnStatus`` (§3.5b)."""
    paid_invoice_closes: bool = False
    """The voids and deletions in the accounting system and the cancels and deletions in 1CRM
    above, also of invoices paid or credited (not since the last sync): QuickBooks keeps the
    payments, their money unapplied, and frees the credit applied; 1CRM follows."""
    app_credit_memo_deletes: bool = False
    """Credit memos deleted in QuickBooks: the credit they applied is taken back."""
    app_credit_memo_voids: bool = False
    """Credit memos voided in QuickBooks' screens (the API has no void for one): the credit
    they applied is taken back, the memo stays with every amount zero."""
    app_money_with_credit: bool = False
    """QuickBooks credit applied together with money: one payment whose lines link the invoice
    and the credit memo, ``TotalAmt`` the money."""
    app_paid_invoice_changes: bool = False
    """Invoices paid or credited (in part or in full), voided or edited in the accounting
    system as Xero lets one: the person first deletes their payments and the allocations of
    credit notes to them, then voids or edits."""
    crm_paid_invoice_changes: bool = False
    """Invoices paid or credited, cancelled or edited in 1CRM: the person first deletes their
    payments and credits (the library never deletes money received for them: a paid invoice
    cancelled as it is waits, needing attention — ``test_books_xero_paid.py``)."""
    paid_invoice_edits: bool = False
    """Invoices paid or credited (not since the last sync) edited on either side as
    QuickBooks lets one: as they are, payments and credit still applied, to lines whose
    total still covers what was paid and credited (QuickBooks refuses a total below it —
    such a 1CRM edit waits for a person, ``test_books_quickbooks_paid.py``). Xero refuses to
    edit a paid invoice: its people clear it first (``app_paid_invoice_changes``)."""
    app_unallocated_credit: bool = False
    """Credit notes approved in the accounting system and allocated in part or not at all
    (the rest is the customer's free credit)."""
    crm_unallocated_credit: bool = False
    """Credit given in 1CRM of more than it allocates to the invoice, or allocated to none."""
    app_payment_edits: bool = False
    """A payment's lines edited in the accounting system, each to a smaller or a larger
    amount (a person correcting what they entered: the invoice owes more or less, the
    payment's total follows; what was received beyond the lines stays unapplied; a line
    goes up at most to what its invoice owes). QuickBooks: §3.7 allocates the 1CRM payment
    again."""
    crm_multi_payments: bool = False
    """One 1CRM payment over two invoices of an account in one currency (§2.6: a Xero
    payment per invoice; §3.6: a QuickBooks line per invoice)."""


NO_DISCOUNT = (Decimal(0),)
DISCOUNTS = (Decimal(0), Decimal(0), Decimal(10), Decimal("12.5"))
TAX_RATES = (Decimal(15), Decimal(15), Decimal(0))
CURRENCIES = ("NZD", "NZD", *FOREIGN_CURRENCIES)
REFERENCES = ("", "INV-REF")
ACTIONS: dict[str, Actions] = {
    "xero": Actions(
        crm_tax_rates=TAX_RATES,
        crm_currencies=CURRENCIES,
        crm_discounts=DISCOUNTS,
        crm_payments=True,
        crm_over_payments=True,
        app_modes=("Exclusive", "Inclusive", "NoTax"),
        app_currencies=CURRENCIES,
        app_tax_rates=TAX_RATES,
        app_discounts=DISCOUNTS,
        app_payment_references=REFERENCES,
        app_payment_deletions=True,
        crm_invoice_cancels=True,
        app_invoice_voids=True,
        crm_payment_deletions=True,
        app_invoice_edits=True,
        app_credit_notes=True,
        crm_invoice_edits=True,
        crm_credits=True,
        crm_unsynced_deletions=True,
        crm_credit_deletions=True,
        app_credit_note_voids=True,
        # quotes (books-quotes)
        crm_quotes=True,
        crm_quote_edits=True,
        quote_statuses=True,
        app_paid_invoice_changes=True,
        crm_paid_invoice_changes=True,
        app_unallocated_credit=True,
        crm_unallocated_credit=True,
        crm_multi_payments=True,
        crm_account_renames=True,
        app_account_renames=True,
    ),
    "quickbooks": Actions(
        crm_tax_rates=TAX_RATES,
        crm_currencies=CURRENCIES,
        crm_discounts=DISCOUNTS,
        crm_payments=True,
        crm_over_payments=True,
        app_modes=("TaxExcluded", "TaxInclusive", "NotApplicable"),
        app_currencies=CURRENCIES,
        app_tax_rates=TAX_RATES,
        # QuickBooks discounts a whole invoice (a discount line), not a line: the lines'
        # discounts become one (``users.qbo_lines``).
        app_discounts=DISCOUNTS,
        app_payment_references=REFERENCES,
        app_payment_deletions=True,
        crm_payment_deletions=True,
        app_invoice_voids=True,
        crm_invoice_cancels=True,
        crm_invoice_edits=True,
        app_invoice_edits=True,
        app_invoice_deletes=True,
        crm_credits=True,
        app_credit_notes=True,
        # quotes (books-quotes)
        crm_quotes=True,
        app_quotes=True,
        crm_quote_edits=True,
        app_quote_edits=True,
        quote_statuses=True,
        paid_invoice_closes=True,
        app_credit_memo_deletes=True,
        app_money_with_credit=True,
        app_unallocated_credit=True,
        crm_unallocated_credit=True,
        app_credit_memo_voids=True,
        paid_invoice_edits=True,
        app_payment_edits=True,
        crm_multi_payments=True,
        crm_account_renames=True,
    ),
}

NAMES = ("Harakeke Ltd", "Kauri & Rimu", "O'Brien Builders", "Māori Arts Trust", "Tui, Kea Ltd")
CITIES = ("Napier", "Nelson", "Ōtautahi")
PHONES = ("", "+64 9 555 0101", "+64 4 555 0202")
SIDES = ("crm", "app")
DATES = ("2026-03-31", "2026-04-30")


def lines_of(rates: tuple[Decimal, ...], discounts: tuple[Decimal, ...]) -> st.SearchStrategy:
    line = st.builds(
        LineSpec,
        description=st.sampled_from(("Widget", "Advice", "Freight")),
        quantity=st.integers(1, 5),
        price=st.integers(1, 40000).map(lambda cents: Decimal(cents) / 100),
        tax=st.sampled_from(rates),
        discount=st.sampled_from(discounts),
    )
    return st.lists(line, min_size=1, max_size=3)


class BooksMachine(RuleBasedStateMachine):
    """One library between two fresh sandboxes; rules are what people do, ``sync`` runs the
    library to quiescence and checks the books."""

    library_name: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        self.stack = ExitStack()
        self.world: World = self.stack.enter_context(open_world(self.library_name))
        self.actions = ACTIONS[self.library_name]
        library = self.world.library
        self.crm = CrmUser(library)
        self.app = XeroUser(library) if self.library_name == "xero" else QuickBooksUser(library)
        self.customers: list[str] = []
        self.invoices: list[Ref] = []
        self.closed: set[Ref] = set()
        """Invoices cancelled or voided: nobody pays them any more."""
        self.edited: set[Ref] = set()
        """Invoices edited since the last sync: paid again once the edit reached the other
        side (a payment of the old amount due might be more than the new one)."""
        self.unsynced: dict[Ref, dict[str, Decimal]] = {}
        """Paid or credited on each side (``crm``, ``app``) since the last sync, by invoice."""
        self.payments = 0
        self.steps = 0
        self.syncs = 0
        self.synced_at = 0

    # -- what people do --------------------------------------------------------------------

    @rule(
        side=st.sampled_from(SIDES),
        name=st.sampled_from(NAMES),
        city=st.sampled_from(CITIES),
        phone=st.sampled_from(PHONES),
    )
    def create_customer(self, side: str, name: str, city: str, phone: str) -> None:
        unique = f"{name} {len(self.customers) + 1}"
        self.user(side).create_customer(unique, self.email(unique), city, phone)
        self.customers.append(unique)
        self.steps += 1

    @precondition(lambda self: self.customers)
    @rule(
        side=st.sampled_from(SIDES),
        data=st.data(),
        city=st.sampled_from(CITIES),
        phone=st.sampled_from(PHONES),
    )
    def edit_customer(self, side: str, data: st.DataObject, city: str, phone: str) -> None:
        name = data.draw(st.sampled_from(self.customers), label="customer")
        number = data.draw(st.integers(1, 9), label="email")
        self.user(side).edit_customer(name, self.email(name, number), city, phone)
        self.steps += 1

    @precondition(
        lambda self: (
            self.customers and self.actions.crm_account_renames and self.steps == self.synced_at
        )
    )
    @rule(data=st.data())
    def crm_rename_customer(self, data: st.DataObject) -> None:
        """Right after a sync: an invoice, quote or payment made in 1CRM and still waiting
        for its customer keeps the account's old name and waits for ever (scenarios/README.md,
        "One customer per currency", Not handled)."""
        name = data.draw(st.sampled_from(self.customers), label="customer")
        renamed = f"{name} Group"
        if self.crm.rename_customer(name, renamed):
            self.customers[self.customers.index(name)] = renamed
            self.did("account renames")
        self.steps += 1

    @precondition(
        lambda self: (
            self.customers and self.actions.app_account_renames and self.steps == self.synced_at
        )
    )
    @rule(data=st.data())
    def app_rename_customer(self, data: st.DataObject) -> None:
        """Right after a sync, as ``crm_rename_customer``."""
        name = data.draw(st.sampled_from(self.customers), label="customer")
        renamed = f"{name} Co"
        if self.app.rename_customer(name, renamed):
            self.customers[self.customers.index(name)] = renamed
            self.did("contact renames")
        self.steps += 1

    @precondition(lambda self: self.customers)
    @rule(data=st.data(), due=st.sampled_from(DATES))
    def crm_invoice(self, data: st.DataObject, due: str) -> None:
        actions = self.actions
        name = data.draw(st.sampled_from(self.customers), label="customer")
        lines = data.draw(
            lines_of(actions.crm_tax_rates, actions.crm_discounts),
            label="lines",
        )
        currency = data.draw(st.sampled_from(actions.crm_currencies), label="currency")
        ref = self.crm.create_invoice(name, lines, currency, due)
        if ref is not None:
            self.invoices.append(ref)
        self.steps += 1

    @precondition(lambda self: self.customers)
    @rule(data=st.data(), due=st.sampled_from(DATES))
    def app_invoice(self, data: st.DataObject, due: str) -> None:
        actions = self.actions
        name = data.draw(st.sampled_from(self.customers), label="customer")
        lines = data.draw(
            lines_of(actions.app_tax_rates, actions.app_discounts),
            label="lines",
        )
        mode = data.draw(st.sampled_from(actions.app_modes), label="mode")
        currency = data.draw(st.sampled_from(actions.app_currencies), label="currency")
        ref = self.app.create_invoice(name, lines, mode, due, currency)
        if ref is not None:
            self.invoices.append(ref)
        self.steps += 1

    @precondition(lambda self: self.invoices and self.actions.crm_payments)
    @rule(data=st.data(), share=st.integers(1, 100), over=st.sampled_from((0, 1, 2500)))
    def crm_payment(self, data: st.DataObject, share: int, over: int) -> None:
        ref = data.draw(st.sampled_from(self.invoices), label="invoice")
        due = self.owed(ref, "crm")
        if not due:
            return
        allocated = part_of(due, share)
        extra = Decimal(over) / 100 if self.actions.crm_over_payments else Decimal(0)
        if self.crm.pay(ref, allocated, allocated + extra, "2026-03-05"):
            self.payments += 1
            self.allocated(ref, "crm", allocated)
        self.steps += 1

    @precondition(lambda self: len(self.invoices) > 1 and self.actions.crm_multi_payments)
    @rule(data=st.data(), shares=st.tuples(st.integers(1, 100), st.integers(1, 100)))
    def crm_multi_payment(self, data: st.DataObject, shares: tuple[int, int]) -> None:
        """One payment over two invoices of one account and currency, a share of each (the
        second drawn among the first's partners, so the pair is seldom wasted)."""
        first = data.draw(st.sampled_from(self.invoices), label="invoice")
        partners = self.partners_of(first)
        if not partners:
            return
        second = data.draw(st.sampled_from(partners), label="second invoice")
        refs = [first, second]
        owed = [self.owed(ref, "crm") for ref in refs]
        if None in owed:
            return
        paid = [part_of(due, share) for due, share in zip(owed, shares, strict=True) if due]
        pairs = list(zip(refs, paid, strict=True))
        if self.crm.pay_invoices(pairs, sum(paid, Decimal(0)), "2026-03-05"):
            self.payments += 1
            for ref, amount in pairs:
                self.allocated(ref, "crm", amount)
            self.did("payments over two invoices")
        self.steps += 1

    @precondition(lambda self: self.invoices)
    @rule(data=st.data(), share=st.integers(1, 100))
    def app_payment(self, data: st.DataObject, share: int) -> None:
        ref = data.draw(st.sampled_from(self.invoices), label="invoice")
        reference = data.draw(st.sampled_from(self.actions.app_payment_references))
        due = self.owed(ref, "app")
        if not due:
            return
        amount = part_of(due, share)
        if self.app.pay(ref, self.crm, amount, "2026-03-06", reference and f"{reference}-{amount}"):
            self.payments += 1
            self.allocated(ref, "app", amount)
        self.steps += 1

    @precondition(lambda self: self.payments and self.actions.app_payment_deletions)
    @rule(data=st.data())
    def app_delete_payment(self, data: st.DataObject) -> None:
        payments = self.app.payments()
        if payments:
            self.app.delete_payment(data.draw(st.sampled_from(payments), label="payment"))
            self.did("payment deletions")
        self.steps += 1

    @precondition(lambda self: self.payments and self.actions.app_payment_edits)
    @rule(data=st.data(), shares=st.lists(st.integers(1, 200), min_size=3, max_size=3))
    def app_edit_payment(self, data: st.DataObject, shares: list[int]) -> None:
        """Each line of a payment to ``share`` % of what it applied (above 100: more, at most
        what its invoice may still take)."""
        app = self.app
        payments = app.edited_payments() if isinstance(app, QuickBooksUser) else []
        if not payments or not isinstance(app, QuickBooksUser):
            return
        payment = data.draw(st.sampled_from(payments), label="payment")
        (record,) = [p for p in self.world.library.qbo_records("Payment") if p["Id"] == payment]
        lines = record["Line"]
        refs = [self.ref_of_quickbooks_invoice(line["LinkedTxn"][0]["TxnId"]) for line in lines]
        applied = [money(line["Amount"]) for line in lines]
        new = []
        cycled = (shares[n % len(shares)] for n in range(len(lines)))
        for ref, amount, share in zip(refs, applied, cycled, strict=True):
            owed = self.owed(ref, "app") if ref is not None else None
            wanted = part_of(amount, share)
            new.append(min(wanted, amount + (owed or Decimal(0))) if wanted > amount else wanted)
        if new == applied:
            return
        app.edit_payment_lines(payment, new)
        for ref, before, after in zip(refs, applied, new, strict=True):
            if ref is not None and after > before:
                self.allocated(ref, "app", after - before)
        self.did(
            "payment edits"
            if all(a <= b for a, b in zip(new, applied, strict=True))
            else "payment edits upward"
        )
        self.steps += 1

    def partners_of(self, ref: Ref) -> list[Ref]:
        """The other invoices one 1CRM payment may pay with ``ref``: in 1CRM, of its account
        and currency, still owing."""
        invoice = self.crm.invoice(ref)
        if invoice is None or not self.owed(ref, "crm"):
            return []
        key = (invoice["billing_account_id"], invoice["currency_id"])
        found = []
        for other in self.invoices:
            record = self.crm.invoice(other) if other != ref else None
            if record is not None and (record["billing_account_id"], record["currency_id"]) == key:
                found.append(other)
        return found

    def ref_of_quickbooks_invoice(self, invoice_id: str) -> Ref | None:
        """The machine's invoice that is QuickBooks invoice ``invoice_id``."""
        for ref in self.invoices:
            found = self.app.invoice(ref, self.crm)
            if found is not None and found.get("Id") == invoice_id:
                return ref
        return None

    @precondition(lambda self: self.invoices and self.actions.crm_invoice_cancels)
    @rule(data=st.data(), delete=st.booleans())
    def crm_cancel_invoice(self, data: st.DataObject, delete: bool) -> None:
        """An invoice nothing was paid on, cancelled in 1CRM — or deleted once it was synced
        (deleted before, §2.3 would have nothing to write its Integrated ID to)."""
        ref = data.draw(st.sampled_from(self.invoices), label="invoice")
        invoice = self.crm.invoice(ref)
        if ref in self.closed or invoice is None or not self.closable(ref):
            return
        paid = "" if self.untouched(ref) else "paid "
        if delete and invoice.get("integrated_id") and ref not in self.edited:
            self.crm.delete_invoice(ref)
            self.invoices.remove(ref)
            self.did(f"1CRM {paid}invoice deletions")
        elif self.crm.cancel_invoice(ref):
            self.closed.add(ref)
            self.did(f"1CRM {paid}invoice cancels")
        self.steps += 1

    @precondition(lambda self: self.invoices and self.actions.app_invoice_voids)
    @rule(data=st.data())
    def app_void_invoice(self, data: st.DataObject) -> None:
        """An approved invoice nothing was paid on, voided in the accounting system (one
        not in 1CRM yet never gets there)."""
        ref = data.draw(st.sampled_from(self.invoices), label="invoice")
        if ref in self.closed or not self.closable(ref):
            return
        in_crm = self.crm.invoice(ref) is not None
        paid = "" if self.untouched(ref) else "paid "
        if self.app.void_invoice(ref, self.crm):
            self.closed.add(ref)
            self.did(f"{paid}invoice voids")
            if not in_crm:
                self.invoices.remove(ref)
        self.steps += 1

    @precondition(lambda self: self.payments and self.actions.crm_payment_deletions)
    @rule(data=st.data())
    def crm_delete_payment(self, data: st.DataObject) -> None:
        payments = self.crm.synced_payments()
        if payments:
            self.crm.delete_payment(data.draw(st.sampled_from(payments), label="payment"))
            self.did("1CRM payment deletions")
        self.steps += 1

    @precondition(lambda self: self.invoices and self.actions.crm_credits)
    @rule(data=st.data(), share=st.integers(1, 100))
    def crm_credit(self, data: st.DataObject, share: int) -> None:
        ref = data.draw(st.sampled_from(self.invoices), label="invoice")
        due = self.owed(ref, "crm")
        if not due:
            return
        amount = part_of(due, share)
        if self.crm.credit(ref, amount, "2026-03-08"):
            self.payments += 1
            self.allocated(ref, "crm", amount)
            self.did("1CRM credits")
        self.steps += 1

    @precondition(lambda self: self.invoices and self.actions.crm_invoice_edits)
    @rule(data=st.data(), due=st.sampled_from(DATES))
    def crm_edit_invoice(self, data: st.DataObject, due: str) -> None:
        """An invoice nothing is paid on, synced or not (§2.3 reads it as it is now)."""
        ref = data.draw(st.sampled_from(self.invoices), label="invoice")
        if ref in self.closed or self.crm.invoice(ref) is None:
            return
        if not self.untouched(ref):
            return
        actions = self.actions
        lines = data.draw(lines_of(actions.crm_tax_rates, actions.crm_discounts), label="lines")
        if self.crm.edit_invoice(ref, lines, due):
            self.edited.add(ref)
            self.did("1CRM invoice edits")
        self.steps += 1

    @precondition(lambda self: self.invoices and self.actions.app_credit_notes)
    @rule(data=st.data(), share=st.integers(1, 100), paid=st.sampled_from((0, 0, 50)))
    def app_credit_note(self, data: st.DataObject, share: int, paid: int = 0) -> None:
        """Credit applied to an invoice; with ``app_money_with_credit`` and ``paid``, that
        share of what the credit leaves is paid in the same QuickBooks payment."""
        ref = data.draw(st.sampled_from(self.invoices), label="invoice")
        due = self.owed(ref, "app")
        if not due:
            return
        amount = part_of(due, share)
        money_too = Decimal(0)
        if self.actions.app_money_with_credit and paid and due > amount:
            money_too = part_of(due - amount, paid)
        credited = (
            self.app.credit(ref, self.crm, amount, "2026-03-07", money_too=money_too)
            if money_too
            else self.app.credit(ref, self.crm, amount, "2026-03-07")
        )
        if credited:
            self.payments += 1
            self.allocated(ref, "app", amount + money_too)
            self.did("credit notes with money" if money_too else "credit notes")
        self.steps += 1

    @precondition(lambda self: self.invoices and self.actions.app_invoice_edits)
    @rule(data=st.data(), due=st.sampled_from(DATES))
    def app_edit_invoice(self, data: st.DataObject, due: str) -> None:
        ref = data.draw(st.sampled_from(self.invoices), label="invoice")
        if ref in self.closed or not self.untouched(ref):
            return
        actions = self.actions
        lines = data.draw(lines_of(actions.app_tax_rates, actions.app_discounts), label="lines")
        if self.app.edit_invoice(ref, self.crm, lines, due):
            self.edited.add(ref)
            self.did("invoice edits")
        self.steps += 1

    @precondition(lambda self: self.invoices and self.actions.crm_unsynced_deletions)
    @rule(data=st.data(), invoice=st.booleans())
    def crm_delete_unsynced(self, data: st.DataObject, invoice: bool) -> None:
        """An invoice nothing is paid on, or a payment or credit, made in 1CRM and deleted
        before the library synced it."""
        if invoice:
            refs = [
                ref
                for ref in self.invoices
                if ref.side == "crm"
                and not (self.crm.invoice(ref) or {"integrated_id": "-"}).get("integrated_id")
                and self.crm.untouched(ref)
            ]
            if refs:
                ref = data.draw(st.sampled_from(refs), label="invoice")
                self.crm.delete_invoice(ref)
                self.invoices.remove(ref)
                self.closed.discard(ref)
                self.edited.discard(ref)
                self.did("1CRM unsynced invoice deletions")
        elif payments := self.crm.unsynced_payments():
            self.crm.delete_payment(data.draw(st.sampled_from(payments), label="payment"))
            self.did("1CRM unsynced payment deletions")
        self.steps += 1

    @precondition(lambda self: self.payments and self.actions.crm_credit_deletions)
    @rule(data=st.data())
    def crm_delete_credit(self, data: st.DataObject) -> None:
        """A synced credit deleted in 1CRM: the invoice owes it again on both sides."""
        credits = self.crm.synced_credits()
        if credits:
            self.crm.delete_payment(data.draw(st.sampled_from(credits), label="credit"))
            self.did("1CRM credit deletions")
        self.steps += 1

    @precondition(lambda self: self.payments and self.actions.app_credit_note_voids)
    @rule(data=st.data())
    def app_void_credit_note(self, data: st.DataObject) -> None:
        """An allocated credit note voided in the accounting system, its allocations deleted
        first: each invoice owes that credit again on both sides."""
        notes = self.app.allocated_credit_notes()
        if notes:
            self.app.void_credit_note(data.draw(st.sampled_from(notes), label="credit note"))
            self.did("credit note voids")

    @precondition(lambda self: self.invoices and self.actions.app_invoice_deletes)
    @rule(data=st.data())
    def app_delete_invoice(self, data: st.DataObject) -> None:
        """An invoice nothing is paid on, deleted in the accounting system: it goes from 1CRM
        too (one not in 1CRM yet never gets there)."""
        ref = data.draw(st.sampled_from(self.invoices), label="invoice")
        if ref in self.closed or not self.closable(ref):
            return
        paid = "" if self.untouched(ref) else "paid "
        if self.app.delete_invoice(ref, self.crm):
            self.invoices.remove(ref)
            self.edited.discard(ref)
            self.unsynced.pop(ref, None)
            self.did(f"{paid}invoice deletions")
        self.steps += 1

    @precondition(lambda self: self.payments and self.actions.app_credit_memo_deletes)
    @rule(data=st.data())
    def app_delete_credit_memo(self, data: st.DataObject) -> None:
        """A credit memo deleted in QuickBooks: each invoice it credited owes that credit
        again, on both sides."""
        memos = self.app.credit_memos()
        if memos and self.app.delete_credit_memo(data.draw(st.sampled_from(memos), label="memo")):
            self.did("credit memo deletions")
        self.steps += 1

    @precondition(lambda self: self.payments and self.actions.app_credit_memo_voids)
    @rule(data=st.data())
    def app_void_credit_memo(self, data: st.DataObject) -> None:
        """A credit memo voided in QuickBooks' screens: each invoice it credited owes that
        credit again, on both sides."""
        assert isinstance(self.app, QuickBooksUser)
        memos = self.app.credit_memos()
        if memos and self.app.void_credit_memo(data.draw(st.sampled_from(memos), label="memo")):
            self.did("credit memo voids")
        self.steps += 1

    # -- quotes (books-quotes) -------------------------------------------------------------

    @precondition(lambda self: self.customers and self.actions.crm_quotes)
    @rule(data=st.data(), expiry=st.sampled_from(DATES))
    def crm_quote(self, data: st.DataObject, expiry: str) -> None:
        actions = self.actions
        name = data.draw(st.sampled_from(self.customers), label="customer")
        lines = data.draw(lines_of(actions.crm_tax_rates, actions.crm_discounts), label="lines")
        currency = data.draw(st.sampled_from(actions.crm_currencies), label="currency")
        if crm_create_quote(self.crm, name, lines, currency, expiry) is not None:
            self.did("1CRM quotes")
        self.steps += 1

    @precondition(lambda self: self.customers and self.actions.app_quotes)
    @rule(data=st.data(), expiry=st.sampled_from(DATES))
    def app_quote(self, data: st.DataObject, expiry: str) -> None:
        actions = self.actions
        name = data.draw(st.sampled_from(self.customers), label="customer")
        lines = data.draw(lines_of(actions.app_tax_rates, actions.app_discounts), label="lines")
        mode = data.draw(st.sampled_from(actions.app_modes), label="mode")
        currency = data.draw(st.sampled_from(actions.app_currencies), label="currency")
        assert isinstance(self.app, QuickBooksUser)
        if qbo_create_estimate(self.app, name, lines, mode, expiry, currency) is not None:
            self.did("quotes")
        self.steps += 1

    @precondition(lambda self: self.customers and self.actions.crm_quote_edits)
    @rule(data=st.data(), expiry=st.sampled_from(DATES))
    def crm_edit_quote(self, data: st.DataObject, expiry: str) -> None:
        """A quote made in 1CRM edited there. Not one §3.5b brought from QuickBooks: a quote's
        lines are kept by the side that made it (§3.13 sends 1CRM's own quotes, §3.5b
        QuickBooks' own estimates), so a person edits them there — as ``app_edit_quote``
        edits only estimates made in QuickBooks. Edited in 1CRM, such a quote kept 1CRM's
        lines and reconcile listed them (QuickBooks soak: quote QUO-1001, 1CRM 84.63 ≠
        1663.97)."""
        quotes = crm_made_quotes(self.crm)
        if quotes:
            quote = data.draw(st.sampled_from(quotes), label="quote")
            actions = self.actions
            lines = data.draw(lines_of(actions.crm_tax_rates, actions.crm_discounts), label="lines")
            crm_edit_quote(self.crm, quote, lines, expiry)
            self.did("1CRM quote edits")
        self.steps += 1

    @precondition(lambda self: self.customers and self.actions.app_quote_edits)
    @rule(data=st.data(), expiry=st.sampled_from(DATES))
    def app_edit_quote(self, data: st.DataObject, expiry: str) -> None:
        assert isinstance(self.app, QuickBooksUser)
        if estimates := qbo_estimates(self.app, self.customers):
            estimate = data.draw(st.sampled_from(estimates), label="estimate")
            actions = self.actions
            lines = data.draw(lines_of(actions.app_tax_rates, actions.app_discounts), label="lines")
            qbo_edit_estimate(self.app, estimate, lines, expiry)
            self.did("quote edits")
        self.steps += 1

    @precondition(lambda self: self.customers and self.actions.quote_statuses)
    @rule(data=st.data(), side=st.sampled_from(SIDES), accepted=st.booleans())
    def quote_status(self, data: st.DataObject, side: str, accepted: bool) -> None:
        if side == "crm" and (quotes := crm_quotes(self.crm)):
            quote = data.draw(st.sampled_from(quotes), label="quote")
            crm_quote_stage(self.crm, quote, "Closed Accepted" if accepted else "Closed Lost")
            self.did("1CRM quote statuses")
        elif side == "app" and isinstance(self.app, QuickBooksUser):
            estimates = [e["Id"] for e in self.world.library.qbo_records("Estimate")]
            if estimates:
                estimate = data.draw(st.sampled_from(estimates), label="estimate")
                qbo_estimate_status(self.app, estimate, "Accepted" if accepted else "Rejected")
                self.did("quote statuses")
        elif side == "app" and isinstance(self.app, XeroUser) and (quotes := xero_quotes(self.app)):
            quote = data.draw(st.sampled_from(quotes), label="quote")
            xero_quote_status(self.app, quote, "ACCEPTED" if accepted else "DECLINED")
            self.did("quote statuses")
        self.steps += 1

    @precondition(lambda self: self.customers and self.actions.quote_statuses)
    @rule(data=st.data(), side=st.sampled_from(SIDES))
    def take_back_quote(self, data: st.DataObject, side: str) -> None:
        """A quote's answer taken back by a person (a mistake undone): 1CRM's stage back to
        Delivered, a Xero quote back to SENT, an estimate back to Pending. §2.12/§3.13 and
        §2.13/§3.5b take back a decision they carried; reconcile then finds both open."""
        if side == "crm" and (quotes := crm_quotes(self.crm)):
            quote = data.draw(st.sampled_from(quotes), label="quote")
            crm_quote_stage(self.crm, quote, "Delivered")
            self.did("1CRM quote decisions taken back")
        elif side == "app" and isinstance(self.app, QuickBooksUser):
            estimates = [
                e["Id"]
                for e in self.world.library.qbo_records("Estimate")
                if e.get("TxnStatus") in ("Accepted", "Rejected")
            ]
            if estimates:
                estimate = data.draw(st.sampled_from(estimates), label="estimate")
                qbo_estimate_status(self.app, estimate, "Pending")
                self.did("quote decisions taken back")
        elif side == "app" and isinstance(self.app, XeroUser):
            books = self.world.library
            answered = {q["QuoteID"] for q in books.xero_records("Quotes") if is_answered(q)}
            if quotes := [q for q in xero_quotes(self.app) if q in answered]:
                quote = data.draw(st.sampled_from(quotes), label="quote")
                xero_quote_status(self.app, quote, "SENT")
                self.did("quote decisions taken back")
        self.steps += 1

    @precondition(
        lambda self: self.invoices and self.payments and self.actions.app_paid_invoice_changes
    )
    @rule(data=st.data(), void=st.booleans(), due=st.sampled_from(DATES))
    def app_change_paid_invoice(self, data: st.DataObject, void: bool, due: str) -> None:
        """A paid or credited invoice voided or edited in the accounting system, as Xero lets
        one: its payments and credit notes' allocations deleted first. Only one whose payments
        have all been synced: a payment still on its way from 1CRM would meet a voided or
        edited invoice (a conflict for a person, not a sequence people make)."""
        ref = data.draw(st.sampled_from(self.invoices), label="invoice")
        if not self.paid_and_settled(ref):
            return
        cleared = self.app.clear_invoice(ref, self.crm)
        if void and self.app.void_invoice(ref, self.crm):
            self.closed.add(ref)
            self.did(f"paid invoice voids ({cleared} cleared)")
        elif not void:
            lines = data.draw(
                lines_of(self.actions.app_tax_rates, self.actions.app_discounts), label="lines"
            )
            if self.app.edit_invoice(ref, self.crm, lines, due):
                self.edited.add(ref)
                self.did(f"paid invoice edits ({cleared} cleared)")
        self.steps += 1

    @precondition(
        lambda self: self.invoices and self.payments and self.actions.crm_paid_invoice_changes
    )
    @rule(data=st.data(), cancel=st.booleans(), due=st.sampled_from(DATES))
    def crm_change_paid_invoice(self, data: st.DataObject, cancel: bool, due: str) -> None:
        """A paid or credited invoice cancelled or edited in 1CRM, its payments and credits
        deleted first (as ``app_change_paid_invoice``)."""
        ref = data.draw(st.sampled_from(self.invoices), label="invoice")
        if not self.paid_and_settled(ref):
            return
        cleared = self.crm.clear_invoice(ref)
        if cancel and self.crm.cancel_invoice(ref):
            self.closed.add(ref)
            self.did(f"1CRM paid invoice cancels ({cleared} cleared)")
        elif not cancel:
            lines = data.draw(
                lines_of(self.actions.crm_tax_rates, self.actions.crm_discounts), label="lines"
            )
            if self.crm.edit_invoice(ref, lines, due):
                self.edited.add(ref)
                self.did(f"1CRM paid invoice edits ({cleared} cleared)")
        self.steps += 1

    @precondition(lambda self: self.invoices and self.payments and self.actions.paid_invoice_edits)
    @rule(data=st.data(), side=st.sampled_from(SIDES), due=st.sampled_from(DATES))
    def edit_paid_invoice(self, data: st.DataObject, side: str, due: str) -> None:
        """A paid or credited invoice edited as it is, on either side (QuickBooks lets one):
        new lines and due date whose total surely covers what was paid and credited on it
        (a draw below it is left undone: QuickBooks would refuse it)."""
        ref = data.draw(st.sampled_from(self.invoices), label="invoice")
        if not self.paid_and_settled(ref):
            return
        actions = self.actions
        rates, discounts = (
            (actions.crm_tax_rates, actions.crm_discounts)
            if side == "crm"
            else (actions.app_tax_rates, actions.app_discounts)
        )
        lines = data.draw(lines_of(rates, discounts), label="lines")
        if least_total(lines) < self.paid_on(ref):
            return
        edited = (
            self.crm.edit_invoice(ref, lines, due)
            if side == "crm"
            else self.app.edit_invoice(ref, self.crm, lines, due)
        )
        if edited:
            self.edited.add(ref)
            self.did(f"{'1CRM ' if side == 'crm' else ''}paid invoice edits (as they are)")
        self.steps += 1

    def paid_on(self, ref: Ref) -> Decimal:
        """What is paid and credited on the invoice, the more of the two sides."""
        invoice = self.crm.invoice(ref) or {}
        crm = money(invoice.get("amount")) - money(invoice.get("amount_due"))
        found = self.app.invoice(ref, self.crm) or {}
        paid = {"TotalAmt": "Balance", "Total": "AmountDue"}
        app = max(money(found.get(total)) - money(found.get(due)) for total, due in paid.items())
        return max(crm, app)

    def paid_and_settled(self, ref: Ref) -> bool:
        """Open on both sides, something paid or credited on it, and nothing paid, credited
        or edited since the last sync."""
        if ref in self.closed | self.edited or ref in self.unsynced or self.untouched(ref):
            return False
        invoice = self.crm.invoice(ref)
        return invoice is not None and bool(invoice.get("integrated_id"))

    @precondition(lambda self: self.invoices and self.actions.app_unallocated_credit)
    @rule(data=st.data(), share=st.integers(1, 100), allocated=st.sampled_from((0, 50, 100)))
    def app_unallocated_credit_note(self, data: st.DataObject, share: int, allocated: int) -> None:
        """A credit note approved in the accounting system, ``allocated`` % of it allocated to
        the invoice (the rest stays the customer's credit)."""
        ref = data.draw(st.sampled_from(self.invoices), label="invoice")
        due = self.owed(ref, "app")
        if not due:
            return
        amount = part_of(due, share)
        allocation = (amount * allocated / 100).quantize(Decimal("0.01"))
        if self.app.credit(ref, self.crm, amount, "2026-03-07", allocation):
            self.payments += 1
            self.allocated(ref, "app", allocation)
            self.did("unallocated credit notes")
        self.steps += 1

    @precondition(lambda self: self.invoices and self.actions.crm_unallocated_credit)
    @rule(data=st.data(), share=st.integers(1, 100), allocated=st.sampled_from((0, 50)))
    def crm_unallocated_credit(self, data: st.DataObject, share: int, allocated: int) -> None:
        """Credit given in 1CRM, ``allocated`` % of it on the invoice (none: the account's
        credit, on no invoice)."""
        ref = data.draw(st.sampled_from(self.invoices), label="invoice")
        due = self.owed(ref, "crm")
        if not due:
            return
        amount = part_of(due, share)
        allocation = (amount * allocated / 100).quantize(Decimal("0.01"))
        if self.crm.credit(ref, amount, "2026-03-08", allocation):
            self.payments += 1
            self.allocated(ref, "crm", allocation)
            self.did("1CRM unallocated credits")
        self.steps += 1

    def did(self, what: str) -> None:
        """Count an action of the kinds added for issue #20's item 5 (printed by ``-s``)."""
        key = f"{self.library_name} {what}"
        RUNS[key] = RUNS.get(key, 0) + 1

    def owed(self, ref: Ref, side: str) -> Decimal | None:
        """What a person on ``side`` may still pay or credit on the invoice: what it owes
        there less what the other side was paid or credited on it since the last sync. The
        sync brings both over, and neither system takes an allocation over what an invoice
        owes: together they must fit, or the pair waits for a person (issue #20's Xero soak).
        ``None`` for an invoice closed, or edited since the last sync."""
        if ref in self.closed | self.edited:
            return None
        due = self.crm.due(ref) if side == "crm" else self.app.due(ref, self.crm)
        if due is None:
            return None
        other = "app" if side == "crm" else "crm"
        owed = due - self.unsynced.get(ref, {}).get(other, Decimal(0))
        return owed if owed > 0 else None

    def allocated(self, ref: Ref, side: str, amount: Decimal) -> None:
        """Count ``amount`` paid or credited on ``side`` until the next sync."""
        sides = self.unsynced.setdefault(ref, {})
        sides[side] = sides.get(side, Decimal(0)) + amount

    def closable(self, ref: Ref) -> bool:
        """Whether a person may void, cancel or delete the invoice: nothing paid on it, or
        (``paid_invoice_closes``) nothing paid or credited on it since the last sync — a
        payment on its way to an invoice the other side closed is a conflict for a person."""
        if self.actions.paid_invoice_closes:
            return ref not in self.unsynced
        return self.untouched(ref)

    def untouched(self, ref: Ref) -> bool:
        """Nothing paid on the invoice on either side."""
        return self.crm.untouched(ref) and self.app.untouched(ref, self.crm)

    @precondition(lambda self: self.steps - self.synced_at >= BATCH)
    @rule()
    def sync(self) -> None:
        self.check_books()
        self.edited.clear()
        self.unsynced.clear()
        self.syncs += 1
        self.synced_at = self.steps

    def teardown(self) -> None:
        try:
            self.check_books()
        finally:
            # Counted whether the sequence balanced or not: the soak's figures.
            for what, count in (("sequences", 1), ("actions", self.steps), ("syncs", self.syncs)):
                key = f"{self.library_name} {what}"
                RUNS[key] = RUNS.get(key, 0) + count
            self.stack.close()

    # -- the books -------------------------------------------------------------------------

    def check_books(self) -> None:
        """Sync to quiescence; then nothing failed, nothing switched off, nothing differs."""
        world = self.world
        world.assert_balanced()
        names = sorted(a["name"] for a in world.library.crm_records("Account"))
        assert names == sorted(self.customers)
        assert len(world.library.crm_records("Invoice")) == len(self.invoices)

    def user(self, side: str) -> CrmUser | XeroUser | QuickBooksUser:
        return self.crm if side == "crm" else self.app

    @staticmethod
    def email(name: str, number: int = 0) -> str:
        local = "".join(c for c in name.lower() if c.isascii() and c.isalnum())
        return f"{local}{number or ''}@books.example"


def least_total(lines: list[LineSpec]) -> Decimal:
    """Less than any total the lines can come to on either side: no tax, and the largest
    discount on every line (QuickBooks discounts the whole invoice, ``users.qbo_lines``)."""
    most = max(line.discount for line in lines)
    gross = sum((line.price * line.quantity for line in lines), Decimal(0))
    return gross * (100 - most) / 100 - Decimal("0.05") * len(lines)


def part_of(due: Decimal, share: int) -> Decimal:
    """``share`` % of ``due`` to the cent, at least a cent."""
    return max(Decimal("0.01"), (due * share / 100).quantize(Decimal("0.01")))


def machine_for(library: str) -> type[BooksMachine]:
    return type(f"{library.title()}Books", (BooksMachine,), {"library_name": library})


BOOKS_SETTINGS = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    derandomize=not SOAK,  # make test: the same sequences every run; soak: new ones
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    report_multiple_bugs=False,
    print_blob=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate]
    if os.environ.get("SWITCHBOARD_BOOKS_NO_SHRINK")
    else list(Phase),
)


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_random_changes_on_both_sides_sync_to_balanced_books(library):
    try:
        run_state_machine_as_test(machine_for(library), settings=BOOKS_SETTINGS)
    finally:
        print(RUNS)  # also when a sequence failed: how many ran before it


# -- goldens: sequences the machine found, kept as they failed -----------------------------------


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_golden_a_1crm_invoice_keeps_its_invoice_date(library):
    """Found by the machine: 2.3 and 3.3 dated the invoice the day it was entered in 1CRM,
    not its invoice date."""
    with open_world(library) as world:
        crm = CrmUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Widget", 2, Decimal("10.61"), Decimal(15))
        crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "2026-03-31")
        world.assert_balanced()
        (invoice,) = world.library.books(library).invoices
        assert invoice.date == "2026-03-01"


def test_golden_a_quickbooks_invoice_keeps_its_currency_in_1crm():
    """Found by the machine: 3.4 wrote no currency, so 1CRM filed the NZD invoice in its own
    default currency (USD)."""
    with open_world("quickbooks") as world:
        app = QuickBooksUser(world.library)
        app.create_customer("Tui, Kea Ltd 1", "t@books.example", "Napier")
        world.assert_balanced()
        app.create_invoice(
            "Tui, Kea Ltd 1",
            [LineSpec("Advice", 4, Decimal("2.20"), Decimal(15))],
            "TaxExcluded",
            "2026-03-31",
        )
        world.assert_balanced()
        (invoice,) = world.library.books("onecrm").invoices
        assert invoice.currency == "NZD"


def test_golden_a_1crm_over_payment_reaches_quickbooks_whole():
    """Found by the machine: 3.6 sent what the payment allocates (``total_amount``) as
    QuickBooks' TotalAmt, so the over-paid part was lost (1CRM received 68.00, QuickBooks
    63.00); QuickBooks keeps it as the payment's unapplied amount."""
    with open_world("quickbooks") as world:
        crm = CrmUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Widget", 2, Decimal("10.00"), Decimal(15))
        ref = crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "2026-03-31")
        world.assert_balanced()
        assert crm.pay(ref, Decimal("23.00"), Decimal("28.00"), "2026-03-05")
        world.assert_balanced()
        (payment,) = world.library.qbo_records("Payment")
        assert (payment["TotalAmt"], payment["UnappliedAmt"]) == (28, 5)


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_golden_an_account_edited_before_its_first_sync(library):
    """Found by the machine: an account made in 1CRM and edited before the library synced it.
    2.1 and 3.1 created the contact / customer from the create event's values, made after
    the edit, so the edit's event looked older than the contact and was dropped; 2.2 then
    wrote the stale values back to 1CRM (QuickBooks kept the create's email, city and phone,
    Xero lost the phone). They now read the account as it is when they handle an event."""
    with open_world(library) as world:
        crm = CrmUser(world.library)
        crm.create_customer("O'Brien Builders 3", "obrienbuilders3@books.example", "Napier")
        crm.edit_customer("O'Brien Builders 3", "ob33@books.example", "Nelson", "+64 4 555 0202")
        world.assert_balanced()


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_golden_an_invoice_line_refused_by_1crm_s_rate_limit(library):
    """Found diagnosing a QuickBooks soak failure (a record left waiting, passed on replay):
    the sync runs at 1CRM's rate limit (120 calls a minute; that sequence of nine QuickBooks
    invoices made 121 calls in one minute) and 1CRM answered 429 now and then. A refused
    call of an invoice's write (2.4, 3.4: the invoice, then its line group, lines and
    adjustments) failed the write, and its undo, refused by the same limit, left the invoice
    without lines; the run's retry wrote it a second time. Each call of a multi-call write
    (and of its undo) is now sent again after Retry-After."""
    with open_world(library) as world:
        app = XeroUser(world.library) if library == "xero" else QuickBooksUser(world.library)
        app.create_customer("Kauri & Rimu 1", "kauririmu1@books.example", "Nelson")
        world.assert_balanced()
        crm = world.library.onecrm
        for method, path in (("POST", "InvoiceLineGroup"), ("DELETE", "Invoice/")):
            crm.fault(status=429, retry_after=1, method=method, path_prefix=f"/api.php/data/{path}")
        mode = "Exclusive" if library == "xero" else "TaxExcluded"
        line = LineSpec("Freight", 2, Decimal("12.50"), Decimal(15))
        app.create_invoice("Kauri & Rimu 1", [line], mode, "2026-03-31")
        world.assert_balanced()
        crm.control("faults", method="DELETE")
        (invoice,) = world.library.crm_records("Invoice")
        assert world.library.crm_lines("Invoice", invoice["id"]) == [("Freight", 2, 12.5, 15)]


def test_golden_a_customer_edited_on_both_sides_in_the_same_second():
    """Found by the machine's QuickBooks soak: a customer edited in QuickBooks and then in
    1CRM within one second. Both keep whole seconds, so each side's change looked no later
    than the other's: 3.1 (1CRM later than QuickBooks?) and 3.2 (QuickBooks later than 1CRM?)
    both declined and the two kept different emails and cities. 3.2 and 3.1 now update on a
    tie too (when the customer, or the account, changed later or in the same second): the
    change seen first is written, and the other side then finds both the same."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        name = "Tui, Kea Ltd 1"
        app.create_customer(name, "tuikealtd1@books.example", "Ōtautahi", "+64 4 555 0202")
        world.assert_balanced()
        app.edit_customer(name, "tuikealtd4@books.example", "Napier", "+64 9 555 0101")
        customer = app.customer(name)
        assert customer is not None
        edited = datetime.fromisoformat(customer["MetaData"]["LastUpdatedTime"])
        for attempt in range(5):  # the 1CRM edit is stamped in that second, however slow
            behind = (edited - datetime.now(UTC)).total_seconds() + 0.001
            world.library.onecrm.control("config", {"clock_offset_seconds": behind})
            crm.edit_customer(name, f"tuikealtd{attempt + 5}@books.example", "Nelson")
            (account,) = world.library.crm_records("Account")
            stamped = datetime.fromisoformat(account["date_modified"]).replace(tzinfo=UTC)
            if stamped == edited:
                break
        assert stamped == edited, (stamped, edited)
        world.library.onecrm.control("config", {"clock_offset_seconds": 0})
        world.assert_balanced()


def test_golden_a_record_a_rate_limit_refused_is_not_left_waiting():
    """The harness's side of the QuickBooks soak's flaky failure (a record left waiting,
    passed on replay): at 1CRM's rate limit a run failed on a read 1CRM refused four times
    (429: the client retries reads), and so did its retry, run at once by the round's tick —
    a round stands for three hours, but the sandboxes count calls in real seconds. That round
    wrote nothing, so the sync was taken as settled with the record still waiting. A round
    that leaves a record refused by a rate limit now waits out the sandboxes' rate window
    (real time) and goes on."""
    with open_world("quickbooks") as world:
        crm = world.library.onecrm
        for sandbox in (crm, world.accounting):  # windows of 2 s: the test waits one out
            sandbox.control("config", {"rate_limit_window_seconds": 2})
        app = QuickBooksUser(world.library)
        app.create_customer("Harakeke Ltd 1", "harakekeltd1@books.example", "Napier")
        # 3.2's search for the account, and that of its retry: four attempts each.
        crm.fault(status=429, count=8, retry_after=1, method="GET", path_prefix="/api.php/data/")
        world.assert_balanced()
        assert [a["name"] for a in world.library.crm_records("Account")] == ["Harakeke Ltd 1"]


def test_golden_a_discounted_1crm_invoice_keeps_1crms_tax_in_quickbooks():
    """Found by the machine: QuickBooks computes tax per rate on the document, 1CRM per line,
    so 3.3's invoices differed by a cent (1CRM 19.57, QuickBooks 19.58); 3.3 now sends 1CRM's
    tax per rate as QuickBooks' tax override (``TxnTaxDetail.TaxLine``)."""
    with open_world("quickbooks") as world:
        crm = CrmUser(world.library)
        crm.create_customer("Kauri & Rimu 1", "k@books.example", "Nelson")
        world.assert_balanced()
        lines = [
            LineSpec("Widget", 1, Decimal("10.10"), Decimal(15)),
            LineSpec("Advice", 3, Decimal("37.31"), Decimal(15), Decimal("12.5")),
            LineSpec("Freight", 1, Decimal("10.10"), Decimal(15)),
        ]
        crm.create_invoice("Kauri & Rimu 1", lines, "NZD", "2026-03-31")
        world.assert_balanced()
        (invoice,) = world.library.qbo_records("Invoice")
        (crm_invoice,) = world.library.crm_records("Invoice")
        assert money(invoice["TxnTaxDetail"]["TotalTax"]) == money(crm_invoice["total_tax"])


def test_golden_a_payment_deleted_in_quickbooks_is_deleted_in_1crm():
    """3.7 took only new QuickBooks payments: one deleted there stayed paid in 1CRM. Now the
    1CRM payment is deleted (its invoice owes again), whichever side the payment came from, and
    one deleted before it was synced never reaches 1CRM."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        app.create_customer("Tui, Kea Ltd 1", "t@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Advice", 2, Decimal("20.00"), Decimal(15))
        ref = app.create_invoice("Tui, Kea Ltd 1", [line], "TaxExcluded", "2026-03-31")
        world.assert_balanced()
        assert app.pay(ref, crm, Decimal("10.00"), "2026-03-06", "")
        assert crm.pay(ref, Decimal("5.00"), Decimal("5.00"), "2026-03-05")
        world.assert_balanced()
        assert app.pay(ref, crm, Decimal("1.00"), "2026-03-07", "")
        for payment in app.payments():
            app.delete_payment(payment)
        world.assert_balanced()
        assert world.library.crm_records("Payment") == []
        assert crm.due(ref) == Decimal("46.00")


def test_golden_a_payment_deleted_in_1crm_is_deleted_in_quickbooks():
    """3.6 took only new 1CRM payments: one deleted in 1CRM after it was synced stayed in
    QuickBooks (1CRM owed 46.00 again, QuickBooks 33.00). 3.8 deletes its QuickBooks twin,
    whichever side the payment came from; 3.7 then finds nothing left to delete."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))
        ref = crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "2026-03-31")
        world.assert_balanced()
        assert crm.pay(ref, Decimal("10.00"), Decimal("10.00"), "2026-03-05")
        assert app.pay(ref, crm, Decimal("3.00"), "2026-03-06", "")
        world.assert_balanced()
        for payment in crm.synced_payments():
            crm.delete_payment(payment)
        world.assert_balanced()
        assert world.library.qbo_records("Payment") == []
        assert app.due(ref, crm) == Decimal("46.00")


def test_golden_an_invoice_voided_in_quickbooks_is_cancelled_in_1crm():
    """3.4 took only new QuickBooks invoices: one voided there stayed open in 1CRM. Now it is
    cancelled in 1CRM with its lines as voided and nothing due, whichever side it came from;
    one voided before it was synced is not created in 1CRM."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        app.create_customer("Tui, Kea Ltd 1", "t@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Advice", 2, Decimal("20.00"), Decimal(15))
        from_app = app.create_invoice("Tui, Kea Ltd 1", [line], "TaxInclusive", "2026-03-31")
        from_crm = crm.create_invoice("Tui, Kea Ltd 1", [line], "NZD", "2026-03-31")
        world.assert_balanced()
        never = app.create_invoice("Tui, Kea Ltd 1", [line], "TaxExcluded", "2026-03-31")
        for ref in (from_app, from_crm, never):
            assert app.void_invoice(ref, crm)
        world.assert_balanced()
        invoices = world.library.crm_records("Invoice")
        assert len(invoices) == 2
        assert all(money(i["amount_due"]) == 0 for i in invoices)


def test_golden_an_invoice_cancelled_or_deleted_in_1crm_is_voided_in_quickbooks():
    """Nothing took a 1CRM cancel or deletion to QuickBooks: the QuickBooks invoice stayed open.
    3.9 voids it; 3.4 then writes the cancelled 1CRM invoice's lines as voided, and the sync
    quiesces."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Widget", 2, Decimal("20.00"), Decimal(15), Decimal(10))
        cancelled = crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "2026-03-31")
        deleted = crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "2026-03-31")
        from_app = app.create_invoice("Harakeke Ltd 1", [line], "TaxInclusive", "2026-03-31")
        world.assert_balanced()
        assert crm.cancel_invoice(cancelled) and crm.cancel_invoice(from_app)
        assert crm.delete_invoice(deleted)
        world.assert_balanced()
        invoices = world.library.qbo_records("Invoice")
        assert [money(i["TotalAmt"]) for i in invoices] == [0, 0, 0]


class Scripted:
    """Stands for Hypothesis' ``data`` in a golden that replays the machine's rules: it hands
    out the draws of a failing sequence, in order."""

    def __init__(self, *draws: object) -> None:
        self.draws = list(draws)

    def draw(self, strategy: object, label: str | None = None) -> object:
        return self.draws.pop(0)


def test_golden_credit_given_on_both_sides_between_syncs_fits_what_the_invoice_owes():
    """Found by the Xero soak (records left behind in 2.6 and 2.10 after all 8 attempts): an
    invoice of 1407.77 credited 68 % in Xero (957.28) and, before the next sync, 68 % of what
    1CRM still showed due (957.28 again). Each system took its credit, but together they
    credit 1914.56 on 1407.77: neither sync can write the other side's credit (Xero: "The
    amount allocated exceeds the amount outstanding on the invoice"; 1CRM: "957.28 exceeds
    what invoice INV-0002 still has due (450.49)") and both wait until they need attention,
    as they should — that is a conflict for a person, not something a sync may settle by
    dropping money. The machine's people now pay and credit only what the invoice still owes
    once the other side's changes since the last sync arrive (here 68 % of 450.49), as an
    accountant who sees both books would, and the books balance."""
    machine = machine_for("xero")()
    try:
        machine.create_customer(side="app", name="Harakeke Ltd", city="Napier", phone="")
        lines = [
            LineSpec("Advice", 2, Decimal("3.9"), Decimal(15)),
            LineSpec("Widget", 4, Decimal("399.99"), Decimal(0), Decimal("12.5")),
        ]
        machine.app_invoice(Scripted("Harakeke Ltd 1", lines, "Inclusive", "NZD"), "2026-03-31")
        (invoice,) = machine.invoices
        machine.sync()
        assert machine.crm.due(invoice) == Decimal("1407.77")
        machine.app_credit_note(Scripted(invoice), share=68)
        assert machine.app.due(invoice, machine.crm) == Decimal("450.49")
        machine.app_void_invoice(Scripted(invoice))  # not voided: a credit is allocated to it
        assert invoice not in machine.closed
        machine.crm_credit(Scripted(invoice), share=68)
        machine.sync()
        owed = Decimal("1407.77") - Decimal("957.28") - Decimal("306.33")
        assert machine.crm.due(invoice) == machine.app.due(invoice, machine.crm) == owed
    finally:
        machine.teardown()


def test_golden_an_invoice_paid_on_both_sides_past_its_total_waits_and_does_not_loop():
    """Found by the QuickBooks soak, reported as "the quickbooks library still writes after 6
    rounds": an invoice paid in QuickBooks and, before the next sync, in 1CRM, together more
    than it owed. Neither system takes the other's payment (QuickBooks: "The payment amount
    30.00 is more than the balance due 16.00"; 1CRM: "exceeds what invoice … still has
    due"), so §3.6 and §3.7 each keep their record waiting, as they should: a payment twice
    is a conflict for a person. But QuickBooks refuses at its API, and the harness counted
    each retry's refused POST as a write, so the waiting record looked like a sync loop. A
    round now counts only the writes an API took, the sync settles, and the pair is reported
    as what it is: records left behind, with each system's refusal. §3.6 now waits before it
    writes (its search for the QuickBooks invoice owing at least the payment finds none: it
    owes 16.00), so its record waits on that search, not on a refused POST."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        crm.create_customer("Tui, Kea Ltd 1", "tuikealtd1@books.example", "Nelson")
        line = LineSpec("Freight", 2, Decimal("20.00"), Decimal(15))
        ref = crm.create_invoice("Tui, Kea Ltd 1", [line], "NZD", "2026-04-30")
        assert ref is not None
        world.assert_balanced()
        assert app.pay(ref, crm, Decimal("30.00"), "2026-03-06", "")
        assert crm.pay(ref, Decimal("30.00"), Decimal("30.00"), "2026-03-05")
        world.sync()  # settles: no SyncLoops
        assert world.failed() == [] and world.inactive() == []
        waiting = sorted((prefix, message) for prefix, _, message, _ in world.waiting())
        assert [prefix for prefix, _ in waiting] == ["3.6", "3.7"], waiting
        assert "Balance >= 30" in waiting[0][1]  # no QuickBooks invoice owes the payment
        assert "still has due (16" in waiting[1][1]
        assert len(world.library.qbo_records("Payment")) == 1
        assert len(world.library.crm_records("Payment")) == 1


def test_golden_a_1crm_edit_in_the_second_the_sync_wrote_the_customer():
    """Found rebuilding the QuickBooks soak's sequence by hand: an account edited in 1CRM in
    the same second as §3.1 had written its customer to QuickBooks. Both keep whole seconds, so
    §3.1 saw the edit no later than the customer and declined (it updated only when 1CRM was
    strictly later), and no QuickBooks change was there for §3.2: the books kept different
    emails and phones for good. §3.1 now updates on a tie too, as §3.2 does; whichever side's
    change a scenario sees first is written, the other then finds both the same."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        name = "Tui, Kea Ltd 1"
        crm.create_customer(name, "tuikealtd1@books.example", "Nelson")
        world.assert_balanced()
        customer = app.customer(name)
        assert customer is not None
        written = datetime.fromisoformat(customer["MetaData"]["LastUpdatedTime"])
        for attempt in range(5):  # the 1CRM edit is stamped in that second, however slow
            behind = (written - datetime.now(UTC)).total_seconds() + 0.001
            world.library.onecrm.control("config", {"clock_offset_seconds": behind})
            crm.edit_customer(
                name, f"tuikealtd{attempt + 2}@books.example", "Napier", "+64 9 555 0101"
            )
            (account,) = world.library.crm_records("Account")
            stamped = datetime.fromisoformat(account["date_modified"]).replace(tzinfo=UTC)
            if stamped == written:
                break
        assert stamped == written, (stamped, written)
        world.library.onecrm.control("config", {"clock_offset_seconds": 0})
        world.assert_balanced()
        customer = app.customer(name)
        assert customer is not None
        assert customer["PrimaryPhone"]["FreeFormNumber"] == "+64 9 555 0101"


def test_golden_a_persons_1crm_call_refused_by_the_rate_limit_is_sent_again():
    """Found by the merged QuickBooks soak (reported as flaky): a person deleting a payment in
    1CRM made several calls, and the last one met 1CRM's rate limit (429) while the sync ran,
    leaving the person's own change half done. A person's script waits out Retry-After and
    sends the call again, as the connector does for the sync's writes."""
    with open_world("quickbooks") as world:
        crm = world.library.onecrm
        crm.fault(status=429, count=2, retry_after=1, method="GET", path_prefix="/api.php/data/")
        assert world.library.crm("GET", "Account")["records"] == []


def test_golden_a_1crm_credit_over_what_xero_still_owes_makes_no_credit_note():
    """Issue #20's Xero soak: §2.6 created the Xero credit note before it knew whether the
    invoice could take it. A 1CRM credit of 20.00 on an invoice Xero had meanwhile been paid
    40.00 of (6.00 left) became a credit note of 20.00 whose allocation Xero refused ("The
    amount allocated exceeds the amount outstanding on the invoice"): a stray credit note,
    unallocated, left in Xero's books. §2.6 now reads the invoice's AmountDue first and
    creates the credit note only when the credit fits; until then the credit waits and is
    retried with backoff (#20: it used to end Not Synced for good), a conflict for a person
    once the attempts are used up."""
    with open_world("xero") as world:
        crm, app = CrmUser(world.library), XeroUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))
        ref = crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "2026-03-31")
        world.assert_balanced()
        assert app.pay(ref, crm, Decimal("40.00"), "2026-03-06", "")
        assert crm.credit(ref, Decimal("20.00"), "2026-03-08")
        world.sync()
        assert world.failed() == [] and world.inactive() == []
        assert world.library.xero_records("CreditNotes") == []
        assert app.due(ref, crm) == Decimal("6.00")
        waiting = [(prefix, module) for prefix, module, _, _ in world.waiting()]
        assert ("2.6", 10) in waiting, waiting


def test_golden_a_1crm_edit_in_the_second_the_sync_wrote_the_xero_contact():
    """Issue #20, §2.1's modified-since gap: 1CRM stamps a change in whole seconds, Xero in
    milliseconds. An account edited in 1CRM in the same second as §2.1 had written its contact
    (1CRM 10:00:05, Xero 10:00:05.300) looked older than the contact, so §2.1 declined, and no
    Xero change was there for §2.2: the edit was lost. §2.1 now compares at 1CRM's precision
    (the edit's second against the contact's second) and updates on a tie; §2.2 then finds
    both the same."""
    with open_world("xero") as world:
        crm, app = CrmUser(world.library), XeroUser(world.library)
        name = "Tui, Kea Ltd 1"
        crm.create_customer(name, "tuikealtd1@books.example", "Nelson")
        world.assert_balanced()
        (contact,) = world.library.xero_records("Contacts")
        written = xero_moment(contact["UpdatedDateUTC"])
        for attempt in range(5):  # the 1CRM edit is stamped in that second, however slow
            behind = (written - datetime.now(UTC)).total_seconds() + 0.001
            world.library.onecrm.control("config", {"clock_offset_seconds": behind})
            crm.edit_customer(
                name, f"tuikealtd{attempt + 2}@books.example", "Napier", "+64 9 555 0101"
            )
            (account,) = world.library.crm_records("Account")
            stamped = datetime.fromisoformat(account["date_modified"]).replace(tzinfo=UTC)
            if stamped == written.replace(microsecond=0):
                break
        assert stamped == written.replace(microsecond=0), (stamped, written)
        world.library.onecrm.control("config", {"clock_offset_seconds": 0})
        world.assert_balanced()
        assert app.contact_id(name) is not None
        (contact,) = world.library.xero_records("Contacts")
        assert contact["EmailAddress"] == account["email1"]


def xero_moment(value: str) -> datetime:
    """A Xero timestamp as the sandbox keeps it (``/Date(ms+0000)/`` or ISO), in UTC."""
    if value.startswith("/Date("):
        millis = int(value[6:].split("+")[0].split(")")[0])
        return datetime.fromtimestamp(millis / 1000, UTC)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_golden_an_invoice_and_payments_deleted_in_1crm_before_their_first_sync():
    """Issue #20's Xero gaps: an invoice made in 1CRM and deleted before the library synced
    it. Its create event found the invoice gone ("1CRM: Not found"), and §2.3 kept the event
    waiting, retried it eight times and left it needing attention. §2.3 now ignores a 404 of
    the invoice it reads (any other error still waits). A payment and a credit deleted before
    their first sync do not reach Xero either (§2.6 finds no invoice of a deleted payment)."""
    with open_world("xero") as world:
        crm = CrmUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))
        kept = crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "2026-03-31")
        world.assert_balanced()
        gone = crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "2026-04-30")
        assert crm.pay(kept, Decimal("10.00"), Decimal("10.00"), "2026-03-05")
        assert crm.credit(kept, Decimal("5.00"), "2026-03-05")
        for payment in world.library.crm_records("Payment"):
            crm.delete_payment(payment["id"])
        assert crm.delete_invoice(gone)
        world.assert_balanced()
        assert len(world.library.xero_records("Invoices")) == 1
        assert world.library.xero_records("Payments") == []
        assert world.library.xero_records("CreditNotes") == []


def test_golden_credits_deleted_in_1crm_are_taken_back_in_xero():
    """Issue #20's Xero gaps: §2.9 left payments of type Credit Note alone, so a credit
    deleted in 1CRM stayed allocated in Xero (1CRM owed 46.00 again, Xero less). Now its
    allocation is deleted in Xero — found by the credit note's number (a credit §2.10 took
    from Xero) or its reference "1CRM <payment>" (one §2.6 made, whose credit note is then
    voided) — and the invoice owes the same on both sides."""
    with open_world("xero") as world:
        crm, app = CrmUser(world.library), XeroUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))
        ref = crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "2026-03-31")
        world.assert_balanced()
        assert crm.credit(ref, Decimal("5.00"), "2026-03-08")
        assert app.credit(ref, crm, Decimal("7.00"), "2026-03-07")
        world.assert_balanced()
        assert len(crm.synced_credits()) == 2
        for credit in crm.synced_credits():
            crm.delete_payment(credit)
        world.assert_balanced()
        assert crm.due(ref) == app.due(ref, crm) == Decimal("46.00")
        notes = {
            n["Reference"] or n["CreditNoteNumber"]: n
            for n in app.library.xero_records("CreditNotes")
        }
        statuses = sorted(n["Status"] for n in notes.values())
        assert statuses == ["AUTHORISED", "VOIDED"], statuses


def test_golden_credit_notes_voided_in_xero_take_their_credit_back_in_1crm():
    """Issue #20's Xero gaps: a Xero credit note voided after it was allocated (its
    allocation deleted first, as Xero requires) stayed a 1CRM credit, so 1CRM owed less than
    Xero. §2.10 now deletes the credit note's 1CRM credits whose allocation is gone, whether
    the credit note was made in Xero or by §2.6 for a 1CRM credit."""
    with open_world("xero") as world:
        crm, app = CrmUser(world.library), XeroUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))
        ref = crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "2026-03-31")
        world.assert_balanced()
        assert crm.credit(ref, Decimal("5.00"), "2026-03-08")
        assert app.credit(ref, crm, Decimal("7.00"), "2026-03-07")
        world.assert_balanced()
        notes = app.allocated_credit_notes()
        assert len(notes) == 2
        for note in notes:
            app.void_credit_note(note)
        world.assert_balanced()
        assert crm.due(ref) == app.due(ref, crm) == Decimal("46.00")
        assert world.library.crm_records("Payment") == []


def test_golden_a_persons_xero_call_refused_by_the_rate_limit_is_sent_again():
    """Found by the Xero soak (sequence 17, 143 actions in): a person's new contact in Xero,
    right after a sync, met Xero's limit of 60 calls a minute (429), which the sync's own
    calls had used up, and the person's change was lost. A person's script waits out
    Retry-After and sends the call again, as for 1CRM."""
    with open_world("xero") as world:
        world.accounting.fault(
            status=429, count=1, retry_after=1, method="PUT", path_prefix="/api.xro/2.0/Contacts"
        )
        XeroUser(world.library).create_customer("Tui, Kea Ltd 3", "t@books.example", "Nelson")
        assert [c["Name"] for c in world.library.xero_records("Contacts")] == ["Tui, Kea Ltd 3"]


def test_golden_a_1crm_payment_whose_write_back_waits_does_not_come_back():
    """Behind the QuickBooks soak's "payment 5: count: 1CRM 2 ≠ 1" (a payment twice in 1CRM,
    its invoice owing a payment less there; that sequence was not kept, this gives the same two
    differences, and the soak runs at 1CRM's rate limit): §3.6 created the QuickBooks payment,
    but 1CRM's rate limit refused the write-back of its Integrated ID (429), so the run waited
    to write it on its retry. §3.7 meanwhile took QuickBooks' Create event, found no 1CRM
    payment with that Integrated ID and brought the payment back as a second one; the retry
    then gave the original the same Integrated ID. §3.6 now marks the QuickBooks payment it
    makes ("1CRM payment …" in its private note) and §3.7 never brings such a payment back."""
    with open_world("quickbooks") as world:
        crm = CrmUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))
        ref = crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "2026-03-31")
        world.assert_balanced()
        assert crm.pay(ref, Decimal("10.00"), Decimal("12.50"), "2026-03-05")
        # The write-back refused past the connector's resends (1 + 3) and on the run's first
        # retry: §3.7 runs before it is written.
        world.library.onecrm.fault(
            status=429, count=5, retry_after=1, method="PATCH", path_prefix="/api.php/data/Payment"
        )
        world.assert_balanced()
        (payment,) = world.library.crm_records("Payment")
        (twin,) = world.library.qbo_records("Payment")
        assert payment["integrated_id"] == twin["Id"]
        assert crm.due(ref) == Decimal("36.00")


@pytest.mark.parametrize(("terms", "due"), [(None, "2026-03-01"), (20, "2026-03-21")])
def test_golden_a_1crm_invoice_without_a_due_date_keeps_its_lines(terms, due):
    """A 1CRM invoice sent without a due date (1CRM's field is optional): QuickBooks gives it
    one — its transaction date without sales terms, else what the terms give (vendor NOTES
    §5) — and §3.3 wrote only the Integrated ID back. §3.4 then compared 1CRM's empty due date
    with QuickBooks' on the invoice's own Create event, took it for an edit made in QuickBooks
    and rewrote the 1CRM invoice's lines as QuickBooks computed them: the person's price of
    33.33 less 12.5 % became a net unit price of 29.1633. §3.3 now writes QuickBooks' due date
    back with the Integrated ID (1CRM had none), as §2.3 does for Xero; §3.4 finds the two the
    same and writes nothing."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        world.library.quickbooks.control("config", {"default_terms_days": terms})
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        line = LineSpec("Advice", 3, Decimal("33.33"), Decimal(15), Decimal("12.5"))
        ref = crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "")
        world.assert_balanced()
        invoice, twin = crm.invoice(ref), app.invoice(ref, crm)
        assert invoice is not None and twin is not None
        assert str(invoice["due_date"])[:10] == twin["DueDate"] == due
        (kept,) = world.library.crm_records("InvoiceLine")
        assert money(kept["unit_price"]) == money("33.33")


def test_golden_an_invoice_edited_in_1crm_and_voided_in_quickbooks_between_syncs():
    """Found by the QuickBooks soak once 1CRM edits were drawn ("due_date: 1CRM '2026-04-30' ≠
    '2026-03-31'"): a QuickBooks invoice edited in 1CRM (new lines, due date) and, before the
    next sync, voided in QuickBooks. §3.10 leaves a voided invoice alone and §3.4's Void route
    cancelled the 1CRM invoice with its lines as voided but kept 1CRM's new due date. The void
    wins (it is the later, final state of the document): §3.4 now writes QuickBooks' due date
    with the voided lines."""
    machine = machine_for("quickbooks")()
    try:
        machine.create_customer(side="crm", name="Tui, Kea Ltd", city="Ōtautahi", phone="")
        machine.sync()
        lines = [
            LineSpec("Advice", 3, Decimal("1.17"), Decimal(0)),
            LineSpec("Widget", 2, Decimal("22.54"), Decimal(15), Decimal(10)),
        ]
        machine.app_invoice(Scripted("Tui, Kea Ltd 1", lines, "TaxInclusive", "NZD"), "2026-03-31")
        (invoice,) = machine.invoices
        machine.sync()
        edit = [LineSpec("Freight", 1, Decimal("0.68"), Decimal(15))]
        machine.crm_edit_invoice(Scripted(invoice, edit), "2026-04-30")
        machine.crm_payment(Scripted(invoice), over=1, share=54)  # not paid: edited
        machine.app_void_invoice(Scripted(invoice))
        assert invoice in machine.closed
        machine.sync()
        assert machine.crm.invoice(invoice)["due_date"][:10] == "2026-03-31"
    finally:
        machine.teardown()


def test_golden_1crm_credit_waits_for_a_payment_deletion_still_on_its_way_to_quickbooks():
    """Found by the QuickBooks soak (1CRM invoice 1003 owed 0.00, QuickBooks 68.17; the
    1CRM credit PMT-1004 never reached QuickBooks): a synced 1CRM payment of 20.19 deleted and,
    before the next sync, credit of what the invoice then owed given in 1CRM. §3.11 checked the
    QuickBooks invoice's balance before making the credit memo, but 3.8 had not deleted the
    QuickBooks twin of the payment yet, so QuickBooks owed 20.19 less than the credit: the
    check was a filter, and the credit stopped for good (Not Valid). The check is now the
    search itself (the invoice with Balance at least the credit; finding nothing is an error):
    the credit waits, Break retries it, and once 3.8 has deleted the payment it fits."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        line = LineSpec("Advice", 4, Decimal("20.90"), Decimal(15))
        ref = crm.create_invoice("Harakeke Ltd 1", [line], "AUD", "2026-03-31")
        assert crm.pay(ref, Decimal("20.19"), Decimal("20.19"), "2026-03-05")
        world.assert_balanced()
        assert app.credit(ref, crm, Decimal("19.60"), "2026-03-07")
        (payment,) = crm.synced_payments()
        crm.delete_payment(payment)
        owed = Decimal("96.14") - Decimal("19.60")
        assert crm.credit(ref, owed, "2026-03-08")
        world.assert_balanced()
        assert crm.due(ref) == app.due(ref, crm) == 0
        (memo,) = world.library.qbo_records("CreditMemo")[-1:]
        assert money(memo["TotalAmt"]) == owed


def test_golden_a_1crm_payment_whose_xero_write_back_waits_does_not_come_back():
    """As the QuickBooks golden above, for Xero: §2.6 created the Xero payment, 1CRM's rate
    limit refused the write-back of its Integrated ID (429) past the connector's resends, and
    §2.7 meanwhile took the new Xero payment, found no 1CRM payment with that Integrated ID and
    created a second one ("payment …: count: 1CRM 2 ≠ 1"). §2.6 then took the copy back once
    its write-back landed. Now §2.6 marks the Xero payment's Reference (`… [1CRM <payment>]`)
    and §2.7 never brings a marked payment back: the copy is never made (#20)."""
    with open_world("xero") as world:
        crm = CrmUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))
        ref = crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "2026-03-31")
        world.assert_balanced()
        assert crm.pay(ref, Decimal("10.00"), Decimal("12.50"), "2026-03-05")
        made = crm_payments_created(world)
        world.library.onecrm.fault(
            status=429, count=5, retry_after=1, method="PATCH", path_prefix="/api.php/data/Payment"
        )
        world.assert_balanced()
        (payment,) = world.library.crm_records("Payment")
        (twin,) = world.library.xero_records("Payments")
        assert payment["integrated_id"] == twin["PaymentID"]
        assert crm.due(ref) == Decimal("36.00")
        assert crm_payments_created(world) == made  # no copy, not even for a while


def crm_payments_created(world: World) -> int:
    """Payments 1CRM's API created (accepted POSTs of a Payment), whoever sent them."""
    return sum(
        r["method"] == "POST"
        and r["path"].startswith("/api.php/data/Payment")
        and r["status"] < 300
        for r in world.library.onecrm.state()["requests"]
    )


def test_golden_a_1crm_credit_whose_reference_holds_a_quote_is_taken_back_in_xero():
    """§2.9 built its Xero ``where`` from the 1CRM credit's reference unescaped: a reference
    with a double quote (`Ref "B" \\ 7`) broke the expression, Xero refused the search and the
    credit's deletion never reached Xero. The reference is now escaped as a Xero string."""
    with open_world("xero") as world:
        crm, app = CrmUser(world.library), XeroUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        line = LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))
        ref = crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "2026-03-31")
        world.assert_balanced()
        invoice = crm.invoice(ref)
        assert invoice is not None
        world.library.crm_person(
            "Payment",
            {
                "account_id": invoice["billing_account_id"],
                "amount": "5.00",
                "payment_date": "2026-03-08",
                "payment_type": "Credit Note",
                "customer_reference": 'Ref "B" \\ 7',
                "currency_id": invoice["currency_id"],
                "related_invoices": [{"invoice_id": invoice["id"], "amount": "5.00"}],
            },
        )
        world.assert_balanced()
        (credit,) = crm.synced_credits()
        crm.delete_payment(credit)
        world.assert_balanced()
        assert crm.due(ref) == app.due(ref, crm) == Decimal("46.00")


def test_golden_an_invoice_edited_in_1crm_and_voided_in_xero_between_syncs():
    """As the QuickBooks golden above, for Xero: an invoice edited in 1CRM (new lines, due
    date) and, before the next sync, voided in Xero. §2.11 leaves a voided invoice alone and
    §2.4's Void route cancelled the 1CRM invoice with its lines as voided but kept 1CRM's new
    due date. The void wins: §2.4 now writes Xero's due date with the voided lines."""
    machine = machine_for("xero")()
    try:
        machine.create_customer(side="crm", name="Tui, Kea Ltd", city="Ōtautahi", phone="")
        machine.sync()
        lines = [
            LineSpec("Advice", 3, Decimal("1.17"), Decimal(0)),
            LineSpec("Widget", 2, Decimal("22.54"), Decimal(15), Decimal(10)),
        ]
        machine.app_invoice(Scripted("Tui, Kea Ltd 1", lines, "Inclusive", "NZD"), "2026-03-31")
        (invoice,) = machine.invoices
        machine.sync()
        edit = [LineSpec("Freight", 1, Decimal("0.68"), Decimal(15))]
        machine.crm_edit_invoice(Scripted(invoice, edit), "2026-04-30")
        machine.app_void_invoice(Scripted(invoice))
        assert invoice in machine.closed
        machine.sync()
        assert machine.crm.invoice(invoice)["due_date"][:10] == "2026-03-31"
    finally:
        machine.teardown()


def test_golden_1crm_credit_waits_for_a_payment_deletion_still_on_its_way_to_xero():
    """As the QuickBooks golden above, for Xero (#20): a synced 1CRM payment deleted and,
    before the next sync, credit of what the invoice then owed given in 1CRM. §2.6 ran before
    §2.9 (1CRM's deletion webhook delivered late), so the Xero invoice still owed the payment
    less than the credit: §2.6's
    check was a filter, the credit stopped for good (Not Synced) and never reached Xero (1CRM
    owed 0.00, Xero the credit). The check is now the search itself (the AUTHORISED invoice
    with AmountDue at least the credit; finding nothing is an error): the credit waits, Break
    retries it, and once §2.9 has deleted the Xero payment it fits."""
    with open_world("xero") as world:
        crm, app = CrmUser(world.library), XeroUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        line = LineSpec("Advice", 4, Decimal("20.90"), Decimal(15))
        ref = crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "2026-03-31")
        assert crm.pay(ref, Decimal("20.19"), Decimal("20.19"), "2026-03-05")
        world.assert_balanced()
        (payment,) = crm.synced_payments()
        crm.delete_payment(payment)
        owed = Decimal("96.14")
        assert crm.credit(ref, owed, "2026-03-08")
        world.run_scenarios(first=("2.6",))
        assert [w[0] for w in world.waiting()] == ["2.6"]
        world.assert_balanced()
        assert crm.due(ref) == 0
        invoice = app.invoice(ref, crm)
        assert invoice is not None and money(invoice["AmountDue"]) == 0
        (note,) = world.library.xero_records("CreditNotes")
        assert money(note["Total"]) == owed


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_golden_a_1crm_credit_deleted_while_it_waits_is_never_written(library):
    """The credit of the goldens above waits (Break) for the payment's deletion to reach the
    accounting system; the person deletes the credit in 1CRM meanwhile. The deletion found
    nothing to take back (§2.9 / §3.8: no credit note yet) and the retry, resuming with the
    credit as 1CRM announced it, wrote it anyway: 1CRM owed the whole invoice, Xero and
    QuickBooks nothing. The retry now reads the 1CRM credit as it is before writing: deleted
    (404), the route ends and nothing is written."""
    with open_world(library) as world:
        crm = CrmUser(world.library)
        app = XeroUser(world.library) if library == "xero" else QuickBooksUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        line = LineSpec("Advice", 4, Decimal("20.90"), Decimal(15))
        ref = crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "2026-03-31")
        assert crm.pay(ref, Decimal("20.19"), Decimal("20.19"), "2026-03-05")
        world.assert_balanced()
        (payment,) = crm.synced_payments()
        crm.delete_payment(payment)
        assert crm.credit(ref, Decimal("96.14"), "2026-03-08")
        world.run_scenarios(first=("2.6",))  # 1CRM's deletion webhook delivered late
        (credit,) = crm.unsynced_payments()
        assert [w[0] for w in world.waiting()] == ["2.6" if library == "xero" else "3.11"]
        crm.delete_payment(credit)
        world.sync()
        if library == "xero":
            assert world.library.xero_records("CreditNotes") == []
        else:
            assert world.library.qbo_records("CreditMemo") == []
        assert crm.due(ref) == app.due(ref, crm) == Decimal("96.14")
        world.assert_balanced()


def test_golden_a_1crm_payment_deleted_while_it_waits_is_never_written_to_xero():
    """As the credit above, for an ordinary payment: a synced payment deleted and the whole
    invoice paid in 1CRM before the next sync. Xero refused the payment (more than the invoice
    owed until §2.9 took the first payment back) and Break waited on the write itself; the
    person deleted the payment meanwhile and the retry paid the Xero invoice anyway (1CRM owed
    96.14, Xero nothing). §2.6 now waits on a search for the Xero invoice that owes the payment
    and then reads the 1CRM payment as it is now before writing."""
    payment_deleted_while_it_waits("xero", "2.6")


def test_golden_a_1crm_payment_deleted_while_it_waits_is_never_written_to_quickbooks():
    """As the Xero golden above, for §3.6: QuickBooks refused the payment (more than the
    invoice's Balance until §3.8 took the first payment back) and Break waited on the write
    itself; the person deleted the payment meanwhile and the retry, resuming with the payment
    as 1CRM announced it, paid the QuickBooks invoice anyway (1CRM owed 96.14, QuickBooks
    nothing). §3.6 now waits on a search for the QuickBooks invoice that owes the payment and
    then reads the 1CRM payment as it is now before writing."""
    payment_deleted_while_it_waits("quickbooks", "3.6")


def payment_deleted_while_it_waits(library: str, scenario: str) -> None:
    """A synced 1CRM payment deleted and the whole invoice paid before the next sync, the
    deletion's webhook late: the new payment waits in ``scenario``; the person deletes it
    meanwhile, and nothing of it reaches the accounting system."""
    with open_world(library) as world:
        crm = CrmUser(world.library)
        app = XeroUser(world.library) if library == "xero" else QuickBooksUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        line = LineSpec("Advice", 4, Decimal("20.90"), Decimal(15))
        ref = crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "2026-03-31")
        assert crm.pay(ref, Decimal("20.19"), Decimal("20.19"), "2026-03-05")
        world.assert_balanced()
        (payment,) = crm.synced_payments()
        crm.delete_payment(payment)
        assert crm.pay(ref, Decimal("96.14"), Decimal("96.14"), "2026-03-08")
        world.run_scenarios(first=(scenario,))  # 1CRM's deletion webhook delivered late
        assert [w[0] for w in world.waiting()] == [scenario]
        (waiting,) = crm.unsynced_payments()
        crm.delete_payment(waiting)
        world.sync()
        assert crm.due(ref) == app.due(ref, crm) == Decimal("96.14")
        world.assert_balanced()


@pytest.mark.parametrize("paid_in", ["app", "crm"])
def test_golden_a_quickbooks_payment_edited_to_another_amount_is_followed_in_1crm(paid_in):
    """A synced payment whose line a person edits in QuickBooks to a smaller amount (entered
    too high): QuickBooks applies the new amount and the invoice owes the rest again. §3.7's
    *Payment updated* route only took a payment's invoice away: the 1CRM payment kept its
    old amount (1CRM owed 30.00 less than QuickBooks). It now allocates the 1CRM payment
    again as QuickBooks has it — its invoice owes the difference again, the payment takes
    QuickBooks' total — whether the payment came from QuickBooks or from 1CRM (§3.6)."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
        line = LineSpec("Advice", 4, Decimal("20.90"), Decimal(15))
        ref = crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "2026-03-31")
        world.assert_balanced()
        if paid_in == "app":
            assert app.pay(ref, crm, Decimal("50.00"), "2026-03-06", "")
        else:
            assert crm.pay(ref, Decimal("50.00"), Decimal("52.50"), "2026-03-06")
        world.assert_balanced()
        (payment,) = app.edited_payments()
        assert app.edit_payment(payment, Decimal("20.00")) == Decimal("50.00")
        world.assert_balanced()
        assert crm.due(ref) == app.due(ref, crm) == Decimal("76.14")
        (synced,) = world.library.crm_records("Payment")
        received = Decimal("20.00") if paid_in == "app" else Decimal("22.50")
        assert money(synced["amount"]) == received
        assert money(synced["total_amount"]) == Decimal("20.00")


def test_the_machine_s_quickbooks_people_edit_payments():
    """The machine's ``app_payment_edits`` replayed (the seeded sequences draw it seldom): a
    payment made in QuickBooks and one made in 1CRM (an over-payment: 2.50 unapplied), each
    lowered to a third in QuickBooks; the books balance."""
    machine = machine_for("quickbooks")()
    try:
        machine.create_customer(side="crm", name="Kauri & Rimu", city="Nelson", phone="")
        machine.sync()
        line = [LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))]
        for _ in range(2):
            machine.crm_invoice(Scripted("Kauri & Rimu 1", line, "NZD"), "2026-03-31")
        machine.sync()
        first, second = machine.invoices
        machine.app_payment(Scripted(first, ""), share=50)
        machine.crm_payment(Scripted(second), share=50, over=250)
        machine.sync()
        for payment in machine.app.edited_payments():
            machine.app_edit_payment(Scripted(payment), shares=[33, 33, 33])
        machine.sync()
        crm, app = machine.crm, machine.app
        assert crm.due(first) == app.due(first, crm) == Decimal("46.00") - Decimal("7.59")
        assert crm.due(second) == app.due(second, crm) == Decimal("46.00") - Decimal("7.59")
    finally:
        machine.teardown()


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_the_machine_s_people_pay_two_invoices_at_once_and_edit_payments(library):
    """The machine's ``crm_multi_payments`` and (QuickBooks) ``app_payment_edits`` of several
    lines, upward and downward, replayed (the seeded sequences draw them seldom): a 1CRM
    payment over two invoices; in QuickBooks its first line raised to 150 % (at most what
    the invoice may take) and its second lowered to a third; then the 1CRM payment deleted.
    The books balance after each sync."""
    machine = machine_for(library)()
    try:
        machine.create_customer(side="crm", name="Kauri & Rimu", city="Nelson", phone="")
        machine.sync()
        line = [LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))]  # 46.00
        for _ in range(2):
            machine.crm_invoice(Scripted("Kauri & Rimu 1", line, "NZD"), "2026-03-31")
        machine.sync()
        first, second = machine.invoices
        machine.crm_multi_payment(Scripted(first, second), shares=(50, 25))  # 23.00, 11.50
        machine.sync()
        crm, app = machine.crm, machine.app
        assert crm.due(first) == app.due(first, crm) == Decimal("23.00")
        assert crm.due(second) == app.due(second, crm) == Decimal("34.50")
        if isinstance(app, QuickBooksUser):
            (payment,) = app.edited_payments()
            machine.app_edit_payment(Scripted(payment), shares=[150, 33, 100])
            machine.sync()
            assert crm.due(first) == app.due(first, crm) == Decimal("11.50")  # 34.50 paid
            assert crm.due(second) == app.due(second, crm) == Decimal("42.20")  # 3.80 paid
        (paid,) = crm.synced_payments()
        crm.delete_payment(paid)
        machine.sync()
        assert crm.due(first) == app.due(first, crm) == Decimal("46.00")
        assert crm.due(second) == app.due(second, crm) == Decimal("46.00")
    finally:
        machine.teardown()


# -- goldens: quotes (books-quotes) -----------------------------------------------------------


def is_answered(quote: dict) -> bool:
    """Whether a Xero quote holds a customer's answer a person may take back."""
    return quote.get("Status") in ("ACCEPTED", "DECLINED")


QUOTE_LINES = [LineSpec("Widget", 3, Decimal("33.33"), Decimal(15), Decimal("12.5"))]


@contextmanager
def synced_quotes(library: str, currencies: tuple[str, ...] = ("NZD",)) -> Iterator[BooksMachine]:
    """A books machine with a customer made in 1CRM and one 1CRM quote of ``QUOTE_LINES`` per
    currency, synced; the books checked at the end."""
    machine = machine_for(library)()
    try:
        machine.create_customer(side="crm", name="Kauri & Rimu", city="Napier", phone="")
        machine.sync()
        for currency in currencies:
            machine.crm_quote(Scripted("Kauri & Rimu 1", QUOTE_LINES, currency), "2026-04-30")
        machine.sync()
        yield machine
    finally:
        machine.teardown()


def test_golden_a_1crm_quote_reaches_quickbooks_with_its_discounts_and_currency():
    """Found by the machine's quotes: §3.5a sent each 1CRM line's list price (its discount
    lost: 87.49 became 99.99) and no currency (a USD quote became an NZD estimate). It now
    sends each line's net amount after its discount, as §3.3 does, and the quote's currency
    and rate."""
    machine = machine_for("quickbooks")()
    try:
        machine.create_customer(side="crm", name="Kauri & Rimu", city="Napier", phone="")
        machine.sync()
        lines = [
            LineSpec("Widget", 3, Decimal("33.33"), Decimal(15), Decimal("12.5")),
            LineSpec("Advice", 1, Decimal("40.05"), Decimal(0)),
        ]
        machine.crm_quote(Scripted("Kauri & Rimu 1", lines, "USD"), "2026-04-30")
        machine.sync()
        (estimate,) = machine.world.library.qbo_records("Estimate")
        assert (estimate["CurrencyRef"]["value"], estimate["TotalAmt"]) == ("USD", 140.66)
    finally:
        machine.teardown()


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_golden_a_quote_edited_in_1crm_is_edited_on_the_other_side(library):
    """Found by the machine's quote edits: §2.5 and §3.5a run on 1CRM's Quote create events
    only, so a quote edited in 1CRM after it was sent kept its first lines and expiry in Xero
    and QuickBooks. §2.12 and §3.13 now take the edit: the quote whose reference (private
    note) is ``1CRM <number>`` gets the new lines."""
    with synced_quotes(library) as machine:
        (quote,) = crm_quotes(machine.crm)
        machine.crm_edit_quote(Scripted(quote, QUOTE_LINES * 2), "2026-03-31")
        machine.sync()
        if library == "xero":
            (xero,) = machine.world.library.xero_records("Quotes")
            assert money(xero["Total"]) == money("201.22")
        else:
            (estimate,) = machine.world.library.qbo_records("Estimate")
            assert money(estimate["TotalAmt"]) == money("201.22")


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_golden_a_1crm_invoice_changed_and_deleted_between_syncs_is_not_left_waiting(library):
    """Found by the QuickBooks soak ("records left behind: 3.10, module 2, 1CRM: Not found"):
    a synced 1CRM invoice whose payment was deleted — an update 2.11 and 3.10 take, as any
    change of a synced invoice — and that was then deleted, before the next sync. 2.11 and
    3.10 read the invoice as it is now, got 404 and kept the record to retry (Break) until it
    needed attention; the deletion itself is 2.8's and 3.9's. A 404 there now ends the route
    quietly, as in 2.3."""
    with open_world(library) as world:
        crm = CrmUser(world.library)
        crm.create_customer("Kauri & Rimu 1", "k@books.example", "Napier")
        world.assert_balanced()
        line = LineSpec("Advice", 1, Decimal("4.47"), Decimal(0))
        ref = crm.create_invoice("Kauri & Rimu 1", [line], "NZD", "2026-03-31")
        world.assert_balanced()
        assert crm.pay(ref, Decimal("1.47"), Decimal("26.47"), "2026-03-05")
        world.assert_balanced()
        assert crm.clear_invoice(ref) == 1
        assert crm.delete_invoice(ref)
        world.assert_balanced()
        assert world.library.crm_records("Invoice") == []


def test_golden_the_machine_s_1crm_person_edits_only_quotes_made_in_1crm():
    """Found by the QuickBooks soak ("quote QUO-1001: subtotal: 1CRM 84.63 ≠ 1663.97"), a
    harness defect: the machine's 1CRM person edited the quote §3.5b had brought from a
    QuickBooks estimate. The library keeps a quote's lines on the side that made it (§3.13
    sends 1CRM's own quotes, §3.5b QuickBooks' own estimates; the machine's QuickBooks
    person already edited only estimates made there), so that edit stayed in 1CRM. The
    person now edits in 1CRM only quotes made in 1CRM (``crm_made_quotes``)."""
    machine = machine_for("quickbooks")()
    try:
        machine.create_customer(side="app", name="Kauri & Rimu", city="Nelson", phone="")
        machine.sync()
        lines = [LineSpec("Widget", 4, Decimal("2.15"), Decimal(15), Decimal(10))]
        machine.app_quote(Scripted("Kauri & Rimu 1", lines, "TaxInclusive", "NZD"), "2026-04-30")
        machine.sync()
        (brought,) = crm_quotes(machine.crm)
        assert crm_made_quotes(machine.crm) == []
        edited = [LineSpec("Advice", 3, Decimal("4.14"), Decimal(15), Decimal(10))]
        machine.crm_edit_quote(Scripted(brought, edited), "2026-03-31")  # draws nothing now
        machine.sync()
    finally:
        machine.teardown()


def test_golden_an_estimate_edited_in_quickbooks_is_edited_in_1crm():
    """The machine's ``app_quote_edits``: §3.5b ran on QuickBooks' Create events only, so an
    estimate edited there kept its first lines and expiry in 1CRM (reconcile: a difference).
    It now rewrites the quote named "QuickBooks estimate <number>" on Update too, made and
    edited before one sync, or edited after it; §3.13 does not send the rewrite back."""
    machine = machine_for("quickbooks")()
    try:
        machine.create_customer(side="app", name="Kauri & Rimu", city="Nelson", phone="")
        machine.sync()
        lines = [LineSpec("Widget", 3, Decimal("33.33"), Decimal(15), Decimal("12.5"))]
        machine.app_quote(Scripted("Kauri & Rimu 1", lines, "TaxInclusive", "NZD"), "2026-04-30")
        machine.sync()
        (estimate,) = qbo_estimates(machine.app, ["Kauri & Rimu 1"])
        edited = [*lines, LineSpec("Advice", 1, Decimal("40.05"), Decimal(0))]
        machine.app_edit_quote(Scripted(estimate, edited), "2026-03-31")
        machine.sync()
        (quote,) = machine.world.library.crm_records("Quote")
        (now,) = [e for e in machine.world.library.qbo_records("Estimate") if e["Id"] == estimate]
        assert str(quote["valid_until"]).startswith("2026-03-31")
        assert money(quote["amount"]) == money(now["TotalAmt"])  # balanced: the sync checks
    finally:
        machine.teardown()


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_golden_a_quote_answered_in_1crm_is_answered_on_the_other_side(library):
    """The machine's ``quote_statuses`` (1CRM side): a quote accepted in 1CRM stayed a DRAFT
    Xero quote (a Pending estimate), and one declined there too — reconcile listed the two
    statuses. §2.12 now marks the Xero quote sent and accepts or declines it (Xero answers
    only a sent quote); §3.13 sets the estimate's TxnStatus, also of an estimate that came
    from QuickBooks."""
    with synced_quotes(library, ("NZD", "USD")) as machine:
        if library == "quickbooks":
            estimate = Scripted("Kauri & Rimu 1", QUOTE_LINES, "TaxExcluded", "NZD")
            machine.app_quote(estimate, "2026-04-30")
            machine.sync()
        quotes = sorted(crm_quotes(machine.crm))
        for quote, accepted in zip(quotes, [True, False, True], strict=False):
            machine.quote_status(Scripted(quote), side="crm", accepted=accepted)
        machine.sync()
        if library == "xero":
            statuses = [q["Status"] for q in machine.world.library.xero_records("Quotes")]
            assert sorted(statuses) == ["ACCEPTED", "DECLINED"]
        else:
            statuses = [e["TxnStatus"] for e in machine.world.library.qbo_records("Estimate")]
            assert sorted(statuses) == ["Accepted", "Accepted", "Rejected"]


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_golden_a_quote_answered_in_the_accounting_system_is_answered_in_1crm(library):
    """The machine's ``quote_statuses`` (the accounting side): a quote §2.5 or §3.5a sent,
    accepted or declined in Xero or QuickBooks, kept its open stage in 1CRM — no scenario
    took Xero quotes back at all. §2.13 polls Xero's quotes and §3.5b takes an estimate's
    TxnStatus (of one from 1CRM too), setting the stage only when the statuses differ: the
    1CRM update they make reaches §2.12 and §3.13, which find both the same (no loop)."""
    with synced_quotes(library, ("NZD", "NZD")) as machine:
        books = machine.world.library
        if library == "xero":
            ids = sorted(q["QuoteID"] for q in books.xero_records("Quotes"))
        else:
            ids = sorted(e["Id"] for e in books.qbo_records("Estimate"))
        for quote, accepted in zip(ids, [True, False], strict=True):
            machine.quote_status(Scripted(quote), side="app", accepted=accepted)
        machine.sync()
        stages = sorted(q["quote_stage"] for q in books.crm_records("Quote"))
        assert stages == ["Closed Accepted", "Closed Lost"]


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_a_quote_answered_differently_on_both_sides_between_syncs_ends_the_same_on_both(library):
    """The conflict rule of scenarios/README.md (*Quotes*, Statuses): accepted in 1CRM and
    declined in the accounting system before the next sync, the quote ends with one answer on
    both sides (reconcile, at teardown) and the sync quiesces. Which answer is the one the
    library sees first — 1CRM's when its webhook is in before the poll; which one is not
    asserted, as it depends on when the webhook arrives."""
    with synced_quotes(library) as machine:
        (quote,) = crm_quotes(machine.crm)
        books = machine.world.library
        if library == "xero":
            (twin,) = [q["QuoteID"] for q in books.xero_records("Quotes")]
        else:
            (twin,) = [e["Id"] for e in books.qbo_records("Estimate")]
        machine.quote_status(Scripted(quote), side="crm", accepted=True)
        machine.quote_status(Scripted(twin), side="app", accepted=False)
        machine.sync()
        (stage,) = [q["quote_stage"] for q in books.crm_records("Quote")]
        assert stage in ("Closed Accepted", "Closed Lost")


def answered_twin(machine: BooksMachine, library: str) -> str:
    """The id of the one quote's twin in the accounting system (Xero quote or estimate)."""
    books = machine.world.library
    if library == "xero":
        (twin,) = [q["QuoteID"] for q in books.xero_records("Quotes")]
    else:
        (twin,) = [e["Id"] for e in books.qbo_records("Estimate")]
    return twin


def twin_status(machine: BooksMachine, library: str) -> str:
    books = machine.world.library
    if library == "xero":
        (status,) = [q["Status"] for q in books.xero_records("Quotes")]
    else:
        (status,) = [e["TxnStatus"] for e in books.qbo_records("Estimate")]
    return str(status)


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_golden_a_quote_decision_taken_back_in_1crm_is_taken_back_on_the_other_side(library):
    """A quote accepted in 1CRM by mistake and set back to Delivered: §2.12/§3.13 had sent the
    acceptance and sent no stage back to open, so Xero kept ACCEPTED (QuickBooks Accepted)
    and reconcile listed the status. The noted decision is now taken back: SENT / Pending,
    and §2.13/§3.5b find the two open (no loop; reconcile at teardown)."""
    with synced_quotes(library) as machine:
        (quote,) = crm_quotes(machine.crm)
        machine.quote_status(Scripted(quote), side="crm", accepted=True)
        machine.sync()
        assert twin_status(machine, library) in ("ACCEPTED", "Accepted")
        machine.take_back_quote(Scripted(quote), side="crm")
        machine.sync()
        assert twin_status(machine, library) in ("SENT", "Pending")


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_golden_a_quote_decision_taken_back_in_the_accounting_system_is_taken_back_in_1crm(
    library,
):
    """A quote declined in Xero (QuickBooks) and brought to 1CRM as *Closed Lost*, then taken
    back there (SENT, Pending): §2.13/§3.5b sent no open status, so 1CRM kept *Closed Lost*.
    The 1CRM quote now goes back to *Delivered*; §2.12/§3.13 find the two open."""
    with synced_quotes(library) as machine:
        twin = answered_twin(machine, library)
        machine.quote_status(Scripted(twin), side="app", accepted=False)
        machine.sync()
        (stage,) = [q["quote_stage"] for q in machine.world.library.crm_records("Quote")]
        assert stage == "Closed Lost"
        machine.take_back_quote(Scripted(twin), side="app")
        machine.sync()
        (stage,) = [q["quote_stage"] for q in machine.world.library.crm_records("Quote")]
        assert stage == "Delivered"


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_a_decision_taken_back_on_both_sides_and_given_again_reaches_the_other_side(library):
    """The note of a carried decision goes once both sides are open again: a quote accepted,
    then taken back in 1CRM and in the accounting system before one sync, then accepted again
    in 1CRM. With the old note left, §2.12/§3.13 took the new acceptance for the one already
    carried and sent nothing (1CRM accepted, Xero SENT / QuickBooks Pending)."""
    with synced_quotes(library) as machine:
        (quote,) = crm_quotes(machine.crm)
        twin = answered_twin(machine, library)
        machine.quote_status(Scripted(quote), side="crm", accepted=True)
        machine.sync()
        machine.take_back_quote(Scripted(quote), side="crm")
        machine.take_back_quote(Scripted(twin), side="app")
        machine.sync()
        machine.quote_status(Scripted(quote), side="crm", accepted=True)
        machine.sync()
        assert twin_status(machine, library) in ("ACCEPTED", "Accepted")


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_an_answer_in_the_accounting_system_is_not_taken_back_by_a_1crm_edit(library):
    """Only a decision the library carried is taken back: a quote accepted in Xero
    (QuickBooks) and edited in 1CRM before the next sync is an open 1CRM quote beside an
    accepted twin, not a decision taken back in 1CRM — the acceptance reaches 1CRM."""
    with synced_quotes(library) as machine:
        (quote,) = crm_quotes(machine.crm)
        machine.quote_status(Scripted(answered_twin(machine, library)), side="app", accepted=True)
        edited = [LineSpec("Advice", 2, Decimal("40.05"), Decimal(15))]
        machine.crm_edit_quote(Scripted(quote, edited), "2026-05-31")
        machine.sync()
        (stage,) = [q["quote_stage"] for q in machine.world.library.crm_records("Quote")]
        assert stage == "Closed Accepted"
        assert twin_status(machine, library) in ("ACCEPTED", "Accepted")


def test_golden_a_quote_moved_to_another_account_is_edited_on_its_new_contact():
    """§2.12 searched the Xero quote among the quotes of the webhook's billing account — the
    account the quote had when the event was made — while it wrote the lines as the quote is
    now: a quote moved to another account kept its old Xero contact (reconcile: the
    customer differs) and its later edits looked among the wrong contact's quotes. §2.12 now
    reads the quote first, finds the Xero quote by its reference among the quotes of the day
    it was entered (whichever contact it is on) and writes the contact of the account now."""
    machine = machine_for("xero")()
    try:
        for name in ("Kauri & Rimu", "Totara Ltd"):
            machine.create_customer(side="crm", name=name, city="Napier", phone="")
        machine.sync()
        machine.crm_quote(Scripted("Kauri & Rimu 1", QUOTE_LINES, "NZD"), "2026-04-30")
        machine.sync()
        (quote,) = crm_quotes(machine.crm)
        (_, moved_to) = machine.customers
        account = machine.crm.account_id(moved_to)
        machine.world.library.crm_edit("Quote", quote, {"billing_account_id": account})
        edited = [LineSpec("Advice", 2, Decimal("40.05"), Decimal(15))]
        machine.crm_edit_quote(Scripted(quote, edited), "2026-05-31")
        machine.sync()
        (moved,) = machine.world.library.xero_records("Quotes")
        assert moved["Contact"]["Name"] == moved_to
    finally:
        machine.teardown()


def test_golden_paid_invoices_closed_and_credit_taken_back_in_the_quickbooks_machine():
    """The books machine's QuickBooks actions added for paid invoices and credit, in one
    sequence (the seeded runs draw them rarely): credit applied with money in one QuickBooks
    payment, a paid QuickBooks invoice voided, a paid 1CRM invoice cancelled and a credit memo
    deleted. On main QuickBooks' payment of money and credit reached 1CRM neither way, and the
    1CRM payments stayed allocated to the closed invoices."""
    machine = machine_for("quickbooks")()
    try:
        machine.create_customer(side="app", name="Kauri & Rimu", city="Nelson", phone="")
        machine.sync()
        line = [LineSpec("Freight", 2, Decimal("20.00"), Decimal(15))]
        machine.app_invoice(Scripted("Kauri & Rimu 1", line, "TaxExcluded", "NZD"), "2026-03-31")
        machine.crm_invoice(Scripted("Kauri & Rimu 1", line, "NZD"), "2026-03-31")
        machine.app_invoice(Scripted("Kauri & Rimu 1", line, "TaxInclusive", "NZD"), "2026-03-31")
        voided, cancelled, credited = machine.invoices
        machine.sync()
        machine.app_credit_note(Scripted(voided), share=25, paid=50)  # 11.50 and 17.25
        machine.crm_payment(Scripted(cancelled), share=50, over=0)
        machine.app_credit_note(Scripted(credited), share=10)
        machine.sync()
        assert machine.crm.due(voided) == Decimal("17.25")
        machine.app_void_invoice(Scripted(voided))
        machine.crm_cancel_invoice(Scripted(cancelled), delete=False)
        assert {voided, cancelled} <= machine.closed
        *_, memo = machine.app.credit_memos()  # the one applied to ``credited``
        machine.app_delete_credit_memo(Scripted(memo))
        machine.sync()
        invoice = machine.app.invoice(credited, machine.crm)
        assert invoice is not None
        owed = money(invoice["TotalAmt"])
        assert machine.crm.due(credited) == machine.app.due(credited, machine.crm) == owed
    finally:
        machine.teardown()


def test_golden_a_quickbooks_credit_taken_back_before_its_first_sync_makes_no_1crm_payment():
    """Found by the QuickBooks soak once credit memos were deleted ("payment PMT-1002: exists:
    1CRM True ≠ False"): credit applied in QuickBooks and its credit memo deleted before the
    library synced. The payment that applied it was left a 0.00 payment linking nothing, and
    §3.7, whose condition was "money, or no credit memo lines", made it a 1CRM payment of 0.00
    paying nothing. §3.7 now writes only a payment that received money (TotalAmt above 0);
    such a payment is nothing to either side."""
    with open_world("quickbooks") as world:
        crm, app = CrmUser(world.library), QuickBooksUser(world.library)
        app.create_customer("Māori Arts Trust 1", "m@books.example", "Ōtautahi")
        line = LineSpec("Advice", 5, Decimal("1.84"), Decimal(0))
        ref = app.create_invoice("Māori Arts Trust 1", [line], "NotApplicable", "2026-03-31")
        assert app.credit(ref, crm, Decimal("2.30"), "2026-03-07")
        (memo,) = app.credit_memos()
        assert app.delete_credit_memo(memo)
        world.assert_balanced()
        assert world.library.crm_records("Payment") == []
        assert crm.due(ref) == app.due(ref, crm) == Decimal("9.20")


def test_the_machine_s_people_clear_paid_invoices_before_changing_them():
    """The machine's paid-invoice rules, replayed (the seeded sequences draw them seldom): an
    invoice paid and credited on both sides, then voided in Xero once cleared; another edited
    in 1CRM once cleared; a third cancelled in 1CRM once cleared — and unallocated credit on
    both sides. The books balance, the free credit a known difference."""
    machine = machine_for("xero")()
    try:
        machine.create_customer(side="crm", name="Kauri & Rimu", city="Nelson", phone="")
        machine.sync()
        line = [LineSpec("Widget", 2, Decimal("20.00"), Decimal(15))]
        for _ in range(3):
            machine.crm_invoice(Scripted("Kauri & Rimu 1", line, "NZD"), "2026-03-31")
        machine.sync()
        voided, edited, cancelled = machine.invoices
        for invoice in machine.invoices:
            machine.crm_payment(Scripted(invoice), share=25, over=0)
            machine.app_payment(Scripted(invoice, ""), share=25)
            machine.app_credit_note(Scripted(invoice), share=10)
        machine.crm_unallocated_credit(Scripted(edited), share=10, allocated=0)
        machine.app_unallocated_credit_note(Scripted(cancelled), share=10, allocated=50)
        machine.sync()
        machine.app_change_paid_invoice(Scripted(voided), void=True, due="2026-03-31")
        edit = [LineSpec("Advice", 1, Decimal("12.50"), Decimal(0))]
        machine.crm_change_paid_invoice(Scripted(edited, edit), cancel=False, due="2026-04-30")
        machine.crm_change_paid_invoice(Scripted(cancelled), cancel=True, due="2026-03-31")
        assert {voided, cancelled} <= machine.closed and edited in machine.edited
        machine.sync()
        crm, app = machine.crm, machine.app
        assert crm.due(edited) == app.due(edited, crm) == Decimal("12.50")
        assert [app.invoice(i, crm)["Status"] for i in (voided, cancelled)] == ["VOIDED"] * 2
        known = [d for d in machine.world.differences() if d.known]
        assert [d.kind for d in known] == ["credit"]
    finally:
        machine.teardown()


PAYMENT_SCENARIOS = {"xero": ("2.6",), "quickbooks": ("3.6", "3.11")}
"""The scenarios that send 1CRM payments and credits to each library."""


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_golden_a_1crm_payment_made_before_its_invoice_is_synced_waits_for_it(library):
    """A 1CRM invoice paid and credited at once, the payment scenarios' webhooks handled before
    the invoice's (§2.3 / §3.3 had not written the invoice's Integrated ID back): §2.6, §3.6
    and §3.11 stopped at "invoice synced" and the payment and credit were dropped — 1CRM owed
    65.95, the accounting system 96.14, and nothing waited. They now wait (Break, with backoff)
    until the invoice is in the accounting system, then are written."""
    with open_world(library) as world:
        crm = CrmUser(world.library)
        app = XeroUser(world.library) if library == "xero" else QuickBooksUser(world.library)
        ref = paid_and_credited_before_its_sync(world, crm)
        world.run_scenarios(first=PAYMENT_SCENARIOS[library])  # the invoice's webhook late
        assert sorted(w[0] for w in world.waiting()) == sorted(
            ["2.6", "2.6"] if library == "xero" else ["3.11", "3.6"]
        )
        world.assert_balanced()
        assert crm.due(ref) == app.due(ref, crm) == Decimal("65.95")


@pytest.mark.parametrize("library", ["xero", "quickbooks"])
def test_golden_a_1crm_payment_on_an_invoice_never_synced_needs_attention(library):
    """A payment and a credit on a 1CRM invoice that never reaches the accounting system (its
    scenario never takes it): they were dropped without a word (the sync log's "Not Valid").
    They wait, and after the last attempt the sync log shows them as needing attention."""
    with open_world(library) as world:
        paid_and_credited_before_its_sync(world, CrmUser(world.library))
        library_ = world.library
        library_.onecrm.flush_webhooks()
        for prefix in PAYMENT_SCENARIOS[library]:  # the invoice's scenario never runs
            world.drain(library_.hook(world.scenarios[prefix]).id)
        for _ in range(10):
            world.retry_waiting()
        entries = [
            entry
            for prefix in PAYMENT_SCENARIOS[library]
            for entry in library_.service.sync_log(world.scenarios[prefix])
            if entry.status != "Not Valid"  # 3.6 leaves credits to 3.11, and 3.11 payments
        ]
        assert len(entries) == 2, [(e.status, e.message) for e in entries]
        for entry in entries:
            assert entry.status == "Error", entry.message
            assert "needs attention: after 8 retries" in entry.message
            assert "has no integrated_id (yet)" in entry.message
        assert len(world.waiting()) == 2


def paid_and_credited_before_its_sync(world: World, crm: CrmUser) -> Ref:
    """A synced customer's new 1CRM invoice (96.14), paid 20.19 and credited 10.00 before
    any scenario has seen it."""
    crm.create_customer("Harakeke Ltd 1", "h@books.example", "Napier")
    world.assert_balanced()
    line = LineSpec("Advice", 4, Decimal("20.90"), Decimal(15))
    ref = crm.create_invoice("Harakeke Ltd 1", [line], "NZD", "2026-03-31")
    assert crm.pay(ref, Decimal("20.19"), Decimal("20.19"), "2026-03-05")
    assert crm.credit(ref, Decimal("10.00"), "2026-03-06")
    return ref


def test_the_quickbooks_machine_s_free_credit_memo_voids_and_paid_edits():
    """The books machine's QuickBooks actions added for free credit, credit memo voids and
    paid invoices edited as they are, in one sequence (the seeded runs draw them rarely):
    a credit memo applied in half and a 1CRM credit on no invoice (known differences), a
    paid invoice edited in QuickBooks and one edited in 1CRM with their payments still on
    them, and a credit memo voided in QuickBooks' screens."""
    machine = machine_for("quickbooks")()
    try:
        machine.create_customer(side="crm", name="Tui, Kea Ltd", city="Nelson", phone="")
        machine.sync()
        line = [LineSpec("Advice", 2, Decimal("20.00"), Decimal(15))]  # 46.00
        machine.app_invoice(Scripted("Tui, Kea Ltd 1", line, "TaxExcluded", "NZD"), "2026-03-31")
        machine.crm_invoice(Scripted("Tui, Kea Ltd 1", line, "NZD"), "2026-03-31")
        machine.app_invoice(Scripted("Tui, Kea Ltd 1", line, "TaxExcluded", "NZD"), "2026-03-31")
        in_app, in_crm, credited = machine.invoices
        machine.sync()
        machine.app_payment(Scripted(in_app, ""), share=50)  # 23.00
        machine.crm_payment(Scripted(in_crm), share=50, over=0)  # 23.00
        machine.app_unallocated_credit_note(Scripted(credited), share=20, allocated=50)
        machine.crm_unallocated_credit(Scripted(credited), share=10, allocated=0)
        machine.app_credit_note(Scripted(credited), share=10)
        machine.sync()
        more = [LineSpec("Freight", 3, Decimal("30.00"), Decimal(0))]  # 90.00
        machine.edit_paid_invoice(Scripted(in_app, more), side="crm", due="2026-04-30")
        machine.edit_paid_invoice(Scripted(in_crm, more), side="app", due="2026-04-30")
        assert {in_app, in_crm} <= machine.edited
        memo = max(machine.app.credit_memos(), key=int)  # the one applied in full
        machine.app_void_credit_memo(Scripted(memo))
        machine.sync()
        for ref in (in_app, in_crm):
            assert machine.crm.due(ref) == machine.app.due(ref, machine.crm) == Decimal("67.00")
        assert [str(d) for d in machine.world.differences() if d.kind != "credit"] == []
        assert [d.known for d in machine.world.differences()] == [UNALLOCATED_CREDIT_RULE]
    finally:
        machine.teardown()
