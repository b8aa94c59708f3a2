"""The connection resolver: stored connections, token refresh under a lock, tests."""

from __future__ import annotations

import pytest

from engine.connections import KeyedLocks, ResolvedConnection, StoreConnections
from engine.errors import AccountValidationError, InvalidConfigurationError
from engine.registry import UnknownConnectionKindError
from engine.spec import AuthType, ConnectionField, ConnectionKind, OAuth2Settings

from .conftest import barrier_threads, connect_onecrm, connect_xero


def expire(store, connection):
    """Make the stored access token look expired (as if 30 minutes had passed)."""
    secrets = {**connection.secrets, "expires_at": "2000-01-01T00:00:00+00:00"}
    return store.update_connection_secrets(connection.id, secrets, connection.revision)


def token_calls(xero):
    """Refreshes that reached the token endpoint (the first call exchanged the code)."""
    return xero.requests_to("/connect/token", "POST")[1:]


def working(xero, token, tenant):
    answer = xero.http.get(
        f"{xero.url}/api.xro/2.0/Contacts",
        headers={"Authorization": f"Bearer {token}", "xero-tenant-id": tenant},
    )
    return answer.status_code == 200


def test_basic_connection_resolves_public_data_and_secrets(resolver, store, onecrm):
    stored = connect_onecrm(store, onecrm)
    connection = resolver.get(str(stored.id))
    assert isinstance(connection, ResolvedConnection)
    assert connection["url"] == onecrm.url and connection["password"] == "sandbox-password"
    assert connection.secrets == {"password": "sandbox-password"}
    assert "sandbox-password" not in repr(connection)


def test_unknown_ids_are_configuration_errors(resolver):
    with pytest.raises(InvalidConfigurationError, match="connection 999 does not exist"):
        resolver.get(999)
    with pytest.raises(InvalidConfigurationError, match="not a connection id"):
        resolver.get("abc")


def test_connections_without_a_kind_resolve_as_keychains(resolver, store):
    stored = store.create_connection(
        "http", "api-key", "k", data={"name": "x-api-key"}, secrets={"key": "s3cret"}
    )
    assert dict(resolver.get(stored.id)) == {"name": "x-api-key", "key": "s3cret"}


def test_registry_fails_loudly_on_unknown_kinds(registry):
    with pytest.raises(UnknownConnectionKindError, match="app 'zoho'"):
        registry.connection_kind("zoho")


def test_fresh_token_is_not_refreshed(resolver, store, registry, http, xero):
    stored = connect_xero(store, registry, http, xero)
    connection = resolver.get(stored.id)
    assert connection.access_token == stored.secrets["access_token"]
    assert connection.revision == stored.revision
    assert token_calls(xero) == []


def test_token_expiring_within_a_minute_is_refreshed_and_stored(
    resolver, store, registry, http, xero, clock
):
    stored = connect_xero(store, registry, http, xero)
    clock.offset_seconds = 1800 - 30  # 30 s left: inside the one-minute margin
    connection = resolver.get(stored.id)
    assert connection.access_token != stored.secrets["access_token"]
    assert connection.secrets["refresh_token"] != stored.secrets["refresh_token"]
    assert store.get_connection(stored.id).secrets["access_token"] == connection.access_token
    assert len(token_calls(xero)) == 1
    assert working(xero, connection.access_token, connection["tenant_id"])


def test_two_threads_refresh_once_and_both_get_a_working_token(
    store, registry, http, start_xero, clock
):
    xero = start_xero({"refresh_grace_seconds": 0})  # a second refresh would lose the grant
    stored = expire(store, connect_xero(store, registry, http, xero))
    resolver = StoreConnections(store, registry, clock, http, locks=KeyedLocks())
    results = barrier_threads(2, lambda: resolver.get(stored.id))
    assert all(isinstance(r, ResolvedConnection) for r in results), results
    assert len(token_calls(xero)) == 1
    assert results[0].access_token == results[1].access_token
    assert working(xero, results[0].access_token, stored.data["tenant_id"])


