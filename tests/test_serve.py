"""``switchboard serve``'s production defaults: gunicorn, workers and threads for the machine,
one process embedded (its queue threads and scheduler live in it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import ConfigError
from tests.conftest import REPO_ROOT
from tests.service.processes import (
    base_env,
    free_port,
    switchboard,
    wait_for_http,
    wait_until,
)
from webui.serve import Layout, chosen_layout, default_layout


@pytest.mark.parametrize(
    ("cpus", "embedded", "expected"),
    [
        (1, True, Layout(1, 16)),
        (2, True, Layout(1, 16)),
        (4, True, Layout(1, 32)),
        (16, True, Layout(1, 64)),
        (1, False, Layout(2, 8)),
        (2, False, Layout(4, 8)),
        (16, False, Layout(8, 8)),
    ],
)
def test_default_layout_follows_the_machine(cpus, embedded, expected):
    assert default_layout(cpus, embedded=embedded) == expected


def test_a_mailhook_receiver_keeps_one_process():
    assert default_layout(8, embedded=False, mailhooks=True).workers == 1
    with pytest.raises(ConfigError, match="SWITCHBOARD_MAILHOOK_PORT"):
        chosen_layout(8, embedded=False, mailhooks=True, workers=2, threads=None)


def test_embedded_refuses_more_than_one_worker_process():
    with pytest.raises(ConfigError, match="--workers must be 1"):
        chosen_layout(2, embedded=True, mailhooks=False, workers=2, threads=None)
    assert chosen_layout(2, embedded=True, mailhooks=False, workers=1, threads=4) == Layout(1, 4)
    assert chosen_layout(2, embedded=False, mailhooks=False, workers=3, threads=None) == Layout(
        3, 8
    )


def test_serve_says_why_it_refuses_a_layout(tmp_path):
    env = base_env(tmp_path / "var")
    result = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "serve", "--workers", "3"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--workers must be 1" in result.stderr


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_serve_runs_gunicorn_whose_worker_dies_with_it(tmp_path):
    port = free_port()
    server = switchboard(
        "serve", ["serve", "--port", str(port)], base_env(tmp_path / "var"), tmp_path
    )
    try:
        wait_for_http(port)
        log = wait_until(
            lambda: "Switchboard serving" in server.log.read_text() and server.log.read_text(),
            30,
            "the announcement",
        )
        assert "gunicorn, 1 worker," in log, log
        workers = wait_until(lambda: _children(server.popen.pid), 30, "gunicorn's worker")
        os.kill(server.popen.pid, signal.SIGKILL)  # the master alone, as a crash would
        server.popen.wait(10)
        # The worker (its queue threads, its runs) goes with it: nothing keeps running.
        wait_until(
            lambda: not any(Path(f"/proc/{worker}").exists() for worker in workers),
            10,
            "the worker to die with its master",
        )
        # Killed with it, not shut down gracefully on noticing its new parent (it would finish
        # runs a restarted server's recovery may start again).
        assert "Parent changed" not in server.log.read_text(), server.log.read_text()
    finally:
        server.kill()
