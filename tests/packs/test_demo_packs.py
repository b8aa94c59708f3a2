"""``make demo LIBRARY=<pack>``'s setup: the pack's sandboxes seeded (here with the small fixtures),
connections made as the web app makes them, the pack installed and its history synced from
2000 — and records arrived on both sides."""

from __future__ import annotations

import pytest

from engine.config import Settings
from engine.service import build_service, shutdown_service
from modules.quickbooks import sandbox as qbo_sandbox
from switchboard.cli_packs import _demo_pack_setup, _demo_sandbox


@pytest.mark.parametrize("pack", ["zoho-quickbooks", "zoho-xero", "crm-quickbooks"])
def test_the_demo_installs_a_pack_and_syncs_both_ways(pack, serve, http, tmp_path, monkeypatch):
    from engine.packs import find_pack

    base = "http://127.0.0.1:8125"
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SWITCHBOARD_BASE_URL", base)
    monkeypatch.setenv("SWITCHBOARD_ALLOW_PRIVATE_NETWORK", "1")
    # The small fixtures: the demo's setup is under test, not the size of its company.
    apps = find_pack(pack).connection_apps
    urls = {app: serve(_demo_sandbox(app, base, "small")) for app in apps}

    lines = _demo_pack_setup(pack, urls, 600)

    assert any("historical sync:" in line and ", 0 errors" in line for line in lines), lines
    service = build_service(Settings.from_env())
    try:
        health = service.pack_health(pack)
        assert health and all(h["last_status"] in (None, "success") for h in health), health
        polling = [s for s in service.list_scenarios() if s.scheduling["type"] != "immediately"]
        assert {s.scheduling["interval"] for s in polling} <= {600, 86400}
    finally:
        shutdown_service(service)
    if pack == "crm-quickbooks":
        assert any("webhook of" in line for line in lines)
        return
    zoho = http.get(f"{urls['zohocrm']}/_sandbox/state").json()["records"]
    if pack == "zoho-quickbooks":
        realm = http.get(f"{urls['quickbooks']}/_sandbox/state").json()["records"]
        realm = realm[qbo_sandbox.DEFAULT_REALM_ID]
        # QuickBooks → Zoho: customers are linked contacts; Zoho → QuickBooks: invoices arrived.
        assert any(c.get("QuickBooks_Customer_Id") for c in zoho["Contacts"])
        assert any(
            str(i.get("PrivateNote", "")).startswith("Zoho invoice") for i in realm["Invoice"]
        )
    else:
        (tenant,) = http.get(f"{urls['xero']}/_sandbox/state").json()["records"].values()
        assert any(i["InvoiceNumber"].startswith("Z-") for i in tenant["Invoices"])
        assert any(a.get("Xero_Contact_Id") for a in zoho["Accounts"])
