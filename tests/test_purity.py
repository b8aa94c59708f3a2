"""The engine core is pure: importing it pulls in no web, queue, database or HTTP library."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO_ROOT

CORE = [
    "engine.errors",
    "engine.spec",
    "engine.registry",
    "engine.blueprint",
    "engine.graph",
    "engine.filters",
    "engine.mapping",
    "engine.runtime",
    "engine.webhooks",
    "engine.jsonvalues",
]
FORBIDDEN = [
    "flask",
    "celery",
    "redis",
    "sqlalchemy",
    "requests",
    "werkzeug",
    "kombu",
    "urllib3",
    "modules",
]


def test_engine_core_imports_no_io_library():
    code = (
        "import importlib, json, sys\n"
        f"for name in {CORE!r}: importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in {FORBIDDEN!r} if m in sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    )
    assert json.loads(result.stdout) == []
