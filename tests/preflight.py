"""What `make test` needs before pytest starts: the services and the browser, or one command.

``python -m tests.preflight`` starts Redis and PostgreSQL on their loopback ports when they are
down and this machine has them (as `.ci/run` always did), then checks that Chromium and the
built editor are there. It exits 0 when the suite can run; otherwise it prints, for each missing
part, the one command that sets it up, and exits 1 at once, before a single test runs (a
missing part would otherwise fail dozens of tests one by one, minutes later).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
REDIS_PORT, POSTGRES_PORT = 6379, 5432
START_WAIT_SECONDS = 15.0


@dataclass(frozen=True)
class Missing:
    """A part the suite needs and does not have: what, and the one command that fixes it."""

    what: str
    command: str


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_for_port(port: int, seconds: float = START_WAIT_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open(port):
            return True
        time.sleep(0.2)
    return False


def postgres_start_command() -> list[str] | None:
    versions = sorted(Path("/etc/postgresql").glob("*")) if Path("/etc/postgresql").is_dir() else []
    if not versions or shutil.which("pg_ctlcluster") is None:
        return None
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1].name, "main", "start"]


def redis_start_command() -> list[str] | None:
    if shutil.which("redis-server") is None:
        return None
    return [
        *("redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379"),
        *("--save", "", "--appendonly", "no"),
    ]


def ensure_service(
    name: str, port: int, start: Callable[[], list[str] | None], hint: str
) -> Missing | None:
    """Start the service when its port is closed and this machine can start it."""
    if port_open(port):
        return None
    command = start()
    if command is not None:
        print(f"preflight: starting {name} on 127.0.0.1:{port}", file=sys.stderr)
        subprocess.run(command, check=False, stdin=subprocess.DEVNULL)
        if wait_for_port(port):
            return None
    return Missing(f"{name} on 127.0.0.1:{port} does not answer", hint)


def check_chromium() -> Missing | None:
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return None
    command = "make browser" if os.geteuid() == 0 else "sudo apt-get install -y chromium"
    return Missing(f"Chromium for the browser tests ({CHROMIUM})", command)


def check_editor_build() -> Missing | None:
    if (ROOT / "webui" / "static" / "index.html").is_file():
        return None
    return Missing("the built editor (webui/static)", "make install")


def check_type_generator() -> Missing | None:
    """openapi-typescript, which ``tests/test_lint.py`` runs to check the editor's API types."""
    if (
        ROOT / "webui" / "frontend" / "codegen" / "node_modules" / ".bin" / "openapi-typescript"
    ).exists():
        return None
    return Missing("the editor's type generator (webui/frontend/codegen)", "make install")


def missing_parts() -> list[Missing]:
    checks = [
        ensure_service(
            "Redis",
            REDIS_PORT,
            redis_start_command,
            'redis-server --daemonize yes --port 6379 --save ""',
        ),
        ensure_service(
            "PostgreSQL",
            POSTGRES_PORT,
            postgres_start_command,
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
        ),
        check_chromium(),
        check_editor_build(),
        check_type_generator(),
    ]
    return [missing for missing in checks if missing is not None]


def main() -> int:
    missing = missing_parts()
    for part in missing:
        print(f"make test: missing {part.what}; run: {part.command}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
