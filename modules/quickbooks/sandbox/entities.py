"""The entities the sandbox serves, declared as data, and what each one checks and derives.

Each ``EntitySpec`` names the entity (``Customer``; URL segment ``customer``), whether the API
may write, delete or void it, its unique name field (name-list entities: ``Active``, 6240 on
duplicates) and a ``prepare`` hook that validates and fills derived fields on the record about
to be stored. ``Account`` and ``PaymentMethod`` are reference lists the API only reads here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import faults
from .documents import compute_document, decimal, money, ref_id, resolve_ref
from .items import account_ref, check_item

if TYPE_CHECKING:
    from .realm import Realm

Record = dict[str, Any]
Preparer = Callable[["Realm", Record, "Record | None"], None]


@dataclass(frozen=True)
class EntitySpec:
    """How the sandbox treats one entity type."""

    name: str
    prepare: Preparer | None = None
    writable: bool = True
    name_field: str | None = None
    deletable: bool = False
    voidable: bool = False
    voidable_in_screens: bool = False
    """Voided in QuickBooks' screens only: the API has no void for it (a credit memo)."""
    defaults: Mapping[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The URL segment (``/customer``)."""
        return self.name.lower()


def _text(record: Record, name: str) -> str:
    value = record.get(name)
    return str(value).strip() if value not in (None, "") else ""


def _display_name(record: Record) -> str:
    """DisplayName, else CompanyName, else the person's name parts.

    Raises:
        QboFault: 2020 when there is nothing to name the record by.
    """
    person = " ".join(
        _text(record, n)
        for n in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")
        if _text(record, n)
    )
    display = _text(record, "DisplayName") or _text(record, "CompanyName") or person
    if not display:
        raise faults.required("DisplayName")
    return display


def prepare_customer(realm: Realm, record: Record, existing: Record | None) -> None:
    """DisplayName defaults from CompanyName or the person's name; it must be unique across
    customers and vendors (QuickBooks keeps one name list). The customer has one currency
    (``_customer_currency``)."""
    display = _display_name(record)
    realm.check_unique_display_name(display, "Customer", record.get("Id"))
    record["DisplayName"] = display
    record["FullyQualifiedName"] = display
    record.setdefault("PrintOnCheckName", _text(record, "CompanyName") or display)
    record.setdefault("Balance", 0.0)
    record["BalanceWithJobs"] = record["Balance"]
    _customer_currency(realm, record, existing)


def customer_currency(realm: Realm, customer: Record) -> str:
    """The one currency a customer trades in: its ``CurrencyRef``, the home currency when it
    has none (a customer stored before the sandbox kept one)."""
    return ref_id(customer.get("CurrencyRef")) or realm.currency


def _customer_currency(realm: Realm, record: Record, existing: Record | None) -> None:
    """Multicurrency QuickBooks gives each customer one currency, chosen at creation (the home
    currency by default) and fixed once a transaction names the customer: "you can only assign
    one currency to each … contact name" (QuickBooks community, "About Multi-currency"); "once
    you've posted a transaction to … a customer, you cannot change the currency" (Dummies,
    "Working with multiple currencies in QuickBooks Online"); a second currency takes a second
    customer ("add a new, separate customer … for each currency", QuickBooks help,
    "Multicurrency and files updated from earlier versions"). The 6000 fault and its wording
    are the sandbox's: no source gives the text Intuit returns for this change."""
    before = realm.currency if existing is None else customer_currency(realm, existing)
    wanted = ref_id(record.get("CurrencyRef")) or before
    _in_company_currencies(realm, wanted, "customer")
    if existing is not None and wanted != before and realm.has_transactions(existing["Id"]):
        raise faults.business(
            f"The currency of customer {existing['DisplayName']} ({before}) cannot be changed "
            "once it has transactions.",
            "CurrencyRef",
        )
    record["CurrencyRef"] = {"value": wanted}


