"""Who may call what: every ``/api`` endpoint with the least role it needs.

One table, checked before every API view (``webui.api.check_access``). An endpoint missing
here is refused with 500 (fail closed), and ``tests/api/test_access.py`` fails for it.
"""

from __future__ import annotations

from webui.auth import Role

PUBLIC, VIEWER, EDITOR, OWNER = Role.PUBLIC, Role.VIEWER, Role.EDITOR, Role.OWNER

ACCESS: dict[str, Role] = {
    # accounts
    "api.auth_state": PUBLIC,
    "api.auth_setup": PUBLIC,  # refuses once a user exists
    "api.auth_login": PUBLIC,
    "api.auth_logout": PUBLIC,  # ends only the session the cookie names
    "api.change_password": VIEWER,  # one's own, with the current password
    "api.check_password": PUBLIC,  # judges a typed password by the public rule; stores nothing
    "api.openapi_document": PUBLIC,
    "api.list_users": OWNER,
    "api.create_user": OWNER,
    "api.update_user": OWNER,
    "api.delete_user": OWNER,
    "api.list_tokens": VIEWER,  # each user manages their own tokens
    "api.create_token": VIEWER,
    "api.delete_token": VIEWER,
    # catalogue and checks (POSTs that change nothing)
    "api.list_modules": VIEWER,
    "api.list_apps": VIEWER,
    "api.load_options": EDITOR,  # calls an app's API with a stored connection
    "api.list_functions": VIEWER,
    "api.list_keywords": VIEWER,
    "api.list_operators": VIEWER,
    "api.validate": VIEWER,
    "api.preview_expression": VIEWER,
    # scenarios
    "api.list_scenarios": VIEWER,
    "api.get_scenario": VIEWER,
    "api.list_versions": VIEWER,
    "api.sync_log": VIEWER,
    # reconciliation: reads every record of both systems through the stored connections
    "api.reconcile": EDITOR,
    # sync packs: the setup page (install writes scenarios; taxes read both systems)
    "api.list_packs": VIEWER,
    "api.get_pack": VIEWER,
    "api.install_pack": EDITOR,
    "api.pack_taxes": EDITOR,
    "api.sync_historical": EDITOR,
    "api.export_scenario": VIEWER,
    "api.create_scenario": EDITOR,
    "api.import_scenario": EDITOR,
    "api.update_scenario": EDITOR,
    "api.restore_version": EDITOR,  # saves a new version, as update_scenario does
    "api.delete_scenario": EDITOR,
    "api.duplicate_scenario": EDITOR,
    "api.activate_scenario": EDITOR,
    "api.deactivate_scenario": EDITOR,
    "api.run_scenario": EDITOR,
    # connections
    "api.list_connection_kinds": VIEWER,
    "api.list_connections": VIEWER,
    "api.create_connection": EDITOR,
    "api.delete_connection": EDITOR,
    "api.test_connection": EDITOR,
    "api.authorize_connection": EDITOR,
    # webhooks
    "api.list_webhooks": VIEWER,
    "api.get_webhook": VIEWER,
    "api.create_webhook": EDITOR,
    "api.delete_webhook": EDITOR,
    "api.determine_webhook": EDITOR,
    # runs
    "api.list_executions": VIEWER,
    "api.get_execution": VIEWER,
    "api.list_incomplete": VIEWER,
    "api.retry_incomplete": EDITOR,
    "api.resolve_incomplete": EDITOR,
    "api.delete_incomplete": EDITOR,
    # run, watch and debug (webui/api/inspect.py)
    "api.execution_events": VIEWER,
    "api.run_module": EDITOR,
    "api.list_webhook_queue": VIEWER,
    "api.get_webhook_queue_item": VIEWER,
    "api.delete_webhook_queue_item": EDITOR,
    "api.process_webhook_queue": EDITOR,
    "api.get_incomplete": VIEWER,
    "api.update_incomplete": EDITOR,
    "api.retry_incomplete_many": EDITOR,
    "api.dashboard": VIEWER,
    # data stores
    "api.list_datastores": VIEWER,
    "api.get_datastore": VIEWER,
    "api.create_datastore": EDITOR,
    "api.update_datastore": EDITOR,
    "api.delete_datastore": EDITOR,
    "api.list_records": VIEWER,
    "api.get_record": VIEWER,
    "api.put_record": EDITOR,
    "api.delete_record": EDITOR,
    "api.delete_all_records": EDITOR,
}

SESSION_ONLY = frozenset(
    {"api.create_token", "api.change_password", "api.create_user", "api.update_user"}
)
"""Writes that make credentials (a token, a password, an account or a role): they need a
signed-in browser session, and an API token is refused (403). A leaked token so cannot outlive
its expiry or revocation by minting a new token, setting a password it knows or making an
owner. Revoking tokens and deleting users (which take power away) stay open to tokens."""

CSRF_EXEMPT = frozenset({"api.auth_login", "api.auth_setup"})
"""Writes that do not act with the session's authority (they replace it), so a browser with a
stale session can still sign in. Every other cookie-authenticated write needs the token."""
