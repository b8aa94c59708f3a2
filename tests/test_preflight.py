"""`make test` stops at once, naming the one command to run, when a part the suite needs is
missing (on a fresh machine Chromium used to fail 47 browser tests one by one)."""

from __future__ import annotations

import os
import socket
import subprocess

from tests import preflight
from tests.conftest import REPO_ROOT


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_missing_chromium_names_the_command_that_installs_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(preflight, "CHROMIUM", tmp_path / "chromium")
    monkeypatch.setattr(preflight, "ensure_service", lambda *args: None)
    assert preflight.main() == 1
    message = capsys.readouterr().err
    assert "missing Chromium for the browser tests" in message
    assert "run: make browser" in message or "run: sudo apt-get install -y chromium" in message


def test_a_service_that_cannot_be_started_is_reported_with_its_start_command():
    port = closed_port()
    missing = preflight.ensure_service("Redis", port, lambda: None, "redis-server --port 6379")
    assert missing == preflight.Missing(
        f"Redis on 127.0.0.1:{port} does not answer", "redis-server --port 6379"
    )


def test_a_running_service_is_left_alone():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        started = []
        assert preflight.ensure_service("X", port, lambda: started.append(1), "x") is None
        assert started == []


def make_plan(target):
    """What `make TARGET` would run, as a fresh `make` prints it (not as a sub-make of the
    `make test` that may be running this suite)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return subprocess.run(
        ["make", "--no-print-directory", "-n", target],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=environ,
    ).stdout


def test_make_test_runs_the_preflight_before_pytest():
    plan = make_plan("test").splitlines()
    assert [line.split()[1:3] for line in plan[:2]] == [["-m", "tests.preflight"], ["-q"]]


def test_make_install_installs_the_browser():
    plan = make_plan("install")
    assert "apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium" in plan
    # Installs running at once (several checkouts on a fresh machine) wait for dpkg's lock.
    assert "apt-get -o DPkg::Lock::Timeout=600 update" in plan
