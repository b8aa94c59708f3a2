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

    assert len(names) == 7
    service = build_service(Settings.from_env())
    try:
        scenarios = service.list_scenarios()
        assert all(s.active for s in scenarios) and len(scenarios) == 7
        polling = [s for s in scenarios if s.scheduling["type"] != "immediately"]
        assert [s.scheduling["interval"] for s in polling] == [60, 60, 60]
        assert service.store.count_users() == 1
    finally:
        shutdown_service(service)
    hooks = http.get(f"{onecrm}/api.php/webhooks", auth=CRM_AUTH).json()["records"]
    assert sorted((h["model"], h["type"]) for h in hooks) == [
        ("Account", "create_update"),
        ("Invoice", "create"),
        ("Payment", "create"),
        ("Quote", "create"),
    ]
    assert all(h["url"].startswith("http://127.0.0.1:8123/hooks/") for h in hooks)


def test_demo_runs_the_quickbooks_library_too(serve, tmp_path, monkeypatch):
    from modules.quickbooks import sandbox as qbo_sandbox

    onecrm = serve(onecrm_sandbox.create_app({"fixture": "demo"}))
    quickbooks = serve(qbo_sandbox.create_app({"fixture": "demo"}))
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SWITCHBOARD_BASE_URL", "http://127.0.0.1:8124")

    names = _demo_setup(onecrm, quickbooks, 60, "quickbooks")

    assert len(names) == 8
    service = build_service(Settings.from_env())
    try:
        assert all(s.active for s in service.list_scenarios())
        [connection] = service.store.list_connections(app="quickbooks")
        assert connection.data["realm_id"] and connection.data["company_name"]
        assert connection.secrets["verifier_token"]
    finally:
        shutdown_service(service)