def test_two_workers_racing_end_with_the_winners_token(store, registry, http, start_xero, clock):
    """Separate processes share no lock: the store's revision check settles the race."""
    xero = start_xero({"refresh_grace_seconds": 0})
    stored = expire(store, connect_xero(store, registry, http, xero))
    workers = [StoreConnections(store, registry, clock, http, locks=KeyedLocks()) for _ in "ab"]
    results = barrier_threads(2, lambda: workers.pop().get(stored.id))
    assert all(isinstance(r, ResolvedConnection) for r in results), results
    final = store.get_connection(stored.id)
    assert {r.access_token for r in results} == {final.secrets["access_token"]}
    assert working(xero, final.secrets["access_token"], stored.data["tenant_id"])


def test_refused_refresh_asks_for_reauthorization(store, registry, http, xero, resolver):
    stored = connect_xero(store, registry, http, xero)
    broken = {**stored.secrets, "refresh_token": "revoked", "expires_at": "2000-01-01T00:00:00"}
    store.update_connection_secrets(stored.id, broken, stored.revision)
    with pytest.raises(AccountValidationError, match="reauthorize it") as caught:
        resolver.get(stored.id)
    assert "revoked" not in str(caught.value)


def test_forced_refresh(resolver, store, registry, http, xero):
    stored = connect_xero(store, registry, http, xero)
    refreshed = resolver.refresh(stored.id)
    assert refreshed.revision == stored.revision + 1
    assert refreshed.access_token != stored.secrets["access_token"]


def test_xero_connection_data_has_tenants_and_test_reads_the_organisation(
    resolver, store, registry, http, xero
):
    stored = connect_xero(store, registry, http, xero)
    assert stored.data["tenant_id"] == stored.data["tenants"][0]["tenantId"]
    assert stored.data["tenant_name"] == "Demo Company (Sandbox)"
    assert "access_token" not in stored.data
    assert resolver.test(stored.id)["organisation"]


def test_onecrm_test_connection_refuses_a_wrong_password(resolver, store, onecrm):
    good = connect_onecrm(store, onecrm)
    assert resolver.test(good.id)["instance"] == onecrm.url
    bad = connect_onecrm(store, onecrm, password="nope")
    with pytest.raises(AccountValidationError, match="1CRM: Invalid user name or password"):
        resolver.test(bad.id)


def test_onecrm_test_connection_says_basic_auth_is_off(resolver, store, start_onecrm):
    """NOTES.md:27-28 (vendor/1crm) — Basic auth is off until an admin enables it."""
    onecrm = start_onecrm({"basic_auth_enabled": False})
    connection = connect_onecrm(store, onecrm)
    with pytest.raises(AccountValidationError) as refused:
        resolver.test(connection.id)
    assert str(refused.value).startswith("1CRM: Basic authentication is disabled (An administrator")
    onecrm.control("config", {"basic_auth_enabled": True})
    assert resolver.test(connection.id)["edition"] == "enterprise"


def test_kinds_without_a_test_say_so(resolver, store):
    stored = store.create_connection("http", "basic", "k", data={}, secrets={})
    with pytest.raises(InvalidConfigurationError, match="have no test"):
        resolver.test(stored.id)


def test_connection_kind_splits_values_and_names_missing_fields():
    kind = ConnectionKind(
        id="demo",
        label="Demo",
        auth=AuthType.BASIC,
        fields=(
            ConnectionField(name="url", label="URL", default="https://x"),
            ConnectionField(name="password", label="Password", secret=True),
        ),
    )
    assert kind.split_values({"password": "p"}) == ({"url": "https://x"}, {"password": "p"})
    with pytest.raises(ValueError, match="'Password' is required"):
        kind.split_values({})
    with pytest.raises(ValueError, match="oauth2"):
        ConnectionKind(id="bad", label="Bad", auth=AuthType.OAUTH2)
    oauth = OAuth2Settings(authorize_url="https://a", token_url="https://t")
    assert oauth.endpoints({"token_url": "http://local"}) == ("https://a", "http://local")


def test_resolvers_of_one_process_share_the_refresh_lock(store, registry, http, start_xero, clock):
    """The service may build a resolver per run: they still refresh one at a time."""
    xero = start_xero({"refresh_grace_seconds": 0})
    stored = expire(store, connect_xero(store, registry, http, xero))
    shared = KeyedLocks()
    results = barrier_threads(
        3, lambda: StoreConnections(store, registry, clock, http, locks=shared).get(stored.id)
    )
    assert len({r.access_token for r in results}) == 1
    assert len(token_calls(xero)) == 1
