"""The sync log ("did this invoice sync?") from real runs, and the command line around the
library: ``switchboard import … --connection APP=ID`` and ``switchboard log SCENARIO``."""

from __future__ import annotations

import json
from contextlib import contextmanager

from sqlalchemy import event

from engine.service.synclog import sync_entries
from switchboard.cli import main
from tests.scenarios.conftest import LIBRARY
from tests.scenarios.test_xero_documents import LINES, customer, xero_invoice

FROM_XERO = "d1c7a5a4-58d4-4b5e-9b3e-0c1f0e1a7a11"


@contextmanager
def counted_queries(store):
    """The SELECT statements the store sends while the block runs."""
    statements: list[str] = []

    def count(connection, cursor, statement, *rest):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(store._engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(store._engine, "before_cursor_execute", count)


def test_sync_log_says_which_invoices_synced_which_were_not_valid_and_why_one_failed(library):
    account_id, _ = customer(library)
    scenario = library.load("2.3")

    synced = library.crm_person(
        "Invoice",
        {
            "name": "Good",
            "due_date": "2026-03-31",  # Xero refuses an AUTHORISED invoice without one
            "billing_account_id": account_id,
            "line_items": LINES,
        },
    )
    library.deliver(scenario)
    invalid = library.crm_person(
        "Invoice",
        {
            "name": "From Xero",
            "billing_account_id": account_id,
            "integrated_id": FROM_XERO,  # 2.4 wrote it: not sent back
            "line_items": LINES,
        },
    )
    library.deliver(scenario)
    library.xero.fault(status=500, count=1, method="PUT", path_prefix="/api.xro/2.0/Invoices")
    failed = library.crm_person(
        "Invoice",
        {
            "name": "Unlucky",
            "due_date": "2026-03-31",  # Xero refuses an AUTHORISED invoice without one
            "billing_account_id": account_id,
            "line_items": LINES,
        },
    )
    library.deliver(scenario)

    with counted_queries(library.service.store) as queries:
        log = {entry.source_key: entry for entry in library.service.sync_log(scenario)}
    # No read per execution: the scenario, then one page of executions with their records,
    # and (a record waits to be retried) the scenario's incomplete executions.
    assert len(queries) == 3, queries
    (xero_invoice_id,) = [i["InvoiceID"] for i in library.xero_records("Invoices")]
    assert log[synced["id"]].status == "Synced"
    assert log[synced["id"]].target_key == xero_invoice_id
    # Named as 1CRM shows the document: its number (1CRM's naming), not its subject.
    stored = library.crm("GET", f"Invoice/{synced['id']}")["record"]
    assert log[synced["id"]].source_name == f"{stored['prefix']}{stored['invoice_number']}"
    assert log[synced["id"]].source_name.endswith(str(stored["invoice_number"]))
    assert log[invalid["id"]].status == "Not Valid"
    # The condition that failed, with its value: the invoice came from Xero.
    assert f'{{{{1.integrated_id}}}} does not exist (it was "{FROM_XERO}")' in (
        log[invalid["id"]].message
    )
    assert log[failed["id"]].status == "Error"
    assert "xero:CreateInvoice" in log[failed["id"]].message
    assert "waiting: retry 1 of 8 at" in log[failed["id"]].message  # Break keeps it (#20)
    assert all(entry.at and entry.execution_id for entry in log.values())


def test_sync_log_of_a_polling_run_gives_each_record_its_own_outcome(library):
    account_id, contact_id = customer(library)
    (stranger,) = library.xero_api("PUT", "Contacts", {"Name": "Stranger Ltd"})["Contacts"]
    scenario = library.load("2.4")
    library.service.choose_where_to_start(scenario, 1, {"type": "all"})
    mine = xero_invoice(library, contact_id)
    theirs = xero_invoice(library, stranger["ContactID"], reference="PO-9")
    execution = library.poll(scenario)

    entries = {e.source_key: e for e in sync_entries(execution.record)}
    assert entries[mine["InvoiceID"]].status == "Synced"
    (created,) = library.crm_records("Invoice")
    assert entries[mine["InvoiceID"]].target_key == created["id"]
    # Its customer is not in 1CRM yet: it waits (an incomplete execution retried later).
    assert entries[theirs["InvoiceID"]].status == "Error"
    assert "Stranger Ltd" in entries[theirs["InvoiceID"]].message
    assert "incomplete execution to retry" in entries[theirs["InvoiceID"]].message
    assert account_id


def test_import_binds_connections_and_log_prints_the_table(library, monkeypatch, capsys):
    var_dir = library.service.settings.var_dir
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(var_dir))
    path = next((LIBRARY / "xero").glob("2.1-*.json"))

    assert main(["import", str(path)]) == 0  # placeholders may stay unbound (bind later)
    capsys.readouterr()
    assert main(["import", str(path), "--connection", "onecrm=1"]) == 2
    assert "bind a connection for xero" in capsys.readouterr().err

    crm, xero = library.connections["onecrm"], library.connections["xero"]
    bound = ["--connection", f"onecrm={crm}", "--connection", f"xero={xero}"]
    assert main(["import", str(path), *bound]) == 0
    scenario_id = int(capsys.readouterr().out.strip())
    exported = json.loads(library.service.export_scenario(scenario_id))
    connections = {
        node["module"]: node["parameters"]["__IMTCONN__"] for node in exported["flow"][:3]
    }
    assert connections == {
        "onecrm:NewEvent": crm,
        "onecrm:GetRecord": crm,
        "xero:SearchContacts": xero,
    }

    library.service.activate_scenario(scenario_id)
    library.crm("POST", "Account", {"name": "Logged Ltd"})
    library.deliver(scenario_id)
    assert main(["log", str(scenario_id)]) == 0
    table = capsys.readouterr().out
    assert "Synced" in table and "Logged Ltd" in table
    assert main(["log", str(scenario_id), "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["status"] == "Synced" and entry["target_key"]
