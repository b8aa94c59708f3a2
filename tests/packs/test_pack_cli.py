"""``switchboard pack``: install a pack from the command line into the store the environment
names, then sync historical data from a date with progress, against the sandboxes."""

from __future__ import annotations

import json

from engine.config import Settings
from engine.registry import default_registry
from engine.store import open_store
from switchboard.cli import main
from tests.connectors.test_quickbooks_support import connect_quickbooks
from tests.connectors.test_zohocrm_support import connect_zohocrm


def test_pack_install_then_historical_sync_from_the_command_line(
    tmp_path, monkeypatch, capsys, zoho_sandbox_app, qbo_sandbox_app, http
):
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SWITCHBOARD_ALLOW_PRIVATE_NETWORK", "1")
    settings = Settings.from_env().with_secret_key_file()
    store = open_store(settings.database_url, secret_box=settings.secret_box())
    registry = default_registry()
    zoho = connect_zohocrm(store, registry, http, zoho_sandbox_app).id
    qbo = connect_quickbooks(store, registry, http, qbo_sandbox_app).id
    store.close()

    assert main(["pack", "list"]) == 0
    assert "zoho-quickbooks" in capsys.readouterr().out
    bad = ["pack", "install", "zoho-quickbooks", f"--connection=zohocrm={zoho}"]
    assert main(bad) == 2
    assert "choose the QuickBooks Online connection" in capsys.readouterr().err
    install = [
        "pack",
        "install",
        "zoho-quickbooks",
        f"--connection=zohocrm={zoho}",
        f"--connection=quickbooks={qbo}",
        "--direction=vendors=off",
        "--direction=customers=to_crm",
        "--tax=GST=4",
        "--interval=10",
        "--since=2020-01-01",
    ]
    assert main(install) == 0
    captured = capsys.readouterr()
    assert "QuickBooks → Zoho CRM: customers to contacts: created, active" in captured.out
    assert "Zoho CRM → QuickBooks: contacts to customers: created, off" in captured.out
    assert "historical sync since 2020-01-01:" in captured.err
    # The fixture's QuickBooks customers (with e-mails) are now Zoho contacts.
    emails = {c.get("Email") for c in zoho_sandbox_app.state()["records"]["Contacts"]}
    assert "accounts@acmeltd.example" in emails

    # Installing again with other choices updates the same scenarios.
    again = [*install[:5], "--direction=customers=both"]
    assert main(again) == 0
    out = capsys.readouterr().out
    assert "contacts to customers: updated, active" in out
    assert main(["pack", "status", "zoho-quickbooks", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["settings"]["directions"]["customers"] == "both"
    assert status["settings"]["interval_minutes"] is None
    assert len(status["scenarios"]) == 9
