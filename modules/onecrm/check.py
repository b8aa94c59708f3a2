"""``switchboard connection check`` for 1CRM: where a real instance differs from what the
modules and the prebuilt scenarios assume — read-only calls only.

In order: the API answers (``GET /version``, no credentials) in an edition that has it; the
connection's user signs in with Basic auth (off until an admin enables it); every model the
library reads or writes exists with the fields it uses (``GET /meta/fields/{Model}``) —
the Integrated ID custom field among them — and declares the list filters the library needs;
invoices and quotes have the related lists their lines are read from; the tax rates the
prebuilt scenarios map exist; and which currencies there are.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from engine.errors import AccountValidationError, DataError, ModuleError
from engine.spec import CheckFinding, CheckVerdict
from modules.connections import ApiClient
from modules.onecrm.client import OneCrmClient, instance_url, onecrm_settings
from modules.onecrm.documents import ADJUSTMENT_FIELDS, INVOICE_FIELDS, LINE_FIELDS, LINK_FIELDS
from modules.onecrm.reference import CURRENCY_FIELDS, TAX_RATE_FIELDS, currencies, percent
from modules.onecrm.reference import tax_rates as instance_tax_rates

OK, WARNING, PROBLEM = CheckVerdict.OK, CheckVerdict.WARNING, CheckVerdict.PROBLEM
API_EDITIONS = frozenset({"professional", "enterprise"})
ACCOUNT_FIELDS = (
    "name",
    "email1",
    "phone_office",
    "website",
    "billing_address_street",
    "billing_address_city",
    "billing_address_postalcode",
    "billing_address_country",
    "date_modified",
)
DOCUMENT_FIELDS = ("name", "billing_account_id", "billing_account", "currency_id", "amount")
LIBRARY_FIELDS: dict[str, tuple[str, ...]] = {
    "Account": ACCOUNT_FIELDS,
    "Invoice": (*DOCUMENT_FIELDS, *INVOICE_FIELDS, "invoice_date", "due_date", "date_entered"),
    "InvoiceLineGroup": ("parent_id", "position", "group_type", "subtotal", "total"),
    "InvoiceLine": ("invoice_id", *LINE_FIELDS),
    "InvoiceAdjustment": ("invoice_id", *ADJUSTMENT_FIELDS, "related_type", "related_id"),
    "Quote": (*DOCUMENT_FIELDS, "quote_number", "valid_until"),
    "QuoteLineGroup": ("parent_id", "position", "group_type", "subtotal", "total"),
    "QuoteLine": ("quote_id", *LINE_FIELDS),
    "QuoteAdjustment": ("quote_id", *ADJUSTMENT_FIELDS, "related_type", "related_id"),
    "Payment": (
        "account_id",
        "account",
        "direction",
        "amount",
        "total_amount",
        "payment_date",
        "payment_type",
        "customer_reference",
        "notes",
        "integrated_id",
    ),
    "invoices_payments": tuple(LINK_FIELDS),
    "Currency": tuple(CURRENCY_FIELDS),
    "TaxRate": tuple(TAX_RATE_FIELDS),
}
"""Per model, the fields the 1CRM modules and the prebuilt scenarios read or write."""
LIBRARY_FILTERS = {
    "Account": ("filter_text",),
    "Invoice": ("filter_text",),
    "Payment": ("filter_text",),
    "invoices_payments": ("payment_id",),
}
"""List filters the library cannot do without."""
CUSTOM_FIELDS = {
    ("Invoice", "integrated_id"): (
        "add a text field named integrated_id (label Integrated ID) to Invoices in 1CRM's "
        "Module Designer: the scenarios keep the accounting system's invoice id in it"
    ),
    ("Payment", "integrated_id"): (
        "add a text field named integrated_id (label Integrated ID) to Payments in 1CRM's "
        "Module Designer: the scenarios keep the accounting system's payment id in it"
    ),
}
SCENARIO_TAX_RATES = (Decimal("15"), Decimal("10"))
"""The tax percentages the prebuilt invoice and quote scenarios map (``switch(… 15 …; 10 …)``)."""
LINKED_LISTS = ("line_groups_link", "lines_link", "adjustments_link")


def check_connection(connection: Mapping[str, Any], session: Any) -> list[CheckFinding]:
    """The findings, in the order above; stops after the sign-in when that fails.

    Raises:
        ModuleError: the instance cannot be reached at all.
    """
    api = ApiClient(onecrm_settings(connection, max_retries=0), session, time.sleep)
    findings = [*api_findings(api), *transport_findings(connection)]
    signed_in = sign_in_finding(api)
    findings.append(signed_in)
    if signed_in.verdict is PROBLEM:
        return findings
    client = OneCrmClient(api)
    findings += model_findings(client)
    findings += linked_list_findings(client)
    findings += tax_rate_findings(client)
    findings += currency_findings(client)
    return findings


def api_findings(api: ApiClient) -> list[CheckFinding]:
    """``GET /version`` answers without credentials: the API is there, which edition."""
    answer = api.request("GET", "version").body or {}
    products = [str(p).lower() for p in answer.get("products") or []]
    found = f"1CRM {answer.get('version', '?')}, {', '.join(products) or 'no edition named'}"
    if products and not API_EDITIONS.intersection(products):
        return [
            CheckFinding(
                subject="REST API",
                verdict=PROBLEM,
                expected="Professional or Enterprise edition",
                found=found,
                hint="1CRM's REST API exists only in the Professional and Enterprise editions",
            )
        ]
    return [CheckFinding(subject="REST API", verdict=OK, found=found)]


def transport_findings(connection: Mapping[str, Any]) -> list[CheckFinding]:
    if instance_url(connection).startswith("https://"):
        return []
    return [
        CheckFinding(
            subject="instance URL",
            verdict=WARNING,
            expected="https://",
            found="http://",
            hint="1CRM refuses plain http:// API calls unless an admin allows them, and Basic "
            "auth sends the password with every call: use the https:// address",
        )
    ]


def sign_in_finding(api: ApiClient) -> CheckFinding:
    """``GET /me`` with the connection's user and password (HTTP Basic)."""
    try:
        me = api.request("GET", "me").body or {}
    except AccountValidationError as error:
        return CheckFinding(
            subject="sign-in (Basic auth)",
            verdict=PROBLEM,
            expected="the user signs in",
            found=str(error),
            hint="Basic auth is off on a new 1CRM instance: an administrator enables it in "
            "1CRM's administration (API settings); see docs/connectors/onecrm.md",
        )
    user = " ".join(str(p) for p in (me.get("first_name"), me.get("last_name")) if p)
    return CheckFinding(subject="sign-in (Basic auth)", verdict=OK, found=user or str(me.get("id")))


