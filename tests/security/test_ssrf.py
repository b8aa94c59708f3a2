"""The SSRF guard, tested against the ground truth: a real HTTP server on this machine counts
every request that reaches it, and the real HTTP module sends through a real requests session.

Every URL below points at that server in some disguise (decimal/octal/hex IPv4, IPv6 forms, a
trailing-dot name, names that resolve to loopback, userinfo confusion, backslashes, redirects).
Each must end in a module error (``BlockedAddressError`` where the guard can tell, or a
``ConnectionError`` for a name that does not resolve) and the server must see nothing. With
``allow_private_network`` the same server is reached, which proves the probe can fail.
"""

from __future__ import annotations

import http.server
import socket
import threading

import pytest
import responses

from engine.errors import ModuleError
from engine.registry import default_registry
from modules.http.guard import BlockedAddressError, check_url
from tests.modules.helpers import call_module, http_context

MAKE_REQUEST = default_registry()["http:MakeRequest"]
PUBLIC = "http://93.184.216.34"  # a literal public address; responses answers for it


class Canary(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], family: int = socket.AF_INET) -> None:
        self.address_family = family
        self.hits: list[str] = []
        super().__init__(address, CanaryHandler)


class CanaryHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        body = b"internal secret"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


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


def disguises(port: int) -> list[str]:
    p = port
    return [
        f"http://127.0.0.1:{p}/",
        f"HTTP://127.0.0.1:{p}/",
        f"http://localhost:{p}/",
        f"http://LOCALHOST:{p}/",
        f"http://localhost.:{p}/",
        f"http://2130706433:{p}/",
        f"http://0x7f000001:{p}/",
        f"http://0x7f.1:{p}/",
        f"http://0x7F.0.0.1:{p}/",
        f"http://017700000001:{p}/",
        f"http://0177.0.0.1:{p}/",
        f"http://127.1:{p}/",
        f"http://127.0.1:{p}/",
        f"http://127.000.000.001:{p}/",
        f"http://127.255.255.254:{p}/",
        f"http://0.0.0.0:{p}/",
        f"http://0:{p}/",
        f"http://[::ffff:127.0.0.1]:{p}/",
        f"http://[::ffff:7f00:1]:{p}/",
        f"http://[0:0:0:0:0:ffff:127.0.0.1]:{p}/",
        f"http://[::127.0.0.1]:{p}/",
        f"http://[::]:{p}/",
        f"http://[::1]:{p}/",
        f"http://[0000::1]:{p}/",
        f"http://[::1%25lo]:{p}/",
        f"http://①②⑦.⓪.⓪.①:{p}/",
        f"http://example.com@127.0.0.1:{p}/",
        f"http://user:pass@localhost:{p}/",
        f"http://93.184.216.34:80@127.0.0.1:{p}/",
        f"http://93.184.216.34\\@127.0.0.1:{p}/",
        f"http://127.0.0.1:{p}\\@93.184.216.34/",
        f"http://127.0.0.1:{p}#@93.184.216.34/",
        f"http://127.0.0.1:{p}?@93.184.216.34/",
        f"http:\\\\127.0.0.1:{p}\\",
        f"http:/127.0.0.1:{p}/",
        f"http:127.0.0.1:{p}/",
        f"  http://127.0.0.1:{p}/  ",
        f"http://127.0.0.1\t:{p}/",
        f"http://127.0.0.1:{p}:80/",
        f"http://127.0.0.1:0{p}/",
        f"http://[::1:{p}/",
        f"http://127.0.0.1:{p + 65536}/",
    ]


def request(url: str, **extra):
    return call_module(
        MAKE_REQUEST, {"url": url, "method": "get"}, run_context=http_context(**extra)
    )


def test_every_disguise_of_this_machine_is_refused(canary):
    port = canary.server_address[1]
    outcomes = {}
    for url in disguises(port):
        try:
            request(url)
            outcomes[url] = "SENT"
        except ModuleError as error:
            outcomes[url] = type(error).__name__
    assert canary.hits == [], f"reached the internal server: {canary.hits}"
    sent = [url for url, outcome in outcomes.items() if outcome == "SENT"]
    assert not sent
    # Where the address is known, it is the guard that refuses, not a failed connection.
    for url in [
        f"http://127.0.0.1:{port}/",
        f"http://2130706433:{port}/",
        f"http://0x7f.1:{port}/",
        f"http://[::ffff:127.0.0.1]:{port}/",
        f"http://localhost:{port}/",
        f"http://example.com@127.0.0.1:{port}/",
    ]:
        assert outcomes[url] == "BlockedAddressError", (url, outcomes[url])


