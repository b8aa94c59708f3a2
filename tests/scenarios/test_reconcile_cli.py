"""``switchboard reconcile LIBRARY`` and ``service.reconcile``: both sandboxes read through the
stored connections of the library's scenarios, every difference linked to the sync-log entry
of its record (the comparison itself is ``modules.reconcile``, tested in tests/reconcile)."""

from __future__ import annotations

import json

import pytest

from engine.service import InvalidRequest
from switchboard.cli import main
from tests.scenarios.test_xero_documents import LINES, customer


def two_invoices(library):
    """One 1CRM invoice synced to Xero by 2.3 and then voided in Xero; one 2.3 did not sync
    (its account is not a Xero contact: Not Valid, or waiting for the contact, as the library's
    rules have it)."""
    account_id, _ = customer(library)
    stranger = library.crm("POST", "Account", {"name": "Nobody Ltd"})
    scenario = library.load("2.3")
    synced = library.crm_person(
        "Invoice",
        {
            "name": "Good",
            "due_date": "2026-03-31",
            "billing_account_id": account_id,
            "line_items": LINES,
        },
    )
    library.deliver(scenario)
    refused = library.crm_person(
        "Invoice",
        {
            "name": "Lost",
            "due_date": "2026-03-31",
            "billing_account_id": stranger["id"],
            "line_items": LINES,
        },
    )
    library.deliver(scenario)
    (xero_invoice,) = library.xero_records("Invoices")
    voided = {"InvoiceID": xero_invoice["InvoiceID"], "Status": "VOIDED"}
    library.xero_api("POST", f"Invoices/{xero_invoice['InvoiceID']}", {"Invoices": [voided]})
    return scenario, synced, refused, xero_invoice


def number_of(library, invoice):
    stored = library.crm("GET", f"Invoice/{invoice['id']}")["record"]
    return f"{stored['prefix']}{stored['invoice_number']}"


def test_every_difference_leads_to_the_sync_log_entry_of_its_record(library):
    scenario, synced, refused, xero_invoice = two_invoices(library)

    result = library.service.reconcile("xero")

    assert not result.balanced
    assert result.connections == {
        "onecrm": library.connections["onecrm"],
        "xero": library.connections["xero"],
    }
    assert list(result.scenarios) == [scenario]
    by_record = {(d.kind, d.label, d.field): d for d in result.differences}
    log = {entry.source_key: entry for entry in library.service.sync_log(scenario)}
    # Only 1CRM has the refused invoice: the difference leads to its 2.3 entry, which says why.
    lost = by_record[("invoice", number_of(library, refused), "exists")]
    assert (lost.crm, lost.accounting) == (True, False)
    (link,) = lost.sync_log
    assert (link.scenario_id, link.entry) == (scenario, log[refused["id"]])
    assert link.entry.status in ("Not Valid", "Error") and link.entry.message
    # Voided in Xero after it synced: the status differs, and its entry says it was Synced.
    status = by_record[("invoice", xero_invoice["InvoiceNumber"], "status")]
    assert (status.key, status.crm, status.accounting) == (
        xero_invoice["InvoiceID"],
        "open",
        "void",
    )
    (link,) = status.sync_log
    assert link.entry == log[synced["id"]]
    assert (link.entry.status, link.entry.target_key) == ("Synced", xero_invoice["InvoiceID"])
    # The JSON form: amounts as exact text, links as sync-log entries with their scenario.
    document = result.to_dict()
    assert document["records"]["xero"]["invoices"] == 1
    entry = next(d for d in document["differences"] if d["field"] == "status")
    assert entry["sync_log"][0]["scenario_id"] == scenario
    assert entry["sync_log"][0]["execution_id"]
    amounts = [d for d in document["differences"] if d["field"] == "amount_due"]
    assert all(isinstance(d["crm"], str) for d in amounts)


def test_reconcile_needs_one_connection_per_app_or_one_given(library):
    with pytest.raises(InvalidRequest, match="which onecrm connection"):
        library.service.reconcile("xero")  # no scenario of the library imported yet
    with pytest.raises(InvalidRequest, match="unknown library 'sage'"):
        library.service.reconcile("sage")
    given = {"onecrm": library.connections["onecrm"], "xero": library.connections["xero"]}
    result = library.service.reconcile("xero", connections=given)
    assert result.scenarios == {}  # nothing imported: differences link to no entry
    assert all(d.sync_log == () for d in result.differences)


def test_switchboard_reconcile_prints_the_differences_with_their_sync_log(
    library, monkeypatch, capsys
):
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(library.service.settings.var_dir))
    monkeypatch.setenv("SWITCHBOARD_ALLOW_PRIVATE_NETWORK", "1")  # the sandboxes are local
    scenario, _, refused, xero_invoice = two_invoices(library)

    assert main(["reconcile", "xero"]) == 1  # differences found
    text = capsys.readouterr().out
    assert "invoice" in text and xero_invoice["InvoiceNumber"] in text
    (lost,) = [line for line in text.splitlines() if number_of(library, refused) in line]
    (entry,) = [e for e in library.service.sync_log(scenario) if e.source_key == refused["id"]]
    name = library.service.store.get_scenario(scenario).name
    assert f"{name}: {entry.status} ({entry.message})" in lost

    assert main(["reconcile", "xero", "--json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["balanced"] is False and document["library"] == "xero"

    assert main(["reconcile", "sage"]) == 2
    assert "unknown library 'sage'" in capsys.readouterr().err


def test_a_quote_difference_leads_to_the_sync_log_entry_of_the_quote(library):
    """A 1CRM quote 2.5 sent to Xero and then edited in Xero; one 2.5 did not send (its
    account is not a Xero contact): each difference leads to the quote's 2.5 entry."""
    account_id, _ = customer(library)
    stranger = library.crm("POST", "Account", {"name": "Nobody Ltd"})
    scenario = library.load("2.5")
    sent = library.crm_person(
        "Quote", {"name": "Fence", "billing_account_id": account_id, "line_items": LINES}
    )
    library.deliver(scenario)
    unsent = library.crm_person(
        "Quote", {"name": "Gate", "billing_account_id": stranger["id"], "line_items": LINES}
    )
    library.deliver(scenario)
    (xero_quote,) = library.xero_records("Quotes")
    edited = {
        "QuoteID": xero_quote["QuoteID"],
        "Contact": {"ContactID": xero_quote["Contact"]["ContactID"]},
        "Date": "2026-03-01",
        "ExpiryDate": "2026-06-30",
    }
    library.xero_api("POST", f"Quotes/{xero_quote['QuoteID']}", {"Quotes": [edited]})

    result = library.service.reconcile("xero")

    log = {entry.source_key: entry for entry in library.service.sync_log(scenario)}
    by_field = {(d.kind, d.field): d for d in result.differences}
    assert by_field[("quote", "date")].accounting == "2026-03-01"
    expiry = by_field[("quote", "expiry")]
    assert (expiry.key, expiry.accounting) == (xero_quote["QuoteID"], "2026-06-30")
    (link,) = expiry.sync_log
    assert (link.entry, link.entry.status) == (log[sent["id"]], "Synced")
    lost = by_field[("quote", "exists")]
    assert (lost.key, lost.crm, lost.accounting) == (unsent["id"], True, False)
    (link,) = lost.sync_log
    assert link.entry == log[unsent["id"]] and link.entry.status != "Synced"
    assert result.to_dict()["records"]["xero"]["quotes"] == 1
