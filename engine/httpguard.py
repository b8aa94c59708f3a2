"""The SSRF guard: user-mapped URLs may not reach this machine or the private network.

A scenario's HTTP module sends requests wherever its mapped URL says; without a guard, anyone
who can edit a scenario could reach the database, the metadata service or the admin ports next
to Switchboard. Requests to loopback, link-local, private, reserved, multicast and unspecified
addresses are refused unless the deployment allows them (``allow_private_network``). Every
redirect hop is checked again, and the guarded transport checks the address it actually
connects to, resolved once at connect time: a name that resolves to a public address when
checked and to a private one when connected to (DNS rebinding) is refused.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.adapters
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from engine.errors import InvalidConfigurationError

__all__ = [
    "ALLOWED_SCHEMES",
    "BlockedAddressError",
    "GuardedAdapter",
    "allows_private_network",
    "check_host",
    "check_url",
    "guarded_session",
]
ALLOWED_SCHEMES = frozenset({"http", "https"})


class BlockedAddressError(InvalidConfigurationError):
    """The URL points somewhere the deployment does not allow scenarios to reach."""


def check_url(url: str, *, allow_private_network: bool) -> None:
    """Raise ``BlockedAddressError`` unless ``url`` is an http(s) URL to a public address."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as error:  # a bad port or IPv6 literal: urlsplit raises on access
        raise BlockedAddressError(f"the URL '{url}' is not valid: {error}") from None
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise BlockedAddressError(f"only http and https URLs can be requested, not '{url}'")
    if not host:
        raise BlockedAddressError(f"the URL '{url}' has no host")
    if allow_private_network:
        return
    # Check the host requests will connect to as well: urllib3 reads "\\" as the start of the
    # path (as browsers do), so "http://127.0.0.1\\@example.com/" goes to 127.0.0.1 while
    # urlsplit sees example.com.
    hosts = {host, _sent_host(url) or host}
    for address in {found for name in hosts for found in _addresses(name, port)}:
        if _is_internal(address):
            raise BlockedAddressError(
                f"requests to {host} ({address}) are refused: it is a private, loopback or "
                "link-local address (set SWITCHBOARD_ALLOW_PRIVATE_NETWORK=1 to allow them)"
            )


def check_host(host: str, port: int, *, allow_private_network: bool) -> None:
    """Raise ``BlockedAddressError`` unless ``host`` (a mail server a user named …) resolves
    only to public addresses, or private networks are allowed."""
    if not host or any(char in host for char in "/@\\ "):
        raise BlockedAddressError(f"'{host}' is not a host name")
    if not allow_private_network:
        _public_address(host, port)


def _sent_host(url: str) -> str | None:
    """The host requests would connect to for ``url`` (``None``: it would not send it)."""
    try:
        prepared = requests.Request("GET", url).prepare()
        return parse_url(prepared.url or "").host
    except (requests.RequestException, LocationParseError, ValueError):
        return None


def _addresses(host: str, port: int | None) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return {ipaddress.ip_address(host.strip("[]"))}
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        from engine.errors import ConnectionError

        raise ConnectionError(f"cannot resolve host {host}: {error.strerror}") from None
    return {ipaddress.ip_address(info[4][0]) for info in infos}


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:a.b.c.d and 6to4 (2002:aabb:ccdd::) carry an IPv4 address: judge that one.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            address = embedded
        elif address.is_site_local:  # fec0::/10, deprecated but still routed privately
            return True
    return (
        not address.is_global  # also 100.64.0.0/10 (CGNAT; Alibaba's 100.100.100.200 metadata)
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def _public_address(host: str, port: int | None) -> str:
    """The one address to connect to for ``host``: refused when any of its addresses is
    internal (a name may mix them, and the socket would try each in turn)."""
    addresses = _addresses(host, port)
    for address in addresses:
        if _is_internal(address):
            raise BlockedAddressError(
                f"connecting to {host} ({address}) is refused: it is a private, loopback or "
                "link-local address (set SWITCHBOARD_ALLOW_PRIVATE_NETWORK=1 to allow them)"
            )
    return str(sorted(addresses, key=lambda a: (a.version, int(a)))[0])


class _PinnedAddress:
    """Connects to the address it has just checked, not to a second resolution of the name;
    TLS still verifies the certificate and sends SNI for the name (``self.host``)."""

    _dns_host: str
    port: int

    def _new_conn(self) -> Any:
        name = self._dns_host
        self._dns_host = _public_address(name, self.port)
        try:
            # A mixin: HTTP(S)Connection, next in both users' MRO, has ``_new_conn``.
            return super()._new_conn()  # type: ignore[misc]  # see above
        finally:
            self._dns_host = name


class _GuardedHTTPConnection(_PinnedAddress, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_PinnedAddress, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(requests.adapters.HTTPAdapter):
    """A transport that checks every request it sends against the guard.

    ``requests`` calls the adapter once per redirect hop, so a hop to an internal address is
    refused too. Mounted on the sessions the service gives to runs and connection tests
    (``guarded_session``): connectors request URLs taken from their connection (1CRM's domain,
    an API base URL), which scenario editors type, so they get the same guard as the HTTP
    module's mapped URLs.
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        check_url(request.url or "", allow_private_network=False)
        return super().send(request, *args, **kwargs)


def allows_private_network(session: Any) -> bool:
    """Whether ``session`` (from ``guarded_session``) may reach private addresses: what other
    kinds of connection (mail servers …) made for the same caller should allow too."""
    try:
        return not isinstance(session.get_adapter("https://example.com/"), GuardedAdapter)
    except (AttributeError, requests.exceptions.InvalidSchema):
        return False


def guarded_session(allow_private_network: bool = False) -> requests.Session:
    """A ``requests`` session whose every request and redirect hop passes the guard (a plain
    session when the deployment allows private addresses)."""
    session = requests.Session()
    if not allow_private_network:
        adapter = GuardedAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session
