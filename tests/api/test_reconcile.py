"""``GET /api/reconcile/<library>``: who may call it and how it refuses (the comparison against
the sandboxes is tested in tests/scenarios/test_reconcile_cli.py and the page in
tests/browser/test_reconcile_page.py)."""

from __future__ import annotations

from pathlib import Path


def test_viewers_may_not_read_the_books_through_stored_connections(viewer):
    assert viewer.get("/api/reconcile/xero").status_code == 403


def test_refusals_name_what_is_missing(editor, service):
    unknown = editor.get("/api/reconcile/sage")
    assert unknown.status_code == 400
    assert "unknown library 'sage'" in unknown.json["error"]["message"]
    unchosen = editor.get("/api/reconcile/xero")
    assert unchosen.status_code == 400
    assert "which onecrm connection" in unchosen.json["error"]["message"]
    bad = editor.get("/api/reconcile/xero?connection=nonsense")
    assert bad.status_code == 422 and bad.json["error"]["path"] == "connection"
    missing = editor.get("/api/reconcile/xero?connection=onecrm:999&connection=xero:998")
    assert missing.status_code == 404


def test_the_library_scenarios_connections_are_read_and_an_unreachable_side_is_a_502(
    editor, service
):
    # A loopback 1CRM: the SSRF guard refuses it (this deployment allows no private network).
    crm = service.create_connection(
        "onecrm", "CRM", {"url": "http://127.0.0.1:9", "username": "admin"}, {"password": "pw"}
    )
    xero = service.create_connection("xero", "Books", {}, {})
    text = Path("scenarios/xero/2.3-invoices-1crm-to-xero.json").read_bytes()
    service.import_scenario(text, connections={"onecrm": crm.id, "xero": xero.id})

    answer = editor.get("/api/reconcile/xero")
    assert answer.status_code == 502, answer.json
    assert answer.json["error"]["code"] == "upstream_error"
    assert answer.json["error"]["message"].startswith("the books could not be read: ")
