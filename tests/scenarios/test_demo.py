"""``switchboard demo``'s setup: connections to the sandboxes, the library imported and active,
1CRM's webhooks subscribed to the product's address."""

from __future__ import annotations

from engine.config import Settings
from engine.service import build_service, shutdown_service
from modules.onecrm import sandbox as onecrm_sandbox
from modules.xero import sandbox as xero_sandbox
from switchboard.cli import _demo_setup
from tests.scenarios.conftest import CRM_AUTH


def test_demo_imports_and_activates_the_library_against_seeded_sandboxes(
    serve, http, tmp_path, monkeypatch
):
    onecrm = serve(onecrm_sandbox.create_app({"fixture": "demo"}))
    xero = serve(xero_sandbox.create_app({"fixture": "demo"}))
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SWITCHBOARD_BASE_URL", "http://127.0.0.1:8123")

    names = _demo_setup(onecrm, xero, 60)

    # §2.1 to 2.11, 2.12 (quote edits and statuses from 1CRM) and 2.13 (quote statuses from Xero)
    assert len(names) == 13
    service = build_service(Settings.from_env())
    try:
        scenarios = service.list_scenarios()
        assert all(s.active for s in scenarios) and len(scenarios) == 13
        polling = [s for s in scenarios if s.scheduling["type"] != "immediately"]
        assert [s.scheduling["interval"] for s in polling] == [60, 60, 60, 60, 60]
        assert service.store.count_users() == 1
    finally:
        shutdown_service(service)
    hooks = http.get(f"{onecrm}/api.php/webhooks", auth=CRM_AUTH).json()["records"]
    assert sorted((h["model"], h["type"]) for h in hooks) == [
        ("Account", "create_update"),
        ("Invoice", "create"),
        ("Invoice", "update"),
        ("Invoice", "update"),
        ("Payment", "create"),
        ("Payment", "update"),
        ("Quote", "create"),
        ("Quote", "update"),
    ]
    assert all(h["url"].startswith("http://127.0.0.1:8123/hooks/") for h in hooks)


def test_demo_runs_the_quickbooks_library_too(serve, tmp_path, monkeypatch):
    from modules.quickbooks import sandbox as qbo_sandbox

    onecrm = serve(onecrm_sandbox.create_app({"fixture": "demo"}))
    quickbooks = serve(qbo_sandbox.create_app({"fixture": "demo"}))
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SWITCHBOARD_BASE_URL", "http://127.0.0.1:8124")

    names = _demo_setup(onecrm, quickbooks, 60, "quickbooks")

    # §3.1 to 3.7, 3.8, 3.9 and 3.10 (deletions, cancels, edits from 1CRM), 3.11 and 3.12 (credits),
    # 3.13 (quote edits from 1CRM)
    assert len(names) == 14
    service = build_service(Settings.from_env())
    try:
        assert all(s.active for s in service.list_scenarios())
        [connection] = service.store.list_connections(app="quickbooks")
        assert connection.data["realm_id"] and connection.data["company_name"]
        assert connection.secrets["verifier_token"]
    finally:
        shutdown_service(service)


def test_the_demo_s_1crm_has_the_accounting_organisations_base_currency(serve, http):
    """#20: the demo's 1CRM defaulted to USD while its Xero organisation is NZD, so every
    invoice in 1CRM's base currency was one in another currency on the other side."""
    from modules.quickbooks import sandbox as qbo_sandbox
    from switchboard.cli import DEMO_ONECRM
    from tests.connectors.conftest import Sandbox

    onecrm = Sandbox(serve(onecrm_sandbox.create_app(DEMO_ONECRM)), http)
    (base,) = [c for c in onecrm.state()["records"]["Currency"] if c["id"] == "-99"]
    xero = Sandbox(serve(xero_sandbox.create_app({"fixture": "demo"})), http)
    quickbooks = Sandbox(serve(qbo_sandbox.create_app({"fixture": "demo"})), http)
    (company,) = quickbooks.state()["records"].values()
    home = {invoice["CurrencyRef"]["value"] for invoice in company["Invoice"]}
    assert base["iso4217"] == xero.state()["config"]["base_currency"] == "NZD"
    assert home == {"NZD"}