def prepare_item(realm: Realm, record: Record, existing: Record | None) -> None:
    """Name unique among items, the type's accounts and quantities (``items.check_item``);
    FullyQualifiedName follows the name."""
    check_item(record, existing, realm.lookup, realm.tracks_quantities)
    realm.check_unique_name("Item", "Name", record["Name"], record.get("Id"))
    record["FullyQualifiedName"] = record["Name"] = str(record["Name"]).strip()


def prepare_vendor(realm: Realm, record: Record, existing: Record | None) -> None:
    """As a customer: DisplayName defaults from CompanyName or the person's name and is
    unique across customers and vendors (one name list)."""
    display = _display_name(record)
    realm.check_unique_display_name(display, "Vendor", record.get("Id"))
    record["DisplayName"] = display
    record.setdefault("PrintOnCheckName", _text(record, "CompanyName") or display)
    record.setdefault("Balance", 0.0)
    del existing


def _customer_ref(realm: Realm, record: Record) -> Record:
    """The transaction's customer; the transaction is in that customer's currency."""
    if not ref_id(record.get("CustomerRef")):
        raise faults.required("CustomerRef")
    customer = resolve_ref(realm.lookup, "Customer", record["CustomerRef"], "CustomerRef")
    if customer.get("Active") is False:
        raise faults.invalid_reference("CustomerRef", customer["Id"])
    record["CustomerRef"] = {"value": customer["Id"], "name": customer["DisplayName"]}
    _in_customer_currency(realm, record, customer)
    return customer


def _in_customer_currency(realm: Realm, record: Record, customer: Record) -> None:
    """An invoice, estimate, credit memo, sales receipt or payment is in its customer's
    currency: a customer's or vendor's currency "is assigned during setup", and its invoices
    must use it (Procore, "Multi-currency settings: QuickBooks Online"); users are told to create a
    new customer in the transaction's currency when they differ (Connex, "QuickBooks Online
    Business Validation Error": "ensure that the incoming order and customer currency code in
    QuickBooks are identical"). Without ``CurrencyRef`` the transaction takes the customer's
    currency ("defaults to the customer's currency if omitted", intuit/quickbooks-online-mcp-
    server#75 on Payment). Intuit answers such a mismatch with a 6000 Business Validation
    Error (Connex, above); the Detail wording here is the sandbox's own, not Intuit's."""
    currency = customer_currency(realm, customer)
    wanted = ref_id(record.get("CurrencyRef")) or currency
    _in_company_currencies(realm, wanted, "transaction")
    if wanted != currency:
        raise faults.business(
            f"The currency of the transaction ({wanted}) must be the currency of customer "
            f"{customer['DisplayName']} ({currency}).",
            "CurrencyRef",
        )
    record["CurrencyRef"] = {"value": currency}


def _in_company_currencies(realm: Realm, currency: str, what: str) -> None:
    """A company without multicurrency trades in its home currency only: "by default,
    multicurrency is disabled in a QuickBooks company. It must be enabled in order to track
    transactions with currencies other than the company's home currency" (Intuit, "Manage
    multiple currencies"). That the API refuses such a customer or transaction with a 6000
    Business Validation Error, and the Detail's words, are inferred: no source gives Intuit's
    answer."""
    if currency != realm.currency and not realm.multicurrency:
        raise faults.business(
            f"The {what}'s currency ({currency}) is not the home currency "
            f"({realm.currency}) and multicurrency is off for this company.",
            "CurrencyRef",
        )


def _dates(record: Record, realm: Realm, due_field: str | None) -> None:
    record.setdefault("TxnDate", realm.today())
    if due_field and not record.get(due_field):
        record[due_field] = _due_without_date(record["TxnDate"], realm)