def model_findings(client: OneCrmClient) -> list[CheckFinding]:
    findings = []
    for model, fields in LIBRARY_FIELDS.items():
        try:
            metadata = client.metadata(model)
        except DataError as error:
            findings.append(
                CheckFinding(
                    subject=f"model {model}",
                    verdict=PROBLEM,
                    expected="the model exists",
                    found=str(error),
                    hint="the library reads or writes it; a 1CRM edition without it cannot "
                    "run the invoice, quote and payment scenarios",
                )
            )
            continue
        findings += field_findings(model, fields, metadata["fields"])
        findings += filter_findings(model, metadata["filters"])
    return findings


def field_findings(
    model: str, fields: Iterable[str], present: Mapping[str, Any]
) -> list[CheckFinding]:
    wanted = list(dict.fromkeys(fields))
    missing = [name for name in wanted if name not in present]
    if not missing:
        return [CheckFinding(subject=f"fields of {model}", verdict=OK, found=f"all {len(wanted)}")]
    return [
        CheckFinding(
            subject=f"field {model}.{name}",
            verdict=PROBLEM,
            expected="the field exists",
            found="missing",
            hint=CUSTOM_FIELDS.get((model, name), "the library maps this field"),
        )
        for name in missing
    ]


def filter_findings(model: str, declared: Mapping[str, Any]) -> list[CheckFinding]:
    findings = [
        CheckFinding(
            subject=f"list filter {model}.{name}",
            verdict=PROBLEM,
            expected="declared",
            found="not declared",
            hint="1CRM takes only the filters a model declares; add it in Module Designer "
            "(Enterprise)",
        )
        for name in LIBRARY_FILTERS.get(model, ())
        if name not in declared
    ]
    if model == "Invoice" and "integrated_id" not in declared:
        findings.append(
            CheckFinding(
                subject="list filter Invoice.integrated_id",
                verdict=WARNING,
                expected="declared (optional)",
                found="not declared",
                hint="payments from the accounting system find their invoice by Integrated ID "
                "among the 1,000 most recently changed invoices; declare an integrated_id "
                "filter (Module Designer, Enterprise) to find any invoice directly",
            )
        )
    return findings


