"""Two sides' books compared record by record: every difference, named.

``compare(library, crm_side, accounting_side)`` pairs records and lists what differs:

- **customers** by name: a name on one side only, a name twice on one side, and each field;
- **invoices** by the accounting system's invoice id (1CRM: the Integrated ID): an invoice on
  one side only (a 1CRM invoice without an Integrated ID was never synced; a Xero draft or an
  invoice voided before it was synced is not expected in 1CRM), an id twice in 1CRM, and the
  customer, dates, currency, status, lines, totals and amount due;
- **payments** by the accounting system's id (1CRM: the payment's Integrated ID), else by kind,
  date and allocations: one side only, twice in 1CRM, and the date, allocations and — where
  the accounting system keeps what was received (QuickBooks) — the amount;
- **quotes** by their origin (``1CRM <number>``, ``QuickBooks estimate <number>``): a quote
  on one side only (a Xero quote is not synced to 1CRM: one made there is not expected), a
  quote twice on one side, and the customer, dates, expiry, currency, status, lines and
  totals. A quote's difference is keyed by the accounting system's id when it has the quote,
  else by 1CRM's, the ids its sync-log entries know it by;
- **unallocated credit** by customer and currency: what each side's credit notes (1CRM:
  payments of type Credit Note; QuickBooks: credit memos) allocate to no invoice, and where
  the accounting system keeps it (QuickBooks' ``UnappliedAmt``) the money payments received
  and applied to no invoice. A library that does not sync free credit lists each such
  difference as **known** (``Difference.known`` names the rule): shown, but the books
  balance without it. Where it is compared, a credit's amount is what it allocates (the rest
  is that free credit).

What each library compares is its ``Rules``; the accounting rules themselves are in
``scenarios/README.md``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, TypeVar

from modules.reconcile.books import (
    ACCEPTED,
    CREDIT,
    DRAFT,
    INVOICED,
    PAYMENT,
    VOID,
    Books,
    Credit,
    Customer,
    Invoice,
    Line,
    Payment,
    Quote,
)

CUSTOMER_FIELDS = (
    "name",
    "email",
    "phone",
    "website",
    "street",
    "city",
    "region",
    "postcode",
    "country",
)
INVOICE_FIELDS = (
    "customer",
    "date",
    "due_date",
    "currency",
    "rate",
    "status",
    "subtotal",
    "tax",
    "total",
    "amount_due",
)
QUOTE_FIELDS = (
    "customer",
    "date",
    "expiry",
    "currency",
    "rate",
    "status",
    "subtotal",
    "tax",
    "total",
)


@dataclass(frozen=True)
class Difference:
    """One way the two sides disagree.

    Attributes:
        kind: ``customer``, ``invoice``, ``payment`` or ``quote``.
        key: the record's key (a customer's name; the accounting system's invoice or payment
            id, ``""`` for a 1CRM record never synced).
        label: what people call it (``INV-0003``, ``PMT-1004``, the customer's name).
        field: the field that differs; ``exists`` when the record is on one side only,
            ``count`` when it is there more than once.
        crm: the 1CRM value.
        accounting: the accounting system's value.
        known: the rule by which the library leaves this difference (``""``: a defect).
    """

    kind: str
    key: str
    label: str
    field: str
    crm: Any
    accounting: Any
    known: str = ""

    def __str__(self) -> str:
        found = f"{self.kind} {self.label}: {self.field}: 1CRM {self.crm!r} ≠ {self.accounting!r}"
        return f"{found} (known: {self.known})" if self.known else found


@dataclass(frozen=True)
class Rules:
    """What one library compares."""

    customer_fields: tuple[str, ...]
    invoice_fields: tuple[str, ...]
    line_fields: tuple[str, ...]
    payment_amounts: bool
    """Whether the amount received is compared (not only where it went)."""
    quote_fields: tuple[str, ...] = QUOTE_FIELDS
    unallocated_credit: str | None = None
    """The known-difference rule of unallocated credit (the library does not sync it);
    ``None``: not compared."""
    unapplied_money: bool = False
    """Whether money received and applied to no invoice counts in the customer's free credit
    (QuickBooks keeps it on the payment, ``UnappliedAmt``; Xero keeps an over-payment as a
    bank transaction the library does not read)."""


UNALLOCATED_CREDIT_RULE = (
    "credit allocated to no invoice is not synced: allocate it to an invoice in either system "
    "(scenarios/README.md, Unallocated credit)"
)


RULES: dict[str, Rules] = {
    # Xero keeps each line's tax; a payment pays one invoice, and over-payments are bank
    # transactions the library does not write: what a 1CRM payment allocates is compared.
    "xero": Rules(
        CUSTOMER_FIELDS,
        INVOICE_FIELDS,
        ("description", "quantity", "net", "tax"),
        False,
        unallocated_credit=UNALLOCATED_CREDIT_RULE,
    ),
    # QuickBooks keeps tax per rate, not per line (a line's share is derived), and has no
    # exchange-rate convention in common with 1CRM: tax is compared on the document.
    "quickbooks": Rules(
        CUSTOMER_FIELDS,
        tuple(f for f in INVOICE_FIELDS if f != "rate"),
        ("description", "quantity", "net"),
        True,
        # A 1CRM quote has no date of its own (its date is when it was entered, which 3.5a
        # sends): an estimate's TxnDate cannot be kept in 1CRM, nor a rate compared.
        tuple(f for f in QUOTE_FIELDS if f not in ("date", "rate")),
        unallocated_credit=UNALLOCATED_CREDIT_RULE,
        unapplied_money=True,
    ),
}


def compare(library: str, crm_side: Books, accounting_side: Books) -> list[Difference]:
    """Every difference between 1CRM's books and the accounting system's.

    Raises:
        KeyError: an unknown library (``xero`` or ``quickbooks``).
    """
    rules = RULES[library]
    return [
        *compare_customers(rules, crm_side.customers, accounting_side.customers),
        *compare_invoices(rules, crm_side.invoices, accounting_side.invoices),
        *compare_payments(
            rules, allocated(rules, crm_side.payments), allocated(rules, accounting_side.payments)
        ),
        *compare_quotes(rules, crm_side.quotes, accounting_side.quotes),
        *compare_credits(rules, crm_side.credits, accounting_side.credits),
    ]


def unexplained(differences: Iterable[Difference]) -> list[Difference]:
    """The differences no rule of the library explains: the books balance without them."""
    return [d for d in differences if not d.known]


# -- customers ---------------------------------------------------------------------------------


def compare_customers(
    rules: Rules, crm: Sequence[Customer], accounting: Sequence[Customer]
) -> list[Difference]:
    found: list[Difference] = []
    ours, theirs = grouped(crm, lambda c: c.key), grouped(accounting, lambda c: c.key)
    for key in sorted(set(ours) | set(theirs)):
        mine, other = ours.get(key, []), theirs.get(key, [])
        label = (mine or other)[0].name
        found += counted("customer", key, label, len(mine), len(other))
        if mine and other:
            found += fields_of("customer", key, label, mine[0], other[0], rules.customer_fields)
    return found


# -- invoices ----------------------------------------------------------------------------------


def compare_invoices(
    rules: Rules, crm: Sequence[Invoice], accounting: Sequence[Invoice]
) -> list[Difference]:
    found: list[Difference] = []
    ours, theirs = grouped(crm, lambda i: i.key), grouped(accounting, lambda i: i.key)
    for unsynced in ours.pop("", []):
        found.append(Difference("invoice", "", unsynced.label, "exists", True, False))
    for key in sorted(set(ours) | set(theirs)):
        mine, other = ours.get(key, []), theirs.get(key, [])
        if not mine and not expected_in_crm(other[0]):
            continue
        label = other[0].label if other else mine[0].label
        found += counted("invoice", key, label, len(mine), len(other))
        if mine and other:
            found += invoice_differences(rules, key, label, mine[0], other[0])
    return found


def expected_in_crm(invoice: Invoice) -> bool:
    """Drafts are not synced; an invoice voided before it reached 1CRM is not created there."""
    return invoice.status not in (DRAFT, VOID)


def invoice_differences(
    rules: Rules, key: str, label: str, mine: Invoice, other: Invoice
) -> list[Difference]:
    found = fields_of("invoice", key, label, mine, other, rules.invoice_fields)
    return found + line_differences(rules, "invoice", key, label, mine.lines, other.lines)


def line_differences(
    rules: Rules, kind: str, key: str, label: str, mine: Sequence[Line], other: Sequence[Line]
) -> list[Difference]:
    """The number of lines, else each line's fields, in order."""
    if len(mine) != len(other):
        return [Difference(kind, key, label, "lines", len(mine), len(other))]
    return [
        Difference(kind, key, label, f"line {number} {name}", x, y)
        for number, (a, b) in enumerate(zip(mine, other, strict=True), start=1)
        for name in rules.line_fields
        if (x := getattr(a, name)) != (y := getattr(b, name))
    ]


# -- payments ----------------------------------------------------------------------------------


def compare_payments(
    rules: Rules, crm: Sequence[Payment], accounting: Sequence[Payment]
) -> list[Difference]:
    """Pairs by key first; what is left pairs by kind, date and allocations (a 1CRM payment
    written before its Integrated ID was)."""
    found: list[Difference] = []
    ours, theirs = grouped(crm, lambda p: p.key), grouped(accounting, lambda p: p.key)
    theirs = joined_twins(ours, theirs)
    loose = list(ours.pop("", []))
    unpaired: list[Payment] = []
    for key in sorted(set(ours) | set(theirs)):
        mine, other = ours.get(key, []), theirs.get(key, [])
        if mine and other:
            found += counted("payment", key, other[0].label, len(mine), 1)
            found += payment_differences(rules, mine[0], other[0])
        elif mine:
            found += [Difference("payment", key, p.label, "exists", True, False) for p in mine]
        else:
            unpaired += other
    for payment in unpaired:
        twin = next((p for p in loose if same_money(p, payment)), None)
        if twin is None:
            found.append(Difference("payment", payment.key, payment.label, "exists", False, True))
        else:
            loose.remove(twin)
            found += payment_differences(rules, twin, payment)
    found += [Difference("payment", "", p.label, "exists", True, False) for p in loose]
    return found


def joined_twins(
    ours: dict[str, list[Payment]], theirs: dict[str, list[Payment]]
) -> dict[str, list[Payment]]:
    """A 1CRM payment over several invoices is one Xero payment per invoice (Xero's payment
    pays one invoice; §2.6 writes their ids, comma-joined, as its Integrated ID): those
    payments are compared as one, under the 1CRM payment's key."""
    theirs = dict(theirs)
    for key in (k for k in ours if "," in k and k not in theirs):
        parts = [theirs.pop(part)[0] for part in key.split(",") if part in theirs]
        if parts:
            theirs[key] = [
                Payment(
                    key=key,
                    label=parts[0].label,
                    kind=parts[0].kind,
                    date=parts[0].date,
                    amount=sum((p.amount for p in parts), Decimal(0)),
                    allocations=tuple(a for p in parts for a in p.allocations),
                )
            ]
    return theirs


def same_money(mine: Payment, other: Payment) -> bool:
    return (mine.kind, mine.date, sorted_allocations(mine)) == (
        other.kind,
        other.date,
        sorted_allocations(other),
    )


def sorted_allocations(payment: Payment) -> list[tuple[str, Any]]:
    return sorted((a.invoice, a.amount) for a in payment.allocations)


def payment_differences(rules: Rules, mine: Payment, other: Payment) -> list[Difference]:
    names = ("kind", "date", "amount") if rules.payment_amounts else ("kind", "date")
    found = fields_of("payment", other.key, other.label, mine, other, names)
    if sorted_allocations(mine) != sorted_allocations(other):
        found.append(
            Difference(
                "payment",
                other.key,
                other.label,
                "allocations",
                sorted_allocations(mine),
                sorted_allocations(other),
            )
        )
    return found


# -- quotes ------------------------------------------------------------------------------------


def compare_quotes(
    rules: Rules, crm: Sequence[Quote], accounting: Sequence[Quote]
) -> list[Difference]:
    """Pairs quotes by their origin; an accounting quote the library does not sync (key
    ``""``) is left out."""
    found: list[Difference] = []
    ours, theirs = grouped(crm, lambda q: q.key), grouped(accounting, lambda q: q.key)
    theirs.pop("", None)
    for key in sorted(set(ours) | set(theirs)):
        mine, other = ours.get(key, []), theirs.get(key, [])
        first = (other or mine)[0]
        id_, label = first.id, (mine or other)[0].label
        found += counted("quote", id_, label, len(mine), len(other))
        if mine and other:
            names = [f for f in rules.quote_fields if f != "status"]
            found += fields_of("quote", id_, label, mine[0], other[0], names)
            if "status" in rules.quote_fields and not same_quote_status(mine[0], other[0]):
                found.append(
                    Difference("quote", id_, label, "status", mine[0].status, other[0].status)
                )
            found += line_differences(rules, "quote", id_, label, mine[0].lines, other[0].lines)
    return found


def same_quote_status(crm: Quote, accounting: Quote) -> bool:
    """Whether the two statuses map to each other: 1CRM has no *invoiced* stage and a quote is
    invoiced once accepted, so an accounting quote's ``invoiced`` is 1CRM's ``accepted`` (the
    mapping table in scenarios/README.md, *Quotes*)."""
    theirs = ACCEPTED if accounting.status == INVOICED else accounting.status
    return crm.status == theirs


# -- unallocated credit ------------------------------------------------------------------------


def compare_credits(
    rules: Rules, crm: Sequence[Credit], accounting: Sequence[Credit]
) -> list[Difference]:
    """Each customer's unallocated credit per currency, summed on each side; a difference is
    known when the library does not sync such credit."""
    if rules.unallocated_credit is None:
        return []
    kinds = (CREDIT, PAYMENT) if rules.unapplied_money else (CREDIT,)
    ours = grouped((c for c in crm if c.kind in kinds), credit_key)
    theirs = grouped((c for c in accounting if c.kind in kinds), credit_key)
    found = []
    for key in sorted(set(ours) | set(theirs)):
        mine, other = ours.get(key, []), theirs.get(key, [])
        if (a := credit_sum(mine)) != (b := credit_sum(other)):
            first = (mine or other)[0]
            documents = ", ".join(sorted(c.label for c in [*mine, *other]))
            found.append(
                Difference(
                    "credit",
                    first.customer,
                    f"{first.customer} ({documents})",
                    f"unallocated {first.currency or ''}".rstrip(),
                    a,
                    b,
                    rules.unallocated_credit,
                )
            )
    return found


def allocated(rules: Rules, payments: Sequence[Payment]) -> list[Payment]:
    """The payments to pair: where unallocated credit is compared, a credit allocated to no
    invoice (1CRM credit on no invoice) is that alone, not a payment, and a credit is what it
    allocates (1CRM credit of 10.00 with 5.00 on an invoice is a credit of 5.00 there and 5.00
    of free credit, what QuickBooks keeps as a credit memo applied in part)."""
    if rules.unallocated_credit is None:
        return list(payments)
    return [
        replace(p, amount=sum((a.amount for a in p.allocations), Decimal(0)))
        if p.kind == CREDIT
        else p
        for p in payments
        if p.allocations or p.kind != CREDIT
    ]


def credit_key(credit: Credit) -> str:
    """Customer (by name, as customers pair) and currency."""
    return f"{credit.customer.strip().casefold()}\x00{credit.currency or ''}"


def credit_sum(credits: Iterable[Credit]) -> Decimal:
    return sum((c.amount for c in credits), Decimal(0))


# -- helpers -----------------------------------------------------------------------------------

T = TypeVar("T")


def grouped(records: Iterable[T], key: Callable[[T], str]) -> dict[str, list[T]]:
    groups: dict[str, list[T]] = defaultdict(list)
    for record in records:
        groups[key(record)].append(record)
    return dict(groups)


def counted(kind: str, key: str, label: str, mine: int, other: int) -> list[Difference]:
    """``exists`` when one side lacks the record, ``count`` when one side has it twice."""
    if not mine or not other:
        return [Difference(kind, key, label, "exists", bool(mine), bool(other))]
    if mine > 1 or other > 1:
        return [Difference(kind, key, label, "count", mine, other)]
    return []


def fields_of(
    kind: str, key: str, label: str, mine: Any, other: Any, names: Iterable[str]
) -> list[Difference]:
    return [
        Difference(kind, key, label, name, a, b)
        for name in names
        if (a := getattr(mine, name)) != (b := getattr(other, name))
    ]
