"""`switchboard connection check NAME` as a user runs it: a store the command reads (the test
puts connections in it) and the command in a subprocess, findings read back by subject."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.config import Settings
from engine.secrets import generate_key
from engine.store import Store, open_store
from tests.conftest import REPO_ROOT


@dataclass(frozen=True)
class CheckRun:
    """One run of the command: its exit code, its findings by subject, its stderr."""

    code: int
    findings: dict[str, dict[str, Any]]
    stderr: str

    def verdicts(self) -> dict[str, str]:
        return {subject: finding["verdict"] for subject, finding in self.findings.items()}


class CheckCommand:
    """A store in ``directory`` and the environment that points the command at it."""

    def __init__(self, directory: Path) -> None:
        self.environ = {
            "SWITCHBOARD_VAR_DIR": str(directory),
            "SWITCHBOARD_DATABASE_URL": f"sqlite:///{directory / 'check.db'}",
            "SWITCHBOARD_SECRET_KEY": generate_key(),
            "SWITCHBOARD_ALLOW_PRIVATE_NETWORK": "1",  # the sandboxes listen on loopback
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        }
        settings = Settings.from_env(self.environ)
        self.store: Store = open_store(settings.database_url, secret_box=settings.secret_box())

    def run(self, name: str) -> CheckRun:
        """``switchboard connection check NAME --json``."""
        result = subprocess.run(
            [sys.executable, "-m", "switchboard.cli", "connection", "check", name, "--json"],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            env=self.environ,
            timeout=120,
            check=False,
        )
        findings = json.loads(result.stdout or "[]")
        return CheckRun(result.returncode, {f["subject"]: f for f in findings}, result.stderr)

    def close(self) -> None:
        self.store.close()
