"""The expression preview over real HTTP: a viewer's request is answered within the preview's
limits (size of the template and of the answer, values, time) with a clear 422, and the web
process's memory stays bounded.

The server is ``switchboard serve`` in its own process, its address space capped (2 GiB), so a
regression fails here (a 500 or an over-budget figure) instead of taking the shared machine's
memory; its peak resident memory is read from ``/proc/<pid>/status``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.service.processes import (
    BIN,
    Process,
    base_env,
    free_port,
    started_processes,
    wait_for_http,
)

ADDRESS_SPACE = 2 << 30
PASSWORD = "correct horse battery"

# Sets the limit, then becomes the server (the limit survives exec).
CAPPED = (
    "import os, resource, sys; "
    f"resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE})); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


@dataclass
class Server:
    url: str
    process: Process

    def peak_mb(self) -> float:
        """The server's peak resident memory so far (VmHWM)."""
        status = Path(f"/proc/{self.process.popen.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024


@pytest.fixture
def server(tmp_path) -> Iterator[Server]:
    port = free_port()
    args = [sys.executable, "-c", CAPPED, str(BIN / "switchboard"), "serve", "--port", str(port)]
    with started_processes() as started:
        started.append(Process("serve", args, base_env(tmp_path / "var"), tmp_path))
        wait_for_http(port)
        yield Server(f"http://127.0.0.1:{port}", started[0])


def signed_in(url: str, email: str) -> requests.Session:
    session = requests.Session()
    answer = session.post(f"{url}/api/auth/login", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    session.headers["X-CSRF-Token"] = session.get(f"{url}/api/auth/state").json()["csrf_token"]
    return session


@pytest.fixture
def viewer(server) -> Iterator[requests.Session]:
    url = server.url
    owner = {"email": "owner@example.com", "name": "Olga", "password": PASSWORD}
    assert requests.post(f"{url}/api/auth/setup", json=owner, timeout=30).status_code == 201
    with signed_in(url, "owner@example.com") as session:
        user = {"email": "v@example.com", "name": "V", "password": PASSWORD, "role": "viewer"}
        assert session.post(f"{url}/api/users", json=user).status_code == 201
    with signed_in(url, "v@example.com") as session:
        yield session


def preview(server: Server, viewer: requests.Session, **body: object) -> requests.Response:
    return viewer.post(f"{server.url}/api/expressions/preview", json=body, timeout=120)


def refusal(response: requests.Response) -> tuple[int, str, str, str | None]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"], error["path"]


def test_a_viewer_previews_an_expression(server, viewer):
    answer = preview(server, viewer, template="Hi {{upper(1.name)}}", bundles={"1": {"name": "a"}})
    assert (answer.status_code, answer.json()) == (200, {"value": "Hi A", "error": None})


def test_the_three_megabyte_sort_is_refused_without_the_gigabyte(server, viewer):
    # The report: one 3 MB request held the web process 22.6 s at 1.47 GB.
    preview(server, viewer, template="{{1.x}}", bundles={"1": {"x": "warm up"}})
    before = server.peak_mb()
    answer = preview(
        server, viewer, template='{{sort(split(1.x; ""))}}', bundles={"1": {"x": "ab," * 1_000_000}}
    )
    status, code, message, _ = refusal(answer)
    assert (status, code) == (422, "limit_exceeded")
    assert "larger than the limit of 1,000,000 (the preview's limit" in message
    assert server.peak_mb() - before < 250, (before, server.peak_mb())


def test_a_slow_preview_stops_at_its_time_limit(server, viewer):
    # Each step is within the value limit (a sort of a million items), but there are many.
    step = '{{length(sort(split(1.x; "")))}}'
    answer = preview(server, viewer, template=step * 40, bundles={"1": {"x": "ab," * 333_333}})
    assert refusal(answer) == (
        422,
        "limit_exceeded",
        "the preview took longer than its limit of 5 seconds",
        None,
    )


def test_an_answer_too_large_to_send_is_refused_before_it_is_built(server, viewer):
    # 2,000 references to one 500 KB text: a gigabyte of JSON, from a 500 KB request.
    template = "{{add(emptyarray" + "; 1.x" * 2000 + ")}}"
    preview(server, viewer, template="{{1.x}}", bundles={"1": {"x": "warm up"}})
    before = server.peak_mb()
    answer = preview(server, viewer, template=template, bundles={"1": {"x": "y" * 500_000}})
    assert refusal(answer) == (
        422,
        "limit_exceeded",
        "the preview's value is larger than 1,000,000 characters of JSON",
        None,
    )
    assert server.peak_mb() - before < 250, (before, server.peak_mb())


def test_the_template_and_time_zone_have_a_size_limit(server, viewer):
    long = preview(server, viewer, template="x" * 20_001)
    assert refusal(long)[:2] == (422, "limit_exceeded")
    assert refusal(long)[3] == "template"
    assert "longer than the preview's limit of 20,000 characters" in refusal(long)[2]
    zone = preview(server, viewer, template="{{now}}", timezone="UTC" + " " * 1000)
    assert refusal(zone)[:2] + refusal(zone)[3:] == (422, "limit_exceeded", "timezone")