def _due_without_date(txn_date: str, realm: Realm) -> str:
    """The due date QuickBooks gives a document sent without one: the transaction date when
    there are no sales terms, else what the terms give (vendor NOTES §5). The sandbox keeps
    no Term list: ``default_terms_days`` is the net days of the company's terms, ``None``
    (the default) a company with none — it used to invent net 30."""
    days = realm.config.get("default_terms_days")
    if days is None:
        return txn_date[:10]
    return (date.fromisoformat(txn_date[:10]) + timedelta(days=int(days))).isoformat()


def prepare_invoice(realm: Realm, record: Record, existing: Record | None) -> None:
    """Customer, lines, tax and totals; ``Balance`` = TotalAmt minus applied payments."""
    _customer_ref(realm, record)
    _dates(record, realm, "DueDate")
    record.setdefault("DocNumber", realm.next_doc_number())
    compute_document(record, realm.lookup, realm.tax_word)
    paid = realm.paid_on_invoice(record.get("Id"))
    if paid > Decimal(str(record["TotalAmt"])):
        raise faults.business(
            "The invoice total is less than the payments applied to it.", "TotalAmt"
        )
    record["Balance"] = money(Decimal(str(record["TotalAmt"])) - paid)
    record["LinkedTxn"] = realm.payment_links(record.get("Id"))
    del existing


def prepare_estimate(realm: Realm, record: Record, existing: Record | None) -> None:
    """Like an invoice without a balance; ``TxnStatus`` Pending by default. No
    ``ExpirationDate`` is made up: the vendor notes (§5, Estimate) list it as a field, and
    only an invoice's ``DueDate`` has a documented default; the sandbox gave an estimate
    without one an expiry 30 days on."""
    _customer_ref(realm, record)
    _dates(record, realm, None)
    record.setdefault("DocNumber", realm.next_doc_number())
    record.setdefault("TxnStatus", "Pending")
    if record["TxnStatus"] not in ESTIMATE_STATUSES:
        raise faults.invalid_enumeration(record["TxnStatus"], "TxnStatus")
    compute_document(record, realm.lookup, realm.tax_word)
    del existing


def prepare_sales_receipt(realm: Realm, record: Record, existing: Record | None) -> None:
    """Paid at sale: the customer is optional, the money goes to ``DepositToAccountRef`` (a
    bank account or Undeposited Funds, the default); nothing stays due (``Balance`` 0)."""
    if ref_id(record.get("CustomerRef")):
        _customer_ref(realm, record)
    _dates(record, realm, None)
    record.setdefault("DocNumber", realm.next_doc_number())
    deposit = record.get("DepositToAccountRef") or realm.undeposited_funds()
    record["DepositToAccountRef"] = account_ref(
        realm.lookup, deposit, "DepositToAccountRef", DEPOSIT_ACCOUNT_TYPES
    )
    if ref_id(record.get("PaymentMethodRef")):
        method = resolve_ref(
            realm.lookup, "PaymentMethod", record["PaymentMethodRef"], "PaymentMethodRef"
        )
        record["PaymentMethodRef"] = {"value": method["Id"], "name": method.get("Name")}
    compute_document(record, realm.lookup, realm.tax_word)
    record["Balance"] = 0.0
    del existing


def prepare_credit_memo(realm: Realm, record: Record, existing: Record | None) -> None:
    """A customer's credit: lines and tax as an invoice. What is not applied yet remains as
    credit: ``RemainingCredit`` = ``Balance`` = TotalAmt less what payments apply of it (a
    payment line linking the credit memo, ``realm.credit_applied``)."""
    _customer_ref(realm, record)
    _dates(record, realm, None)
    record.setdefault("DocNumber", realm.next_doc_number())
    compute_document(record, realm.lookup, realm.tax_word)
    applied = realm.credit_applied(record.get("Id"))
    if applied > Decimal(str(record["TotalAmt"])):
        raise faults.business(
            "The credit memo total is less than the credit applied from it.", "TotalAmt"
        )
    record["Balance"] = record["RemainingCredit"] = money(
        Decimal(str(record["TotalAmt"])) - applied
    )
    record["LinkedTxn"] = realm.payment_links(record.get("Id"), "CreditMemo")
    del existing