def linked_list_findings(client: OneCrmClient) -> list[CheckFinding]:
    """The related lists lines are read from, tried on one existing quote and invoice."""
    findings = []
    for model in ("Invoice", "Quote"):
        try:
            sample = next(client.search(model, fields=["name"], limit=1), None)
        except ModuleError:
            continue  # the model's own finding says why
        if sample is not None:
            findings += document_list_findings(client, model, sample)
    return findings


def document_list_findings(
    client: OneCrmClient, model: str, sample: Mapping[str, Any]
) -> list[CheckFinding]:
    problems = []
    for link in LINKED_LISTS:
        try:
            next(client.related(model, sample["id"], link, ["position"]), None)
        except DataError as error:
            problems.append(
                CheckFinding(
                    subject=f"related list {model}.{link}",
                    verdict=PROBLEM,
                    expected="lists the document's parts",
                    found=str(error),
                    hint="List Line Items reads a document's lines from it",
                )
            )
    found = f"read on {model} {sample.get('name')}"
    return problems or [CheckFinding(subject=f"line lists of {model}", verdict=OK, found=found)]


def tax_rate_findings(client: OneCrmClient) -> list[CheckFinding]:
    try:
        rates = instance_tax_rates(client)
    except ModuleError:
        return []  # the TaxRate model finding already says why
    findings = []
    for rate in SCENARIO_TAX_RATES:
        record = rates.get(rate)
        if record is not None:
            findings.append(
                CheckFinding(subject=f"tax rate {percent(rate)}", verdict=OK, found=record["name"])
            )
            continue
        findings.append(
            CheckFinding(
                subject=f"tax rate {percent(rate)}",
                verdict=PROBLEM,
                expected="a tax rate of this percentage",
                found=", ".join(percent(r) for r in sorted(rates)) or "no tax rates",
                hint="the prebuilt scenarios write lines taxed at this rate; add it in 1CRM "
                "(Tax Rates), or change the scenarios' tax mapping",
            )
        )
    return findings


def currency_findings(client: OneCrmClient) -> list[CheckFinding]:
    try:
        known = currencies(client)
    except ModuleError:
        return []
    codes = [str(c.get("iso4217") or c.get("name")) for c in known if c.get("status") != "Inactive"]
    base = next((str(c.get("iso4217")) for c in known if str(c.get("id")) == "-99"), "?")
    found = f"base {base}; " + ", ".join(codes)
    if len(codes) <= 1:
        return [
            CheckFinding(
                subject="currencies",
                verdict=WARNING,
                expected="every currency the accounting system invoices in",
                found=found,
                hint="an invoice or payment in another currency fails until 1CRM has it "
                "(Currencies)",
            )
        ]
    return [CheckFinding(subject="currencies", verdict=OK, found=found)]
