"""``switchboard connection check`` for Zoho CRM: read-only calls that compare an organisation
with what the modules assume.

Looked at (reads only):

- the data centre: the API host (``api_domain``) and the accounts server the tokens are
  refreshed at must be one data centre's pair (vendor/zoho/NOTES.md §1);
- the grant, call by call: records, search (``ZohoSearch.securesearch.READ``), notifications
  (New Event's channels), module and field metadata (§2);
- the modules the connector serves (``MODULES``): present in the organisation's edition (Quotes
  and Invoices are not in every edition);
- per module, the fields the modules name (``FIELDS_USED``: the name field, ``Modified_Time``
  that Watch Records pages by, the v8 line-item subforms);
- per accounting system, the sync packs' cross-reference fields (``crossref.py``: the other
  system's id on each record) the layouts lack;
- the limits the client keeps to: the edition's API credits a day and calls at once (§8), and
  whether the organisation's licence (``GET /org``) still says that edition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.errors import AccountValidationError
from engine.spec import CheckFinding, CheckVerdict
from modules.connections import ApiClient
from modules.zohocrm.client import MODULES, edition_of, licence_of
from modules.zohocrm.crossref import CROSS_REFERENCE_FIELDS
from modules.zohocrm.datacentres import by_accounts_server, by_api_domain
from modules.zohocrm.modules import FIELDS_USED

OK, WARNING, PROBLEM = CheckVerdict.OK, CheckVerdict.WARNING, CheckVerdict.PROBLEM

Probe = Callable[[], Any]


def check_org(api: ApiClient, connection: Mapping[str, Any]) -> list[CheckFinding]:
    """The findings for one organisation, in a fixed order (see the module docstring).

    Raises:
        ModuleError: the organisation's records cannot be read at all (reauthorize).
    """
    api.request("GET", "Accounts", params={"fields": "Account_Name", "per_page": 1})
    findings = [
        data_centre_finding(connection),
        CheckFinding(subject="scope: records", verdict=OK, found="readable"),
    ]
    findings.append(
        scope_finding(
            "scope: search",
            lambda: api.request("GET", "Accounts/search", params={"word": "switchboard-check"}),
            "ZohoSearch.securesearch.READ",
            "Search Records fails until the connection is signed in again with it",
            PROBLEM,
        )
    )
    findings.append(
        scope_finding(
            "scope: notifications",
            lambda: api.request("GET", "actions/watch"),
            "ZohoCRM.notifications.ALL",
            "New Event cannot subscribe its channel until the connection is signed in again",
            PROBLEM,
        )
    )
    modules = settings_call(lambda: api.request("GET", "settings/modules").body)
    if modules is None:
        findings.append(
            CheckFinding(
                subject="scope: settings",
                verdict=WARNING,
                expected="ZohoCRM.settings.modules.READ, ZohoCRM.settings.fields.READ",
                found="not granted",
                hint="sign in again to let the check read the organisation's modules and fields",
            )
        )
    else:
        findings += module_findings(api, modules)
    findings.append(
        limits_finding(connection, settings_call(lambda: api.request("GET", "org").body))
    )
    return findings


def data_centre_finding(connection: Mapping[str, Any]) -> CheckFinding:
    api_domain = str(connection.get("api_domain") or "")
    token_url = str(connection.get("token_url") or "")
    api_dc, accounts_dc = by_api_domain(api_domain), by_accounts_server(token_url)
    found = f"API {api_domain or '-'}, accounts {token_url or '-'}"
    if api_dc is None or accounts_dc is None:
        return CheckFinding(
            subject="data centre",
            verdict=WARNING,
            expected="one of Zoho's data centres (US, EU, IN, AU, JP, CA, CN, SA)",
            found=found,
            hint="not a Zoho host (a sandbox?)",
        )
    if api_dc != accounts_dc:
        return CheckFinding(
            subject="data centre",
            verdict=PROBLEM,
            expected=f"{api_dc.code}: accounts server {api_dc.accounts_server}",
            found=found,
            hint="the tokens are refreshed in another data centre: sign in again from "
            f"{api_dc.accounts_server}",
        )
    return CheckFinding(
        subject="data centre",
        verdict=OK,
        expected="API host and accounts server of one data centre",
        found=f"{api_dc.code} ({api_dc.api_host}, {api_dc.accounts_host})",
    )


def _scope_refused(error: AccountValidationError) -> bool:
    body = (getattr(error, "detail", None) or {}).get("body")
    return isinstance(body, Mapping) and body.get("code") == "OAUTH_SCOPE_MISMATCH"


def scope_finding(
    subject: str, probe: Probe, scope: str, consequence: str, verdict: CheckVerdict
) -> CheckFinding:
    """Whether a read-only ``probe`` call is allowed by the grant."""
    try:
        probe()
    except AccountValidationError as error:
        if not _scope_refused(error):
            raise
        return CheckFinding(
            subject=subject, verdict=verdict, expected=scope, found="not granted", hint=consequence
        )
    return CheckFinding(subject=subject, verdict=OK, expected=scope, found="granted")


def settings_call(probe: Probe) -> Any:
    """A metadata call's answer, or None when the grant lacks the settings scope."""
    try:
        return probe() or {}
    except AccountValidationError as error:
        if not _scope_refused(error):
            raise
        return None