def test_the_probe_reaches_the_server_when_private_addresses_are_allowed(canary):
    port = canary.server_address[1]
    for url in [
        f"http://127.0.0.1:{port}/a",
        f"http://2130706433:{port}/b",
        f"http://localhost:{port}/c",
    ]:
        [bundle] = request(url, allow_private_network=True)
        assert bundle["statusCode"] == 200
    assert canary.hits == ["/a", "/b", "/c"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/r",
        "http://2130706433:{port}/r",
        "http://[::ffff:127.0.0.1]:{port}/r",
        "//127.0.0.1:{port}/r",
        "http://localhost:{port}/r",
        "http://0x7f.1:{port}/r",
    ],
)
def test_a_redirect_from_a_public_server_to_this_machine_is_refused(canary, status, target):
    location = target.format(port=canary.server_address[1])
    with responses.RequestsMock() as mock:
        mock.add_passthru("http://127.0.0.1")
        mock.add_passthru("http://localhost")
        mock.get(f"{PUBLIC}/start", status=status, headers={"Location": location})
        with pytest.raises(BlockedAddressError):
            request(f"{PUBLIC}/start")
    assert canary.hits == []


def test_a_redirect_chain_is_checked_at_every_hop(canary):
    with responses.RequestsMock() as mock:
        mock.get(f"{PUBLIC}/1", status=302, headers={"Location": f"{PUBLIC}/2"})
        mock.get(f"{PUBLIC}/2", status=307, headers={"Location": "/3"})
        mock.get(
            f"{PUBLIC}/3",
            status=302,
            headers={"Location": "http://169.254.169.254/latest/meta-data/"},
        )
        with pytest.raises(BlockedAddressError, match=r"169\.254\.169\.254"):
            request(f"{PUBLIC}/1")
        assert [call.request.url for call in mock.calls] == [
            f"{PUBLIC}/1",
            f"{PUBLIC}/2",
            f"{PUBLIC}/3",
        ]


def test_the_redirect_probe_reaches_the_server_when_allowed(canary):
    with responses.RequestsMock() as mock:
        mock.add_passthru("http://127.0.0.1")
        mock.get(
            f"{PUBLIC}/start",
            status=302,
            headers={"Location": f"http://127.0.0.1:{canary.server_address[1]}/r"},
        )
        [bundle] = request(f"{PUBLIC}/start", allow_private_network=True)
    assert bundle["data"] == "internal secret" and canary.hits == ["/r"]


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",  # AWS, GCP, Azure metadata
        "http://[fd00:ec2::254]/",  # AWS metadata over IPv6
        "http://100.100.100.200/latest/meta-data/",  # Alibaba Cloud metadata (shared 100.64/10)
        "http://100.64.0.1/",  # carrier-grade NAT, internal to many clouds
        "http://10.0.0.1/",
        "http://172.16.0.1/",
        "http://192.168.0.1/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[fec0::1]/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://240.0.0.1/",
        "http://[2002:7f00:1::]/",  # 6to4 wrapping 127.0.0.1
        "http://[2002:a9fe:a9fe::]/",  # 6to4 wrapping 169.254.169.254
        "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    ],
)
def test_internal_and_metadata_addresses_are_refused(url):
    with pytest.raises(BlockedAddressError):
        check_url(url, allow_private_network=False)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
        "dict://127.0.0.1:11211/stat",
        "ftp://127.0.0.1/",
        "javascript:alert(1)",
        "//127.0.0.1/",
        "127.0.0.1",
        "",
    ],
)
def test_other_schemes_and_schemeless_urls_are_refused(url):
    with pytest.raises(BlockedAddressError):
        check_url(url, allow_private_network=True)


@pytest.mark.parametrize(
    "url",
    ["http://93.184.216.34:99999/", "http://[::1/", "http://127.0.0.1:80:80/", "http://[zz::1]/"],
)
def test_malformed_urls_are_a_module_error_not_a_crash(url):
    with pytest.raises(ModuleError):
        check_url(url, allow_private_network=False)


def test_public_addresses_pass():
    for url in [
        "http://93.184.216.34/",
        "https://[2606:2800:220:1:248:1893:25c8:1946]/",
        "http://8.8.8.8:8080/x?y=1",
    ]:
        check_url(url, allow_private_network=False)