def prepare_payment(realm: Realm, record: Record, existing: Record | None) -> None:
    """Lines link invoices of the same customer, each at most that invoice's open balance;
    ``UnappliedAmt`` = TotalAmt minus the applied lines."""
    customer = _customer_ref(realm, record)
    _dates(record, realm, None)
    total = decimal(record.get("TotalAmt"), "TotalAmt")
    if total is None:
        raise faults.required("TotalAmt")
    applied = Decimal(0)
    lines = record.get("Line") or []
    for number, line in enumerate(lines, start=1):
        applied += _apply_line(realm, line, customer, record.get("Id"), record)
        line["LineNum"] = number
    if applied > total:
        raise faults.business(
            "The amount received is less than the amount applied to transactions.", "TotalAmt"
        )
    record["Line"] = lines
    record["TotalAmt"] = money(total)
    record["UnappliedAmt"] = money(total - applied)
    record.setdefault("ProcessPayment", False)
    del existing


def _apply_line(
    realm: Realm, line: Any, customer: Record, payment_id: str | None, payment: Record
) -> Decimal:
    """What the line applies: an invoice's part (positive) or a credit memo's (negative: credit
    used pays invoices in place of money)."""
    if not isinstance(line, dict):
        raise faults.invalid_property("Payment Line must be an object", "Line")
    amount = decimal(line.get("Amount"), "Amount")
    if amount is None:
        raise faults.required("Line.Amount")
    links = line.get("LinkedTxn") or []
    if len(links) != 1:
        raise faults.business("Each payment line must link exactly one transaction.", "LinkedTxn")
    link = links[0]
    if link.get("TxnType") == "CreditMemo":
        return -_apply_credit(realm, line, amount, customer, payment_id, payment)
    if link.get("TxnType") != "Invoice":
        raise faults.invalid_property(
            f"TxnType {link.get('TxnType')!r} is not supported; link invoices", "TxnType"
        )
    invoice = resolve_ref(realm.lookup, "Invoice", link.get("TxnId"), "LinkedTxn.TxnId")
    if ref_id(invoice["CustomerRef"]) != customer["Id"]:
        raise faults.business(f"Invoice {invoice['Id']} belongs to another customer.", "LinkedTxn")
    if ref_id(invoice.get("CurrencyRef")) != ref_id(payment.get("CurrencyRef")):
        # a payment applies only to transactions of its own currency (an invoice stored before
        # customers had one currency may still differ from its customer's)
        raise faults.business(
            "The currency of the invoice does not match the currency of the payment.",
            "LinkedTxn",
        )
    open_balance = Decimal(str(invoice["TotalAmt"])) - realm.paid_on_invoice(
        invoice["Id"], except_payment=payment_id
    )
    if amount > open_balance:
        raise faults.business(
            f"The payment amount {money(amount):.2f} is more than the "
            f"balance due {money(open_balance):.2f} on invoice "
            f"{invoice.get('DocNumber')}.",
            "Line.Amount",
        )
    line["Amount"] = money(amount)
    line["LinkedTxn"] = [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]
    return amount


