"""The code style the project promises: ruff's checks and formatting, clean everywhere."""

from __future__ import annotations

import subprocess

from tests.conftest import REPO_ROOT

RUFF = REPO_ROOT / ".venv" / "bin" / "ruff"


def test_ruff_check_is_clean():
    result = subprocess.run(
        [RUFF, "check", "."], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_applied():
    result = subprocess.run(
        [RUFF, "format", "--check", "engine", "modules", "webui", "tests"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
