"""The SSRF guard on connection URLs: connectors call the URL an editor typed into a connection
(1CRM's domain, an API base URL), through the session the service gives to runs and connection
tests (``modules.http.guard.guarded_session``). The same loopback canary as ``test_ssrf.py``
must see nothing — directly, in disguise, or at the end of a redirect from a public server —
unless the deployment allows private addresses."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading

import pytest
import requests
import responses
import urllib3.util.connection

from engine.config import Settings
from engine.errors import ModuleError
from engine.queue import InlineQueue
from engine.registry import default_registry
from engine.service import Service, ServiceOptions
from engine.store import open_store
from modules.http.guard import BlockedAddressError, guarded_session
from tests.security.test_ssrf import PUBLIC, Canary, disguises
from tests.service.conftest import FakeClock


@pytest.fixture(scope="module")
def canary():
    server = Canary(("127.0.0.1", 0))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def fresh_hits(canary):
    canary.hits.clear()


@pytest.fixture
def service(tmp_path):
    config = Settings.from_env({"SWITCHBOARD_VAR_DIR": str(tmp_path / "var")})
    config = config.with_secret_key_file()
    store = open_store(config.database_url, secret_box=config.secret_box(), clock=FakeClock())
    queue = InlineQueue(workers=1)
    service = Service(
        store, queue, config, default_registry().copy(), FakeClock(), options=ServiceOptions()
    )
    yield service
    service.close()
    queue.close()
    store.close()


def onecrm(service, url):
    data = {"url": url, "username": "admin", "assigned_user_id": "1"}
    return service.create_connection("onecrm", "CRM", data, {"password": "pw"})


def test_a_connection_to_this_machine_is_refused(service, canary):
    connection = onecrm(service, f"http://127.0.0.1:{canary.server_address[1]}")
    with pytest.raises(ModuleError, match="refused"):
        service.test_connection(connection.id)
    assert canary.hits == []


def test_a_connection_redirected_to_this_machine_is_refused(service, canary):
    connection = onecrm(service, PUBLIC)
    target = f"http://127.0.0.1:{canary.server_address[1]}/r"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        mock.add(responses.GET, PUBLIC, status=302, headers={"Location": target}, match=[])
        mock.add(responses.POST, PUBLIC, status=307, headers={"Location": target}, match=[])
        with pytest.raises(ModuleError):
            service.test_connection(connection.id)
    assert canary.hits == []


def test_the_probe_reaches_this_machine_when_private_addresses_are_allowed(service, canary):
    service.settings = dataclasses.replace(service.settings, allow_private_network=True)
    service.http_factory = Service(
        service.store, service.queue, service.settings, service.registry
    ).http_factory
    connection = onecrm(service, f"http://127.0.0.1:{canary.server_address[1]}")
    with contextlib.suppress(ModuleError):  # the canary is no 1CRM, but it is reached
        service.test_connection(connection.id)
    assert canary.hits


def test_every_disguise_and_redirect_hop_is_checked_by_the_session(canary):
    port = canary.server_address[1]
    with guarded_session() as session:
        for url in disguises(port):
            if "93.184.216.34\\@" in url:
                continue  # requests sends this one to the public address, not to the canary
            with pytest.raises((ModuleError, ValueError, OSError)):
                session.get(url.strip(), timeout=2)
        with responses.RequestsMock() as mock:
            mock.add_passthru("http://127.0.0.1")
            mock.get(f"{PUBLIC}/1", status=302, headers={"Location": f"{PUBLIC}/2"})
            mock.get(f"{PUBLIC}/2", status=302, headers={"Location": "http://169.254.169.254/"})
            with pytest.raises(BlockedAddressError, match=r"169\.254\.169\.254"):
                session.get(f"{PUBLIC}/1")
            assert len(mock.calls) == 2
    assert canary.hits == []


def rebinding(monkeypatch, name: str, first: str, then: str) -> list[str]:
    """``name`` resolves to ``first`` once, then to ``then`` (a DNS-rebinding server with a
    zero TTL); returns the log of answers given."""
    real = socket.getaddrinfo
    given: list[str] = []

    def resolve(host, port, *args, **kwargs):
        if host != name:
            return real(host, port, *args, **kwargs)
        address = first if not given else then
        given.append(address)
        return real(address, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return given


def test_a_name_rebound_to_loopback_after_the_check_is_refused(canary, monkeypatch):
    given = rebinding(monkeypatch, "rebind.test", "93.184.216.34", "127.0.0.1")
    port = canary.server_address[1]
    with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.1"):
        guarded_session().get(f"http://rebind.test:{port}/secret", timeout=5)
    assert given[0] == "93.184.216.34" and "127.0.0.1" in given  # it was checked, then rebound
    assert canary.hits == []


def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch):
    rebinding(monkeypatch, "pinned.test", "93.184.216.34", "93.184.216.34")
    dialled: list[tuple[str, int]] = []

    def dial(address, *args, **kwargs):
        dialled.append(address)
        raise OSError("no network in tests")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", dial)
    with pytest.raises(requests.ConnectionError):
        guarded_session().get("http://pinned.test:8080/", timeout=5)
    # An address, not the name: nothing resolves the name again between check and connect.
    assert dialled == [("93.184.216.34", 8080)]
