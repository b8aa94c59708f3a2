"""What ``make lint`` checks, in the test run too: ruff's checks and formatting, mypy (strict on
the engine core, ``[tool.mypy]`` in pyproject.toml), prettier on the editor, and the editor's
API types generated from today's OpenAPI document."""

from __future__ import annotations

import re
import subprocess

from tests import api_types
from tests.conftest import REPO_ROOT

RUFF = REPO_ROOT / ".venv" / "bin" / "ruff"
MYPY = REPO_ROOT / ".venv" / "bin" / "mypy"
PACKAGES = ("switchboard", "engine", "modules", "webui")
# ``# type: ignore[code]  # why``: an error code, then the reason (on this line or just above).
EXPLAINED_IGNORE = re.compile(r"# type: ignore\[[a-z-]+(, ?[a-z-]+)*\]  # \S")


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


def test_mypy_finds_no_errors():
    result = subprocess.run([MYPY], cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_type_ignore_names_its_code_and_reason():
    unexplained = [
        f"{path.relative_to(REPO_ROOT)}:{number}"
        for package in PACKAGES
        for path in sorted((REPO_ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "type: ignore" in line and not EXPLAINED_IGNORE.search(line)
    ]
    assert unexplained == [], "write `# type: ignore[code]  # why`"
