"""One QuickBooks company (realm): its records and the create / update / delete rules.

Callers hold the sandbox lock. Every write returns the ``Change`` list it caused, in order
(a payment also updates the invoices it touches), which the API turns into webhooks.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from . import faults
from .documents import money, ref_id
from .entities import ENTITIES, SALES_FORMS, EntitySpec

Record = dict[str, Any]
VAT_COUNTRIES = frozenset({"GB", "UK", "IE", "FR"})
NAME_LIST = ("Customer", "Vendor")  # one DisplayName namespace (employees are not emulated)
SERVER_FIELDS = frozenset({"Id", "SyncToken", "MetaData", "domain", "sparse"})


@dataclass(frozen=True)
class Change:
    """One entity created, updated or deleted by a request."""

    entity: str
    id: str
    operation: str  # Create | Update | Delete | Void
    at: str


def parse_offset(text: str) -> timezone:
    """``"-08:00"`` → a fixed ``timezone``."""
    sign = -1 if text.startswith("-") else 1
    hours, minutes = text.lstrip("+-").split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def qbo_time(moment: datetime, zone: timezone) -> str:
    """QuickBooks' timestamp format: ``2024-01-08T02:05:00-08:00`` in the company's zone."""
    return moment.astimezone(zone).isoformat(timespec="seconds")


@dataclass
class Realm:
    """A company: records by entity name and id, deletions (for CDC) and counters."""

    realm_id: str
    company_name: str
    config: Mapping[str, Any]
    clock: Callable[[], datetime]
    country: str = "NZ"
    currency: str = "NZD"
    preferences: Record = field(default_factory=dict)
    records: dict[str, dict[str, Record]] = field(default_factory=dict)
    deleted: list[Record] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    doc_number: int = 1000

    def __post_init__(self) -> None:
        for spec in ENTITIES.values():
            self.records.setdefault(spec.name, {})
        self.preferences = _merged(self.default_preferences(), self.preferences)

    def default_preferences(self) -> Record:
        """A company's ``Preferences`` as Intuit's API renders the parts integrators read:
        sales tax on (AST for a US company), multicurrency on (the demo's company invoices
        in several currencies; Intuit's new companies start with it off — a fixture's
        ``CurrencyPrefs`` sets that), no sales-form custom fields, products and services
        with quantities on hand tracked."""
        return {
            "Id": "1",
            "SyncToken": "0",
            "domain": "QBO",
            "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": self.country == "US"},
            "CurrencyPrefs": {
                "MultiCurrencyEnabled": True,
                "HomeCurrency": {"value": self.currency},
            },
            "SalesFormsPrefs": {"CustomField": [], "AllowDiscount": True},
            "ProductAndServicesPrefs": {
                "ForSales": True,
                "ForPurchase": True,
                "QuantityWithPriceAndRate": True,
                "QuantityOnHand": True,
            },
        }

    @property
    def multicurrency(self) -> bool:
        """Whether the company takes other currencies than its home currency
        (``Preferences.CurrencyPrefs.MultiCurrencyEnabled``)."""
        prefs = self.preferences.get("CurrencyPrefs") or {}
        return prefs.get("MultiCurrencyEnabled") is True

    @property
    def tracks_quantities(self) -> bool:
        """Whether the company tracks inventory quantities (QuickBooks Online Plus and
        Advanced): only then may it have inventory items."""
        prefs = self.preferences.get("ProductAndServicesPrefs") or {}
        return prefs.get("QuantityOnHand") is True

    def undeposited_funds(self) -> Record:
        """The Undeposited Funds account, where a sales receipt's money goes by default.

        Raises:
            QboFault: 2020 when the company has none (name the DepositToAccountRef).
        """
        for account in self.records["Account"].values():
            if account.get("AccountSubType") == "UndepositedFunds":
                return {"value": account["Id"]}
        raise faults.required("DepositToAccountRef")

    def company_info(self) -> Record:
        """``CompanyInfo``; address countries are ISO 3-letter codes (Intuit, 31 Oct 2025)."""
        address = {"Country": ISO3.get(self.country.upper(), self.country)}
        return {
            "Id": "1",
            "SyncToken": "0",
            "CompanyName": self.company_name,
            "LegalName": self.company_name,
            "Country": self.country,
            "CompanyAddr": address,
            "LegalAddr": address,
            "domain": "QBO",
            "sparse": False,
        }

    # --- time --------------------------------------------------------------------------------

    @property
    def tax_word(self) -> str:
        """What the company's sales tax is called (QuickBooks' messages name it)."""
        return "VAT" if self.country.upper() in VAT_COUNTRIES else "GST"

    @property
    def zone(self) -> timezone:
        return parse_offset(str(self.config.get("utc_offset", "-08:00")))

    def now(self) -> str:
        """Current time as QuickBooks renders it."""
        return qbo_time(self.clock(), self.zone)

    def today(self) -> str:
        """Current date in the company's zone."""
        return self.clock().astimezone(self.zone).date().isoformat()

    # --- lookups -----------------------------------------------------------------------------

    def lookup(self, entity: str, record_id: str | None) -> Record | None:
        """A stored record or None."""
        return self.records[entity].get(str(record_id)) if record_id is not None else None

    def get(self, entity: str, record_id: str) -> Record:
        """A stored record.

        Raises:
            QboFault: 610 Object Not Found.
        """
        record = self.lookup(entity, record_id)
        if record is None:
            raise faults.not_found()
        return record

    def check_unique_name(self, entity: str, name_field: str, name: str, own_id: Any) -> None:
        """Raises QboFault 6240 when another record of ``entity`` has this name."""
        for record in self.records[entity].values():
            same = str(record.get(name_field, "")).casefold() == name.casefold()
            if same and record["Id"] != own_id:
                raise faults.duplicate_name(record["Id"])

    def check_unique_display_name(self, name: str, entity: str, own_id: Any) -> None:
        """Raises QboFault 6240 when another customer or vendor has this DisplayName:
        QuickBooks keeps customers, vendors (and employees) in one name list."""
        for other in NAME_LIST:
            for record in self.records[other].values():
                same = str(record.get("DisplayName", "")).casefold() == name.casefold()
                if same and (other, record["Id"]) != (entity, own_id):
                    raise faults.duplicate_name(record["Id"])

    def has_transactions(self, customer_id: Any) -> bool:
        """Whether a sales form or payment names this customer (its currency is then fixed)."""
        return any(
            ref_id(record.get("CustomerRef")) == str(customer_id)
            for entity in (*SALES_FORMS, "Payment")
            for record in self.records[entity].values()
        )

    def next_id(self, entity: str) -> str:
        numbers = [int(i) for i in self.records[entity] if i.isdigit()]
        self.counters[entity] = max([self.counters.get(entity, 0), *numbers]) + 1
        return str(self.counters[entity])

    def next_doc_number(self) -> str:
        """One more than the highest numeric DocNumber any sales form has had (invoices,
        estimates, sales receipts and credit memos share one sequence); a refused write uses
        up no number."""
        numbers = [
            int(doc["DocNumber"])
            for entity in SALES_FORMS
            for doc in self.records[entity].values()
            if str(doc.get("DocNumber", "")).isdigit()
        ]
        return str(max([self.doc_number, *numbers]) + 1)

    def _note_doc_number(self, record: Record) -> None:
        """Remember a stored sales form's number, so a deleted one is not handed out again."""
        number = str(record.get("DocNumber", ""))
        if number.isdigit():
            self.doc_number = max(self.doc_number, int(number))

    # --- payments ----------------------------------------------------------------------------

    def _applications(self, txn_id: str, txn_type: str = "Invoice") -> list[tuple[str, Decimal]]:
        """The payments' lines linking the invoice (or credit memo) ``txn_id``: payment id and
        amount."""
        found = []
        for payment in self.records["Payment"].values():
            for line in payment.get("Line") or []:
                for link in line.get("LinkedTxn") or []:
                    if link.get("TxnId") == txn_id and link.get("TxnType") == txn_type:
                        found.append((payment["Id"], Decimal(str(line.get("Amount", 0)))))
        return found

    def credit_applied(self, memo_id: Any, except_payment: Any = None) -> Decimal:
        """What stored payments apply of a credit memo (optionally ignoring one)."""
        if memo_id is None:
            return Decimal(0)
        return sum(
            (
                amount
                for pid, amount in self._applications(str(memo_id), "CreditMemo")
                if pid != except_payment
            ),
            Decimal(0),
        )

    def paid_on_invoice(self, invoice_id: Any, except_payment: Any = None) -> Decimal:
        """Total applied to an invoice by stored payments (optionally ignoring one)."""
        if invoice_id is None:
            return Decimal(0)
        return sum(
            (
                amount
                for pid, amount in self._applications(str(invoice_id))
                if pid != except_payment
            ),
            Decimal(0),
        )

    def payment_links(self, txn_id: Any, txn_type: str = "Invoice") -> list[Record]:
        """An invoice's (or credit memo's) ``LinkedTxn`` entries for the payments applied to
        it (or applying it)."""
        if txn_id is None:
            return []
        ids = dict.fromkeys(pid for pid, _ in self._applications(str(txn_id), txn_type))
        return [{"TxnId": pid, "TxnType": "Payment"} for pid in ids]

    def refresh_credit_memos(self, memo_ids: set[str], now: str, seeding: bool) -> list[Change]:
        """Recompute RemainingCredit/Balance/LinkedTxn of credit memos whose applications
        changed (an Update each)."""
        changes = []
        for memo_id in sorted(memo_ids):
            memo = self.lookup("CreditMemo", memo_id)
            if memo is None:
                continue
            remaining = money(Decimal(str(memo["TotalAmt"])) - self.credit_applied(memo_id))
            links = self.payment_links(memo_id, "CreditMemo")
            if (remaining, links) == (memo.get("RemainingCredit"), memo.get("LinkedTxn")):
                continue
            memo["Balance"] = memo["RemainingCredit"] = remaining
            memo["LinkedTxn"] = links
            if not seeding:
                memo["SyncToken"] = str(int(memo["SyncToken"]) + 1)
                _touch(memo, now)
                changes.append(Change("CreditMemo", memo_id, "Update", now))
        return changes

    def refresh_invoices(self, invoice_ids: set[str], now: str, seeding: bool) -> list[Change]:
        """Recompute Balance/LinkedTxn of invoices whose payments changed (an Update each)."""
        changes = []
        for invoice_id in sorted(invoice_ids):
            invoice = self.lookup("Invoice", invoice_id)
            if invoice is None:
                continue
            balance = money(Decimal(str(invoice["TotalAmt"])) - self.paid_on_invoice(invoice_id))
            links = self.payment_links(invoice_id)
            if (balance, links) == (invoice.get("Balance"), invoice.get("LinkedTxn")):
                continue
            invoice["Balance"], invoice["LinkedTxn"] = balance, links
            if not seeding:
                invoice["SyncToken"] = str(int(invoice["SyncToken"]) + 1)
                _touch(invoice, now)
                changes.append(Change("Invoice", invoice_id, "Update", now))
        return changes

    def refresh_customer_balances(self) -> None:
        """Customer ``Balance`` = its open invoice balances less its open credit memos (not a
        customer update)."""
        totals: dict[str, Decimal] = {}
        for entity, sign in (("Invoice", 1), ("CreditMemo", -1)):
            for document in self.records[entity].values():
                customer_id = ref_id(document.get("CustomerRef")) or ""
                totals[customer_id] = totals.get(customer_id, Decimal(0)) + sign * Decimal(
                    str(document.get("Balance", 0))
                )
        for customer in self.records["Customer"].values():
            customer["Balance"] = money(totals.get(customer["Id"], Decimal(0)))
            customer["BalanceWithJobs"] = customer["Balance"]

    # --- writes ------------------------------------------------------------------------------

    def create(self, spec: EntitySpec, data: Record, *, seeding: bool = False) -> list[Change]:
        """Store a new record (``data`` may carry Id/SyncToken/MetaData only when seeding)."""
        now = self.now()
        record: Record = {**copy.deepcopy(dict(spec.defaults)), **data}
        if not seeding:
            for name in SERVER_FIELDS:
                record.pop(name, None)
        record["Id"] = str(record.get("Id") or self.next_id(spec.name))
        if record["Id"] in self.records[spec.name]:
            raise faults.invalid_property(f"{spec.name} {record['Id']} already exists", "Id")
        record.setdefault("SyncToken", "0")
        record.setdefault("MetaData", {"CreateTime": now, "LastUpdatedTime": now})
        record.setdefault("domain", "QBO")
        record["sparse"] = False
        self._prepare(spec, record, None)
        self.records[spec.name][record["Id"]] = record
        if spec.name in SALES_FORMS:
            self._note_doc_number(record)
        return [
            Change(spec.name, record["Id"], "Create", now),
            *self._after_write(spec, None, record, now, seeding),
        ]

    def update(self, spec: EntitySpec, data: Record, *, sparse: bool) -> list[Change]:
        """Apply a full or sparse update guarded by ``SyncToken``.

        Raises:
            QboFault: 2020 without SyncToken, 610 unknown Id, 5010 stale SyncToken.
        """
        existing = self.get(spec.name, str(data["Id"]))
        if data.get("SyncToken") in (None, ""):
            raise faults.required("SyncToken")
        if str(data["SyncToken"]) != existing["SyncToken"]:
            raise faults.stale_object(data["SyncToken"])
        changes = {k: v for k, v in data.items() if k not in SERVER_FIELDS}
        if sparse:
            record = {**copy.deepcopy(existing), **copy.deepcopy(changes)}
        else:
            kept = {k: existing[k] for k in ("Id", "SyncToken", "MetaData", "domain")}
            record = {**copy.deepcopy(dict(spec.defaults)), **copy.deepcopy(changes), **kept}
        record["sparse"] = False
        if spec.name in SALES_FORMS and "TxnTaxDetail" not in changes:
            record.pop("TxnTaxDetail", None)  # a tax override holds for the write sending it
        self._prepare(spec, record, existing)
        now = self.now()
        record["SyncToken"] = str(int(existing["SyncToken"]) + 1)
        _touch(record, now)
        self.records[spec.name][record["Id"]] = record
        return [
            Change(spec.name, record["Id"], "Update", now),
            *self._after_write(spec, existing, record, now, False),
        ]

    def delete(self, spec: EntitySpec, data: Record) -> tuple[Record, list[Change]]:
        """Delete a transaction by ``Id`` and current ``SyncToken``.

        Raises:
            QboFault: 500 for entities that cannot be deleted, 610, 5010.
        """
        if not spec.deletable:
            raise faults.unsupported(f"Delete for {spec.name}")
        existing = self.get(spec.name, str(data.get("Id")))
        if str(data.get("SyncToken")) != existing["SyncToken"]:
            raise faults.stale_object(data.get("SyncToken"))
        now = self.now()
        del self.records[spec.name][existing["Id"]]
        gone = {
            "Id": existing["Id"],
            "status": "Deleted",
            "domain": "QBO",
            "MetaData": {"LastUpdatedTime": now},
        }
        self.deleted.append({"entity": spec.name, **gone})
        changes = [Change(spec.name, existing["Id"], "Delete", now)]
        if spec.name in ("Invoice", "CreditMemo"):
            changes += self._unlink_payments(existing["Id"], now, spec.name)
        return gone, changes + self._after_write(spec, existing, None, now, False)

    def void(
        self, spec: EntitySpec, data: Record, *, in_screens: bool = False
    ) -> tuple[Record, list[Change]]:
        """Void an invoice or sales receipt by ``Id`` and current ``SyncToken``: it stays, with
        every amount zero, nothing due and ``PrivateNote`` "Voided"; payments applied to a
        voided invoice become unapplied credit (``_unlink_payments``). ``in_screens``: a
        person voids it in QuickBooks' screens, which also void a credit memo (the API does
        not: Intuit's SDKs void invoices, sales receipts, payments and bill payments only);
        its remaining credit is zero and the payments applying it apply it no more, as when
        it is deleted.

        Raises:
            QboFault: 500 for entities that cannot be voided, 610, 5010.
        """
        if not (spec.voidable or (in_screens and spec.voidable_in_screens)):
            raise faults.unsupported(f"Void for {spec.name}")
        existing = self.get(spec.name, str(data.get("Id")))
        if str(data.get("SyncToken")) != existing["SyncToken"]:
            raise faults.stale_object(data.get("SyncToken"))
        now = self.now()
        record = copy.deepcopy(existing)
        for line in record.get("Line") or []:
            line["Amount"] = 0.0
            detail = line.get("SalesItemLineDetail")
            if isinstance(detail, dict):
                detail.update(Qty=0.0, UnitPrice=0.0)
        record["TxnTaxDetail"] = {"TotalTax": 0.0, "TaxLine": []}
        record.update(TotalAmt=0.0, Balance=0.0, PrivateNote="Voided")
        if spec.name == "CreditMemo":
            # Intuit's void "injects Voided into PrivateNote, prepended to existing text";
            # the sandbox's invoice void replaces the note (3.4 reads "Voided" at its start).
            note = str(existing.get("PrivateNote") or "")
            record.update(RemainingCredit=0.0, PrivateNote=f"Voided {note}".strip())
        record["SyncToken"] = str(int(existing["SyncToken"]) + 1)
        _touch(record, now)
        self.records[spec.name][record["Id"]] = record
        changes = [Change(spec.name, record["Id"], "Void", now)]
        if spec.name in ("Invoice", "CreditMemo"):
            changes += self._unlink_payments(record["Id"], now, spec.name)
            record["LinkedTxn"] = []
        return record, changes + self._after_write(spec, existing, record, now, False)

    def _prepare(self, spec: EntitySpec, record: Record, existing: Record | None) -> None:
        # a transaction with a customer takes the customer's currency (entities._customer_ref);
        # a sales receipt without one is in the home currency
        if spec.name in (*SALES_FORMS, "Payment") and not ref_id(record.get("CustomerRef")):
            record.setdefault("CurrencyRef", {"value": self.currency})
        if spec.prepare is not None:
            spec.prepare(self, record, existing)

    def _after_write(
        self, spec: EntitySpec, before: Record | None, after: Record | None, now: str, seeding: bool
    ) -> list[Change]:
        changes: list[Change] = []
        if spec.name == "Payment":
            touched = _linked_invoices(before) | _linked_invoices(after)
            changes = self.refresh_invoices(touched, now, seeding)
            memos = _linked_invoices(before, "CreditMemo") | _linked_invoices(after, "CreditMemo")
            changes += self.refresh_credit_memos(memos, now, seeding)
        if spec.name in ("Invoice", "CreditMemo", "Payment"):
            self.refresh_customer_balances()
        return changes

    def _unlink_payments(self, txn_id: str, now: str, txn_type: str = "Invoice") -> list[Change]:
        """An invoice voided or deleted, or a credit memo deleted or voided: the payments
        linking it stay and keep the money they received (QuickBooks: "the payment stays on
        your books … but the payment no longer has an offsetting invoice", its amount
        unapplied). Their lines linking it go, and what no longer balances goes with them:
        credit memo lines beyond what the payment still applies to invoices (that credit is
        free on its memo again), then invoice lines beyond the money and credit left (a credit
        memo's deletion or void: the invoice owes that credit again). A payment of 0.00 that
        only applied credit is left linking nothing. Each invoice and memo whose applications
        changed is updated."""
        changes: list[Change] = []
        touched: dict[str, set[str]] = {"Invoice": set(), "CreditMemo": set()}
        for payment in self.records["Payment"].values():
            lines = payment.get("Line") or []
            if txn_id not in _linked_invoices(payment, txn_type):
                continue
            kept = _rebalanced(
                [ln for ln in lines if txn_id not in _linked_invoices({"Line": [ln]}, txn_type)],
                Decimal(str(payment["TotalAmt"])),
            )
            for kind in touched:
                touched[kind] |= _linked_invoices(payment, kind)
            payment["Line"] = kept
            applied = sum((_applied(ln) for ln in kept), Decimal(0))
            payment["UnappliedAmt"] = money(Decimal(str(payment["TotalAmt"])) - applied)
            payment["SyncToken"] = str(int(payment["SyncToken"]) + 1)
            _touch(payment, now)
            changes.append(Change("Payment", payment["Id"], "Update", now))
        touched[txn_type].discard(txn_id)
        changes += self.refresh_invoices(touched["Invoice"], now, False)
        return changes + self.refresh_credit_memos(touched["CreditMemo"], now, False)


