"""The vendor reference pack (``../shared/reference/vendor``) for contract tests: each test cites
the line of an app's ``NOTES.md`` it checks, and the citation itself is checked — the line must
still say what the test relies on, so a reworded pack fails loudly instead of drifting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import REPO_ROOT

VENDOR = REPO_ROOT.parent / "shared" / "reference" / "vendor"


def notes_line(app: str, number: int, phrase: str) -> str:
    """Line ``number`` (1-based) of ``vendor/<app>/NOTES.md``, asserted to contain ``phrase``."""
    lines = (VENDOR / app / "NOTES.md").read_text(encoding="utf-8").splitlines()
    line = lines[number - 1]
    assert phrase in line, f"{app}/NOTES.md:{number} no longer says {phrase!r}: {line!r}"
    return line


def example_bytes(app: str, name: str) -> bytes:
    """An example file of the pack, byte for byte (signatures cover the exact bytes)."""
    return Path(VENDOR / app / "examples" / name).read_bytes()


def example(app: str, name: str) -> Any:
    return json.loads(example_bytes(app, name))
