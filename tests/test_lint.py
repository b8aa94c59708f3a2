"""What ``make lint`` checks, in the test run too: ruff's checks and formatting, prettier on the
editor, and the editor's API types generated from today's OpenAPI document."""

from __future__ import annotations

import subprocess

from tests import api_types
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


def test_prettier_formats_the_editor():
    frontend = REPO_ROOT / "webui" / "frontend"
    result = subprocess.run(
        [frontend / "node_modules" / ".bin" / "prettier", "--check", "src"],
        cwd=frontend,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_api_types_are_current():
    """``webui/frontend/src/api.gen.ts`` is what openapi-typescript makes of ``/api/openapi.json``
    today: a model changed without ``make api-types`` fails here."""
    assert api_types.GENERATED.read_text() == api_types.generate(), "run `make api-types`"