ISO3 = {
    "NZ": "NZL",
    "AU": "AUS",
    "GB": "GBR",
    "UK": "GBR",
    "US": "USA",
    "CA": "CAN",
    "IN": "IND",
    "IE": "IRL",
    "FR": "FRA",
}


def _merged(base: Record, changes: Mapping[str, Any]) -> Record:
    """``base`` with ``changes`` merged in, nested objects key by key."""
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _touch(record: Record, now: str) -> None:
    record["MetaData"] = {**record.get("MetaData", {}), "LastUpdatedTime": now}


def _linked_invoices(payment: Record | None, txn_type: str = "Invoice") -> set[str]:
    """The ids of the invoices (or credit memos) a payment's lines link."""
    if payment is None:
        return set()
    return {
        str(link.get("TxnId"))
        for line in payment.get("Line") or []
        for link in line.get("LinkedTxn") or []
        if link.get("TxnType") == txn_type
    }


def _rebalanced(lines: list[Record], total: Decimal) -> list[Record]:
    """A payment's lines once a linked transaction went: credit memo lines cut to what the
    invoice lines still take, then invoice lines cut to the money and credit left (last lines
    first); lines cut to nothing go."""
    invoiced = sum((_applied(ln) for ln in lines if _applied(ln) > 0), Decimal(0))
    credit = -sum((_applied(ln) for ln in lines if _applied(ln) < 0), Decimal(0))
    kept = copy.deepcopy(lines)
    for excess, sign in ((credit - invoiced, -1), (invoiced - min(credit, invoiced) - total, 1)):
        for line in reversed(kept):
            if excess <= 0:
                break
            if _applied(line) * sign > 0:
                cut = min(excess, Decimal(str(line["Amount"])))
                line["Amount"] = money(Decimal(str(line["Amount"])) - cut)
                excess -= cut
    return [ln for ln in kept if Decimal(str(ln["Amount"])) > 0]


def _applied(line: Record) -> Decimal:
    """What a payment line applies of the money received: an invoice's part, less a credit
    memo's (credit pays in place of money)."""
    amount = Decimal(str(line.get("Amount", 0)))
    links = line.get("LinkedTxn") or [{}]
    return -amount if links[0].get("TxnType") == "CreditMemo" else amount