def _apply_credit(
    realm: Realm,
    line: Record,
    amount: Decimal,
    customer: Record,
    payment_id: str | None,
    payment: Record,
) -> Decimal:
    """A line applying a credit memo of the payment's customer, in the payment's currency, at
    most its remaining credit (what other payments left of it)."""
    link = line["LinkedTxn"][0]
    memo = resolve_ref(realm.lookup, "CreditMemo", link.get("TxnId"), "LinkedTxn.TxnId")
    if ref_id(memo["CustomerRef"]) != customer["Id"]:
        raise faults.business(f"Credit memo {memo['Id']} belongs to another customer.", "LinkedTxn")
    currency = ref_id(payment.get("CurrencyRef")) or realm.currency
    if ref_id(memo.get("CurrencyRef")) != currency:
        raise faults.business(
            "The currency of the credit memo does not match the currency of the payment.",
            "LinkedTxn",
        )
    remaining = Decimal(str(memo["TotalAmt"])) - realm.credit_applied(
        memo["Id"], except_payment=payment_id
    )
    if amount <= 0:
        raise faults.invalid_property("Line.Amount must be more than 0", "Line.Amount")
    if amount > remaining:
        raise faults.business(
            f"The amount applied {money(amount):.2f} is more than the remaining credit "
            f"{money(remaining):.2f} on credit memo {memo.get('DocNumber')}.",
            "Line.Amount",
        )
    line["Amount"] = money(amount)
    line["LinkedTxn"] = [{"TxnId": memo["Id"], "TxnType": "CreditMemo"}]
    return amount


ESTIMATE_STATUSES = frozenset({"Pending", "Accepted", "Closed", "Rejected"})
DEPOSIT_ACCOUNT_TYPES = frozenset({"Bank", "Other Current Asset"})
_NAME_DEFAULTS = {"Active": True}
_SALES_FORM_DEFAULTS = {"PrintStatus": "NeedToPrint", "EmailStatus": "NotSet"}
ENTITIES: dict[str, EntitySpec] = {
    spec.path: spec
    for spec in (
        EntitySpec("TaxRate", writable=False),
        EntitySpec("TaxCode", writable=False),
        EntitySpec("Account", writable=False, name_field="Name"),
        EntitySpec("PaymentMethod", writable=False, name_field="Name"),
        EntitySpec(
            "Item",
            prepare_item,
            name_field="Name",
            defaults={**_NAME_DEFAULTS, "Type": "Service", "UnitPrice": 0, "Taxable": True},
        ),
        EntitySpec(
            "Customer",
            prepare_customer,
            name_field="DisplayName",
            defaults={
                **_NAME_DEFAULTS,
                "Job": False,
                "BillWithParent": False,
                "Taxable": True,
                "PreferredDeliveryMethod": "Print",
            },
        ),
        EntitySpec(
            "Vendor",
            prepare_vendor,
            name_field="DisplayName",
            defaults={**_NAME_DEFAULTS, "Vendor1099": False},
        ),
        EntitySpec(
            "Estimate",
            prepare_estimate,
            deletable=True,
            defaults={**_SALES_FORM_DEFAULTS, "LinkedTxn": []},
        ),
        EntitySpec(
            "Invoice",
            prepare_invoice,
            deletable=True,
            voidable=True,
            defaults={**_SALES_FORM_DEFAULTS, "AllowOnlinePayment": False},
        ),
        EntitySpec(
            "SalesReceipt",
            prepare_sales_receipt,
            deletable=True,
            voidable=True,
            defaults=_SALES_FORM_DEFAULTS,
        ),
        EntitySpec(
            "CreditMemo",
            prepare_credit_memo,
            deletable=True,
            voidable_in_screens=True,
            defaults=_SALES_FORM_DEFAULTS,
        ),
        EntitySpec("Payment", prepare_payment, deletable=True),
    )
}
#: Seeding order: records may only point at entities seeded before them.
SEED_ORDER = tuple(spec.name for spec in ENTITIES.values())
ENTITY_NAMES = {spec.name.lower(): spec.name for spec in ENTITIES.values()}
#: Entities listed in webhooks and change data capture.
TRACKED = frozenset(
    {"Customer", "Vendor", "Item", "Estimate", "Invoice", "SalesReceipt", "CreditMemo", "Payment"}
)
#: Sales forms: lines, tax, totals and a DocNumber from one sequence.
SALES_FORMS = ("Invoice", "Estimate", "SalesReceipt", "CreditMemo")
