"""One side's books in one vocabulary, whichever system they were read from.

Each fetcher (``onecrm.py``, ``xero.py``, ``quickbooks.py``) reads its system through its
connector and normalises what it reads into these records, so that comparing is plain equality:

- amounts are ``Decimal`` rounded to the cent, text is stripped (empty is ``None``), dates are
  ``YYYY-MM-DD``;
- an invoice is keyed by the **accounting system's invoice id** (1CRM keeps it as the
  invoice's Integrated ID), a payment by the accounting system's payment or credit-allocation
  id (1CRM: the payment's Integrated ID); a 1CRM record without one has the key ``""``;
- a line is its description, quantity, net amount (without tax, after its discount) and tax;
- an invoice's status is ``open``, ``paid`` or ``void`` (``draft`` for Xero drafts, which the
  library does not sync); a void invoice owes nothing;
- a quote is keyed by what both sides keep of its origin, as neither keeps the other's id: a
  quote made in 1CRM by ``1CRM <number>`` (the Xero quote's reference, the QuickBooks
  estimate's private note), one made in QuickBooks by ``QuickBooks estimate <number>`` (the
  1CRM quote's subject); its status is ``open``, ``accepted``, ``declined`` or ``invoiced``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
OPEN, PAID, VOID, DRAFT = "open", "paid", "void", "draft"
PAYMENT, CREDIT = "payment", "credit note"
ACCEPTED, DECLINED, INVOICED = "accepted", "declined", "invoiced"
"""A quote's statuses besides ``open``."""
FROM_CRM = "1CRM "
"""How a quote made in 1CRM is known on the other side: ``1CRM <number>``."""
FROM_QUICKBOOKS = "QuickBooks estimate "
"""How a QuickBooks estimate is known in 1CRM: its quote's subject is this and the number."""


def money(value: Any) -> Decimal:
    """``value`` as a Decimal rounded half-up to the cent (empty: 0)."""
    if value in (None, ""):
        return Decimal("0.00")
    try:
        return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None


def quantity(value: Any) -> Decimal:
    """A quantity or rate without trailing zeros (``2.000`` and ``2`` compare equal)."""
    if value in (None, ""):
        return Decimal(1)
    number = Decimal(str(value))
    return (
        number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()
    )


def text(value: Any) -> str | None:
    """Stripped text; empty is ``None``."""
    if value is None:
        return None
    stripped = str(value).strip()
    return stripped or None


def day(value: Any) -> str | None:
    """The ``YYYY-MM-DD`` of a date or ISO date-time text."""
    found = text(value)
    return found[:10] if found else None


@dataclass(frozen=True)
class Customer:
    """A 1CRM account, a Xero contact, a QuickBooks customer; matched by name."""

    name: str
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    street: str | None = None
    city: str | None = None
    region: str | None = None
    postcode: str | None = None
    country: str | None = None

    @property
    def key(self) -> str:
        return self.name.strip().casefold()


@dataclass(frozen=True)
class Line:
    """One invoice line: ``net`` excludes tax and includes the line's discount."""

    description: str | None
    quantity: Decimal
    net: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Invoice:
    """A sales invoice with its lines and totals (``subtotal`` is the net total)."""

    key: str
    label: str
    customer: str | None
    date: str | None
    due_date: str | None
    currency: str | None
    rate: Decimal
    status: str
    lines: tuple[Line, ...]
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    amount_due: Decimal


@dataclass(frozen=True)
class Allocation:
    """What one payment (or credit) puts towards one invoice (by its key)."""

    invoice: str
    amount: Decimal


@dataclass(frozen=True)
class Payment:
    """Money received (or a credit note's credit, ``kind`` CREDIT) and where it went.

    ``amount`` is what was received; it exceeds the allocations by an over-payment.
    """

    key: str
    label: str
    kind: str
    date: str | None
    amount: Decimal
    allocations: tuple[Allocation, ...]


@dataclass(frozen=True)
class Quote:
    """A quote (a QuickBooks estimate) with its lines and totals.

    ``key`` pairs the two sides (``1CRM <number>``, ``QuickBooks estimate <number>``; ``""``
    for one the library does not sync, as a quote made in Xero); ``id`` is the record's own id
    in its system, which the sync log knows it by.
    """

    key: str
    id: str
    label: str
    customer: str | None
    date: str | None
    expiry: str | None
    currency: str | None
    rate: Decimal
    status: str
    lines: tuple[Line, ...]
    subtotal: Decimal
    tax: Decimal
    total: Decimal


@dataclass(frozen=True)
class Credit:
    """Credit a customer holds, allocated to no invoice: the rest of a Xero credit note or a
    QuickBooks credit memo (``RemainingCredit``) or of a 1CRM payment of type Credit Note (its
    amount less what it allocates) — ``kind`` CREDIT —, or money received and applied to no
    invoice: a QuickBooks payment's ``UnappliedAmt``, a 1CRM payment's amount less its
    allocations — ``kind`` PAYMENT."""

    customer: str
    currency: str | None
    amount: Decimal
    label: str
    kind: str = CREDIT


@dataclass
class Books:
    """Everything one side holds that the library syncs (``credits``: what it compares but
    does not sync, the customers' unallocated credit)."""

    customers: list[Customer] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    credits: list[Credit] = field(default_factory=list)