def module_findings(api: ApiClient, answer: Mapping[str, Any]) -> list[CheckFinding]:
    present = {
        str(m.get("api_name")): m
        for m in answer.get("modules") or []
        if isinstance(m, Mapping) and m.get("api_supported", True)
    }
    findings, layouts = [], {}
    for module in MODULES:
        if module not in present:
            findings.append(
                CheckFinding(
                    subject=f"module {module}",
                    verdict=PROBLEM,
                    expected="available",
                    found="not in this organisation",
                    hint=f"its modules fail on {module}: the edition may not include it",
                )
            )
            continue
        layouts[module] = layout_of(api, module)
        findings.append(field_finding(module, layouts[module]))
    return findings + [
        cross_reference_finding(system, fields, layouts)
        for system, fields in CROSS_REFERENCE_FIELDS.items()
    ]


def layout_of(api: ApiClient, module: str) -> set[str]:
    """The API names of a module's fields (``GET /settings/fields``)."""
    answer = api.request("GET", "settings/fields", params={"module": module}).body or {}
    return {str(f.get("api_name")) for f in answer.get("fields") or [] if isinstance(f, Mapping)}


def field_finding(module: str, names: set[str]) -> CheckFinding:
    used = FIELDS_USED[module]
    missing = [name for name in used if name not in names]
    expected = ", ".join(used)
    if missing:
        return CheckFinding(
            subject=f"module {module}",
            verdict=PROBLEM,
            expected=expected,
            found=f"missing {', '.join(missing)}",
            hint="the modules read or write these fields; add them to the layout or map others",
        )
    return CheckFinding(subject=f"module {module}", verdict=OK, expected=expected, found="present")


def cross_reference_finding(
    system: str, fields: Mapping[str, str], layouts: Mapping[str, set[str]]
) -> CheckFinding:
    """The ``system`` sync pack's cross-reference fields the organisation's layouts lack
    (modules the organisation lacks are reported on their own)."""
    subject = f"cross-reference fields ({system})"
    expected = ", ".join(f"{module}.{name}" for module, name in fields.items())
    missing = [
        f"{module}.{name}"
        for module, name in fields.items()
        if module in layouts and name not in layouts[module]
    ]
    if missing:
        return CheckFinding(
            subject=subject,
            verdict=WARNING,
            expected=expected,
            found=f"missing {', '.join(missing)}",
            hint=f"the Zoho CRM ⇄ {system} sync pack keeps {system}'s ids there: add single-line "
            'fields with these API names (a field labelled "QuickBooks Customer Id" gets '
            "QuickBooks_Customer_Id)",
        )
    return CheckFinding(subject=subject, verdict=OK, expected=expected, found="present")


def limits_finding(connection: Mapping[str, Any], org: Any) -> CheckFinding:
    """The budget the client keeps to, against the organisation's licence when readable."""
    edition, users = edition_of(connection)
    name = str(connection.get("edition") or "free").lower()
    found = (
        f"{name} edition, {users} user(s): {edition.credits(users):,} API credits a day, "
        f"{edition.concurrent_calls} calls at once"
    )
    licence = licence_of(org) if org is not None else {}
    expected = "the organisation's edition and licensed users"
    if licence and (licence["edition"], int(licence["licensed_users"])) != (name, users):
        return CheckFinding(
            subject="limits",
            verdict=WARNING,
            expected=f"{licence['edition']} edition, {licence['licensed_users']} user(s)",
            found=found,
            hint="the licence changed since sign-in: sign in again so the client keeps to the "
            "right budget",
        )
    if org is None:
        return CheckFinding(
            subject="limits",
            verdict=WARNING,
            expected=expected,
            found=found,
            hint="the grant cannot read the organisation (ZohoCRM.org.READ): the budget may "
            "be too small or too large",
        )
    return CheckFinding(subject="limits", verdict=OK, expected=expected, found=found)
